//! The `ipsync` binary: parse the arguments, run the command, print the error chain, exit.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
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
