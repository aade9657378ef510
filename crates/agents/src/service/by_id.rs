//! The hot read by id, hand-written for the [`Lane`]: `GET /agents/{id}` and every
//! "is this the caller's live agent" check run it.
//!
//! Why not the ORM here: the statement runs on the lane's connections (tokio-postgres when
//! pipelined, `sqlx` when direct), which sea-orm cannot drive, and building it through
//! sea-query cost more CPU than the rest of the read (see `docs/benchmarks.md`). It is the
//! statement the ORM path builds (`AgentService::find_flagged`): the live agent of this
//! owner, plus whether it has links, so every path answers alike; tests run all three (the
//! service tests use the pool, `tests/api/agents/lane.rs` both lanes, the API tests on
//! PostgreSQL the lane their URL selects).

use chrono::{DateTime, Utc};
use kernel::lane::{Direct, Lane, Pipelined, pg, pg_error, query_err};
use sea_orm::DbErr;
use sea_orm::sqlx::{self, Row, postgres::PgRow};
use serde_json::Value;
use uuid::Uuid;

use crate::entities::agent;

/// The columns of an agent `a` in `agent::Model`'s order, then its links flag (a literal,
/// so that each statement is one `&'static str`, prepared once per connection).
macro_rules! flagged_columns {
    () => {
        "a.id, a.owner_id, a.name, a.description, a.provider, a.model, a.system_prompt, \
a.temperature, a.max_tokens, a.metadata, a.created_at, a.updated_at, a.deleted_at, \
(EXISTS (SELECT 1 FROM agent_tools t WHERE t.agent_id = a.id) \
OR EXISTS (SELECT 1 FROM agent_subagents s WHERE s.agent_id = a.id) \
OR EXISTS (SELECT 1 FROM agent_mcp_servers m WHERE m.agent_id = a.id)) AS has_links"
    };
}
pub(super) use flagged_columns;

const SQL: &str = concat!(
    "SELECT ",
    flagged_columns!(),
    " FROM agents a WHERE a.id = $1 AND a.owner_id = $2 AND a.deleted_at IS NULL"
);

/// The owner's live agent with this id and whether it has links; one prepared statement.
pub(super) async fn read(lane: &Lane, owner_id: Uuid, id: Uuid) -> Result<Option<(agent::Model, bool)>, DbErr> {
    match lane.pipelined() {
        Some(pipelined) => read_pipelined(pipelined, owner_id, id).await,
        None => read_direct(lane.direct(), owner_id, id).await,
    }
}

async fn read_pipelined(lane: &Pipelined, owner_id: Uuid, id: Uuid) -> Result<Option<(agent::Model, bool)>, DbErr> {
    let row = lane.query_opt(SQL, &[&id, &owner_id]).await?;
    row.as_ref().map(decode_pg).transpose().map_err(pg_error)
}

/// An agent read with [`flagged_columns`] (its first 14 columns).
pub(super) fn decode_pg(row: &pg::Row) -> Result<(agent::Model, bool), pg::Error> {
    let model = agent::Model {
        id: row.try_get(0)?,
        owner_id: row.try_get(1)?,
        name: row.try_get(2)?,
        description: row.try_get(3)?,
        provider: row.try_get(4)?,
        model: row.try_get(5)?,
        system_prompt: row.try_get(6)?,
        temperature: row.try_get(7)?,
        max_tokens: row.try_get(8)?,
        metadata: row.try_get::<_, Value>(9)?,
        created_at: row.try_get::<_, DateTime<Utc>>(10)?,
        updated_at: row.try_get::<_, DateTime<Utc>>(11)?,
        deleted_at: row.try_get::<_, Option<DateTime<Utc>>>(12)?,
    };
    Ok((model, row.try_get(13)?))
}

async fn read_direct(lane: &Direct, owner_id: Uuid, id: Uuid) -> Result<Option<(agent::Model, bool)>, DbErr> {
    let mut lease = lane.lease().await?;
    let row = sqlx::query(SQL)
        .bind(id)
        .bind(owner_id)
        .fetch_optional(lease.conn()?)
        .await
        .map_err(query_err)?;
    lease.give_back();
    row.as_ref().map(decode).transpose().map_err(query_err)
}

fn decode(row: &PgRow) -> Result<(agent::Model, bool), sqlx::Error> {
    let model = agent::Model {
        id: row.try_get(0)?,
        owner_id: row.try_get(1)?,
        name: row.try_get(2)?,
        description: row.try_get(3)?,
        provider: row.try_get(4)?,
        model: row.try_get(5)?,
        system_prompt: row.try_get(6)?,
        temperature: row.try_get(7)?,
        max_tokens: row.try_get(8)?,
        metadata: row.try_get::<Value, _>(9)?,
        created_at: row.try_get::<DateTime<Utc>, _>(10)?,
        updated_at: row.try_get::<DateTime<Utc>, _>(11)?,
        deleted_at: row.try_get::<Option<DateTime<Utc>>, _>(12)?,
    };
    Ok((model, row.try_get(13)?))
}
