//! The review flow: publish a plan for review, and decide whether apply may run.
//!
//! A scheduled or manual run commits the audit trail (service-tags snapshot, backup, plan
//! file) to a branch, opens or updates a pull request for it, and keeps one sticky comment
//! per target on a tracking issue. A pull request run comments on that pull request only, so
//! a run on ipsync's own pull request never commits to it again. Apply then runs only on the
//! protected default branch, from the plan file that the merged pull request brought there;
//! the checks and the result comment for that are in `apply`.

use crate::plan::Plan;

use super::client::{
    Comment, GitHub, GitHubError, ISSUE_LABEL, ISSUES_WRITE, Issue, PULL_REQUESTS_WRITE,
    PullRequest,
};
use super::comment;
use super::context::{Event, RunContext};

/// The plan, files and settings that one target publishes.
#[derive(Debug, Clone)]
pub struct PublishInput<'a> {
    /// The target's folder name under the state folder, also used in the comment marker.
    pub slug: String,
    pub plan: &'a Plan,
    /// The plan rendered as Markdown.
    pub markdown: String,
    /// Files to commit, as `(path in the repository, bytes)`.
    pub files: Vec<(String, Vec<u8>)>,
    /// Branch that carries the change, such as `ipsync/prod`.
    pub branch: String,
    /// The state folder, such as `ipsync`, for the link to the committed files.
    pub state_dir: String,
    /// Post the comment even when the plan changes nothing.
    pub post_when_unchanged: bool,
}

/// Whether a comment, pull request or commit was made, edited or left as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    /// Found with the same content, so nothing was sent.
    Unchanged,
}

