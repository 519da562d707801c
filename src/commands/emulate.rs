//! `ipsync emulate`: run the Databricks IP access list emulator until Ctrl-C.

use anyhow::Result;

use super::{Context, Status};
use crate::cli::EmulateArgs;
use crate::emulator::{self, EmulatorConfig};
use crate::secret::Secret;

pub async fn run(_context: &Context, args: EmulateArgs) -> Result<Status> {
    let config = EmulatorConfig {
        tokens: vec![Secret::new(args.token)],
        client: args
            .client_id
            .zip(args.client_secret)
            .map(|(id, secret)| (id, Secret::new(secret))),
        caller_ip: args.caller_ip,
        state_file: args.state,
        ..EmulatorConfig::default()
    };
    emulator::run_until_ctrl_c(args.listen, config).await?;
    Ok(Status::Success)
}
