//! The pages of an owner's agents without a name filter, newest first, hand-written for the
//! pipelined [`Pipelined`] lane: `GET /agents` as a client pages through it.
//!
//! Why not the ORM here: on the pool a page paid sqlx's ping per checkout and sea-query
//! building the statement (with its counting sub-query) per request, ~8× the server CPU of a
//! read by id (see `docs/benchmarks.md`). These are the statements the ORM path builds
//! (`AgentService::list` through `kernel::page::fetch_page_as`): the same filter, order,
//! keyset condition, total and links flag, so both paths answer alike; the API tests on
//! PostgreSQL run this one, those on SQLite and the service tests the ORM's. A name filter
//! or another order takes the ORM path.

use kernel::lane::{Pipelined, pg, pg_error};
use kernel::page::keyset_page;
use kernel::{Cursor, Page, PageParams};
use sea_orm::DbErr;
use uuid::Uuid;

use super::by_id::{decode_pg, flagged_columns};
use crate::entities::agent;

/// A page of the owner's live agents, newest first, with their total, where `$after` holds.
macro_rules! page_sql {
    ($after:literal) => {
        concat!(
            "SELECT ",
            flagged_columns!(),
            ", (SELECT COUNT(*) FROM agents c WHERE c.owner_id = $1 AND c.deleted_at IS NULL) AS page_total \
FROM agents a WHERE a.owner_id = $1 AND a.deleted_at IS NULL",
            $after,
            " ORDER BY a.created_at DESC, a.id DESC LIMIT $2"
        )
    };
}

/// The first page.
const FIRST: &str = page_sql!("");

/// A page after a cursor `($3, $4)`.
const AFTER: &str = page_sql!(" AND (a.created_at < $3 OR (a.created_at = $3 AND a.id < $4))");

/// The total alone, for a page that came back empty after a cursor.
const COUNT: &str = "SELECT COUNT(*) FROM agents a WHERE a.owner_id = $1 AND a.deleted_at IS NULL";

/// One page of the owner's live agents, each with whether it has links: one statement.
pub(super) async fn page(
    lane: &Pipelined,
    owner_id: Uuid,
    params: &PageParams,
) -> Result<Page<(agent::Model, bool)>, DbErr> {
    let limit = i64::try_from(params.limit + 1).unwrap_or(i64::MAX);
    let rows = match params.cursor {
        None => lane.query(FIRST, &[&owner_id, &limit]).await?,
        Some(Cursor { created_at, id }) => lane.query(AFTER, &[&owner_id, &limit, &created_at, &id]).await?,
    };
    let total: i64 = match rows.first() {
        Some(row) => row.try_get(14).map_err(pg_error)?,
        None if params.cursor.is_none() => 0,
        None => match lane.query_opt(COUNT, &[&owner_id]).await? {
            Some(row) => row.try_get(0).map_err(pg_error)?,
            None => 0,
        },
    };
    let items = rows
        .iter()
        .map(decode_pg)
        .collect::<Result<Vec<_>, pg::Error>>()
        .map_err(pg_error)?;
    Ok(keyset_page(items, params.limit, total, cursor))
}

/// Where the page after this agent starts (every list of agents pages by it).
pub(super) fn cursor((agent, _): &(agent::Model, bool)) -> Cursor {
    Cursor {
        created_at: agent.created_at,
        id: agent.id,
    }
}
