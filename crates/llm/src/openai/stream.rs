//! Assembling a streamed Chat Completions answer from its SSE chunks.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::wire::{WireUsage, finish_reason};
use crate::tool_call::PartialToolCall;
use crate::{ChatResponse, LlmError, Usage};

/// The `data` that ends the stream.
pub(super) const DONE_MARKER: &str = "[DONE]";

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<ChunkError>,
}

#[derive(Deserialize)]
struct ChunkError {
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// The answer so far: text, tool calls by index, the last usage and finish reason seen.
#[derive(Debug, Default)]
pub(super) struct StreamAssembler {
    text: String,
    tool_calls: BTreeMap<u32, PartialToolCall>,
    usage: Option<Usage>,
    finish_reason: Option<String>,
    model: Option<String>,
}

impl StreamAssembler {
    /// Takes one chunk's `data`, returning the text it adds (if any).
    pub(super) fn push(&mut self, data: &str) -> Result<Option<String>, LlmError> {
        let chunk: Chunk =
            serde_json::from_str(data).map_err(|err| LlmError::Protocol(format!("malformed stream chunk: {err}")))?;
        if let Some(error) = chunk.error {
            let message = error.message.unwrap_or_else(|| "the stream reported an error".into());
            return Err(LlmError::transport(message));
        }
        if chunk.model.is_some() {
            self.model = chunk.model;
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        let mut added = String::new();
        for choice in chunk.choices {
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
            let Some(delta) = choice.delta else { continue };
            if let Some(content) = delta.content {
                added.push_str(&content);
            }
            for (position, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
                self.push_tool_call(position, call);
            }
        }
        self.text.push_str(&added);
        Ok((!added.is_empty()).then_some(added))
    }

    fn push_tool_call(&mut self, position: usize, delta: ToolCallDelta) {
        let index = delta
            .index
            .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
        let call = self.tool_calls.entry(index).or_default();
        if let Some(id) = delta.id.filter(|id| !id.is_empty()) {
            call.id = id;
        }
        if let Some(function) = delta.function {
            if let Some(name) = function.name {
                call.name.push_str(&name);
            }
            if let Some(arguments) = function.arguments {
                call.arguments.push_str(&arguments);
            }
        }
    }

    /// The whole answer, once `[DONE]` arrived.
    pub(super) fn finish(self, fallback_model: &str) -> ChatResponse {
        let tool_calls: Vec<_> = self.tool_calls.into_values().map(PartialToolCall::finish).collect();
        ChatResponse {
            text: self.text,
            finish_reason: finish_reason(self.finish_reason.as_deref(), !tool_calls.is_empty()),
            tool_calls,
            usage: self.usage.unwrap_or_default(),
            model: self.model.unwrap_or_else(|| fallback_model.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FinishReason;
    use serde_json::json;

    #[test]
    fn text_tool_fragments_and_usage_are_assembled() {
        let mut stream = StreamAssembler::default();
        let chunks = [
            r#"{"model":"m-1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"weather","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#,
        ];
        let deltas: Vec<_> = chunks
            .iter()
            .filter_map(|c| stream.push(c).expect("valid chunk"))
            .collect();
        assert_eq!(deltas, vec!["Hi"]);
        let done = stream.finish("fallback");
        assert_eq!(done.text, "Hi");
        assert_eq!(done.model, "m-1");
        assert_eq!(done.finish_reason, FinishReason::ToolCalls);
        assert_eq!(
            done.usage,
            Usage {
                prompt_tokens: 7,
                completion_tokens: 3
            }
        );
        assert_eq!(done.tool_calls.len(), 1);
        assert_eq!(done.tool_calls[0].id, "call_1");
        assert_eq!(done.tool_calls[0].arguments, json!({"city": "Oslo"}));
    }

    #[test]
    fn malformed_chunks_and_error_chunks_fail() {
        let mut stream = StreamAssembler::default();
        assert!(matches!(stream.push("{not json"), Err(LlmError::Protocol(_))));
        let err = stream
            .push(r#"{"error":{"message":"overloaded"}}"#)
            .expect_err("error chunk");
        assert!(err.to_string().contains("overloaded"));
    }
}
