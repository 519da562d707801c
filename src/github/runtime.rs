//! The GitHub Actions runtime: the files and workflow commands through which a step reports to
//! the runner.
//!
//! The runner sets `GITHUB_ACTIONS=true` and hands each step two files: `GITHUB_STEP_SUMMARY`
//! (Markdown shown on the run's summary page) and `GITHUB_OUTPUT` (the step's outputs). Log
//! lines that start with `::` are workflow commands: annotations, groups and secret masks.
//! Reference: <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands>.
//!
//! Everything here takes an [`Env`] and paths, never the process environment, so tests can play
//! the runner with temporary files.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::env::Env;
use crate::secret::Secret;

/// GitHub's limit on a step's summary file, in bytes. The runner (actions/runner,
/// `FileCommandManager`) rejects a larger file with "upload aborted" and shows none of it.
pub const STEP_SUMMARY_LIMIT: u64 = 1024 * 1024;

/// Prefix of the random heredoc delimiter in `GITHUB_OUTPUT`.
const DELIMITER_PREFIX: &str = "ipsync_";

/// The runner's connection for one step, present only when `GITHUB_ACTIONS=true`.
pub struct Runtime {
    context: RunContext,
    step_summary: Option<PathBuf>,
    output: Option<PathBuf>,
    no_color: bool,
    /// Destination of workflow commands: standard error by default, because the runner reads
    /// commands from both streams and standard output carries the plan.
    commands: Mutex<Box<dyn Write + Send>>,
}

/// Facts about the run from the runner's variables, as far as ipsync uses them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunContext {
    /// `owner/name` of the repository that runs the workflow (`GITHUB_REPOSITORY`).
    pub repository: Option<String>,
    /// Event that triggered the run, such as `push` or `schedule` (`GITHUB_EVENT_NAME`).
    pub event_name: Option<String>,
    /// Fully qualified ref, such as `refs/heads/main` (`GITHUB_REF`).
    pub git_ref: Option<String>,
    /// Commit the run is for (`GITHUB_SHA`).
    pub sha: Option<String>,
    /// Path of the event's JSON payload (`GITHUB_EVENT_PATH`).
    pub event_path: Option<PathBuf>,
    /// Web address of the GitHub instance, such as `https://github.com` (`GITHUB_SERVER_URL`).
    pub server_url: Option<String>,
    /// REST API base address, which differs on GitHub Enterprise Server (`GITHUB_API_URL`).
    pub api_url: Option<String>,
    /// Numeric id of the workflow run (`GITHUB_RUN_ID`).
    pub run_id: Option<String>,
}

/// How much of a Markdown text went into the step summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryWritten {
    /// Bytes appended to the file, including the note that marks a cut.
    pub bytes_written: u64,
    /// Bytes of the text left out to stay under [`STEP_SUMMARY_LIMIT`]; zero when all of it fit.
    pub omitted_bytes: u64,
}

impl SummaryWritten {
    pub fn is_cut(&self) -> bool {
        self.omitted_bytes > 0
    }
}

/// Severity of an annotation, which decides its colour and where GitHub lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationLevel {
    Error,
    Warning,
    Notice,
}

impl AnnotationLevel {
    fn command(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Notice => "notice",
        }
    }
}

/// Optional place and title of an annotation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnnotationProperties {
    pub title: Option<String>,
    /// Path relative to the repository root.
    pub file: Option<String>,
    pub line: Option<u32>,
    pub end_line: Option<u32>,
}

/// An output that cannot be written to `GITHUB_OUTPUT`.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot set step outputs: environment variable `GITHUB_OUTPUT` is not set")]
    MissingFile,
    #[error(
        "invalid output name `{name}`: expected letters, digits, `-` and `_`, starting with a letter or `_`"
    )]
    InvalidName { name: String },
    #[error("value of output `{name}` contains the heredoc delimiter; nothing was written")]
    DelimiterInValue { name: String },
    #[error("failed to append outputs to `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// An action input that is not one of the values it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value `{value}` for input `{name}`: expected `true` or `false`")]
pub struct InputError {
    pub name: String,
    pub value: String,
}

/// Parses a boolean action input. Only `true` and `false` are accepted, as in GitHub's own
/// `core.getBooleanInput` minus its `True`/`TRUE` spellings, so a typo never turns a guard off.
pub fn parse_bool_input(name: &str, value: &str) -> Result<bool, InputError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(InputError {
            name: name.to_owned(),
            value: value.to_owned(),
        }),
    }
}

