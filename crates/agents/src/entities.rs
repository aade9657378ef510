//! The `agents`, `tools`, `agent_tools`, `agent_subagents` and `agent_mcp_servers` tables.

/// An agent row; soft-deleted rows keep their data but are invisible to every read.
pub mod agent {
    use sea_orm::entity::prelude::*;

    /// A stored agent; never serialized to the wire (see `schemas::Agent`).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "agents")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user owning the agent (`users.id`, cascade on delete).
        pub owner_id: Uuid,
        /// Display name, 1..=100 chars.
        pub name: String,
        /// Free text.
        pub description: Option<String>,
        /// Name of the LLM provider.
        pub provider: String,
        /// Model name at that provider.
        pub model: String,
        /// System prompt sent first in every exchange.
        pub system_prompt: Option<String>,
        /// Sampling temperature, 0..=2.
        pub temperature: f64,
        /// Reply length limit in tokens.
        pub max_tokens: Option<i32>,
        /// A JSON object of at most 16 keys.
        pub metadata: Json,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// Last update time.
        pub updated_at: DateTimeUtc,
        /// Soft-deletion time; `Some` hides the agent everywhere.
        pub deleted_at: Option<DateTimeUtc>,
    }

    /// Links point here; they are joined from the link entities.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A tool row: a function definition an agent may call.
pub mod tool {
    use sea_orm::entity::prelude::*;

    /// A stored tool; never serialized to the wire (see `schemas::Tool`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tools")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user owning the tool (`users.id`, cascade on delete).
        pub owner_id: Uuid,
        /// Function name, unique per owner.
        pub name: String,
        /// Free text shown to the model.
        pub description: Option<String>,
        /// JSON Schema of the arguments (an object schema).
        pub parameters: Json,
        /// Who runs it.
        pub kind: Kind,
        /// Whether each call waits for a person's approval.
        pub approval: Approval,
        /// The HTTP call of an `http` tool (a `schemas::HttpSpec`, header values unmasked);
        /// null for a client tool.
        pub http: Option<Json>,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// Last update time.
        pub updated_at: DateTimeUtc,
    }

    impl Model {
        /// The stored HTTP call, unmasked (`None` for a client tool, or a value this crate
        /// did not write).
        pub fn http_spec(&self) -> Option<crate::schemas::HttpSpec> {
            use serde::Deserialize;
            self.http
                .as_ref()
                .and_then(|value| crate::schemas::HttpSpec::deserialize(value).ok())
        }
    }

    /// Who runs a tool, stored as its lowercase name.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Text")]
    pub enum Kind {
        /// The caller's own program.
        #[sea_orm(string_value = "client")]
        Client,
        /// The server, over HTTP.
        #[sea_orm(string_value = "http")]
        Http,
    }

    /// Whether a tool's calls wait for approval, stored as its lowercase name.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Text")]
    pub enum Approval {
        /// Calls run as made.
        #[sea_orm(string_value = "never")]
        Never,
        /// Every call waits for a person.
        #[sea_orm(string_value = "always")]
        Always,
    }

    impl From<Kind> for crate::schemas::ToolKind {
        fn from(kind: Kind) -> Self {
            match kind {
                Kind::Client => Self::Client,
                Kind::Http => Self::Http,
            }
        }
    }

    impl From<crate::schemas::ToolKind> for Kind {
        fn from(kind: crate::schemas::ToolKind) -> Self {
            match kind {
                crate::schemas::ToolKind::Client => Self::Client,
                crate::schemas::ToolKind::Http => Self::Http,
            }
        }
    }

    impl From<Approval> for crate::schemas::ToolApproval {
        fn from(approval: Approval) -> Self {
            match approval {
                Approval::Never => Self::Never,
                Approval::Always => Self::Always,
            }
        }
    }

    impl From<crate::schemas::ToolApproval> for Approval {
        fn from(approval: crate::schemas::ToolApproval) -> Self {
            match approval {
                crate::schemas::ToolApproval::Never => Self::Never,
                crate::schemas::ToolApproval::Always => Self::Always,
            }
        }
    }

    /// Links point here; they are joined from the link entities.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which tools an agent may call, in the order the client listed them.
pub mod agent_tool {
    use sea_orm::entity::prelude::*;

    /// One agent → tool link.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agent_tools")]
    pub struct Model {
        /// The agent.
        #[sea_orm(primary_key, auto_increment = false)]
        pub agent_id: Uuid,
        /// The tool (the link goes when the tool is deleted).
        #[sea_orm(primary_key, auto_increment = false)]
        pub tool_id: Uuid,
        /// Index in the agent's `tool_ids`.
        pub position: i32,
    }

    /// The two ends of the link.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The agent holding the link.
        #[sea_orm(
            belongs_to = "super::agent::Entity",
            from = "Column::AgentId",
            to = "super::agent::Column::Id"
        )]
        Agent,
        /// The linked tool.
        #[sea_orm(
            belongs_to = "super::tool::Entity",
            from = "Column::ToolId",
            to = "super::tool::Column::Id"
        )]
        Tool,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which agents an agent may delegate to, in the order the client listed them.
pub mod agent_subagent {
    use sea_orm::entity::prelude::*;

    /// One agent → sub-agent link.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agent_subagents")]
    pub struct Model {
        /// The delegating agent.
        #[sea_orm(primary_key, auto_increment = false)]
        pub agent_id: Uuid,
        /// The agent delegated to.
        #[sea_orm(primary_key, auto_increment = false)]
        pub subagent_id: Uuid,
        /// Index in the agent's `subagent_ids`.
        pub position: i32,
    }

    /// The two ends of the link.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The delegating agent.
        #[sea_orm(
            belongs_to = "super::agent::Entity",
            from = "Column::AgentId",
            to = "super::agent::Column::Id"
        )]
        Agent,
        /// The agent delegated to.
        #[sea_orm(
            belongs_to = "super::agent::Entity",
            from = "Column::SubagentId",
            to = "super::agent::Column::Id"
        )]
        Subagent,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which MCP servers' tools an agent may call, in the order the client listed them (the
/// servers belong to the `mcp` crate; a deleted server's links go with it, by cascade).
pub mod agent_mcp_server {
    use sea_orm::entity::prelude::*;

    /// One agent → MCP server link.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "agent_mcp_servers")]
    pub struct Model {
        /// The agent.
        #[sea_orm(primary_key, auto_increment = false)]
        pub agent_id: Uuid,
        /// The MCP server (`mcp_servers.id`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub mcp_server_id: Uuid,
        /// Index in the agent's `mcp_server_ids`.
        pub position: i32,
    }

    /// The agent end of the link.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The agent holding the link.
        #[sea_orm(
            belongs_to = "super::agent::Entity",
            from = "Column::AgentId",
            to = "super::agent::Column::Id"
        )]
        Agent,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
