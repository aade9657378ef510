//! The offline provider: answers `echo: <last user message>`, deterministically; and, so
//! that tool flows can be tried offline, calls the tools a user message names with
//! `/call <tool name> <JSON object>` lines, then reports what they returned.

use std::time::Duration;

use futures_util::stream::BoxStream;

use crate::tool_call::parse_arguments;
use crate::{
    Attachment, ChatMessage, ChatRequest, ChatResponse, FinishReason, LlmError, Provider, Role, StreamEvent, ToolCall,
    Usage,
};

/// The model name echo reports when the request names none.
pub const ECHO_MODEL: &str = "echo-1";

/// A provider that needs no network: replies `"echo: <last user message>"`, streams it word
/// by word, and counts whitespace-separated words as tokens.
///
/// Tools: when the last message is a user message whose every non-blank line reads
/// `/call <tool name> <JSON object>`, it answers with those tool calls (ids
/// `call_<uuid>`, `finish_reason: tool_calls`, no text; arguments that are not valid JSON
/// are kept as a JSON string of the raw text). When the newest messages are tool results
/// (after the assistant message that made the calls), it answers
/// `"echo: <name> returned <result>"` for each, one line per result, in order.
#[derive(Debug, Clone, Default)]
pub struct EchoProvider {
    word_delay: Duration,
}

impl EchoProvider {
    /// An echo provider that streams without delay.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same provider pausing `delay` before each streamed word (to watch streaming happen).
    pub fn with_word_delay(mut self, delay: Duration) -> Self {
        self.word_delay = delay;
        self
    }
}

impl Provider for EchoProvider {
    fn name(&self) -> &str {
        "echo"
    }

    fn complete(&self, req: ChatRequest) -> kernel::BoxFuture<'_, Result<ChatResponse, LlmError>> {
        Box::pin(async move { Ok(reply(req)) })
    }

    fn stream(&self, req: ChatRequest) -> BoxStream<'static, Result<StreamEvent, LlmError>> {
        let response = reply(req);
        let pieces: Vec<String> = word_pieces(&response.text).into_iter().map(str::to_owned).collect();
        let delay = self.word_delay;
        Box::pin(async_stream::stream! {
            for piece in pieces {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                yield Ok(StreamEvent::Delta(piece));
            }
            yield Ok(StreamEvent::Done(response));
        })
    }
}

fn reply(req: ChatRequest) -> ChatResponse {
    let (text, tool_calls) = if let Some(calls) = requested_calls(&req.messages) {
        (String::new(), calls)
    } else if let Some(text) = tool_report(&req.messages) {
        (text, Vec::new())
    } else {
        let last_user = req.messages.iter().rev().find(|m| m.role == Role::User);
        let mut text = format!("echo: {}", last_user.map_or("", |m| m.content.as_str()));
        for attachment in last_user.map_or(&[][..], |m| m.attachments.as_slice()) {
            text.push_str(&attachment_note(attachment));
        }
        (text, Vec::new())
    };
    let prompt_tokens = req.system_prompt.as_deref().map_or(0, count_tokens)
        + req
            .messages
            .iter()
            .map(|m| count_tokens(&m.content) + m.attachments.iter().map(attachment_tokens).sum::<u32>())
            .sum::<u32>();
    let completion_tokens = count_tokens(&text)
        + tool_calls
            .iter()
            .map(|call| 1 + count_tokens(&call.arguments.to_string()))
            .sum::<u32>();
    let usage = Usage {
        prompt_tokens: u64::from(prompt_tokens),
        completion_tokens: u64::from(completion_tokens),
    };
    let model = if req.model.is_empty() {
        ECHO_MODEL.to_owned()
    } else {
        req.model
    };
    let finish_reason = if tool_calls.is_empty() {
        FinishReason::Stop
    } else {
        FinishReason::ToolCalls
    };
    ChatResponse {
        text,
        tool_calls,
        usage,
        finish_reason,
        model,
    }
}

/// The calls a last user message asks for: every non-blank line is
/// `/call <tool name> <JSON object>` (at least one); `None` otherwise.
fn requested_calls(messages: &[ChatMessage]) -> Option<Vec<ToolCall>> {
    let last = messages.last().filter(|m| m.role == Role::User)?;
    let mut calls = Vec::new();
    for line in last.content.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let rest = line.strip_prefix("/call")?;
        if !rest.starts_with(char::is_whitespace) {
            return None;
        }
        let rest = rest.trim_start();
        let (name, arguments) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if name.is_empty() {
            return None;
        }
        calls.push(ToolCall {
            id: format!("call_{}", kernel::ids::new_id().simple()),
            name: name.to_owned(),
            arguments: parse_arguments(arguments.trim()),
        });
    }
    (!calls.is_empty()).then_some(calls)
}

/// `"echo: <name> returned <result>"` for each tool result after the newest assistant
/// message, one line each, in order; `None` when the newest message is not a tool result.
fn tool_report(messages: &[ChatMessage]) -> Option<String> {
    let results = messages.iter().rev().take_while(|m| m.role == Role::Tool).count();
    if results == 0 {
        return None;
    }
    let (earlier, results) = messages.split_at(messages.len() - results);
    let calls: &[ToolCall] = earlier
        .last()
        .filter(|m| m.role == Role::Assistant)
        .map_or(&[], |m| m.tool_calls.as_slice());
    let lines: Vec<String> = results
        .iter()
        .map(|result| {
            let id = result.tool_call_id.as_deref().unwrap_or_default();
            let name = calls
                .iter()
                .find(|call| call.id == id)
                .map_or(id, |call| call.name.as_str());
            format!("echo: {name} returned {}", result.content)
        })
        .collect();
    Some(lines.join("\n"))
}

