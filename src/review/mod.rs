//! The GitHub review flow: sticky comments, the committed audit trail, the pull request that
//! carries a change to the default branch, and the checks that let apply run only from there.
//!
//! `context` reads the workflow run, `client` talks to the GitHub REST API through octocrab,
//! `comment` builds the comment bodies, `audit` the committed files, `flow` publishes a plan
//! for review and `apply` checks and reports an apply.

pub mod apply;
pub mod audit;
pub mod client;
pub mod comment;
pub mod context;
pub mod flow;

pub use apply::{
    ApplyCheckError, CommittedPlanError, check_apply_allowed, post_apply_refusal,
    post_apply_result, read_committed_file, read_committed_plan,
};
pub use audit::state_paths;
pub use client::{GitHub, GitHubError, RateLimitPolicy};
pub use context::{Event, RunContext};
pub use flow::{PublishInput, PublishOutcome, commit_to_branch, publish_plan};
