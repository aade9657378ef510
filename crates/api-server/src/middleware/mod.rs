//! Cross-cutting request handling.

pub mod cors;
pub mod idempotency;
pub mod metrics;
pub mod rate_limit;
pub mod request_context;
