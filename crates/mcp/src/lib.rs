//! MCP servers as tool sources: remote Model Context Protocol servers (streamable HTTP
//! transport) whose tools the caller's agents may call.
//!
//! - [`entities`]: the `mcp_servers` table (never on the wire).
//! - [`schemas`]: the bodies of `/mcp-servers` and the [`McpServer`](schemas::McpServer) response
//!   (header values write-only, shown as `•••`).
//! - [`McpServerService`]: create, list, read, update, delete, refresh; a create, a change of
//!   `url` or `headers`, and a refresh contact the server (initialize, `tools/list`) through
//!   the outbound guard, and refuse with a `422` naming `url` when it cannot be reached.
//! - [`McpRuntime`]: what a run uses: the functions an agent's servers offer
//!   (`<label>__<tool>`) and `tools/call`, over sessions reused per (server, user).
//! - [`links`]: which server ids are the caller's, for the agents crate's `mcp_server_ids`.
//! - (feature `http`) the `/api/v1/mcp-servers` routes.
//!
//! Why a crate of its own: the MCP client (`rmcp`) and its session pool are a protocol of
//! their own, used by two callers (this crate's routes and the run engine in `executions`);
//! `agents` only links agents to server ids and asks [`links::owned`] which ids are the caller's.

mod client;
pub mod entities;
pub mod error;
pub mod links;
mod runtime;
pub mod schemas;
mod service;

#[cfg(feature = "http")]
pub mod router;

pub use error::McpError;
pub use runtime::{McpFunction, McpRuntime};
pub use service::McpServerService;
