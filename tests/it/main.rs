//! Integration tests, one module per part of ipsync.

mod service_tags;
