//! A thin client for the GitHub REST API calls of the review flow, on top of octocrab.
//!
//! API reference: <https://docs.github.com/en/rest>. Requests go through octocrab's raw
//! `_get`/`_post`/`_patch`, so that this module reads every status and header: it maps a 403
//! "Resource not accessible by integration" to the workflow permission that is missing, and it
//! waits out primary and secondary rate limits itself (octocrab's own retries are off).
//! Wire types stay private; callers get the small domain types below.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use octocrab::Octocrab;
use octocrab::service::middleware::retry::RetryConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::context::{Repository, RunContext};

/// The label that marks ipsync's tracking issues.
pub const ISSUE_LABEL: &str = "ipsync";

/// Workflow permissions, spelled as in a workflow's `permissions:` block.
pub const ISSUES_WRITE: &str = "issues: write";
pub const PULL_REQUESTS_WRITE: &str = "pull-requests: write";
pub const CONTENTS_WRITE: &str = "contents: write";

/// Limits for one request, so a GitHub that stops responding fails the step instead of
/// hanging the job until the workflow's own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Items per page for list calls; 100 is GitHub's maximum.
const PER_PAGE: usize = 100;
/// Pages read at most from one list, so a huge repository cannot keep ipsync paging forever.
const MAX_PAGES: usize = 50;

/// A failed GitHub API call.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error(
        "GitHub rejected `{method} {path}` because the workflow token lacks a permission: \
         add `{permission}` under `permissions:` in the workflow"
    )]
    MissingPermission {
        permission: &'static str,
        method: &'static str,
        path: String,
    },
    #[error(
        "GitHub rejected `{method} {path}` because the repository does not allow GitHub Actions \
         to create pull requests: enable \"Allow GitHub Actions to create and approve pull requests\" \
         under Settings > Actions > General > Workflow permissions"
    )]
    PullRequestsNotAllowed { method: &'static str, path: String },
    #[error("GitHub returned {status} for `{method} {path}`: {message}{}", documentation_hint(.documentation_url))]
    Api {
        status: u16,
        message: String,
        documentation_url: Option<String>,
        method: &'static str,
        path: String,
    },
    #[error(
        "GitHub rate limit on `{method} {path}`: the limit resets in {wait_seconds} s, \
         longer than the {max_wait_seconds} s ipsync waits; run again later"
    )]
    RateLimited {
        method: &'static str,
        path: String,
        wait_seconds: u64,
        max_wait_seconds: u64,
    },
    #[error("failed to send `{method} {path}` to GitHub at `{api_url}`: {reason}")]
    Transport {
        method: &'static str,
        path: String,
        api_url: String,
        reason: String,
    },
    #[error("invalid response from GitHub to `{method} {path}`: {reason}")]
    InvalidResponse {
        method: &'static str,
        path: String,
        reason: String,
    },
}

fn documentation_hint(documentation_url: &Option<String>) -> String {
    documentation_url
        .as_ref()
        .map(|url| format!(" (see {url})"))
        .unwrap_or_default()
}

impl GitHubError {
    /// Returns the HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Api { status, .. } => Some(*status),
            GitHubError::MissingPermission { .. } | GitHubError::PullRequestsNotAllowed { .. } => {
                Some(403)
            }
            _ => None,
        }
    }

    /// Returns the permission to add to the workflow, when that is what went wrong.
    pub fn missing_permission(&self) -> Option<&'static str> {
        match self {
            GitHubError::MissingPermission { permission, .. } => Some(permission),
            _ => None,
        }
    }

    /// Tells whether the error comes from the workflow's permissions or the repository's
    /// settings, which the review flow reports as a warning instead of failing.
    pub fn is_permission_problem(&self) -> bool {
        matches!(
            self,
            GitHubError::MissingPermission { .. } | GitHubError::PullRequestsNotAllowed { .. }
        )
    }

    fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// A future that completes after a wait; boxed so tests can swap in one that only records.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The rules for waiting out rate limits.
