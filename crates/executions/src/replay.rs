//! The execution a streamed reply ran, for the replay of its idempotent `POST`.

use kernel::BoxFuture;
use kernel::idempotency::StreamReplay;
use uuid::Uuid;

use crate::ExecutionService;
use crate::schemas::Execution;

impl StreamReplay for ExecutionService {
    fn execution<'a>(
        &'a self,
        user_id: Uuid,
        execution_id: Uuid,
    ) -> BoxFuture<'a, kernel::Result<Option<serde_json::Value>>> {
        Box::pin(async move {
            let Some(found) = self.find_owned(user_id, execution_id).await? else {
                return Ok(None);
            };
            let execution = serde_json::to_value(Execution::from(found)).map_err(anyhow::Error::from)?;
            Ok(Some(execution))
        })
    }
}
