//! [`ConversationError`]: the outcomes of the conversation rules, turned into
//! [`kernel::Error`] once, here, for the HTTP edge.

use kernel::FieldError;
use sea_orm::DbErr;
use uuid::Uuid;

/// The result type of this crate's services.
pub type Result<T, E = ConversationError> = std::result::Result<T, E>;

/// Why a conversation operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ConversationError {
    /// The conversation named in the path is missing or someone else's.
    #[error("conversation not found")]
    NotFound,
    /// The `agent_id` of a body is not one of the caller's live agents.
    #[error("{0} is not one of your agents")]
    AgentNotYours(Uuid),
    /// Fields break the rules.
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// The database failed, as classified by the kernel.
    #[error(transparent)]
    Store(kernel::Error),
}

impl From<DbErr> for ConversationError {
    fn from(err: DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl From<kernel::Error> for ConversationError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<ConversationError> for kernel::Error {
    fn from(err: ConversationError) -> Self {
        use ConversationError as E;
        match err {
            E::NotFound => Self::not_found("conversation"),
            E::AgentNotYours(_) => Self::invalid("agent_id", err.to_string()),
            E::Invalid(errors) => Self::Validation(errors),
            E::Store(err) => err,
        }
    }
}

impl From<files::FileError> for ConversationError {
    /// A file lookup or read that failed (not one that found nothing).
    fn from(err: files::FileError) -> Self {
        Self::Store(err.into())
    }
}

impl From<agents::AgentError> for ConversationError {
    /// An agent lookup that failed (not one that found nothing: that is an `Option`).
    fn from(err: agents::AgentError) -> Self {
        Self::Store(err.into())
    }
}
