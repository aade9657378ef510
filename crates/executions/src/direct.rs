//! [`DirectAnswer`]: a stateless run answered straight from the provider, stored nowhere.
//!
//! A stateless run whose answer needs nothing but the model (no tool of the agent runs on
//! the server, no sub-agent, nothing to wait for) and that the caller does not want kept is
//! the provider's answer to the run's history: writing it as an execution and its events
//! first would add a row, its events and their commits before the first byte, for a run
//! nobody can read back. [`crate::ExecutionService::answer_stateless`] decides which way a
//! run goes; this is the way without the store, bounded by the runs' deadline like a run.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use llm::{ChatRequest, ChatResponse, LlmError, Provider, StreamEvent, Usage};
use tokio::time::Instant;
use uuid::Uuid;

use crate::actions::{PendingCall, PendingCallType};
use crate::schemas::Execution;

/// How a stateless run is answered.
pub enum StatelessAnswer {
    /// As a stored execution (its events are the answer).
    Run(Execution),
    /// Straight from the provider, stored nowhere.
    Direct(DirectAnswer),
}

/// What a direct answer says next.
#[derive(Debug, Clone, PartialEq)]
pub enum DirectStep {
    /// More of the answer's text.
    Text(String),
    /// The model called the client's functions: the answer ends with these calls.
    Calls(Vec<PendingCall>),
    /// The answer is complete.
    Done,
}

/// The provider's answer to a stateless run, read step by step.
pub struct DirectAnswer {
    id: Uuid,
    created_at: DateTime<Utc>,
    events: BoxStream<'static, Result<StreamEvent, LlmError>>,
    deadline: Instant,
    /// Steps read but not yet handed out (a whole answer's text, then its end).
    ready: VecDeque<DirectStep>,
    /// Whether any text was handed out (a whole answer's text comes with its end only).
    texted: bool,
    usage: Usage,
    ended: bool,
}

impl DirectAnswer {
    /// `request` asked of `provider`, streamed (`stream`) or whole, within `timeout`.
    pub(crate) fn ask(
        provider: Arc<dyn Provider>,
        request: ChatRequest,
        stream: bool,
        timeout: std::time::Duration,
    ) -> Self {
        let events = if stream {
            provider.stream(request)
        } else {
            futures_util::stream::once(async move { provider.complete(request).await.map(StreamEvent::Done) }).boxed()
        };
        Self {
            id: kernel::ids::new_id(),
            created_at: kernel::clock::now(),
            events,
            deadline: Instant::now() + timeout,
            ready: VecDeque::new(),
            texted: false,
            usage: Usage::default(),
            ended: false,
        }
    }

