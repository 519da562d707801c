//! Databricks IP access lists: the domain types shared by the client, the plan and the emulator,
//! and the REST client.
//!
//! REST reference: <https://docs.databricks.com/api/workspace/ipaccesslists> (workspace) and
//! <https://docs.databricks.com/api/account/accountipaccesslists> (account).

mod client;
mod error;
mod host;
mod retry;
mod types;

pub use client::*;
pub use error::{ApiError, BODY_EXCERPT_CHARS, ErrorResponse, RequestSummary};
pub use host::{
    HostError, InvalidScopeKind, ScopeKind, infer_scope, validate_account_id, validate_host,
};
pub use retry::{RETRY_AFTER_CAP, backoff_delay, parse_retry_after};
pub use types::*;
