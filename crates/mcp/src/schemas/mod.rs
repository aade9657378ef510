//! The bodies of `/mcp-servers` and the [`McpServer`] response.

mod headers;
pub(crate) mod server;

pub use headers::{HEADER_VALUE_MAX, HEADERS_MAX, MASK, McpHeaders};
pub use server::{
    ALLOWED_TOOLS_MAX, LABEL_PATTERN, ListQuery, McpApproval, McpServer, McpServerCreate, McpServerUpdate, McpTool,
    TOOLS_MAX, URL_MAX,
};
