//! MCP servers (remote Model Context Protocol servers whose tools agents may call) and the
//! agent → MCP server links:
//!
//! - `mcp_servers`: one per owner and `label` (unique), its `url`, `headers` (a JSON object,
//!   values unmasked, may hold `{{secret:NAME}}`), `allowed_tools` (a JSON array of names, or
//!   null for all), `approval` (`never` | `always`), `tools` (the last tool list the server
//!   gave, a JSON array) and when it was last listed (`refreshed_at`);
//! - `agent_mcp_servers`: an agent's `mcp_server_ids` in order; deleting a server (or the
//!   agent) removes its links (cascade), which is how a deleted server is detached.

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
enum McpServers {
    Table,
    Id,
    OwnerId,
    Label,
    Url,
    Headers,
    AllowedTools,
    Approval,
    Tools,
    CreatedAt,
    UpdatedAt,
    RefreshedAt,
}

#[derive(DeriveIden)]
enum AgentMcpServers {
    Table,
    AgentId,
    McpServerId,
    Position,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(McpServers::Table)
                    .col(pk_uuid(McpServers::Id))
                    .col(uuid(McpServers::OwnerId))
                    .col(string_len(McpServers::Label, 32))
                    .col(text(McpServers::Url))
                    .col(json_binary(McpServers::Headers))
                    .col(json_binary_null(McpServers::AllowedTools))
                    .col(text(McpServers::Approval).default("never"))
                    .col(json_binary(McpServers::Tools))
                    .col(timestamp_with_time_zone(McpServers::CreatedAt))
                    .col(timestamp_with_time_zone(McpServers::UpdatedAt))
                    .col(timestamp_with_time_zone(McpServers::RefreshedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_mcp_servers_owner")
                            .from(McpServers::Table, McpServers::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A label names one server of its owner (the `409`), and serves the owner's list.
        manager
            .create_index(
                Index::create()
                    .name("ux_mcp_servers_owner_label")
                    .table(McpServers::Table)
                    .col(McpServers::OwnerId)
                    .col(McpServers::Label)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgentMcpServers::Table)
                    .col(uuid(AgentMcpServers::AgentId))
                    .col(uuid(AgentMcpServers::McpServerId))
                    .col(integer(AgentMcpServers::Position))
                    .primary_key(
                        Index::create()
                            .col(AgentMcpServers::AgentId)
                            .col(AgentMcpServers::McpServerId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_mcp_servers_agent")
                            .from(AgentMcpServers::Table, AgentMcpServers::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_mcp_servers_server")
                            .from(AgentMcpServers::Table, AgentMcpServers::McpServerId)
                            .to(McpServers::Table, McpServers::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Deleting a server removes its links; this keeps that off a scan.
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_mcp_servers_server_id")
                    .table(AgentMcpServers::Table)
                    .col(AgentMcpServers::McpServerId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AgentMcpServers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(McpServers::Table).to_owned())
            .await
    }
}
