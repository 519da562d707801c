//! The GitHub Actions run that ipsync is part of, read from the variables a runner sets.
//!
//! Variables: <https://docs.github.com/en/actions/reference/variables-reference>. The event
//! payload at `GITHUB_EVENT_PATH` gives the pull request number and the repository's default
//! branch, which the variables alone do not.

use std::path::Path;

use serde::Deserialize;
use url::Url;

use crate::env::Env;
use crate::secret::Secret;

/// Used when `GITHUB_API_URL` is unset, as on github.com.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// Used when `GITHUB_SERVER_URL` is unset, as on github.com.
pub const DEFAULT_SERVER_URL: &str = "https://github.com";

/// A repository as `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

impl std::fmt::Display for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// The event that started the workflow run (`GITHUB_EVENT_NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Schedule,
    WorkflowDispatch,
    Push,
    /// `pull_request` or `pull_request_target`, with the pull request's number.
    PullRequest {
        number: u64,
    },
    /// Any other event, by name.
    Other(String),
}

/// Everything ipsync needs to know about the workflow run.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub repository: Repository,
    pub event: Event,
    /// `GITHUB_REF`, such as `refs/heads/main` or `refs/pull/7/merge`.
    pub git_ref: String,
    /// `GITHUB_REF_NAME`, such as `main` or `7/merge`.
    pub ref_name: String,
    pub sha: String,
    /// The repository's default branch as the event payload records it, when it does.
    pub event_default_branch: Option<String>,
    /// Base URL of the REST API; `https://HOST/api/v3` on GitHub Enterprise Server.
    pub api_url: Url,
    /// Base URL of the web interface, for links in comments.
    pub server_url: String,
    pub run_id: Option<String>,
    pub token: Secret,
}

/// A variable or event payload that does not describe a usable workflow run.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(
        "missing environment variable `{0}`: ipsync reads it to talk to GitHub, and a GitHub Actions runner sets it"
    )]
    Missing(&'static str),
    #[error("invalid value `{value}` for environment variable `{name}`: expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("failed to read the event payload `{path}`: {reason}")]
    EventPayload { path: String, reason: String },
    #[error(
        "missing pull request number for a `{event}` event: expected `pull_request.number` in the event payload at `GITHUB_EVENT_PATH`"
    )]
    NoPullRequestNumber { event: String },
}

/// The parts of an event payload that ipsync reads.
#[derive(Debug, Deserialize)]
struct EventPayload {
    #[serde(default)]
    number: Option<u64>,
    #[serde(default)]
    pull_request: Option<PullRequestPayload>,
    #[serde(default)]
    repository: Option<RepositoryPayload>,
}

#[derive(Debug, Deserialize)]
struct PullRequestPayload {
    number: u64,
}

#[derive(Debug, Deserialize)]
struct RepositoryPayload {
    #[serde(default)]
    default_branch: Option<String>,
}

impl RunContext {
    /// Reads the run from the environment and, when `GITHUB_EVENT_PATH` is set, the event payload.
    pub fn from_env(env: &Env) -> Result<Self, ContextError> {
        let required = |name: &'static str| env.get(name).ok_or(ContextError::Missing(name));

        let repository = parse_repository(required("GITHUB_REPOSITORY")?)?;
        let token = Secret::new(required("GITHUB_TOKEN")?);
        let event_name = required("GITHUB_EVENT_NAME")?;
        let git_ref = required("GITHUB_REF")?.to_owned();
        let ref_name = match env.get("GITHUB_REF_NAME") {
            Some(name) => name.to_owned(),
            None => git_ref
                .strip_prefix("refs/heads/")
                .unwrap_or(&git_ref)
                .to_owned(),
        };
        let sha = required("GITHUB_SHA")?.to_owned();

        let payload = match env.get("GITHUB_EVENT_PATH") {
            Some(path) => Some(read_payload(Path::new(path))?),
            None => None,
        };
        let event = parse_event(event_name, payload.as_ref())?;
        let event_default_branch = payload
            .and_then(|payload| payload.repository)
            .and_then(|repository| repository.default_branch);

        let api_url_text = env.get("GITHUB_API_URL").unwrap_or(DEFAULT_API_URL);
        let api_url = Url::parse(api_url_text).map_err(|_| ContextError::Invalid {
            name: "GITHUB_API_URL",
            value: api_url_text.to_owned(),
            expected: "an absolute URL such as `https://api.github.com`",
        })?;
        let server_url = env
            .get("GITHUB_SERVER_URL")
            .unwrap_or(DEFAULT_SERVER_URL)
            .trim_end_matches('/')
            .to_owned();

        Ok(Self {
            repository,
            event,
            git_ref,
            ref_name,
            sha,
            event_default_branch,
            api_url,
            server_url,
            run_id: env.get("GITHUB_RUN_ID").map(str::to_owned),
            token,
        })
    }

