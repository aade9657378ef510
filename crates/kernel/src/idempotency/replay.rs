//! The port through which a replayed streaming `POST` answers with its execution.

use uuid::Uuid;

use crate::{BoxFuture, Result};

/// Reads the execution a streamed answer ran, for its replay (implemented by the crate that
/// owns executions and registered as app data; without one, a replay names only the id).
pub trait StreamReplay: Send + Sync + 'static {
    /// The Execution JSON of `execution_id` as `user_id` may read it; `None` when it is
    /// missing or another user's.
    fn execution<'a>(&'a self, user_id: Uuid, execution_id: Uuid) -> BoxFuture<'a, Result<Option<serde_json::Value>>>;
}
