//! The Messages API wire format: request encoding and response decoding.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Attachment, ChatMessage, ChatRequest, ChatResponse, FinishReason, LlmError, Role, ToolCall, Usage};

/// Anthropic requires `max_tokens`; this is sent when the request sets none.
pub(super) const DEFAULT_MAX_TOKENS: u32 = 1024;

#[derive(Serialize)]
struct MessagesRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: Vec<RequestBlock<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum RequestBlock<'a> {
    Text { text: Cow<'a, str> },
    Image { source: ImageSource<'a> },
    ToolUse { id: &'a str, name: &'a str, input: Value },
    ToolResult { tool_use_id: &'a str, content: &'a str },
}

/// An image's bytes, inline.
#[derive(Serialize)]
struct ImageSource<'a> {
    r#type: &'static str,
    media_type: &'a str,
    data: &'a str,
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    input_schema: &'a Value,
}

/// The JSON body of a request. System messages of the history join the system prompt
/// (the API has no system role); tool results travel as `user` turns; consecutive turns
/// of one role merge, since the API wants user and assistant to alternate.
pub(super) fn request_body(req: &ChatRequest, stream: bool) -> Result<Vec<u8>, LlmError> {
    let system_parts: Vec<&str> = req
        .system_prompt
        .as_deref()
        .into_iter()
        .chain(
            req.messages
                .iter()
                .filter(|m| m.role == Role::System)
                .map(|m| m.content.as_str()),
        )
        .filter(|text| !text.is_empty())
        .collect();
    let mut messages: Vec<WireMessage<'_>> = Vec::new();
    for message in req.messages.iter().filter(|m| m.role != Role::System) {
        let role = if message.role == Role::Assistant {
            "assistant"
        } else {
            "user"
        };
        let blocks = blocks(message);
        match messages.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => messages.push(WireMessage { role, content: blocks }),
        }
    }
    let body = MessagesRequest {
        model: &req.model,
        max_tokens: req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        system: (!system_parts.is_empty()).then(|| system_parts.join("\n\n")),
        messages,
        temperature: req.temperature,
        tools: req
            .tools
            .iter()
            .map(|tool| WireTool {
                name: &tool.name,
                description: tool.description.as_deref(),
                input_schema: &tool.parameters,
            })
            .collect(),
        stream,
    };
    serde_json::to_vec(&body).map_err(|err| LlmError::Protocol(format!("could not encode the request: {err}")))
}

fn blocks(message: &ChatMessage) -> Vec<RequestBlock<'_>> {
    if let (Role::Tool, Some(id)) = (message.role, message.tool_call_id.as_deref()) {
        return vec![RequestBlock::ToolResult {
            tool_use_id: id,
            content: &message.content,
        }];
    }
    // Attached images come first (as the API advises), then documents, then the text.
    let files = message.attachments.iter().map(|attachment| match attachment {
        Attachment::Image { media_type, data, .. } => RequestBlock::Image {
            source: ImageSource {
                r#type: "base64",
                media_type,
                data,
            },
        },
        Attachment::Document { filename, text } => RequestBlock::Text {
            text: Cow::Owned(Attachment::document_text(filename, text)),
        },
    });
    // The API rejects empty text blocks; an assistant turn may consist of tool calls alone,
    // and a user turn of attachments alone.
    let text = (!message.content.is_empty() || (message.tool_calls.is_empty() && message.attachments.is_empty()))
        .then_some(RequestBlock::Text {
            text: Cow::Borrowed(&message.content),
        });
    files
        .chain(text)
        .chain(message.tool_calls.iter().map(|call| RequestBlock::ToolUse {
            id: &call.id,
            name: &call.name,
            input: tool_input(&call.arguments),
        }))
        .collect()
}

/// A tool call's input must be an object; arguments kept as raw text (invalid JSON) cannot be.
fn tool_input(arguments: &Value) -> Value {
    match arguments {
        Value::Object(_) => arguments.clone(),
        _ => Value::Object(Map::new()),
    }
}

/// A content block of an answer.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ResponseBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    #[serde(other)]
    Other,
}

/// Token counts as the API reports them; cached input counts as prompt tokens too.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub(super) input_tokens: Option<u32>,
    #[serde(default)]
    pub(super) output_tokens: Option<u32>,
    #[serde(default)]
    pub(super) cache_creation_input_tokens: Option<u32>,
    #[serde(default)]
    pub(super) cache_read_input_tokens: Option<u32>,
}

impl WireUsage {
    /// Applies a later report: fields it carries replace the earlier ones.
    pub(super) fn update(&mut self, later: WireUsage) {
        self.input_tokens = later.input_tokens.or(self.input_tokens);
        self.output_tokens = later.output_tokens.or(self.output_tokens);
        self.cache_creation_input_tokens = later.cache_creation_input_tokens.or(self.cache_creation_input_tokens);
        self.cache_read_input_tokens = later.cache_read_input_tokens.or(self.cache_read_input_tokens);
    }
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        let prompt = [
            usage.input_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
        ]
        .into_iter()
        .flatten()
        .fold(0u32, u32::saturating_add);
        Self {
            prompt_tokens: u64::from(prompt),
            completion_tokens: u64::from(usage.output_tokens.unwrap_or(0)),
        }
    }
}

/// The non-streaming answer.
#[derive(Deserialize)]
pub(super) struct MessagesResponse {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    content: Vec<ResponseBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
}

impl MessagesResponse {
    /// As a [`ChatResponse`]; `fallback_model` when the server names none.
    pub(super) fn into_response(self, fallback_model: &str) -> ChatResponse {
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in self.content {
            match block {
                ResponseBlock::Text { text: part } => text.push_str(&part),
                ResponseBlock::ToolUse { id, name, input } => {
                    tool_calls.push(ToolCall {
                        id,
                        name,
                        arguments: object_or_empty(input),
                    });
                }
                ResponseBlock::Other => {}
            }
        }
        ChatResponse {
            text,
            finish_reason: stop_reason(self.stop_reason.as_deref(), !tool_calls.is_empty()),
            tool_calls,
            usage: self.usage.into(),
            model: self.model.unwrap_or_else(|| fallback_model.to_owned()),
        }
    }
}

/// `input` as sent, `{}` when absent.
pub(super) fn object_or_empty(input: Value) -> Value {
    if input.is_null() {
        Value::Object(Map::new())
    } else {
        input
    }
}

/// The API's `stop_reason`; when absent, inferred from whether tools were called.
pub(super) fn stop_reason(reason: Option<&str>, called_tools: bool) -> FinishReason {
    match reason {
        Some("end_turn" | "stop_sequence") => FinishReason::Stop,
        Some("max_tokens") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some(other) => FinishReason::Other(other.to_owned()),
        None if called_tools => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    }
}
