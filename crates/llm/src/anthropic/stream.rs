//! Assembling a streamed Messages answer from its SSE events.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::wire::{ResponseBlock, WireUsage, stop_reason};
use crate::tool_call::PartialToolCall;
use crate::{ChatResponse, LlmError};

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockStart {
        index: u32,
        content_block: ResponseBlock,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    MessageDelta {
        #[serde(default)]
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Error {
        error: ErrorBody,
    },
    /// `ping`, `content_block_stop`, and whatever the API adds later.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartedMessage {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    /// `thinking_delta`, `signature_delta`, …: not part of the answer's text.
    #[serde(other)]
    Other,
}

#[derive(Default, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
}

/// What one event meant for the caller.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Progress {
    /// Text to pass on.
    Delta(String),
    /// Nothing to pass on yet.
    Pending,
    /// `message_stop`: the answer is complete.
    Stopped,
}

/// The answer so far: text, tool-use blocks by index, usage and stop reason.
#[derive(Debug, Default)]
pub(super) struct StreamAssembler {
    text: String,
    tool_calls: BTreeMap<u32, PartialToolCall>,
    usage: WireUsage,
    stop_reason: Option<String>,
    model: Option<String>,
}

impl StreamAssembler {
    /// Takes one event's `data`.
    pub(super) fn push(&mut self, data: &str) -> Result<Progress, LlmError> {
        let event: Event =
            serde_json::from_str(data).map_err(|err| LlmError::Protocol(format!("malformed stream event: {err}")))?;
        match event {
            Event::MessageStart { message } => {
                self.model = message.model;
                if let Some(usage) = message.usage {
                    self.usage.update(usage);
                }
            }
            Event::ContentBlockStart { index, content_block } => match content_block {
                ResponseBlock::ToolUse { id, name, input } => {
                    let arguments = match input {
                        Value::Object(ref fields) if !fields.is_empty() => input.to_string(),
                        _ => String::new(),
                    };
                    self.tool_calls.insert(index, PartialToolCall { id, name, arguments });
                }
                ResponseBlock::Text { text } => return Ok(self.add_text(text)),
                ResponseBlock::Other => {}
            },
            Event::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => return Ok(self.add_text(text)),
                BlockDelta::InputJsonDelta { partial_json } => {
                    let call = self.tool_calls.get_mut(&index).ok_or_else(|| {
                        LlmError::Protocol(format!("input_json_delta for block {index}, which is not a tool_use"))
                    })?;
                    call.arguments.push_str(&partial_json);
                }
                BlockDelta::Other => {}
            },
            Event::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                if let Some(usage) = usage {
                    self.usage.update(usage);
                }
            }
            Event::MessageStop => return Ok(Progress::Stopped),
            Event::Error { error } => {
                let message = error.message.unwrap_or_else(|| "the stream reported an error".into());
                return Err(LlmError::transport(message));
            }
            Event::Other => {}
        }
        Ok(Progress::Pending)
    }

    fn add_text(&mut self, text: String) -> Progress {
        if text.is_empty() {
            return Progress::Pending;
        }
        self.text.push_str(&text);
        Progress::Delta(text)
    }

    /// The whole answer, once `message_stop` arrived.
    pub(super) fn finish(self, fallback_model: &str) -> ChatResponse {
        let tool_calls: Vec<_> = self.tool_calls.into_values().map(PartialToolCall::finish).collect();
        ChatResponse {
            text: self.text,
            finish_reason: stop_reason(self.stop_reason.as_deref(), !tool_calls.is_empty()),
            tool_calls,
            usage: self.usage.into(),
            model: self.model.unwrap_or_else(|| fallback_model.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FinishReason, Usage};
    use serde_json::json;

    #[test]
    fn text_tool_use_and_usage_are_assembled() {
        let mut stream = StreamAssembler::default();
        let events = [
            r#"{"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":12,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check"}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"weather","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Os"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"lo\"}"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":20}}"#,
        ];
        let progress: Vec<_> = events.iter().map(|e| stream.push(e).expect("valid event")).collect();
        assert_eq!(progress.iter().filter(|p| matches!(p, Progress::Delta(_))).count(), 1);
        assert_eq!(
            stream.push(r#"{"type":"message_stop"}"#).expect("stop"),
            Progress::Stopped
        );
        let done = stream.finish("fallback");
        assert_eq!(done.text, "Let me check");
        assert_eq!(done.model, "claude-x");
        assert_eq!(done.finish_reason, FinishReason::ToolCalls);
        assert_eq!(
            done.usage,
            Usage {
                prompt_tokens: 12,
                completion_tokens: 20
            }
        );
        assert_eq!(done.tool_calls[0].id, "toolu_1");
        assert_eq!(done.tool_calls[0].arguments, json!({"city": "Oslo"}));
    }

    #[test]
    fn error_events_and_garbage_fail() {
        let mut stream = StreamAssembler::default();
        let err = stream
            .push(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
            .expect_err("error event");
        assert!(err.to_string().contains("Overloaded"));
        assert!(matches!(stream.push("nope"), Err(LlmError::Protocol(_))));
    }
}
