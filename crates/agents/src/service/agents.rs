//! [`AgentService`]: the rules of agents, their links and their soft deletion.

use std::sync::Arc;

use kernel::lane::Lane;
use kernel::page::{Direction, KeysetColumns, fetch_page_as};
use kernel::{FieldError, Page, PageParams};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, IntoActiveModel,
    JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, RelationTrait, TransactionTrait,
};
use serde_json::Value;
use uuid::Uuid;

use super::runnable::RunnableTool;
use super::{by_id, by_owner, check, links, name_contains, reject};
use crate::cache::ModelCache;
use crate::entities::{agent, agent_mcp_server, agent_subagent, agent_tool, tool};
use crate::error::{AgentError, Result};
use crate::schemas::{Agent, AgentCreate, AgentUpdate, Tool};
use kernel::invalidation::Follower;

/// The LLM provider names agents may use, as configured (the `llm` registry's names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderNames {
    /// Every allowed provider name; `echo` is always added.
    pub allowed: Vec<String>,
    /// The provider of an agent created without one.
    pub default: String,
}

/// The alias of the "has any link rows" flag read with agents.
pub(super) const HAS_LINKS: &str = "has_links";

/// Creates, reads, updates and soft-deletes the agents of their owners.
#[derive(Clone)]
pub struct AgentService {
    db: DatabaseConnection,
    providers: Arc<ProviderNames>,
    /// Direct connections for the one-statement reads by id (PostgreSQL), see [`Self::with_lane`].
    lane: Option<Lane>,
    /// What model names resolve to, see [`Self::with_model_cache`].
    models: Option<ModelCache>,
}

impl AgentService {
    /// A service over `db` accepting the `providers` names (plus `echo`, always).
    pub fn new(db: DatabaseConnection, mut providers: ProviderNames) -> Self {
        for name in ["echo".to_owned(), providers.default.clone()] {
            if !providers.allowed.contains(&name) {
                providers.allowed.push(name);
            }
        }
        Self {
            db,
            providers: Arc::new(providers),
            lane: None,
            models: None,
        }
    }

    /// Resolves model names ([`model_named`](Self::model_named)) from `cache`, which this
    /// service tells about each of its writes (see [`crate::cache`] for the rest).
    pub fn with_model_cache(mut self, cache: ModelCache) -> Self {
        self.models = Some(cache);
        self
    }

    /// The model cache, if any (for the catalog).
    pub(super) fn models(&self) -> Option<&ModelCache> {
        self.models.as_ref()
    }

    /// Forgets the owner's resolved model names after a write to their agents or links.
    fn forget_models(&self, owner_id: Uuid) {
        if let Some(cache) = &self.models {
            cache.forget(owner_id);
        }
    }

    /// Reads agents by id ([`get`](Self::get), [`find_owned`](Self::find_owned)) on `lane`'s
    /// direct connections instead of the pool (see [`kernel::lane`]); `None` keeps the pool.
    pub fn with_lane(mut self, lane: Option<Lane>) -> Self {
        self.lane = lane;
        self
    }

    /// The database connection (for the service's other modules).
    pub(super) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The provider names this service accepts.
    pub fn providers(&self) -> &ProviderNames {
        &self.providers
    }

