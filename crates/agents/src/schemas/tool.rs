//! Tool bodies: [`ToolCreate`], [`ToolUpdate`] and the [`Tool`] response.
//!
//! A tool is consistent: `http` is present exactly when `kind` is `http`.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::http::{HttpSpec, HttpSpecInput, ToolApproval, ToolKind};
use super::rules::{self, non_null, object_schema};
use crate::entities::tool;

/// A new tool: a function definition an agent may call.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct ToolCreate {
    /// Function name, unique among the caller's tools.
    #[garde(pattern(r"^[A-Za-z0-9_-]{1,64}$"))]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9_-]{1,64}$",
        example = "get_weather"
    )]
    pub name: String,
    /// What the tool does, for the model; at most 2000 characters.
    #[garde(inner(length(chars, max = rules::DESCRIPTION_MAX)))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// JSON Schema of the arguments: an object schema (`{"type":"object",...}`), at most 16 KiB.
    #[garde(custom(object_schema))]
    #[schema(schema_with = rules::object_schema_spec)]
    pub parameters: Map<String, Value>,
    /// Who runs it: `client` (the caller's program; absent: `client`) or `http` (the server,
    /// as `http` describes).
    #[serde(default)]
    #[garde(skip)]
    pub kind: Option<ToolKind>,
    /// `always`: every call waits for a person's approval; absent: `never`.
    #[serde(default)]
    #[garde(skip)]
    pub approval: Option<ToolApproval>,
    /// The HTTP call: required when `kind` is `http`, refused otherwise.
    #[garde(dive, custom(http_matches_kind(self.kind)))]
    pub http: Option<HttpSpecInput>,
}

/// garde rule: `http` is given exactly when the tool's kind is `http` (absent kind: client).
fn http_matches_kind(kind: Option<ToolKind>) -> impl FnOnce(&Option<HttpSpecInput>, &()) -> garde::Result {
    move |http, _| match (kind.unwrap_or_default(), http) {
        (ToolKind::Http, None) => Err(garde::Error::new(HTTP_REQUIRED)),
        (ToolKind::Client, Some(_)) => Err(garde::Error::new(HTTP_REFUSED)),
        _ => Ok(()),
    }
}

/// Why an `http` tool without `http` is refused.
pub(crate) const HTTP_REQUIRED: &str = "is required when kind is http";
/// Why a client tool with `http` is refused.
pub(crate) const HTTP_REFUSED: &str = "must be absent or null unless kind is http";

/// A partial update: an absent field is unchanged; `null` clears `description` and is
/// refused for `name` and `parameters`.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct ToolUpdate {
    /// New function name, unique among the caller's tools.
    #[serde(default, deserialize_with = "non_null")]
    #[garde(inner(pattern(r"^[A-Za-z0-9_-]{1,64}$")))]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 64,
        pattern = r"^[A-Za-z0-9_-]{1,64}$"
    )]
    pub name: Option<String>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(chars, max = rules::DESCRIPTION_MAX))))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    /// New argument schema (`{"type":"object",...}`, at most 16 KiB).
    #[serde(default, deserialize_with = "non_null")]
    #[garde(inner(custom(object_schema)))]
    #[schema(schema_with = rules::object_schema_spec)]
    pub parameters: Option<Map<String, Value>>,
    /// New kind. Changing it to `http` needs `http` in the same body; changing it to
    /// `client` drops the stored `http`.
    #[serde(default, deserialize_with = "non_null")]
    #[garde(skip)]
    #[schema(nullable = false)]
    pub kind: Option<ToolKind>,
    /// New approval mode.
    #[serde(default, deserialize_with = "non_null")]
    #[garde(skip)]
    #[schema(nullable = false)]
    pub approval: Option<ToolApproval>,
    /// The new HTTP call, replacing the stored one whole (a header value of exactly `•••`
    /// keeps that header's stored value); `null` removes it (only for a tool that is, or
    /// becomes, a client tool). The result must be consistent: `http` exactly for `http` tools.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(dive)]
    #[schema(value_type = Option<HttpSpecInput>)]
    pub http: Option<Option<HttpSpecInput>>,
}

/// A tool as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tool {
    /// UUID v7.
    pub id: Uuid,
    /// The owning user.
    pub owner_id: Uuid,
    /// Function name.
    pub name: String,
    /// What the tool does.
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[schema(schema_with = rules::stored_object_schema_spec)]
    pub parameters: Value,
    /// Who runs it: `client` (the caller's program) or `http` (the server).
    pub kind: ToolKind,
    /// `always`: every call waits for a person's approval; `never`: calls run as made.
    pub approval: ToolApproval,
    /// The HTTP call of an `http` tool, every header value shown as `•••`; `null` for a
    /// client tool.
    pub http: Option<HttpSpec>,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// Last update time (RFC 3339, UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<tool::Model> for Tool {
    fn from(m: tool::Model) -> Self {
        Self {
            id: m.id,
            owner_id: m.owner_id,
            kind: m.kind.into(),
            approval: m.approval.into(),
            http: m.http_spec().map(HttpSpec::masked),
            name: m.name,
            description: m.description,
            parameters: m.parameters,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
