//! Authentication: bcrypt password hashing on the blocking pool, short-lived JWT access
//! tokens, rotating refresh-token families with reuse detection, password recovery by
//! mailed single-use token, long-lived API keys, and (feature `http`) the `/api/v1/auth`
//! and `/api/v1/api-keys` routes.

pub mod entities;
pub mod error;
pub mod jwt;
pub mod mailer;
pub mod password;
pub mod schemas;
pub mod secrets;
pub mod service;
mod verifier;

#[cfg(feature = "http")]
pub mod router;

pub use error::AuthError;
pub use jwt::JwtKeys;
pub use mailer::{LogMailer, Mail, Mailer, MemoryMailer, SmtpMailer};
pub use password::BcryptHasher;
pub use service::{ApiKeyService, AuthService, AuthSettings};
