//! One run engine for chat and background work (v2):
//!
//! - `messages.execution_id`: the run that wrote a message;
//! - `executions.agent_id` becomes nullable: a conversation without an agent is answered by
//!   the default provider and model, through a run like any other;
//! - at most one active run per conversation, enforced by the database: a partial unique
//!   index over `executions.conversation_id` while a run is `running` or `requires_action`
//!   (a second claim of a busy conversation fails instead of running beside the first), and
//!   an index that lets claims find the queued runs of a conversation.
//!
//! SQLite cannot drop a `NOT NULL` with `ALTER TABLE`, and rebuilding `executions` would
//! cascade-delete its events; SQLite documents editing the stored table definition for
//! exactly this change (<https://sqlite.org/lang_altertable.html>, "removing NOT NULL
//! constraints"), done here in one transaction with the schema version bumped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Messages {
    Table,
    ExecutionId,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    AgentId,
    ConversationId,
    Status,
    CreatedAt,
}

/// The statuses of a run that holds its conversation.
const ACTIVE: &str = "status IN ('running', 'requires_action')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        // One connection and one transaction on both databases (the SQLite schema edit needs it).
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .add_column(uuid_null(Messages::ExecutionId))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("ALTER TABLE executions ALTER COLUMN agent_id DROP NOT NULL")
                    .await?;
            }
            _ => {
                set_sqlite_agent_id(
                    manager,
                    r#""agent_id" uuid_text NOT NULL"#,
                    r#""agent_id" uuid_text NULL"#,
                )
                .await?
            }
        }
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX ux_executions_active_conversation ON executions (conversation_id) \
             WHERE conversation_id IS NOT NULL AND {ACTIVE}"
        ))
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_executions_conversation_status_created")
                    .table(Executions::Table)
                    .col(Executions::ConversationId)
                    .col(Executions::Status)
                    .col(Executions::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_executions_conversation_status_created")
                    .table(Executions::Table)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX ux_executions_active_conversation")
            .await?;
        // Agentless runs cannot go back to a NOT NULL column.
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Executions::Table)
                    .and_where(Expr::col(Executions::AgentId).is_null())
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("ALTER TABLE executions ALTER COLUMN agent_id SET NOT NULL")
                    .await?;
            }
            _ => {
                set_sqlite_agent_id(
                    manager,
                    r#""agent_id" uuid_text NULL"#,
                    r#""agent_id" uuid_text NOT NULL"#,
                )
                .await?
            }
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Messages::Table)
                    .drop_column(Messages::ExecutionId)
                    .to_owned(),
            )
            .await
    }
}

/// Rewrites the column definition of `executions.agent_id` in SQLite's stored schema.
async fn set_sqlite_agent_id(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let version: i64 = db
        .query_one_raw(Statement::from_string(DbBackend::Sqlite, "PRAGMA schema_version"))
        .await?
        .ok_or_else(|| DbErr::Custom("PRAGMA schema_version returned nothing".into()))?
        .try_get_by_index(0)?;
    db.execute_unprepared("PRAGMA writable_schema = ON").await?;
    let changed = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'executions' AND instr(sql, ?) > 0",
            [from.into(), to.into(), from.into()],
        ))
        .await?
        .rows_affected();
    db.execute_unprepared(&format!("PRAGMA schema_version = {}", version + 1))
        .await?;
    db.execute_unprepared("PRAGMA writable_schema = OFF").await?;
    if changed != 1 {
        return Err(DbErr::Migration(format!(
            "executions.agent_id is not defined as `{from}`; cannot change it"
        )));
    }
    Ok(())
}
