//! One function per subcommand, and the context they share.

mod actions;
mod apply;
mod backup;
mod demo;
mod emulate;
mod plan;
mod tags;
mod target;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, ColorChoice, Command};
use crate::env::Env;

pub use target::{Target, connect};

/// The end of a successful command, which becomes the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit status 0.
    Success,
    /// Exit status 2: `plan --detailed-exitcode` found changes.
    ChangesPending,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        match status {
            Status::Success => ExitCode::SUCCESS,
            Status::ChangesPending => ExitCode::from(2),
        }
    }
}

/// The settings that every command shares besides its own arguments.
pub struct Context {
    pub env: Env,
    /// Colour on stdout.
    pub color: bool,
    /// True when stdin and stderr are a terminal, so a question can be asked.
    pub interactive: bool,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli, env: Env) -> Result<Status> {
    init_logging(&cli, &env);
    let context = Context {
        color: use_color(cli.output.color, &env),
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        env,
    };

    match cli.command {
        Command::Plan(args) => plan::run(&context, args).await,
        Command::Apply(args) => apply::run(&context, args).await,
        Command::Backup(args) => backup::backup(&context, args).await,
        Command::Restore(args) => backup::restore(&context, args).await,
        Command::Tags(args) => tags::run(&context, args).await,
        Command::Emulate(args) => emulate::run(&context, args).await,
        Command::Demo(args) => demo::run(&context, args).await,
        Command::Auth(args) => target::describe_auth(&context, args).await,
    }
}

fn use_color(choice: ColorChoice, env: &Env) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        // The Actions log renders ANSI colours although it is not a terminal.
        ColorChoice::Auto => {
            env.get("NO_COLOR").is_none()
                && (std::io::stdout().is_terminal() || env.get("GITHUB_ACTIONS") == Some("true"))
        }
    }
}

fn init_logging(cli: &Cli, env: &Env) {
    let level = if cli.output.quiet {
        "error"
    } else {
        match cli.output.verbose {
            0 => "info",
            1 => "debug",
            _ => "trace",
        }
    };
    let filter = env
        .get("IPSYNC_LOG")
        .map(str::to_owned)
        .unwrap_or_else(|| format!("ipsync={level},warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(
            env.get("NO_COLOR").is_none()
                && (std::io::stderr().is_terminal() || env.get("GITHUB_ACTIONS") == Some("true")),
        )
        .try_init();
}

/// Prints an error with its causes and, for known cases, a hint.
pub fn print_error(error: &anyhow::Error) {
    eprintln!("error: {error}");
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = hint_for(error) {
        eprintln!("hint: {hint}");
    }
}

fn hint_for(error: &anyhow::Error) -> Option<String> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<crate::databricks::ApiError>())
        .and_then(crate::databricks::ApiError::hint)
}

/// Asks a yes/no question on stderr and reads the answer from stdin; anything but `y` or `yes` is no.
pub fn confirm(question: &str) -> Result<bool> {
    use std::io::Write as _;

    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Returns the current time in RFC 3339, in UTC, to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}
