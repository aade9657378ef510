//! [`FileError`]: the outcomes of the file rules, turned into [`kernel::Error`] once, here,
//! for the HTTP edge.

use sea_orm::DbErr;

/// The result type of this crate's service.
pub type Result<T, E = FileError> = std::result::Result<T, E>;

/// Why a file operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The caller has no file with this id.
    #[error("file not found")]
    NotFound,
    /// The body is not `multipart/form-data` (with a boundary).
    #[error("the body must be multipart/form-data with a `file` part")]
    NotMultipart,
    /// The request has no `file` part.
    #[error("a `file` part is required")]
    Missing,
    /// The file has no bytes.
    #[error("the file is empty")]
    Empty,
    /// The multipart body ended (or broke) before the file did.
    #[error("the multipart body is truncated or malformed: {0}")]
    Truncated(String),
    /// A form field other than the file is invalid (`purpose`).
    #[error("{field}: {message}")]
    InvalidField {
        /// The form field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The file is larger than its purpose allows.
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The cap that applies, in bytes.
        limit: u64,
    },
    /// The file would take the owner past `FILE_QUOTA_BYTES`.
    #[error("the file would exceed your storage quota of {quota} bytes ({used} bytes used)")]
    QuotaExceeded {
        /// The quota, in bytes.
        quota: u64,
        /// What the owner's files already take.
        used: u64,
    },
    /// The content is of a type the purpose does not accept.
    #[error("files of type {detected} are not accepted as {purpose}; accepted: {accepted}")]
    Unsupported {
        /// What the content was detected as.
        detected: String,
        /// The purpose it was uploaded for.
        purpose: &'static str,
        /// The accepted media types.
        accepted: String,
    },
    /// The requested byte range does not overlap the file.
    #[error("the range is not satisfiable for a file of {size} bytes")]
    RangeNotSatisfiable {
        /// The file's size.
        size: u64,
    },
    /// The object store failed (its details are logged, never sent).
    #[error("the file store failed: {0}")]
    Storage(#[from] object_store::Error),
    /// The database failed, as classified by the kernel.
    #[error(transparent)]
    Store(kernel::Error),
}

impl From<DbErr> for FileError {
    fn from(err: DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl From<kernel::Error> for FileError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<FileError> for kernel::Error {
    fn from(err: FileError) -> Self {
        use FileError as E;
        match err {
            E::NotFound => Self::not_found("file"),
            err @ (E::Missing | E::Empty | E::Truncated(_)) => Self::invalid("file", err.to_string()),
            E::InvalidField { field, message } => Self::invalid(field, message),
            E::TooLarge { limit } => Self::PayloadTooLarge {
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            },
            err @ E::QuotaExceeded { quota, used } => Self::coded(
                413,
                "quota_exceeded",
                err.to_string(),
                [("quota_bytes", quota.into()), ("used_bytes", used.into())],
            ),
            err @ (E::Unsupported { .. } | E::NotMultipart) => Self::UnsupportedMediaType(err.to_string()),
            err @ E::RangeNotSatisfiable { .. } => Self::coded(416, "range_not_satisfiable", err.to_string(), []),
            E::Storage(err) => {
                tracing::error!(error = %err, "file store failure");
                Self::Unavailable("the file store is unavailable, retry later".into())
            }
            E::Store(err) => err,
        }
    }
}
