//! `ipsync plan`: fetch, read the live list, compute and show the plan.

use std::io::Write as _;

use anyhow::{Context as _, Result};

use super::actions::Actions;
use super::target::{self, Source, Target};
use super::{Context, Status};
use crate::cli::{GuardArgs, PlanArgs, SourceArgs, StateArgs, TargetArgs};
use crate::plan::{self, Overrides, Plan, PlanInput, PlanSource, PlanTag};
use crate::report::{self, Format};
use crate::state::{self, TargetState};

/// A computed plan with what produced it.
pub struct Planned {
    pub plan: Plan,
    pub source: Source,
    pub target: Target,
    pub target_state: TargetState,
    /// The target list as read, for the backup file.
    pub live_list: Option<crate::databricks::AccessList>,
}

pub fn overrides(guards: &GuardArgs, target: &TargetArgs) -> Overrides {
    Overrides {
        allow_large_removal: guards.allow_large_removal,
        allow_older_source: guards.allow_older_source,
        create_if_missing: target.create_if_missing,
    }
}

/// Fetches the source, connects to the target and computes the plan.
pub async fn fetch_and_plan(
    context: &Context,
    source_args: &SourceArgs,
    target_args: &TargetArgs,
    state_args: &StateArgs,
    overrides: Overrides,
) -> Result<Planned> {
    let source = target::load_source(context, source_args).await?;
    let default_label = source
        .selection
        .tags
        .first()
        .map(|tag| tag.name.clone())
        .unwrap_or_default();
    let target = target::connect(context, target_args, &default_label).await?;
    make_plan(source, target, &state_args.state_dir, overrides).await
}

/// Reads the live lists of a connected target and computes the plan.
pub async fn make_plan(
    source: Source,
    target: Target,
    state_dir: &std::path::Path,
    overrides: Overrides,
) -> Result<Planned> {
    let lists = target
        .client
        .list()
        .await
        .with_context(|| format!("failed to read the IP access lists of `{}`", target.host))?;

    let selection = &source.selection;
    let plan_source = PlanSource {
        cloud: selection.cloud.file_word().to_owned(),
        file_name: selection.file_name.clone(),
        url: selection.url.clone(),
        sha256: selection.sha256.clone(),
        change_number: selection.change_number,
        tags: selection
            .tags
            .iter()
            .map(|tag| PlanTag {
                name: tag.name.clone(),
                change_number: tag.change_number,
                ipv4_count: tag.ipv4.len(),
                ipv6_count: tag.ipv6_dropped.len(),
            })
            .collect(),
        include: source.include.clone(),
    };
    let account_id = target.scope.account_id().map(str::to_owned);
    let plan = plan::compute(PlanInput {
        scope: target.scope.name().to_owned(),
        host: target.host.as_str().trim_end_matches('/').to_owned(),
        account_id,
        label: target.label.clone(),
        list_id: target.list_id.clone(),
        source: plan_source,
        desired: selection.desired_prefixes(),
        dropped_ipv6: selection
            .tags
            .iter()
            .flat_map(|tag| tag.ipv6_dropped.iter().cloned())
            .collect(),
        live_lists: &lists,
        overrides,
        created_at: super::now_rfc3339(),
    })?;

    let live_list = crate::apply::find_planned_list(&plan, &lists).cloned();
    let target_state = TargetState::new(state_dir, &state::plan_slug(&plan));
    Ok(Planned {
        plan,
        source,
        target,
        target_state,
        live_list,
    })
}

/// Reads the per-tag changeNumbers of the last apply to this target.
pub fn last_applied_tags(target_state: &TargetState) -> Result<Vec<PlanTag>> {
    Ok(target_state
        .read_applied()?
        .map(|applied| applied.tags)
        .unwrap_or_default())
}

/// Writes the snapshot, backup and plan files of the audit trail.
pub fn save_state(planned: &Planned) -> Result<()> {
    let target_state = &planned.target_state;
    target_state.write(
        state::SNAPSHOT_FILE,
        planned.source.selection.snapshot_json().as_bytes(),
    )?;
    if let Some(list) = &planned.live_list {
        target_state.write(state::BACKUP_FILE, &state::to_json_bytes(list))?;
    }
    target_state.write(state::PLAN_FILE, report::json(&planned.plan).as_bytes())?;
    tracing::info!(folder = %target_state.dir().display(), "saved the service tags snapshot, backup and plan");
    Ok(())
}

pub async fn run(context: &Context, args: PlanArgs) -> Result<Status> {
    let overrides = overrides(&args.guards, &args.target);
    let actions = Actions::from_env(&context.env, args.github.comment)?;

    let planned =
        match fetch_and_plan(context, &args.source, &args.target, &args.state, overrides).await {
            Ok(planned) => planned,
            Err(error) => {
                if let Some(actions) = &actions {
                    actions.report_refusal("plan", None, &error, None).await;
                }
                return Err(error);
            }
        };
    let plan = &planned.plan;

    let rendered = match args.format {
        Format::Text => report::text(plan, context.color),
        Format::Json => report::json(plan),
        Format::Markdown => report::markdown(plan, &[]),
    };
    if let Some(actions) = &actions {
        actions.group(&format!(
            "ipsync plan: {} to add, {} to remove",
            plan.add.len(),
            plan.remove.len()
        ))?;
    }
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(rendered.as_bytes())?;
    stdout.flush()?;
    if let Some(actions) = &actions {
        actions.end_group()?;
    }

    // A refused plan writes no file, so that nothing can apply it later.
    let last_applied = last_applied_tags(&planned.target_state)?;
    if let Err(refusal) = plan::check_guards(plan, overrides, &last_applied) {
        let error = anyhow::Error::new(refusal);
        if let Some(actions) = &actions {
            let slug = state::plan_slug(plan);
            actions
                .report_refusal("plan", Some(&slug), &error, Some(plan))
                .await;
        }
        return Err(error);
    }
    if let Some(out) = &args.out {
        state::write_atomic(out, report::json(plan).as_bytes())
            .with_context(|| format!("failed to write the plan file `{}`", out.display()))?;
        tracing::info!(path = %out.display(), "wrote the plan file");
    }
    if args.save_state || actions.is_some() {
        save_state(&planned)?;
    }
    if let Some(actions) = &actions {
        actions
            .report_plan(
                &planned,
                &args.state.state_dir,
                args.github.comment_when_unchanged,
            )
            .await?;
    }

    if args.detailed_exitcode && plan.has_changes() {
        Ok(Status::ChangesPending)
    } else {
        Ok(Status::Success)
    }
}