/// How the echo names an attachment of the message it repeats: an image by name and type,
/// a document by name and the first [`ECHOED_DOCUMENT_CHARS`] characters of its text.
fn attachment_note(attachment: &Attachment) -> String {
    match attachment {
        Attachment::Image {
            filename, media_type, ..
        } => format!(" [image {filename} ({media_type})]"),
        Attachment::Document { filename, text } => {
            let head: String = text.chars().take(ECHOED_DOCUMENT_CHARS).collect();
            format!(" [file {filename}: {head}]")
        }
    }
}

/// The most characters of an attached document the echo repeats.
const ECHOED_DOCUMENT_CHARS: usize = 200;

/// Tokens of an attachment: a document's words; an image counts as one.
fn attachment_tokens(attachment: &Attachment) -> u32 {
    match attachment {
        Attachment::Image { .. } => 1,
        Attachment::Document { text, .. } => count_tokens(text),
    }
}

fn count_tokens(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

/// `text` cut after each run of whitespace, so the pieces concatenate back to it exactly.
fn word_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut after_space = false;
    for (index, ch) in text.char_indices() {
        let space = ch.is_whitespace();
        if after_space && !space {
            pieces.push(&text[start..index]);
            start = index;
        }
        after_space = space;
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(messages: Vec<ChatMessage>) -> ChatRequest {
        ChatRequest {
            messages,
            ..ChatRequest::default()
        }
    }

    #[test]
    fn call_lines_become_tool_calls_with_unique_ids() {
        let answer = reply(request(vec![ChatMessage::user(
            "/call get_weather {\"city\": \"Paris\"}\n\n  /call get_time {}\n/call broken {oops\n/call bare",
        )]));
        assert_eq!(answer.text, "");
        assert_eq!(answer.finish_reason, FinishReason::ToolCalls);
        let calls: Vec<_> = answer
            .tool_calls
            .iter()
            .map(|c| (c.name.as_str(), c.arguments.clone()))
            .collect();
        assert_eq!(
            calls,
            [
                ("get_weather", json!({"city": "Paris"})),
                ("get_time", json!({})),
                ("broken", json!("{oops")),
                ("bare", json!({})),
            ]
        );
        let ids: std::collections::HashSet<_> = answer.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids.len(), 4);
        assert!(
            ids.iter().all(|id| id.starts_with("call_") && id.len() == 37),
            "{ids:?}"
        );
        assert!(answer.usage.completion_tokens > 0);
    }

    #[test]
    fn other_text_is_echoed() {
        for text in ["/call", "/call f {}\nand more", "/calling f {}", "say /call f {}"] {
            let answer = reply(request(vec![ChatMessage::user(text)]));
            assert_eq!(answer.text, format!("echo: {text}"));
            assert!(answer.tool_calls.is_empty());
            assert_eq!(answer.finish_reason, FinishReason::Stop);
        }
        // A call line in an earlier user message is not a call any more.
        let answer = reply(request(vec![
            ChatMessage::user("/call f {}"),
            ChatMessage::assistant("done"),
            ChatMessage::user("thanks"),
        ]));
        assert_eq!(answer.text, "echo: thanks");
    }

    #[test]
    fn attachments_of_the_echoed_message_are_named() {
        let message = ChatMessage::user("look").with_attachments(vec![
            Attachment::image("cat.png", "image/png", b"png"),
            Attachment::Document {
                filename: "notes.txt".into(),
                text: "x".repeat(300),
            },
        ]);
        let answer = reply(request(vec![message]));
        assert_eq!(
            answer.text,
            format!(
                "echo: look [image cat.png (image/png)] [file notes.txt: {}]",
                "x".repeat(200)
            )
        );
        assert_eq!(answer.usage.prompt_tokens, 3);
    }

    #[test]
    fn tool_results_are_reported_by_name_in_order() {
        let calls = vec![
            ToolCall {
                id: "c1".into(),
                name: "get_weather".into(),
                arguments: json!({}),
            },
            ToolCall {
                id: "c2".into(),
                name: "get_time".into(),
                arguments: json!({}),
            },
        ];
        let assistant = ChatMessage {
            tool_calls: calls,
            ..ChatMessage::assistant("")
        };
        let answer = reply(request(vec![
            ChatMessage::user("/call get_weather {}\n/call get_time {}"),
            assistant,
            ChatMessage::tool_result("c2", "10:00"),
            ChatMessage::tool_result("c1", "sunny"),
        ]));
        assert_eq!(
            answer.text,
            "echo: get_time returned 10:00\necho: get_weather returned sunny"
        );
        assert!(answer.tool_calls.is_empty());
        assert_eq!(answer.finish_reason, FinishReason::Stop);
        // A result whose call is unknown is reported under its call id.
        let answer = reply(request(vec![ChatMessage::tool_result("x9", "?")]));
        assert_eq!(answer.text, "echo: x9 returned ?");
    }

    #[test]
    fn pieces_keep_every_character() {
        assert_eq!(word_pieces("echo: hi  there\n"), vec!["echo: ", "hi  ", "there\n"]);
        assert_eq!(word_pieces(" a"), vec![" ", "a"]);
        assert!(word_pieces("").is_empty());
    }
}
