//! ipsync keeps Databricks IP access lists in step with published IP ranges,
//! first of all Microsoft's Azure service tags.

pub mod auth;
pub mod databricks;
pub mod env;
pub mod github;
pub mod prefix;
pub mod secret;
