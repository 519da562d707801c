//! Integration tests, in one binary so they link once.

mod emulator;
mod emulator_sdk;
