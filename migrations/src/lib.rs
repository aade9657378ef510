//! Agentry's schema history. Migrations are frozen once released: a change is a new file.
//! Every migration is written with sea-query's builders (or SQL both databases accept),
//! so the same file runs on SQLite and PostgreSQL; the exceptions are PostgreSQL-only
//! triggers (`m20261122_000001`, the one in `m20261202_000300`, and `m20261207_000100`), no-ops
//! on SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_create_users;
mod m20261121_000002_create_auth_tokens;
mod m20261121_000100_create_agents_and_tools;
mod m20261121_000200_create_conversations;
mod m20261121_000300_create_executions;
mod m20261122_000001_notify_user_standing;
mod m20261202_000100_runs;
mod m20261202_000200_create_idempotency_keys;
mod m20261202_000300_create_api_keys;
mod m20261206_000100_create_secrets;
mod m20261206_000200_tool_kinds_and_message_tool_calls;
mod m20261206_000300_execution_actions;
mod m20261206_000400_execution_history;
mod m20261206_000500_mcp_servers;
mod m20261206_000600_create_files;
mod m20261206_000700_user_avatars;
mod m20261206_000800_attachments;
mod m20261207_000100_notify_agent_changes;
mod postgres_only;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_users::Migration),
            Box::new(m20261121_000002_create_auth_tokens::Migration),
            Box::new(m20261121_000100_create_agents_and_tools::Migration),
            Box::new(m20261121_000200_create_conversations::Migration),
            Box::new(m20261121_000300_create_executions::Migration),
            Box::new(m20261122_000001_notify_user_standing::Migration),
            Box::new(m20261202_000100_runs::Migration),
            Box::new(m20261202_000200_create_idempotency_keys::Migration),
            Box::new(m20261202_000300_create_api_keys::Migration),
            Box::new(m20261206_000200_tool_kinds_and_message_tool_calls::Migration),
            Box::new(m20261206_000100_create_secrets::Migration),
            Box::new(m20261206_000300_execution_actions::Migration),
            Box::new(m20261206_000400_execution_history::Migration),
            Box::new(m20261206_000500_mcp_servers::Migration),
            Box::new(m20261206_000600_create_files::Migration),
            Box::new(m20261206_000700_user_avatars::Migration),
            Box::new(m20261206_000800_attachments::Migration),
            Box::new(m20261207_000100_notify_agent_changes::Migration),
        ]
    }
}