#[derive(Clone)]
pub struct RateLimitPolicy {
    /// The maximum single wait; a limit that resets later fails with [`GitHubError::RateLimited`].
    pub max_wait: Duration,
    /// Waits per request before the rate limit error is returned.
    pub max_retries: u32,
    /// The wait used for a secondary rate limit that sends no `retry-after`, as GitHub advises.
    pub default_wait: Duration,
    /// The wait before retrying a GET or PATCH after a 5xx, multiplied by the attempt number.
    /// A POST is never retried, because it may have created the object before failing.
    pub server_error_wait: Duration,
    /// Current Unix time in seconds, compared with `x-ratelimit-reset`.
    pub now: Arc<dyn Fn() -> u64 + Send + Sync>,
    pub sleep: Arc<dyn Fn(Duration) -> SleepFuture + Send + Sync>,
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        Self {
            max_wait: Duration::from_secs(15 * 60),
            max_retries: 3,
            default_wait: Duration::from_secs(60),
            server_error_wait: Duration::from_secs(2),
            now: Arc::new(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|elapsed| elapsed.as_secs())
                    .unwrap_or(0)
            }),
            sleep: Arc::new(|duration| Box::pin(tokio::time::sleep(duration))),
        }
    }
}

impl std::fmt::Debug for RateLimitPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitPolicy")
            .field("max_wait", &self.max_wait)
            .field("max_retries", &self.max_retries)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// An issue or pull request, as far as the review flow reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    pub html_url: String,
    #[serde(default)]
    labels: Vec<Label>,
    /// Set when the "issue" is a pull request; the issues API lists both.
    #[serde(default)]
    pull_request: Option<Value>,
}

impl Issue {
    pub fn is_open(&self) -> bool {
        self.state == "open"
    }

    pub fn has_label(&self, name: &str) -> bool {
        self.labels.iter().any(|label| label.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct Label {
    name: String,
}

/// A comment on an issue or pull request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub body: Option<String>,
    pub html_url: String,
}

/// A pull request, as far as the review flow reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequest {
    pub number: u64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    pub state: String,
    pub html_url: String,
}

#[derive(Debug, Deserialize)]
struct RepositoryWire {
    default_branch: String,
}

#[derive(Debug, Deserialize)]
struct BranchWire {
    protected: bool,
}

#[derive(Debug, Deserialize)]
struct RefWire {
    object: ObjectWire,
}

#[derive(Debug, Deserialize)]
struct ObjectWire {
    sha: String,
}

#[derive(Debug, Deserialize)]
struct CommitWire {
    sha: String,
    tree: ObjectWire,
    #[serde(default)]
    parents: Vec<ObjectWire>,
}

/// A commit of the Git data API: its tree and parents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommit {
    pub sha: String,
    pub tree: String,
    pub parents: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct CompareWire {
    behind_by: u64,
}

#[derive(Debug, Deserialize)]
struct ContentsWire {
    #[serde(default)]
    content: String,
    #[serde(default)]
    encoding: String,
}

#[derive(Debug, Serialize)]
struct TreeEntry<'a> {
    path: &'a str,
    mode: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    sha: &'a str,
}

/// A client for one repository.
#[derive(Debug, Clone)]
pub struct GitHub {
    octocrab: Octocrab,
    repository: Repository,
    api_url: String,
    policy: RateLimitPolicy,
}

impl GitHub {
    /// Builds a client for the run's repository, at the run's API URL, with the run's token.
    pub fn new(context: &RunContext) -> Result<Self, GitHubError> {
        let api_url = context.api_url.as_str().to_owned();
        let invalid = |reason: String| GitHubError::Transport {
            method: "GET",
            path: "/".to_owned(),
            api_url: api_url.clone(),
            reason,
        };
        let octocrab = Octocrab::builder()
            .base_uri(api_url.as_str())
            .map_err(|error| invalid(format!("invalid API URL: {error}")))?
            .personal_token(context.token.expose().to_owned())
            .add_retry_config(RetryConfig::None)
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(READ_TIMEOUT))
            .set_write_timeout(Some(READ_TIMEOUT))
            .build()
            .map_err(|error| invalid(error.to_string()))?;