impl Runtime {
    /// Builds the runtime from the runner's variables, or returns `None` outside GitHub Actions.
    pub fn from_env(env: &Env) -> Option<Self> {
        if env.get("GITHUB_ACTIONS") != Some("true") {
            return None;
        }

        let context = RunContext {
            repository: env.get("GITHUB_REPOSITORY").map(str::to_owned),
            event_name: env.get("GITHUB_EVENT_NAME").map(str::to_owned),
            git_ref: env.get("GITHUB_REF").map(str::to_owned),
            sha: env.get("GITHUB_SHA").map(str::to_owned),
            event_path: env.get("GITHUB_EVENT_PATH").map(PathBuf::from),
            server_url: env.get("GITHUB_SERVER_URL").map(str::to_owned),
            api_url: env.get("GITHUB_API_URL").map(str::to_owned),
            run_id: env.get("GITHUB_RUN_ID").map(str::to_owned),
        };
        Some(Self {
            context,
            step_summary: env.get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: env.get("GITHUB_OUTPUT").map(PathBuf::from),
            no_color: env.get("NO_COLOR").is_some(),
            commands: Mutex::new(Box::new(io::stderr())),
        })
    }

    /// Sends workflow commands to `writer` instead of standard error.
    pub fn with_command_writer(self, writer: impl Write + Send + 'static) -> Self {
        Self {
            commands: Mutex::new(Box::new(writer)),
            ..self
        }
    }

    /// Returns the step summary file (`GITHUB_STEP_SUMMARY`), when the runner set it.
    pub fn step_summary_path(&self) -> Option<&Path> {
        self.step_summary.as_deref()
    }

    pub fn context(&self) -> &RunContext {
        &self.context
    }

    /// Returns the web address of this run, when the runner gave all its parts.
    pub fn run_url(&self) -> Option<String> {
        let context = &self.context;
        Some(format!(
            "{}/{}/actions/runs/{}",
            context.server_url.as_deref()?.trim_end_matches('/'),
            context.repository.as_deref()?,
            context.run_id.as_deref()?,
        ))
    }

    /// Tells whether log output should carry ANSI colours although it is not a terminal: the
    /// Actions log renders them, unless the user set `NO_COLOR`.
    pub fn force_color(&self) -> bool {
        !self.no_color
    }

    /// Appends Markdown to the step summary, cut at a line boundary with a note when the file
    /// would grow past [`STEP_SUMMARY_LIMIT`]. Text that earlier calls in the step appended counts
    /// against the limit too.
    pub fn append_step_summary(&self, markdown: &str) -> io::Result<SummaryWritten> {
        let Some(path) = self.step_summary.as_deref() else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "cannot write the step summary: environment variable `GITHUB_STEP_SUMMARY` is not set",
            ));
        };

        let existing = match fs::metadata(path) {
            Ok(metadata) => metadata.len(),
            Err(error) if error.kind() == io::ErrorKind::NotFound => 0,
            Err(error) => return Err(error),
        };
        let budget = STEP_SUMMARY_LIMIT.saturating_sub(existing);
        let (text, written) = fit_summary(markdown, budget);

        if !text.is_empty() {
            append(path, text.as_bytes())?;
        }
        Ok(written)
    }

    /// Appends outputs to `GITHUB_OUTPUT`, each in the multi-line form with a random delimiter,
    /// so a value cannot end its own entry early and inject another output.
    pub fn set_outputs(&self, outputs: &[(&str, &str)]) -> Result<(), OutputError> {
        let delimiter = format!("{DELIMITER_PREFIX}{:032x}", rand::random::<u128>());
        self.set_outputs_with_delimiter(outputs, &delimiter)
    }

    fn set_outputs_with_delimiter(
        &self,
        outputs: &[(&str, &str)],
        delimiter: &str,
    ) -> Result<(), OutputError> {
        let Some(path) = self.output.as_deref() else {
            return Err(OutputError::MissingFile);
        };

        let text = format_outputs(outputs, delimiter)?;

        append(path, text.as_bytes()).map_err(|source| OutputError::Write {
            path: path.to_owned(),
            source,
        })
    }

    pub fn error(&self, message: &str) -> io::Result<()> {
        self.annotate(
            AnnotationLevel::Error,
            &AnnotationProperties::default(),
            message,
        )
    }

    pub fn warning(&self, message: &str) -> io::Result<()> {
        self.annotate(
            AnnotationLevel::Warning,
            &AnnotationProperties::default(),
            message,
        )
    }

    pub fn notice(&self, message: &str) -> io::Result<()> {
        self.annotate(
            AnnotationLevel::Notice,
            &AnnotationProperties::default(),
            message,
        )
    }

    /// Writes an annotation, which GitHub shows on the run's summary page and, with a file and
    /// line, beside the code.
    pub fn annotate(
        &self,
        level: AnnotationLevel,
        properties: &AnnotationProperties,
        message: &str,
    ) -> io::Result<()> {
        self.write_command(&format_annotation(level, properties, message))
    }

    /// Starts a collapsible group in the log; every line up to [`Runtime::end_group`] folds under
    /// `title`. Groups do not nest.
    pub fn group(&self, title: &str) -> io::Result<()> {
        self.write_command(&format!("::group::{}", escape_data(title)))
    }

    pub fn end_group(&self) -> io::Result<()> {
        self.write_command("::endgroup::")
    }

    /// Asks the runner to replace `secret` with `***` in every later log line.
    pub fn add_mask(&self, secret: &Secret) -> io::Result<()> {
        if secret.is_empty() {
            return Ok(());
        }
        self.write_command(&format!("::add-mask::{}", escape_data(secret.expose())))
    }

    fn write_command(&self, command: &str) -> io::Result<()> {
        // A poisoned lock only means another thread panicked mid-write. The writer itself is
        // still usable, and losing an annotation would hide the reason for a failure.
        let mut writer = self
            .commands
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        writeln!(writer, "{command}")?;
        writer.flush()
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("context", &self.context)
            .field("step_summary", &self.step_summary)
            .field("output", &self.output)
            .field("no_color", &self.no_color)
            .finish_non_exhaustive()
    }
}

