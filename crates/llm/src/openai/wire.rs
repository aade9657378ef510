//! The Chat Completions wire format: request encoding and response decoding.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tool_call::parse_arguments;
use crate::{Attachment, ChatMessage, ChatRequest, ChatResponse, FinishReason, LlmError, Role, ToolCall, Usage};

#[derive(Serialize)]
struct CompletionRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    /// `null` only for an assistant turn that just calls tools.
    content: Option<WireContent<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

/// A message's content: plain text, or parts when files are attached.
#[derive(Serialize)]
#[serde(untagged)]
enum WireContent<'a> {
    Text(&'a str),
    Parts(Vec<WirePart<'a>>),
}

/// One part of a user message with attachments.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WirePart<'a> {
    Text { text: Cow<'a, str> },
    ImageUrl { image_url: WireImageUrl },
}

/// An image as a `data:` URL.
#[derive(Serialize)]
struct WireImageUrl {
    url: String,
}

#[derive(Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    r#type: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    /// A JSON text, as the API wants it.
    arguments: String,
}

#[derive(Serialize)]
struct WireTool<'a> {
    r#type: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    parameters: &'a Value,
}

/// The JSON body of a request; `stream` asks for SSE with a final usage chunk.
pub(super) fn request_body(req: &ChatRequest, stream: bool) -> Result<Vec<u8>, LlmError> {
    let system = req.system_prompt.as_deref().map(|text| WireMessage {
        role: Role::System.as_str(),
        content: Some(WireContent::Text(text)),
        tool_calls: Vec::new(),
        tool_call_id: None,
    });
    let body = CompletionRequest {
        model: &req.model,
        messages: system
            .into_iter()
            .chain(req.messages.iter().map(wire_message))
            .collect(),
        temperature: req.temperature,
        max_tokens: req.max_tokens,
        tools: req
            .tools
            .iter()
            .map(|tool| WireTool {
                r#type: "function",
                function: WireFunction {
                    name: &tool.name,
                    description: tool.description.as_deref(),
                    parameters: &tool.parameters,
                },
            })
            .collect(),
        stream,
        stream_options: stream.then_some(StreamOptions { include_usage: true }),
    };
    serde_json::to_vec(&body).map_err(|err| LlmError::Protocol(format!("could not encode the request: {err}")))
}

fn wire_message(message: &ChatMessage) -> WireMessage<'_> {
    let calls_only = message.role == Role::Assistant && message.content.is_empty() && !message.tool_calls.is_empty();
    WireMessage {
        role: message.role.as_str(),
        content: (!calls_only).then(|| content(message)),
        tool_calls: message
            .tool_calls
            .iter()
            .map(|call| WireToolCall {
                id: &call.id,
                r#type: "function",
                function: WireFunctionCall {
                    name: &call.name,
                    arguments: arguments_text(&call.arguments),
                },
            })
            .collect(),
        tool_call_id: message.tool_call_id.as_deref(),
    }
}

/// The text alone, or (with attachments) the text, each document's text and each image as
/// a `data:` URL, in that order.
fn content(message: &ChatMessage) -> WireContent<'_> {
    if message.attachments.is_empty() {
        return WireContent::Text(&message.content);
    }
    let text = (!message.content.is_empty()).then_some(WirePart::Text {
        text: Cow::Borrowed(message.content.as_str()),
    });
    let files = message.attachments.iter().map(|attachment| match attachment {
        Attachment::Image { media_type, data, .. } => WirePart::ImageUrl {
            image_url: WireImageUrl {
                url: Attachment::data_url(media_type, data),
            },
        },
        Attachment::Document { filename, text } => WirePart::Text {
            text: Cow::Owned(Attachment::document_text(filename, text)),
        },
    });
    WireContent::Parts(text.into_iter().chain(files).collect())
}

/// Arguments back as the JSON text the model produced (a kept raw string goes back verbatim).
fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    }
}

/// The non-streaming answer.
#[derive(Deserialize)]
pub(super) struct CompletionResponse {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ResponseMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ResponseMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ResponseToolCall>>,
}

#[derive(Deserialize)]
struct ResponseToolCall {
    #[serde(default)]
    id: String,
    function: ResponseFunction,
}

#[derive(Deserialize)]
struct ResponseFunction {
    name: String,
    /// A JSON text per the spec; some compatible servers send an object.
    #[serde(default)]
    arguments: Value,
}

/// Token counts as the API reports them.
#[derive(Debug, Clone, Copy, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        Self {
            prompt_tokens: u64::from(usage.prompt_tokens),
            completion_tokens: u64::from(usage.completion_tokens),
        }
    }
}

impl CompletionResponse {
    /// The first choice as a [`ChatResponse`]; `fallback_model` when the server names none.
    pub(super) fn into_response(self, fallback_model: &str) -> Result<ChatResponse, LlmError> {
        let choice = self
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| LlmError::Protocol("the response has no choices".into()))?;
        let tool_calls: Vec<ToolCall> = choice
            .message
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .map(|call| ToolCall {
                id: call.id,
                name: call.function.name,
                arguments: match call.function.arguments {
                    Value::String(raw) => parse_arguments(&raw),
                    Value::Null => parse_arguments(""),
                    object => object,
                },
            })
            .collect();
        Ok(ChatResponse {
            text: choice.message.content.unwrap_or_default(),
            finish_reason: finish_reason(choice.finish_reason.as_deref(), !tool_calls.is_empty()),
            tool_calls,
            usage: self.usage.map(Usage::from).unwrap_or_default(),
            model: self.model.unwrap_or_else(|| fallback_model.to_owned()),
        })
    }
}

/// The API's `finish_reason`; when absent, inferred from whether tools were called.
pub(super) fn finish_reason(reason: Option<&str>, called_tools: bool) -> FinishReason {
    match reason {
        Some("stop") => FinishReason::Stop,
        Some("length") => FinishReason::Length,
        Some("tool_calls" | "function_call") => FinishReason::ToolCalls,
        Some(other) => FinishReason::Other(other.to_owned()),
        None if called_tools => FinishReason::ToolCalls,
        None => FinishReason::Stop,
    }
}