    /// Creates an agent with its links, atomically; `422` naming every bad field.
    pub async fn create(&self, owner_id: Uuid, input: AgentCreate) -> Result<Agent> {
        check(&input)?;
        let provider = input.provider.unwrap_or_else(|| self.providers.default.clone());
        let mut errors = self.check_provider(&provider);
        errors.extend(links::check_tools(&self.db, owner_id, &input.tool_ids).await?);
        errors.extend(links::check_subagents(&self.db, owner_id, None, &input.subagent_ids).await?);
        errors.extend(links::check_mcp_servers(&self.db, owner_id, &input.mcp_server_ids).await?);
        reject(errors)?;

        let now = kernel::clock::now();
        let model = agent::Model {
            id: kernel::ids::new_id(),
            owner_id,
            name: input.name,
            description: input.description,
            provider,
            model: input.model,
            system_prompt: input.system_prompt,
            temperature: input.temperature,
            max_tokens: input.max_tokens.map(to_column),
            metadata: Value::Object(input.metadata),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        let insert = agent::Entity::insert(model.clone().into_active_model());
        if input.tool_ids.is_empty() && input.subagent_ids.is_empty() && input.mcp_server_ids.is_empty() {
            // One statement needs no transaction: one round trip instead of three.
            insert.exec_without_returning(&self.db).await?;
        } else {
            let txn = self.db.begin().await?;
            insert.exec_without_returning(&txn).await?;
            links::insert_tools(&txn, model.id, &input.tool_ids).await?;
            links::insert_subagents(&txn, model.id, &input.subagent_ids).await?;
            links::insert_mcp_servers(&txn, model.id, &input.mcp_server_ids).await?;
            txn.commit().await?;
        }
        self.forget_models(owner_id);
        Ok(Agent::from_model(model, input.tool_ids, input.subagent_ids).with_mcp_server_ids(input.mcp_server_ids))
    }

    /// The owner's live agent with this id, as clients see it ([`AgentError::NotFound`]
    /// otherwise). One query for the agent and whether it has links; a second for those
    /// links, only if it has.
    pub async fn get(&self, owner_id: Uuid, id: Uuid) -> Result<Agent> {
        let row = self.find_flagged(owner_id, id).await?.ok_or(AgentError::NotFound)?;
        let mut agents = self.attach_links(vec![row]).await?;
        agents.pop().ok_or(AgentError::NotFound)
    }

    /// The owner's live agent row with this id, if there is one: the lookup other crates
    /// use to decide for themselves what a missing agent means. One query.
    pub async fn find_owned(&self, owner_id: Uuid, id: Uuid) -> Result<Option<agent::Model>> {
        if self.lane.is_some() {
            return Ok(self.find_flagged(owner_id, id).await?.map(|(model, _)| model));
        }
        Ok(agent::Entity::find_by_id(id)
            .filter(agent::Column::OwnerId.eq(owner_id))
            .filter(agent::Column::DeletedAt.is_null())
            .one(&self.db)
            .await?)
    }

    /// The owner's live agent row with this id and whether it has links (tools, sub-agents
    /// or MCP servers), if there is one: one statement, on the lane when there is one. A
    /// run reads its agent with it, and reads the links only when there are any.
    pub async fn find_flagged(&self, owner_id: Uuid, id: Uuid) -> Result<Option<(agent::Model, bool)>> {
        if let Some(lane) = &self.lane {
            return Ok(by_id::read(lane, owner_id, id).await?);
        }
        let query = agent::Entity::find_by_id(id)
            .filter(agent::Column::OwnerId.eq(owner_id))
            .filter(agent::Column::DeletedAt.is_null())
            .expr_as(links::any_links(), HAS_LINKS);
        match self.db.query_one(query.as_query()).await? {
            Some(row) => Ok(Some(decode_flagged(&row)?)),
            None => Ok(None),
        }
    }

    /// The owner's live agent row with this id ([`AgentError::NotFound`] otherwise).
    async fn owned(&self, owner_id: Uuid, id: Uuid) -> Result<agent::Model> {
        self.find_owned(owner_id, id).await?.ok_or(AgentError::NotFound)
    }

    /// A page of the owner's live agents, newest first, optionally filtered by a name
    /// substring (any case). One query for the page, its total and which of its agents
    /// have links; a second for those links, only when there are any.
    pub async fn list(&self, owner_id: Uuid, q: Option<&str>, page: &PageParams) -> Result<Page<Agent>> {
        let unfiltered = q.is_none_or(|q| q.trim().is_empty());
        let page = match self.lane.as_ref().and_then(Lane::pipelined) {
            Some(lane) if unfiltered && page.direction == Direction::NewestFirst => {
                by_owner::page(lane, owner_id, page).await?
            }
            _ => self.page_with_orm(owner_id, q, page).await?,
        };
        Ok(Page {
            items: self.attach_links(page.items).await?,
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    /// [`list`](Self::list)'s page of rows, built by the ORM (any backend, filter and order).
    async fn page_with_orm(
        &self,
        owner_id: Uuid,
        q: Option<&str>,
        page: &PageParams,
    ) -> Result<Page<(agent::Model, bool)>> {
        let mut select = agent::Entity::find()
            .filter(agent::Column::OwnerId.eq(owner_id))
            .filter(agent::Column::DeletedAt.is_null());
        if let Some(filter) = name_contains(agent::Column::Name, q) {
            select = select.filter(filter);
        }
        let select = select.expr_as(links::any_links(), HAS_LINKS);
        let columns = KeysetColumns {
            created_at: agent::Column::CreatedAt,
            id: agent::Column::Id,
        };
        Ok(fetch_page_as(&self.db, select, columns, page, decode_flagged, by_owner::cursor).await?)
    }

    /// Applies a partial update, atomically; `404` for a missing, deleted or foreign
    /// agent, `422` naming every bad field (a sub-agent cycle included).
    pub async fn update(&self, owner_id: Uuid, id: Uuid, input: AgentUpdate) -> Result<Agent> {
        check(&input)?;
        let mut model = self.owned(owner_id, id).await?;
        let tool_ids = input.tool_ids.map(Option::unwrap_or_default);
        let subagent_ids = input.subagent_ids.map(Option::unwrap_or_default);
        let mcp_server_ids = input.mcp_server_ids.map(Option::unwrap_or_default);
        let mut errors = input
            .provider
            .as_deref()
            .map(|p| self.check_provider(p))
            .unwrap_or_default();
        if let Some(ids) = &tool_ids {
            errors.extend(links::check_tools(&self.db, owner_id, ids).await?);
        }
        if let Some(ids) = &subagent_ids {
            errors.extend(links::check_subagents(&self.db, owner_id, Some(id), ids).await?);
        }
        if let Some(ids) = &mcp_server_ids {
            errors.extend(links::check_mcp_servers(&self.db, owner_id, ids).await?);
        }
        reject(errors)?;

        if let Some(name) = input.name {
            model.name = name;
        }
        if let Some(description) = input.description {
            model.description = description;
        }
        if let Some(provider) = input.provider {
            model.provider = provider;
        }
        if let Some(name) = input.model {
            model.model = name;
        }
        if let Some(system_prompt) = input.system_prompt {
            model.system_prompt = system_prompt;
        }
        if let Some(temperature) = input.temperature {
            model.temperature = temperature;
        }
        if let Some(max_tokens) = input.max_tokens {
            model.max_tokens = max_tokens.map(to_column);
        }
        if let Some(metadata) = input.metadata {
            model.metadata = Value::Object(metadata.unwrap_or_default());
        }
        model.updated_at = kernel::clock::now();

        let txn = self.db.begin().await?;
        let subagents_change = subagent_ids.as_ref().is_some_and(|ids| !ids.is_empty());
        if subagents_change {
            links::lock_owner_graph(&txn, owner_id).await?;
        }
        let mut changes = model.clone().into_active_model().reset_all();
        (changes.id, changes.owner_id, changes.created_at, changes.deleted_at) = (NotSet, NotSet, NotSet, NotSet);
        let updated = agent::Entity::update_many()
            .set(changes)
            .filter(agent::Column::Id.eq(id))
            .filter(agent::Column::OwnerId.eq(owner_id))
            .filter(agent::Column::DeletedAt.is_null())
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(AgentError::NotFound);
        }
        if let Some(ids) = &tool_ids {
            links::replace_tools(&txn, id, ids).await?;
        }
        if let Some(ids) = &subagent_ids {
            // Checked inside the transaction, after the lock, so the graph cannot change under it.
            if subagents_change && let Some(cycle) = links::find_cycle(&txn, id, ids).await? {
                return Err(AgentError::Invalid(vec![cycle]));
            }
            links::replace_subagents(&txn, id, ids).await?;
        }
        if let Some(ids) = &mcp_server_ids {
            links::replace_mcp_servers(&txn, id, ids).await?;
        }
        let links = links::load(&txn, &[id]).await?.remove(&id).unwrap_or_default();
        txn.commit().await?;
        self.forget_models(owner_id);
        Ok(Agent::from_model(model, links.tools, links.subagents).with_mcp_server_ids(links.mcp_servers))
    }

    /// Soft-deletes the agent: it disappears from every read and link; `404` the second time.
    pub async fn delete(&self, owner_id: Uuid, id: Uuid) -> Result<()> {
        let deleted = agent::Entity::update_many()
            .set(agent::ActiveModel {
                deleted_at: Set(Some(kernel::clock::now())),
                ..Default::default()
            })
            .filter(agent::Column::Id.eq(id))
            .filter(agent::Column::OwnerId.eq(owner_id))
            .filter(agent::Column::DeletedAt.is_null())
            .exec(&self.db)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(AgentError::NotFound);
        }
        self.forget_models(owner_id);
        Ok(())
    }

    /// The tools the owner's live agent may call, in its order ([`AgentError::NotFound`] otherwise).
    pub async fn tools_of(&self, owner_id: Uuid, agent_id: Uuid) -> Result<Vec<Tool>> {
        Ok(self
            .linked_tools(owner_id, agent_id)
            .await?
            .into_iter()
            .map(Tool::from)
            .collect())
    }

    /// The tools of the owner's live agent (its `tool_ids`), in its order, as a run uses
    /// them: HTTP specs unmasked ([`AgentError::NotFound`] when the agent is not the owner's
    /// live agent).
    pub async fn runnable_tools(&self, owner_id: Uuid, agent_id: Uuid) -> Result<Vec<RunnableTool>> {
        Ok(self
            .linked_tools(owner_id, agent_id)
            .await?
            .into_iter()
            .map(RunnableTool::from)
            .collect())
    }

    /// The tool rows linked to the owner's live agent, in its order.
    async fn linked_tools(&self, owner_id: Uuid, agent_id: Uuid) -> Result<Vec<tool::Model>> {
        self.owned(owner_id, agent_id).await?;
        Ok(tool::Entity::find()
            .join(JoinType::InnerJoin, agent_tool::Relation::Tool.def().rev())
            .filter(agent_tool::Column::AgentId.eq(agent_id))
            .order_by_asc(agent_tool::Column::Position)
            .all(&self.db)
            .await?)
    }

    /// The MCP server ids of the owner's live agent (its `mcp_server_ids`), in its order
    /// ([`AgentError::NotFound`] when the agent is not the owner's live agent).
    pub async fn mcp_server_ids_of(&self, owner_id: Uuid, agent_id: Uuid) -> Result<Vec<Uuid>> {
        self.owned(owner_id, agent_id).await?;
        Ok(agent_mcp_server::Entity::find()
            .select_only()
            .column(agent_mcp_server::Column::McpServerId)
            .filter(agent_mcp_server::Column::AgentId.eq(agent_id))
            .order_by_asc(agent_mcp_server::Column::Position)
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await?)
    }

    /// The live sub-agents of the owner's live agent, in its order, each with its own links.
    pub async fn subagents_of(&self, owner_id: Uuid, agent_id: Uuid) -> Result<Vec<Agent>> {
        self.owned(owner_id, agent_id).await?;
        let subagents = agent::Entity::find()
            .join(JoinType::InnerJoin, agent_subagent::Relation::Subagent.def().rev())
            .filter(agent_subagent::Column::AgentId.eq(agent_id))
            .filter(agent::Column::DeletedAt.is_null())
            .order_by_asc(agent_subagent::Column::Position)
            .all(&self.db)
            .await?;
        self.with_links(subagents).await
    }

    /// Attaches the links of every agent, read in one query.
    async fn with_links(&self, models: Vec<agent::Model>) -> Result<Vec<Agent>> {
        self.attach_links(models.into_iter().map(|model| (model, true)).collect())
            .await
    }

    /// The agents as clients see them, loading (in one query) the links of those flagged
    /// as having any.
    async fn attach_links(&self, rows: Vec<(agent::Model, bool)>) -> Result<Vec<Agent>> {
        let linked: Vec<Uuid> = rows.iter().filter(|(_, linked)| *linked).map(|(a, _)| a.id).collect();
        let mut links = links::load(&self.db, &linked).await?;
        Ok(rows
            .into_iter()
            .map(|(model, _)| {
                let l = links.remove(&model.id).unwrap_or_default();
                Agent::from_model(model, l.tools, l.subagents).with_mcp_server_ids(l.mcp_servers)
            })
            .collect())
    }

    fn check_provider(&self, provider: &str) -> Vec<FieldError> {
        if self.providers.allowed.iter().any(|p| p == provider) {
            return Vec::new();
        }
        let allowed = self.providers.allowed.join(", ");
        vec![FieldError::new(
            "provider",
            format!("is not a configured provider (one of: {allowed})"),
        )]
    }
}

/// An agent row read with its [`HAS_LINKS`] flag.
pub(super) fn decode_flagged(row: &QueryResult) -> kernel::Result<(agent::Model, bool)> {
    Ok((agent::Model::from_query_result(row, "")?, row.try_get("", HAS_LINKS)?))
}

/// `max_tokens` as stored: validation bounds it to 200000, well inside `i32`.
fn to_column(max_tokens: u32) -> i32 {
    i32::try_from(max_tokens).unwrap_or(i32::MAX)
}
