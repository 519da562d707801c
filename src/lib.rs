//! ipsync keeps Databricks IP access lists in step with published IP ranges,
//! first of all Microsoft's Azure service tags.

pub mod apply;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod databricks;
pub mod emulator;
pub mod env;
pub mod github;
pub mod plan;
pub mod prefix;
pub mod report;
pub mod review;
pub mod secret;
pub mod service_tags;
pub mod state;
