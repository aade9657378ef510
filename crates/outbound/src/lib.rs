//! The outbound guard: the one HTTP client for every call made on a user's behalf
//! (HTTP tools, MCP servers, and webhooks later).
//!
//! [`OutboundClient`] resolves the host itself, refuses internal addresses (loopback,
//! private, link-local and the cloud metadata address, unique-local, multicast, …) unless
//! the operator's [`OutboundPolicy`] (`OUTBOUND_ALLOWLIST`) allows them, connects to exactly
//! the addresses it checked, follows no redirect, and bounds every call in time and bytes.
//! [`http_tool`] turns one HTTP-tool call into an [`OutboundRequest`] and its outcome into
//! the text given to the model.

mod address;
mod client;
mod error;
mod headers;
pub mod http_tool;
mod policy;
mod resolver;
pub mod tls;

pub use address::is_internal;
pub use client::{OutboundClient, OutboundRequest, OutboundResponse, refusal};
pub use error::{OutboundError, describe};
pub use policy::OutboundPolicy;
