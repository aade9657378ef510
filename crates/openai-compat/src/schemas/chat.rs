//! The body of `POST /v1/chat/completions`, as OpenAI publishes it. Parameters Agentry does
//! not support are read so that asking for them is a `422` naming them, never silently
//! ignored: `n` > 1, `logprobs`, `top_logprobs`, `audio` and audio `modalities`, a
//! `response_format` other than text, the deprecated `functions`, and image, audio or file
//! parts in messages. Other unknown members (`top_p`, `seed`, `user`, `stop`…) are ignored.

use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The most messages one request carries.
pub const MESSAGES_MAX: usize = 1000;
/// The most tools one request offers.
pub const TOOLS_MAX: usize = 128;
/// The longest model name or id.
pub const MODEL_MAX: usize = 256;

/// A chat completion request: the history (`messages`, after the agent's own system
/// prompt) and how to answer it.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct ChatCompletionCreate {
    /// The agent answering: its id, or its name when no other live agent of yours has it.
    #[garde(length(min = 1, max = MODEL_MAX))]
    #[schema(min_length = 1, max_length = 256, example = "writer")]
    pub model: String,
    /// The conversation so far, oldest first (it follows the agent's system prompt).
    #[garde(length(min = 1, max = MESSAGES_MAX))]
    #[schema(min_items = 1, max_items = 1000)]
    pub messages: Vec<ChatMessageParam>,
    /// Stream the answer as Server-Sent Events (`data: {chunk}` lines, then `data: [DONE]`).
    #[garde(skip)]
    pub stream: Option<bool>,
    /// With `stream`: `include_usage` adds a last chunk holding the token usage.
    #[garde(skip)]
    pub stream_options: Option<StreamOptions>,
    /// Keep the answer as a run of the agent: an execution under `/api/v1/executions`
    /// (cancellable there; its id in the `X-Execution-Id` header). Without it, an answer that
    /// needs only the model (the agent has no tools, MCP servers or sub-agents, or
    /// `tool_choice` offers none of them) is stored nowhere; an answer that runs the agent's
    /// tools is a run either way.
    #[garde(skip)]
    pub store: Option<bool>,
    /// Sampling temperature, 0..=2 (absent: the agent's).
    #[garde(inner(range(min = 0.0, max = 2.0)))]
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f64>,
    /// Deprecated name of `max_completion_tokens`.
    #[garde(inner(range(min = 1, max = 200_000)))]
    #[schema(minimum = 1, maximum = 200000)]
    pub max_tokens: Option<u32>,
    /// The longest answer, in tokens (absent: the agent's limit).
    #[garde(inner(range(min = 1, max = 200_000)))]
    #[schema(minimum = 1, maximum = 200000)]
    pub max_completion_tokens: Option<u32>,
    /// Functions the model may call; calls of them come back as `tool_calls` (your program
    /// runs them), besides the agent's own tools.
    #[garde(inner(length(max = TOOLS_MAX)))]
    #[schema(max_items = 128)]
    pub tools: Option<Vec<ToolParam>>,
    /// `none` offers no tool at all, `auto` (default) and `required` offer them all, a named
    /// function offers only that one of `tools`.
    #[garde(skip)]
    pub tool_choice: Option<ToolChoice>,
    /// How many answers: only 1 is supported.
    #[garde(inner(range(min = 1, max = 1)))]
    #[schema(minimum = 1, maximum = 1)]
    pub n: Option<u32>,
    /// Not supported: must be absent or false.
    #[garde(skip)]
    pub logprobs: Option<bool>,
    /// Not supported: must be absent.
    #[garde(skip)]
    #[schema(value_type = Option<u32>)]
    pub top_logprobs: Option<Value>,
    /// Not supported (audio output): must be absent.
    #[garde(skip)]
    #[schema(schema_with = super::any_object)]
    pub audio: Option<Value>,
    /// Output modalities: only `["text"]` is supported.
    #[garde(skip)]
    pub modalities: Option<Vec<String>>,
    /// Only `{"type": "text"}` is supported.
    #[garde(skip)]
    pub response_format: Option<ResponseFormat>,
    /// Deprecated (use `tools`): not supported.
    #[garde(skip)]
    #[schema(schema_with = super::any_objects)]
    pub functions: Option<Value>,
}

/// Options of a streamed answer.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct StreamOptions {
    /// Send a last chunk, before `data: [DONE]`, with `usage` and no choices (every other
    /// chunk then has `usage: null`).
    pub include_usage: Option<bool>,
}

/// The requested format of the answer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ResponseFormat {
    /// `text` (the only one supported), `json_object` or `json_schema`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One message of the history, by `role`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatMessageParam {
    /// Instructions (after the agent's system prompt).
    System {
        /// The text.
        content: MessageContent,
        /// Ignored.
        name: Option<String>,
    },
    /// Instructions, as newer models name them (treated as `system`).
    Developer {
        /// The text.
        content: MessageContent,
        /// Ignored.
        name: Option<String>,
    },
    /// The user's message.
    User {
        /// The text (text parts only).
        content: MessageContent,
        /// Ignored.
        name: Option<String>,
    },
    /// An earlier answer, with the tools it called.
    Assistant {
        /// The text (`null` when it only called tools).
        content: Option<MessageContent>,
        /// The calls it made.
        tool_calls: Option<Vec<ToolCallParam>>,
        /// Ignored.
        name: Option<String>,
        /// Ignored.
        refusal: Option<String>,
    },
    /// The result of one tool call.
    Tool {
        /// The result.
        content: MessageContent,
        /// The call it answers.
        tool_call_id: String,
    },
}

/// A message's content: a string, or an array of parts (only `text` parts are supported).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Parts, joined with newlines.
    Parts(Vec<ContentPart>),
}

/// One part of a message's content.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ContentPart {
    /// `text` (supported), `refusal` (read as text), `image_url`, `input_audio` or `file`
    /// (refused: `422` naming the part).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    pub text: Option<String>,
    /// The text of a `refusal` part.
    pub refusal: Option<String>,
}

/// A tool call of an earlier assistant message.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ToolCallParam {
    /// The call's id (its `tool` message answers it by this id).
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: FunctionType,
    /// The function called.
    pub function: FunctionCall,
}

/// The type of a tool: only `function`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FunctionType {
    /// A function.
    Function,
}

/// A function call: its name and its arguments as JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FunctionCall {
    /// The function's name.
    pub name: String,
    /// The arguments, a JSON object as text.
    pub arguments: String,
}

/// A function the model may call.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ToolParam {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: FunctionType,
    /// The function.
    pub function: FunctionDefinition,
}

/// A function's definition.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FunctionDefinition {
    /// Its name, `^[A-Za-z0-9_-]{1,64}$`.
    #[schema(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub name: String,
    /// What it does, for the model.
    pub description: Option<String>,
    /// JSON Schema of its arguments object (absent: no arguments).
    #[schema(schema_with = super::any_object)]
    pub parameters: Option<Map<String, Value>>,
    /// Ignored.
    pub strict: Option<bool>,
}

/// Which tools the model is offered.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `none`, `auto` or `required`.
    Mode(ToolChoiceMode),
    /// Only this function of `tools`.
    Named(NamedToolChoice),
}

/// A tool choice by keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoiceMode {
    /// Offer no tool.
    None,
    /// Offer every tool (the default).
    Auto,
    /// Offer every tool (a call is not enforced).
    Required,
}

/// A tool choice naming one function.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NamedToolChoice {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: FunctionType,
    /// The function.
    pub function: FunctionName,
}

/// A function's name.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct FunctionName {
    /// The name.
    pub name: String,
}
