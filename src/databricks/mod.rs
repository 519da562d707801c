//! Databricks IP access lists: the domain types shared by the client, the plan and the emulator.
//!
//! REST reference: <https://docs.databricks.com/api/workspace/ipaccesslists> (workspace) and
//! <https://docs.databricks.com/api/account/accountipaccesslists> (account).

mod types;

pub use types::*;
