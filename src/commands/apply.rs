//! `ipsync apply`: apply a reviewed plan file, or plan and apply in one go.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};

use super::actions::Actions;
use super::plan::{fetch_and_plan, last_applied_tags, overrides};
use super::target::{self};
use super::{Context, Status};
use crate::apply::{self, ApplyOptions, ApplyOutcome};
use crate::cli::{ApplyArgs, TargetArgs};
use crate::databricks::Client;
use crate::plan::{self, Overrides, PLAN_VERSION, Plan, PlanTag};
use crate::report;
use crate::state::{self, TargetState};

/// Largest plan file read. A plan of 1,000 values with its warnings is far below it.
const MAX_PLAN_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads and checks a plan file.
pub fn read_plan_file(path: &Path) -> Result<Plan> {
    let metadata = std::fs::metadata(path)
        .with_context(|| format!("failed to read the plan file `{}`", path.display()))?;
    if !metadata.is_file() || metadata.len() > MAX_PLAN_FILE_BYTES {
        bail!(
            "`{}` is not a plan file: expected a regular file of at most {MAX_PLAN_FILE_BYTES} bytes",
            path.display()
        );
    }
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

/// Warns about source and target flags that a plan file overrides, since the plan was reviewed
/// as it is.
fn warn_ignored_with_plan(args: &ApplyArgs) {
    let mut ignored = Vec::new();
    if !args.source.include.is_empty() {
        ignored.push("--include");
    }
    if args.source.service_tags_file.is_some() || args.source.service_tags_url.is_some() {
        ignored.push("the service tags source");
    }
    if args.target.list_label.is_some() || args.target.list_id.is_some() {
        ignored.push("--list-label and --list-id");
    }
    if !ignored.is_empty() {
        tracing::warn!(
            "applying the plan file as reviewed; ignoring {} (make a new plan to change them)",
            ignored.join(", ")
        );
    }
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
    let actions = Actions::from_env(&context.env, args.github.comment)?;
    let Some(actions) = actions else {
        return run_local(context, &args).await;
    };

    let mut reviewed: Option<Plan> = None;
    let result = run_in_actions(context, &args, &actions, &mut reviewed).await;
    if let Err(error) = &result {
        let slug = match &reviewed {
            Some(plan) => Some(state::plan_slug(plan)),
            None => target_slug(context, &args).ok(),
        };
        actions
            .report_refusal("apply", slug.as_deref(), error, reviewed.as_ref())
            .await;
    }
    result
}

/// Applies `--plan`, or plans and applies in one go.
async fn run_local(context: &Context, args: &ApplyArgs) -> Result<Status> {
    let overrides = overrides(&args.guards, &args.target);
    let (plan, client, target_state) = match &args.plan {
        Some(path) => {
            let plan = read_plan_file(path)?;
            warn_ignored_with_plan(args);
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
        last_applied: None,
        backup_dir: &backup_dir,
    };
    apply_plan(context, &plan, &client, &target_state, &settings).await?;
    Ok(Status::Success)
}

/// Applies the reviewed plan: only on the protected default branch, and only the plan
/// file committed there (or the one `--plan` names), never a fresh computation.
async fn run_in_actions(
    context: &Context,
    args: &ApplyArgs,
    actions: &Actions,
    reviewed: &mut Option<Plan>,
) -> Result<Status> {
    let overrides = overrides(&args.guards, &args.target);
    actions.check_apply_allowed(args.allow_unprotected).await?;

    let plan = match &args.plan {
        Some(path) => read_plan_file(path)?,
        None => committed_plan(context, args, actions).await?,
    };
    *reviewed = Some(plan.clone());

    let target_args = target_args_for_plan(&plan, &args.target)?;
    let target = target::connect(context, &target_args, &plan.target.label).await?;
    let target_state = TargetState::new(&args.state.state_dir, &state::plan_slug(&plan));
    let backup_dir = args
        .state
        .backup_dir
        .clone()
        .unwrap_or_else(|| args.state.state_dir.clone());
    let settings = ApplySettings {
        overrides,
        yes: true,
        show_plan: true,
        last_applied: actions
            .last_applied_tags(&plan, &args.state.state_dir)
            .await?,
        backup_dir: &backup_dir,
    };

    let outcome = apply_plan(context, &plan, &target.client, &target_state, &settings).await?;
    match outcome {
        Some(outcome) => {
            actions
                .record_applied(&plan, &target_state, &args.state.state_dir)
                .await?;
            actions
                .report_apply(&plan, &outcome, &target_state.path(state::PLAN_FILE))
                .await?;
        }
        None => tracing::info!("the reviewed plan has no changes; nothing was written"),
    }
    Ok(Status::Success)
}

/// Finds the reviewed plan of the target in the state folder: the checked-out file when the
/// workflow checked the repository out, else the file in the run's commit, read through the API.
async fn committed_plan(context: &Context, args: &ApplyArgs, actions: &Actions) -> Result<Plan> {
    let slug = target_slug(context, args)?;
    let local = args.state.state_dir.join(&slug).join(state::PLAN_FILE);
    if local.is_file() {
        return read_plan_file(&local);
    }

    let path = format!(
        "{}/{slug}/{}",
        args.state.state_dir.display(),
        state::PLAN_FILE
    );
    actions.committed_plan(&path).await?.with_context(|| {
        format!(
            "no reviewed plan to apply: `{path}` is not in the checkout and `GITHUB_TOKEN` is not set; \
             check out the repository or pass the plan with `--plan`"
        )
    })
}

/// Names the target's state folder from the flags, without contacting anything.
fn target_slug(context: &Context, args: &ApplyArgs) -> Result<String> {
    let label = args
        .target
        .list_label
        .clone()
        .or_else(|| args.source.tags.first().cloned())
        .unwrap_or_default();
    let (host, scope) = target::resolve_host_and_scope(context, &args.target)?;
    Ok(state::target_slug(
        scope.name(),
        host.as_str(),
        scope.account_id(),
        &label,
    ))
}

/// Settings for applying a plan that is already known.
pub struct ApplySettings<'a> {
    pub overrides: Overrides,
    /// Skip the question on a terminal.
    pub yes: bool,
    /// Print the plan before applying it.
    pub show_plan: bool,
    /// The tags of the last apply, when known from elsewhere than the state folder.
    pub last_applied: Option<Vec<PlanTag>>,
    pub backup_dir: &'a Path,
}

/// Shows the plan, checks the guards, requests confirmation on a terminal, applies and shows the result.
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

    let last_applied = match &settings.last_applied {
        Some(tags) => tags.clone(),
        None => last_applied_tags(target_state)?,
    };
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
