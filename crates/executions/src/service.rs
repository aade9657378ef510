//! [`ExecutionService`]: starting, reading, listing, cancelling and watching executions.

use agents::AgentService;
use conversations::ConversationService;
use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, Page, PageParams};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::broker::Broker;
use crate::entities::execution;
use crate::error::{ExecutionError, Result};
use crate::events::{Event, ExecutionCancelled, ExecutionEvent};
use crate::feed::EventFeed;
use crate::schemas::{EVENTS_MAX, Execution, ExecutionCreate};
use crate::status::ExecutionStatus;
use crate::store::Store;

/// Which executions a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    /// Only this agent's.
    pub agent_id: Option<Uuid>,
    /// Only those in this state.
    pub status: Option<ExecutionStatus>,
}

/// The rules of executions as their owners see them; the work itself is the `Runner`'s.
#[derive(Clone)]
pub struct ExecutionService {
    store: Store,
    broker: Broker,
    agents: AgentService,
    conversations: ConversationService,
}

impl ExecutionService {
    /// A service over `db`, publishing through `broker`; `agents` and `conversations`
    /// answer whether the ids a caller names are theirs.
    pub fn new(
        db: DatabaseConnection,
        broker: Broker,
        agents: AgentService,
        conversations: ConversationService,
    ) -> Self {
        Self {
            store: Store::new(db),
            broker,
            agents,
            conversations,
        }
    }

    /// Queues a run of the owner's live agent (`404` otherwise) and wakes a worker;
    /// `422` naming `input` or `conversation_id` when they break the rules.
    pub async fn start(&self, owner_id: Uuid, agent_id: Uuid, request: ExecutionCreate) -> Result<Execution> {
        kernel::rules::check(&request).map_err(ExecutionError::Invalid)?;
        if self.agents.find_owned(owner_id, agent_id).await?.is_none() {
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
        let model = execution::Model {
            id: kernel::ids::new_id(),
            owner_id,
            agent_id,
            conversation_id: request.conversation_id,
            parent_id: None,
            depth: 0,
            status: ExecutionStatus::Queued,
            input: request.input,
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
        };
        self.store.insert_queued(&model).await?;
        self.broker.wake_queue();
        Ok(model.into())
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
        use execution::Column as C;
        let active = Condition::all()
            .add(C::OwnerId.eq(owner_id))
            .add(C::Status.is_in([ExecutionStatus::Queued, ExecutionStatus::Running]));
        let changes = vec![
            (C::Status, Expr::value(ExecutionStatus::Cancelled)),
            (C::CompletedAt, Expr::value(kernel::clock::now())),
        ];
        if let Some(event) = self
            .store
            .append(id, active, changes, Event::ExecutionCancelled(ExecutionCancelled {}))
            .await?
        {
            self.broker.publish(event);
            self.broker.cancel_run(id);
        }
        self.get(owner_id, id).await
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
