//! The message log half of [`ConversationService`]: appending, paging, and the history a
//! reply is generated from.

use kernel::page::{KeysetColumns, fetch_page};
use kernel::{Cursor, Page, PageParams};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use super::ConversationService;
use crate::entities::{conversation, message};
use crate::error::{ConversationError, Result};
use crate::schemas::Message;

/// A message to store in a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    /// Who wrote it.
    pub role: llm::Role,
    /// Its text (for a tool message: the tool's result).
    pub content: String,
    /// The model that wrote it (assistant messages).
    pub model: Option<String>,
    /// Tokens spent producing it (assistant messages).
    pub usage: Option<llm::Usage>,
    /// The run writing it.
    pub execution_id: Option<Uuid>,
    /// The tool calls an assistant message made, in order (stored as null when empty).
    pub tool_calls: Vec<llm::ToolCall>,
    /// For a tool message: the id of the call whose result it holds.
    pub tool_call_id: Option<String>,
    /// The files attached to it, in order (the caller checked they are the owner's).
    pub attachments: Vec<files::File>,
}

impl NewMessage {
    /// A message the user wrote.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(llm::Role::User, content.into())
    }

    /// An assistant message: its text (may be empty) and the tools it called, with the
    /// model that wrote it and the tokens that cost.
    pub fn assistant_calls(
        text: impl Into<String>,
        tool_calls: Vec<llm::ToolCall>,
        model: Option<String>,
        usage: Option<llm::Usage>,
    ) -> Self {
        Self {
            tool_calls,
            model,
            usage,
            ..Self::new(llm::Role::Assistant, text.into())
        }
    }

    /// A `tool` message: the result (`content`) of the call `call_id`.
    pub fn tool_result(call_id: String, content: String) -> Self {
        Self {
            tool_call_id: Some(call_id),
            ..Self::new(llm::Role::Tool, content)
        }
    }

    /// This message with `attachments`.
    pub fn with_attachments(mut self, attachments: Vec<files::File>) -> Self {
        self.attachments = attachments;
        self
    }

    /// This message, written by run `execution_id`.
    pub fn by(mut self, execution_id: Uuid) -> Self {
        self.execution_id = Some(execution_id);
        self
    }

    fn new(role: llm::Role, content: String) -> Self {
        Self {
            role,
            content,
            model: None,
            usage: None,
            execution_id: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            attachments: Vec::new(),
        }
    }

    /// The stored row of this message in `conversation_id`.
    pub(super) fn into_model(self, conversation_id: Uuid) -> message::Model {
        let attachments = stored_attachments(&self.attachments);
        let tokens = |t: u64| i32::try_from(t).unwrap_or(i32::MAX);
        message::Model {
            id: kernel::ids::new_id(),
            conversation_id,
            role: self.role.into(),
            content: self.content,
            model: self.model,
            prompt_tokens: self.usage.map(|u| tokens(u.prompt_tokens)),
            completion_tokens: self.usage.map(|u| tokens(u.completion_tokens)),
            execution_id: self.execution_id,
            tool_calls: stored_calls(self.tool_calls),
            tool_call_id: self.tool_call_id,
            attachments,
            created_at: kernel::clock::now(),
        }
    }
}

impl ConversationService {
    /// Stores a message in the owner's conversation and moves its `message_count` and
    /// `updated_at`, atomically; `NotFound` when the conversation is missing or someone else's.
    pub async fn append_message(&self, owner_id: Uuid, conversation_id: Uuid, new: NewMessage) -> Result<Message> {
        let attachments = new.attachments.clone();
        let model = new.into_model(conversation_id);
        let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
        let txn = self.db.begin().await?;
        // The update both checks ownership and takes the row's write lock first.
        let bumped = conversation::Entity::update_many()
            .col_expr(
                conversation::Column::MessageCount,
                Expr::col(conversation::Column::MessageCount).add(1),
            )
            .col_expr(conversation::Column::UpdatedAt, Expr::value(model.created_at))
            .filter(conversation::Column::Id.eq(conversation_id))
            .filter(conversation::Column::OwnerId.eq(owner_id))
            .exec(&txn)
            .await?;
        if bumped.rows_affected == 0 {
            return Err(ConversationError::NotFound);
        }
        insert(&txn, &model).await?;
        txn.commit().await?;
        Ok(Message::from(model).with_attachments(attachments))
    }

