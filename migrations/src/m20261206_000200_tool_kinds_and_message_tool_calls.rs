//! Tools that run, and messages that keep tool calls (v2):
//!
//! - `tools.kind` (`client` | `http`, default `client`: every existing tool is one),
//!   `tools.approval` (`never` | `always`, default `never`) and `tools.http` (the HTTP call
//!   of an `http` tool, JSON, null for client tools);
//! - `messages.tool_calls` (the calls an assistant message made, a JSON array, or null) and
//!   `messages.tool_call_id` (on a `tool` message: the call it answers).
//!
//! SQLite's `ALTER TABLE` adds one column per statement, so each column is its own statement.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Tools {
    Table,
    Kind,
    Approval,
    Http,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    ToolCalls,
    ToolCallId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (Tools::Table.into_iden(), text(Tools::Kind).default("client").to_owned()),
            (
                Tools::Table.into_iden(),
                text(Tools::Approval).default("never").to_owned(),
            ),
            (Tools::Table.into_iden(), json_binary_null(Tools::Http)),
            (Messages::Table.into_iden(), json_binary_null(Messages::ToolCalls)),
            (Messages::Table.into_iden(), text_null(Messages::ToolCallId)),
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
            (Messages::Table.into_iden(), Messages::ToolCallId.into_iden()),
            (Messages::Table.into_iden(), Messages::ToolCalls.into_iden()),
            (Tools::Table.into_iden(), Tools::Http.into_iden()),
            (Tools::Table.into_iden(), Tools::Approval.into_iden()),
            (Tools::Table.into_iden(), Tools::Kind.into_iden()),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
