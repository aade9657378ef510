//! Request and response bodies of the `/auth` and `/api-keys` routes.

mod api_keys;

pub use api_keys::{ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyListQuery};

use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A new account.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct RegisterRequest {
    /// Email address (stored lower-cased).
    #[garde(email, length(max = 320))]
    #[schema(format = Email, max_length = 320, example = "ada@example.com")]
    pub email: String,
    /// Username, unique regardless of case.
    #[garde(pattern(users::username::RULE))]
    #[schema(schema_with = users::username::schema)]
    pub username: String,
    /// Password, at least 8 characters and at most 72 bytes (bcrypt's limit; longer is refused, never truncated).
    #[garde(length(chars, min = 8), length(bytes, max = 72))]
    #[schema(min_length = 8, max_length = 72, format = Password, example = "correct-horse-battery")]
    pub password: String,
    /// Display name.
    #[garde(inner(length(chars, max = 200)))]
    #[schema(max_length = 200, example = "Ada Lovelace")]
    pub full_name: Option<String>,
}

/// Credentials, as JSON or as an OAuth2 password-grant form (`grant_type`, `scope`,
/// `client_id` are accepted and ignored).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    /// Email address or username.
    #[garde(length(chars, min = 1, max = 320))]
    #[schema(min_length = 1, max_length = 320, example = "ada")]
    pub username: String,
    /// Password.
    #[garde(length(bytes, min = 1, max = 72))]
    #[schema(min_length = 1, max_length = 72, format = Password, example = "correct-horse-battery")]
    pub password: String,
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// JWT (HS256) for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque single-use refresh token.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: i64,
}

/// A refresh token presented for rotation or logout.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct RefreshRequest {
    /// The refresh token of a [`TokenPair`].
    #[garde(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

/// A request for a password-reset mail.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct PasswordRecoveryRequest {
    /// The account's email address.
    #[garde(email, length(max = 320))]
    #[schema(format = Email, max_length = 320)]
    pub email: String,
}

/// A new password, authorised by a mailed reset token.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct ResetPasswordRequest {
    /// The token from the reset mail.
    #[garde(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub token: String,
    /// The new password, at least 8 characters and at most 72 bytes.
    #[garde(length(chars, min = 8), length(bytes, max = 72))]
    #[schema(min_length = 8, max_length = 72, format = Password)]
    pub new_password: String,
}