/// Chooses what to append to a step summary that has `budget` bytes left: all of `markdown`, or
/// its first lines plus a note that states how much was left out, or nothing when not even the
/// note fits.
fn fit_summary(markdown: &str, budget: u64) -> (String, SummaryWritten) {
    let total = markdown.len() as u64;
    if total <= budget {
        let written = SummaryWritten {
            bytes_written: total,
            omitted_bytes: 0,
        };
        return (markdown.to_owned(), written);
    }

    // The note's length depends on the number of omitted bytes, which depends on where the cut
    // falls. Reserving room for the longest possible note (everything omitted) breaks the circle.
    let longest_note = cut_note(total, total);
    let room_for_text = budget.saturating_sub(longest_note.len() as u64) as usize;
    if budget < longest_note.len() as u64 {
        let written = SummaryWritten {
            bytes_written: 0,
            omitted_bytes: total,
        };
        return (String::new(), written);
    }

    let kept = match markdown.as_bytes()[..room_for_text]
        .iter()
        .rposition(|&byte| byte == b'\n')
    {
        Some(newline) => &markdown[..=newline],
        None => "",
    };
    let omitted = total - kept.len() as u64;
    let text = format!("{kept}{}", cut_note(omitted, total));
    let written = SummaryWritten {
        bytes_written: text.len() as u64,
        omitted_bytes: omitted,
    };
    (text, written)
}

/// Formats the Markdown note that ends a cut summary. It starts with a blank line so that it
/// never joins a table or list that the cut interrupted. Callers that have the full text
/// elsewhere (a plan file, a committed file) say so before the part that may be cut.
fn cut_note(omitted: u64, total: u64) -> String {
    format!(
        "\n> **Note:** this summary was cut here because {omitted} of its {total} bytes did not \
         fit GitHub's 1 MiB step summary limit.\n"
    )
}

fn format_outputs(outputs: &[(&str, &str)], delimiter: &str) -> Result<String, OutputError> {
    let mut text = String::new();
    for &(name, value) in outputs {
        if !is_valid_output_name(name) {
            return Err(OutputError::InvalidName {
                name: name.to_owned(),
            });
        }
        if value.contains(delimiter) {
            return Err(OutputError::DelimiterInValue {
                name: name.to_owned(),
            });
        }
        text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
    }
    Ok(text)
}

