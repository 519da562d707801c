//! Integration tests, in one binary so that the crate is linked once.

mod auth;
mod auth_plan;
mod bad_inputs;
mod databricks_client;
mod emulator;
mod emulator_sdk;
mod github_runtime;
mod plan_fixtures;
mod review;
mod review_loop;
mod service_tags;
mod support;
