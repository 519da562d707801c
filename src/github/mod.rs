//! GitHub: the Actions runtime (step summary, outputs, workflow commands) that a step uses
//! to talk to the runner.

pub mod runtime;

pub use runtime::{
    AnnotationLevel, AnnotationProperties, InputError, OutputError, RunContext, Runtime,
    STEP_SUMMARY_LIMIT, SummaryWritten, parse_bool_input,
};
