//! [`ExecutionService`]: starting runs (background tasks and conversation messages alike),
//! reading, listing, cancelling and watching them, and waiting for a reply.

use agents::AgentService;
use conversations::schemas::rules::derived_title;
use conversations::schemas::{ConversationCreate, IfBusy, Message};
use conversations::{ConversationService, NewMessage, TurnConversation};
use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, Page, PageParams};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::actions::ActionInputs;
use crate::broker::Broker;
use crate::direct::{DirectAnswer, StatelessAnswer};
use crate::entities::execution;
use crate::error::{ExecutionError, Result};
use crate::events::{Event, ExecutionCancelled, ExecutionEvent, ExecutionFailed, ExecutionInputReceived};
use crate::feed::EventFeed;
use crate::runner::Runner;
use crate::runner::paused::PausedTurn;
use crate::schemas::{EVENTS_MAX, Execution, ExecutionCreate};
use crate::stateless::StatelessRun;
use crate::status::ExecutionStatus;
use crate::store::Store;
use crate::turn::UserTurn;

/// Which executions a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    /// Only this agent's.
    pub agent_id: Option<Uuid>,
    /// Only those in this state.
    pub status: Option<ExecutionStatus>,
}

/// What a reply waited for ends with.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The stored assistant message.
    Message(Message),
    /// The run paused for a person (`requires_action`): the execution, with its `required_action`.
    Paused(Execution),
}

/// Where a user message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageTarget {
    /// The owner's conversation named in the path: `ConversationNotFound` when missing or
    /// someone else's.
    Conversation(Uuid),
    /// The target named in a `/chat` body: an existing conversation (`422` naming
    /// `conversation_id` when it is not the caller's) or, without one, a new conversation
    /// with `agent_id` (`422` naming `agent_id` when it is not the caller's live agent).
    Chat {
        /// The conversation to continue.
        conversation_id: Option<Uuid>,
        /// The agent of a new conversation, or the expected agent of `conversation_id`.
        agent_id: Option<Uuid>,
    },
}

/// The rules of executions as their owners see them; the work itself is the `Runner`'s.
#[derive(Clone)]
pub struct ExecutionService {
    pub(crate) runner: Runner,
    store: Store,
    broker: Broker,
    agents: AgentService,
    pub(crate) conversations: ConversationService,
}

impl ExecutionService {
    /// The service starting its runs on `runner` (which may have no workers of its own:
    /// the runs are then queued for the replicas that have).
    pub fn new(runner: Runner) -> Self {
        let (store, broker) = runner.parts();
        let (agents, conversations) = runner.services();
        Self {
            store: store.clone(),
            broker: broker.clone(),
            agents: agents.clone(),
            conversations: conversations.clone(),
            runner,
        }
    }

    /// Starts a run of the owner's live agent (`404` otherwise); `422` naming `input` or
    /// `conversation_id` when they break the rules; with a busy conversation, `if_busy`.
    pub async fn start(&self, owner_id: Uuid, agent_id: Uuid, request: ExecutionCreate) -> Result<Execution> {
        kernel::rules::check(&request).map_err(ExecutionError::Invalid)?;
        if self.agents.find_flagged_cached(owner_id, agent_id).await?.is_none() {
            return Err(ExecutionError::AgentNotFound);
        }
        if let Some(conversation_id) = request.conversation_id
            && self
                .conversations
                .find_owned(owner_id, conversation_id)
                .await?
                .is_none()
        {
            return Err(ExecutionError::ConversationNotYours(conversation_id));
        }
        let attachments = self.owned_files(owner_id, &request.attachments).await?;
        let model = execution::Model {
            attachments: crate::turn::stored_ids(&attachments),
            ..new_run(owner_id, Some(agent_id), request.conversation_id, request.input)
        };
        let stored = self.submit(model, request.if_busy.unwrap_or_default()).await?;
        Ok(stored.into())
    }

    /// Starts a stateless run of the owner's live agent (`404` otherwise): it answers
    /// `run`'s history instead of a conversation's, offering `run`'s client tools besides
    /// the agent's (those needing approval left out), and writes to no conversation.
    pub async fn start_stateless(&self, owner_id: Uuid, agent_id: Uuid, run: StatelessRun) -> Result<Execution> {
        let model = self.stateless_model(owner_id, agent_id, &run).await?;
        Ok(self.runner.submit(model).await?.into())
    }

