//! `ipsync demo`: plan, apply and plan again against a built-in emulator.
//!
//! The emulator starts on a free loopback port with a list that lags the service
//! tags file: three of the current AzureActiveDirectory ranges are missing and one
//! range that does not belong is present. The first plan shows that change, apply
//! writes it, and the second plan must find nothing left to do.

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use super::apply::{ApplySettings, apply_plan};
use super::plan::make_plan;
use super::target::{Source, Target, load_source};
use super::{Context, Status};
use crate::auth::StaticToken;
use crate::cli::{DemoArgs, SourceArgs};
use crate::databricks::{Client, ClientConfig, ListType, NewAccessList, Scope};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::plan::Overrides;
use crate::prefix::Ipv4Prefix;
use crate::report;
use crate::secret::Secret;

/// The address the emulator treats as the caller's: a documentation address (RFC 5737)
/// standing in for a runner's fixed egress address.
const CALLER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 10);

/// A range that is not Microsoft's (RFC 5737 TEST-NET-2), seeded as the stale entry.
const STALE_ENTRY: &str = "198.51.100.0/24";

/// Ranges of the current file left out of the seeded list, so the plan has additions.
const HELD_BACK: usize = 3;

const LABEL: &str = "AzureActiveDirectory";

pub async fn run(context: &Context, args: DemoArgs) -> Result<Status> {
    let source_args = SourceArgs {
        cloud: "public".to_owned(),
        tags: vec![LABEL.to_owned()],
        service_tags_file: args.service_tags_file.clone(),
        service_tags_url: None,
        download_page_url: args.download_page_url.clone(),
        include: vec![format!("{CALLER}/32")],
    };
    if args.service_tags_file.is_none() {
        eprintln!(
            "Downloading the current service tags file from Microsoft (use --service-tags-file to run offline)"
        );
    }
    let source = load_source(context, &source_args).await?;

    let token = Secret::new(format!("demo-{}", uuid::Uuid::new_v4().simple()));
    let emulator = Emulator::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        EmulatorConfig {
            tokens: vec![token.clone()],
            caller_ip: CALLER,
            ..EmulatorConfig::default()
        },
    )
    .await
    .context("failed to start the emulator on a loopback port")?;

    let seeded = seed_list(&source);
    let mut out = std::io::stdout().lock();
    writeln!(out, "== ipsync demo")?;
    writeln!(
        out,
        "Emulated Databricks workspace at {} (the caller's address is {CALLER}, kept with --include {CALLER}/32).",
        emulator.url()
    )?;
    writeln!(
        out,
        "Seeded list `{LABEL}` with {} entries: the current ranges without the last {HELD_BACK}, plus {STALE_ENTRY}, \
         which does not belong.\n",
        seeded.len()
    )?;
    emulator.seed(
        &Scope::Workspace,
        NewAccessList {
            label: LABEL.to_owned(),
            list_type: ListType::Allow,
            ip_addresses: seeded,
        },
    );
    drop(out);

    // The state folder (backups, apply record) is temporary and removed when the demo ends.
    let state_dir = tempfile::tempdir().context("failed to create a temporary state folder")?;
    let result = run_steps(context, source, &emulator, token, state_dir.path()).await;
    emulator.shutdown().await;
    result
}

async fn run_steps(
    context: &Context,
    source: Source,
    emulator: &Emulator,
    token: Secret,
    state_dir: &std::path::Path,
) -> Result<Status> {
    let connect = || -> Result<Target> {
        let auth = Arc::new(StaticToken::new(token.clone(), "pat"));
        let client = Client::new(ClientConfig::new(emulator.url(), Scope::Workspace, auth))?;
        Ok(Target {
            client,
            host: emulator.url(),
            scope: Scope::Workspace,
            label: LABEL.to_owned(),
            list_id: None,
        })
    };

    println!("== 1. plan");
    let first = make_plan(source.clone(), connect()?, state_dir, Overrides::default()).await?;
    print!("{}", report::text(&first.plan, context.color));
    println!();

    println!("== 2. apply");
    let settings = ApplySettings {
        overrides: Overrides::default(),
        yes: true,
        show_plan: false,
        last_applied: None,
        backup_dir: state_dir,
    };
    let outcome = apply_plan(
        context,
        &first.plan,
        &first.target.client,
        &first.target_state,
        &settings,
    )
    .await?;
    if outcome.is_none() {
        bail!("the demo's first plan had no changes to apply");
    }
    println!();

    println!("== 3. plan again");
    let second = make_plan(source, connect()?, state_dir, Overrides::default()).await?;
    print!("{}", report::text(&second.plan, context.color));
    if second.plan.has_changes() {
        bail!("the plan after apply still has changes; the list was not written as planned");
    }
    println!("\nThe list is in step with the service tags file.");
    Ok(Status::Success)
}

/// Builds the seeded list: the desired ranges without the last few, a stale entry and the caller.
fn seed_list(source: &Source) -> Vec<String> {
    let desired: Vec<Ipv4Prefix> = source.selection.desired_prefixes();
    let kept = desired.len().saturating_sub(HELD_BACK);
    let mut entries: Vec<String> = desired[..kept].iter().map(ToString::to_string).collect();
    entries.push(STALE_ENTRY.to_owned());
    entries.push(format!("{CALLER}/32"));
    entries
}
