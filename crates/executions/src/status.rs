//! The lifecycle states of an execution.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an execution is in its life: `queued` → `running` → `completed` | `failed` |
/// `cancelled`, and `running` ⇄ `requires_action` (waiting for a person) → `expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
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
    /// Paused, holding no worker, until a person answers its `required_action`.
    #[sea_orm(string_value = "requires_action")]
    RequiresAction,
    /// Ended because nobody answered its `required_action` in time.
    #[sea_orm(string_value = "expired")]
    Expired,
}

impl ExecutionStatus {
    /// The states of a run that is not over: a conversation has at most one such run
    /// writing to it.
    pub const ACTIVE: [Self; 3] = [Self::Queued, Self::Running, Self::RequiresAction];
    /// Whether nothing happens to the execution any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled | Self::Expired)
    }
}
