//! [`SecretError`]: the outcomes of the secret rules, turned into [`kernel::Error`] once,
//! here, for the HTTP edge. No variant holds a value.

use kernel::FieldError;
use sea_orm::DbErr;

/// The result type of this crate's service.
pub type Result<T, E = SecretError> = std::result::Result<T, E>;

/// Why a secret operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The caller has no secret of this name.
    #[error("secret not found")]
    NotFound,
    /// The name or the value breaks the rules.
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// A stored secret does not decrypt: `SECRETS_KEY` changed since it was written, or the
    /// row was altered. The name is the secret's, never its value.
    #[error(
        "secret `{0}` cannot be decrypted with the configured SECRETS_KEY (was the key changed since it was written?)"
    )]
    Undecryptable(String),
    /// No random nonce could be drawn.
    #[error("encrypting a secret failed: {0}")]
    Encryption(String),
    /// The database failed, as classified by the kernel.
    #[error(transparent)]
    Store(kernel::Error),
}

impl From<DbErr> for SecretError {
    fn from(err: DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl From<kernel::Error> for SecretError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<SecretError> for kernel::Error {
    fn from(err: SecretError) -> Self {
        use SecretError as E;
        match err {
            E::NotFound => Self::not_found("secret"),
            E::Invalid(errors) => Self::Validation(errors),
            // Logged with the request id, answered as a bare 500: an operator's problem.
            err @ (E::Undecryptable(_) | E::Encryption(_)) => Self::Internal(anyhow::Error::new(err)),
            E::Store(err) => err,
        }
    }
}
