//! Which MCP server ids are the caller's: the check behind an agent's `mcp_server_ids`
//! (the agents crate keeps the links; this crate owns the servers).

use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::entities::mcp_server;

/// The ids among `ids` that name servers of `owner_id`, in one query (works inside the
/// caller's transaction).
pub async fn owned<C: ConnectionTrait>(db: &C, owner_id: Uuid, ids: &[Uuid]) -> Result<HashSet<Uuid>, DbErr> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(mcp_server::Entity::find()
        .select_only()
        .column(mcp_server::Column::Id)
        .filter(mcp_server::Column::OwnerId.eq(owner_id))
        .filter(mcp_server::Column::Id.is_in(ids.iter().copied()))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}
