//! API keys: long-lived bearer secrets of a user, stored only as SHA-256 hashes. On
//! PostgreSQL a trigger announces each deleted key on the account-standing channel (see
//! `m20261122_000001`), so every replica's cache forgets it at once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    UserId,
    Name,
    Prefix,
    KeyHash,
    ExpiresAt,
    LastUsedAt,
    CreatedAt,
}

/// The payload is the key's *lookup id*: the first 128 bits of its hash as a UUID, the id
/// `auth` caches the key under (it cannot look a revoked key's hash up any more).
const NOTIFY_UP: &str = r#"
CREATE FUNCTION agentry_notify_api_key_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('agentry_user_standing', substr(OLD.key_hash, 1, 32)::uuid::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_revoked_notify
    AFTER DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION agentry_notify_api_key_revoked();
"#;

/// Every key goes with the table: deleted first, row by row, so that the trigger tells
/// every running replica to forget each one.
const NOTIFY_DOWN: &str = r#"
DELETE FROM api_keys;
DROP TRIGGER IF EXISTS api_keys_revoked_notify ON api_keys;
DROP FUNCTION IF EXISTS agentry_notify_api_key_revoked();
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_uuid(ApiKeys::Id))
                    .col(uuid(ApiKeys::UserId))
                    .col(string_len(ApiKeys::Name, 100))
                    .col(string_len(ApiKeys::Prefix, 12))
                    .col(string_len_uniq(ApiKeys::KeyHash, 64))
                    .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_user")
                            .from(ApiKeys::Table, ApiKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The caller's list, newest first: `WHERE user_id = ? ORDER BY created_at, id`.
        manager
            .create_index(
                Index::create()
                    .name("ix_api_keys_user_created")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::UserId)
                    .col(ApiKeys::CreatedAt)
                    .col(ApiKeys::Id)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(NOTIFY_UP).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager.get_connection().execute_unprepared(NOTIFY_DOWN).await?;
        }
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await
    }
}
