//! The GitHub review flow: sticky comments, the committed audit trail, the pull request that
//! carries a change to the default branch, and the checks that let apply run only from there.
//!
//! `context` reads the workflow run, `client` talks to the GitHub REST API through octocrab,
//! `comment` builds the comment bodies, `audit` the committed files, and `flow` puts the steps
//! together.

pub mod audit;
pub mod client;
pub mod comment;
pub mod context;
pub mod flow;

pub use audit::{state_files, state_paths};
pub use client::{GitHub, GitHubError, RateLimitPolicy};
pub use context::{Event, RunContext};
pub use flow::{
    ApplyCheckError, PublishInput, PublishOutcome, check_apply_allowed, commit_to_branch,
    post_apply_refusal, post_apply_result, publish_plan, read_committed_plan,
};
