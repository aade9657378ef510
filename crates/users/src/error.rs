//! [`UserError`]: the outcomes of the account rules, turned into [`kernel::Error`] once,
//! here, for the HTTP edge.

use kernel::FieldError;
use sea_orm::DbErr;

/// The result type of [`UserService`](crate::UserService).
pub type Result<T, E = UserError> = std::result::Result<T, E>;

/// Why an account operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// No account has this id.
    #[error("user not found")]
    NotFound,
    /// Another account has this email address.
    #[error("a user with this email already exists")]
    EmailTaken,
    /// Another account has this username (in any case).
    #[error("a user with this username already exists")]
    UsernameTaken,
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Fields break the rules.
    #[error("request validation failed")]
    Invalid(Vec<FieldError>),
    /// The database or the password hasher failed, as classified by the kernel.
    #[error(transparent)]
    Store(kernel::Error),
}

impl From<DbErr> for UserError {
    fn from(err: DbErr) -> Self {
        Self::Store(err.into())
    }
}

impl From<kernel::Error> for UserError {
    fn from(err: kernel::Error) -> Self {
        Self::Store(err)
    }
}

impl From<UserError> for kernel::Error {
    fn from(err: UserError) -> Self {
        match err {
            UserError::NotFound => Self::not_found("user"),
            UserError::EmailTaken | UserError::UsernameTaken => Self::Conflict(err.to_string()),
            UserError::WrongPassword => Self::BadRequest(err.to_string()),
            UserError::Invalid(errors) => Self::Validation(errors),
            UserError::Store(err) => err,
        }
    }
}
