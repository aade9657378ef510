//! The owner's live agents as a catalog: every one of them at once, and the lookup by
//! name (the OpenAI-compatible `/v1` names agents as models by id or by name).

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::AgentService;
use crate::entities::agent;
use crate::error::Result;

/// The most agents [`AgentService::live_agents`] returns.
pub const CATALOG_MAX: u64 = 1000;

impl AgentService {
    /// The owner's live agents, oldest first, at most [`CATALOG_MAX`].
    pub async fn live_agents(&self, owner_id: Uuid) -> Result<Vec<agent::Model>> {
        Ok(agent::Entity::find()
            .filter(agent::Column::OwnerId.eq(owner_id))
            .filter(agent::Column::DeletedAt.is_null())
            .order_by_asc(agent::Column::CreatedAt)
            .order_by_asc(agent::Column::Id)
            .limit(CATALOG_MAX)
            .all(self.db())
            .await?)
    }

    /// Up to `limit` of the owner's live agents named exactly `name`, oldest first (two
    /// tell the caller that the name is ambiguous).
    pub async fn live_agents_named(&self, owner_id: Uuid, name: &str, limit: u64) -> Result<Vec<agent::Model>> {
        Ok(agent::Entity::find()
            .filter(agent::Column::OwnerId.eq(owner_id))
            .filter(agent::Column::DeletedAt.is_null())
            .filter(agent::Column::Name.eq(name))
            .order_by_asc(agent::Column::CreatedAt)
            .order_by_asc(agent::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?)
    }
}
