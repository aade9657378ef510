//! OpenAI's request shapes into the engine's: messages into the provider-neutral history,
//! `tools` into function definitions, and every parameter Agentry does not support into a
//! `422` naming it (all of them at once).

use kernel::FieldError;
use llm::{ChatMessage, Role, ToolCall, ToolDefinition};
use serde_json::{Map, Value};

use crate::schemas::chat::{
    ChatCompletionCreate, ChatMessageParam, MessageContent, ToolCallParam, ToolChoice, ToolChoiceMode, ToolParam,
};

/// A chat completion request in the engine's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatPlan {
    /// The history after the agent's system prompt.
    pub messages: Vec<ChatMessage>,
    /// The request's functions, for the client to run.
    pub client_tools: Vec<ToolDefinition>,
    /// Whether the agent's own tools are offered too (not with `tool_choice: none` or a named function).
    pub agent_tools: bool,
    /// The temperature overriding the agent's.
    pub temperature: Option<f32>,
    /// The answer's token limit overriding the agent's.
    pub max_tokens: Option<u32>,
    /// Whether the answer is kept as a run even when it needs only the model.
    pub store: bool,
    /// Whether to stream the answer.
    pub stream: bool,
    /// With `stream`: a last chunk with the usage.
    pub include_usage: bool,
}

/// The plan of `request`, or every parameter at fault.
pub fn chat_plan(request: &ChatCompletionCreate) -> Result<ChatPlan, Vec<FieldError>> {
    let mut errors = unsupported(request);
    let messages = history(&request.messages, &mut errors);
    let (client_tools, agent_tools) = offered_tools(request, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ChatPlan {
        messages,
        client_tools,
        agent_tools,
        // Validated to 0..=2 first.
        temperature: request.temperature.map(|t| t as f32),
        max_tokens: request.max_completion_tokens.or(request.max_tokens),
        store: request.store.unwrap_or(false),
        stream: request.stream.unwrap_or(false),
        include_usage: request
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false),
    })
}

/// The parameters asking for what Agentry does not do.
fn unsupported(request: &ChatCompletionCreate) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if request.logprobs == Some(true) {
        errors.push(FieldError::new("logprobs", "log probabilities are not supported"));
    }
    if request.top_logprobs.as_ref().is_some_and(|v| !v.is_null()) {
        errors.push(FieldError::new("top_logprobs", "log probabilities are not supported"));
    }
    if request.audio.as_ref().is_some_and(|v| !v.is_null()) {
        errors.push(FieldError::new("audio", "audio output is not supported"));
    }
    if let Some(modalities) = &request.modalities
        && modalities.iter().any(|m| m != "text")
    {
        errors.push(FieldError::new("modalities", "only the `text` modality is supported"));
    }
    if let Some(format) = &request.response_format
        && format.kind != "text"
    {
        errors.push(FieldError::new(
            "response_format",
            format!("`{}` is not supported: only `text`", format.kind),
        ));
    }
    if request.functions.as_ref().is_some_and(|v| !v.is_null()) {
        errors.push(FieldError::new(
            "functions",
            "deprecated and not supported: use `tools`",
        ));
    }
    errors
}

/// The history in the engine's terms; parts that cannot be read are errors naming them.
pub fn history(messages: &[ChatMessageParam], errors: &mut Vec<FieldError>) -> Vec<ChatMessage> {
    messages
        .iter()
        .enumerate()
        .map(|(i, message)| {
            let at = format!("messages[{i}]");
            match message {
                ChatMessageParam::System { content, .. } | ChatMessageParam::Developer { content, .. } => {
                    ChatMessage::system(text(content, &at, errors))
                }
                ChatMessageParam::User { content, .. } => ChatMessage::user(text(content, &at, errors)),
                ChatMessageParam::Assistant {
                    content, tool_calls, ..
                } => {
                    let calls: Vec<ToolCall> = tool_calls.iter().flatten().map(tool_call).collect();
                    if content.is_none() && calls.is_empty() {
                        errors.push(FieldError::new(
                            format!("{at}.content"),
                            "an assistant message needs content or tool_calls",
                        ));
                    }
                    let content = content.as_ref().map(|c| text(c, &at, errors)).unwrap_or_default();
                    ChatMessage {
                        role: Role::Assistant,
                        content,
                        tool_calls: calls,
                        tool_call_id: None,
                        attachments: Vec::new(),
                    }
                }
                ChatMessageParam::Tool { content, tool_call_id } => {
                    if tool_call_id.is_empty() {
                        errors.push(FieldError::new(format!("{at}.tool_call_id"), "must not be empty"));
                    }
                    ChatMessage::tool_result(tool_call_id.clone(), text(content, &at, errors))
                }
            }
        })
        .collect()
}

/// A message's text: the string, or its text parts joined with newlines.
fn text(content: &MessageContent, at: &str, errors: &mut Vec<FieldError>) -> String {
    match content {
        MessageContent::Text(text) => text.clone(),
        MessageContent::Parts(parts) => {
            let mut texts = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                let piece = match part.kind.as_str() {
                    "text" => part.text.as_ref(),
                    "refusal" => part.refusal.as_ref(),
                    _ => None,
                };
                match piece {
                    Some(piece) => texts.push(piece.as_str()),
                    None if matches!(part.kind.as_str(), "text" | "refusal") => errors.push(FieldError::new(
                        format!("{at}.content[{j}].{}", part.kind),
                        "is required",
                    )),
                    None => errors.push(FieldError::new(
                        format!("{at}.content[{j}].type"),
                        format!("`{}` parts are not supported: only text", part.kind),
                    )),
                }
            }
            texts.join("\n")
        }
    }
}

