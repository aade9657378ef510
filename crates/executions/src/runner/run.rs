//! One execution's run: the agent's provider streamed into events, tool calls answered by
//! sub-agents running as child executions, bounded by steps, depth and a deadline. A run of
//! a conversation stores its input as the user message (`message.created`) when it starts
//! and its answer as the assistant message (`message.completed`) when it ends: every reply
//! of every conversation is written here.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use agents::ToolKind;
use agents::schemas::Agent;
use conversations::{ConversationError, NewMessage};
use futures_util::StreamExt;
use futures_util::future::OptionFuture;
use kernel::Error;
use llm::{ChatMessage, ChatRequest, ChatResponse, Role, StreamEvent, ToolCall};
use sea_orm::sea_query::Expr;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Inner;
use super::outcome::{Failure, Outcome, Tokens, finish, held_by};
use super::paused::{Answer, PausedTurn, Plan, PlannedCall};
use super::toolbox::{Target, Toolbox};
use super::tools::{SubagentTools, call_input};
use crate::actions::RequiredAction;
use crate::entities::execution;
use crate::events::{
    Event, ExecutionRequiresAction, FailureCode, SubagentCompleted, SubagentStarted, ToolCallCompleted, ToolCallCreated,
};
use crate::status::ExecutionStatus;

type Boxed<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;
/// A write of events in flight.
type Writing<'a> = Pin<Box<dyn Future<Output = Result<(), Stop>> + Send + 'a>>;

/// What the request that started a run already holds, so that the run does not read it
/// back ([`super::Runner::start_turn`]); nothing for a claimed run.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Its user message is stored already (with `message.created`).
    pub(crate) opened: bool,
    /// Its agent and whether it has links, as the request read them.
    pub(crate) agent: Option<(agents::entities::agent::Model, bool)>,
    /// Its conversation was created with its turn: the user message is all its history.
    pub(crate) new_conversation: bool,
}

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
    run_registered(inner, model, token, Known::default()).await;
}

/// Runs a top-level execution whose `token` was registered before it was running (so
/// every cancel reaches it), to its end, and records the end, with what the request that
/// started it already `known`.
pub(super) async fn run_registered(inner: Arc<Inner>, model: execution::Model, token: CancellationToken, known: Known) {
    let deadline = Instant::now() + inner.config.timeout;
    let opened = known.opened;
    let fresh = known.new_conversation && opened;
    let outcome = match Box::pin(settings(&inner, &model, known.agent)).await {
        Ok(settings) => {
            Run {
                inner: &inner,
                model: &model,
                settings,
                token: &token,
                deadline,
                opened,
                fresh,
            }
            .execute()
            .await
        }
        Err(error) => Outcome::Failed {
            failure: Failure::plain(error),
            usage: Tokens::default(),
        },
    };
    Box::pin(finish(&inner, &model, outcome)).await;
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
    /// Whether the agent has tools, sub-agents or MCP servers: only then are they read.
    linked: bool,
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
            linked: !(agent.tool_ids.is_empty() && agent.subagent_ids.is_empty() && agent.mcp_server_ids.is_empty()),
        }
    }
}