    /// Like [`ExecutionService::start_stateless`] for a caller that waits for the answer
    /// (a chat completion, a response that is not `background`): run at once by this
    /// process when it has a free worker, so the execution is never seen `queued`.
    pub async fn run_stateless(&self, owner_id: Uuid, agent_id: Uuid, run: StatelessRun) -> Result<Execution> {
        let model = self.stateless_model(owner_id, agent_id, &run).await?;
        Ok(self.runner.start_now(model).await?.into())
    }

    /// Answers a stateless run of the owner's live `agent` (as read with its `linked` flag,
    /// [`AgentService::find_flagged`]; anyone else's is a `404`) for a caller that waits for
    /// it. Unless `store` is asked for, a run that needs nothing but the model — the agent
    /// has no tools, MCP servers or sub-agents (`linked` is false), or `run.agent_tools` is
    /// off — is answered straight from the provider ([`DirectAnswer`], `stream`ed or whole)
    /// and stored nowhere; any other is a run as [`ExecutionService::run_stateless`] starts it.
    pub async fn answer_stateless(
        &self,
        owner_id: Uuid,
        agent: agents::entities::agent::Model,
        linked: bool,
        mut run: StatelessRun,
        store: bool,
        stream: bool,
    ) -> Result<StatelessAnswer> {
        if agent.owner_id != owner_id || agent.deleted_at.is_some() {
            return Err(ExecutionError::AgentNotFound);
        }
        if store || (linked && run.agent_tools) {
            return Ok(StatelessAnswer::Run(self.run_stateless(owner_id, agent.id, run).await?));
        }
        let provider = self
            .runner
            .providers()
            .get(&agent.provider)
            .map_err(kernel::Error::from)?;
        let request = llm::ChatRequest {
            model: agent.model,
            system_prompt: agent.system_prompt,
            // The stored value is f64 in 0..=2; providers take f32.
            temperature: run.temperature.or(Some(agent.temperature as f32)),
            max_tokens: run.max_tokens.or(agent.max_tokens.and_then(|n| u32::try_from(n).ok())),
            tools: std::mem::take(&mut run.client_tools),
            messages: run.history(),
        };
        let timeout = self.runner.config().timeout;
        Ok(StatelessAnswer::Direct(DirectAnswer::ask(
            provider, request, stream, timeout,
        )))
    }

    /// The new execution of a stateless run of the owner's agent (`404` when it is not theirs).
    async fn stateless_model(&self, owner_id: Uuid, agent_id: Uuid, run: &StatelessRun) -> Result<execution::Model> {
        if self.agents.find_flagged_cached(owner_id, agent_id).await?.is_none() {
            return Err(ExecutionError::AgentNotFound);
        }
        let history = serde_json::to_value(run)
            .map_err(|err| kernel::Error::Internal(anyhow::anyhow!("cannot record the history: {err}")))?;
        Ok(execution::Model {
            history: Some(history),
            ..new_run(owner_id, Some(agent_id), None, run.input())
        })
    }

    /// Deletes the owner's execution with its events and sub-agent runs (`404` when missing
    /// or someone else's), cancelling it first if it is active.
    pub async fn delete(&self, owner_id: Uuid, id: Uuid) -> Result<()> {
        self.owned(owner_id, id).await?;
        self.stop(owner_id, id).await?;
        let deleted = execution::Entity::delete_many()
            .filter(execution::Column::Id.eq(id))
            .filter(execution::Column::OwnerId.eq(owner_id))
            .exec(self.store.db())
            .await
            .map_err(kernel::Error::from)?;
        if deleted.rows_affected == 0 {
            return Err(ExecutionError::NotFound);
        }
        Ok(())
    }

