//! The agent → tool, agent → sub-agent and agent → MCP server links: batched reads,
//! ownership checks, cycle detection and replacement.

use std::collections::{HashMap, HashSet};

use kernel::FieldError;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, UnionType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, JoinType, QueryFilter, QuerySelect,
    RelationTrait, Statement,
};
use uuid::Uuid;

use crate::entities::{agent, agent_mcp_server, agent_subagent, agent_tool, tool};
use crate::error::Result;

/// The live links of one agent, each list in the client's order.
#[derive(Debug, Default)]
pub(crate) struct Links {
    /// Linked tool ids.
    pub tools: Vec<Uuid>,
    /// Linked live sub-agent ids.
    pub subagents: Vec<Uuid>,
    /// Linked MCP server ids.
    pub mcp_servers: Vec<Uuid>,
}

const TOOL: i32 = 0;
const SUBAGENT: i32 = 1;
const MCP_SERVER: i32 = 2;

/// The links of every agent in `agent_ids`, in one query. Agents without links are absent from the map.
pub(crate) async fn load<C: ConnectionTrait>(db: &C, agent_ids: &[Uuid]) -> Result<HashMap<Uuid, Links>> {
    if agent_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut links: HashMap<Uuid, Vec<LinkRow>> = HashMap::new();
    for row in db.query_all(&links_query(agent_ids)).await? {
        let agent_id: Uuid = row.try_get("", "agent_id")?;
        let link = LinkRow {
            kind: row.try_get("", "kind")?,
            position: row.try_get("", "position")?,
            target: row.try_get("", "target_id")?,
        };
        links.entry(agent_id).or_default().push(link);
    }
    Ok(links
        .into_iter()
        .map(|(agent_id, rows)| (agent_id, Links::from_rows(rows)))
        .collect())
}

/// Whether the agent of the enclosing query has any link rows (`EXISTS` on each link
/// table, through their primary-key indexes): lets a list skip [`load`] when none has.
pub(crate) fn any_links() -> Expr {
    let mut tools = Query::select();
    tools.expr(Expr::val(1)).from(agent_tool::Entity).and_where(
        Expr::col((agent_tool::Entity, agent_tool::Column::AgentId)).equals((agent::Entity, agent::Column::Id)),
    );
    let mut subagents = Query::select();
    subagents.expr(Expr::val(1)).from(agent_subagent::Entity).and_where(
        Expr::col((agent_subagent::Entity, agent_subagent::Column::AgentId)).equals((agent::Entity, agent::Column::Id)),
    );
    let mut mcp_servers = Query::select();
    mcp_servers.expr(Expr::val(1)).from(agent_mcp_server::Entity).and_where(
        Expr::col((agent_mcp_server::Entity, agent_mcp_server::Column::AgentId))
            .equals((agent::Entity, agent::Column::Id)),
    );
    Expr::exists(tools)
        .or(Expr::exists(subagents))
        .or(Expr::exists(mcp_servers))
}

/// One link as read: which list, where in it, and what it points to.
struct LinkRow {
    kind: i32,
    position: i32,
    target: Uuid,
}

impl Links {
    fn from_rows(mut rows: Vec<LinkRow>) -> Self {
        rows.sort_unstable_by_key(|row| (row.kind, row.position));
        let mut links = Self::default();
        for row in rows {
            match row.kind {
                TOOL => links.tools.push(row.target),
                MCP_SERVER => links.mcp_servers.push(row.target),
                _ => links.subagents.push(row.target),
            }
        }
        links
    }
}

