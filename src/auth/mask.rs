//! GitHub Actions log masking: `::add-mask::<value>` makes the runner replace the value with
//! `***` in every later log line.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::secret::Secret;

static MASKING: AtomicBool = AtomicBool::new(false);

/// Turns masking on for the rest of the process. [`super::resolve`] calls it when the run is
/// under GitHub Actions.
pub fn enable_masking() {
    MASKING.store(true, Ordering::SeqCst);
}

pub fn masking_enabled() -> bool {
    MASKING.load(Ordering::SeqCst)
}

/// Writes `::add-mask::<value>` to stdout when masking is on. Each line of a multi-line value
/// is masked on its own as well, because the runner matches masks line by line.
pub fn add_mask(secret: &Secret) {
    if !masking_enabled() || secret.is_empty() {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    for command in mask_commands(secret) {
        // A failed write to stdout leaves nothing to report the failure to.
        let _ = writeln!(stdout, "{command}");
    }
    let _ = stdout.flush();
}

/// Builds the workflow commands that mask `secret`: the whole value, escaped as GitHub's
/// workflow commands require (`%` as `%25`, CR as `%0D`, LF as `%0A`), and each of its lines.
pub fn mask_commands(secret: &Secret) -> Vec<String> {
    let value = secret.expose();
    let mut commands = vec![format!("::add-mask::{}", escape_data(value))];
    if value.contains(['\n', '\r']) {
        commands.extend(
            value
                .split(['\n', '\r'])
                .filter(|line| !line.trim().is_empty())
                .map(|line| format!("::add-mask::{}", escape_data(line))),
        );
    }
    commands
}

fn escape_data(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_escapes_percent_and_newlines() {
        let commands = mask_commands(&Secret::new("a%b\r\nc"));

        assert_eq!(
            commands,
            vec![
                "::add-mask::a%25b%0D%0Ac".to_owned(),
                "::add-mask::a%25b".to_owned(),
                "::add-mask::c".to_owned(),
            ]
        );
    }

    #[test]
    fn mask_single_line_value() {
        assert_eq!(
            mask_commands(&Secret::new("dapi123")),
            vec!["::add-mask::dapi123".to_owned()]
        );
    }
}