    /// Sends a user's turn: starts the run that stores it in the target conversation
    /// (created first for a `/chat` message without one) and writes the reply. Errors
    /// before anything is stored: a bad target, a turn breaking its rules (attachments,
    /// content, a failed transcription), a deleted agent (`AgentGone`), a busy
    /// conversation with `if_busy: reject`.
    pub async fn send(
        &self,
        owner_id: Uuid,
        target: MessageTarget,
        turn: UserTurn,
        if_busy: IfBusy,
    ) -> Result<Execution> {
        // The agent as read here goes to the run, which does not read it again.
        let (conversation_id, agent) = match target {
            MessageTarget::Conversation(id) => {
                let conversation = self
                    .conversations
                    .find_owned(owner_id, id)
                    .await?
                    .ok_or(ExecutionError::ConversationNotFound)?;
                (Some(id), self.live_agent(owner_id, conversation.agent_id, None).await?)
            }
            MessageTarget::Chat {
                conversation_id: Some(id),
                agent_id,
            } => {
                let conversation = self
                    .conversations
                    .find_owned(owner_id, id)
                    .await?
                    .ok_or(ExecutionError::ConversationNotYours(id))?;
                if let Some(named) = agent_id
                    && agent_id != conversation.agent_id
                {
                    return Err(ExecutionError::AgentMismatch(named));
                }
                (
                    Some(id),
                    self.live_agent(owner_id, conversation.agent_id, agent_id).await?,
                )
            }
            MessageTarget::Chat {
                conversation_id: None,
                agent_id: Some(id),
            } => match self.agents.find_flagged_cached(owner_id, id).await? {
                Some(agent) => (None, Some(agent)),
                None => return Err(ExecutionError::AgentNotYours(id)),
            },
            MessageTarget::Chat {
                conversation_id: None,
                agent_id: None,
            } => (None, None),
        };
        let agent_id = agent.as_ref().map(|(agent, _)| agent.id);
        let turn = self.check_turn(owner_id, turn).await?;
        let conversation = match conversation_id {
            Some(id) => TurnConversation::Existing(id),
            None => {
                let create = ConversationCreate {
                    agent_id,
                    title: Some(derived_title(&turn.content)),
                    metadata: Default::default(),
                };
                self.conversations.new_turn_conversation(owner_id, create)?
            }
        };
        let model = execution::Model {
            attachments: turn.stored_attachments(),
            speak: turn.speak,
            ..new_run(owner_id, agent_id, Some(conversation.id()), turn.content.clone())
        };
        // At once when this process has a free worker and the conversation is free: the
        // conversation, the run and the user message in one transaction.
        let message = NewMessage::user(turn.content.clone())
            .with_attachments(turn.attachments.clone())
            .by(model.id);
        let opened = self.conversations.message_statements(owner_id, &conversation, message);
        if let Some(started) = self
            .runner
            .start_turn(model.clone(), &conversation, opened, agent)
            .await?
        {
            return Ok(started.into());
        }
        // Otherwise queued: the run stores its user message when it starts.
        self.conversations.store_turn_conversation(&conversation).await?;
        Ok(self.submit(model, if_busy).await?.into())
    }

    /// The conversation's agent, when it is still the owner's live agent: `AgentGone`
    /// otherwise (`AgentNotYours` when the body named it).
    /// With whether it has links.
    async fn live_agent(
        &self,
        owner_id: Uuid,
        agent_id: Option<Uuid>,
        named: Option<Uuid>,
    ) -> Result<Option<(agents::entities::agent::Model, bool)>> {
        let Some(id) = agent_id else { return Ok(None) };
        match self.agents.find_flagged_cached(owner_id, id).await? {
            Some(agent) => Ok(Some(agent)),
            None if named.is_some() => Err(ExecutionError::AgentNotYours(id)),
            None => Err(ExecutionError::AgentGone),
        }
    }

    /// Applies `if_busy` to a run of a conversation, then hands the run to the runner.
    async fn submit(&self, model: execution::Model, if_busy: IfBusy) -> Result<execution::Model> {
        if let Some(conversation_id) = model.conversation_id {
            match if_busy {
                IfBusy::Enqueue => {}
                IfBusy::Reject => {
                    if let Some(active) = self.store.active_runs(conversation_id).await?.first() {
                        return Err(ExecutionError::ConversationBusy(*active));
                    }
                }
                IfBusy::Interrupt => {
                    for active in self.store.active_runs(conversation_id).await? {
                        self.stop(model.owner_id, active).await?;
                    }
                }
            }
        }
        Ok(self.runner.submit(model).await?)
    }

    /// Waits for the reply of the owner's run of a conversation: the stored assistant
    /// message, the execution when it paused for a person, or why there is neither
    /// (`RunFailed`, `RunCancelled`, `RunExpired`).
    pub async fn reply(&self, owner_id: Uuid, id: Uuid) -> Result<Reply> {
        let mut feed = self.watch(owner_id, id, 0).await?;
        self.reply_from(owner_id, id, &mut feed).await
    }

