//! The `idempotency_keys` table: one row per user and key.

use sea_orm::entity::prelude::*;

/// The first request sent with a key, and once handled its answer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// Row id (a claim names its row by it).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The caller; keys are scoped per user (unique with `idempotency_key`).
    pub user_id: Uuid,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: String,
    /// Hex SHA-256 of method, path and body (`super::fingerprint`).
    pub request_hash: String,
    /// `in_flight` while the first request is handled, then `done`.
    pub state: String,
    /// Status of the stored answer.
    pub response_status: Option<i32>,
    /// `Content-Type` of the stored answer.
    pub response_content_type: Option<String>,
    /// `Location` of the stored answer.
    pub response_location: Option<String>,
    /// Body of the stored answer; `NULL` when the answer was a stream (not replayed).
    #[sea_orm(column_type = "Blob", nullable)]
    pub response_body: Option<Vec<u8>>,
    /// The `X-Execution-Id` of a streamed answer.
    pub execution_id: Option<Uuid>,
    /// When the first request arrived; the key expires a TTL after it.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated from here.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// [`Model::state`] of a request still being handled.
pub const IN_FLIGHT: &str = "in_flight";
/// [`Model::state`] of a request whose answer is stored.
pub const DONE: &str = "done";
