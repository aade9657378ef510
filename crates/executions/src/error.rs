//! [`ExecutionError`]: the outcomes of the execution rules, turned into [`kernel::Error`]
//! once, here, for the HTTP edge.

use kernel::FieldError;
use sea_orm::DbErr;
use uuid::Uuid;

/// The result type of [`ExecutionService`](crate::ExecutionService).
pub type Result<T, E = ExecutionError> = std::result::Result<T, E>;

/// Why an execution could not be started, read or cancelled.
#[derive(Debug, thiserror::Error)]
pub enum ExecutionError {
    /// The execution is missing or someone else's.
    #[error("execution not found")]
    NotFound,
    /// The agent to run is missing, deleted or someone else's.
    #[error("agent not found")]
    AgentNotFound,
    /// The `conversation_id` of a body is not one of the caller's conversations.
    #[error("{0} is not one of your conversations")]
    ConversationNotYours(Uuid),
    /// Fields break the rules.
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// The database (or a lookup in another crate) failed, as classified by the kernel.
    #[error(transparent)]
    Store(kernel::Error),
}

impl From<DbErr> for ExecutionError {
    fn from(err: DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl From<kernel::Error> for ExecutionError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<agents::AgentError> for ExecutionError {
    /// An agent lookup that failed (not one that found nothing: that is an `Option`).
    fn from(err: agents::AgentError) -> Self {
        Self::Store(err.into())
    }
}

impl From<conversations::ConversationError> for ExecutionError {
    /// A conversation lookup that failed (not one that found nothing: that is an `Option`).
    fn from(err: conversations::ConversationError) -> Self {
        Self::Store(err.into())
    }
}

impl From<ExecutionError> for kernel::Error {
    fn from(err: ExecutionError) -> Self {
        match err {
            ExecutionError::NotFound => Self::not_found("execution"),
            ExecutionError::AgentNotFound => Self::not_found("agent"),
            ExecutionError::ConversationNotYours(_) => Self::invalid("conversation_id", err.to_string()),
            ExecutionError::Invalid(errors) => Self::Validation(errors),
            ExecutionError::Store(err) => err,
        }
    }
}
