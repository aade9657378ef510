//! Identifiers.

use uuid::Uuid;

/// A new time-ordered (v7) UUID, the id of every stored row.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