fn is_valid_output_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn format_annotation(
    level: AnnotationLevel,
    properties: &AnnotationProperties,
    message: &str,
) -> String {
    let mut pairs = Vec::new();
    if let Some(title) = &properties.title {
        pairs.push(format!("title={}", escape_property(title)));
    }
    if let Some(file) = &properties.file {
        pairs.push(format!("file={}", escape_property(file)));
    }
    if let Some(line) = properties.line {
        pairs.push(format!("line={line}"));
    }
    if let Some(end_line) = properties.end_line {
        pairs.push(format!("endLine={end_line}"));
    }

    let command = level.command();
    let message = escape_data(message);
    if pairs.is_empty() {
        format!("::{command}::{message}")
    } else {
        format!("::{command} {}::{message}", pairs.join(","))
    }
}

/// Escapes a command's message so the runner reads it back unchanged, as `@actions/core` does.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property, which additionally may not contain the `:` that ends the
/// properties or the `,` that separates them.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// A command writer whose bytes the test reads back.
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

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn runtime_in(folder: &Path) -> Runtime {
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            (
                "GITHUB_STEP_SUMMARY",
                folder.join("summary.md").to_str().unwrap(),
            ),
            ("GITHUB_OUTPUT", folder.join("output").to_str().unwrap()),
        ]);
        Runtime::from_env(&env).unwrap()
    }

    #[test]
    fn from_env_requires_github_actions_true() {
        assert!(Runtime::from_env(&Env::default()).is_none());
        assert!(Runtime::from_env(&Env::from_pairs([("GITHUB_ACTIONS", "false")])).is_none());
        assert!(Runtime::from_env(&Env::from_pairs([("GITHUB_ACTIONS", "1")])).is_none());
        assert!(Runtime::from_env(&Env::from_pairs([("GITHUB_ACTIONS", "true")])).is_some());
    }

    #[test]
    fn run_url_joins_server_repository_and_id() {
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.example.com/"),
            ("GITHUB_REPOSITORY", "acme/infra"),
            ("GITHUB_RUN_ID", "1234"),
        ]);
        let runtime = Runtime::from_env(&env).unwrap();

        assert_eq!(
            runtime.run_url().as_deref(),
            Some("https://github.example.com/acme/infra/actions/runs/1234")
        );
    }

    #[test]
    fn force_color_unless_no_color() {
        let colored = Runtime::from_env(&Env::from_pairs([("GITHUB_ACTIONS", "true")])).unwrap();
        let plain = Runtime::from_env(&Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("NO_COLOR", "1"),
        ]))
        .unwrap();

        assert!(colored.force_color());
        assert!(!plain.force_color());
    }

    #[test]
    fn parse_bool_input_accepts_only_lowercase() {
        assert_eq!(parse_bool_input("comment", "true"), Ok(true));
        assert_eq!(parse_bool_input("comment", "false"), Ok(false));
        for value in ["True", "TRUE", "yes", "1", "", " true"] {
            assert!(parse_bool_input("comment", value).is_err(), "{value:?}");
        }
    }

    #[test]
    fn parse_bool_input_error_names_input() {
        let error = parse_bool_input("allow-large-removal", "yes").unwrap_err();

        assert_eq!(
            error.to_string(),
            "invalid value `yes` for input `allow-large-removal`: expected `true` or `false`"
        );
    }

    #[test]
    fn escape_data_encodes_percent_and_newlines() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_data("a:b,c"), "a:b,c");
    }

    #[test]
    fn escape_property_also_encodes_colon_and_comma() {
        assert_eq!(
            escape_property("guard: removal, 10%"),
            "guard%3A removal%2C 10%25"
        );
    }

    #[test]
    fn annotation_without_properties() {
        let line = format_annotation(
            AnnotationLevel::Error,
            &AnnotationProperties::default(),
            "refused: 40 removals\nuse --allow-large-removal",
        );

        assert_eq!(
            line,
            "::error::refused: 40 removals%0Ause --allow-large-removal"
        );
    }

    #[test]
    fn annotation_with_properties() {
        let properties = AnnotationProperties {
            title: Some("ipsync: large removal".to_owned()),
            file: Some("ipsync/a,b/plan.json".to_owned()),
            line: Some(3),
            end_line: Some(7),
        };

        let line = format_annotation(AnnotationLevel::Warning, &properties, "50% removed");

        assert_eq!(
            line,
            "::warning title=ipsync%3A large removal,file=ipsync/a%2Cb/plan.json,line=3,endLine=7::50%25 removed"
        );
    }

    #[test]
    fn commands_reach_writer_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let captured = Captured::default();
        let runtime = runtime_in(folder.path()).with_command_writer(captured.clone());

        runtime.group("Fetch: service tags").unwrap();
        runtime.notice("3 tags").unwrap();
        runtime.end_group().unwrap();
        runtime.warning("host bits set").unwrap();
        runtime.error("tag missing").unwrap();
        runtime.add_mask(&Secret::new("dapi%123\n")).unwrap();
        runtime.add_mask(&Secret::new("")).unwrap();

        assert_eq!(
            captured.text(),
            "::group::Fetch: service tags\n\
             ::notice::3 tags\n\
             ::endgroup::\n\
             ::warning::host bits set\n\
             ::error::tag missing\n\
             ::add-mask::dapi%25123%0A\n"
        );
    }

    #[test]
    fn outputs_use_heredoc_delimiter() {
        let folder = tempfile::tempdir().unwrap();
        let runtime = runtime_in(folder.path());

        runtime
            .set_outputs_with_delimiter(
                &[("has-changes", "true"), ("plan-path", "a\nb")],
                "ipsync_d1",
            )
            .unwrap();

        assert_eq!(
            fs::read(folder.path().join("output")).unwrap(),
            b"has-changes<<ipsync_d1\ntrue\nipsync_d1\nplan-path<<ipsync_d1\na\nb\nipsync_d1\n"
        );
    }

    #[test]
    fn outputs_append_to_existing_file() {
        let folder = tempfile::tempdir().unwrap();
        fs::write(folder.path().join("output"), "earlier=1\n").unwrap();
        let runtime = runtime_in(folder.path());

        runtime
            .set_outputs_with_delimiter(&[("added-count", "0")], "ipsync_d2")
            .unwrap();

        assert_eq!(
            fs::read(folder.path().join("output")).unwrap(),
            b"earlier=1\nadded-count<<ipsync_d2\n0\nipsync_d2\n"
        );
    }

    #[test]
    fn outputs_refuse_delimiter_in_value() {
        let folder = tempfile::tempdir().unwrap();
        let runtime = runtime_in(folder.path());

        let error = runtime
            .set_outputs_with_delimiter(
                &[("added-count", "1"), ("plan-path", "x\nipsync_d3\ny=1")],
                "ipsync_d3",
            )
            .unwrap_err();

        assert!(matches!(error, OutputError::DelimiterInValue { ref name } if name == "plan-path"));
        assert!(!folder.path().join("output").exists());
    }

    #[test]
    fn outputs_refuse_invalid_name() {
        let folder = tempfile::tempdir().unwrap();
        let runtime = runtime_in(folder.path());

        for name in ["", "a<<b", "x\ny", "1st", "has changes"] {
            let error = runtime.set_outputs(&[(name, "1")]).unwrap_err();
            assert!(
                matches!(error, OutputError::InvalidName { .. }),
                "{name:?}: {error}"
            );
        }
        assert!(!folder.path().join("output").exists());
    }

    #[test]
    fn outputs_without_file_fail() {
        let runtime = Runtime::from_env(&Env::from_pairs([("GITHUB_ACTIONS", "true")])).unwrap();

        let error = runtime.set_outputs(&[("has-changes", "true")]).unwrap_err();

        assert!(matches!(error, OutputError::MissingFile));
    }

    #[test]
    fn random_delimiters_differ() {
        let folder = tempfile::tempdir().unwrap();
        let runtime = runtime_in(folder.path());

        runtime.set_outputs(&[("a", "1")]).unwrap();
        runtime.set_outputs(&[("b", "2")]).unwrap();

        let text = fs::read_to_string(folder.path().join("output")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6);
        let first = lines[0].strip_prefix("a<<").unwrap();
        let second = lines[3].strip_prefix("b<<").unwrap();
        assert_eq!(first.len(), DELIMITER_PREFIX.len() + 32);
        assert!(first.starts_with(DELIMITER_PREFIX));
        assert_eq!(lines[2], first);
        assert_eq!(lines[5], second);
        assert_ne!(first, second);
    }

    #[test]
    fn fit_summary_keeps_text_that_fits() {
        let (text, written) = fit_summary("# Plan\n\nno changes\n", 19);

        assert_eq!(text, "# Plan\n\nno changes\n");
        assert_eq!(
            written,
            SummaryWritten {
                bytes_written: 19,
                omitted_bytes: 0
            }
        );
    }

    #[test]
    fn fit_summary_cuts_at_line_boundary() {
        // 20 rows of 16 bytes. Room for the longest note (320 of 320 omitted) plus 40 bytes
        // fits two whole rows and half of the third, so the cut falls at byte 32.
        let markdown = "| 10.0.0.0/24 |\n".repeat(20);
        let budget = cut_note(320, 320).len() as u64 + 40;

        let (text, written) = fit_summary(&markdown, budget);

        let expected = format!("| 10.0.0.0/24 |\n| 10.0.0.0/24 |\n{}", cut_note(288, 320));
        assert_eq!(text, expected);
        assert_eq!(written.omitted_bytes, 288);
        assert_eq!(written.bytes_written, expected.len() as u64);
        assert!(written.bytes_written <= budget);
        assert!(
            text.contains(
                "|\n\n> **Note:** this summary was cut here because 288 of its 320 bytes"
            )
        );
    }

    #[test]
    fn fit_summary_without_room_writes_nothing() {
        let (text, written) = fit_summary("# Plan\nlong\n", 10);

        assert_eq!(text, "");
        assert_eq!(
            written,
            SummaryWritten {
                bytes_written: 0,
                omitted_bytes: 12
            }
        );
    }

    #[test]
    fn fit_summary_never_splits_a_character() {
        // Three-byte characters with no newline: the only line boundary is the start.
        let markdown = "€".repeat(1000);
        let budget = cut_note(3000, 3000).len() as u64 + 100;

        let (text, written) = fit_summary(&markdown, budget);

        assert_eq!(text, cut_note(3000, 3000));
        assert_eq!(written.omitted_bytes, 3000);
    }

    #[test]
    fn step_summary_under_limit_is_byte_exact() {
        let folder = tempfile::tempdir().unwrap();
        let runtime = runtime_in(folder.path());

        runtime.append_step_summary("# First\n").unwrap();
        let written = runtime.append_step_summary("| a | b |\n").unwrap();

        assert!(!written.is_cut());
        assert_eq!(
            fs::read(folder.path().join("summary.md")).unwrap(),
            b"# First\n| a | b |\n"
        );
    }

    #[test]
    fn step_summary_stays_within_limit() {
        let folder = tempfile::tempdir().unwrap();
        let runtime = runtime_in(folder.path());
        // 100,000 lines of 12 bytes: 1,200,000 bytes, more than the 1,048,576 allowed.
        let markdown = "| 10.0.0.0 \n".repeat(100_000);
        assert_eq!(markdown.len(), 1_200_000);

        let written = runtime.append_step_summary(&markdown).unwrap();

        let bytes = fs::read(folder.path().join("summary.md")).unwrap();
        assert!(bytes.len() as u64 <= STEP_SUMMARY_LIMIT);
        assert_eq!(bytes.len() as u64, written.bytes_written);
        assert!(written.is_cut());
        let text = String::from_utf8(bytes).unwrap();
        let (kept, note) = text.split_once("\n\n> **Note:**").unwrap();
        assert_eq!(kept.len() % 12, 11, "cut inside a line");
        assert_eq!(
            written.omitted_bytes,
            1_200_000 - (kept.len() as u64 + 1),
            "kept text plus its last newline"
        );
        assert!(note.ends_with("GitHub's 1 MiB step summary limit.\n"));
    }

    #[test]
    fn step_summary_counts_earlier_content() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("summary.md");
        fs::write(&path, vec![b'x'; (STEP_SUMMARY_LIMIT - 5) as usize]).unwrap();
        let runtime = runtime_in(folder.path());

        let fits = runtime.append_step_summary("abc\n").unwrap();
        let too_long = runtime.append_step_summary("defg\n").unwrap();

        assert_eq!(fits.bytes_written, 4);
        assert_eq!(too_long.bytes_written, 0);
        assert_eq!(too_long.omitted_bytes, 5);
        assert_eq!(fs::metadata(&path).unwrap().len(), STEP_SUMMARY_LIMIT - 1);
    }

    #[test]
    fn step_summary_without_variable_fails() {
        let runtime = Runtime::from_env(&Env::from_pairs([("GITHUB_ACTIONS", "true")])).unwrap();

        let error = runtime.append_step_summary("# Plan\n").unwrap_err();

        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(error.to_string().contains("GITHUB_STEP_SUMMARY"));
    }
}
