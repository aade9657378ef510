//! What `POST /v1/chat/completions` answers: a `chat.completion`, or a stream of
//! `chat.completion.chunk`s, exactly as OpenAI publishes them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::chat::{FunctionCall, FunctionType};

/// The `object` of a whole answer: always `chat.completion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CompletionObject {
    /// A chat completion.
    #[serde(rename = "chat.completion")]
    ChatCompletion,
}

/// The `object` of a streamed piece: always `chat.completion.chunk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ChunkObject {
    /// A chunk of a chat completion.
    #[serde(rename = "chat.completion.chunk")]
    ChatCompletionChunk,
}

/// The role of an answer: always `assistant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssistantRole {
    /// The model.
    Assistant,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// It answered.
    Stop,
    /// It reached the token limit.
    Length,
    /// It called tools your program runs (see `tool_calls`).
    ToolCalls,
}

/// Tokens spent on the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CompletionUsage {
    /// Tokens read (every model turn of the run).
    pub prompt_tokens: u64,
    /// Tokens written.
    pub completion_tokens: u64,
    /// Their sum.
    pub total_tokens: u64,
}

impl From<llm::Usage> for CompletionUsage {
    fn from(usage: llm::Usage) -> Self {
        Self {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            total_tokens: usage.prompt_tokens.saturating_add(usage.completion_tokens),
        }
    }
}

/// A tool call the model made, for your program to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolCallOut {
    /// The call's id: answer it with a `tool` message carrying this `tool_call_id`.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: FunctionType,
    /// The function and its arguments (JSON text).
    pub function: FunctionCall,
}

/// The answer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssistantMessage {
    /// Always `assistant`.
    pub role: AssistantRole,
    /// The text (`null` when the model only called tools).
    pub content: Option<String>,
    /// Always `null`.
    pub refusal: Option<String>,
    /// The calls for your program to run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallOut>>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Choice {
    /// Always 0.
    pub index: u32,
    /// The answer.
    pub message: AssistantMessage,
    /// Always `null`.
    #[schema(value_type = Option<String>)]
    pub logprobs: Option<()>,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
}

/// A whole chat completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatCompletion {
    /// `chatcmpl-` and the id of the execution that answered.
    pub id: String,
    /// Always `chat.completion`.
    pub object: CompletionObject,
    /// When it was created, Unix seconds.
    pub created: i64,
    /// The `model` of the request.
    pub model: String,
    /// The one answer.
    pub choices: Vec<Choice>,
    /// Tokens spent by the run.
    pub usage: CompletionUsage,
    /// Always `null`.
    #[schema(value_type = Option<String>)]
    pub system_fingerprint: Option<()>,
}

/// A piece of a tool call in a chunk (sent whole, in one chunk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolCallDelta {
    /// The call's position among the answer's calls.
    pub index: u32,
    /// The call's id.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: FunctionType,
    /// The function and its arguments (JSON text).
    pub function: FunctionCall,
}

/// What a chunk adds to the answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delta {
    /// `assistant`, in the first chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<AssistantRole>,
    /// More text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
}

/// One answer's piece.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChunkChoice {
    /// Always 0.
    pub index: u32,
    /// What this chunk adds.
    pub delta: Delta,
    /// Always `null`.
    #[schema(value_type = Option<String>)]
    pub logprobs: Option<()>,
    /// Set in the last chunk of the answer.
    pub finish_reason: Option<FinishReason>,
}

/// One `data:` line of a streamed chat completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChatCompletionChunk {
    /// The same for every chunk of the answer (`chatcmpl-` and the execution's id).
    pub id: String,
    /// Always `chat.completion.chunk`.
    pub object: ChunkObject,
    /// When the answer was created, Unix seconds.
    pub created: i64,
    /// The `model` of the request.
    pub model: String,
    /// Always `null`.
    #[schema(value_type = Option<String>)]
    pub system_fingerprint: Option<()>,
    /// The answer's piece (empty in the usage chunk).
    pub choices: Vec<ChunkChoice>,
    /// With `stream_options.include_usage`: `null`, and the usage in the last chunk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CompletionUsage>)]
    pub usage: Option<Option<CompletionUsage>>,
}

/// The id of the chat completion answered by execution `id`.
pub fn completion_id(id: uuid::Uuid) -> String {
    format!("chatcmpl-{}", id.simple())
}
