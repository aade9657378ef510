//! Idempotency keys: per user, the first request sent with a key and, once handled, its
//! answer (replayed to retries). The unique `(user_id, idempotency_key)` is what lets one
//! request of two racing replicas claim a key.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    UserId,
    IdempotencyKey,
    RequestHash,
    State,
    ResponseStatus,
    ResponseContentType,
    ResponseLocation,
    ResponseBody,
    ExecutionId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(pk_uuid(IdempotencyKeys::Id))
                    .col(uuid(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::IdempotencyKey, 255))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(string_len(IdempotencyKeys::State, 16))
                    .col(integer_null(IdempotencyKeys::ResponseStatus))
                    .col(text_null(IdempotencyKeys::ResponseContentType))
                    .col(text_null(IdempotencyKeys::ResponseLocation))
                    // bytea on PostgreSQL, blob on SQLite.
                    .col(blob_null(IdempotencyKeys::ResponseBody))
                    .col(uuid_null(IdempotencyKeys::ExecutionId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_idempotency_keys_user")
                            .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_idempotency_keys_user_key")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::UserId)
                    .col(IdempotencyKeys::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The purge deletes by age.
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_keys_created_at")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
