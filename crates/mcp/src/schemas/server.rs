//! [`McpServerCreate`], [`McpServerUpdate`] and the [`McpServer`] response.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use garde::Validate;
use kernel::nullable::null_as_default;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::headers::{MASK, McpHeaders, headers_input_schema};
use crate::entities::mcp_server;

/// The pattern of a label.
pub const LABEL_PATTERN: &str = r"^[a-z0-9_-]{1,32}$";
/// Longest `url`, in characters.
pub const URL_MAX: usize = 2048;
/// Most names in `allowed_tools`.
pub const ALLOWED_TOOLS_MAX: usize = 256;
/// Most tools kept from a server's list (the rest are not offered).
pub const TOOLS_MAX: usize = 256;

/// Whether a person approves each call of a server's tools before it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum McpApproval {
    /// Calls run without asking.
    #[default]
    Never,
    /// Every call waits for a person to approve, deny, edit or answer it (`requires_action`).
    Always,
}

impl From<mcp_server::Approval> for McpApproval {
    fn from(approval: mcp_server::Approval) -> Self {
        match approval {
            mcp_server::Approval::Never => Self::Never,
            mcp_server::Approval::Always => Self::Always,
        }
    }
}

impl From<McpApproval> for mcp_server::Approval {
    fn from(approval: McpApproval) -> Self {
        match approval {
            McpApproval::Never => Self::Never,
            McpApproval::Always => Self::Always,
        }
    }
}

/// A new MCP server. It is contacted at once (initialize, `tools/list`): a server that
/// cannot be reached or refuses is a `422` naming `url` with the reason.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct McpServerCreate {
    /// Unique among the caller's servers; its tools are offered to models as `<label>__<tool>`.
    #[garde(pattern(r"^[a-z0-9_-]{1,32}$"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[a-z0-9_-]{1,32}$", example = "github")]
    pub label: String,
    /// The server's streamable-HTTP endpoint: an absolute http or https URL, at most 2048 characters.
    #[garde(length(chars, max = URL_MAX), custom(http_url))]
    #[schema(max_length = 2048, example = "https://mcp.example.com/mcp")]
    pub url: String,
    /// Headers sent with every request to the server (values write-only).
    #[serde(default, deserialize_with = "null_as_default")]
    #[garde(dive)]
    #[schema(schema_with = headers_input_schema)]
    pub headers: McpHeaders,
    /// The names of the server's tools the model may see (at most 256, each 1..=128
    /// characters); absent or `null`: all of them. Names the server does not offer are
    /// accepted and listed in the response's `unknown_allowed_tools`.
    #[garde(inner(length(max = ALLOWED_TOOLS_MAX), inner(length(chars, min = 1, max = 128))))]
    #[schema(max_items = 256, nullable = true)]
    pub allowed_tools: Option<Vec<String>>,
    /// `never` (default) or `always`: whether every call waits for a person.
    #[serde(default, deserialize_with = "null_as_default")]
    #[garde(skip)]
    pub approval: McpApproval,
}

/// A partial update: an absent field is unchanged. A change of `url` or `headers` contacts
/// the server again (a `422` naming `url`, changing nothing, when it cannot be reached).
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct McpServerUpdate {
    /// New label.
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    #[garde(inner(pattern(r"^[a-z0-9_-]{1,32}$")))]
    #[schema(nullable = false, min_length = 1, max_length = 32, pattern = r"^[a-z0-9_-]{1,32}$")]
    pub label: Option<String>,
    /// New URL.
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    #[garde(inner(length(chars, max = URL_MAX), custom(http_url)))]
    #[schema(nullable = false, max_length = 2048)]
    pub url: Option<String>,
    /// Replaces the headers (a value `•••` keeps that header's stored value); `null` removes them all.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(dive)]
    #[schema(schema_with = headers_input_schema)]
    pub headers: Option<Option<McpHeaders>>,
    /// Replaces the allowed tool names; `null` allows all.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(max = ALLOWED_TOOLS_MAX), inner(length(chars, min = 1, max = 128)))))]
    #[schema(value_type = Option<Vec<String>>, max_items = 256)]
    pub allowed_tools: Option<Option<Vec<String>>>,
    /// New approval mode.
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    #[garde(skip)]
    #[schema(nullable = false)]
    pub approval: Option<McpApproval>,
}

