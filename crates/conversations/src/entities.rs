//! The `conversations` and `messages` tables.

/// A conversation row: a message log owned by a user, optionally bound to an agent.
pub mod conversation {
    use sea_orm::entity::prelude::*;

    /// A stored conversation; never serialized to the wire (see `schemas::Conversation`).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "conversations")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user owning the conversation (`users.id`, cascade on delete).
        pub owner_id: Uuid,
        /// The agent replying in it; no foreign key, the agent may be soft-deleted since.
        pub agent_id: Option<Uuid>,
        /// Display title, at most 200 characters.
        pub title: Option<String>,
        /// A JSON object of at most 16 keys.
        pub metadata: Json,
        /// Number of stored messages.
        pub message_count: i64,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// Last update time (also moved by every new message).
        pub updated_at: DateTimeUtc,
    }

    /// Messages point here.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The messages of the conversation.
        #[sea_orm(has_many = "super::message::Entity")]
        Message,
    }

    impl Related<super::message::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Message.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A message row of a conversation (deleted with it).
pub mod message {
    use sea_orm::entity::prelude::*;

    /// A stored message; never serialized to the wire (see `schemas::Message`).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The conversation (`conversations.id`, cascade on delete).
        pub conversation_id: Uuid,
        /// Who wrote it.
        pub role: Role,
        /// The text.
        #[sea_orm(column_type = "Text")]
        pub content: String,
        /// The model that wrote it (assistant messages).
        #[sea_orm(column_type = "Text", nullable)]
        pub model: Option<String>,
        /// Input tokens of the call that produced it.
        pub prompt_tokens: Option<i32>,
        /// Generated tokens of the call that produced it.
        pub completion_tokens: Option<i32>,
        /// The run (execution) that wrote it, if a run did.
        pub execution_id: Option<Uuid>,
        /// The tool calls an assistant message made: a JSON array of `{id, name, arguments}`
        /// (`llm::ToolCall`), or null when it made none.
        pub tool_calls: Option<Json>,
        /// On a `tool` message: the id of the call whose result it holds.
        #[sea_orm(column_type = "Text", nullable)]
        pub tool_call_id: Option<String>,
        /// The ids of the files attached to the message, a JSON array in order (null for none).
        pub attachments: Option<Json>,
        /// Creation time.
        pub created_at: DateTimeUtc,
    }

    impl Model {
        /// The ids of the files attached to the message, in order.
        pub fn attachment_ids(&self) -> Vec<Uuid> {
            use serde::Deserialize;
            self.attachments
                .as_ref()
                .and_then(|value| Vec::<Uuid>::deserialize(value).ok())
                .unwrap_or_default()
        }

        /// The tool calls this message made, in order (none when `tool_calls` is null, or
        /// not the array of calls this crate stores).
        pub fn calls(&self) -> Vec<llm::ToolCall> {
            use serde::Deserialize;
            self.tool_calls
                .as_ref()
                .and_then(|value| Vec::<llm::ToolCall>::deserialize(value).ok())
                .unwrap_or_default()
        }
    }

    /// Who wrote a message, stored as its lowercase name.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
    pub enum Role {
        /// Instructions framing the conversation.
        #[sea_orm(string_value = "system")]
        System,
        /// The human side.
        #[sea_orm(string_value = "user")]
        User,
        /// The model's side.
        #[sea_orm(string_value = "assistant")]
        Assistant,
        /// A tool's result.
        #[sea_orm(string_value = "tool")]
        Tool,
    }

    impl From<llm::Role> for Role {
        fn from(role: llm::Role) -> Self {
            match role {
                llm::Role::System => Self::System,
                llm::Role::User => Self::User,
                llm::Role::Assistant => Self::Assistant,
                llm::Role::Tool => Self::Tool,
            }
        }
    }

    impl From<Role> for llm::Role {
        fn from(role: Role) -> Self {
            match role {
                Role::System => Self::System,
                Role::User => Self::User,
                Role::Assistant => Self::Assistant,
                Role::Tool => Self::Tool,
            }
        }
    }

    /// The conversation it belongs to.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The owning conversation.
        #[sea_orm(
            belongs_to = "super::conversation::Entity",
            from = "Column::ConversationId",
            to = "super::conversation::Column::Id"
        )]
        Conversation,
    }

    impl Related<super::conversation::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Conversation.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
