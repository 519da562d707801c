//! Local servers and helpers shared by the integration tests.

pub mod fake_github;
