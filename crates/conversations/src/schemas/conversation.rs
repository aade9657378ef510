//! Conversation bodies: [`ConversationCreate`], [`ConversationUpdate`] and the [`Conversation`] response.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::rules::{self, metadata_keys, null_as_default};
use crate::entities::conversation;

/// A new conversation. `agent_id` must name one of the caller's live agents; without it,
/// replies come from the configured default provider and model.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct ConversationCreate {
    /// The agent that replies in it (one of the caller's live agents).
    #[garde(skip)]
    pub agent_id: Option<Uuid>,
    /// Display title, at most 200 characters.
    #[garde(inner(length(chars, max = rules::TITLE_MAX)))]
    #[schema(max_length = 200, example = "Trip planning")]
    pub title: Option<String>,
    /// Free-form JSON object of at most 16 keys (absent or `null`: `{}`).
    #[serde(default, deserialize_with = "null_as_default")]
    #[garde(custom(metadata_keys))]
    #[schema(schema_with = kernel::rules::metadata_schema)]
    pub metadata: Map<String, Value>,
}

/// A partial update: an absent field is unchanged; `null` clears `title` and empties `metadata`.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct ConversationUpdate {
    /// New title, at most 200 characters; `null` clears it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(chars, max = rules::TITLE_MAX))))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub title: Option<Option<String>>,
    /// Replaces the metadata object (at most 16 keys); `null` empties it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(custom(metadata_keys))))]
    #[schema(schema_with = kernel::rules::metadata_schema)]
    pub metadata: Option<Option<Map<String, Value>>>,
}

/// A conversation as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    /// UUID v7.
    pub id: Uuid,
    /// The owning user.
    pub owner_id: Uuid,
    /// The agent replying in it; it may have been deleted since.
    pub agent_id: Option<Uuid>,
    /// Display title.
    pub title: Option<String>,
    /// Free-form JSON object.
    #[schema(schema_with = kernel::rules::stored_metadata_schema)]
    pub metadata: Value,
    /// Number of stored messages.
    pub message_count: u64,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// Last update time (RFC 3339, UTC); moved by every new message.
    pub updated_at: DateTime<Utc>,
}

impl From<conversation::Model> for Conversation {
    fn from(m: conversation::Model) -> Self {
        Self {
            id: m.id,
            owner_id: m.owner_id,
            agent_id: m.agent_id,
            title: m.title,
            metadata: m.metadata,
            message_count: u64::try_from(m.message_count).unwrap_or(0),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
