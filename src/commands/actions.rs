//! The GitHub Actions side of `plan` and `apply`: the job summary, the
//! step outputs, annotations, and the review flow (sticky comment, audit commit, pull request).

use std::path::Path;

use anyhow::{Context as _, Result};

use super::plan::Planned;
use crate::apply::ApplyOutcome;
use crate::env::Env;
use crate::github::runtime::Runtime;
use crate::plan::{Plan, PlanTag};
use crate::report::{self, SizePoint};
use crate::review::{self, GitHub};
use crate::state::{self, Applied, TargetState};

/// Branch that records each apply, because the protected default branch accepts no push.
pub const APPLIED_BRANCH: &str = "ipsync/applied";

/// A run inside GitHub Actions.
pub struct Actions {
    runtime: Runtime,
    /// The GitHub API side; `None` with `--comment=false` or without `GITHUB_TOKEN`.
    review: Option<Review>,
}

struct Review {
    github: GitHub,
    context: review::RunContext,
}

impl Actions {
    /// Returns `None` outside GitHub Actions (`GITHUB_ACTIONS` is not `true`).
    pub fn from_env(env: &Env, comment: bool) -> Result<Option<Actions>> {
        let Some(runtime) = Runtime::from_env(env) else {
            return Ok(None);
        };

        let review = if comment {
            match review::RunContext::from_env(env) {
                Ok(context) => {
                    let github =
                        GitHub::new(&context).context("failed to set up the GitHub API client")?;
                    Some(Review { github, context })
                }
                Err(error) => {
                    runtime.warning(&format!("not posting to GitHub: {error}"))?;
                    None
                }
            }
        } else {
            None
        };
        Ok(Some(Actions { runtime, review }))
    }

    /// Starts a folded group in the log, for output that is long.
    pub fn group(&self, title: &str) -> Result<()> {
        self.runtime
            .group(title)
            .context("failed to write to the log")
    }

    pub fn end_group(&self) -> Result<()> {
        self.runtime
            .end_group()
            .context("failed to write to the log")
    }

    /// Writes the plan to the job summary and the outputs, and publishes it for review.
    pub async fn report_plan(
        &self,
        planned: &Planned,
        state_dir: &Path,
        post_when_unchanged: bool,
    ) -> Result<()> {
        let plan = &planned.plan;
        let markdown = report::markdown(plan, &size_history(&planned.target_state, plan));
        let summary_path = self.write_summary(&markdown)?;

        let plan_path = planned.target_state.path(state::PLAN_FILE);
        self.set_plan_outputs(plan, &plan_path, &summary_path)?;
        for warning in &plan.warnings {
            self.runtime.warning(warning)?;
        }

        let Some(review) = &self.review else {
            return Ok(());
        };
        let slug = state::plan_slug(plan);
        let state_dir_text = state_dir.display().to_string();
        let [snapshot_path, backup_path, plan_file_path] =
            review::audit::state_paths(&state_dir_text, &slug);
        let mut files = vec![
            (
                snapshot_path,
                planned.source.selection.snapshot_json().into_bytes(),
            ),
            (plan_file_path, report::json(plan).into_bytes()),
        ];
        if let Some(list) = &planned.live_list {
            files.push((backup_path, state::to_json_bytes(list)));
        }

        let outcome = review::publish_plan(
            &review.github,
            &review.context,
            review::PublishInput {
                branch: format!("ipsync/{slug}"),
                slug,
                plan,
                markdown,
                files,
                state_dir: state_dir_text,
                post_when_unchanged,
            },
        )
        .await
        .context("failed to publish the plan on GitHub")?;
        for warning in &outcome.warnings {
            self.runtime.warning(warning)?;
        }
        if let Some(pull_request) = &outcome.pull_request {
            tracing::info!(url = %pull_request.html_url, "the plan is up for review");
        }
        Ok(())
    }

    /// Refuses apply unless the run is on the protected default branch.
    pub async fn check_apply_allowed(&self, allow_unprotected: bool) -> Result<()> {
        let Some(review) = &self.review else {
            self.runtime.warning(
                "cannot check that apply runs on the protected default branch without `GITHUB_TOKEN`; \
                 set the action's `github-token` input",
            )?;
            return Ok(());
        };
        let warnings =
            review::check_apply_allowed(&review.github, &review.context, allow_unprotected).await?;
        for warning in &warnings {
            self.runtime.warning(warning)?;
        }
        Ok(())
    }

    /// Reads the plan committed at `path` in the run's commit, through the API.
    pub async fn committed_plan(&self, path: &str) -> Result<Option<Plan>> {
        let Some(review) = &self.review else {
            return Ok(None);
        };
        let plan = review::read_committed_plan(&review.github, &review.context, path)
            .await
            .with_context(|| {
                format!("failed to read the reviewed plan `{path}` from the repository")
            })?;
        Ok(Some(plan))
    }

    /// Reads the per-tag changeNumbers of the last apply to the plan's target from the
    /// [`APPLIED_BRANCH`], or `None` without API access or before the first apply.
    pub async fn last_applied_tags(
        &self,
        plan: &Plan,
        state_dir: &Path,
    ) -> Result<Option<Vec<PlanTag>>> {
        let Some(review) = &self.review else {
            return Ok(None);
        };
        let path = applied_path(state_dir, plan);
        let bytes = review
            .github
            .file_contents(&path, APPLIED_BRANCH)
            .await
            .with_context(|| {
                format!(
                    "failed to read the last apply record `{path}` from branch `{APPLIED_BRANCH}`"
                )
            })?;
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let applied: Applied = serde_json::from_slice(&bytes).with_context(|| {
            format!("`{path}` on branch `{APPLIED_BRANCH}` is not an ipsync apply record")
        })?;
        Ok(Some(applied.tags))
    }