        Ok(Self {
            octocrab,
            repository: context.repository.clone(),
            api_url,
            policy: RateLimitPolicy::default(),
        })
    }

    /// Replaces how rate limits are waited out.
    pub fn with_rate_limit_policy(mut self, policy: RateLimitPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// Returns `/repos/{owner}/{repo}` followed by `rest`.
    fn repo_path(&self, rest: &str) -> String {
        format!(
            "/repos/{}/{}{rest}",
            self.repository.owner, self.repository.name
        )
    }

    /// Sends one request, waiting out rate limits, and returns the body of a 2xx response.
    ///
    /// `permission` is the workflow permission the call needs beyond reading, used to explain
    /// a 403 "Resource not accessible by integration".
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        permission: Option<&'static str>,
    ) -> Result<String, GitHubError> {
        let mut waits = 0;
        loop {
            let sent = match method {
                Method::Get => self.octocrab._get(path).await,
                Method::Post => self.octocrab._post(path, body).await,
                Method::Patch => self.octocrab._patch(path, body).await,
            };
            let response = sent.map_err(|error| GitHubError::Transport {
                method: method.as_str(),
                path: path.to_owned(),
                api_url: self.api_url.clone(),
                reason: error.to_string(),
            })?;
            let status = response.status().as_u16();
            let header = |name: &str| -> Option<u64> {
                response.headers().get(name)?.to_str().ok()?.parse().ok()
            };
            let limit = RateLimitHeaders {
                retry_after: header("retry-after"),
                remaining: header("x-ratelimit-remaining"),
                reset: header("x-ratelimit-reset"),
            };
            let wait = rate_limit_wait(status, limit, &self.policy);
            let text = self
                .octocrab
                .body_to_string(response)
                .await
                .map_err(|error| GitHubError::Transport {
                    method: method.as_str(),
                    path: path.to_owned(),
                    api_url: self.api_url.clone(),
                    reason: error.to_string(),
                })?;
            if (200..300).contains(&status) {
                return Ok(text);
            }

            let idempotent = method != Method::Post;
            if status >= 500 && idempotent && waits < self.policy.max_retries {
                let wait = self.policy.server_error_wait * (waits + 1);
                tracing::warn!(
                    method = method.as_str(),
                    path,
                    status,
                    wait_seconds = wait.as_secs(),
                    "GitHub server error; waiting before retrying"
                );
                (self.policy.sleep)(wait).await;
                waits += 1;
                continue;
            }

            if let Some(wait) = wait {
                if wait > self.policy.max_wait || waits >= self.policy.max_retries {
                    return Err(GitHubError::RateLimited {
                        method: method.as_str(),
                        path: path.to_owned(),
                        wait_seconds: wait.as_secs(),
                        max_wait_seconds: self.policy.max_wait.as_secs(),
                    });
                }
                tracing::warn!(
                    method = method.as_str(),
                    path,
                    status,
                    wait_seconds = wait.as_secs(),
                    "GitHub rate limit reached; waiting before retrying"
                );
                (self.policy.sleep)(wait).await;
                waits += 1;
                continue;
            }

            return Err(api_error(method, path, status, &text, permission));
        }
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        permission: Option<&'static str>,
    ) -> Result<T, GitHubError> {
        let text = self.send(method, path, body, permission).await?;
        serde_json::from_str(&text).map_err(|error| GitHubError::InvalidResponse {
            method: method.as_str(),
            path: path.to_owned(),
            reason: error.to_string(),
        })
    }

    /// Reads every page of a list endpoint; `path` must not carry `per_page` or `page`.
    async fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, GitHubError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        for page in 1..=MAX_PAGES {
            let page_path = format!("{path}{separator}per_page={PER_PAGE}&page={page}");
            let batch: Vec<T> = self.send_json(Method::Get, &page_path, None, None).await?;
            let last = batch.len() < PER_PAGE;
            items.extend(batch);
            if last {
                break;
            }
        }
        Ok(items)
    }

    /// Returns the repository's default branch.
    pub async fn default_branch(&self) -> Result<String, GitHubError> {
        let repository: RepositoryWire = self
            .send_json(Method::Get, &self.repo_path(""), None, None)
            .await?;
        Ok(repository.default_branch)
    }

    /// Tells whether a branch is protected, from `GET /repos/{o}/{r}/branches/{branch}`.
    ///
    /// The branch's `protected` field is readable with `contents: read`. The protection
    /// endpoint (`…/branches/{branch}/protection`) is not used, because it needs the
    /// Administration permission, which a workflow's `GITHUB_TOKEN` can never have, so it would
    /// return 403 for every protected branch.
    pub async fn branch_protected(&self, branch: &str) -> Result<bool, GitHubError> {
        let path = self.repo_path(&format!("/branches/{}", encode_path(branch)));
        let branch: BranchWire = self.send_json(Method::Get, &path, None, None).await?;
        Ok(branch.protected)
    }

    /// Lists issues (open and closed) with a label, leaving out pull requests.
    pub async fn issues_with_label(&self, label: &str) -> Result<Vec<Issue>, GitHubError> {
        let path = self.repo_path(&format!("/issues?state=all&labels={}", encode_query(label)));
        let issues: Vec<Issue> = self.get_all(&path).await?;
        Ok(issues
            .into_iter()
            .filter(|issue| issue.pull_request.is_none())
            .collect())
    }

    pub async fn create_issue(
        &self,
        title: &str,
        body: &str,
        labels: &[&str],
    ) -> Result<Issue, GitHubError> {
        let request = json!({ "title": title, "body": body, "labels": labels });
        self.send_json(
            Method::Post,
            &self.repo_path("/issues"),
            Some(&request),
            Some(ISSUES_WRITE),
        )
        .await
    }

    /// Opens or closes an issue; closing records `completed` as the reason.
    pub async fn set_issue_state(&self, number: u64, open: bool) -> Result<Issue, GitHubError> {
        let request = if open {
            json!({ "state": "open" })
        } else {
            json!({ "state": "closed", "state_reason": "completed" })
        };
        self.send_json(
            Method::Patch,
            &self.repo_path(&format!("/issues/{number}")),
            Some(&request),
            Some(ISSUES_WRITE),
        )
        .await
    }

    /// Lists every comment of an issue or pull request, oldest first.
    pub async fn issue_comments(&self, number: u64) -> Result<Vec<Comment>, GitHubError> {
        self.get_all(&self.repo_path(&format!("/issues/{number}/comments")))
            .await
    }

    /// Posts a comment; `permission` is `issues: write` on an issue, `pull-requests: write` on a pull request.
    pub async fn create_comment(
        &self,
        number: u64,
        body: &str,
        permission: &'static str,
    ) -> Result<Comment, GitHubError> {
        self.send_json(
            Method::Post,
            &self.repo_path(&format!("/issues/{number}/comments")),
            Some(&json!({ "body": body })),
            Some(permission),
        )
        .await
    }

    pub async fn update_comment(
        &self,
        comment_id: u64,
        body: &str,
        permission: &'static str,
    ) -> Result<Comment, GitHubError> {
        self.send_json(
            Method::Patch,
            &self.repo_path(&format!("/issues/comments/{comment_id}")),
            Some(&json!({ "body": body })),
            Some(permission),
        )
        .await
    }

    /// Returns the commit a branch points at, or `None` when the branch does not exist.
    pub async fn branch_head(&self, branch: &str) -> Result<Option<String>, GitHubError> {
        let path = self.repo_path(&format!("/git/ref/heads/{}", encode_path(branch)));
        match self
            .send_json::<RefWire>(Method::Get, &path, None, None)
            .await
        {
            Ok(reference) => Ok(Some(reference.object.sha)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    pub async fn create_branch(&self, branch: &str, sha: &str) -> Result<(), GitHubError> {
        let request = json!({ "ref": format!("refs/heads/{branch}"), "sha": sha });
        self.send(
            Method::Post,
            &self.repo_path("/git/refs"),
            Some(&request),
            Some(CONTENTS_WRITE),
        )
        .await?;
        Ok(())
    }

    /// Points a branch at `sha`; `force` allows a move that is not a fast-forward.
    pub async fn update_branch(
        &self,
        branch: &str,
        sha: &str,
        force: bool,
    ) -> Result<(), GitHubError> {
        let path = self.repo_path(&format!("/git/refs/heads/{}", encode_path(branch)));
        self.send(
            Method::Patch,
            &path,
            Some(&json!({ "sha": sha, "force": force })),
            Some(CONTENTS_WRITE),
        )
        .await?;
        Ok(())
    }

    /// Returns a commit's tree and parents.
    pub async fn commit(&self, commit_sha: &str) -> Result<GitCommit, GitHubError> {
        let path = self.repo_path(&format!("/git/commits/{commit_sha}"));
        let commit: CommitWire = self.send_json(Method::Get, &path, None, None).await?;
        Ok(GitCommit {
            sha: commit.sha,
            tree: commit.tree.sha,
            parents: commit
                .parents
                .into_iter()
                .map(|parent| parent.sha)
                .collect(),
        })
    }

    /// Tells whether commit `ancestor` is `head` or one of its ancestors, from the compare API.
    pub async fn contains_commit(&self, head: &str, ancestor: &str) -> Result<bool, GitHubError> {
        let path = self.repo_path(&format!("/compare/{ancestor}...{head}"));
        let compare: CompareWire = self.send_json(Method::Get, &path, None, None).await?;
        Ok(compare.behind_by == 0)
    }

    /// Stores a file's bytes as a blob and returns its sha.
    pub async fn create_blob(&self, content: &[u8]) -> Result<String, GitHubError> {
        let request = json!({
            "content": base64::engine::general_purpose::STANDARD.encode(content),
            "encoding": "base64",
        });
        let blob: ObjectWire = self
            .send_json(
                Method::Post,
                &self.repo_path("/git/blobs"),
                Some(&request),
                Some(CONTENTS_WRITE),
            )
            .await?;
        Ok(blob.sha)
    }

    /// Creates a tree that is `base_tree` with the given `(path, blob sha)` files added or replaced.
    pub async fn create_tree(
        &self,
        base_tree: &str,
        files: &[(String, String)],
    ) -> Result<String, GitHubError> {
        let entries: Vec<TreeEntry<'_>> = files
            .iter()
            .map(|(path, sha)| TreeEntry {
                path,
                mode: "100644",
                kind: "blob",
                sha,
            })
            .collect();
        let request = json!({ "base_tree": base_tree, "tree": entries });
        let tree: ObjectWire = self
            .send_json(
                Method::Post,
                &self.repo_path("/git/trees"),
                Some(&request),
                Some(CONTENTS_WRITE),
            )
            .await?;
        Ok(tree.sha)
    }

    pub async fn create_commit(
        &self,
        message: &str,
        tree: &str,
        parents: &[&str],
    ) -> Result<String, GitHubError> {
        let request = json!({ "message": message, "tree": tree, "parents": parents });
        let commit: CommitWire = self
            .send_json(
                Method::Post,
                &self.repo_path("/git/commits"),
                Some(&request),
                Some(CONTENTS_WRITE),
            )
            .await?;
        Ok(commit.sha)
    }

    /// Reads a file at a branch, tag or commit; `None` when it does not exist there.
    ///
    /// NOTE: the contents API inlines files up to 1 MB only. Larger files come back empty
    /// with encoding `none`, and this returns an invalid response error for them.
    pub async fn file_contents(
        &self,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>, GitHubError> {
        let request_path = self.repo_path(&format!(
            "/contents/{}?ref={}",
            encode_path(path),
            encode_query(git_ref)
        ));
        let contents: ContentsWire =
            match self.send_json(Method::Get, &request_path, None, None).await {
                Ok(contents) => contents,
                Err(error) if error.is_not_found() => return Ok(None),
                Err(error) => return Err(error),
            };

        if contents.encoding != "base64" {
            return Err(GitHubError::InvalidResponse {
                method: "GET",
                path: request_path,
                reason: format!(
                    "expected base64 content, got encoding `{}` (files over 1 MB are not inlined)",
                    contents.encoding
                ),
            });
        }
        let compact: String = contents
            .content
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map(Some)
            .map_err(|error| GitHubError::InvalidResponse {
                method: "GET",
                path: request_path,
                reason: format!("invalid base64 content: {error}"),
            })
    }

    /// Lists the open pull requests whose head is `branch` in this repository.
    pub async fn open_pull_requests(&self, branch: &str) -> Result<Vec<PullRequest>, GitHubError> {
        let head = format!("{}:{branch}", self.repository.owner);
        let path = self.repo_path(&format!("/pulls?state=open&head={}", encode_query(&head)));
        self.get_all(&path).await
    }

    pub async fn create_pull_request(
        &self,
        title: &str,
        head: &str,
        base: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        let request = json!({ "title": title, "head": head, "base": base, "body": body });
        self.send_json(
            Method::Post,
            &self.repo_path("/pulls"),
            Some(&request),
            Some(PULL_REQUESTS_WRITE),
        )
        .await
    }

    pub async fn close_pull_request(&self, number: u64) -> Result<PullRequest, GitHubError> {
        self.send_json(
            Method::Patch,
            &self.repo_path(&format!("/pulls/{number}")),
            Some(&json!({ "state": "closed" })),
            Some(PULL_REQUESTS_WRITE),
        )
        .await
    }

    pub async fn update_pull_request(
        &self,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, GitHubError> {
        self.send_json(
            Method::Patch,
            &self.repo_path(&format!("/pulls/{number}")),
            Some(&json!({ "title": title, "body": body })),
            Some(PULL_REQUESTS_WRITE),
        )
        .await
    }
}

/// The rate limit headers of a response, as numbers.
#[derive(Debug, Clone, Copy, Default)]
struct RateLimitHeaders {
    retry_after: Option<u64>,
    remaining: Option<u64>,
    reset: Option<u64>,
}

/// Returns how long to wait before retrying, when the response is a rate limit.
///
/// A primary limit sends `x-ratelimit-remaining: 0` and the reset time in Unix seconds; a
/// secondary limit sends 403 or 429 with `retry-after`, or 429 alone. A 403 with neither is
/// a real refusal and is not retried.
fn rate_limit_wait(
    status: u16,
    headers: RateLimitHeaders,
    policy: &RateLimitPolicy,
) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    if let Some(seconds) = headers.retry_after {
        return Some(Duration::from_secs(seconds));
    }
    if let (Some(0), Some(reset)) = (headers.remaining, headers.reset) {
        let now = (policy.now)();
        return Some(Duration::from_secs(reset.saturating_sub(now) + 1));
    }
    if status == 429 {
        return Some(policy.default_wait);
    }
    None
}

/// The error body GitHub sends with a 4xx or 5xx status.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    documentation_url: Option<String>,
}

fn api_error(
    method: Method,
    path: &str,
    status: u16,
    text: &str,
    permission: Option<&'static str>,
) -> GitHubError {
    let parsed: Option<ErrorBody> = serde_json::from_str(text).ok();
    let message = parsed
        .as_ref()
        .and_then(|body| body.message.clone())
        .unwrap_or_else(|| text.chars().take(200).collect());
    let documentation_url = parsed.and_then(|body| body.documentation_url);

    if status == 403 && message.contains("Resource not accessible by integration") {
        if let Some(permission) = permission {
            return GitHubError::MissingPermission {
                permission,
                method: method.as_str(),
                path: path.to_owned(),
            };
        }
    }
    if status == 403 && message.contains("not permitted to create or approve pull requests") {
        return GitHubError::PullRequestsNotAllowed {
            method: method.as_str(),
            path: path.to_owned(),
        };
    }
    GitHubError::Api {
        status,
        message,
        documentation_url,
        method: method.as_str(),
        path: path.to_owned(),
    }
}

/// Percent-encodes each segment of a repository path or branch name, keeping the slashes.
fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|segment| url::form_urlencoded::byte_serialize(segment.as_bytes()).collect::<String>())
        .map(|segment| segment.replace('+', "%20"))
        .collect::<Vec<_>>()
        .join("/")
}

