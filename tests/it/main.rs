//! Integration tests, in one binary so that the crate is linked once.

mod auth;
mod databricks_client;
// mod plan_fixtures;
mod service_tags;
mod support;
