//! `ipsync apply`: apply a reviewed plan file, or plan and apply in one go.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

use super::plan::{fetch_and_plan, last_applied_tags, overrides};
use super::target::{self};
use super::{Context, Status};
use crate::apply::{self, ApplyOptions, ApplyOutcome};
use crate::cli::{ApplyArgs, TargetArgs};
use crate::databricks::Client;
use crate::plan::{self, Overrides, PLAN_VERSION, Plan};
use crate::report;
use crate::state::{self, TargetState};

/// Reads and checks a plan file.
pub fn read_plan_file(path: &Path) -> Result<Plan> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("failed to read the plan file `{}`", path.display()))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("the plan file `{}` is not valid JSON", path.display()))?;
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(PLAN_VERSION)) {
        bail!(
            "the plan file `{}` has version {}, and this ipsync reads version {PLAN_VERSION}; make a new plan",
            path.display(),
            version.map_or_else(|| "(missing)".to_owned(), |version| version.to_string())
        );
    }
    serde_json::from_value(value)
        .with_context(|| format!("the plan file `{}` is not an ipsync plan", path.display()))
}

/// Makes the target flags point at the plan's target, refusing flags that name another one.
fn target_args_for_plan(plan: &Plan, flags: &TargetArgs) -> Result<TargetArgs> {
    if let Some(host) = &flags.host {
        if host.trim_end_matches('/') != plan.target.host {
            bail!(
                "the plan is for host `{}`, but `--host` (or `DATABRICKS_HOST`) is `{host}`; apply it where it was planned",
                plan.target.host
            );
        }
    }
    let mut args = flags.clone();
    args.host = Some(plan.target.host.clone());
    args.account_id = plan.target.account_id.clone().or(args.account_id);
    args.scope = Some(match plan.target.scope.as_str() {
        "account" => crate::cli::ScopeChoice::Account,
        _ => crate::cli::ScopeChoice::Workspace,
    });
    args.list_label = Some(plan.target.label.clone());
    args.list_id = plan.target.list_id.clone();
    Ok(args)
}

pub async fn run(context: &Context, args: ApplyArgs) -> Result<Status> {
    let overrides = overrides(&args.guards, &args.target);

    let (plan, client, target_state) = match &args.plan {
        Some(path) => {
            let plan = read_plan_file(path)?;
            let target_args = target_args_for_plan(&plan, &args.target)?;
            let target = target::connect(context, &target_args, &plan.target.label).await?;
            let target_state = TargetState::new(&args.state.state_dir, &state::plan_slug(&plan));
            (plan, target.client, target_state)
        }
        None => {
            let planned =
                fetch_and_plan(context, &args.source, &args.target, &args.state, overrides).await?;
            (planned.plan, planned.target.client, planned.target_state)
        }
    };

    let backup_dir = args
        .state
        .backup_dir
        .clone()
        .unwrap_or_else(|| args.state.state_dir.clone());
    let settings = ApplySettings {
        overrides,
        yes: args.yes,
        show_plan: true,
        backup_dir: &backup_dir,
    };
    apply_plan(context, &plan, &client, &target_state, &settings).await?;
    Ok(Status::Success)
}

/// How a plan is applied once it is known.
pub struct ApplySettings<'a> {
    pub overrides: Overrides,
    /// Skip the question on a terminal.
    pub yes: bool,
    /// Print the plan before applying it.
    pub show_plan: bool,
    pub backup_dir: &'a Path,
}

/// Shows the plan, checks the guards, asks on a terminal, applies and shows the result.
///
/// Returns `None` when there was nothing to apply.
pub async fn apply_plan(
    context: &Context,
    plan: &Plan,
    client: &Client,
    target_state: &TargetState,
    settings: &ApplySettings<'_>,
) -> Result<Option<ApplyOutcome>> {
    let mut stdout = std::io::stdout().lock();
    if settings.show_plan {
        stdout.write_all(report::text(plan, context.color).as_bytes())?;
        stdout.flush()?;
    }

    let last_applied = last_applied_tags(target_state)?;
    plan::check_guards(
        plan,
        settings.overrides.with_recorded(&plan.overrides),
        &last_applied,
    )?;

    if !plan.has_changes() {
        tracing::info!("nothing to apply");
        return Ok(None);
    }

    if context.interactive && !settings.yes {
        let question = format!(
            "Apply {} additions and {} removals to the {}?",
            plan.add.len(),
            plan.remove.len(),
            report::target_line(plan)
        );
        if !super::confirm(&question)? {
            bail!("apply cancelled at the prompt; nothing was written");
        }
    }

    let now = super::now_rfc3339();
    let options = ApplyOptions {
        target_state,
        backup_dir: settings.backup_dir,
        now: &now,
    };
    let outcome = apply::execute(client, plan, &options).await?;

    stdout.write_all(apply::render_outcome(plan, &outcome).as_bytes())?;
    stdout.flush()?;
    Ok(Some(outcome))
}