/// `(agent_id, kind, target_id, position)` of the tool links, of the links to live
/// sub-agents and of the MCP server links of `agent_ids` (`UNION ALL`).
fn links_query(agent_ids: &[Uuid]) -> SelectStatement {
    let ids = agent_ids.iter().copied();
    let mut tools = Query::select();
    tools
        .expr_as(Expr::col((agent_tool::Entity, agent_tool::Column::AgentId)), "agent_id")
        .expr_as(Expr::cust(TOOL.to_string()), "kind")
        .expr_as(Expr::col((agent_tool::Entity, agent_tool::Column::ToolId)), "target_id")
        .expr_as(
            Expr::col((agent_tool::Entity, agent_tool::Column::Position)),
            "position",
        )
        .from(agent_tool::Entity)
        .and_where(Expr::col((agent_tool::Entity, agent_tool::Column::AgentId)).is_in(ids.clone()));
    let mut subagents = Query::select();
    subagents
        .expr_as(
            Expr::col((agent_subagent::Entity, agent_subagent::Column::AgentId)),
            "agent_id",
        )
        .expr_as(Expr::cust(SUBAGENT.to_string()), "kind")
        .expr_as(
            Expr::col((agent_subagent::Entity, agent_subagent::Column::SubagentId)),
            "target_id",
        )
        .expr_as(
            Expr::col((agent_subagent::Entity, agent_subagent::Column::Position)),
            "position",
        )
        .from(agent_subagent::Entity)
        .inner_join(
            agent::Entity,
            Expr::col((agent::Entity, agent::Column::Id))
                .equals((agent_subagent::Entity, agent_subagent::Column::SubagentId)),
        )
        .and_where(Expr::col((agent_subagent::Entity, agent_subagent::Column::AgentId)).is_in(ids))
        .and_where(Expr::col((agent::Entity, agent::Column::DeletedAt)).is_null());
    let mut mcp_servers = Query::select();
    mcp_servers
        .expr_as(
            Expr::col((agent_mcp_server::Entity, agent_mcp_server::Column::AgentId)),
            "agent_id",
        )
        .expr_as(Expr::cust(MCP_SERVER.to_string()), "kind")
        .expr_as(
            Expr::col((agent_mcp_server::Entity, agent_mcp_server::Column::McpServerId)),
            "target_id",
        )
        .expr_as(
            Expr::col((agent_mcp_server::Entity, agent_mcp_server::Column::Position)),
            "position",
        )
        .from(agent_mcp_server::Entity)
        .and_where(
            Expr::col((agent_mcp_server::Entity, agent_mcp_server::Column::AgentId)).is_in(agent_ids.iter().copied()),
        );
    tools.union(UnionType::All, subagents);
    tools.union(UnionType::All, mcp_servers);
    tools
}

/// Field errors for every id of `tool_ids` that is listed twice or is not one of the owner's tools.
pub(crate) async fn check_tools<C: ConnectionTrait>(db: &C, owner_id: Uuid, ids: &[Uuid]) -> Result<Vec<FieldError>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let owned: HashSet<Uuid> = tool::Entity::find()
        .select_only()
        .column(tool::Column::Id)
        .filter(tool::Column::OwnerId.eq(owner_id))
        .filter(tool::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(check_list("tool_ids", ids, |id| {
        if owned.contains(id) {
            Ok(())
        } else {
            Err(format!("{id} is not one of your tools"))
        }
    }))
}

/// Field errors for every id of `mcp_server_ids` that is listed twice or is not one of the
/// owner's MCP servers (asked of the `mcp` crate, which owns them).
pub(crate) async fn check_mcp_servers<C: ConnectionTrait>(
    db: &C,
    owner_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<FieldError>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let owned = mcp::links::owned(db, owner_id, ids).await?;
    Ok(check_list("mcp_server_ids", ids, |id| {
        if owned.contains(id) {
            Ok(())
        } else {
            Err(format!("{id} is not one of your MCP servers"))
        }
    }))
}

/// Field errors for every id of `subagent_ids` that is listed twice, is the agent itself,
/// or is not one of the owner's live agents.
pub(crate) async fn check_subagents<C: ConnectionTrait>(
    db: &C,
    owner_id: Uuid,
    agent_id: Option<Uuid>,
    ids: &[Uuid],
) -> Result<Vec<FieldError>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let live: HashSet<Uuid> = agent::Entity::find()
        .select_only()
        .column(agent::Column::Id)
        .filter(agent::Column::OwnerId.eq(owner_id))
        .filter(agent::Column::DeletedAt.is_null())
        .filter(agent::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(check_list("subagent_ids", ids, |id| {
        if Some(*id) == agent_id {
            Err("an agent cannot be its own sub-agent".to_owned())
        } else if live.contains(id) {
            Ok(())
        } else {
            Err(format!("{id} is not one of your agents"))
        }
    }))
}

/// The field errors of `ids`: a repeated id, or what `known` says of it (a message that
/// names the id, since the field names only its index).
fn check_list(field: &str, ids: &[Uuid], known: impl Fn(&Uuid) -> Result<(), String>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let problem = if ids[..i].contains(id) {
            Err(format!("{id} is listed more than once"))
        } else {
            known(id)
        };
        if let Err(message) = problem {
            errors.push(FieldError::new(format!("{field}[{i}]"), message));
        }
    }
    errors
}

