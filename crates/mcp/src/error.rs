//! [`McpError`]: the outcomes of the MCP server rules, turned into [`kernel::Error`] once,
//! here, for the HTTP edge.

use kernel::FieldError;
use sea_orm::DbErr;

/// The result type of this crate's services.
pub type Result<T, E = McpError> = std::result::Result<T, E>;

/// Why an MCP server operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The server named in the path is missing or someone else's.
    #[error("MCP server not found")]
    NotFound,
    /// The owner already has a server with this label.
    #[error("you already have an MCP server labelled `{0}`")]
    LabelTaken(String),
    /// The server could not be reached, or refused (the reason, never a header value).
    #[error("{0}")]
    Unreachable(String),
    /// Fields break the rules.
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// The database failed, as classified by the kernel.
    #[error(transparent)]
    Store(kernel::Error),
}

impl From<DbErr> for McpError {
    fn from(err: DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl From<kernel::Error> for McpError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<McpError> for kernel::Error {
    fn from(err: McpError) -> Self {
        use McpError as E;
        match err {
            E::NotFound => Self::not_found("MCP server"),
            E::LabelTaken(_) => Self::Conflict(err.to_string()),
            E::Unreachable(reason) => Self::invalid("url", reason),
            E::Invalid(errors) => Self::Validation(errors),
            E::Store(err) => err,
        }
    }
}
