//! Agent bodies: [`AgentCreate`], [`AgentUpdate`] and the [`Agent`] response.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::rules::{self, default_temperature, metadata_keys, no_surrounding_whitespace, non_null, null_as_default};
use crate::entities::agent;

/// A new agent. `provider` must be one of the configured LLM providers (`echo` always is);
/// `tool_ids`, `subagent_ids` and `mcp_server_ids` must name the caller's own tools, live
/// agents and MCP servers.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct AgentCreate {
    /// Display name, 1..=100 characters, no leading or trailing whitespace.
    #[garde(length(chars, min = 1, max = rules::NAME_MAX), custom(no_surrounding_whitespace))]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^\S(?:[\s\S]*\S)?$",
        example = "Researcher"
    )]
    pub name: String,
    /// Free text, at most 2000 characters.
    #[garde(inner(length(chars, max = rules::DESCRIPTION_MAX)))]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// A configured LLM provider (`echo` always exists); absent: the configured default.
    #[garde(inner(length(chars, min = 1, max = 50)))]
    #[schema(min_length = 1, max_length = 50, example = "echo")]
    pub provider: Option<String>,
    /// Model name at the provider, 1..=100 of `[A-Za-z0-9._:/-]`.
    #[garde(pattern(r"^[A-Za-z0-9._:/-]{1,100}$"))]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[A-Za-z0-9._:/-]{1,100}$",
        example = "echo-1"
    )]
    pub model: String,
    /// System prompt, at most 32000 characters.
    #[garde(inner(length(chars, max = rules::SYSTEM_PROMPT_MAX)))]
    #[schema(max_length = 32000)]
    pub system_prompt: Option<String>,
    /// Sampling temperature, 0.0..=2.0; absent: 0.7.
    // No `default` in the schema: generators read it as "always present" and would make
    // every client send the field.
    #[serde(default = "default_temperature")]
    #[garde(range(min = 0.0, max = 2.0))]
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: f64,
    /// Reply length limit in tokens, 1..=200000.
    #[garde(inner(range(min = 1, max = rules::MAX_TOKENS_MAX)))]
    #[schema(minimum = 1, maximum = 200000)]
    pub max_tokens: Option<u32>,
    /// Ids of the caller's tools the agent may call, in order, each at most once.
    #[serde(default, deserialize_with = "null_as_default")]
    #[garde(length(max = rules::LINKS_MAX))]
    #[schema(max_items = 128, nullable = true)]
    pub tool_ids: Vec<Uuid>,
    /// Ids of the caller's live agents this agent may delegate to, in order, each at most once.
    #[serde(default, deserialize_with = "null_as_default")]
    #[garde(length(max = rules::LINKS_MAX))]
    #[schema(max_items = 128, nullable = true)]
    pub subagent_ids: Vec<Uuid>,
    /// Ids of the caller's MCP servers whose (allowed) tools the agent may call, in order,
    /// each at most once.
    #[serde(default, deserialize_with = "null_as_default")]
    #[garde(length(max = rules::LINKS_MAX))]
    #[schema(max_items = 128, nullable = true)]
    pub mcp_server_ids: Vec<Uuid>,
    /// Free-form JSON object of at most 16 keys (absent or `null`: `{}`).
    #[serde(default, deserialize_with = "null_as_default")]
    #[garde(custom(metadata_keys))]
    #[schema(schema_with = kernel::rules::metadata_schema)]
    pub metadata: Map<String, Value>,
}

