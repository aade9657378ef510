//! Executions (background agent runs, claimed by a worker under a renewable lease) and
//! their append-only event log, numbered 1, 2, 3… per execution.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    Id,
    OwnerId,
    AgentId,
    ConversationId,
    ParentId,
    Depth,
    Status,
    Input,
    Output,
    Error,
    PromptTokens,
    CompletionTokens,
    LastSeq,
    WorkerId,
    LeaseExpiresAt,
    CreatedAt,
    StartedAt,
    CompletedAt,
}

#[derive(DeriveIden)]
enum ExecutionEvents {
    Table,
    ExecutionId,
    Seq,
    #[sea_orm(iden = "type")]
    EventType,
    Data,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Executions::Table)
                    .col(pk_uuid(Executions::Id))
                    .col(uuid(Executions::OwnerId))
                    .col(uuid(Executions::AgentId))
                    .col(uuid_null(Executions::ConversationId))
                    .col(uuid_null(Executions::ParentId))
                    .col(integer(Executions::Depth).default(0))
                    .col(string_len(Executions::Status, 16))
                    .col(text(Executions::Input))
                    .col(text_null(Executions::Output))
                    .col(text_null(Executions::Error))
                    .col(big_integer(Executions::PromptTokens).default(0))
                    .col(big_integer(Executions::CompletionTokens).default(0))
                    .col(big_integer(Executions::LastSeq).default(0))
                    .col(string_len_null(Executions::WorkerId, 64))
                    .col(timestamp_with_time_zone_null(Executions::LeaseExpiresAt))
                    .col(timestamp_with_time_zone(Executions::CreatedAt))
                    .col(timestamp_with_time_zone_null(Executions::StartedAt))
                    .col(timestamp_with_time_zone_null(Executions::CompletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_executions_owner")
                            .from(Executions::Table, Executions::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_executions_agent")
                            .from(Executions::Table, Executions::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // A deleted conversation leaves its executions in place, unlinked.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_executions_conversation")
                            .from(Executions::Table, Executions::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_executions_parent")
                            .from(Executions::Table, Executions::ParentId)
                            .to(Executions::Table, Executions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The owner's list, newest first (keyset over created_at, id).
        manager
            .create_index(
                Index::create()
                    .name("ix_executions_owner_created_id")
                    .table(Executions::Table)
                    .col(Executions::OwnerId)
                    .col(Executions::CreatedAt)
                    .col(Executions::Id)
                    .to_owned(),
            )
            .await?;
        // Workers claim the oldest queued execution; only queued rows enter this index.
        manager
            .create_index(
                Index::create()
                    .name("ix_executions_queued")
                    .table(Executions::Table)
                    .col(Executions::CreatedAt)
                    .col(Executions::Id)
                    .and_where(Expr::col(Executions::Status).eq("queued"))
                    .to_owned(),
            )
            .await?;
        // Heartbeats (by worker) and the sweep of expired leases read running rows only.
        manager
            .create_index(
                Index::create()
                    .name("ix_executions_running_lease")
                    .table(Executions::Table)
                    .col(Executions::LeaseExpiresAt)
                    .col(Executions::WorkerId)
                    .and_where(Expr::col(Executions::Status).eq("running"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_executions_parent_id")
                    .table(Executions::Table)
                    .col(Executions::ParentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_executions_conversation_id")
                    .table(Executions::Table)
                    .col(Executions::ConversationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_executions_agent_id")
                    .table(Executions::Table)
                    .col(Executions::AgentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ExecutionEvents::Table)
                    .col(uuid(ExecutionEvents::ExecutionId))
                    .col(big_integer(ExecutionEvents::Seq))
                    .col(string_len(ExecutionEvents::EventType, 64))
                    .col(json_binary(ExecutionEvents::Data))
                    .col(timestamp_with_time_zone(ExecutionEvents::CreatedAt))
                    // The key is the unique (execution_id, seq): replay reads it in order.
                    .primary_key(
                        Index::create()
                            .col(ExecutionEvents::ExecutionId)
                            .col(ExecutionEvents::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_execution_events_execution")
                            .from(ExecutionEvents::Table, ExecutionEvents::ExecutionId)
                            .to(Executions::Table, Executions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ExecutionEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Executions::Table).to_owned())
            .await
    }
}
