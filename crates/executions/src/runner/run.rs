//! One execution's run: the agent's provider streamed into events, tool calls answered by
//! sub-agents running as child executions, bounded by steps, depth and a deadline. A run of
//! a conversation stores its input as the user message (`message.created`) when it starts
//! and its answer as the assistant message (`message.completed`) when it ends: every reply
//! of every conversation is written here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use agents::schemas::Agent;
use conversations::{ConversationError, NewMessage};
use futures_util::StreamExt;
use futures_util::future::OptionFuture;
use kernel::Error;
use llm::{ChatMessage, ChatRequest, ChatResponse, Role, StreamEvent, ToolCall};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Inner;
use super::outcome::{Failure, Outcome, Tokens, finish, held_by};
use super::tools::{SubagentTools, call_input};
use crate::entities::execution;
use crate::events::{Event, FailureCode, SubagentCompleted, SubagentStarted};
use crate::status::ExecutionStatus;

type Boxed<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;
/// A write of events in flight.
type Writing<'a> = Pin<Box<dyn Future<Output = Result<(), Stop>> + Send + 'a>>;

/// Runs a freshly claimed top-level execution to its end and records the end.
#[tracing::instrument(name = "execution.run", skip_all, fields(execution_id = %model.id, agent_id = ?model.agent_id))]
pub(super) async fn run_claimed(inner: Arc<Inner>, model: execution::Model) {
    let token = inner.broker.register_run(model.id, &inner.interrupt);
    // A cancel may have landed between the claim and the registration.
    if let Ok(Some(current)) = inner.store.find(model.id).await
        && current.status != ExecutionStatus::Running
    {
        token.cancel();
    }
    let deadline = Instant::now() + inner.config.timeout;
    let outcome = match settings(&inner, &model).await {
        Ok(settings) => {
            Run {
                inner: &inner,
                model: &model,
                settings,
                token: &token,
                deadline,
            }
            .execute()
            .await
        }
        Err(error) => Outcome::Failed {
            failure: Failure::plain(error),
            usage: Tokens::default(),
        },
    };
    finish(&inner, &model, outcome).await;
    inner.broker.unregister_run(model.id);
    if model.conversation_id.is_some() {
        // The next queued run of this conversation may start now.
        inner.broker.wake_queue();
    }
}

/// What answers a run: its agent's provider, model and prompt, or (an agentless
/// conversation) the registry's default provider and model.
struct Settings {
    agent_id: Option<Uuid>,
    provider: String,
    model: String,
    system_prompt: Option<String>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
}

impl Settings {
    fn of(agent: &Agent) -> Self {
        Self {
            agent_id: Some(agent.id),
            provider: agent.provider.clone(),
            model: agent.model.clone(),
            system_prompt: agent.system_prompt.clone(),
            // The stored value is f64 in 0..=2; providers take f32.
            temperature: Some(agent.temperature as f32),
            max_tokens: agent.max_tokens,
        }
    }
}

/// The settings of a top-level run (its sub-agents are loaded when it needs them).
async fn settings(inner: &Inner, model: &execution::Model) -> Result<Settings, String> {
    let Some(agent_id) = model.agent_id else {
        return Ok(Settings {
            agent_id: None,
            provider: inner.providers.default_provider().to_owned(),
            model: inner.providers.default_model().to_owned(),
            system_prompt: None,
            temperature: None,
            max_tokens: None,
        });
    };
    match inner.agents.find_owned(model.owner_id, agent_id).await {
        Ok(Some(agent)) => Ok(Settings::of(&Agent::from_model(agent, Vec::new(), Vec::new()))),
        Ok(None) => Err("the agent no longer exists".into()),
        Err(err) => Err(format!("cannot load the agent: {err}")),
    }
}

/// One execution being run by this process.
struct Run<'a> {
    inner: &'a Inner,
    model: &'a execution::Model,
    settings: Settings,
    token: &'a CancellationToken,
    deadline: Instant,
}

