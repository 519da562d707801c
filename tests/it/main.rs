//! Integration tests, in one binary so that the crate is linked once.

mod actions_run;
mod apply_local;
mod auth;
mod auth_plan;
mod bad_inputs;
mod cli_help;
mod databricks_client;
mod emulator;
mod emulator_sdk;
mod github_runtime;
mod plan_fixtures;
mod review;
mod review_loop;
mod service_tags;
mod support;