    /// [`ExecutionService::reply`] for a run this caller just started ([`ExecutionService::send`]).
    pub async fn reply_to(&self, owner_id: Uuid, run: &Execution) -> Result<Reply> {
        let mut feed = self.follow(run);
        self.reply_from(owner_id, run.id, &mut feed).await
    }

    async fn reply_from(&self, owner_id: Uuid, id: Uuid, feed: &mut EventFeed) -> Result<Reply> {
        while let Some(frame) = feed.next().await? {
            match &frame.event.event {
                Event::MessageCompleted(message) => return Ok(Reply::Message(message.clone())),
                Event::ExecutionRequiresAction(_) => return Ok(Reply::Paused(self.get(owner_id, id).await?)),
                Event::ExecutionExpired(_) => return Err(ExecutionError::RunExpired),
                Event::ExecutionFailed(ExecutionFailed { error, code }) => {
                    return Err(ExecutionError::RunFailed {
                        error: error.clone(),
                        code: *code,
                    });
                }
                Event::ExecutionCancelled(_) => return Err(ExecutionError::RunCancelled),
                Event::ExecutionCompleted(_) => break,
                _ => {}
            }
        }
        Err(ExecutionError::RunFailed {
            error: "the run ended without a reply".into(),
            code: None,
        })
    }

    /// The owner's execution with this id (`404` when missing or someone else's).
    pub async fn get(&self, owner_id: Uuid, id: Uuid) -> Result<Execution> {
        Ok(self.owned(owner_id, id).await?.into())
    }

    /// The owner's execution row with this id, if there is one.
    pub async fn find_owned(&self, owner_id: Uuid, id: Uuid) -> Result<Option<execution::Model>> {
        Ok(self.store.find(id).await?.filter(|m| m.owner_id == owner_id))
    }

    /// The owner's execution row with this id ([`ExecutionError::NotFound`] otherwise).
    async fn owned(&self, owner_id: Uuid, id: Uuid) -> Result<execution::Model> {
        self.find_owned(owner_id, id).await?.ok_or(ExecutionError::NotFound)
    }

    /// A page of the owner's executions (sub-agent runs included), newest first.
    pub async fn list(&self, owner_id: Uuid, filter: ListFilter, page: &PageParams) -> Result<Page<Execution>> {
        let mut select = execution::Entity::find().filter(execution::Column::OwnerId.eq(owner_id));
        if let Some(agent_id) = filter.agent_id {
            select = select.filter(execution::Column::AgentId.eq(agent_id));
        }
        if let Some(status) = filter.status {
            select = select.filter(execution::Column::Status.eq(status));
        }
        let columns = KeysetColumns {
            created_at: execution::Column::CreatedAt,
            id: execution::Column::Id,
        };
        let page = fetch_page(self.store.db(), select, columns, page, |e| Cursor {
            created_at: e.created_at,
            id: e.id,
        })
        .await?;
        Ok(page.map(Execution::from))
    }

    /// Up to `limit` (at most 1000) stored events of the owner's execution with `seq > after`, oldest first.
    pub async fn events(&self, owner_id: Uuid, id: Uuid, after: i64, limit: u64) -> Result<Vec<ExecutionEvent>> {
        self.owned(owner_id, id).await?;
        Ok(self
            .store
            .events_after(id, after.max(0), limit.clamp(1, EVENTS_MAX))
            .await?)
    }

    /// Cancels the owner's queued or running execution, recording `execution.cancelled`;
    /// a terminal one is returned unchanged. The run stops wherever it runs: here through
    /// its cancellation token, on another replica through the event's notification.
    pub async fn cancel(&self, owner_id: Uuid, id: Uuid) -> Result<Execution> {
        self.stop(owner_id, id).await?;
        self.get(owner_id, id).await
    }

