//! `POST /v1/responses` and the response object, as OpenAI publishes them (the Open
//! Responses subset: text or item input, `instructions`, `previous_response_id`, `stream`,
//! `background`, `store`, function `tools`, `metadata`). A response is an execution: its
//! `id` is the execution's.

use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::chat::MODEL_MAX;

/// The most input items one request carries.
pub const ITEMS_MAX: usize = 1000;

/// A response request.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct ResponseCreate {
    /// The agent answering: its id, or its name when no other live agent of yours has it.
    #[garde(length(min = 1, max = MODEL_MAX))]
    #[schema(min_length = 1, max_length = 256, example = "writer")]
    pub model: String,
    /// A user message as text, or input items: messages (`role`, `content`),
    /// `function_call` and `function_call_output` items.
    #[garde(skip)]
    pub input: Option<ResponseInput>,
    /// A system message before the input (not carried over by `previous_response_id`).
    #[garde(inner(length(chars, max = 32000)))]
    #[schema(max_length = 32000)]
    pub instructions: Option<String>,
    /// Continue after this response of yours: its input and output come first.
    #[garde(inner(length(max = 64)))]
    #[schema(max_length = 64)]
    pub previous_response_id: Option<String>,
    /// Stream the response as typed Server-Sent Events.
    #[garde(skip)]
    pub stream: Option<bool>,
    /// Answer at once with the `queued` response; read it later with `GET /v1/responses/{id}`.
    #[garde(skip)]
    pub background: Option<bool>,
    /// Accepted: every response is kept (as an execution) until you delete it.
    #[garde(skip)]
    pub store: Option<bool>,
    /// Function tools your program runs (calls come back as `function_call` items).
    #[garde(inner(length(max = super::chat::TOOLS_MAX)))]
    #[schema(max_items = 128)]
    pub tools: Option<Vec<ResponseTool>>,
    /// `none`, `auto` (default), `required`, or `{"type": "function", "name": …}`.
    #[garde(skip)]
    pub tool_choice: Option<ResponseToolChoice>,
    /// Your key-value pairs, at most 16, given back with the response.
    #[garde(inner(custom(kernel::rules::metadata_keys)))]
    #[schema(schema_with = super::any_object)]
    pub metadata: Option<Map<String, Value>>,
    /// Sampling temperature, 0..=2 (absent: the agent's).
    #[garde(inner(range(min = 0.0, max = 2.0)))]
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f64>,
    /// The longest answer, in tokens (absent: the agent's limit).
    #[garde(inner(range(min = 1, max = 200_000)))]
    #[schema(minimum = 1, maximum = 200000)]
    pub max_output_tokens: Option<u32>,
}

/// A response's input.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ResponseInput {
    /// One user message.
    Text(String),
    /// Items, oldest first.
    Items(Vec<InputItem>),
}

/// One input item: a message (`role`, `content`; `type` may be left out), a
/// `function_call` (`call_id`, `name`, `arguments`) or a `function_call_output`
/// (`call_id`, `output`). Other types are refused, naming the item.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct InputItem {
    /// `message` (default when `role` is given), `function_call` or `function_call_output`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A message's role: `user`, `assistant`, `system` or `developer`.
    pub role: Option<String>,
    /// A message's text, or its parts (`input_text`, `output_text`).
    pub content: Option<ItemContent>,
    /// The call a `function_call` or `function_call_output` is about.
    pub call_id: Option<String>,
    /// A `function_call`'s function name.
    pub name: Option<String>,
    /// A `function_call`'s arguments, JSON text.
    pub arguments: Option<String>,
    /// A `function_call_output`'s result: text, or text parts.
    pub output: Option<ItemContent>,
}

/// Text, or text parts.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ItemContent {
    /// Text.
    Text(String),
    /// Parts, joined with newlines.
    Parts(Vec<ItemPart>),
}

/// One part of an item's content.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ItemPart {
    /// `input_text` or `output_text` (others are refused, naming the part).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    pub text: Option<String>,
}

/// A tool offered to the model: only `function` tools.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResponseTool {
    /// `function` (others are refused, naming the tool).
    #[serde(rename = "type")]
    pub kind: String,
    /// The function's name, `^[A-Za-z0-9_-]{1,64}$`.
    pub name: Option<String>,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = super::any_object)]
    pub parameters: Option<Map<String, Value>>,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// Which tools the model is offered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ResponseToolChoice {
    /// `none`, `auto` or `required`.
    Mode(super::chat::ToolChoiceMode),
    /// Only this function.
    Named(NamedFunction),
}

/// A tool choice naming one function.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NamedFunction {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: super::chat::FunctionType,
    /// The function's name.
    pub name: String,
}

/// The settings of a response request, kept with its run to show it back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseSettings {
    /// The request's `model`.
    pub model: String,
    /// The request's `instructions`.
    pub instructions: Option<String>,
    /// The response it continued.
    pub previous_response_id: Option<String>,
    /// Whether it ran in the background.
    pub background: bool,
    /// The request's `store`.
    pub store: bool,
    /// The tools as given.
    pub tools: Vec<Value>,
    /// The tool choice as given (`auto` when absent).
    pub tool_choice: Value,
    /// The request's `temperature`.
    pub temperature: Option<f64>,
    /// The request's `max_output_tokens`.
    pub max_output_tokens: Option<u32>,
    /// The request's `metadata`.
    pub metadata: Map<String, Value>,
}

/// The `object` of a response: always `response`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseObjectKind {
    /// A response.
    Response,
}

