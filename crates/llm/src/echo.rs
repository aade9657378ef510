//! The offline provider: answers `echo: <last user message>`, deterministically.

use std::time::Duration;

use futures_util::stream::BoxStream;

use crate::{ChatRequest, ChatResponse, FinishReason, LlmError, Provider, Role, StreamEvent, Usage};

/// The model name echo reports when the request names none.
pub const ECHO_MODEL: &str = "echo-1";

/// A provider that needs no network: replies `"echo: <last user message>"`, streams it word
/// by word, and counts whitespace-separated words as tokens.
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
    let last_user = req.messages.iter().rev().find(|m| m.role == Role::User);
    let text = format!("echo: {}", last_user.map_or("", |m| m.content.as_str()));
    let prompt_tokens = req.system_prompt.as_deref().map_or(0, count_tokens)
        + req.messages.iter().map(|m| count_tokens(&m.content)).sum::<u32>();
    let usage = Usage {
        prompt_tokens: u64::from(prompt_tokens),
        completion_tokens: u64::from(count_tokens(&text)),
    };
    let model = if req.model.is_empty() {
        ECHO_MODEL.to_owned()
    } else {
        req.model
    };
    ChatResponse {
        text,
        tool_calls: Vec::new(),
        usage,
        finish_reason: FinishReason::Stop,
        model,
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
    use super::*;

    #[test]
    fn pieces_keep_every_character() {
        assert_eq!(word_pieces("echo: hi  there\n"), vec!["echo: ", "hi  ", "there\n"]);
        assert_eq!(word_pieces(" a"), vec![" ", "a"]);
        assert!(word_pieces("").is_empty());
    }
}
