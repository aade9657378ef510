//! The lifecycle states of an execution and the event types it records.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an execution is in its life: `queued` → `running` → `completed` | `failed` | `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    /// Stored, waiting for a worker.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// Claimed by a worker that holds its lease.
    #[sea_orm(string_value = "running")]
    Running,
    /// Finished with an output.
    #[sea_orm(string_value = "completed")]
    Completed,
    /// Finished with an error (provider failure, timeout, step limit, interruption).
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Stopped on request.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl ExecutionStatus {
    /// Whether nothing happens to the execution any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// The type names of execution events.
pub mod event_type {
    /// A worker claimed the execution (`{"agent_id"}`).
    pub const STARTED: &str = "execution.started";
    /// A piece of the model's text (`{"delta"}`).
    pub const MESSAGE_DELTA: &str = "message.delta";
    /// A sub-agent was delegated to (`{"agent_id","execution_id"}`).
    pub const SUBAGENT_STARTED: &str = "subagent.started";
    /// A sub-agent finished (`{"agent_id","execution_id","status"}`).
    pub const SUBAGENT_COMPLETED: &str = "subagent.completed";
    /// The execution finished (`{"output"}`).
    pub const COMPLETED: &str = "execution.completed";
    /// The execution failed (`{"error"}`).
    pub const FAILED: &str = "execution.failed";
    /// The execution was cancelled (`{}`).
    pub const CANCELLED: &str = "execution.cancelled";

    /// Whether an event of this type is the last one of its execution.
    pub fn is_terminal(event_type: &str) -> bool {
        matches!(event_type, COMPLETED | FAILED | CANCELLED)
    }
}
