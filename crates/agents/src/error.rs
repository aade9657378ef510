//! [`AgentError`]: the outcomes of the agent and tool rules, turned into [`kernel::Error`]
//! once, here, for the HTTP edge.

use kernel::FieldError;
use sea_orm::DbErr;

/// The result type of this crate's services.
pub type Result<T, E = AgentError> = std::result::Result<T, E>;

/// Why an agent or tool operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The agent is missing, deleted or someone else's.
    #[error("agent not found")]
    NotFound,
    /// The tool is missing or someone else's.
    #[error("tool not found")]
    ToolNotFound,
    /// The owner already has a tool of this name.
    #[error("you already have a tool named {0:?}")]
    ToolNameTaken(String),
    /// Fields break the rules (ownership of linked ids and sub-agent cycles included).
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// The database failed, as classified by the kernel.
    #[error(transparent)]
    Store(kernel::Error),
}

impl From<DbErr> for AgentError {
    fn from(err: DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl From<kernel::Error> for AgentError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<AgentError> for kernel::Error {
    fn from(err: AgentError) -> Self {
        match err {
            AgentError::NotFound => Self::not_found("agent"),
            AgentError::ToolNotFound => Self::not_found("tool"),
            err @ AgentError::ToolNameTaken(_) => Self::Conflict(err.to_string()),
            AgentError::Invalid(errors) => Self::Validation(errors),
            AgentError::Store(err) => err,
        }
    }
}
