//! [`ConversationService`]: conversations of their owners, created, listed, read, updated, deleted.

use agents::AgentService;
use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, Page, PageParams};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::check;
use crate::entities::conversation;
use crate::error::{ConversationError, Result};
use crate::schemas::{Conversation, ConversationCreate, ConversationUpdate};

/// Creates, reads, updates and deletes the conversations of their owners, and keeps their
/// message logs (see the `messages` half of this service).
#[derive(Clone)]
pub struct ConversationService {
    pub(super) db: DatabaseConnection,
    agents: AgentService,
    pub(super) files: files::FilesService,
}

impl ConversationService {
    /// A service over `db`; `agents` answers whether an `agent_id` is the caller's live
    /// agent, `files` holds the files messages attach.
    pub fn new(db: DatabaseConnection, agents: AgentService, files: files::FilesService) -> Self {
        Self { db, agents, files }
    }

    /// Creates a conversation; `422` naming `agent_id` when it is not the owner's live agent.
    pub async fn create(&self, owner_id: Uuid, input: ConversationCreate) -> Result<Conversation> {
        check(&input)?;
        if let Some(agent_id) = input.agent_id {
            self.check_agent(owner_id, agent_id).await?;
        }
        self.insert(new_conversation(owner_id, input.agent_id, input.title, input.metadata))
            .await
    }

    /// Stores a new conversation row.
    pub(super) async fn insert(&self, model: conversation::Model) -> Result<Conversation> {
        let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
        conversation::Entity::insert(model.clone().into_active_model())
            .exec_without_returning(&self.db)
            .await?;
        Ok(model.into())
    }

    /// A page of the owner's conversations, newest first, optionally of one agent only.
    pub async fn list(&self, owner_id: Uuid, agent_id: Option<Uuid>, page: &PageParams) -> Result<Page<Conversation>> {
        let mut select = conversation::Entity::find().filter(conversation::Column::OwnerId.eq(owner_id));
        if let Some(agent_id) = agent_id {
            select = select.filter(conversation::Column::AgentId.eq(agent_id));
        }
        let columns = KeysetColumns {
            created_at: conversation::Column::CreatedAt,
            id: conversation::Column::Id,
        };
        let page = fetch_page(&self.db, select, columns, page, |c| Cursor {
            created_at: c.created_at,
            id: c.id,
        })
        .await?;
        Ok(page.map(Conversation::from))
    }

    /// The owner's conversation with this id (`NotFound` when missing or someone else's).
    pub async fn get(&self, owner_id: Uuid, id: Uuid) -> Result<Conversation> {
        Ok(self.owned(owner_id, id).await?.into())
    }

    /// The owner's conversation row with this id, if there is one: the lookup other crates
    /// use to decide for themselves what a missing conversation means.
    pub async fn find_owned(&self, owner_id: Uuid, id: Uuid) -> Result<Option<conversation::Model>> {
        Ok(conversation::Entity::find_by_id(id)
            .filter(conversation::Column::OwnerId.eq(owner_id))
            .one(&self.db)
            .await?)
    }

    /// The owner's conversation row with this id (`NotFound` when missing or someone else's).
    pub(super) async fn owned(&self, owner_id: Uuid, id: Uuid) -> Result<conversation::Model> {
        self.find_owned(owner_id, id).await?.ok_or(ConversationError::NotFound)
    }

    /// Applies a partial update of `title` and `metadata`; `404` for a missing or foreign one.
    pub async fn update(&self, owner_id: Uuid, id: Uuid, input: ConversationUpdate) -> Result<Conversation> {
        check(&input)?;
        let current = self.owned(owner_id, id).await?;
        let mut changes = current.into_active_model();
        if let Some(title) = input.title {
            changes.title = Set(title);
        }
        if let Some(metadata) = input.metadata {
            changes.metadata = Set(Value::Object(metadata.unwrap_or_default()));
        }
        changes.updated_at = Set(kernel::clock::now());
        // Only the changed columns are written, so a concurrent message count bump survives.
        match changes.update(&self.db).await {
            Ok(updated) => Ok(updated.into()),
            Err(DbErr::RecordNotUpdated) => Err(ConversationError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// Deletes the conversation and (by cascade) its messages; `404` for a missing or foreign one.
    pub async fn delete(&self, owner_id: Uuid, id: Uuid) -> Result<()> {
        let deleted = conversation::Entity::delete_many()
            .filter(conversation::Column::Id.eq(id))
            .filter(conversation::Column::OwnerId.eq(owner_id))
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(ConversationError::NotFound);
        }
        Ok(())
    }

    /// [`ConversationError::AgentNotYours`] unless it is one of the owner's live agents.
    async fn check_agent(&self, owner_id: Uuid, agent_id: Uuid) -> Result<()> {
        match self.agents.find_owned(owner_id, agent_id).await? {
            Some(_) => Ok(()),
            None => Err(ConversationError::AgentNotYours(agent_id)),
        }
    }
}

/// A new, empty conversation row.
pub(super) fn new_conversation(
    owner_id: Uuid,
    agent_id: Option<Uuid>,
    title: Option<String>,
    metadata: Map<String, Value>,
) -> conversation::Model {
    let now = kernel::clock::now();
    conversation::Model {
        id: kernel::ids::new_id(),
        owner_id,
        agent_id,
        title,
        metadata: Value::Object(metadata),
        message_count: 0,
        created_at: now,
        updated_at: now,
    }
}
