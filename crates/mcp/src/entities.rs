//! The `mcp_servers` table.

/// An MCP server row: where it is, how to reach it, and the tools it last listed.
pub mod mcp_server {
    use sea_orm::entity::prelude::*;

    /// A stored MCP server; never serialized to the wire (see `schemas::McpServer`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mcp_servers")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The owning user (`users.id`, cascade on delete).
        pub owner_id: Uuid,
        /// `^[a-z0-9_-]{1,32}$`, unique per owner; the prefix of its tools' function names.
        pub label: String,
        /// The streamable-HTTP endpoint (http or https).
        pub url: String,
        /// A JSON object of header names to values, unmasked (may hold `{{secret:NAME}}`).
        pub headers: Json,
        /// A JSON array of the tool names the model may see, or null for all.
        pub allowed_tools: Option<Json>,
        /// Whether each call waits for a person.
        pub approval: Approval,
        /// A JSON array of `schemas::McpTool`: every tool the server offered when last listed.
        pub tools: Json,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// Last update time.
        pub updated_at: DateTimeUtc,
        /// When the tools were last listed.
        pub refreshed_at: DateTimeUtc,
    }

    /// Whether a server's calls wait for approval, stored as its lowercase name.
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

    /// No relation is navigated from here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