    /// Returns the branch the run is on, or `None` for a tag or a pull request merge ref.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }

    /// Returns the web address of this workflow run, when the run id is known.
    pub fn run_url(&self) -> Option<String> {
        self.run_id.as_ref().map(|run_id| {
            format!(
                "{}/{}/actions/runs/{run_id}",
                self.server_url, self.repository
            )
        })
    }
}

fn parse_repository(value: &str) -> Result<Repository, ContextError> {
    match value.split_once('/') {
        Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(Repository {
                owner: owner.to_owned(),
                name: name.to_owned(),
            })
        }
        _ => Err(ContextError::Invalid {
            name: "GITHUB_REPOSITORY",
            value: value.to_owned(),
            expected: "`owner/name`",
        }),
    }
}

fn read_payload(path: &Path) -> Result<EventPayload, ContextError> {
    let failed = |reason: String| ContextError::EventPayload {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|error| failed(error.to_string()))?;
    serde_json::from_str(&text).map_err(|error| failed(format!("invalid JSON: {error}")))
}

fn parse_event(name: &str, payload: Option<&EventPayload>) -> Result<Event, ContextError> {
    let event = match name {
        "schedule" => Event::Schedule,
        "workflow_dispatch" => Event::WorkflowDispatch,
        "push" => Event::Push,
        "pull_request" | "pull_request_target" => {
            let number = payload.and_then(|payload| {
                payload
                    .pull_request
                    .as_ref()
                    .map(|pull_request| pull_request.number)
                    .or(payload.number)
            });
            match number {
                Some(number) => Event::PullRequest { number },
                None => {
                    return Err(ContextError::NoPullRequestNumber {
                        event: name.to_owned(),
                    });
                }
            }
        }
        other => Event::Other(other.to_owned()),
    };
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner_env(event_name: &str, event_path: Option<&Path>) -> Env {
        let mut env = Env::from_pairs([
            ("GITHUB_REPOSITORY", "example-org/infra"),
            ("GITHUB_EVENT_NAME", event_name),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_SHA", "6113728f27ae82c7b1a177c8d03f9e96e0adf246"),
            ("GITHUB_TOKEN", "ghs_example"),
            ("GITHUB_RUN_ID", "42"),
        ]);
        if let Some(path) = event_path {
            env.set("GITHUB_EVENT_PATH", path.display().to_string());
        }
        env
    }

    #[test]
    fn context_reads_schedule_run() {
        let context = RunContext::from_env(&runner_env("schedule", None)).unwrap();

        assert_eq!(context.repository.to_string(), "example-org/infra");
        assert_eq!(context.event, Event::Schedule);
        assert_eq!(context.branch(), Some("main"));
        assert_eq!(context.api_url.as_str(), "https://api.github.com/");
        assert_eq!(
            context.run_url().as_deref(),
            Some("https://github.com/example-org/infra/actions/runs/42")
        );
        assert_eq!(context.token.expose(), "ghs_example");
    }

    #[test]
    fn context_names_missing_variable() {
        let mut env = runner_env("schedule", None);
        env.set("GITHUB_TOKEN", "");

        let error = RunContext::from_env(&env).unwrap_err();

        assert!(error.to_string().contains("`GITHUB_TOKEN`"), "{error}");
    }

    #[test]
    fn context_rejects_bad_repository() {
        let mut env = runner_env("schedule", None);
        env.set("GITHUB_REPOSITORY", "infra");

        let error = RunContext::from_env(&env).unwrap_err();

        assert_eq!(
            error.to_string(),
            "invalid value `infra` for environment variable `GITHUB_REPOSITORY`: expected `owner/name`"
        );
    }

    #[test]
    fn context_reads_pull_request_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("event.json");
        std::fs::write(
            &path,
            r#"{"action":"opened","number":7,"pull_request":{"number":7}}"#,
        )
        .unwrap();
        let mut env = runner_env("pull_request", Some(&path));
        env.set("GITHUB_REF", "refs/pull/7/merge");

        let context = RunContext::from_env(&env).unwrap();

        assert_eq!(context.event, Event::PullRequest { number: 7 });
        assert_eq!(context.branch(), None);
    }

    #[test]
    fn context_reads_push_default_branch() {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/github/push_event.json");
        let path = match std::env::var_os("IPSYNC_FIXTURES_DIR") {
            Some(root) => Path::new(&root).join("github/push_event.json"),
            None => fixture,
        };
        if !path.exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "fixture `{}` is missing",
                path.display()
            );
            eprintln!("skipping: fixture `{}` is missing", path.display());
            return;
        }

        let context = RunContext::from_env(&runner_env("push", Some(&path))).unwrap();

        assert_eq!(context.event, Event::Push);
        assert_eq!(context.event_default_branch.as_deref(), Some("main"));
    }
}
