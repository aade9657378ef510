//! Conversations (owned by a user, optionally bound to an agent) and their messages.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    OwnerId,
    AgentId,
    Title,
    Metadata,
    MessageCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    ConversationId,
    Role,
    Content,
    Model,
    PromptTokens,
    CompletionTokens,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `agent_id` has no foreign key on purpose: agents are soft-deleted, and a
        // conversation stays readable after its agent is gone.
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(pk_uuid(Conversations::Id))
                    .col(uuid(Conversations::OwnerId))
                    .col(uuid_null(Conversations::AgentId))
                    .col(string_len_null(Conversations::Title, 200))
                    .col(json_binary(Conversations::Metadata))
                    .col(big_integer(Conversations::MessageCount).default(0))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .col(timestamp_with_time_zone(Conversations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversations_owner")
                            .from(Conversations::Table, Conversations::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_conversations_owner_created_id")
                    .table(Conversations::Table)
                    .col(Conversations::OwnerId)
                    .col(Conversations::CreatedAt)
                    .col(Conversations::Id)
                    .to_owned(),
            )
            .await?;
        // The `?agent_id=` filter of the list.
        manager
            .create_index(
                Index::create()
                    .name("ix_conversations_owner_agent")
                    .table(Conversations::Table)
                    .col(Conversations::OwnerId)
                    .col(Conversations::AgentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(pk_uuid(Messages::Id))
                    .col(uuid(Messages::ConversationId))
                    .col(string_len(Messages::Role, 16))
                    .col(text(Messages::Content))
                    .col(text_null(Messages::Model))
                    .col(integer_null(Messages::PromptTokens))
                    .col(integer_null(Messages::CompletionTokens))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_messages_conversation")
                            .from(Messages::Table, Messages::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Pages of a conversation's messages, and the last-N history of a reply.
        manager
            .create_index(
                Index::create()
                    .name("ix_messages_conversation_created_id")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::CreatedAt)
                    .col(Messages::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Conversations::Table).to_owned())
            .await
    }
}
