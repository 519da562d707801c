//! Integration tests, in one binary so that the crate is linked once.

mod auth;
mod bad_inputs;
mod databricks_client;
mod emulator;
mod emulator_sdk;
mod plan_fixtures;
mod review;
mod service_tags;
mod support;
