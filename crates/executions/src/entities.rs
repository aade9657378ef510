//! The `executions` and `execution_events` tables.

/// An execution row: one run of an agent, top-level or delegated (`parent_id`).
pub mod execution {
    use sea_orm::entity::prelude::*;

    use crate::status::ExecutionStatus;

    /// A stored execution; never serialized to the wire (see `schemas::Execution`).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "executions")]
    pub struct Model {
        /// UUID v7.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The user owning the execution (`users.id`, cascade on delete).
        pub owner_id: Uuid,
        /// The agent that runs; `None`: the default provider and model answer an agentless conversation.
        pub agent_id: Option<Uuid>,
        /// The conversation giving context and receiving input and output, if any.
        pub conversation_id: Option<Uuid>,
        /// The execution that delegated this one to a sub-agent, if any.
        pub parent_id: Option<Uuid>,
        /// Delegation depth: 0 for a top-level execution.
        pub depth: i32,
        /// Lifecycle state.
        pub status: ExecutionStatus,
        /// The task given to the agent.
        pub input: String,
        /// The agent's final answer (completed only).
        pub output: Option<String>,
        /// Why it failed (failed only).
        pub error: Option<String>,
        /// Prompt tokens spent by this execution's own provider calls.
        pub prompt_tokens: i64,
        /// Completion tokens spent by this execution's own provider calls.
        pub completion_tokens: i64,
        /// Sequence number of the last stored event (the next one gets `last_seq + 1`).
        pub last_seq: i64,
        /// The runner process holding the execution while it runs.
        pub worker_id: Option<String>,
        /// Until when that runner's claim is valid; renewed by its heartbeat.
        pub lease_expires_at: Option<DateTimeUtc>,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// When a worker claimed it.
        pub started_at: Option<DateTimeUtc>,
        /// When it reached a terminal state.
        pub completed_at: Option<DateTimeUtc>,
        /// The calls waiting for a person while `requires_action`: the public
        /// `required_action` object (`schemas::RequiredAction`).
        pub required_action: Option<Json>,
        /// When a run waiting for a person ends `expired`.
        pub action_expires_at: Option<DateTimeUtc>,
        /// What a paused run needs to go on (`runner::paused::PausedTurn`); never on the wire.
        pub paused_turn: Option<Json>,
        /// The explicit history of a stateless run (`StatelessRun`: messages, client
        /// tools, settings), answered instead of a conversation's; never on the wire.
        pub history: Option<Json>,
        /// The ids of the files attached to the input, a JSON array (null for none); they
        /// become the user message's attachments.
        pub attachments: Option<Json>,
        /// Whether the reply gets a spoken copy: an audio file among its attachments.
        pub speak: bool,
    }

    impl Model {
        /// The ids of the files attached to the input, in order.
        pub fn attachment_ids(&self) -> Vec<Uuid> {
            use serde::Deserialize;
            self.attachments
                .as_ref()
                .and_then(|value| Vec::<Uuid>::deserialize(value).ok())
                .unwrap_or_default()
        }
    }

    /// Events point here; they are read by execution id.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One step of an execution, in order (`seq` 1, 2, 3… per execution).
pub mod execution_event {
    use sea_orm::entity::prelude::*;

    /// A stored event; never serialized to the wire (see `schemas::ExecutionEvent`).
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "execution_events")]
    pub struct Model {
        /// The execution (cascade on delete).
        #[sea_orm(primary_key, auto_increment = false)]
        pub execution_id: Uuid,
        /// Position in the execution's log, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub seq: i64,
        /// The event type (`execution.started`, `message.delta`, …).
        #[sea_orm(column_name = "type")]
        pub event_type: String,
        /// The event's payload, a JSON object.
        pub data: Json,
        /// When it was stored.
        pub created_at: DateTimeUtc,
    }

    /// Read by execution id; no navigation needed.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