impl<'a> Run<'a> {
    /// Runs to an outcome; boxed, since a sub-agent's run nests inside its parent's.
    fn execute(self) -> Boxed<'a> {
        Box::pin(async move {
            let mut usage = Tokens::default();
            match self.converse(&mut usage).await {
                Ok(output) => Outcome::Completed { output, usage },
                Err(Stop::Failed(failure)) => Outcome::Failed { failure, usage },
                Err(Stop::Interrupted) if self.inner.interrupt.is_cancelled() => Outcome::Abandoned,
                Err(Stop::Interrupted) => Outcome::Cancelled { usage },
                Err(Stop::Lost) => Outcome::Abandoned,
            }
        })
    }

    /// The conversation with the model, step by step, until it answers without tool calls.
    #[tracing::instrument(name = "execution.converse", skip_all, fields(execution_id = %self.model.id, depth = self.model.depth))]
    async fn converse(&self, usage: &mut Tokens) -> Result<String, Stop> {
        let provider = self
            .inner
            .providers
            .get(&self.settings.provider)
            .map_err(|e| Stop::failed(e.to_string()))?;
        let mut messages = self.context().await?;
        let tools = self.tools().await?;
        let max_steps = self.inner.config.max_steps.max(1);
        for _ in 0..max_steps {
            let request = ChatRequest {
                model: self.settings.model.clone(),
                system_prompt: self.settings.system_prompt.clone(),
                messages: messages.clone(),
                temperature: self.settings.temperature,
                max_tokens: self.settings.max_tokens,
                tools: tools.definitions(),
            };
            let response = self.stream(provider.stream(request)).await?;
            usage.add(response.usage);
            if response.tool_calls.is_empty() {
                let model = if response.model.is_empty() {
                    &self.settings.model
                } else {
                    &response.model
                };
                self.remember_answer(&response.text, model, *usage).await?;
                return Ok(response.text);
            }
            messages.push(ChatMessage {
                role: Role::Assistant,
                content: response.text,
                tool_calls: response.tool_calls.clone(),
                tool_call_id: None,
            });
            for call in &response.tool_calls {
                let result = self.call(&tools, call).await?;
                messages.push(ChatMessage::tool_result(call.id.clone(), result));
            }
        }
        Err(Stop::failed(format!(
            "the agent did not finish within {max_steps} steps"
        )))
    }

    /// The history: the input alone, or a conversation's last messages once the input is
    /// stored in it as the user message (`message.created`).
    async fn context(&self) -> Result<Vec<ChatMessage>, Stop> {
        let input = self.model.input.clone();
        let Some(conversation_id) = self.model.conversation_id else {
            return Ok(vec![ChatMessage::user(input)]);
        };
        let conversations = &self.inner.conversations;
        let owner = self.model.owner_id;
        let stored = match conversations
            .append_message(owner, conversation_id, NewMessage::user(input).by(self.model.id))
            .await
        {
            Ok(stored) => stored,
            Err(err) => return Err(self.conversation_failure("append the input to", err).await),
        };
        self.emit(Event::MessageCreated(stored)).await?;
        match conversations
            .recent(conversation_id, self.inner.config.history_limit)
            .await
        {
            Ok(history) => Ok(history),
            Err(err) => Err(self.conversation_failure("read", err).await),
        }
    }

    /// Stores the answer in the conversation, if the execution has one (`message.completed`).
    async fn remember_answer(&self, output: &str, model: &str, usage: Tokens) -> Result<(), Stop> {
        let Some(conversation_id) = self.model.conversation_id else {
            return Ok(());
        };
        let clamp = |t: i64| u64::try_from(t).unwrap_or(0);
        let message = NewMessage {
            role: Role::Assistant,
            content: output.to_owned(),
            model: Some(model.to_owned()),
            usage: Some(llm::Usage {
                prompt_tokens: clamp(usage.prompt),
                completion_tokens: clamp(usage.completion),
            }),
            execution_id: Some(self.model.id),
            tool_calls: Vec::new(),
            tool_call_id: None,
        };
        match self
            .inner
            .conversations
            .append_message(self.model.owner_id, conversation_id, message)
            .await
        {
            Ok(stored) => self.emit(Event::MessageCompleted(stored)).await,
            Err(err) => Err(self.conversation_failure("append the output to", err).await),
        }
    }

    /// Why a conversation step failed (like [`Self::store_failure`] while stopping): whether
    /// the conversation is gone is asked of the conversations service, not read from its error.
    async fn conversation_failure(&self, action: &str, err: ConversationError) -> Stop {
        let gone = match self.model.conversation_id {
            Some(id) => matches!(
                self.inner.conversations.find_owned(self.model.owner_id, id).await,
                Ok(None)
            ),
            None => false,
        };
        if gone {
            Stop::failed("the conversation no longer exists")
        } else if self.inner.stop_claiming.is_cancelled() {
            tracing::warn!(execution_id = %self.model.id, error = %err, "cannot {action} the conversation while stopping");
            Stop::Lost
        } else {
            Stop::failed(format!("cannot {action} the conversation: {err}"))
        }
    }

    /// The agent's live sub-agents as tools, unless delegating would exceed the depth limit.
    async fn tools(&self) -> Result<SubagentTools, Stop> {
        let Some(agent_id) = self.settings.agent_id else {
            return Ok(SubagentTools::new(Vec::new()));
        };
        if u32::try_from(self.model.depth).unwrap_or(u32::MAX) >= self.inner.config.max_depth {
            return Ok(SubagentTools::new(Vec::new()));
        }
        let subagents = self
            .inner
            .agents
            .subagents_of(self.model.owner_id, agent_id)
            .await
            .map_err(|e| Stop::failed(format!("cannot load the sub-agents: {e}")))?;
        Ok(SubagentTools::new(subagents))
    }

    /// Drains one streamed answer into `message.delta` events. Deltas are stored in
    /// order, each before it is published; those that arrive while the previous write is
    /// in flight are stored together in the next one (one transaction for the batch), so a
    /// slow database costs batches, not a backlog of transactions, and replay stays exact.
    #[tracing::instrument(name = "execution.stream", skip_all, fields(execution_id = %self.model.id))]
    async fn stream(
        &self,
        mut stream: futures_util::stream::BoxStream<'static, Result<StreamEvent, llm::LlmError>>,
    ) -> Result<ChatResponse, Stop> {
        let mut pending: Vec<Event> = Vec::new();
        let mut writing: Option<Writing<'_>> = None;
        let mut answer: Option<ChatResponse> = None;
        loop {
            if writing.is_none() && !pending.is_empty() {
                writing = Some(Box::pin(self.emit_all(std::mem::take(&mut pending))));
            }
            if writing.is_none()
                && let Some(answer) = answer.take()
            {
                return Ok(answer);
            }
            tokio::select! {
                biased;
                () = self.token.cancelled() => return Err(Stop::Interrupted),
                () = tokio::time::sleep_until(self.deadline) => return Err(self.timed_out()),
                Some(written) = OptionFuture::from(writing.as_mut()), if writing.is_some() => {
                    writing = None;
                    written?;
                }
                item = stream.next(), if answer.is_none() => match item {
                    Some(Ok(StreamEvent::Delta(delta))) if delta.is_empty() => {}
                    Some(Ok(StreamEvent::Delta(delta))) => {
                        pending.push(Event::MessageDelta(conversations::schemas::MessageDelta { delta }));
                    }
                    Some(Ok(StreamEvent::Done(response))) => answer = Some(response),
                    Some(Err(err)) => return Err(Stop::provider(err)),
                    None => {
                        return Err(Stop::Failed(Failure {
                            error: "the provider's stream ended without an answer".into(),
                            code: Some(FailureCode::UpstreamError),
                        }));
                    }
                },
            }
        }
    }

    /// Answers one tool call: runs the sub-agent as a child execution and returns its
    /// output (or what went wrong) as the tool's result.
    #[tracing::instrument(name = "execution.tool_call", skip_all, fields(execution_id = %self.model.id, tool = %call.name))]
    async fn call(&self, tools: &SubagentTools, call: &ToolCall) -> Result<String, Stop> {
        let Some(subagent) = tools.find(&call.name) else {
            return Ok(format!("error: there is no tool named `{}`", call.name));
        };
        let input = call_input(&call.arguments);
        if input.trim().is_empty() {
            return Ok("error: the `input` argument (the task) is required".into());
        }
        let child = self.child(subagent.id, input);
        let started = self
            .inner
            .store
            .insert_running(child.clone())
            .await
            .map_err(|e| self.store_failure(e))?;
        self.inner.broker.publish(started);
        self.emit(Event::SubagentStarted(SubagentStarted {
            agent_id: subagent.id,
            execution_id: child.id,
        }))
        .await?;

        let token = self.inner.broker.register_run(child.id, self.token);
        let run = Run {
            inner: self.inner,
            model: &child,
            settings: Settings::of(subagent),
            token: &token,
            deadline: self.deadline,
        };
        let outcome = run.execute().await;
        // `None`: the child was interrupted, and so is this run.
        let ended = match &outcome {
            Outcome::Completed { output, .. } => Some((ExecutionStatus::Completed, output.clone())),
            Outcome::Failed { failure, .. } => Some((
                ExecutionStatus::Failed,
                format!("error: the sub-agent failed: {}", failure.error),
            )),
            Outcome::Cancelled { .. } => Some((
                ExecutionStatus::Cancelled,
                "error: the sub-agent's execution was cancelled".into(),
            )),
            Outcome::Abandoned => None,
        };
        finish(self.inner, &child, outcome).await;
        self.inner.broker.unregister_run(child.id);
        let Some((status, result)) = ended.filter(|_| !self.token.is_cancelled()) else {
            return Err(Stop::Interrupted);
        };
        self.emit(Event::SubagentCompleted(SubagentCompleted {
            agent_id: subagent.id,
            execution_id: child.id,
            status,
        }))
        .await?;
        Ok(result)
    }

    /// A child execution of this one for `agent_id`, already running under this process.
    fn child(&self, agent_id: uuid::Uuid, input: String) -> execution::Model {
        let now = kernel::clock::now();
        let lease = chrono::Duration::from_std(self.inner.config.lease).unwrap_or(chrono::Duration::seconds(30));
        execution::Model {
            id: kernel::ids::new_id(),
            owner_id: self.model.owner_id,
            agent_id: Some(agent_id),
            conversation_id: None,
            parent_id: Some(self.model.id),
            depth: self.model.depth + 1,
            status: ExecutionStatus::Running,
            input,
            output: None,
            error: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            last_seq: 1,
            worker_id: Some(self.inner.worker_id.clone()),
            lease_expires_at: Some(now + lease),
            created_at: now,
            started_at: Some(now),
            completed_at: None,
        }
    }

    /// Stores and publishes an event of this execution while this process holds it.
    async fn emit(&self, event: Event) -> Result<(), Stop> {
        self.emit_all(vec![event]).await
    }

    /// Stores events of this execution in one transaction, then publishes them in order.
    async fn emit_all(&self, events: Vec<Event>) -> Result<(), Stop> {
        let held = held_by(&self.inner.worker_id);
        match self
            .inner
            .store
            .append_all(self.model.id, held, Vec::new(), events)
            .await
        {
            Ok(Some(events)) => {
                events.into_iter().for_each(|event| self.inner.broker.publish(event));
                Ok(())
            }
            Ok(None) => Err(Stop::Lost),
            Err(err) => Err(self.store_failure(err)),
        }
    }

    /// A write of this run failed: the run fails, unless the process is stopping, when it
    /// is left for the shutdown to mark `interrupted`.
    fn store_failure(&self, err: Error) -> Stop {
        tracing::warn!(execution_id = %self.model.id, error = %err, "cannot store an execution event");
        if self.inner.stop_claiming.is_cancelled() {
            return Stop::Lost;
        }
        Stop::failed("the execution's progress could not be stored")
    }

    fn timed_out(&self) -> Stop {
        Stop::failed(format!(
            "the execution timed out after {} s",
            self.inner.config.timeout.as_secs()
        ))
    }
}

/// Why a run stopped before the model answered.
enum Stop {
    /// It failed, for this reason.
    Failed(Failure),
    /// Its cancellation token fired.
    Interrupted,
    /// The execution is no longer held by this process.
    Lost,
}

impl Stop {
    /// A failure of no particular kind.
    fn failed(error: impl Into<String>) -> Self {
        Self::Failed(Failure::plain(error))
    }

    /// The provider failed: `upstream_timeout` when it did not answer in time.
    fn provider(err: llm::LlmError) -> Self {
        let error = err.to_string();
        let code = match Error::from(err) {
            Error::UpstreamTimeout(_) => FailureCode::UpstreamTimeout,
            _ => FailureCode::UpstreamError,
        };
        Self::Failed(Failure {
            error,
            code: Some(code),
        })
    }
}