/// The field error of the first entry of `subagent_ids` from which `agent_id` can be
/// reached through live sub-agent links (making it `agent_id`'s sub-agent would close a cycle).
pub(crate) async fn find_cycle<C: ConnectionTrait>(
    db: &C,
    agent_id: Uuid,
    subagent_ids: &[Uuid],
) -> Result<Option<FieldError>> {
    // Breadth-first, one query per level; each node remembers which entry it was reached from.
    let mut origin: HashMap<Uuid, usize> = subagent_ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut frontier: Vec<Uuid> = subagent_ids.to_vec();
    while !frontier.is_empty() {
        let edges: Vec<(Uuid, Uuid)> = agent_subagent::Entity::find()
            .select_only()
            .column(agent_subagent::Column::AgentId)
            .column(agent_subagent::Column::SubagentId)
            .join(JoinType::InnerJoin, agent_subagent::Relation::Subagent.def())
            .filter(agent_subagent::Column::AgentId.is_in(frontier.iter().copied()))
            .filter(agent::Column::DeletedAt.is_null())
            .into_tuple()
            .all(db)
            .await?;
        frontier.clear();
        for (from, to) in edges {
            let root = origin.get(&from).copied().unwrap_or_default();
            if to == agent_id {
                return Ok(Some(FieldError::new(
                    format!("subagent_ids[{root}]"),
                    "would create a sub-agent cycle: this agent already delegates back to the one being changed",
                )));
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = origin.entry(to) {
                slot.insert(root);
                frontier.push(to);
            }
        }
    }
    Ok(None)
}

/// Serializes sub-agent changes of one owner on PostgreSQL (inside the caller's transaction),
/// so two concurrent updates cannot each close half of a cycle. SQLite serializes writers anyway.
pub(crate) async fn lock_owner_graph<C: ConnectionTrait>(db: &C, owner_id: Uuid) -> Result<()> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let (high, low) = owner_id.as_u64_pair();
    let key = i64::from_ne_bytes((high ^ low).to_ne_bytes());
    let lock = Statement::from_sql_and_values(DbBackend::Postgres, "SELECT pg_advisory_xact_lock($1)", [key.into()]);
    db.query_one_raw(lock).await?;
    Ok(())
}

/// Replaces the agent's tool links with `ids`, in order.
pub(crate) async fn replace_tools<C: ConnectionTrait>(db: &C, agent_id: Uuid, ids: &[Uuid]) -> Result<()> {
    agent_tool::Entity::delete_many()
        .filter(agent_tool::Column::AgentId.eq(agent_id))
        .exec(db)
        .await?;
    insert_tools(db, agent_id, ids).await
}

/// Replaces the agent's sub-agent links with `ids`, in order.
pub(crate) async fn replace_subagents<C: ConnectionTrait>(db: &C, agent_id: Uuid, ids: &[Uuid]) -> Result<()> {
    agent_subagent::Entity::delete_many()
        .filter(agent_subagent::Column::AgentId.eq(agent_id))
        .exec(db)
        .await?;
    insert_subagents(db, agent_id, ids).await
}

/// Replaces the agent's MCP server links with `ids`, in order.
pub(crate) async fn replace_mcp_servers<C: ConnectionTrait>(db: &C, agent_id: Uuid, ids: &[Uuid]) -> Result<()> {
    agent_mcp_server::Entity::delete_many()
        .filter(agent_mcp_server::Column::AgentId.eq(agent_id))
        .exec(db)
        .await?;
    insert_mcp_servers(db, agent_id, ids).await
}

/// Links the agent to the tools `ids`, in order, after any it has (none for a new agent).
pub(crate) async fn insert_tools<C: ConnectionTrait>(db: &C, agent_id: Uuid, ids: &[Uuid]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows = ids.iter().zip(0..).map(|(id, position)| agent_tool::ActiveModel {
        agent_id: Set(agent_id),
        tool_id: Set(*id),
        position: Set(position),
    });
    agent_tool::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// Links the agent to the sub-agents `ids`, in order (see [`insert_tools`]).
pub(crate) async fn insert_subagents<C: ConnectionTrait>(db: &C, agent_id: Uuid, ids: &[Uuid]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows = ids.iter().zip(0..).map(|(id, position)| agent_subagent::ActiveModel {
        agent_id: Set(agent_id),
        subagent_id: Set(*id),
        position: Set(position),
    });
    agent_subagent::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Links the agent to the MCP servers `ids`, in order (see [`insert_tools`]).
pub(crate) async fn insert_mcp_servers<C: ConnectionTrait>(db: &C, agent_id: Uuid, ids: &[Uuid]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let rows = ids.iter().zip(0..).map(|(id, position)| agent_mcp_server::ActiveModel {
        agent_id: Set(agent_id),
        mcp_server_id: Set(*id),
        position: Set(position),
    });
    agent_mcp_server::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}