/// garde rule: an absolute `http` or `https` URL with a host, without surrounding whitespace.
fn http_url(value: &str, _: &()) -> garde::Result {
    if value.trim() != value {
        return Err(garde::Error::new("must not start or end with whitespace"));
    }
    let url = url::Url::parse(value).map_err(|err| garde::Error::new(format!("is not an absolute URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(garde::Error::new("must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(garde::Error::new("must name a host"));
    }
    Ok(())
}

/// One tool a server offers, as it listed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct McpTool {
    /// The tool's name at the server.
    pub name: String,
    /// What it does, as the server says.
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    #[schema(schema_with = input_schema_spec)]
    pub input_schema: Value,
}

/// The OpenAPI schema of a tool's `input_schema`: a JSON Schema object.
fn input_schema_spec() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("JSON Schema of the tool's arguments, as the server gave it."))
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .examples([serde_json::json!({"type": "object", "properties": {"q": {"type": "string"}}})])
        .build()
}

/// An MCP server as clients see it: header values are always `•••`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct McpServer {
    /// UUID v7.
    pub id: Uuid,
    /// The owning user.
    pub owner_id: Uuid,
    /// `^[a-z0-9_-]{1,32}$`, unique among the owner's servers.
    #[schema(example = "github")]
    pub label: String,
    /// The streamable-HTTP endpoint.
    pub url: String,
    /// The header names, each value shown as `•••`.
    #[schema(example = json!({"Authorization": "•••"}))]
    pub headers: BTreeMap<String, String>,
    /// The tool names the model may see; `null`: all.
    pub allowed_tools: Option<Vec<String>>,
    /// Names in `allowed_tools` that the server does not offer (accepted, never offered).
    pub unknown_allowed_tools: Vec<String>,
    /// Whether every call waits for a person.
    pub approval: McpApproval,
    /// Every tool the server offered when last listed (the model sees only the allowed ones).
    pub tools: Vec<McpTool>,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// Last update time (RFC 3339, UTC).
    pub updated_at: DateTime<Utc>,
    /// When the tools were last listed (RFC 3339, UTC).
    pub refreshed_at: DateTime<Utc>,
}

impl McpServer {
    /// The response of a stored server: header values masked.
    pub fn from_model(m: mcp_server::Model) -> Self {
        let headers = stored_headers(&m)
            .into_keys()
            .map(|name| (name, MASK.to_owned()))
            .collect();
        let tools = stored_tools(&m);
        let allowed_tools = stored_allowed(&m);
        let unknown_allowed_tools = allowed_tools
            .iter()
            .flatten()
            .filter(|name| !tools.iter().any(|tool| &tool.name == *name))
            .cloned()
            .collect();
        Self {
            id: m.id,
            owner_id: m.owner_id,
            label: m.label,
            url: m.url,
            headers,
            allowed_tools,
            unknown_allowed_tools,
            approval: m.approval.into(),
            tools,
            created_at: m.created_at,
            updated_at: m.updated_at,
            refreshed_at: m.refreshed_at,
        }
    }
}

/// The stored headers, unmasked.
pub(crate) fn stored_headers(m: &mcp_server::Model) -> BTreeMap<String, String> {
    serde_json::from_value(m.headers.clone()).unwrap_or_default()
}

/// The stored tool list.
pub(crate) fn stored_tools(m: &mcp_server::Model) -> Vec<McpTool> {
    serde_json::from_value(m.tools.clone()).unwrap_or_default()
}

/// The stored allowed names (`None`: all).
pub(crate) fn stored_allowed(m: &mcp_server::Model) -> Option<Vec<String>> {
    m.allowed_tools
        .as_ref()
        .and_then(|value| serde_json::from_value(value.clone()).ok())
}

/// A tool description as stored: a JSON object schema (anything else becomes `{"type": "object"}`).
pub(crate) fn object_or_default(schema: Map<String, Value>) -> Value {
    if schema.is_empty() {
        serde_json::json!({"type": "object"})
    } else {
        Value::Object(schema)
    }
}

/// Query of `GET /mcp-servers`.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Cursor from the previous page's `next_cursor`.
    #[garde(skip)]
    pub cursor: Option<String>,
}
