//! Messages written with a caller's own rows: the statements that store a message (and,
//! for a new conversation, the conversation) for a caller running them in its transaction
//! — a run storing its input together with the run as it starts, and its answer together
//! with its end.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryTrait, Statement};
use uuid::Uuid;

use super::conversations::new_conversation;
use super::{ConversationService, NewMessage, check};
use crate::entities::{conversation, message};
use crate::error::Result;
use crate::schemas::{ConversationCreate, Message};

/// The conversation a turn opens in.
#[derive(Debug, Clone)]
pub enum TurnConversation {
    /// A conversation created with the turn (its row, not stored yet).
    New(conversation::Model),
    /// The owner's existing conversation with this id.
    Existing(Uuid),
}

impl TurnConversation {
    /// The conversation's id.
    pub fn id(&self) -> Uuid {
        match self {
            Self::New(model) => model.id,
            Self::Existing(id) => *id,
        }
    }
}

/// The statements storing one message, and the message as they store it.
#[derive(Debug, Clone)]
pub struct MessageStatements {
    /// The stored message as clients see it.
    pub message: Message,
    /// Inserts the new conversation, or moves the existing one's count and `updated_at`:
    /// first.
    pub conversation: Statement,
    /// Inserts the message: after the conversation and after the run that writes it
    /// (`messages.execution_id`).
    pub message_insert: Statement,
}

impl ConversationService {
    /// A conversation to create with its first turn: `input` checked (the caller has
    /// checked its agent), its row not stored yet.
    pub fn new_turn_conversation(&self, owner_id: Uuid, input: ConversationCreate) -> Result<TurnConversation> {
        check(&input)?;
        Ok(TurnConversation::New(new_conversation(
            owner_id,
            input.agent_id,
            input.title,
            input.metadata,
        )))
    }

    /// Stores `conversation` on its own when it is new (a turn that could not start at once
    /// and is queued: its run stores the message later); nothing when it exists.
    pub async fn store_turn_conversation(&self, conversation: &TurnConversation) -> Result<()> {
        if let TurnConversation::New(model) = conversation {
            self.insert(model.clone()).await?;
        }
        Ok(())
    }

    /// The statements storing `new` as the next message of `conversation` (created by them
    /// when new, its `message_count` and `updated_at` moved otherwise), for the caller to
    /// run in its own transaction, in the order [`MessageStatements`] gives. An existing
    /// conversation must be the owner's: the caller has checked it.
    pub fn message_statements(
        &self,
        owner_id: Uuid,
        conversation: &TurnConversation,
        new: NewMessage,
    ) -> MessageStatements {
        let backend = self.db.get_database_backend();
        let attachments = new.attachments.clone();
        let row = new.into_model(conversation.id());
        let first = match conversation {
            TurnConversation::New(model) => conversation::Entity::insert(
                conversation::Model {
                    message_count: 1,
                    updated_at: row.created_at,
                    ..model.clone()
                }
                .into_active_model(),
            )
            .build(backend),
            TurnConversation::Existing(id) => conversation::Entity::update_many()
                .col_expr(
                    conversation::Column::MessageCount,
                    Expr::col(conversation::Column::MessageCount).add(1),
                )
                .col_expr(conversation::Column::UpdatedAt, Expr::value(row.created_at))
                .filter(conversation::Column::Id.eq(*id))
                .filter(conversation::Column::OwnerId.eq(owner_id))
                .build(backend),
        };
        let message_insert = message::Entity::insert(row.clone().into_active_model()).build(backend);
        MessageStatements {
            message: Message::from(row).with_attachments(attachments),
            conversation: first,
            message_insert,
        }
    }
}
