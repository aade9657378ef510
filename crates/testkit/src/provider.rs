//! A scripted LLM provider for tests: it answers from a script of responses (then like
//! `echo`), records every request, or fails every call as told.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::BoxStream;
use llm::{ChatRequest, ChatResponse, EchoProvider, FinishReason, LlmError, Provider, StreamEvent, ToolCall, Usage};
use serde_json::json;

/// A provider whose answers a test decides.
#[derive(Default)]
pub struct ScriptedProvider {
    script: Mutex<VecDeque<ChatResponse>>,
    requests: Mutex<Vec<ChatRequest>>,
    failure: Option<LlmError>,
    word_delay: Duration,
}

impl ScriptedProvider {
    /// A provider giving these answers first, then echoing.
    pub fn new(script: Vec<ChatResponse>) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script.into()),
            ..Self::default()
        })
    }

    /// A provider that echoes, streaming a word every `delay`.
    pub fn echoing(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            word_delay: delay,
            ..Self::default()
        })
    }

    /// A provider failing every call with `failure` (a stream first lets one delta out, as a
    /// connection cut mid-answer would).
    pub fn failing(failure: LlmError) -> Arc<Self> {
        Arc::new(Self {
            failure: Some(failure),
            ..Self::default()
        })
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().expect("lock").clone()
    }

    fn next_answer(&self, req: &ChatRequest) -> Option<ChatResponse> {
        self.requests.lock().expect("lock").push(req.clone());
        self.script.lock().expect("lock").pop_front()
    }
}

impl Provider for ScriptedProvider {
    fn name(&self) -> &str {
        "scripted"
    }

    fn complete(&self, req: ChatRequest) -> kernel::BoxFuture<'_, Result<ChatResponse, LlmError>> {
        let scripted = self.next_answer(&req);
        let failure = self.failure.clone();
        Box::pin(async move {
            match (failure, scripted) {
                (Some(err), _) => Err(err),
                (None, Some(response)) => Ok(response),
                (None, None) => EchoProvider::new().complete(req).await,
            }
        })
    }

    fn stream(&self, req: ChatRequest) -> BoxStream<'static, Result<StreamEvent, LlmError>> {
        let scripted = self.next_answer(&req);
        match (self.failure.clone(), scripted) {
            (Some(err), _) => Box::pin(futures_util::stream::iter([
                Ok(StreamEvent::Delta("partial ".into())),
                Err(err),
            ])),
            (None, Some(response)) => Box::pin(async_stream::stream! {
                if !response.text.is_empty() {
                    yield Ok(StreamEvent::Delta(response.text.clone()));
                }
                yield Ok(StreamEvent::Done(response));
            }),
            (None, None) => EchoProvider::new().with_word_delay(self.word_delay).stream(req),
        }
    }
}

/// An answer calling tool `name` with `{"input": input}`.
pub fn tool_call(name: &str, input: &str) -> ChatResponse {
    ChatResponse {
        text: String::new(),
        tool_calls: vec![ToolCall {
            id: format!("call-{name}"),
            name: name.into(),
            arguments: json!({ "input": input }),
        }],
        usage: Usage {
            prompt_tokens: 3,
            completion_tokens: 2,
        },
        finish_reason: FinishReason::ToolCalls,
        model: "scripted".into(),
    }
}

/// A plain text answer.
pub fn answer(text: &str) -> ChatResponse {
    ChatResponse {
        text: text.into(),
        tool_calls: Vec::new(),
        usage: Usage {
            prompt_tokens: 5,
            completion_tokens: 1,
        },
        finish_reason: FinishReason::Stop,
        model: "scripted".into(),
    }
}