    /// Cancels the owner's execution if it is queued, running or waiting for a person
    /// (nothing otherwise). A run stopped between two model turns (waiting, or queued with
    /// its answers) has its turn's calls answered "cancelled" in its conversation here; a
    /// running one stops through its token.
    async fn stop(&self, owner_id: Uuid, id: Uuid) -> Result<()> {
        use execution::Column as C;
        let changes = || {
            vec![
                (C::Status, Expr::value(ExecutionStatus::Cancelled)),
                (C::RequiredAction, Expr::value(Option::<serde_json::Value>::None)),
                (C::CompletedAt, Expr::value(kernel::clock::now())),
            ]
        };
        let cancelled = || Event::ExecutionCancelled(ExecutionCancelled {});
        let idle = Condition::all()
            .add(C::OwnerId.eq(owner_id))
            .add(C::Status.is_in([ExecutionStatus::Queued, ExecutionStatus::RequiresAction]));
        if let Some(event) = self.store.append(id, idle, changes(), cancelled()).await? {
            self.broker.publish(event);
            self.broker.cancel_run(id);
            if let Some(model) = self.store.find(id).await? {
                crate::runner::close_paused_calls(&self.conversations, &model, "error: cancelled").await;
            }
            return Ok(());
        }
        let running = Condition::all()
            .add(C::OwnerId.eq(owner_id))
            .add(C::Status.eq(ExecutionStatus::Running));
        if let Some(event) = self.store.append(id, running, changes(), cancelled()).await? {
            self.broker.publish(event);
            self.broker.cancel_run(id);
        }
        Ok(())
    }

    /// Answers every pending call of the owner's `requires_action` execution and queues it
    /// to go on (`execution.input_received`), exactly once: `NotAwaitingInput` when it is
    /// not waiting (or another submission won), `Invalid` naming the input at fault.
    pub async fn submit_inputs(&self, owner_id: Uuid, id: Uuid, body: ActionInputs) -> Result<Execution> {
        kernel::rules::check(&body).map_err(ExecutionError::Invalid)?;
        let model = self.owned(owner_id, id).await?;
        if model.status != ExecutionStatus::RequiresAction {
            return Err(ExecutionError::NotAwaitingInput);
        }
        let Some(mut turn) = model
            .paused_turn
            .and_then(|stored| serde_json::from_value::<PausedTurn>(stored).ok())
        else {
            return Err(ExecutionError::NotAwaitingInput);
        };
        let call_ids = turn
            .answer(body.inputs, agents::arguments::check)
            .map_err(ExecutionError::Invalid)?;
        let stored = serde_json::to_value(&turn)
            .map_err(|err| kernel::Error::Internal(anyhow::anyhow!("cannot record the answers: {err}")))?;
        let event = Event::ExecutionInputReceived(ExecutionInputReceived { call_ids });
        let Some(event) = self.store.requeue(owner_id, id, stored, event).await? else {
            return Err(ExecutionError::NotAwaitingInput);
        };
        self.broker.publish(event);
        self.runner.kick(id);
        self.get(owner_id, id).await
    }

    /// Every event of a run this caller just started ([`ExecutionService::send`],
    /// [`ExecutionService::start`]), stored ones then live ones, up to and including the
    /// terminal event: [`ExecutionService::watch`] from the start without reading the row
    /// again.
    pub fn follow(&self, run: &Execution) -> EventFeed {
        // Subscribed before the feed first reads the store: nothing falls in between. The
        // events the run was started with here come with it, so the store is read only if
        // something was published before the subscription.
        let (subscription, opening, highest) = self.broker.subscribe_opened(run.id);
        EventFeed::opened(self.store.clone(), run.id, subscription, opening, highest)
    }

    /// The stored events of the owner's execution after `after`, then its live ones, up to
    /// and including the terminal event (`404` when missing or someone else's).
    pub async fn watch(&self, owner_id: Uuid, id: Uuid, after: i64) -> Result<EventFeed> {
        let model = self.owned(owner_id, id).await?;
        // Subscribe before the feed first reads the store: nothing falls in between.
        let subscription = self.broker.subscribe(id);
        let after = after.max(0);
        // A terminal execution's last event is its terminal one: after it, nothing comes.
        let finished = model.status.is_terminal() && after >= model.last_seq;
        Ok(EventFeed::new(self.store.clone(), id, subscription, after, finished))
    }
}

/// A new top-level run, not stored yet.
fn new_run(owner_id: Uuid, agent_id: Option<Uuid>, conversation_id: Option<Uuid>, input: String) -> execution::Model {
    execution::Model {
        id: kernel::ids::new_id(),
        owner_id,
        agent_id,
        conversation_id,
        parent_id: None,
        depth: 0,
        status: ExecutionStatus::Queued,
        input,
        output: None,
        error: None,
        prompt_tokens: 0,
        completion_tokens: 0,
        last_seq: 0,
        worker_id: None,
        lease_expires_at: None,
        created_at: kernel::clock::now(),
        started_at: None,
        completed_at: None,
        required_action: None,
        action_expires_at: None,
        paused_turn: None,
        history: None,
        attachments: None,
        speak: false,
    }
}
