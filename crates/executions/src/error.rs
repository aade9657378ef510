//! [`ExecutionError`]: the outcomes of the execution rules, turned into [`kernel::Error`]
//! once, here, for the HTTP edge.

use kernel::FieldError;
use sea_orm::DbErr;
use uuid::Uuid;

use crate::events::FailureCode;

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
    /// The conversation named in the path is missing or someone else's.
    #[error("conversation not found")]
    ConversationNotFound,
    /// The agent named in a body is not the caller's live agent.
    #[error("{0} is not one of your agents")]
    AgentNotYours(Uuid),
    /// The agent named in a body is not the agent of the named conversation.
    #[error("{0} is not the agent of this conversation")]
    AgentMismatch(Uuid),
    /// The conversation's agent was deleted: nothing can answer it.
    #[error("the agent of this conversation was deleted; start a new conversation")]
    AgentGone,
    /// `if_busy: reject` while the conversation has this active run.
    #[error("the conversation has an active run")]
    ConversationBusy(Uuid),
    /// The run a reply waited for failed.
    #[error("{error}")]
    RunFailed {
        /// Why.
        error: String,
        /// Its kind, when known.
        code: Option<crate::events::FailureCode>,
    },
    /// The run a reply waited for was cancelled.
    #[error("the run was cancelled before it answered")]
    RunCancelled,
    /// The run a reply waited for paused for a person and nobody answered in time.
    #[error("the run waited for input and expired before it answered")]
    RunExpired,
    /// Inputs were sent to an execution that is not `requires_action` (or another
    /// submission answered it first).
    #[error("the execution is not waiting for input")]
    NotAwaitingInput,
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
            ExecutionError::ConversationNotFound => Self::not_found("conversation"),
            ExecutionError::AgentNotYours(_) | ExecutionError::AgentMismatch(_) => {
                Self::invalid("agent_id", err.to_string())
            }
            ExecutionError::AgentGone => Self::Conflict(err.to_string()),
            ExecutionError::ConversationBusy(active) => Self::coded(
                409,
                "conversation_busy",
                "the conversation has an active run; wait for it, cancel it, or send with `if_busy`",
                [("active_execution_id", serde_json::Value::String(active.to_string()))],
            ),
            ExecutionError::RunFailed { error, code } => match code {
                Some(FailureCode::UpstreamTimeout) => Self::UpstreamTimeout(error),
                Some(FailureCode::Interrupted) => {
                    Self::Unavailable("the server stopped before the reply was complete; send the message again".into())
                }
                Some(FailureCode::UpstreamError) | None => Self::Upstream(error),
            },
            ExecutionError::RunCancelled | ExecutionError::RunExpired => Self::Conflict(err.to_string()),
            ExecutionError::NotAwaitingInput => Self::coded(
                409,
                "not_awaiting_input",
                "the execution is not waiting for input (it is not `requires_action`, or its answers arrived already)",
                [],
            ),
            ExecutionError::Invalid(errors) => Self::Validation(errors),
            ExecutionError::Store(err) => err,
        }
    }
}
