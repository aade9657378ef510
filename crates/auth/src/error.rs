//! [`AuthError`]: the outcomes of authentication and session rules, turned into
//! [`kernel::Error`] once, here, for the HTTP edge.

use kernel::FieldError;
use sea_orm::DbErr;
use users::UserError;

/// The result type of [`AuthService`](crate::AuthService).
pub type Result<T, E = AuthError> = std::result::Result<T, E>;

/// Why a login, token exchange, password reset or API key operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown login or wrong password (the same answer for both).
    #[error("incorrect username or password")]
    BadCredentials,
    /// The account exists but is deactivated.
    #[error("this account is inactive")]
    Inactive,
    /// The refresh token is unknown, spent, expired or revoked.
    #[error("the refresh token is invalid, expired or revoked")]
    BadRefreshToken,
    /// The reset token is unknown, spent or expired.
    #[error("the reset token is invalid, used or expired")]
    BadResetToken,
    /// The API key is unknown, revoked or expired, or its account is gone or inactive.
    #[error("the API key is invalid, expired or revoked")]
    BadApiKey,
    /// No API key of the caller has this id.
    #[error("API key not found")]
    ApiKeyNotFound,
    /// Fields break the rules.
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// The account rules refused (registration: taken email, bad field).
    #[error(transparent)]
    Account(#[from] UserError),
    /// The database, hasher or token signer failed, as classified by the kernel.
    #[error(transparent)]
    Store(kernel::Error),
}

impl From<DbErr> for AuthError {
    fn from(err: DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl From<kernel::Error> for AuthError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<AuthError> for kernel::Error {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::BadCredentials | AuthError::BadRefreshToken | AuthError::BadApiKey => {
                Self::Unauthorized(err.to_string())
            }
            AuthError::Inactive => Self::Forbidden(err.to_string()),
            AuthError::BadResetToken => Self::BadRequest(err.to_string()),
            AuthError::ApiKeyNotFound => Self::NotFound(err.to_string()),
            AuthError::Invalid(errors) => Self::Validation(errors),
            AuthError::Account(err) => err.into(),
            AuthError::Store(err) => err,
        }
    }
}