    /// A page of the owner's conversation's messages, in `page`'s direction; `NotFound`
    /// when the conversation is missing or someone else's.
    pub async fn messages(&self, owner_id: Uuid, conversation_id: Uuid, page: &PageParams) -> Result<Page<Message>> {
        self.owned(owner_id, conversation_id).await?;
        let select = message::Entity::find().filter(message::Column::ConversationId.eq(conversation_id));
        let columns = KeysetColumns {
            created_at: message::Column::CreatedAt,
            id: message::Column::Id,
        };
        let page = fetch_page(&self.db, select, columns, page, |m| Cursor {
            created_at: m.created_at,
            id: m.id,
        })
        .await?;
        let ids: Vec<Uuid> = page.items.iter().flat_map(message::Model::attachment_ids).collect();
        let files = self.files.get_many(&ids).await?;
        Ok(page.map(|m| {
            let attached = attached_files(&m, &files);
            Message::from(m).with_attachments(attached)
        }))
    }

    /// The last `limit` messages of the owner's conversation, oldest first, as the LLM
    /// history; `NotFound` when the conversation is missing or someone else's.
    pub async fn history(&self, owner_id: Uuid, conversation_id: Uuid, limit: u64) -> Result<Vec<llm::ChatMessage>> {
        self.owned(owner_id, conversation_id).await?;
        self.recent(conversation_id, limit).await
    }

    /// The last `limit` messages of a conversation already known to be the caller's, oldest
    /// first. The window never starts with `tool` messages (their assistant message fell
    /// outside it), so the history is valid for every provider.
    pub async fn recent(&self, conversation_id: Uuid, limit: u64) -> Result<Vec<llm::ChatMessage>> {
        let mut rows = message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id))
            .order_by_desc(message::Column::CreatedAt)
            .order_by_desc(message::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.reverse();
        let orphans = rows.iter().take_while(|m| m.role == message::Role::Tool).count();
        let rows: Vec<message::Model> = rows.into_iter().skip(orphans).collect();
        let ids: Vec<Uuid> = rows.iter().flat_map(message::Model::attachment_ids).collect();
        let files = self.files.get_many(&ids).await?;
        let mut history = Vec::with_capacity(rows.len());
        for row in rows {
            let attached = attached_files(&row, &files);
            let attachments = self.model_attachments(&attached).await?;
            history.push(chat_message(row).with_attachments(attachments));
        }
        Ok(history)
    }
}

/// The stored form of a message's attachments: their ids, a JSON array, or null for none.
fn stored_attachments(files: &[files::File]) -> Option<serde_json::Value> {
    (!files.is_empty()).then(|| files.iter().map(|file| file.id.to_string()).collect())
}

/// The files of `found` a message lists, in its order (those deleted since are left out).
fn attached_files(message: &message::Model, found: &[files::File]) -> Vec<files::File> {
    message
        .attachment_ids()
        .iter()
        .filter_map(|id| found.iter().find(|file| file.id == *id).cloned())
        .collect()
}

/// The stored form of an assistant message's tool calls: a JSON array, or null for none.
fn stored_calls(calls: Vec<llm::ToolCall>) -> Option<serde_json::Value> {
    if calls.is_empty() {
        return None;
    }
    let calls = calls
        .into_iter()
        .map(|call| serde_json::json!({"id": call.id, "name": call.name, "arguments": call.arguments}))
        .collect();
    Some(serde_json::Value::Array(calls))
}

/// A stored message as the model reads it.
fn chat_message(m: message::Model) -> llm::ChatMessage {
    llm::ChatMessage {
        role: m.role.into(),
        tool_calls: m.calls(),
        tool_call_id: m.tool_call_id,
        content: m.content,
        attachments: Vec::new(),
    }
}

async fn insert(db: &impl ConnectionTrait, model: &message::Model) -> Result<()> {
    message::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(db)
        .await?;
    Ok(())
}
