//! Integration tests: one binary, one module per area.

mod review;
mod support;