/// The settings of a top-level run (its sub-agents are loaded when it needs them), from
/// its agent as `known` when that is the run's, read otherwise.
async fn settings(
    inner: &Inner,
    model: &execution::Model,
    known: Option<(agents::entities::agent::Model, bool)>,
) -> Result<Settings, String> {
    let Some(agent_id) = model.agent_id else {
        return Ok(Settings {
            agent_id: None,
            provider: inner.providers.default_provider().to_owned(),
            model: inner.providers.default_model().to_owned(),
            system_prompt: None,
            temperature: None,
            max_tokens: None,
            linked: false,
        });
    };
    let found = match known.filter(|(agent, _)| agent.id == agent_id && agent.owner_id == model.owner_id) {
        Some(agent) => Ok(Some(agent)),
        None => inner.agents.find_flagged_cached(model.owner_id, agent_id).await,
    };
    match found {
        Ok(Some((agent, linked))) => {
            let mut settings = Settings {
                linked,
                ..Settings::of(&Agent::from_model(agent, Vec::new(), Vec::new()))
            };
            if let Some(run) = crate::stateless::of(model)? {
                settings.temperature = run.temperature.or(settings.temperature);
                settings.max_tokens = run.max_tokens.or(settings.max_tokens);
            }
            Ok(settings)
        }
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
    /// Its user message is stored already (with `message.created`).
    opened: bool,
    /// Its user message opened its conversation: it is the whole history.
    fresh: bool,
}

impl<'a> Run<'a> {
    /// Runs to an outcome; boxed, since a sub-agent's run nests inside its parent's.
    fn execute(self) -> Boxed<'a> {
        Box::pin(async move {
            // A resumed run goes on counting from what it had spent before it paused.
            let mut usage = Tokens {
                prompt: self.model.prompt_tokens,
                completion: self.model.completion_tokens,
            };
            match self.converse(&mut usage).await {
                Ok(Ended::Answered(output, answer)) => Outcome::Completed { output, usage, answer },
                Ok(Ended::Paused) => Outcome::Paused,
                Err(Stop::Failed(failure)) => Outcome::Failed { failure, usage },
                Err(Stop::Interrupted) if self.inner.interrupt.is_cancelled() => Outcome::Abandoned,
                Err(Stop::Interrupted) => Outcome::Cancelled { usage },
                Err(Stop::Lost) => Outcome::Abandoned,
            }
        })
    }

    /// The conversation with the model, turn by turn, until it answers without tool calls
    /// or a turn's calls wait for a person. A resumed run first answers the calls of the
    /// turn it paused at.
    ///
    /// Every step but the streaming is boxed: a run's future is held for its whole reply,
    /// a thousand of them at once, and would otherwise be as large as its largest step.
    #[tracing::instrument(name = "execution.converse", skip_all, fields(execution_id = %self.model.id, depth = self.model.depth))]
    async fn converse(&self, usage: &mut Tokens) -> Result<Ended, Stop> {
        let provider = self
            .inner
            .providers
            .get(&self.settings.provider)
            .map_err(|e| Stop::failed(e.to_string()))?;
        let toolbox = Box::pin(self.toolbox()).await?;
        let (mut messages, mut steps) = match self.paused_turn()? {
            Some(turn) => {
                let results = Box::pin(self.settle(&toolbox, &turn.calls, &turn.answers)).await?;
                let mut messages = turn.messages;
                messages.extend(results);
                (messages, turn.steps)
            }
            None => (Box::pin(self.context()).await?, 0),
        };
        let max_steps = self.inner.config.max_steps.max(1);
        while steps < max_steps {
            steps += 1;
            let request = ChatRequest {
                model: self.settings.model.clone(),
                system_prompt: self.settings.system_prompt.clone(),
                messages: messages.clone(),
                temperature: self.settings.temperature,
                max_tokens: self.settings.max_tokens,
                tools: toolbox.definitions(),
            };
            let response = self.stream(provider.stream(request)).await?;
            usage.add(response.usage);
            let model = if response.model.is_empty() {
                self.settings.model.clone()
            } else {
                response.model.clone()
            };
            if response.tool_calls.is_empty() {
                let answer = Box::pin(self.answer_statements(&response.text, &model, *usage)).await;
                return Ok(Ended::Answered(response.text, answer));
            }
            Box::pin(self.remember_calls(&response, &model)).await?;
            messages.push(ChatMessage {
                tool_calls: response.tool_calls.clone(),
                ..ChatMessage::assistant(response.text)
            });
            let mut planned = Vec::with_capacity(response.tool_calls.len());
            let mut created = Vec::with_capacity(response.tool_calls.len());
            for call in response.tool_calls {
                let (kind, plan) = toolbox.plan(&call);
                created.push(Event::ToolCallCreated(ToolCallCreated {
                    call_id: call.id.clone(),
                    name: call.name.clone(),
                    kind,
                    arguments: super::toolbox::as_object(&call.arguments),
                }));
                planned.push(PlannedCall { call, plan });
            }
            Box::pin(self.emit_all(created)).await?;
            if planned.iter().any(|p| matches!(p.plan, Plan::Person { .. })) {
                let turn = PausedTurn {
                    messages,
                    calls: planned,
                    steps,
                    answers: BTreeMap::new(),
                };
                Box::pin(self.pause(turn, *usage)).await?;
                return Ok(Ended::Paused);
            }
            let results = Box::pin(self.settle(&toolbox, &planned, &BTreeMap::new())).await?;
            messages.extend(results);
        }
        Err(Stop::failed(format!(
            "the agent did not finish within {max_steps} steps"
        )))
    }

    /// The turn a resumed run paused at (`None` for a run starting afresh).
    fn paused_turn(&self) -> Result<Option<PausedTurn>, Stop> {
        let Some(stored) = &self.model.paused_turn else {
            return Ok(None);
        };
        serde_json::from_value(stored.clone())
            .map(Some)
            .map_err(|err| Stop::failed(format!("the paused turn cannot be read: {err}")))
    }

    /// Stops the run for a person: `requires_action` with the calls that wait, holding no
    /// worker and no lease, until the answers arrive or `action_timeout` passes.
    async fn pause(&self, turn: PausedTurn, usage: Tokens) -> Result<(), Stop> {
        use execution::Column as C;
        let timeout = chrono::Duration::from_std(self.inner.config.action_timeout).unwrap_or(chrono::Duration::days(1));
        // A stateless run (`/v1`) is answered by a new request carrying the whole history,
        // never by inputs: it ends `expired` at the next sweep instead of being listed as
        // waiting for a day.
        let expires_at = match self.model.history {
            Some(_) => kernel::clock::now(),
            None => kernel::clock::now() + timeout,
        };
        let required_action = RequiredAction {
            expires_at,
            calls: turn.pending(),
        };
        let json = |value: Result<serde_json::Value, serde_json::Error>| {
            value.map_err(|err| Stop::failed(format!("cannot record the paused turn: {err}")))
        };
        let required = json(serde_json::to_value(&required_action))?;
        let paused = json(serde_json::to_value(&turn))?;
        let changes = vec![
            (C::Status, Expr::value(ExecutionStatus::RequiresAction)),
            (C::WorkerId, Expr::value(Option::<String>::None)),
            (
                C::LeaseExpiresAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            ),
            (C::RequiredAction, Expr::value(required)),
            (C::ActionExpiresAt, Expr::value(expires_at)),
            (C::PausedTurn, Expr::value(paused)),
            (C::PromptTokens, Expr::value(usage.prompt)),
            (C::CompletionTokens, Expr::value(usage.completion)),
        ];
        let event = Event::ExecutionRequiresAction(ExecutionRequiresAction { required_action });
        match self
            .inner
            .store
            .append_all(self.model.id, held_by(&self.inner.worker_id), changes, vec![event])
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

    /// Answers the calls of one turn, at most `tool_concurrency` running at once, and
    /// records each result in order (`tool_call.completed`, and a `tool` message in the
    /// conversation); returns the results as the model's next history entries.
    async fn settle(
        &self,
        toolbox: &Toolbox,
        calls: &[PlannedCall],
        answers: &BTreeMap<String, Answer>,
    ) -> Result<Vec<ChatMessage>, Stop> {
        let concurrency = self.inner.config.tool_concurrency.max(1);
        // Collected first: a lazy `map` in the stream's type trips the `Send` check of the
        // boxed run future (a higher-ranked lifetime the compiler cannot prove general).
        let pending: Vec<_> = calls
            .iter()
            .map(|planned| self.answer_call(toolbox, planned, answers.get(&planned.call.id)))
            .collect();
        let mut results = futures_util::stream::iter(pending).buffered(concurrency);
        let mut messages = Vec::with_capacity(calls.len());
        // Every call is driven to its end, even after one stopped the run: a sub-agent's
        // child run must record its own end (it sees the same cancellation and deadline),
        // and the other calls end at once then (each watches the token and the deadline).
        let mut stopped: Option<Stop> = None;
        let mut index = 0;
        while let Some(result) = results.next().await {
            let Some(planned) = calls.get(index) else { break };
            index += 1;
            match result {
                Ok((output, is_error)) if stopped.is_none() => {
                    if let Err(stop) = self.remember_result(&planned.call, &output, is_error).await {
                        stopped = Some(stop);
                        continue;
                    }
                    messages.push(ChatMessage::tool_result(planned.call.id.clone(), output));
                }
                Ok(_) => {}
                Err(stop) => {
                    stopped.get_or_insert(stop);
                }
            }
        }
        if let Some(stop) = stopped {
            return Err(stop);
        }
        Ok(messages)
    }

    /// The result of one call: decided already, a person's answer, or the tool run.
    async fn answer_call(
        &self,
        toolbox: &Toolbox,
        planned: &PlannedCall,
        answer: Option<&Answer>,
    ) -> Result<(String, bool), Stop> {
        let call = &planned.call;
        match (&planned.plan, answer) {
            (Plan::Settled { output, is_error }, _) => Ok((output.clone(), *is_error)),
            (Plan::Person { .. }, Some(Answer::Output { output, is_error })) => Ok((output.clone(), *is_error)),
            (Plan::Person { .. }, Some(Answer::Run { arguments })) => self.run_call(toolbox, call, arguments).await,
            (Plan::Person { .. }, None) => Ok(("error: nobody answered this call".into(), true)),
            (Plan::Run, _) => self.run_call(toolbox, call, &call.arguments).await,
        }
    }

    /// Runs a call with `arguments` on whatever answers its name now.
    #[tracing::instrument(name = "execution.tool_call", skip_all, fields(execution_id = %self.model.id, tool = %call.name))]
    async fn run_call(
        &self,
        toolbox: &Toolbox,
        call: &ToolCall,
        arguments: &serde_json::Value,
    ) -> Result<(String, bool), Stop> {
        match toolbox.target(&call.name) {
            None => Ok((format!("error: there is no tool named `{}` any more", call.name), true)),
            Some(Target::Subagent(agent)) => self.delegate(agent, arguments).await,
            Some(Target::Mcp(function)) => match self.inner.mcp_runtime.get() {
                // The call has its own timeout; a cancel or the run's deadline stops it sooner.
                Some(runtime) => tokio::select! {
                    biased;
                    () = self.token.cancelled() => Err(Stop::Interrupted),
                    () = tokio::time::sleep_until(self.deadline) => Err(self.timed_out()),
                    answer = runtime.call(self.model.owner_id, function, super::toolbox::arguments_map(arguments)) => Ok(answer),
                },
                None => Ok(("error: MCP servers are not available on this server".into(), true)),
            },
            Some(Target::Tool(tool)) => match (&tool.kind, &tool.http) {
                (ToolKind::Http, Some(spec)) => match self.inner.tool_runtime.get() {
                    // The call has its own timeout; a cancel or the run's deadline stops it sooner.
                    Some(runtime) => tokio::select! {
                        biased;
                        () = self.token.cancelled() => Err(Stop::Interrupted),
                        () = tokio::time::sleep_until(self.deadline) => Err(self.timed_out()),
                        answer = runtime.call(self.model.owner_id, spec, arguments) => Ok(answer),
                    },
                    None => Ok(("error: HTTP tools are not available on this server".into(), true)),
                },
                _ => Ok((
                    format!("error: `{}` is run by the client, not the server", call.name),
                    true,
                )),
            },
        }
    }

    /// The history: the input alone, or a conversation's last messages once the input is
    /// stored in it as the user message (`message.created`).
    async fn context(&self) -> Result<Vec<ChatMessage>, Stop> {
        if let Some(run) = self.stateless()? {
            return Ok(super::history::complete_calls(run.history()));
        }
        let input = self.model.input.clone();
        let conversations = &self.inner.conversations;
        let owner = self.model.owner_id;
        let attached = match self.input_files().await {
            Ok(attached) => attached,
            Err(err) => return Err(self.conversation_failure("read the attachments of", err).await),
        };
        let Some(conversation_id) = self.model.conversation_id else {
            return match conversations.model_attachments(&attached).await {
                Ok(attachments) => Ok(vec![ChatMessage::user(input).with_attachments(attachments)]),
                Err(err) => Err(self.conversation_failure("read the attachments of", err).await),
            };
        };
        if self.fresh && attached.is_empty() {
            return Ok(vec![ChatMessage::user(input)]);
        }
        let recent = conversations.recent(conversation_id, self.inner.config.history_limit);
        let history = if self.opened {
            recent.await
        } else {
            let message = NewMessage::user(input).with_attachments(attached).by(self.model.id);
            let stored = match conversations.append_message(owner, conversation_id, message).await {
                Ok(stored) => stored,
                Err(err) => return Err(self.conversation_failure("append the input to", err).await),
            };
            // The history is read while the event waits for its batch.
            let (emitted, history) = tokio::join!(self.emit(Event::MessageCreated(stored)), recent);
            emitted?;
            history
        };
        match history {
            Ok(history) => Ok(super::history::complete_calls(history)),
            Err(err) => Err(self.conversation_failure("read", err).await),
        }
    }

    /// The owner's files attached to the input (those deleted since it was sent left out).
    async fn input_files(&self) -> Result<Vec<files::File>, ConversationError> {
        let ids = self.model.attachment_ids();
        let files = self.inner.conversations.files();
        let found = files.get_many(&ids).await?;
        Ok(found
            .into_iter()
            .filter(|file| file.owner_id == self.model.owner_id)
            .collect())
    }

    /// The statements storing the answer in the conversation, if the execution has one,
    /// with its spoken copy when the turn asked for one: written with the run's end, in
    /// the transaction of `message.completed` and `execution.completed`.
    async fn answer_statements(
        &self,
        output: &str,
        model: &str,
        usage: Tokens,
    ) -> Option<Box<conversations::MessageStatements>> {
        let conversation_id = self.model.conversation_id?;
        let spoken = if self.model.speak {
            super::voice::spoken_reply(self.inner, self.model, output).await
        } else {
            Vec::new()
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
            attachments: spoken,
        };
        let conversation = conversations::TurnConversation::Existing(conversation_id);
        Some(Box::new(self.inner.conversations.message_statements(
            self.model.owner_id,
            &conversation,
            message,
        )))
    }

    /// Stores the assistant message of a turn that called tools, if the execution has a
    /// conversation (no event: the turn's `tool_call.created` events tell it).
    async fn remember_calls(&self, response: &ChatResponse, model: &str) -> Result<(), Stop> {
        let Some(conversation_id) = self.model.conversation_id else {
            return Ok(());
        };
        let message = NewMessage::assistant_calls(
            response.text.clone(),
            response.tool_calls.clone(),
            Some(model.to_owned()),
            Some(response.usage),
        )
        .by(self.model.id);
        match self
            .inner
            .conversations
            .append_message(self.model.owner_id, conversation_id, message)
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => Err(self.conversation_failure("append the tool calls to", err).await),
        }
    }

    /// Records one call's result: a `tool` message in the conversation (if any), then
    /// `tool_call.completed`.
    async fn remember_result(&self, call: &ToolCall, output: &str, is_error: bool) -> Result<(), Stop> {
        if let Some(conversation_id) = self.model.conversation_id {
            let message = NewMessage::tool_result(call.id.clone(), output.to_owned()).by(self.model.id);
            if let Err(err) = self
                .inner
                .conversations
                .append_message(self.model.owner_id, conversation_id, message)
                .await
            {
                return Err(self.conversation_failure("append a tool result to", err).await);
            }
        }
        self.emit(Event::ToolCallCompleted(ToolCallCompleted {
            call_id: call.id.clone(),
            name: call.name.clone(),
            is_error,
            output: output.to_owned(),
        }))
        .await
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

    /// The stateless run this execution is, if it is one.
    fn stateless(&self) -> Result<Option<crate::StatelessRun>, Stop> {
        crate::stateless::of(self.model).map_err(Stop::failed)
    }

    /// The functions offered: the agent's, or for a stateless run those needing no person
    /// besides the run's own client tools.
    async fn toolbox(&self) -> Result<Toolbox, Stop> {
        let toolbox = self.agent_toolbox().await?;
        Ok(match self.stateless()? {
            Some(run) => toolbox.stateless(&run),
            None => toolbox,
        })
    }

    /// The agent's tools, its MCP servers' allowed tools and live sub-agents (none beyond
    /// the depth limit).
    async fn agent_toolbox(&self) -> Result<Toolbox, Stop> {
        let nested = self.model.depth > 0;
        // An agent without links offers nothing: no reads.
        let Some(agent_id) = self.settings.agent_id.filter(|_| self.settings.linked) else {
            return Ok(Toolbox::new(
                Vec::new(),
                Vec::new(),
                SubagentTools::new(Vec::new()),
                nested,
            ));
        };
        let owner = self.model.owner_id;
        let tools = self
            .inner
            .agents
            .runnable_tools(owner, agent_id)
            .await
            .map_err(|e| Stop::failed(format!("cannot load the tools: {e}")))?;
        let mcp = self.mcp_functions(owner, agent_id).await?;
        if u32::try_from(self.model.depth).unwrap_or(u32::MAX) >= self.inner.config.max_depth {
            return Ok(Toolbox::new(tools, mcp, SubagentTools::new(Vec::new()), nested));
        }
        let subagents = self
            .inner
            .agents
            .subagents_of(owner, agent_id)
            .await
            .map_err(|e| Stop::failed(format!("cannot load the sub-agents: {e}")))?;
        Ok(Toolbox::new(tools, mcp, SubagentTools::new(subagents), nested))
    }

    /// The functions of the agent's MCP servers (none without an MCP runtime).
    async fn mcp_functions(&self, owner: Uuid, agent_id: Uuid) -> Result<Vec<mcp::McpFunction>, Stop> {
        let Some(runtime) = self.inner.mcp_runtime.get() else {
            return Ok(Vec::new());
        };
        let ids = self
            .inner
            .agents
            .mcp_server_ids_of(owner, agent_id)
            .await
            .map_err(|e| Stop::failed(format!("cannot load the MCP servers: {e}")))?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        runtime.functions(owner, &ids).await.map_err(Stop::failed)
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

    /// Delegates a call to a sub-agent: runs it as a child execution and returns its
    /// output (or what went wrong) as the tool's result.
    async fn delegate(&self, subagent: &Agent, arguments: &serde_json::Value) -> Result<(String, bool), Stop> {
        let input = call_input(arguments);
        if input.trim().is_empty() {
            return Ok(("error: the `input` argument (the task) is required".into(), true));
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
            opened: false,
            fresh: false,
        };
        let outcome = run.execute().await;
        // `None`: the child was interrupted, and so is this run.
        let ended = match &outcome {
            Outcome::Completed { output, .. } => Some((ExecutionStatus::Completed, output.clone(), false)),
            Outcome::Failed { failure, .. } => Some((
                ExecutionStatus::Failed,
                format!("error: the sub-agent failed: {}", failure.error),
                true,
            )),
            Outcome::Cancelled { .. } => Some((
                ExecutionStatus::Cancelled,
                "error: the sub-agent's execution was cancelled".into(),
                true,
            )),
            // A sub-agent never pauses (calls that need a person are refused in it).
            Outcome::Abandoned | Outcome::Paused => None,
        };
        finish(self.inner, &child, outcome).await;
        self.inner.broker.unregister_run(child.id);
        let Some((status, result, is_error)) = ended.filter(|_| !self.token.is_cancelled()) else {
            return Err(Stop::Interrupted);
        };
        self.emit(Event::SubagentCompleted(SubagentCompleted {
            agent_id: subagent.id,
            execution_id: child.id,
            status,
        }))
        .await?;
        Ok((result, is_error))
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
            required_action: None,
            action_expires_at: None,
            paused_turn: None,
            history: None,
            attachments: None,
            speak: false,
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

/// How a conversation with the model ended without failing.
enum Ended {
    /// The model answered (the output), and the statements storing it in the run's
    /// conversation, if it has one (written with the run's end).
    Answered(String, Option<Box<conversations::MessageStatements>>),
    /// A turn's calls wait for a person; the run is `requires_action`.
    Paused,
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
