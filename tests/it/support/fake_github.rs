//! A stateful fake of the GitHub REST API endpoints that ipsync's review flow calls.
//!
//! It listens on 127.0.0.1 with a random port, responds with bodies built from GitHub's real
//! response shapes (the JSON files in the `github` fixtures folder), keeps issues, comments,
//! pull requests, refs, blobs, trees and commits in memory so a second run finds what the
//! first made, and records every request for the test to inspect.
//!
//! Fixtures folder: `$IPSYNC_FIXTURES_DIR/github` when that variable is set (it names the
//! fixtures root, as for the service-tags files), else `<crate>/../shared/fixtures/github`.
//! When the folder is missing, [`FakeGitHub::start`] prints that the test skips and returns
//! `None`, except with `CI=true`, where it panics.
//!
//! The repository is `example-org/infra` with default branch `main`, which starts with one
//! commit holding `README.md` and is unprotected.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use ipsync::env::Env;

pub const OWNER: &str = "example-org";
pub const REPO: &str = "infra";
pub const DEFAULT_BRANCH: &str = "main";
pub const TOKEN: &str = "ghs_fake_token";

const NOT_ACCESSIBLE: &str = "Resource not accessible by integration";

/// One request as it reached the fake.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent (still percent-encoded).
    pub path: String,
    /// The JSON body, or `Value::Null` when there was none.
    pub body: Value,
    /// The `Authorization` header, when sent.
    pub authorization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIssue {
    pub number: u64,
    pub title: String,
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeComment {
    pub id: u64,
    /// The issue or pull request the comment is on.
    pub issue_number: u64,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakePull {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
}

#[derive(Debug, Clone)]
pub struct FakeCommit {
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
}

/// The response shapes read from the fixtures.
struct Templates {
    issue: Value,
    comment: Value,
    pull: Value,
    repository: Value,
}

struct FakeState {
    base_url: String,
    templates: Templates,
    protected: bool,
    comments_forbidden: bool,
    contents_forbidden: bool,
    pulls_forbidden: bool,
    secondary_limits: u32,
    server_errors: u32,
    primary_limit_reset: Option<u64>,
    next_number: u64,
    next_comment_id: u64,
    issues: Vec<FakeIssue>,
    comments: Vec<FakeComment>,
    pulls: Vec<FakePull>,
    refs: BTreeMap<String, String>,
    blobs: HashMap<String, Vec<u8>>,
    trees: HashMap<String, BTreeMap<String, String>>,
    commits: HashMap<String, FakeCommit>,
    commit_count: u64,
    requests: Vec<Recorded>,
}

type Shared = Arc<Mutex<FakeState>>;

/// A running fake; the server stops when the test's runtime ends.
#[derive(Clone)]
pub struct FakeGitHub {
    url: String,
    state: Shared,
}

/// Returns the GitHub fixtures folder, or `None` (after saying so) when it is missing outside CI.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("IPSYNC_FIXTURES_DIR") {
        Some(root) => PathBuf::from(root).join("github"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/github"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("GitHub fixtures folder `{}` is missing", dir.display());
    }
    eprintln!(
        "skipping: GitHub fixtures folder `{}` is missing",
        dir.display()
    );
    None
}

fn read_template(dir: &std::path::Path, name: &str) -> Value {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("failed to read `{}`: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("invalid JSON in `{}`: {error}", path.display()))
}

fn object_sha(kind: &str, content: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(kind.as_bytes());
    hasher.update([0]);
    hasher.update(content);
    hex::encode(hasher.finalize())[..40].to_owned()
}

impl FakeGitHub {
    /// Starts the fake on 127.0.0.1 with a random port; `None` when the fixtures are missing.
    pub async fn start() -> Option<Self> {
        let dir = fixtures_dir()?;
        let templates = Templates {
            issue: read_template(&dir, "issue.json"),
            comment: read_template(&dir, "issue_comment.json"),
            pull: read_template(&dir, "pull_request.json"),
            repository: read_template(&dir, "repository.json"),
        };

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut state = FakeState {
            base_url: url.clone(),
            templates,
            protected: false,
            comments_forbidden: false,
            contents_forbidden: false,
            pulls_forbidden: false,
            secondary_limits: 0,
            server_errors: 0,
            primary_limit_reset: None,
            next_number: 1,
            next_comment_id: 1_000_001,
            issues: Vec::new(),
            comments: Vec::new(),
            pulls: Vec::new(),
            refs: BTreeMap::new(),
            blobs: HashMap::new(),
            trees: HashMap::new(),
            commits: HashMap::new(),
            commit_count: 0,
            requests: Vec::new(),
        };
        let readme = state.store_blob(b"# infra\n".to_vec());
        let tree = state.store_tree(BTreeMap::from([("README.md".to_owned(), readme)]));
        let commit = state.store_commit(tree, Vec::new(), "Initial commit".to_owned());
        state.refs.insert(DEFAULT_BRANCH.to_owned(), commit);

        let shared: Shared = Arc::new(Mutex::new(state));
        let app = Router::new().fallback(handle).with_state(shared.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Some(Self { url, state: shared })
    }

    /// Base URL, to use as both `GITHUB_API_URL` and `GITHUB_SERVER_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Returns the variables a runner would set for a run of `event_name` on `git_ref` at commit `sha`,
    /// pointing at this fake. A `pull_request` run needs `GITHUB_EVENT_PATH` set by the caller.
    pub fn env(&self, event_name: &str, git_ref: &str, sha: &str) -> Env {
        let ref_name = git_ref
            .strip_prefix("refs/heads/")
            .or_else(|| git_ref.strip_prefix("refs/pull/"))
            .unwrap_or(git_ref);
        Env::from_pairs([
            ("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}")),
            ("GITHUB_EVENT_NAME", event_name.to_owned()),
            ("GITHUB_REF", git_ref.to_owned()),
            ("GITHUB_REF_NAME", ref_name.to_owned()),
            ("GITHUB_SHA", sha.to_owned()),
            ("GITHUB_API_URL", self.url.clone()),
            ("GITHUB_SERVER_URL", self.url.clone()),
            ("GITHUB_RUN_ID", "4242".to_owned()),
            ("GITHUB_TOKEN", TOKEN.to_owned()),
        ])
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap()
    }

    /// Turns protection of the default branch on or off; a protected branch rejects ref updates.
    pub fn set_protected(&self, protected: bool) {
        self.lock().protected = protected;
    }

    /// Rejects comment writes with 403 "Resource not accessible by integration", as GitHub
    /// does for a token without `issues: write`.
    pub fn set_comments_forbidden(&self, forbidden: bool) {
        self.lock().comments_forbidden = forbidden;
    }

    /// Rejects Git data writes (blobs, trees, commits, refs) with 403 "Resource not accessible
    /// by integration", as GitHub does for a token without `contents: write`.
    pub fn set_contents_forbidden(&self, forbidden: bool) {
        self.lock().contents_forbidden = forbidden;
    }

    /// Rejects pull request writes with 403 "GitHub Actions is not permitted to create or
    /// approve pull requests.", as GitHub does when the repository setting forbids it.
    pub fn set_pulls_forbidden(&self, forbidden: bool) {
        self.lock().pulls_forbidden = forbidden;
    }

    /// Responds to the next request with a primary rate limit that resets at Unix time `reset`
    /// (403, `x-ratelimit-remaining: 0`).
    pub fn primary_rate_limit_once(&self, reset: u64) {
        self.lock().primary_limit_reset = Some(reset);
    }

    /// Responds to the next request with 502 Bad Gateway, as GitHub's front end sometimes does.
    pub fn server_error_once(&self) {
        self.lock().server_errors = 1;
    }

    /// Responds to the next request with a secondary rate limit (403 and `retry-after: 7`).
    pub fn rate_limit_once(&self) {
        self.lock().secondary_limits = 1;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Requests that changed something (every method but GET).
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|request| request.method != "GET")
            .collect()
    }

    pub fn issues(&self) -> Vec<FakeIssue> {
        self.lock().issues.clone()
    }

    pub fn comments(&self) -> Vec<FakeComment> {
        self.lock().comments.clone()
    }

    pub fn pulls(&self) -> Vec<FakePull> {
        self.lock().pulls.clone()
    }

    pub fn branch_head(&self, branch: &str) -> Option<String> {
        self.lock().refs.get(branch).cloned()
    }

    pub fn commit(&self, sha: &str) -> Option<FakeCommit> {
        self.lock().commits.get(sha).cloned()
    }

    /// Files of a branch's head commit, by path.
    pub fn branch_files(&self, branch: &str) -> BTreeMap<String, Vec<u8>> {
        let state = self.lock();
        let Some(head) = state.refs.get(branch) else {
            return BTreeMap::new();
        };
        state.files_of(head)
    }

    /// Commits `files` on top of `branch` (as a person pushing would) and returns the commit.
    pub fn push_files(&self, branch: &str, files: &[(&str, &[u8])]) -> String {
        let mut state = self.lock();
        let head = state.refs[branch].clone();
        let mut entries = state.trees[&state.commits[&head].tree].clone();
        for (path, content) in files {
            let blob = state.store_blob(content.to_vec());
            entries.insert((*path).to_owned(), blob);
        }
        let tree = state.store_tree(entries);
        let commit = state.store_commit(tree, vec![head], format!("Update {branch}"));
        state.refs.insert(branch.to_owned(), commit.clone());
        commit
    }

    /// Merges an open pull request: the default branch gets the pull request branch's files in
    /// a merge commit, and the pull request is closed as merged. Returns the merge commit.
    pub fn merge(&self, number: u64) -> String {
        let mut state = self.lock();
        let pull = state
            .pulls
            .iter()
            .find(|pull| pull.number == number && pull.state == "open")
            .unwrap_or_else(|| panic!("no open pull request #{number}"))
            .clone();
        let base_head = state.refs[&pull.base].clone();
        let pull_head = state.refs[&pull.head].clone();
        let mut entries = state.trees[&state.commits[&base_head].tree].clone();
        entries.extend(state.trees[&state.commits[&pull_head].tree].clone());
        let tree = state.store_tree(entries);
        let commit = state.store_commit(
            tree,
            vec![base_head, pull_head],
            format!("Merge pull request #{number}"),
        );
        state.refs.insert(pull.base.clone(), commit.clone());
        for stored in state
            .pulls
            .iter_mut()
            .filter(|stored| stored.number == number)
        {
            stored.state = "closed".to_owned();
            stored.merged = true;
        }
        commit
    }
}

impl FakeState {
    fn store_blob(&mut self, content: Vec<u8>) -> String {
        let sha = object_sha("blob", &content);
        self.blobs.insert(sha.clone(), content);
        sha
    }

    fn store_tree(&mut self, entries: BTreeMap<String, String>) -> String {
        let listing: String = entries
            .iter()
            .map(|(path, sha)| format!("{path} {sha}\n"))
            .collect();
        let sha = object_sha("tree", listing.as_bytes());
        self.trees.insert(sha.clone(), entries);
        sha
    }

    fn store_commit(&mut self, tree: String, parents: Vec<String>, message: String) -> String {
        self.commit_count += 1;
        let text = format!(
            "{tree}\n{}\n{message}\n{}",
            parents.join(" "),
            self.commit_count
        );
        let sha = object_sha("commit", text.as_bytes());
        self.commits.insert(
            sha.clone(),
            FakeCommit {
                tree,
                parents,
                message,
            },
        );
        sha
    }

    fn files_of(&self, commit: &str) -> BTreeMap<String, Vec<u8>> {
        let tree = &self.trees[&self.commits[commit].tree];
        tree.iter()
            .map(|(path, sha)| (path.clone(), self.blobs[sha].clone()))
            .collect()
    }

    /// Resolves a branch name or commit sha to a commit.
    fn resolve(&self, git_ref: &str) -> Option<String> {
        if let Some(sha) = self.refs.get(git_ref) {
            return Some(sha.clone());
        }
        self.commits
            .contains_key(git_ref)
            .then(|| git_ref.to_owned())
    }

    fn api(&self, rest: &str) -> String {
        format!("{}/repos/{OWNER}/{REPO}{rest}", self.base_url)
    }

    fn web(&self, rest: &str) -> String {
        format!("{}/{OWNER}/{REPO}{rest}", self.base_url)
    }

    fn issue_json(&self, issue: &FakeIssue) -> Value {
        let mut value = self.templates.issue.clone();
        let number = issue.number;
        value["number"] = json!(number);
        value["id"] = json!(2_000_000_000 + number);
        value["title"] = json!(issue.title);
        value["body"] = json!(issue.body);
        value["state"] = json!(issue.state);
        value["state_reason"] = if issue.state == "closed" {
            json!("completed")
        } else {
            Value::Null
        };
        value["closed_at"] = if issue.state == "closed" {
            json!("2026-12-04T12:00:00Z")
        } else {
            Value::Null
        };
        value["url"] = json!(self.api(&format!("/issues/{number}")));
        value["html_url"] = json!(self.web(&format!("/issues/{number}")));
        value["comments_url"] = json!(self.api(&format!("/issues/{number}/comments")));
        value["comments"] = json!(
            self.comments
                .iter()
                .filter(|comment| comment.issue_number == number)
                .count()
        );
        value["labels"] = Value::Array(
            issue
                .labels
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    json!({
                        "id": 7_000_000 + index,
                        "node_id": "LA_kwDOexample",
                        "url": self.api(&format!("/labels/{name}")),
                        "name": name,
                        "color": "ededed",
                        "default": false,
                        "description": null,
                    })
                })
                .collect(),
        );
        value
    }

    fn comment_json(&self, comment: &FakeComment) -> Value {
        let mut value = self.templates.comment.clone();
        value["id"] = json!(comment.id);
        value["body"] = json!(comment.body);
        value["url"] = json!(self.api(&format!("/issues/comments/{}", comment.id)));
        value["html_url"] = json!(self.web(&format!(
            "/issues/{}#issuecomment-{}",
            comment.issue_number, comment.id
        )));
        value["issue_url"] = json!(self.api(&format!("/issues/{}", comment.issue_number)));
        value
    }

    fn pull_json(&self, pull: &FakePull) -> Value {
        let mut value = self.templates.pull.clone();
        let number = pull.number;
        value["number"] = json!(number);
        value["id"] = json!(3_000_000_000u64 + number);
        value["title"] = json!(pull.title);
        value["body"] = json!(pull.body);
        value["state"] = json!(pull.state);
        value["merged"] = json!(pull.merged);
        value["url"] = json!(self.api(&format!("/pulls/{number}")));
        value["html_url"] = json!(self.web(&format!("/pull/{number}")));
        value["issue_url"] = json!(self.api(&format!("/issues/{number}")));
        for (side, branch) in [("head", &pull.head), ("base", &pull.base)] {
            value[side]["ref"] = json!(branch);
            value[side]["label"] = json!(format!("{OWNER}:{branch}"));
            value[side]["sha"] = json!(self.refs.get(branch).cloned().unwrap_or_default());
        }
        value
    }

    fn issue_as_pull_json(&self, pull: &FakePull) -> Value {
        let issue = FakeIssue {
            number: pull.number,
            title: pull.title.clone(),
            body: pull.body.clone(),
            state: pull.state.clone(),
            labels: Vec::new(),
        };
        let mut value = self.issue_json(&issue);
        value["pull_request"] = json!({
            "url": self.api(&format!("/pulls/{}", pull.number)),
            "html_url": self.web(&format!("/pull/{}", pull.number)),
        });
        value
    }
}

