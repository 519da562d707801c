//! The `ipsync` binary: parse the arguments, run the command, print the error chain, exit.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    unset_empty_variables();
    if let Err(message) = check_boolean_variables() {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }

    // clap exits with 2 on a usage error, which ipsync reserves for "changes pending".
    let cli = match ipsync::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let env = ipsync::env::Env::from_process();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: failed to start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };

    match runtime.block_on(ipsync::commands::run(cli, env)) {
        Ok(status) => status.into(),
        Err(error) => {
            ipsync::commands::print_error(&error);
            ExitCode::FAILURE
        }
    }
}

/// Removes empty `IPSYNC_*`, `DATABRICKS_*` and `ARM_*` variables before clap reads them.
///
/// A GitHub Action passes every input as a variable, and an input the user left out
/// arrives as an empty string. The Databricks SDKs treat an empty variable as unset,
/// and clap would otherwise take it as an empty value.
fn unset_empty_variables() {
    let empty: Vec<std::ffi::OsString> = std::env::vars_os()
        .filter(|(name, value)| {
            let name = name.to_string_lossy();
            value.is_empty()
                && ["IPSYNC_", "DATABRICKS_", "ARM_"]
                    .iter()
                    .any(|prefix| name.starts_with(prefix))
        })
        .map(|(name, _)| name)
        .collect();
    for name in empty {
        // SAFETY: this runs first in `main`, before the runtime or any other thread
        // exists, so nothing can read the environment concurrently.
        unsafe { std::env::remove_var(name) };
    }
}

/// Rejects a boolean variable spelled other than `true` or `false`, naming the action input.
fn check_boolean_variables() -> Result<(), String> {
    for (variable, input) in ipsync::cli::BOOLEAN_VARIABLES {
        let Some(value) = std::env::var_os(variable) else {
            continue;
        };
        let value = value.to_string_lossy();
        if let Err(error) = ipsync::github::parse_bool_input(input, &value) {
            return Err(format!("{error} (environment variable `{variable}`)"));
        }
    }
    Ok(())
}