/// A partial update: an absent field is unchanged; `null` clears `description`,
/// `system_prompt` and `max_tokens`, empties `tool_ids`, `subagent_ids`, `mcp_server_ids` and `metadata`,
/// and is refused for the other fields.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct AgentUpdate {
    /// New name, 1..=100 characters, no leading or trailing whitespace.
    #[serde(default, deserialize_with = "non_null")]
    #[garde(inner(length(chars, min = 1, max = rules::NAME_MAX), custom(no_surrounding_whitespace)))]
    #[schema(nullable = false, min_length = 1, max_length = 100, pattern = r"^\S(?:[\s\S]*\S)?$")]
    pub name: Option<String>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(chars, max = rules::DESCRIPTION_MAX))))]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    /// New provider, one of the configured ones.
    #[serde(default, deserialize_with = "non_null")]
    #[garde(inner(length(chars, min = 1, max = 50)))]
    #[schema(nullable = false, min_length = 1, max_length = 50)]
    pub provider: Option<String>,
    /// New model name, 1..=100 of `[A-Za-z0-9._:/-]`.
    #[serde(default, deserialize_with = "non_null")]
    #[garde(inner(pattern(r"^[A-Za-z0-9._:/-]{1,100}$")))]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = r"^[A-Za-z0-9._:/-]{1,100}$"
    )]
    pub model: Option<String>,
    /// New system prompt; `null` clears it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(chars, max = rules::SYSTEM_PROMPT_MAX))))]
    #[schema(value_type = Option<String>, max_length = 32000)]
    pub system_prompt: Option<Option<String>>,
    /// New sampling temperature, 0.0..=2.0.
    #[serde(default, deserialize_with = "non_null")]
    #[garde(inner(range(min = 0.0, max = 2.0)))]
    #[schema(nullable = false, minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f64>,
    /// New reply length limit, 1..=200000; `null` clears it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(range(min = 1, max = rules::MAX_TOKENS_MAX))))]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 200000)]
    pub max_tokens: Option<Option<u32>>,
    /// Replaces the tool list; `null` empties it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(max = rules::LINKS_MAX))))]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 128)]
    pub tool_ids: Option<Option<Vec<Uuid>>>,
    /// Replaces the sub-agent list; `null` empties it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(max = rules::LINKS_MAX))))]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 128)]
    pub subagent_ids: Option<Option<Vec<Uuid>>>,
    /// Replaces the MCP server list; `null` empties it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(max = rules::LINKS_MAX))))]
    #[schema(value_type = Option<Vec<Uuid>>, max_items = 128)]
    pub mcp_server_ids: Option<Option<Vec<Uuid>>>,
    /// Replaces the metadata object (at most 16 keys); `null` empties it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(custom(metadata_keys))))]
    #[schema(schema_with = kernel::rules::metadata_schema)]
    pub metadata: Option<Option<Map<String, Value>>>,
}

/// An agent as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    /// UUID v7.
    pub id: Uuid,
    /// The owning user.
    pub owner_id: Uuid,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// LLM provider name.
    pub provider: String,
    /// Model name at the provider.
    pub model: String,
    /// System prompt.
    pub system_prompt: Option<String>,
    /// Sampling temperature.
    pub temperature: f64,
    /// Reply length limit in tokens.
    pub max_tokens: Option<u32>,
    /// The tools the agent may call, in order.
    pub tool_ids: Vec<Uuid>,
    /// The live agents this agent may delegate to, in order.
    pub subagent_ids: Vec<Uuid>,
    /// The MCP servers whose allowed tools the agent may call, in order.
    #[serde(default)]
    pub mcp_server_ids: Vec<Uuid>,
    /// Free-form JSON object.
    #[schema(schema_with = kernel::rules::stored_metadata_schema)]
    pub metadata: Value,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// Last update time (RFC 3339, UTC).
    pub updated_at: DateTime<Utc>,
}

impl Agent {
    /// The response of a stored agent with its (live) links.
    pub fn from_model(m: agent::Model, tool_ids: Vec<Uuid>, subagent_ids: Vec<Uuid>) -> Self {
        Self {
            id: m.id,
            owner_id: m.owner_id,
            name: m.name,
            description: m.description,
            provider: m.provider,
            model: m.model,
            system_prompt: m.system_prompt,
            temperature: m.temperature,
            max_tokens: m.max_tokens.and_then(|t| u32::try_from(t).ok()),
            tool_ids,
            subagent_ids,
            mcp_server_ids: Vec::new(),
            metadata: m.metadata,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }

    /// The same agent with these MCP server links.
    pub fn with_mcp_server_ids(mut self, mcp_server_ids: Vec<Uuid>) -> Self {
        self.mcp_server_ids = mcp_server_ids;
        self
    }
}
