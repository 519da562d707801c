//! The `ipsync` binary: parse the arguments, run the command, print the error chain, exit.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = ipsync::cli::Cli::parse();
    let env = ipsync::env::Env::from_process();

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
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
