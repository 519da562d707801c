//! The apply side of the review flow: where apply may run, the reviewed plan it reads, and
//! the comment that reports its result.
//!
//! Apply runs only on the repository's default branch, and only while that branch is
//! protected, so that every change reached it through a reviewed pull request.

use crate::plan::Plan;

use super::client::{GitHub, GitHubError, ISSUE_LABEL, ISSUES_WRITE};
use super::comment;
use super::context::RunContext;
use super::flow::{
    IssueChange, IssueOutcome, PublishOutcome, find_tracking_issue, repository_url,
    tracking_issue_title, upsert_comment, warn_on_missing_permission,
};

/// A reason that apply must not run in this workflow run.
#[derive(Debug, thiserror::Error)]
pub enum ApplyCheckError {
    #[error(
        "apply runs only on the default branch `{default_branch}`, and this run is on `{found}`; \
         merge the reviewed pull request and let the workflow run on `{default_branch}`"
    )]
    NotDefaultBranch {
        found: String,
        default_branch: String,
    },
    #[error(
        "apply runs only on a protected default branch, and `{branch}` is not protected; \
         protect it in the repository settings (Settings > Branches), or pass \
         `--allow-unprotected` to apply changes that nobody reviewed"
    )]
    Unprotected { branch: String },
    #[error("failed to check where apply may run: {0}")]
    GitHub(#[from] GitHubError),
}

/// Checks that the run is on the repository's default branch and that the branch is protected.
///
/// With `allow_unprotected`, an unprotected default branch passes with a warning, which is
/// returned and logged.
pub async fn check_apply_allowed(
    github: &GitHub,
    context: &RunContext,
    allow_unprotected: bool,
) -> Result<Vec<String>, ApplyCheckError> {
    let default_branch = github.default_branch().await?;
    let on_default = context.branch() == Some(default_branch.as_str());
    if !on_default {
        return Err(ApplyCheckError::NotDefaultBranch {
            found: context.branch().unwrap_or(&context.git_ref).to_owned(),
            default_branch,
        });
    }

    if github.branch_protected(&default_branch).await? {
        return Ok(Vec::new());
    }
    if !allow_unprotected {
        return Err(ApplyCheckError::Unprotected {
            branch: default_branch,
        });
    }
    let warning = format!(
        "applying from `{default_branch}`, which is NOT protected, because `--allow-unprotected` is set: \
         anyone who can push to `{default_branch}` can change the IP access list without review"
    );
    tracing::warn!("{warning}");
    Ok(vec![warning])
}

/// A plan file that could not be read from the repository.
#[derive(Debug, thiserror::Error)]
pub enum CommittedPlanError {
    #[error(
        "no plan file `{path}` at commit `{commit}`; run plan, review and merge its pull request first"
    )]
    NotFound { path: String, commit: String },
    #[error("invalid plan file `{path}` at commit `{commit}`: {reason}")]
    Invalid {
        path: String,
        commit: String,
        reason: String,
    },
    #[error("failed to read plan file `{path}`: {source}")]
    GitHub {
        path: String,
        #[source]
        source: GitHubError,
    },
}

/// Reads a file as committed at the run's commit, `None` when it is not there.
pub async fn read_committed_file(
    github: &GitHub,
    context: &RunContext,
    path: &str,
) -> Result<Option<Vec<u8>>, GitHubError> {
    github.file_contents(path, &context.sha).await
}

/// Reads the reviewed plan file as committed at the run's commit (`GITHUB_SHA`).
///
/// The run's commit rather than the branch head, so that apply uses exactly the content that
/// [`check_apply_allowed`] vetted for this run, even when the branch moves meanwhile.
pub async fn read_committed_plan(
    github: &GitHub,
    context: &RunContext,
    path: &str,
) -> Result<Plan, CommittedPlanError> {
    let bytes = read_committed_file(github, context, path)
        .await
        .map_err(|source| CommittedPlanError::GitHub {
            path: path.to_owned(),
            source,
        })?
        .ok_or_else(|| CommittedPlanError::NotFound {
            path: path.to_owned(),
            commit: context.sha.clone(),
        })?;
    serde_json::from_slice(&bytes).map_err(|error| CommittedPlanError::Invalid {
        path: path.to_owned(),
        commit: context.sha.clone(),
        reason: error.to_string(),
    })
}

/// Posts the result of an apply to the target's sticky comment on the tracking issue,
/// creating the issue when missing and leaving its state as it is. `markdown` is the comment
/// content, such as [`comment::apply_content`].
pub async fn post_apply_result(
    github: &GitHub,
    context: &RunContext,
    slug: &str,
    markdown: &str,
) -> Result<PublishOutcome, GitHubError> {
    post_apply_comment(github, context, slug, markdown, false).await
}

/// Posts a refused apply to the target's sticky comment, like [`post_apply_result`], and
/// reopens a closed tracking issue so the refusal is not missed. `markdown` is the comment
/// content, such as [`comment::refusal_content`].
pub async fn post_apply_refusal(
    github: &GitHub,
    context: &RunContext,
    slug: &str,
    markdown: &str,
) -> Result<PublishOutcome, GitHubError> {
    post_apply_comment(github, context, slug, markdown, true).await
}

async fn post_apply_comment(
    github: &GitHub,
    context: &RunContext,
    slug: &str,
    markdown: &str,
    reopen: bool,
) -> Result<PublishOutcome, GitHubError> {
    let mut outcome = PublishOutcome::default();
    let link = context.run_url().unwrap_or_else(|| repository_url(context));
    let body = comment::sticky_body(slug, markdown, &link);

    let issue = match find_tracking_issue(github, slug).await? {
        Some(issue) if reopen && !issue.is_open() => {
            match github.set_issue_state(issue.number, true).await {
                Ok(reopened) => IssueOutcome {
                    number: reopened.number,
                    html_url: reopened.html_url,
                    change: IssueChange::Reopened,
                },
                Err(error) => {
                    warn_on_missing_permission(error, &mut outcome.warnings)?;
                    IssueOutcome {
                        number: issue.number,
                        html_url: issue.html_url,
                        change: IssueChange::Kept,
                    }
                }
            }
        }
        Some(issue) => IssueOutcome {
            number: issue.number,
            html_url: issue.html_url,
            change: IssueChange::Kept,
        },
        None => {
            let issue_body = format!(
                "{}\nipsync reports here on the IP access list of target `{slug}`.\n",
                comment::marker(slug)
            );
            match github
                .create_issue(&tracking_issue_title(slug), &issue_body, &[ISSUE_LABEL])
                .await
            {
                Ok(created) => IssueOutcome {
                    number: created.number,
                    html_url: created.html_url,
                    change: IssueChange::Created,
                },
                Err(error) => {
                    warn_on_missing_permission(error, &mut outcome.warnings)?;
                    return Ok(outcome);
                }
            }
        }
    };

    match upsert_comment(github, issue.number, slug, &body, ISSUES_WRITE).await {
        Ok(posted) => outcome.comment = Some(posted),
        Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
    }
    outcome.issue = Some(issue);
    Ok(outcome)
}