/// An earlier call, its JSON text arguments parsed (kept as a string when they are not JSON).
fn tool_call(call: &ToolCallParam) -> ToolCall {
    let raw = call.function.arguments.trim();
    let arguments = if raw.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str(raw).unwrap_or_else(|_| Value::String(call.function.arguments.clone()))
    };
    ToolCall {
        id: call.id.clone(),
        name: call.function.name.clone(),
        arguments,
    }
}

/// The request's functions the model is offered, and whether the agent's tools are too.
fn offered_tools(request: &ChatCompletionCreate, errors: &mut Vec<FieldError>) -> (Vec<ToolDefinition>, bool) {
    let tools: Vec<ToolDefinition> = request
        .tools
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, tool)| definition(i, tool, errors))
        .collect();
    match &request.tool_choice {
        None | Some(ToolChoice::Mode(ToolChoiceMode::Auto | ToolChoiceMode::Required)) => (tools, true),
        Some(ToolChoice::Mode(ToolChoiceMode::None)) => (Vec::new(), false),
        Some(ToolChoice::Named(named)) => {
            let chosen: Vec<ToolDefinition> = tools.into_iter().filter(|t| t.name == named.function.name).collect();
            if chosen.is_empty() {
                errors.push(FieldError::new(
                    "tool_choice.function.name",
                    format!("`{}` is not one of `tools`", named.function.name),
                ));
            }
            (chosen, false)
        }
    }
}

/// One of the request's functions, checked.
fn definition(index: usize, tool: &ToolParam, errors: &mut Vec<FieldError>) -> Option<ToolDefinition> {
    let function = &tool.function;
    let valid_name = (1..=64).contains(&function.name.len())
        && function
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid_name {
        errors.push(FieldError::new(
            format!("tools[{index}].function.name"),
            "must match ^[A-Za-z0-9_-]{1,64}$",
        ));
        return None;
    }
    let parameters = match &function.parameters {
        Some(parameters) => Value::Object(parameters.clone()),
        None => serde_json::json!({"type": "object", "properties": {}}),
    };
    Some(ToolDefinition {
        name: function.name.clone(),
        description: function.description.clone(),
        parameters,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(body: Value) -> ChatCompletionCreate {
        serde_json::from_value(body).unwrap()
    }

    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn messages_become_the_history_with_parsed_tool_calls() {
        let plan = chat_plan(&request(json!({
            "model": "a",
            "messages": [
                {"role": "developer", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "42"}
            ],
            "max_tokens": 5, "max_completion_tokens": 7, "stream": true, "stream_options": {"include_usage": true}
        })))
        .unwrap();
        assert_eq!(
            plan.messages,
            vec![
                ChatMessage::system("be brief"),
                ChatMessage::user("one\ntwo"),
                ChatMessage {
                    role: Role::Assistant,
                    content: String::new(),
                    tool_calls: vec![ToolCall {
                        id: "call_1".into(),
                        name: "f".into(),
                        arguments: json!({"x": 1})
                    }],
                    tool_call_id: None,
                    attachments: Vec::new(),
                },
                ChatMessage::tool_result("call_1", "42"),
            ]
        );
        assert_eq!(
            (plan.max_tokens, plan.stream, plan.include_usage),
            (Some(7), true, true)
        );
        assert!(plan.agent_tools && plan.client_tools.is_empty());
    }

    #[test]
    fn every_unsupported_parameter_is_named_at_once() {
        let errors = chat_plan(&request(json!({
            "model": "a",
            "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            "logprobs": true, "audio": {"voice": "alloy"}, "modalities": ["text", "audio"],
            "response_format": {"type": "json_object"},
            "tools": [{"type": "function", "function": {"name": "bad name"}}],
            "tool_choice": {"type": "function", "function": {"name": "missing"}}
        })))
        .unwrap_err();
        assert_eq!(
            fields(errors),
            vec![
                "logprobs",
                "audio",
                "modalities",
                "response_format",
                "messages[0].content[0].type",
                "tools[0].function.name",
                "tool_choice.function.name"
            ]
        );
    }

    #[test]
    fn tool_choice_decides_what_is_offered() {
        let body = |choice: Value| {
            request(json!({
                "model": "a", "messages": [{"role": "user", "content": "hi"}],
                "tools": [
                    {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
                    {"type": "function", "function": {"name": "g"}}
                ],
                "tool_choice": choice
            }))
        };
        let names = |plan: ChatPlan| {
            (
                plan.client_tools.into_iter().map(|t| t.name).collect::<Vec<_>>(),
                plan.agent_tools,
            )
        };
        assert_eq!(
            names(chat_plan(&body(json!("auto"))).unwrap()),
            (vec!["f".into(), "g".into()], true)
        );
        assert_eq!(names(chat_plan(&body(json!("none"))).unwrap()), (vec![], false));
        assert_eq!(
            names(chat_plan(&body(json!({"type": "function", "function": {"name": "g"}}))).unwrap()),
            (vec!["g".into()], false)
        );
    }
}
