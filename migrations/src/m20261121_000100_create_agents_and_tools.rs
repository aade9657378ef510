//! Agents (soft-deleted), tools, and the ordered links agent → tool and agent → sub-agent.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Id,
    OwnerId,
    Name,
    Description,
    Provider,
    Model,
    SystemPrompt,
    Temperature,
    MaxTokens,
    Metadata,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Tools {
    Table,
    Id,
    OwnerId,
    Name,
    Description,
    Parameters,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgentTools {
    Table,
    AgentId,
    ToolId,
    Position,
}

#[derive(DeriveIden)]
enum AgentSubagents {
    Table,
    AgentId,
    SubagentId,
    Position,
}

fn owner_fk(name: &str, table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .col(pk_uuid(Agents::Id))
                    .col(uuid(Agents::OwnerId))
                    .col(string_len(Agents::Name, 100))
                    .col(text_null(Agents::Description))
                    .col(string_len(Agents::Provider, 50))
                    .col(string_len(Agents::Model, 100))
                    .col(text_null(Agents::SystemPrompt))
                    .col(double(Agents::Temperature))
                    .col(integer_null(Agents::MaxTokens))
                    .col(json_binary(Agents::Metadata))
                    .col(timestamp_with_time_zone(Agents::CreatedAt))
                    .col(timestamp_with_time_zone(Agents::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Agents::DeletedAt))
                    .foreign_key(&mut owner_fk("fk_agents_owner", Agents::Table, Agents::OwnerId))
                    .to_owned(),
            )
            .await?;
        // Lists read one owner's live agents newest first; deleted rows never enter the index.
        manager
            .create_index(
                Index::create()
                    .name("ix_agents_owner_live_created_id")
                    .table(Agents::Table)
                    .col(Agents::OwnerId)
                    .col(Agents::CreatedAt)
                    .col(Agents::Id)
                    .and_where(Expr::col(Agents::DeletedAt).is_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tools::Table)
                    .col(pk_uuid(Tools::Id))
                    .col(uuid(Tools::OwnerId))
                    .col(string_len(Tools::Name, 64))
                    .col(text_null(Tools::Description))
                    .col(json_binary(Tools::Parameters))
                    .col(timestamp_with_time_zone(Tools::CreatedAt))
                    .col(timestamp_with_time_zone(Tools::UpdatedAt))
                    .foreign_key(&mut owner_fk("fk_tools_owner", Tools::Table, Tools::OwnerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_tools_owner_name")
                    .table(Tools::Table)
                    .col(Tools::OwnerId)
                    .col(Tools::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tools_owner_created_id")
                    .table(Tools::Table)
                    .col(Tools::OwnerId)
                    .col(Tools::CreatedAt)
                    .col(Tools::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgentTools::Table)
                    .col(uuid(AgentTools::AgentId))
                    .col(uuid(AgentTools::ToolId))
                    .col(integer(AgentTools::Position))
                    .primary_key(Index::create().col(AgentTools::AgentId).col(AgentTools::ToolId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_tools_agent")
                            .from(AgentTools::Table, AgentTools::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_tools_tool")
                            .from(AgentTools::Table, AgentTools::ToolId)
                            .to(Tools::Table, Tools::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Deleting a tool removes its links; this keeps that (and the FK check) off a scan.
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_tools_tool_id")
                    .table(AgentTools::Table)
                    .col(AgentTools::ToolId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgentSubagents::Table)
                    .col(uuid(AgentSubagents::AgentId))
                    .col(uuid(AgentSubagents::SubagentId))
                    .col(integer(AgentSubagents::Position))
                    .primary_key(
                        Index::create()
                            .col(AgentSubagents::AgentId)
                            .col(AgentSubagents::SubagentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_subagents_agent")
                            .from(AgentSubagents::Table, AgentSubagents::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_subagents_subagent")
                            .from(AgentSubagents::Table, AgentSubagents::SubagentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_subagents_subagent_id")
                    .table(AgentSubagents::Table)
                    .col(AgentSubagents::SubagentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AgentSubagents::Table.into_iden(),
            AgentTools::Table.into_iden(),
            Tools::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(Agents::Table).to_owned()).await
    }
}
