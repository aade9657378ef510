//! The one error type of the service, and the mapping of database errors into it.

use sea_orm::{DbErr, RuntimeErr, SqlErr};
use serde::Serialize;
use utoipa::ToSchema;

/// The result type of every service call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One failing field of a request, as listed in a `422` problem's `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Dotted path of the field (`metadata.key`, `tool_ids[2]`); empty when no field can be named.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// A failure of the named field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every way a request can fail. Rendered as problem+json by the `http` feature.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The addressed resource does not exist or belongs to someone else (`404`).
    #[error("{0}")]
    NotFound(String),
    /// A unique value is taken (`409`).
    #[error("{0}")]
    Conflict(String),
    /// Request fields break the rules (`422`).
    #[error("request validation failed")]
    Validation(Vec<FieldError>),
    /// The body is not parseable at all, so no field can be named (`422`, empty `errors`).
    #[error("{0}")]
    Malformed(String),
    /// The request is well-formed but cannot be honoured (`400`).
    #[error("{0}")]
    BadRequest(String),
    /// No, or no valid, credentials (`401`).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed (`403`).
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests; retry after this many seconds (`429`).
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// The body did not arrive in time (`408`).
    #[error("{0}")]
    RequestTimeout(String),
    /// The body is larger than the configured limit (`413`).
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The body is not in a media type this route reads (`415`).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The path exists but not with this method (`405`).
    #[error("method not allowed")]
    MethodNotAllowed { allow: Vec<String> },
    /// A dependency (the database) does not answer (`503`).
    #[error("{0}")]
    Unavailable(String),
    /// The upstream LLM provider failed (`502`).
    #[error("{0}")]
    Upstream(String),
    /// The upstream LLM provider did not answer in time (`504`).
    #[error("{0}")]
    UpstreamTimeout(String),
    /// A `409` (or other status) with its own stable `code` and extension members, for
    /// outcomes a client acts on (`conversation_busy` with `active_execution_id`, …).
    #[error("{}", .0.detail)]
    Coded(Box<Coded>),
    /// Anything else; details are logged, never sent (`500`).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The parts of an [`Error::Coded`].
#[derive(Debug, Clone)]
pub struct Coded {
    /// The HTTP status.
    pub status: u16,
    /// The stable machine-readable `code`.
    pub code: &'static str,
    /// The human-readable `detail`.
    pub detail: String,
    /// Extension members added to the problem object.
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Error {
    /// A `422` for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// A problem with its own `code` and extension members.
    pub fn coded(
        status: u16,
        code: &'static str,
        detail: impl Into<String>,
        extensions: impl IntoIterator<Item = (&'static str, serde_json::Value)>,
    ) -> Self {
        Self::Coded(Box::new(Coded {
            status,
            code,
            detail: detail.into(),
            extensions: extensions.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        }))
    }

    /// A `404` naming what was not found.
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    /// The HTTP status this error is rendered with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::Validation(_) | Self::Malformed(_) => 422,
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::RateLimited { .. } => 429,
            Self::RequestTimeout(_) => 408,
            Self::PayloadTooLarge { .. } => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::MethodNotAllowed { .. } => 405,
            Self::Unavailable(_) => 503,
            Self::Upstream(_) => 502,
            Self::UpstreamTimeout(_) => 504,
            Self::Coded(coded) => coded.status,
            Self::Internal(_) => 500,
        }
    }

    /// The stable machine-readable `code` of the problem body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::Validation(_) => "validation_failed",
            Self::Malformed(_) => "malformed_body",
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::RateLimited { .. } => "rate_limited",
            Self::RequestTimeout(_) => "request_timeout",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::Unavailable(_) => "service_unavailable",
            Self::Upstream(_) => "upstream_error",
            Self::UpstreamTimeout(_) => "upstream_timeout",
            Self::Coded(coded) => coded.code,
            Self::Internal(_) => "internal_error",
        }
    }

    /// The text sent to the client as `detail`: never internal details.
    pub fn public_detail(&self) -> String {
        match self {
            Self::Internal(_) => "the server failed to handle this request".to_owned(),
            Self::Validation(errors) if errors.len() == 1 => {
                format!("{}: {}", errors[0].field, errors[0].message)
            }
            other => other.to_string(),
        }
    }
}

impl From<DbErr> for Error {
    /// The single place database errors are classified.
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return Self::Conflict("a resource with this unique value already exists".into());
        }
        if let Some(SqlErr::ForeignKeyConstraintViolation(_)) = err.sql_err() {
            return Self::Conflict("a referenced resource does not exist".into());
        }
        if is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Self::Unavailable("the database is unavailable, retry later".into());
        }
        if let DbErr::RecordNotFound(what) = err {
            return Self::NotFound(what);
        }
        Self::Internal(anyhow::Error::new(err))
    }
}

/// Whether the database could not serve the statement right now, so a retry may succeed:
/// no connection, a lost one, or a database refusing work for the moment.
fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => match &**e {
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
            Sqlx::Database(db) => is_unavailable_code(db.as_ref()),
            _ => false,
        },
        _ => false,
    }
}

/// PostgreSQL: SQLSTATE class `08` (connection exception) and `57P01`–`57P03` (the server
/// shut down, crashed, or cannot take connections yet). SQLite: `SQLITE_BUSY` and
/// `SQLITE_LOCKED`, with any extended code.
fn is_unavailable_code(err: &dyn sea_orm::sqlx::error::DatabaseError) -> bool {
    const SQLITE_BUSY: i32 = 5;
    const SQLITE_LOCKED: i32 = 6;
    if let Some(pg) = err.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>() {
        let state = pg.code();
        return state.starts_with("08") || matches!(state, "57P01" | "57P02" | "57P03");
    }
    if err.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some() {
        let extended = err.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
        // The primary result code is the low byte of the extended one.
        return matches!(extended & 0xff, SQLITE_BUSY | SQLITE_LOCKED);
    }
    false
}