/// Where a response is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Waiting for a worker.
    Queued,
    /// Running.
    InProgress,
    /// Answered (with text, or with `function_call` items for your program).
    Completed,
    /// Failed (see `error`).
    Failed,
    /// Cancelled.
    Cancelled,
}

/// Why a response failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResponseError {
    /// `server_error`.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// Tokens a response spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResponseUsage {
    /// Tokens read.
    pub input_tokens: u64,
    /// Always `{cached_tokens: 0}`.
    pub input_tokens_details: InputTokensDetails,
    /// Tokens written.
    pub output_tokens: u64,
    /// Always `{reasoning_tokens: 0}`.
    pub output_tokens_details: OutputTokensDetails,
    /// Their sum.
    pub total_tokens: u64,
}

/// Details of the input tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InputTokensDetails {
    /// Always 0.
    pub cached_tokens: u64,
}

/// Details of the output tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutputTokensDetails {
    /// Always 0.
    pub reasoning_tokens: u64,
}

impl From<llm::Usage> for ResponseUsage {
    fn from(usage: llm::Usage) -> Self {
        Self {
            input_tokens: usage.prompt_tokens,
            input_tokens_details: InputTokensDetails { cached_tokens: 0 },
            output_tokens: usage.completion_tokens,
            output_tokens_details: OutputTokensDetails { reasoning_tokens: 0 },
            total_tokens: usage.prompt_tokens.saturating_add(usage.completion_tokens),
        }
    }
}

/// A text part of an output message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutputText {
    /// Always `output_text`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    pub text: String,
    /// Always empty.
    #[schema(value_type = Vec<String>)]
    pub annotations: Vec<Value>,
}

impl OutputText {
    /// A text part holding `text`.
    pub fn new(text: String) -> Self {
        Self {
            kind: "output_text".into(),
            text,
            annotations: Vec::new(),
        }
    }
}

/// One output item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputItem {
    /// The assistant's text.
    Message {
        /// `msg_` and the response's id.
        id: String,
        /// `in_progress` while it is written, then `completed`.
        status: String,
        /// Always `assistant`.
        role: String,
        /// The text parts.
        content: Vec<OutputText>,
    },
    /// A call of one of your functions: run it and answer with a `function_call_output`
    /// item in a request with `previous_response_id`.
    FunctionCall {
        /// `fc_` and the call's id.
        id: String,
        /// The call's id (answer it with this `call_id`).
        call_id: String,
        /// The function's name.
        name: String,
        /// The arguments, JSON text.
        arguments: String,
        /// `in_progress` while it is written, then `completed`.
        status: String,
    },
}

/// A response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Response {
    /// The execution's id.
    pub id: String,
    /// Always `response`.
    pub object: ResponseObjectKind,
    /// When it was created, Unix seconds.
    pub created_at: i64,
    /// When it ended, Unix seconds.
    pub completed_at: Option<i64>,
    /// Where it is.
    pub status: ResponseStatus,
    /// Whether it runs in the background.
    pub background: bool,
    /// Why it failed.
    pub error: Option<ResponseError>,
    /// Always `null`.
    #[schema(value_type = Option<String>)]
    pub incomplete_details: Option<()>,
    /// The request's instructions.
    pub instructions: Option<String>,
    /// The request's token limit.
    pub max_output_tokens: Option<u32>,
    /// The request's metadata.
    #[schema(schema_with = super::any_object)]
    pub metadata: Map<String, Value>,
    /// The request's `model`.
    pub model: String,
    /// Text and function calls, in order.
    pub output: Vec<OutputItem>,
    /// Always `true`.
    pub parallel_tool_calls: bool,
    /// The response it continued.
    pub previous_response_id: Option<String>,
    /// The request's `store`.
    pub store: bool,
    /// The request's temperature.
    pub temperature: Option<f64>,
    /// The request's tool choice.
    #[schema(value_type = String)]
    pub tool_choice: Value,
    /// The request's tools.
    #[schema(value_type = Vec<ResponseTool>)]
    pub tools: Vec<Value>,
    /// Always `null`.
    pub top_p: Option<f64>,
    /// Always `disabled`.
    pub truncation: String,
    /// Tokens spent, once it stopped.
    pub usage: Option<ResponseUsage>,
}

/// `DELETE /v1/responses/{id}`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResponseDeleted {
    /// The deleted response's id.
    pub id: String,
    /// Always `response`.
    pub object: ResponseObjectKind,
    /// Always `true`.
    pub deleted: bool,
}

/// The query of `GET /v1/responses/{id}`.
#[derive(Debug, Clone, Default, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResponseQuery {
    /// Stream the response's events (replayed from its log, then live).
    #[garde(skip)]
    pub stream: Option<bool>,
    /// With `stream`: only events whose `sequence_number` is greater.
    #[garde(inner(range(min = 0)))]
    #[param(minimum = 0)]
    pub starting_after: Option<i64>,
}

/// One streamed event of a response (`event: <type>` and `data:` this object):
/// `response.queued`/`created`, `response.in_progress`, `response.output_item.added`,
/// `response.content_part.added`, `response.output_text.delta`/`.done`,
/// `response.content_part.done`, `response.function_call_arguments.delta`/`.done`,
/// `response.output_item.done`, then `response.completed` or `response.failed`, or `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ResponseStreamEvent {
    /// The event's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its position among the response's events: 0, 1, 2… the same on every replay.
    pub sequence_number: i64,
    /// The members of that type of event (`response`, `item`, `delta`, `output_index`…).
    #[serde(flatten)]
    #[schema(schema_with = super::any_object)]
    pub members: Map<String, Value>,
}
