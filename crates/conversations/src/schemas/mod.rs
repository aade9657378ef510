//! Request and response bodies of the conversation and chat routes, with their validation rules.
//!
//! Each garde rule is mirrored in `#[schema(...)]` so generated clients know the limits;
//! rules that need the database (owned agents and conversations) live in the service.

mod conversation;
mod message;
pub mod rules;

pub use conversation::{Conversation, ConversationCreate, ConversationUpdate};
pub use message::{
    ChatMessageCreate, IfBusy, Message, MessageCreate, MessageDelta, MessageRole, MessageToolCall, arguments_schema,
};

use garde::Validate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Filter and paging of the conversation list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationListQuery {
    /// Only the conversations of this agent.
    #[garde(skip)]
    pub agent_id: Option<Uuid>,
    /// Page size.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Cursor from the previous page's `next_cursor`.
    #[garde(skip)]
    pub cursor: Option<String>,
}

/// Listing order of messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageOrder {
    /// Oldest first (the default).
    #[default]
    Asc,
    /// Newest first.
    Desc,
}

/// Order and paging of a conversation's messages.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageListQuery {
    /// `asc` (oldest first, the default) or `desc` (newest first).
    #[garde(skip)]
    #[param(inline)]
    pub order: Option<MessageOrder>,
    /// Page size.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Cursor from the previous page's `next_cursor`.
    #[garde(skip)]
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use utoipa::PartialSchema;

    use super::*;

    fn spec<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).expect("a schema serializes")
    }

    #[test]
    fn limits_are_mirrored_in_the_openapi_schema() {
        for content in [
            spec::<MessageCreate>()["properties"]["content"].clone(),
            spec::<ChatMessageCreate>()["properties"]["content"].clone(),
        ] {
            assert_eq!(
                (content["minLength"].clone(), content["maxLength"].clone()),
                (json!(1), json!(100000))
            );
        }
        assert_eq!(
            spec::<ChatMessageCreate>()["required"],
            Value::Null,
            "content may be absent with transcribe"
        );
        assert_eq!(spec::<MessageCreate>()["properties"]["attachments"]["maxItems"], 16);
        assert_eq!(spec::<ConversationCreate>()["properties"]["title"]["maxLength"], 200);
        assert_eq!(
            spec::<ConversationUpdate>()["properties"]["title"]["type"],
            json!(["string", "null"])
        );
        assert_eq!(spec::<MessageOrder>()["enum"], json!(["asc", "desc"]));
        assert_eq!(
            spec::<MessageRole>()["enum"],
            json!(["system", "user", "assistant", "tool"])
        );
    }
}
