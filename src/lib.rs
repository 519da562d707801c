//! ipsync keeps Databricks IP access lists in step with published IP ranges,
//! first of all Microsoft's Azure service tags.

pub mod auth;
pub mod cli;
pub mod databricks;
pub mod env;
pub mod plan;
pub mod prefix;
pub mod report;
pub mod review;
pub mod secret;
