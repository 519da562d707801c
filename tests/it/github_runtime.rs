//! Plays the runner: sets the variables a GitHub-hosted runner sets for a step, lets the
//! runtime write its files and commands, then reads them back the way the runner does.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use ipsync::env::Env;
use ipsync::github::{Runtime, STEP_SUMMARY_LIMIT, parse_bool_input};
use ipsync::secret::Secret;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Builds the variables a runner sets for a step of a `push` to `main`, with the two step files
/// in `folder`.
fn runner_env(folder: &Path) -> Env {
    Env::from_pairs([
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        (
            "GITHUB_STEP_SUMMARY",
            folder.join("step_summary_1").to_str().unwrap(),
        ),
        (
            "GITHUB_OUTPUT",
            folder.join("set_output_1").to_str().unwrap(),
        ),
        ("GITHUB_REPOSITORY", "acme/databricks-network"),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_REF", "refs/heads/main"),
        ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
        ("GITHUB_EVENT_PATH", "/github/workflow/event.json"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_API_URL", "https://api.github.com"),
        ("GITHUB_RUN_ID", "9876543210"),
        ("RUNNER_OS", "Linux"),
    ])
}

/// Reads `GITHUB_OUTPUT` as the runner does: `name=value` lines, or `name<<DELIMITER` followed by
/// value lines up to a line that equals the delimiter.
fn read_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            loop {
                let next = lines.next().expect("delimiter never closed");
                if next == delimiter {
                    break;
                }
                value.push(next);
            }
            outputs.insert(name.to_owned(), value.join("\n"));
        } else {
            let (name, value) = line.split_once('=').expect("line without `=` or `<<`");
            outputs.insert(name.to_owned(), value.to_owned());
        }
    }
    outputs
}

#[test]
fn runner_reads_context() {
    let folder = tempfile::tempdir().unwrap();

    let runtime = Runtime::from_env(&runner_env(folder.path())).unwrap();

    let context = runtime.context();
    assert_eq!(
        context.repository.as_deref(),
        Some("acme/databricks-network")
    );
    assert_eq!(context.event_name.as_deref(), Some("push"));
    assert_eq!(context.git_ref.as_deref(), Some("refs/heads/main"));
    assert_eq!(context.api_url.as_deref(), Some("https://api.github.com"));
    assert_eq!(
        runtime.run_url().as_deref(),
        Some("https://github.com/acme/databricks-network/actions/runs/9876543210")
    );
}

#[test]
fn runner_outside_actions_is_none() {
    let folder = tempfile::tempdir().unwrap();
    let mut env = runner_env(folder.path());
    env.set("GITHUB_ACTIONS", "");

    assert!(Runtime::from_env(&env).is_none());
}

#[test]
fn runner_step_writes_every_channel() {
    let folder = tempfile::tempdir().unwrap();
    let env = runner_env(folder.path());
    let log = Captured::default();
    let runtime = Runtime::from_env(&env)
        .unwrap()
        .with_command_writer(log.clone());
    // Another step's output, already in the file: the runtime appends after it.
    fs::write(folder.path().join("set_output_1"), "earlier=kept\n").unwrap();

    runtime.add_mask(&Secret::new("dapi0123")).unwrap();
    runtime
        .group("Read access list `AzureActiveDirectory`")
        .unwrap();
    runtime.end_group().unwrap();
    runtime
        .warning("entry `10.0.0.1/24` has host bits set")
        .unwrap();
    runtime.error("refused by the large-removal guard: 40 of 120 entries\nrerun with allow-large-removal: true").unwrap();
    let summary = runtime
        .append_step_summary("## ipsync plan\n\n| | prefix |\n|---|---|\n| + | 20.190.128.0/18 |\n")
        .unwrap();
    runtime
        .set_outputs(&[
            ("has-changes", "true"),
            ("added-count", "1"),
            ("removed-count", "0"),
            ("plan-path", "ipsync/account/plan.json"),
            ("summary-path", "multi\nline"),
        ])
        .unwrap();

    assert_eq!(
        String::from_utf8(log.0.lock().unwrap().clone()).unwrap(),
        "::add-mask::dapi0123\n\
         ::group::Read access list `AzureActiveDirectory`\n\
         ::endgroup::\n\
         ::warning::entry `10.0.0.1/24` has host bits set\n\
         ::error::refused by the large-removal guard: 40 of 120 entries%0Arerun with allow-large-removal: true\n"
    );
    assert_eq!(summary.omitted_bytes, 0);
    assert_eq!(
        fs::read_to_string(folder.path().join("step_summary_1")).unwrap(),
        "## ipsync plan\n\n| | prefix |\n|---|---|\n| + | 20.190.128.0/18 |\n"
    );
    let outputs = read_outputs(&fs::read_to_string(folder.path().join("set_output_1")).unwrap());
    let expected: BTreeMap<String, String> = [
        ("earlier", "kept"),
        ("has-changes", "true"),
        ("added-count", "1"),
        ("removed-count", "0"),
        ("plan-path", "ipsync/account/plan.json"),
        ("summary-path", "multi\nline"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    assert_eq!(outputs, expected);
}

#[test]
fn runner_output_value_cannot_inject() {
    let folder = tempfile::tempdir().unwrap();
    let runtime = Runtime::from_env(&runner_env(folder.path())).unwrap();
    // A value that would end a fixed delimiter early and add an output of its own.
    let hostile = "x\nEOF\nhas-changes=false";

    runtime
        .set_outputs(&[("plan-path", hostile), ("has-changes", "true")])
        .unwrap();

    let outputs = read_outputs(&fs::read_to_string(folder.path().join("set_output_1")).unwrap());
    assert_eq!(outputs.get("plan-path").map(String::as_str), Some(hostile));
    assert_eq!(outputs.get("has-changes").map(String::as_str), Some("true"));
    assert_eq!(outputs.len(), 2);
}

#[test]
fn runner_summary_of_large_plan_is_cut() {
    let folder = tempfile::tempdir().unwrap();
    let runtime = Runtime::from_env(&runner_env(folder.path())).unwrap();
    // 70,000 rows of 21 bytes each: 1,470,000 bytes of Markdown after the header.
    let mut markdown = String::from("| | prefix |\n|---|---|\n");
    for index in 0..70_000u32 {
        markdown.push_str(&format!(
            "| + | 10.{:03}.{:03}.0 |\n",
            index / 256 % 256,
            index % 256
        ));
    }

    let written = runtime.append_step_summary(&markdown).unwrap();

    let text = fs::read_to_string(folder.path().join("step_summary_1")).unwrap();
    assert!(text.len() as u64 <= STEP_SUMMARY_LIMIT);
    assert!(written.is_cut());
    assert!(markdown.starts_with(text.split("\n\n> **Note:**").next().unwrap()));
    assert!(text.contains("GitHub's 1 MiB step summary limit"));
}

#[test]
fn runner_bool_inputs_from_action() {
    // The values `action.yml` passes for boolean inputs: its defaults and what users type.
    assert_eq!(parse_bool_input("create-if-missing", "false"), Ok(false));
    assert_eq!(parse_bool_input("comment", "true"), Ok(true));
    assert_eq!(
        parse_bool_input("detailed-exitcode", "yes")
            .unwrap_err()
            .to_string(),
        "invalid value `yes` for input `detailed-exitcode`: expected `true` or `false`"
    );
}
