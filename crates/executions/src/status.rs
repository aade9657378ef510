//! The lifecycle states of an execution.

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
    /// The states of a run that is not over: a conversation has at most one such run
    /// writing to it.
    pub const ACTIVE: [Self; 2] = [Self::Queued, Self::Running];
    /// Whether nothing happens to the execution any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}
