//! The history sent to a model is valid for every provider: each tool call of an assistant
//! message is answered by a `tool` message before the next non-tool message. A run that
//! ended between a model turn and its results (cancelled while a tool ran, failed, its
//! process killed) can leave calls unanswered in its conversation; they are answered here,
//! in the request only, with an error result.

use std::collections::HashSet;

use llm::{ChatMessage, Role};

/// The result given for a call whose run ended before it had one.
const UNANSWERED: &str = "error: the run that made this call ended before it had a result";

/// `messages` with a `tool` result after every unanswered call.
pub(crate) fn complete_calls(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut out = Vec::with_capacity(messages.len());
    // The calls of the last assistant message that are still waiting for their result.
    let mut open: Vec<String> = Vec::new();
    for message in messages {
        match message.role {
            Role::Tool => {
                if let Some(id) = &message.tool_call_id {
                    open.retain(|call| call != id);
                }
            }
            _ => close(&mut out, &mut open),
        }
        if message.role == Role::Assistant {
            open = message.tool_calls.iter().map(|call| call.id.clone()).collect();
        }
        out.push(message);
    }
    // Calls still open at the end are those of the run now answering them (a resumed turn
    // adds its own results after this history), or of an ended run: answered too.
    close(&mut out, &mut open);
    out
}

fn close(out: &mut Vec<ChatMessage>, open: &mut Vec<String>) {
    let mut seen = HashSet::new();
    for id in open.drain(..) {
        if seen.insert(id.clone()) {
            out.push(ChatMessage::tool_result(id, UNANSWERED));
        }
    }
}

#[cfg(test)]
mod tests {
    use llm::ToolCall;
    use serde_json::json;

    use super::*;

    fn calls(ids: &[&str]) -> ChatMessage {
        ChatMessage {
            tool_calls: ids
                .iter()
                .map(|id| ToolCall {
                    id: (*id).to_owned(),
                    name: "f".into(),
                    arguments: json!({}),
                })
                .collect(),
            ..ChatMessage::assistant("")
        }
    }

    #[test]
    fn unanswered_calls_get_an_error_result_before_the_next_message() {
        let history = vec![
            ChatMessage::user("go"),
            calls(&["a", "b"]),
            ChatMessage::tool_result("a", "1"),
            ChatMessage::user("again"),
        ];
        let done = complete_calls(history);
        let shape: Vec<(Role, Option<&str>)> = done.iter().map(|m| (m.role, m.tool_call_id.as_deref())).collect();
        assert_eq!(
            shape,
            [
                (Role::User, None),
                (Role::Assistant, None),
                (Role::Tool, Some("a")),
                (Role::Tool, Some("b")),
                (Role::User, None)
            ]
        );
        assert_eq!(done[3].content, UNANSWERED);
    }

    #[test]
    fn a_complete_history_is_unchanged() {
        let history = vec![
            ChatMessage::user("go"),
            calls(&["a"]),
            ChatMessage::tool_result("a", "1"),
            ChatMessage::assistant("done"),
        ];
        assert_eq!(complete_calls(history.clone()), history);
    }
}
