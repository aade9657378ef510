//! Attachments and voice turns:
//!
//! - `messages.attachments`: the ids of the files attached to a message, a JSON array in
//!   order, or null for none (a deleted file drops out of the message when it is read);
//! - `executions.attachments`: the files of a run's input, the same way, carried until the
//!   run stores its input as the user message;
//! - `executions.speak`: whether the run adds a spoken copy of its reply (an audio file) to
//!   the reply's attachments.
//!
//! SQLite's `ALTER TABLE` adds one column per statement, so each column is its own statement.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Messages {
    Table,
    Attachments,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    Attachments,
    Speak,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (Messages::Table.into_iden(), json_binary_null(Messages::Attachments)),
            (Executions::Table.into_iden(), json_binary_null(Executions::Attachments)),
            (
                Executions::Table.into_iden(),
                boolean(Executions::Speak).default(false).to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(Table::alter().table(table).add_column(&mut column).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (Executions::Table.into_iden(), Executions::Speak.into_iden()),
            (Executions::Table.into_iden(), Executions::Attachments.into_iden()),
            (Messages::Table.into_iden(), Messages::Attachments.into_iden()),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
