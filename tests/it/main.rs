//! Integration tests: one binary, one module per area.

mod auth;

mod support {
    pub mod auth_fakes;
}