    /// The answer's id (new; no execution has it).
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// When it was asked.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// The tokens the provider reported (known once the answer is complete).
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The next step, `None` after the end; a failure of the provider (`502`, or `504` past
    /// the deadline) ends the answer.
    pub async fn next(&mut self) -> Result<Option<DirectStep>, kernel::Error> {
        loop {
            if let Some(step) = self.ready.pop_front() {
                return Ok(Some(step));
            }
            if self.ended {
                return Ok(None);
            }
            let item = tokio::select! {
                item = self.events.next() => item,
                () = tokio::time::sleep_until(self.deadline) => Some(Err(LlmError::Timeout)),
            };
            match item {
                Some(Ok(StreamEvent::Delta(text))) => {
                    if !text.is_empty() {
                        self.texted = true;
                        return Ok(Some(DirectStep::Text(text)));
                    }
                }
                Some(Ok(StreamEvent::Done(response))) => self.end(response),
                Some(Err(err)) => {
                    self.ended = true;
                    return Err(err.into());
                }
                None => {
                    self.ended = true;
                    return Err(kernel::Error::Upstream(
                        "the provider's stream ended without an answer".into(),
                    ));
                }
            }
        }
    }

    /// Queues the steps of the provider's last word: the text of a whole answer, then the
    /// client's calls or the end.
    fn end(&mut self, response: ChatResponse) {
        self.ended = true;
        self.usage = response.usage;
        if !self.texted && !response.text.is_empty() {
            self.ready.push_back(DirectStep::Text(response.text));
        }
        if response.tool_calls.is_empty() {
            self.ready.push_back(DirectStep::Done);
            return;
        }
        let calls = response
            .tool_calls
            .into_iter()
            .map(|call| PendingCall {
                id: call.id,
                kind: PendingCallType::ClientTool,
                tool_id: None,
                name: call.name,
                arguments: call.arguments,
            })
            .collect();
        self.ready.push_back(DirectStep::Calls(calls));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llm::{EchoProvider, FinishReason, ToolCall};

    fn response(text: &str, calls: Vec<ToolCall>) -> ChatResponse {
        ChatResponse {
            text: text.into(),
            tool_calls: calls,
            usage: Usage {
                prompt_tokens: 3,
                completion_tokens: 2,
            },
            finish_reason: FinishReason::Stop,
            model: "m".into(),
        }
    }

    fn answer(events: Vec<Result<StreamEvent, LlmError>>) -> DirectAnswer {
        DirectAnswer {
            id: Uuid::nil(),
            created_at: kernel::clock::now(),
            events: futures_util::stream::iter(events).boxed(),
            deadline: Instant::now() + std::time::Duration::from_secs(5),
            ready: VecDeque::new(),
            texted: false,
            usage: Usage::default(),
            ended: false,
        }
    }

    async fn read_all(mut answer: DirectAnswer) -> (Vec<DirectStep>, Option<kernel::Error>, Usage) {
        let mut steps = Vec::new();
        loop {
            match answer.next().await {
                Ok(Some(step)) => steps.push(step),
                Ok(None) => return (steps, None, answer.usage()),
                Err(err) => return (steps, Some(err), answer.usage()),
            }
        }
    }

    #[tokio::test]
    async fn a_streamed_answer_is_its_deltas_then_the_end_with_its_usage() {
        let (steps, error, usage) = read_all(answer(vec![
            Ok(StreamEvent::Delta("Hel".into())),
            Ok(StreamEvent::Delta(String::new())),
            Ok(StreamEvent::Delta("lo".into())),
            Ok(StreamEvent::Done(response("Hello", Vec::new()))),
        ]))
        .await;
        assert!(error.is_none());
        assert_eq!(
            steps,
            [
                DirectStep::Text("Hel".into()),
                DirectStep::Text("lo".into()),
                DirectStep::Done
            ]
        );
        assert_eq!(usage.prompt_tokens, 3);
        assert_eq!(usage.completion_tokens, 2);
    }

    #[tokio::test]
    async fn a_whole_answer_gives_its_text_then_the_client_calls() {
        let call = ToolCall {
            id: "call_1".into(),
            name: "weather".into(),
            arguments: serde_json::json!({"city": "Paris"}),
        };
        let (steps, error, _) = read_all(answer(vec![Ok(StreamEvent::Done(response("Let me see", vec![call])))])).await;
        assert!(error.is_none());
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0], DirectStep::Text("Let me see".into()));
        let DirectStep::Calls(calls) = &steps[1] else {
            panic!("expected calls, got {:?}", steps[1]);
        };
        assert_eq!(calls[0].id, "call_1");
        assert_eq!(calls[0].name, "weather");
        assert_eq!(calls[0].kind, PendingCallType::ClientTool);
        assert_eq!(calls[0].arguments["city"], "Paris");
    }

    #[tokio::test]
    async fn a_provider_failure_or_a_cut_stream_ends_the_answer_with_a_gateway_error() {
        let (steps, error, _) = read_all(answer(vec![
            Ok(StreamEvent::Delta("Hel".into())),
            Err(LlmError::Timeout),
        ]))
        .await;
        assert_eq!(steps, [DirectStep::Text("Hel".into())]);
        assert_eq!(error.expect("a timeout").status(), 504);

        let (steps, error, _) = read_all(answer(vec![Ok(StreamEvent::Delta("Hel".into()))])).await;
        assert_eq!(steps.len(), 1);
        let error = error.expect("a cut stream");
        assert_eq!(error.status(), 502);
        assert!(error.to_string().contains("ended without an answer"), "{error}");
    }

    #[tokio::test]
    async fn an_answer_past_the_deadline_is_a_timeout() {
        let provider = Arc::new(EchoProvider::new().with_word_delay(std::time::Duration::from_millis(200)));
        let request = ChatRequest {
            model: "echo".into(),
            messages: vec![llm::ChatMessage::user("one two three")],
            ..ChatRequest::default()
        };
        let mut answer = DirectAnswer::ask(provider, request, true, std::time::Duration::from_millis(50));
        let error = loop {
            match answer.next().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the answer ended before its deadline"),
                Err(err) => break err,
            }
        };
        assert_eq!(error.status(), 504);
    }
}