fn encode_query(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_path_keeps_slashes() {
        assert_eq!(encode_path("ipsync/prod ws"), "ipsync/prod%20ws");
        assert_eq!(encode_path("ipsync/a+b.json"), "ipsync/a%2Bb.json");
    }

    #[test]
    fn api_error_names_permission() {
        let body = r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment","status":"403"}"#;

        let error = api_error(
            Method::Post,
            "/repos/o/r/issues/1/comments",
            403,
            body,
            Some(ISSUES_WRITE),
        );

        assert_eq!(error.missing_permission(), Some("issues: write"));
        assert_eq!(
            error.to_string(),
            "GitHub rejected `POST /repos/o/r/issues/1/comments` because the workflow token lacks a permission: \
             add `issues: write` under `permissions:` in the workflow"
        );
    }

    #[test]
    fn rate_limit_wait_reads_headers() {
        let policy = RateLimitPolicy {
            now: Arc::new(|| 1_700_000_000),
            ..RateLimitPolicy::default()
        };
        let primary = RateLimitHeaders {
            remaining: Some(0),
            reset: Some(1_700_000_030),
            ..RateLimitHeaders::default()
        };
        let secondary = RateLimitHeaders {
            retry_after: Some(5),
            ..RateLimitHeaders::default()
        };

        assert_eq!(
            rate_limit_wait(403, primary, &policy),
            Some(Duration::from_secs(31))
        );
        assert_eq!(
            rate_limit_wait(403, secondary, &policy),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            rate_limit_wait(429, RateLimitHeaders::default(), &policy),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            rate_limit_wait(403, RateLimitHeaders::default(), &policy),
            None
        );
        assert_eq!(rate_limit_wait(500, secondary, &policy), None);
    }

    #[test]
    fn api_error_keeps_documentation_url() {
        let body = r#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}"#;

        let error = api_error(Method::Get, "/repos/o/r", 404, body, None);

        assert_eq!(
            error.to_string(),
            "GitHub returned 404 for `GET /repos/o/r`: Not Found (see https://docs.github.com/rest)"
        );
    }
}
