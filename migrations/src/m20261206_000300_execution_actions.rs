//! Runs that pause for a person (v2, "Tools that run"):
//!
//! - `executions.required_action`: the calls a person must answer (the public object,
//!   `{expires_at, calls}`), set while the run is `requires_action`;
//! - `executions.action_expires_at`: when an unanswered run ends `expired` (indexed for
//!   the sweep that expires them);
//! - `executions.paused_turn`: what the run needs to go on where it stopped (the model
//!   turn's calls, the history, the answers once they arrive); internal, never on the wire.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Executions {
    Table,
    RequiredAction,
    ActionExpiresAt,
    PausedTurn,
}

const EXPIRY_INDEX: &str = "ix_executions_action_expires_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            json_binary_null(Executions::RequiredAction),
            timestamp_with_time_zone_null(Executions::ActionExpiresAt),
            json_binary_null(Executions::PausedTurn),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Executions::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(EXPIRY_INDEX)
                    .table(Executions::Table)
                    .col(Executions::ActionExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(EXPIRY_INDEX).table(Executions::Table).to_owned())
            .await?;
        for column in [
            Executions::PausedTurn,
            Executions::ActionExpiresAt,
            Executions::RequiredAction,
        ] {
            manager
                .alter_table(Table::alter().table(Executions::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
