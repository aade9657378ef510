//! Tool bodies: [`ToolCreate`], [`ToolUpdate`] and the [`Tool`] response.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

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
}

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
            name: m.name,
            description: m.description,
            parameters: m.parameters,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