/// The change made to the tracking issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueChange {
    Created,
    Reopened,
    Closed,
    /// Found and left in its state.
    Kept,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueOutcome {
    pub number: u64,
    pub html_url: String,
    pub change: IssueChange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentOutcome {
    pub id: u64,
    pub html_url: String,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestOutcome {
    pub number: u64,
    pub html_url: String,
    pub change: Change,
}

/// The record of a publish on GitHub, with the warnings that did not stop it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOutcome {
    pub issue: Option<IssueOutcome>,
    pub comment: Option<CommentOutcome>,
    /// The head of the change branch, which contains the files.
    pub commit: Option<String>,
    /// `Unchanged` when the branch already held exactly these files, so no commit was made.
    pub commit_change: Option<Change>,
    pub pull_request: Option<PullRequestOutcome>,
    /// Open pull requests of the change branch that were closed because the list is in sync.
    pub closed_pull_requests: Vec<u64>,
    /// Missing workflow permissions, each naming the permission to add.
    pub warnings: Vec<String>,
}

/// Turns a missing permission or a repository setting that forbids the step into a warning,
/// and passes every other error on.
pub(super) fn warn_on_missing_permission(
    error: GitHubError,
    warnings: &mut Vec<String>,
) -> Result<(), GitHubError> {
    if error.is_permission_problem() {
        tracing::warn!("{error}");
        warnings.push(error.to_string());
        Ok(())
    } else {
        Err(error)
    }
}

/// Publishes a plan for review: commit, pull request, tracking issue and sticky comment.
///
/// On a pull request event only the pull request's comment is written. A missing workflow
/// permission skips the step that needs it and is returned as a warning.
pub async fn publish_plan(
    github: &GitHub,
    context: &RunContext,
    input: PublishInput<'_>,
) -> Result<PublishOutcome, GitHubError> {
    let changed = input.plan.has_changes();
    let mut outcome = PublishOutcome::default();

    if let Event::PullRequest { number } = context.event {
        if changed || input.post_when_unchanged {
            let files_url = format!(
                "{}/{}/pull/{number}/files",
                context.server_url, context.repository
            );
            let content = comment::plan_content(&input.markdown, None);
            let body = comment::sticky_body(&input.slug, &content, &files_url);
            match upsert_comment(github, number, &input.slug, &body, PULL_REQUESTS_WRITE).await {
                Ok(posted) => outcome.comment = Some(posted),
                Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
            }
        }
        return Ok(outcome);
    }

    if changed {
        publish_change(github, context, &input, &mut outcome).await?;
    } else {
        publish_in_sync(github, context, &input, &mut outcome).await?;
    }
    Ok(outcome)
}

/// Commits the files, opens or updates the pull request, and comments on the open tracking issue.
async fn publish_change(
    github: &GitHub,
    context: &RunContext,
    input: &PublishInput<'_>,
    outcome: &mut PublishOutcome,
) -> Result<(), GitHubError> {
    let default_branch = github.default_branch().await?;
    let title = pull_request_title(input.plan);

    let open_pull_requests = github.open_pull_requests(&input.branch).await?;
    match commit_files(
        github,
        &default_branch,
        input,
        &title,
        !open_pull_requests.is_empty(),
    )
    .await
    {
        Ok((sha, change)) => {
            outcome.commit = Some(sha);
            outcome.commit_change = Some(change);
        }
        Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
    }

    let files_url = match &outcome.commit {
        Some(_) => comment::files_url(
            &context.server_url,
            &context.repository.to_string(),
            &input.branch,
            &input.state_dir,
            &input.slug,
        ),
        None => context.run_url().unwrap_or_else(|| repository_url(context)),
    };
    if outcome.commit.is_some() {
        let body = comment::cut(&input.markdown, comment::GITHUB_BODY_LIMIT - 1, &files_url);
        let existing = open_pull_requests.first();
        match upsert_pull_request(
            github,
            existing,
            &title,
            &input.branch,
            &default_branch,
            &body,
        )
        .await
        {
            Ok(pull_request) => outcome.pull_request = Some(pull_request),
            Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
        }
    }

    let issue = match ensure_tracking_issue(github, input).await {
        Ok(issue) => issue,
        Err(error) => return warn_on_missing_permission(error, &mut outcome.warnings),
    };
    let pull_request_url = outcome
        .pull_request
        .as_ref()
        .map(|pull_request| pull_request.html_url.as_str());
    let content = comment::plan_content(&input.markdown, pull_request_url);
    let body = comment::sticky_body(&input.slug, &content, &files_url);
    match upsert_comment(github, issue.number, &input.slug, &body, ISSUES_WRITE).await {
        Ok(posted) => outcome.comment = Some(posted),
        Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
    }
    outcome.issue = Some(issue);
    Ok(())
}

/// Closes the tracking issue with a note once the list is in sync; posts only when asked.
async fn publish_in_sync(
    github: &GitHub,
    context: &RunContext,
    input: &PublishInput<'_>,
    outcome: &mut PublishOutcome,
) -> Result<(), GitHubError> {
    // A change that is still open for review is obsolete now, and apply would refuse it
    // anyway because the live list no longer matches its `before`.
    for stale in github.open_pull_requests(&input.branch).await? {
        match github.close_pull_request(stale.number).await {
            Ok(_) => outcome.closed_pull_requests.push(stale.number),
            Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
        }
    }

    let found = find_tracking_issue(github, &input.slug).await?;
    let Some(issue) = found else {
        if !input.post_when_unchanged {
            return Ok(());
        }
        return publish_in_sync_note(github, context, input, outcome).await;
    };

    let files_url = repository_url(context);
    let content = in_sync_note(input);
    let body = comment::sticky_body(&input.slug, &content, &files_url);
    let existing = find_sticky(github, issue.number, &input.slug).await?;
    let note = match existing {
        Some(existing) if existing.body.as_deref() == Some(body.as_str()) => {
            Some(Ok(CommentOutcome {
                id: existing.id,
                html_url: existing.html_url,
                change: Change::Unchanged,
            }))
        }
        Some(existing) if issue.is_open() || input.post_when_unchanged => Some(
            github
                .update_comment(existing.id, &body, ISSUES_WRITE)
                .await
                .map(|comment| CommentOutcome {
                    id: comment.id,
                    html_url: comment.html_url,
                    change: Change::Updated,
                }),
        ),
        None if input.post_when_unchanged => Some(
            github
                .create_comment(issue.number, &body, ISSUES_WRITE)
                .await
                .map(|comment| CommentOutcome {
                    id: comment.id,
                    html_url: comment.html_url,
                    change: Change::Created,
                }),
        ),
        _ => None,
    };
    match note {
        Some(Ok(posted)) => outcome.comment = Some(posted),
        Some(Err(error)) => warn_on_missing_permission(error, &mut outcome.warnings)?,
        None => {}
    }

    let mut change = IssueChange::Kept;
    if issue.is_open() {
        match github.set_issue_state(issue.number, false).await {
            Ok(_) => change = IssueChange::Closed,
            Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
        }
    }
    outcome.issue = Some(IssueOutcome {
        number: issue.number,
        html_url: issue.html_url,
        change,
    });
    Ok(())
}

/// Posts the in-sync comment on a new tracking issue, which is then closed; used only when asked.
async fn publish_in_sync_note(
    github: &GitHub,
    context: &RunContext,
    input: &PublishInput<'_>,
    outcome: &mut PublishOutcome,
) -> Result<(), GitHubError> {
    let mut issue = match ensure_tracking_issue(github, input).await {
        Ok(issue) => issue,
        Err(error) => return warn_on_missing_permission(error, &mut outcome.warnings),
    };
    let content = in_sync_note(input);
    let body = comment::sticky_body(&input.slug, &content, &repository_url(context));
    match upsert_comment(github, issue.number, &input.slug, &body, ISSUES_WRITE).await {
        Ok(posted) => outcome.comment = Some(posted),
        Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
    }
    match github.set_issue_state(issue.number, false).await {
        Ok(_) => issue.change = IssueChange::Closed,
        Err(error) => warn_on_missing_permission(error, &mut outcome.warnings)?,
    }
    outcome.issue = Some(issue);
    Ok(())
}

/// Builds the in-sync note followed by the plan's Markdown.
fn in_sync_note(input: &PublishInput<'_>) -> String {
    format!(
        "{}\n{}\n",
        comment::in_sync_content(&input.plan.target.label),
        input.markdown.trim_end()
    )
}

/// Returns the pull request title for a plan.
pub fn pull_request_title(plan: &Plan) -> String {
    format!(
        "ipsync: update {} ({} to add, {} to remove)",
        plan.target.label,
        plan.add.len(),
        plan.remove.len()
    )
}

/// Writes the files in one commit on the change branch and returns the branch head.
///
/// When the open pull request's branch already contains exactly these files on top of the
/// current default branch, nothing is committed and the change is `Unchanged`.
///
/// The tree is the default branch's tree with the files replaced, so the pull request shows
/// exactly these files. While a pull request is open, the commit goes on top of the branch, so
/// reviewers keep the earlier revisions. When the default branch moved since then, its head
/// becomes a second parent, so the pull request's diff is taken against the current default
/// branch. Without an open pull request the branch is reset onto the default branch.
async fn commit_files(
    github: &GitHub,
    default_branch: &str,
    input: &PublishInput<'_>,
    message: &str,
    pull_request_open: bool,
) -> Result<(String, Change), GitHubError> {
    let default_head =
        github
            .branch_head(default_branch)
            .await?
            .ok_or_else(|| GitHubError::InvalidResponse {
                method: "GET",
                path: format!("git/ref/heads/{default_branch}"),
                reason: format!("the default branch `{default_branch}` has no commit"),
            })?;
    let base_tree = github.commit(&default_head).await?.tree;
    let branch_head = github.branch_head(&input.branch).await?;

    let mut entries = Vec::with_capacity(input.files.len());
    for (path, content) in &input.files {
        let sha = github.create_blob(content).await?;
        entries.push((path.clone(), sha));
    }
    let tree = github.create_tree(&base_tree, &entries).await?;

    let mut parents = vec![default_head.clone()];
    if let Some(head) = branch_head.as_ref().filter(|_| pull_request_open) {
        parents = vec![head.clone()];
        if !github.contains_commit(head, &default_head).await? {
            parents.push(default_head.clone());
        } else if github.commit(head).await?.tree == tree {
            tracing::info!(
                branch = input.branch,
                "the branch already holds these files"
            );
            return Ok((head.clone(), Change::Unchanged));
        }
    }
    let parent_refs: Vec<&str> = parents.iter().map(String::as_str).collect();
    let message = format!(
        "{message}\n\nSource: {} (sha256 {}).\nWritten by ipsync for review.",
        input.plan.source.file_name, input.plan.source.sha256
    );
    let commit = github.create_commit(&message, &tree, &parent_refs).await?;

    match &branch_head {
        Some(head) => {
            let fast_forward = parents.first() == Some(head);
            github
                .update_branch(&input.branch, &commit, !fast_forward)
                .await?;
        }
        None => github.create_branch(&input.branch, &commit).await?,
    }
    tracing::info!(branch = input.branch, commit, "committed the plan files");
    let change = if branch_head.is_some() {
        Change::Updated
    } else {
        Change::Created
    };
    Ok((commit, change))
}

/// Commits files on top of `branch`, creating the branch from `base_branch` when missing, and
/// returns the new commit. Files not named keep their content on the branch.
///
/// This is a fast-forward: a protected branch rejects it, and the error is GitHub's.
pub async fn commit_to_branch(
    github: &GitHub,
    branch: &str,
    base_branch: &str,
    files: &[(String, Vec<u8>)],
    message: &str,
) -> Result<String, GitHubError> {
    let branch_head = github.branch_head(branch).await?;
    let parent =
        match &branch_head {
            Some(head) => head.clone(),
            None => github.branch_head(base_branch).await?.ok_or_else(|| {
                GitHubError::InvalidResponse {
                    method: "GET",
                    path: format!("git/ref/heads/{base_branch}"),
                    reason: format!("the branch `{base_branch}` has no commit"),
                }
            })?,
        };
    let base_tree = github.commit(&parent).await?.tree;

    let mut entries = Vec::with_capacity(files.len());
    for (path, content) in files {
        let sha = github.create_blob(content).await?;
        entries.push((path.clone(), sha));
    }
    let tree = github.create_tree(&base_tree, &entries).await?;
    let commit = github.create_commit(message, &tree, &[&parent]).await?;

    match branch_head {
        Some(_) => github.update_branch(branch, &commit, false).await?,
        None => github.create_branch(branch, &commit).await?,
    }
    tracing::info!(branch, commit, "committed files");
    Ok(commit)
}

async fn upsert_pull_request(
    github: &GitHub,
    existing: Option<&PullRequest>,
    title: &str,
    branch: &str,
    default_branch: &str,
    body: &str,
) -> Result<PullRequestOutcome, GitHubError> {
    let (pull_request, change) = match existing {
        Some(existing) if existing.title == title && existing.body.as_deref() == Some(body) => {
            (existing.clone(), Change::Unchanged)
        }
        Some(existing) => (
            github
                .update_pull_request(existing.number, title, body)
                .await?,
            Change::Updated,
        ),
        None => (
            github
                .create_pull_request(title, branch, default_branch, body)
                .await?,
            Change::Created,
        ),
    };
    Ok(PullRequestOutcome {
        number: pull_request.number,
        html_url: pull_request.html_url,
        change,
    })
}

pub(super) fn tracking_issue_title(slug: &str) -> String {
    format!("ipsync: {slug}")
}

/// Finds the target's tracking issue by its marker or title, preferring an open one.
pub(super) async fn find_tracking_issue(
    github: &GitHub,
    slug: &str,
) -> Result<Option<Issue>, GitHubError> {
    let marker = comment::marker(slug);
    let title = tracking_issue_title(slug);
    let mut matching: Vec<Issue> = github
        .issues_with_label(ISSUE_LABEL)
        .await?
        .into_iter()
        .filter(|issue| {
            issue.title == title
                || issue
                    .body
                    .as_deref()
                    .is_some_and(|body| body.contains(&marker))
        })
        .collect();
    matching.sort_by_key(|issue| (!issue.is_open(), issue.number));
    Ok(matching.into_iter().next())
}

/// Finds the tracking issue and opens it, creating it when missing.
async fn ensure_tracking_issue(
    github: &GitHub,
    input: &PublishInput<'_>,
) -> Result<IssueOutcome, GitHubError> {
    match find_tracking_issue(github, &input.slug).await? {
        Some(issue) if issue.is_open() => Ok(IssueOutcome {
            number: issue.number,
            html_url: issue.html_url,
            change: IssueChange::Kept,
        }),
        Some(issue) => {
            let reopened = github.set_issue_state(issue.number, true).await?;
            Ok(IssueOutcome {
                number: reopened.number,
                html_url: reopened.html_url,
                change: IssueChange::Reopened,
            })
        }
        None => {
            let body = format!(
                "{}\nipsync reports here on the IP access list `{}`: the comment below shows the \
                 latest plan or apply. This issue is open while the list and the service tags differ.\n",
                comment::marker(&input.slug),
                input.plan.target.label
            );
            let created = github
                .create_issue(&tracking_issue_title(&input.slug), &body, &[ISSUE_LABEL])
                .await?;
            Ok(IssueOutcome {
                number: created.number,
                html_url: created.html_url,
                change: IssueChange::Created,
            })
        }
    }
}

async fn find_sticky(
    github: &GitHub,
    number: u64,
    slug: &str,
) -> Result<Option<Comment>, GitHubError> {
    let marker = comment::marker(slug);
    let comments = github.issue_comments(number).await?;
    Ok(comments.into_iter().find(|comment| {
        comment
            .body
            .as_deref()
            .is_some_and(|body| body.contains(&marker))
    }))
}

/// Edits the target's comment in place, or posts it when there is none yet.
pub(super) async fn upsert_comment(
    github: &GitHub,
    number: u64,
    slug: &str,
    body: &str,
    permission: &'static str,
) -> Result<CommentOutcome, GitHubError> {
    let (posted, change) = match find_sticky(github, number, slug).await? {
        Some(existing) if existing.body.as_deref() == Some(body) => (existing, Change::Unchanged),
        Some(existing) => (
            github.update_comment(existing.id, body, permission).await?,
            Change::Updated,
        ),
        None => (
            github.create_comment(number, body, permission).await?,
            Change::Created,
        ),
    };
    Ok(CommentOutcome {
        id: posted.id,
        html_url: posted.html_url,
        change,
    })
}

pub(super) fn repository_url(context: &RunContext) -> String {
    format!("{}/{}", context.server_url, context.repository)
}