    /// Commits the apply record and history of the target to the [`APPLIED_BRANCH`].
    pub async fn record_applied(
        &self,
        plan: &Plan,
        target_state: &TargetState,
        state_dir: &Path,
    ) -> Result<()> {
        let Some(review) = &self.review else {
            return Ok(());
        };
        let folder = applied_path(state_dir, plan);
        let folder = folder.trim_end_matches(state::APPLIED_FILE);
        let mut files = Vec::new();
        for name in [state::APPLIED_FILE, state::HISTORY_FILE] {
            let bytes = std::fs::read(target_state.path(name)).with_context(|| {
                format!("failed to read `{}`", target_state.path(name).display())
            })?;
            files.push((format!("{folder}{name}"), bytes));
        }
        let default_branch = review.github.default_branch().await?;
        let message = format!(
            "Record the apply of {} to {}\n\n{} added, {} removed, from {}.",
            plan.target.label,
            plan.target.host,
            plan.add.len(),
            plan.remove.len(),
            plan.source.file_name
        );
        let result = review::commit_to_branch(
            &review.github,
            APPLIED_BRANCH,
            &default_branch,
            &files,
            &message,
        )
        .await;
        if let Err(error) = result {
            // The list is written either way; a lost record only weakens the older-source guard.
            self.runtime.warning(&format!(
                "the list was written, but recording the apply on branch `{APPLIED_BRANCH}` failed: {error}"
            ))?;
        }
        Ok(())
    }

    /// Reports an applied plan in the summary, the outputs and the sticky comment.
    pub async fn report_apply(
        &self,
        plan: &Plan,
        outcome: &ApplyOutcome,
        plan_path: &Path,
    ) -> Result<()> {
        let markdown = format!(
            "{}\n{}",
            crate::apply::render_outcome(plan, outcome).replace('\n', "  \n"),
            report::markdown(plan, &[])
        );
        let content = review::comment::apply_content(&markdown);
        let summary_path = self.write_summary(&content)?;
        self.set_plan_outputs(plan, plan_path, &summary_path)?;

        if let Some(review) = &self.review {
            let slug = state::plan_slug(plan);
            let outcome =
                review::post_apply_result(&review.github, &review.context, &slug, &content)
                    .await
                    .context("failed to post the apply result on GitHub")?;
            for warning in &outcome.warnings {
                self.runtime.warning(warning)?;
            }
        }
        Ok(())
    }

    /// Reports a refusal or failure: an error annotation, the summary and the sticky comment.
    pub async fn report_refusal(
        &self,
        command: &str,
        slug: Option<&str>,
        error: &anyhow::Error,
        plan: Option<&Plan>,
    ) {
        let reason = format!("{error:#}");
        let markdown = plan.map(|plan| report::markdown(plan, &[]));
        let content = review::comment::refusal_content(command, &reason, markdown.as_deref());

        if let Err(write_error) = self.runtime.error(&reason) {
            tracing::warn!("failed to write the error annotation: {write_error}");
        }
        if let Err(write_error) = self.write_summary(&content) {
            tracing::warn!("failed to write the job summary: {write_error:#}");
        }
        if let (Some(review), Some(slug)) = (&self.review, slug) {
            match review::post_apply_refusal(&review.github, &review.context, slug, &content).await
            {
                Ok(outcome) => {
                    for warning in &outcome.warnings {
                        let _ = self.runtime.warning(warning);
                    }
                }
                Err(post_error) => {
                    tracing::warn!("failed to post the refusal on GitHub: {post_error}")
                }
            }
        }
    }

    fn write_summary(&self, markdown: &str) -> Result<String> {
        let written = self
            .runtime
            .append_step_summary(markdown)
            .context("failed to write the job summary")?;
        if written.is_cut() {
            self.runtime.warning(&format!(
                "the job summary was cut by {} bytes to stay under GitHub's 1 MiB limit",
                written.omitted_bytes
            ))?;
        }
        Ok(self
            .runtime
            .step_summary_path()
            .map(|path| path.display().to_string())
            .unwrap_or_default())
    }

    fn set_plan_outputs(&self, plan: &Plan, plan_path: &Path, summary_path: &str) -> Result<()> {
        let added = plan.add.len().to_string();
        let removed = plan.remove.len().to_string();
        let plan_path = plan_path.display().to_string();
        self.runtime
            .set_outputs(&[
                (
                    "has-changes",
                    if plan.has_changes() { "true" } else { "false" },
                ),
                ("added-count", &added),
                ("removed-count", &removed),
                ("plan-path", &plan_path),
                ("summary-path", summary_path),
            ])
            .context("failed to write the step outputs")
    }
}

fn applied_path(state_dir: &Path, plan: &Plan) -> String {
    format!(
        "{}/{}/{}",
        state_dir.display().to_string().trim_matches('/'),
        state::plan_slug(plan),
        state::APPLIED_FILE
    )
}

/// Builds the chart points: the list size after each recorded apply, then after this plan.
fn size_history(target_state: &TargetState, plan: &Plan) -> Vec<SizePoint> {
    let mut points: Vec<SizePoint> = target_state
        .read_history()
        .unwrap_or_default()
        .into_iter()
        .map(|applied| SizePoint {
            label: applied
                .applied_at
                .get(..10)
                .unwrap_or(&applied.applied_at)
                .to_owned(),
            entries: applied.entries,
        })
        .collect();
    points.push(SizePoint {
        label: "this plan".to_owned(),
        entries: plan.after.len(),
    });
    points
}
