//! Message bodies: [`MessageCreate`], [`ChatMessageCreate`], the [`Message`] response (with
//! its [`MessageToolCall`]s) and the [`MessageDelta`] of a streamed reply.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::rules;
use crate::entities::message;

/// A user message to a conversation; the answer is the assistant's reply.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct MessageCreate {
    /// The text, 1..=100000 characters; required unless `transcribe` is `true`.
    #[garde(inner(length(chars, min = 1, max = rules::CONTENT_MAX)))]
    #[schema(min_length = 1, max_length = 100000, example = "What is the capital of France?")]
    pub content: Option<String>,
    /// Files to send with the text: ids of the caller's files (`POST /files`), at most 16.
    /// Images reach the model as images, text and PDF files as their text, audio only
    /// through `transcribe`; another user's or an unknown id is a `422` naming
    /// `attachments[i]`. The stored user message lists them.
    #[serde(default)]
    #[garde(length(max = rules::ATTACHMENTS_MAX))]
    #[schema(max_items = 16)]
    pub attachments: Vec<Uuid>,
    /// A voice turn: the first audio attachment is transcribed and the transcript is the
    /// message (`content` must then be absent); absent: `false`.
    #[serde(default)]
    #[garde(skip)]
    pub transcribe: bool,
    /// Add a spoken copy of the reply (an audio File, made by the default speech provider)
    /// to the assistant message's `attachments`; absent: `false`.
    #[serde(default)]
    #[garde(skip)]
    pub speak: bool,
    /// Answer with a Server-Sent Events stream instead of one JSON message
    /// (the same as sending `Accept: text/event-stream`); absent: `false`.
    // No `default` in the schema: generators read it as "always present" and would make
    // every client send the field.
    #[serde(default)]
    #[garde(skip)]
    pub stream: bool,
    /// What to do when the conversation already has an active run; absent: `enqueue`.
    #[serde(default)]
    #[garde(skip)]
    pub if_busy: Option<IfBusy>,
}

/// A user message, to an existing conversation or to a new one.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct ChatMessageCreate {
    /// The text, 1..=100000 characters; required unless `transcribe` is `true`.
    #[garde(inner(length(chars, min = 1, max = rules::CONTENT_MAX)))]
    #[schema(min_length = 1, max_length = 100000, example = "Hello!")]
    pub content: Option<String>,
    /// Files to send with the text: ids of the caller's files (`POST /files`), at most 16.
    /// Images reach the model as images, text and PDF files as their text, audio only
    /// through `transcribe`; another user's or an unknown id is a `422` naming
    /// `attachments[i]`. The stored user message lists them.
    #[serde(default)]
    #[garde(length(max = rules::ATTACHMENTS_MAX))]
    #[schema(max_items = 16)]
    pub attachments: Vec<Uuid>,
    /// A voice turn: the first audio attachment is transcribed and the transcript is the
    /// message (`content` must then be absent); absent: `false`.
    #[serde(default)]
    #[garde(skip)]
    pub transcribe: bool,
    /// Add a spoken copy of the reply (an audio File, made by the default speech provider)
    /// to the assistant message's `attachments`; absent: `false`.
    #[serde(default)]
    #[garde(skip)]
    pub speak: bool,
    /// One of the caller's conversations; absent: a new one is created, titled with the
    /// first 50 characters of `content`.
    #[garde(skip)]
    pub conversation_id: Option<Uuid>,
    /// The agent of a new conversation (one of the caller's live agents); with
    /// `conversation_id` it must be that conversation's agent.
    #[garde(skip)]
    pub agent_id: Option<Uuid>,
    /// Answer with a Server-Sent Events stream (the same as `Accept: text/event-stream`);
    /// absent: `false`.
    #[serde(default)]
    #[garde(skip)]
    pub stream: bool,
    /// What to do when the conversation already has an active run; absent: `enqueue`.
    #[serde(default)]
    #[garde(skip)]
    pub if_busy: Option<IfBusy>,
}

