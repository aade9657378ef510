//! The owner's live agents as a catalog: every one of them at once, and the lookup by
//! name (the OpenAI-compatible `/v1` names agents as models by id or by name).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use uuid::Uuid;

use super::AgentService;
use crate::cache::ModelMatch;
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
    /// tell the caller that the name is ambiguous), each with whether it has tools,
    /// sub-agents or MCP servers (as [`AgentService::find_flagged`] reads it).
    pub async fn live_agents_named(&self, owner_id: Uuid, name: &str, limit: u64) -> Result<Vec<(agent::Model, bool)>> {
        let query = agent::Entity::find()
            .filter(agent::Column::OwnerId.eq(owner_id))
            .filter(agent::Column::DeletedAt.is_null())
            .filter(agent::Column::Name.eq(name))
            .expr_as(super::links::any_links(), super::agents::HAS_LINKS)
            .order_by_asc(agent::Column::CreatedAt)
            .order_by_asc(agent::Column::Id)
            .limit(limit);
        let rows = self.db().query_all(query.as_query()).await?;
        Ok(rows
            .iter()
            .map(super::agents::decode_flagged)
            .collect::<kernel::Result<_>>()?)
    }

    /// What `model` names among the owner's live agents: the agent with that id, else the
    /// one agent with that name ([`ModelMatch::Several`] when more have it), each with
    /// whether it has links; `None` when none. From the model cache when there is one and
    /// it holds the name (see [`crate::cache`]); read from the database otherwise.
    pub async fn model_named(&self, owner_id: Uuid, model: &str) -> Result<Option<ModelMatch>> {
        let Some(cache) = self.models() else {
            return self.read_model_named(owner_id, model).await;
        };
        cache
            .get_or_read(
                owner_id,
                model,
                Some,
                Clone::clone,
                self.read_model_named(owner_id, model),
            )
            .await
    }

    /// The owner's live agent `id` with whether it has links, as
    /// [`AgentService::find_flagged`] reads it, from the model cache when it holds that
    /// agent under its id (what `/v1` resolves an id to, forgotten on the same writes):
    /// a chat turn naming its agent reads nothing. A miss reads the agent and keeps it;
    /// concurrent misses of one agent wait for that one read.
    pub async fn find_flagged_cached(&self, owner_id: Uuid, id: Uuid) -> Result<Option<(agent::Model, bool)>> {
        let Some(cache) = self.models() else {
            return self.find_flagged(owner_id, id).await;
        };
        // An id names its agent before any name does: what `model_named` keeps for it too.
        let from_kept = |found| match found {
            ModelMatch::Agent(agent, linked) if agent.id == id => Some((*agent, linked)),
            _ => None,
        };
        let to_kept = |(agent, linked): &(agent::Model, bool)| ModelMatch::Agent(Box::new(agent.clone()), *linked);
        cache
            .get_or_read(
                owner_id,
                &id.to_string(),
                from_kept,
                to_kept,
                self.find_flagged(owner_id, id),
            )
            .await
    }

    async fn read_model_named(&self, owner_id: Uuid, model: &str) -> Result<Option<ModelMatch>> {
        if let Ok(id) = Uuid::parse_str(model)
            && let Some((agent, linked)) = self.find_flagged(owner_id, id).await?
        {
            return Ok(Some(ModelMatch::Agent(Box::new(agent), linked)));
        }
        let mut named = self.live_agents_named(owner_id, model, 2).await?;
        Ok(match named.len() {
            0 => None,
            1 => named
                .pop()
                .map(|(agent, linked)| ModelMatch::Agent(Box::new(agent), linked)),
            _ => Some(ModelMatch::Several),
        })
    }
}