fn github_error(status: StatusCode, message: &str, documentation_url: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": documentation_url,
        "status": status.as_u16().to_string(),
    });
    (status, axum::Json(body)).into_response()
}

fn not_found() -> Response {
    github_error(
        StatusCode::NOT_FOUND,
        "Not Found",
        "https://docs.github.com/rest",
    )
}

fn unprocessable(message: &str) -> Response {
    github_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        message,
        "https://docs.github.com/rest",
    )
}

fn ok(value: Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

fn created(value: Value) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&segment[index + 1..index + 3], 16) {
                decoded.push(byte);
                index += 3;
                continue;
            }
        }
        decoded.push(bytes[index]);
        index += 1;
    }
    String::from_utf8(decoded).unwrap()
}

fn page<T: Clone>(items: &[T], query: &HashMap<String, String>) -> Vec<T> {
    let per_page: usize = query
        .get("per_page")
        .and_then(|value| value.parse().ok())
        .unwrap_or(30);
    let page: usize = query
        .get("page")
        .and_then(|value| value.parse().ok())
        .unwrap_or(1);
    items
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect()
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    let mut state = shared.lock().unwrap();
    state.requests.push(Recorded {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default(),
        body: body.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
    });

    if state.server_errors > 0 {
        state.server_errors -= 1;
        return (StatusCode::BAD_GATEWAY, "Server Error").into_response();
    }

    if let Some(reset) = state.primary_limit_reset.take() {
        let body = json!({
            "message": "API rate limit exceeded for installation ID 12345678.",
            "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
            "status": "403",
        });
        let reset = reset.to_string();
        return (
            StatusCode::FORBIDDEN,
            [
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-used", "5000"),
                ("x-ratelimit-reset", reset.as_str()),
                ("x-ratelimit-resource", "core"),
            ],
            axum::Json(body),
        )
            .into_response();
    }

    if state.secondary_limits > 0 {
        state.secondary_limits -= 1;
        let body = json!({
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": "403",
        });
        return (
            StatusCode::FORBIDDEN,
            [("retry-after", "7")],
            axum::Json(body),
        )
            .into_response();
    }

    let query: HashMap<String, String> = uri
        .query()
        .map(|query| {
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    // GitHub Enterprise Server serves the same API under `/api/v3`.
    let path = uri.path();
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let prefix = format!("/repos/{OWNER}/{REPO}");
    let Some(rest) = path.strip_prefix(&prefix) else {
        return not_found();
    };
    let segments: Vec<String> = rest
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(percent_decode)
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();

    route(&mut state, &method, &segments, &query, &body)
}

fn route(
    state: &mut FakeState,
    method: &Method,
    segments: &[&str],
    query: &HashMap<String, String>,
    body: &Value,
) -> Response {
    let writes = method != Method::GET;
    if writes && state.contents_forbidden && segments.first() == Some(&"git") {
        return github_error(
            StatusCode::FORBIDDEN,
            NOT_ACCESSIBLE,
            "https://docs.github.com/rest/git/blobs#create-a-blob",
        );
    }
    if writes && state.pulls_forbidden && segments.first() == Some(&"pulls") {
        return github_error(
            StatusCode::FORBIDDEN,
            "GitHub Actions is not permitted to create or approve pull requests.",
            "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
        );
    }
    match (method.as_str(), segments) {
        ("GET", []) => {
            let mut value = state.templates.repository.clone();
            value["default_branch"] = json!(DEFAULT_BRANCH);
            value["full_name"] = json!(format!("{OWNER}/{REPO}"));
            value["name"] = json!(REPO);
            ok(value)
        }
        ("GET", ["branches", branch @ ..]) => get_branch(state, &branch.join("/")),
        ("GET", ["issues"]) => list_issues(state, query),
        ("POST", ["issues"]) => create_issue(state, body),
        ("PATCH", ["issues", "comments", id]) => update_comment(state, id, body),
        ("PATCH", ["issues", number]) => update_issue(state, number, body),
        ("GET", ["issues", number]) => {
            let number: u64 = number.parse().unwrap_or(0);
            if let Some(issue) = state.issues.iter().find(|issue| issue.number == number) {
                return ok(state.issue_json(issue));
            }
            match state.pulls.iter().find(|pull| pull.number == number) {
                Some(pull) => ok(state.issue_as_pull_json(pull)),
                None => not_found(),
            }
        }
        ("GET", ["pulls", number]) => {
            let number: u64 = number.parse().unwrap_or(0);
            match state.pulls.iter().find(|pull| pull.number == number) {
                Some(pull) => ok(state.pull_json(pull)),
                None => not_found(),
            }
        }
        ("GET", ["issues", number, "comments"]) => {
            let number: u64 = number.parse().unwrap_or(0);
            let comments: Vec<FakeComment> = state
                .comments
                .iter()
                .filter(|comment| comment.issue_number == number)
                .cloned()
                .collect();
            let values: Vec<Value> = page(&comments, query)
                .iter()
                .map(|comment| state.comment_json(comment))
                .collect();
            ok(Value::Array(values))
        }
        ("POST", ["issues", number, "comments"]) => create_comment(state, number, body),
        ("GET", ["git", "ref", "heads", branch @ ..]) => get_ref(state, &branch.join("/")),
        ("POST", ["git", "refs"]) => create_ref(state, body),
        ("PATCH", ["git", "refs", "heads", branch @ ..]) => {
            update_ref(state, &branch.join("/"), body)
        }
        ("GET", ["git", "commits", sha]) => match state.commits.get(*sha) {
            Some(commit) => ok(commit_json(state, sha, commit)),
            None => not_found(),
        },
        ("POST", ["git", "blobs"]) => {
            let encoded = body["content"].as_str().unwrap_or_default();
            let content = match body["encoding"].as_str() {
                Some("base64") => base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .unwrap(),
                _ => encoded.as_bytes().to_vec(),
            };
            let sha = state.store_blob(content);
            created(json!({ "sha": sha, "url": state.api(&format!("/git/blobs/{sha}")) }))
        }
        ("POST", ["git", "trees"]) => create_tree(state, body),
        ("POST", ["git", "commits"]) => {
            let tree = body["tree"].as_str().unwrap_or_default().to_owned();
            let parents: Vec<String> = body["parents"]
                .as_array()
                .map(|parents| {
                    parents
                        .iter()
                        .filter_map(|parent| parent.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if !state.trees.contains_key(&tree)
                || parents
                    .iter()
                    .any(|parent| !state.commits.contains_key(parent))
            {
                return unprocessable("Tree SHA does not exist");
            }
            let message = body["message"].as_str().unwrap_or_default().to_owned();
            let sha = state.store_commit(tree, parents, message);
            let commit = state.commits[&sha].clone();
            created(commit_json(state, &sha, &commit))
        }
        ("GET", ["compare", range]) => compare(state, range),
        ("GET", ["contents", path @ ..]) => get_contents(state, &path.join("/"), query),
        ("GET", ["pulls"]) => {
            let head = query.get("head").cloned();
            let requested_state = query.get("state").cloned().unwrap_or("open".to_owned());
            let pulls: Vec<FakePull> = state
                .pulls
                .iter()
                .filter(|pull| requested_state == "all" || pull.state == requested_state)
                .filter(|pull| {
                    head.as_ref()
                        .is_none_or(|head| *head == format!("{OWNER}:{}", pull.head))
                })
                .cloned()
                .collect();
            let values: Vec<Value> = page(&pulls, query)
                .iter()
                .map(|pull| state.pull_json(pull))
                .collect();
            ok(Value::Array(values))
        }
        ("POST", ["pulls"]) => create_pull(state, body),
        ("PATCH", ["pulls", number]) => {
            let number: u64 = number.parse().unwrap_or(0);
            let Some(pull) = state.pulls.iter_mut().find(|pull| pull.number == number) else {
                return not_found();
            };
            if let Some(title) = body["title"].as_str() {
                pull.title = title.to_owned();
            }
            if let Some(text) = body["body"].as_str() {
                pull.body = text.to_owned();
            }
            if let Some(new_state) = body["state"].as_str() {
                pull.state = new_state.to_owned();
            }
            let pull = pull.clone();
            ok(state.pull_json(&pull))
        }
        _ => not_found(),
    }
}

fn get_branch(state: &FakeState, branch: &str) -> Response {
    let protected = state.protected && branch == DEFAULT_BRANCH;
    let Some(sha) = state.refs.get(branch) else {
        return github_error(
            StatusCode::NOT_FOUND,
            "Branch not found",
            "https://docs.github.com/rest/branches/branches#get-a-branch",
        );
    };
    ok(json!({
        "name": branch,
        "commit": { "sha": sha, "url": state.api(&format!("/commits/{sha}")) },
        "_links": {
            "self": state.api(&format!("/branches/{branch}")),
            "html": state.web(&format!("/tree/{branch}")),
        },
        "protected": protected,
        "protection": {
            "enabled": protected,
            "required_status_checks": { "enforcement_level": "off", "contexts": [], "checks": [] },
        },
        "protection_url": state.api(&format!("/branches/{branch}/protection")),
    }))
}

fn list_issues(state: &FakeState, query: &HashMap<String, String>) -> Response {
    let requested_state = query.get("state").cloned().unwrap_or("open".to_owned());
    let label = query.get("labels").cloned();
    let mut values: Vec<(u64, Value)> = state
        .issues
        .iter()
        .filter(|issue| requested_state == "all" || issue.state == requested_state)
        .filter(|issue| {
            label
                .as_ref()
                .is_none_or(|label| issue.labels.contains(label))
        })
        .map(|issue| (issue.number, state.issue_json(issue)))
        .collect();
    if label.is_none() {
        values.extend(
            state
                .pulls
                .iter()
                .filter(|pull| requested_state == "all" || pull.state == requested_state)
                .map(|pull| (pull.number, state.issue_as_pull_json(pull))),
        );
    }
    // GitHub lists the newest first.
    values.sort_by_key(|(number, _)| std::cmp::Reverse(*number));
    let values: Vec<Value> = values.into_iter().map(|(_, value)| value).collect();
    ok(Value::Array(page(&values, query)))
}

fn create_issue(state: &mut FakeState, body: &Value) -> Response {
    let Some(title) = body["title"].as_str() else {
        return unprocessable("Invalid request.\n\n\"title\" wasn't supplied.");
    };
    let issue = FakeIssue {
        number: state.next_number,
        title: title.to_owned(),
        body: body["body"].as_str().unwrap_or_default().to_owned(),
        state: "open".to_owned(),
        labels: body["labels"]
            .as_array()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|label| label.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    state.next_number += 1;
    state.issues.push(issue.clone());
    created(state.issue_json(&issue))
}

fn update_issue(state: &mut FakeState, number: &str, body: &Value) -> Response {
    let number: u64 = number.parse().unwrap_or(0);
    let Some(issue) = state.issues.iter_mut().find(|issue| issue.number == number) else {
        return not_found();
    };
    if let Some(new_state) = body["state"].as_str() {
        issue.state = new_state.to_owned();
    }
    if let Some(title) = body["title"].as_str() {
        issue.title = title.to_owned();
    }
    if let Some(text) = body["body"].as_str() {
        issue.body = text.to_owned();
    }
    let issue = issue.clone();
    ok(state.issue_json(&issue))
}

fn forbidden_comment() -> Response {
    github_error(
        StatusCode::FORBIDDEN,
        NOT_ACCESSIBLE,
        "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
    )
}

fn create_comment(state: &mut FakeState, number: &str, body: &Value) -> Response {
    if state.comments_forbidden {
        return forbidden_comment();
    }
    let number: u64 = number.parse().unwrap_or(0);
    let exists = state.issues.iter().any(|issue| issue.number == number)
        || state.pulls.iter().any(|pull| pull.number == number);
    if !exists {
        return not_found();
    }
    let text = body["body"].as_str().unwrap_or_default();
    if text.chars().count() >= 65_536 {
        return unprocessable("Validation Failed: body is too long (maximum is 65536 characters)");
    }
    let comment = FakeComment {
        id: state.next_comment_id,
        issue_number: number,
        body: text.to_owned(),
    };
    state.next_comment_id += 1;
    state.comments.push(comment.clone());
    created(state.comment_json(&comment))
}

fn update_comment(state: &mut FakeState, id: &str, body: &Value) -> Response {
    if state.comments_forbidden {
        return forbidden_comment();
    }
    let id: u64 = id.parse().unwrap_or(0);
    let text = body["body"].as_str().unwrap_or_default().to_owned();
    if text.chars().count() >= 65_536 {
        return unprocessable("Validation Failed: body is too long (maximum is 65536 characters)");
    }
    let Some(comment) = state.comments.iter_mut().find(|comment| comment.id == id) else {
        return not_found();
    };
    comment.body = text;
    let comment = comment.clone();
    ok(state.comment_json(&comment))
}

fn ref_json(state: &FakeState, branch: &str, sha: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{branch}"),
        "node_id": "REF_kwDOexample",
        "url": state.api(&format!("/git/refs/heads/{branch}")),
        "object": { "sha": sha, "type": "commit", "url": state.api(&format!("/git/commits/{sha}")) },
    })
}

fn get_ref(state: &FakeState, branch: &str) -> Response {
    match state.refs.get(branch) {
        Some(sha) => ok(ref_json(state, branch, sha)),
        None => github_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "https://docs.github.com/rest/git/refs#get-a-reference",
        ),
    }
}

fn create_ref(state: &mut FakeState, body: &Value) -> Response {
    let full_ref = body["ref"].as_str().unwrap_or_default();
    let sha = body["sha"].as_str().unwrap_or_default().to_owned();
    let Some(branch) = full_ref.strip_prefix("refs/heads/") else {
        return unprocessable("Reference name must start with 'refs/'");
    };
    if state.refs.contains_key(branch) {
        return unprocessable("Reference already exists");
    }
    if !state.commits.contains_key(&sha) {
        return unprocessable("Object does not exist");
    }
    state.refs.insert(branch.to_owned(), sha.clone());
    created(ref_json(state, branch, &sha))
}

/// Returns every commit reachable from `commit`, itself included.
fn reachable(state: &FakeState, commit: &str) -> std::collections::HashSet<String> {
    let mut seen = std::collections::HashSet::new();
    let mut pending = vec![commit.to_owned()];
    while let Some(current) = pending.pop() {
        if seen.insert(current.clone()) {
            if let Some(found) = state.commits.get(&current) {
                pending.extend(found.parents.iter().cloned());
            }
        }
    }
    seen
}

fn compare(state: &FakeState, range: &str) -> Response {
    let Some((base, head)) = range.split_once("...") else {
        return not_found();
    };
    let (Some(base), Some(head)) = (state.resolve(base), state.resolve(head)) else {
        return not_found();
    };
    let from_base = reachable(state, &base);
    let from_head = reachable(state, &head);
    let ahead_by = from_head.difference(&from_base).count();
    let behind_by = from_base.difference(&from_head).count();
    let status = match (ahead_by, behind_by) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    ok(json!({
        "url": state.api(&format!("/compare/{range}")),
        "html_url": state.web(&format!("/compare/{range}")),
        "status": status,
        "ahead_by": ahead_by,
        "behind_by": behind_by,
        "total_commits": ahead_by,
        "commits": [],
        "files": [],
    }))
}

/// Tells whether `ancestor` is `commit` or one of its ancestors.
fn is_ancestor(state: &FakeState, ancestor: &str, commit: &str) -> bool {
    let mut pending = vec![commit.to_owned()];
    while let Some(current) = pending.pop() {
        if current == ancestor {
            return true;
        }
        if let Some(found) = state.commits.get(&current) {
            pending.extend(found.parents.iter().cloned());
        }
    }
    false
}

fn update_ref(state: &mut FakeState, branch: &str, body: &Value) -> Response {
    let sha = body["sha"].as_str().unwrap_or_default().to_owned();
    let force = body["force"].as_bool().unwrap_or(false);
    let Some(current) = state.refs.get(branch).cloned() else {
        return unprocessable("Reference does not exist");
    };
    if !state.commits.contains_key(&sha) {
        return unprocessable("Object does not exist");
    }
    if state.protected && branch == DEFAULT_BRANCH {
        return unprocessable(&format!(
            "Protected branch update failed for refs/heads/{branch}."
        ));
    }
    if !force && !is_ancestor(state, &current, &sha) {
        return unprocessable("Update is not a fast forward");
    }
    state.refs.insert(branch.to_owned(), sha.clone());
    ok(ref_json(state, branch, &sha))
}

fn commit_json(state: &FakeState, sha: &str, commit: &FakeCommit) -> Value {
    json!({
        "sha": sha,
        "node_id": "C_kwDOexample",
        "url": state.api(&format!("/git/commits/{sha}")),
        "html_url": state.web(&format!("/commit/{sha}")),
        "author": { "name": "github-actions[bot]", "email": "41898282+github-actions[bot]@users.noreply.github.com", "date": "2026-12-04T12:00:00Z" },
        "committer": { "name": "GitHub", "email": "noreply@github.com", "date": "2026-12-04T12:00:00Z" },
        "tree": { "sha": commit.tree, "url": state.api(&format!("/git/trees/{}", commit.tree)) },
        "message": commit.message,
        "parents": commit.parents.iter().map(|parent| json!({
            "sha": parent,
            "url": state.api(&format!("/git/commits/{parent}")),
            "html_url": state.web(&format!("/commit/{parent}")),
        })).collect::<Vec<_>>(),
        "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null },
    })
}

fn create_tree(state: &mut FakeState, body: &Value) -> Response {
    let mut entries = match body["base_tree"].as_str() {
        Some(base) => match state.trees.get(base) {
            Some(entries) => entries.clone(),
            None => return unprocessable("base_tree is not a valid tree oid"),
        },
        None => BTreeMap::new(),
    };
    for entry in body["tree"].as_array().cloned().unwrap_or_default() {
        let path = entry["path"].as_str().unwrap_or_default().to_owned();
        let sha = entry["sha"].as_str().unwrap_or_default().to_owned();
        if entry["mode"] != "100644" || entry["type"] != "blob" || !state.blobs.contains_key(&sha) {
            return unprocessable("tree.sha is not a valid blob");
        }
        entries.insert(path, sha);
    }
    let listing: Vec<Value> = entries
        .iter()
        .map(|(path, sha)| {
            json!({ "path": path, "mode": "100644", "type": "blob", "sha": sha, "size": state.blobs[sha].len() })
        })
        .collect();
    let sha = state.store_tree(entries);
    created(json!({
        "sha": sha,
        "url": state.api(&format!("/git/trees/{sha}")),
        "tree": listing,
        "truncated": false,
    }))
}

fn get_contents(state: &FakeState, path: &str, query: &HashMap<String, String>) -> Response {
    let git_ref = query
        .get("ref")
        .cloned()
        .unwrap_or(DEFAULT_BRANCH.to_owned());
    let Some(commit) = state.resolve(&git_ref) else {
        return github_error(
            StatusCode::NOT_FOUND,
            &format!("No commit found for the ref {git_ref}"),
            "https://docs.github.com/rest/repos/contents#get-repository-content",
        );
    };
    let tree = &state.trees[&state.commits[&commit].tree];
    let Some(sha) = tree.get(path) else {
        return github_error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "https://docs.github.com/rest/repos/contents#get-repository-content",
        );
    };
    let content = &state.blobs[sha];
    // GitHub wraps the base64 text at 60 characters per line.
    let encoded = base64::engine::general_purpose::STANDARD.encode(content);
    let wrapped: String = encoded
        .as_bytes()
        .chunks(60)
        .map(|chunk| format!("{}\n", std::str::from_utf8(chunk).unwrap()))
        .collect();
    let name = path.rsplit('/').next().unwrap_or(path);
    ok(json!({
        "name": name,
        "path": path,
        "sha": sha,
        "size": content.len(),
        "url": state.api(&format!("/contents/{path}?ref={git_ref}")),
        "html_url": state.web(&format!("/blob/{git_ref}/{path}")),
        "git_url": state.api(&format!("/git/blobs/{sha}")),
        "download_url": null,
        "type": "file",
        "content": wrapped,
        "encoding": "base64",
        "_links": {
            "self": state.api(&format!("/contents/{path}?ref={git_ref}")),
            "git": state.api(&format!("/git/blobs/{sha}")),
            "html": state.web(&format!("/blob/{git_ref}/{path}")),
        },
    }))
}

fn create_pull(state: &mut FakeState, body: &Value) -> Response {
    let head = body["head"].as_str().unwrap_or_default().to_owned();
    let base = body["base"].as_str().unwrap_or_default().to_owned();
    if !state.refs.contains_key(&head) || !state.refs.contains_key(&base) {
        return unprocessable("Validation Failed: head or base does not exist");
    }
    if state
        .pulls
        .iter()
        .any(|pull| pull.head == head && pull.state == "open")
    {
        return unprocessable(&format!(
            "Validation Failed: A pull request already exists for {OWNER}:{head}."
        ));
    }
    let text = body["body"].as_str().unwrap_or_default().to_owned();
    if text.chars().count() >= 65_536 {
        return unprocessable("Validation Failed: body is too long (maximum is 65536 characters)");
    }
    let pull = FakePull {
        number: state.next_number,
        title: body["title"].as_str().unwrap_or_default().to_owned(),
        body: text,
        head,
        base,
        state: "open".to_owned(),
        merged: false,
    };
    state.next_number += 1;
    state.pulls.push(pull.clone());
    created(state.pull_json(&pull))
}