/// What a new run of a conversation does when another run of it is active (`queued`,
/// `running` or `requires_action`): a conversation has at most one active run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IfBusy {
    /// Wait behind the active run and start when it ends (its user message is stored
    /// then, so the history stays in order).
    #[default]
    Enqueue,
    /// Refuse: `409` problem with `code: "conversation_busy"` and `active_execution_id`.
    Reject,
    /// Cancel the active run (its partial reply is not stored), then run.
    Interrupt,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    /// Instructions framing the conversation.
    System,
    /// The human side.
    User,
    /// The model's side.
    Assistant,
    /// A tool's result.
    Tool,
}

impl From<message::Role> for MessageRole {
    fn from(role: message::Role) -> Self {
        match role {
            message::Role::System => Self::System,
            message::Role::User => Self::User,
            message::Role::Assistant => Self::Assistant,
            message::Role::Tool => Self::Tool,
        }
    }
}

/// A stored message as clients see it (read from its row by [`From`] without its
/// attachments, which the service adds: [`Message::with_attachments`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// UUID v7.
    pub id: Uuid,
    /// The conversation it belongs to.
    pub conversation_id: Uuid,
    /// Who wrote it.
    pub role: MessageRole,
    /// The text.
    pub content: String,
    /// The model that wrote it (assistant messages).
    pub model: Option<String>,
    /// Tokens spent producing it (assistant messages).
    pub usage: Option<llm::Usage>,
    /// The tools an assistant message called, in order; `null` on every other message.
    pub tool_calls: Option<Vec<MessageToolCall>>,
    /// On a `tool` message: the id of the call (in the assistant message before it) whose
    /// result `content` holds; `null` on every other message.
    pub tool_call_id: Option<String>,
    /// The run (execution) that wrote it: the reply's, and the user message it answered.
    pub execution_id: Option<Uuid>,
    /// The files attached to it, in order (`[]` for none): the user's attachments, or the
    /// spoken copy of a reply. A file deleted since is no longer listed.
    pub attachments: Vec<files::File>,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
}

impl Message {
    /// This message with its attachments.
    pub fn with_attachments(mut self, attachments: Vec<files::File>) -> Self {
        self.attachments = attachments;
        self
    }
}

impl From<message::Model> for Message {
    fn from(m: message::Model) -> Self {
        let tokens = |t: i32| u64::try_from(t).unwrap_or(0);
        let usage = match (m.prompt_tokens, m.completion_tokens) {
            (Some(prompt), Some(completion)) => Some(llm::Usage {
                prompt_tokens: tokens(prompt),
                completion_tokens: tokens(completion),
            }),
            _ => None,
        };
        let calls = m.calls();
        let tool_calls = (!calls.is_empty()).then(|| calls.into_iter().map(MessageToolCall::from).collect());
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            role: m.role.into(),
            content: m.content,
            model: m.model,
            usage,
            tool_calls,
            tool_call_id: m.tool_call_id,
            execution_id: m.execution_id,
            attachments: Vec::new(),
            created_at: m.created_at,
        }
    }
}

/// A call of a tool that an assistant message made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageToolCall {
    /// The call's id; the `tool` message holding its result has it as `tool_call_id`.
    #[schema(example = "call_0193c2d4e5f67a8b9c0d1e2f3a4b5c6d")]
    pub id: String,
    /// The tool's name, as the model called it.
    #[schema(example = "get_weather")]
    pub name: String,
    /// The arguments, a JSON object.
    #[schema(schema_with = arguments_schema)]
    pub arguments: serde_json::Value,
}

/// The OpenAPI schema of a call's `arguments`: an object whose keys hold any JSON value.
pub fn arguments_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)))
        .description(Some(
            "The arguments, a JSON object (`{}` when the model sent arguments that were not a \
             JSON object; the model's own text stays in the history it reads).",
        ))
        .examples([serde_json::json!({"city": "Paris"})])
        .build()
}

impl From<llm::ToolCall> for MessageToolCall {
    fn from(call: llm::ToolCall) -> Self {
        let arguments = match call.arguments {
            object @ serde_json::Value::Object(_) => object,
            _ => serde_json::Value::Object(serde_json::Map::new()),
        };
        Self {
            id: call.id,
            name: call.name,
            arguments,
        }
    }
}

/// The data of a `message.delta` event: the next piece of the reply's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageDelta {
    /// Text to append; the pieces concatenate to the stored reply.
    pub delta: String,
}
