//! Claiming keys, recording answers, releasing and purging them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::entity::{self, ActiveModel, Column, DONE, Entity, IN_FLIGHT};
use crate::Result;

/// How often a claim is retried when the row it collided with vanished meanwhile
/// (released or purged by another request); past that, the key counts as in use.
const CLAIM_ATTEMPTS: usize = 3;

/// The idempotency keys of every user, each kept for a TTL after its first request.
#[derive(Clone, Debug)]
pub struct IdempotencyStore {
    db: DatabaseConnection,
    ttl: Duration,
}

/// What a request carrying a key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's (row id): handle it, then [`IdempotencyStore::record`] or
    /// [`IdempotencyStore::release`].
    Acquired(Uuid),
    /// The same request was handled already: answer with what it answered.
    Replay(Recorded),
    /// The same request is still being handled elsewhere.
    InFlight,
    /// The key was used for a different method, path or body.
    Reused,
}

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A whole response.
    Response {
        /// HTTP status.
        status: u16,
        /// `Content-Type`, if it had one.
        content_type: Option<String>,
        /// `Location`, if it had one.
        location: Option<String>,
        /// The body.
        body: Vec<u8>,
    },
    /// A stream, which is not replayed: only the execution it ran (its `X-Execution-Id`).
    Stream {
        /// The execution, when the stream named one.
        execution_id: Option<Uuid>,
    },
}

impl IdempotencyStore {
    /// A store whose keys expire `ttl` after their first request.
    pub fn new(db: DatabaseConnection, ttl: Duration) -> Self {
        Self { db, ttl }
    }

    /// When keys created before this instant expire.
    fn cutoff(&self) -> DateTime<Utc> {
        let ttl = chrono::Duration::from_std(self.ttl).unwrap_or(chrono::Duration::MAX);
        // A TTL reaching before 1970 keeps every key (and stays in PostgreSQL's range).
        crate::clock::now()
            .checked_sub_signed(ttl)
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }

    /// Claims `key` for `user_id`'s request with `fingerprint`. The claim is one insert
    /// that does nothing on the unique `(user_id, idempotency_key)`, so of two requests
    /// racing on any number of replicas exactly one acquires it. An expired row found in
    /// the way is deleted first.
    pub async fn claim(&self, user_id: Uuid, key: &str, fingerprint: &str) -> Result<Claim> {
        for _ in 0..CLAIM_ATTEMPTS {
            let id = crate::ids::new_id();
            let row = ActiveModel {
                id: Set(id),
                user_id: Set(user_id),
                idempotency_key: Set(key.to_owned()),
                request_hash: Set(fingerprint.to_owned()),
                state: Set(IN_FLIGHT.to_owned()),
                response_status: Set(None),
                response_content_type: Set(None),
                response_location: Set(None),
                response_body: Set(None),
                execution_id: Set(None),
                created_at: Set(crate::clock::now()),
            };
            let inserted = Entity::insert(row)
                .on_conflict(
                    OnConflict::columns([Column::UserId, Column::IdempotencyKey])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await?;
            if inserted == 1 {
                return Ok(Claim::Acquired(id));
            }
            let Some(existing) = Entity::find()
                .filter(Column::UserId.eq(user_id))
                .filter(Column::IdempotencyKey.eq(key))
                .one(&self.db)
                .await?
            else {
                continue;
            };
            let cutoff = self.cutoff();
            if existing.created_at < cutoff {
                // Only this expired row: a fresh claim made meanwhile stays.
                Entity::delete_many()
                    .filter(Column::Id.eq(existing.id))
                    .filter(Column::CreatedAt.lt(cutoff))
                    .exec(&self.db)
                    .await?;
                continue;
            }
            return Ok(if existing.request_hash != fingerprint {
                Claim::Reused
            } else if existing.state == DONE {
                Claim::Replay(recorded(existing))
            } else {
                Claim::InFlight
            });
        }
        Ok(Claim::InFlight)
    }

    /// Stores the answer of the request that acquired claim `id`.
    pub async fn record(&self, id: Uuid, answer: Recorded) -> Result<()> {
        let mut row = ActiveModel {
            state: Set(DONE.to_owned()),
            ..Default::default()
        };
        match answer {
            Recorded::Response {
                status,
                content_type,
                location,
                body,
            } => {
                row.response_status = Set(Some(i32::from(status)));
                row.response_content_type = Set(content_type);
                row.response_location = Set(location);
                row.response_body = Set(Some(body));
            }
            Recorded::Stream { execution_id } => {
                row.response_status = Set(Some(202));
                row.execution_id = Set(execution_id);
            }
        }
        Entity::update_many()
            .set(row)
            .filter(Column::Id.eq(id))
            .filter(Column::State.eq(IN_FLIGHT))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Gives up claim `id` (its request failed with a server error, or was dropped), so
    /// the same key may be sent again and run.
    pub async fn release(&self, id: Uuid) -> Result<()> {
        Entity::delete_many()
            .filter(Column::Id.eq(id))
            .filter(Column::State.eq(IN_FLIGHT))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Deletes every expired key; returns how many.
    pub async fn purge_expired(&self) -> Result<u64> {
        let purged = Entity::delete_many()
            .filter(Column::CreatedAt.lt(self.cutoff()))
            .exec(&self.db)
            .await?;
        Ok(purged.rows_affected)
    }
}

/// The answer stored in a `done` row.
fn recorded(row: entity::Model) -> Recorded {
    match row.response_body {
        Some(body) => Recorded::Response {
            status: row.response_status.and_then(|s| u16::try_from(s).ok()).unwrap_or(200),
            content_type: row.response_content_type,
            location: row.response_location,
            body,
        },
        None => Recorded::Stream {
            execution_id: row.execution_id,
        },
    }
}
