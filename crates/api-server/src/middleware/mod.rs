//! Cross-cutting request handling.

pub mod rate_limit;
pub mod request_context;
