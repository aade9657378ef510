//! Request and response bodies of the user routes, with their validation rules.
//!
//! Each garde rule is mirrored in `#[schema(...)]` so generated clients know the limits.

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::entities::user;

/// A user as clients see it: never the password or its hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// UUID v7.
    pub id: Uuid,
    /// Lower-cased email address.
    pub email: String,
    /// Username (unique regardless of case).
    pub username: String,
    /// Display name.
    pub full_name: Option<String>,
    /// Inactive accounts cannot log in.
    pub is_active: bool,
    /// Superusers administer users.
    pub is_superuser: bool,
    /// Where any signed-in user can GET the avatar image (`/api/v1/users/{id}/avatar`);
    /// `null` when the user has none.
    #[schema(
        required = true,
        example = "/api/v1/users/0193a1b2-0000-7000-8000-000000000000/avatar"
    )]
    pub avatar_url: Option<String>,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// Last update time (RFC 3339, UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        Self {
            avatar_url: m
                .avatar_file_id
                .map(|_| kernel::routes::api_path(&format!("/users/{}/avatar", m.id))),
            id: m.id,
            email: m.email,
            username: m.username,
            full_name: m.full_name,
            is_active: m.is_active,
            is_superuser: m.is_superuser,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Self-service profile update; `id`, `is_superuser`, `is_active` and timestamps are never read.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct UserUpdateMe {
    /// New email address.
    #[garde(inner(email, length(max = 320)))]
    #[schema(nullable = false, format = Email, max_length = 320)]
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    pub email: Option<String>,
    /// New username.
    #[garde(inner(pattern(crate::username::RULE)))]
    #[schema(schema_with = crate::username::schema)]
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    pub username: Option<String>,
    /// New display name; `null` clears it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(chars, max = 200))))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub full_name: Option<Option<String>>,
}

/// A user created by a superuser.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct UserCreate {
    /// Email address (stored lower-cased).
    #[garde(email, length(max = 320))]
    #[schema(format = Email, max_length = 320)]
    pub email: String,
    /// Username.
    #[garde(pattern(crate::username::RULE))]
    #[schema(schema_with = crate::username::schema)]
    pub username: String,
    /// Password, at least 8 characters and at most 72 bytes (bcrypt's limit; never truncated).
    #[garde(length(chars, min = 8), length(bytes, max = 72))]
    #[schema(min_length = 8, max_length = 72, format = Password)]
    pub password: String,
    /// Display name.
    #[garde(inner(length(chars, max = 200)))]
    #[schema(max_length = 200)]
    pub full_name: Option<String>,
    /// Make the user a superuser (default `false`).
    #[garde(skip)]
    #[serde(default)]
    pub is_superuser: bool,
    /// Create the account active (default `true`).
    // No `default` in the schema: generators read it as "always present" and would make
    // every client send the field.
    #[garde(skip)]
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

/// A superuser's partial update of any user.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
pub struct UserUpdate {
    /// New email address.
    #[garde(inner(email, length(max = 320)))]
    #[schema(nullable = false, format = Email, max_length = 320)]
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    pub email: Option<String>,
    /// New username.
    #[garde(inner(pattern(crate::username::RULE)))]
    #[schema(schema_with = crate::username::schema)]
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    pub username: Option<String>,
    /// New display name; `null` clears it.
    #[serde(default, deserialize_with = "kernel::nullable::double_option")]
    #[garde(inner(inner(length(chars, max = 200))))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub full_name: Option<Option<String>>,
    /// New password (revokes the user's refresh tokens).
    #[garde(inner(length(chars, min = 8), length(bytes, max = 72)))]
    #[schema(nullable = false, min_length = 8, max_length = 72, format = Password)]
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    pub password: Option<String>,
    /// Activate or deactivate the account.
    #[garde(skip)]
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    pub is_active: Option<bool>,
    /// Grant or withdraw superuser rights.
    #[garde(skip)]
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "kernel::nullable::reject_null")]
    pub is_superuser: Option<bool>,
}

/// A change of the caller's own password.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct PasswordChange {
    /// The password in use now.
    #[garde(length(bytes, min = 1, max = 72))]
    #[schema(format = Password, min_length = 1, max_length = 72)]
    pub current_password: String,
    /// The new password, at least 8 characters and at most 72 bytes.
    #[garde(length(chars, min = 8), length(bytes, max = 72))]
    #[schema(min_length = 8, max_length = 72, format = Password)]
    pub new_password: String,
}

/// Filters and paging of the user list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Substring of the email or username (case-insensitive).
    #[garde(inner(length(chars, max = 320)))]
    #[param(max_length = 320)]
    pub q: Option<String>,
    /// Page size.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Cursor from the previous page's `next_cursor`.
    #[garde(skip)]
    pub cursor: Option<String>,
}

/// The fields of a new account, whatever creates it (a route, the CLI, a library caller);
/// [`UserService::create`](crate::UserService::create) checks the same rules as [`UserCreate`].
#[derive(Debug, Clone, Validate)]
pub struct NewUser {
    /// Email address, any case.
    #[garde(email, length(max = 320))]
    pub email: String,
    /// Username.
    #[garde(pattern(crate::username::RULE))]
    pub username: String,
    /// Plain password (hashed by the service).
    #[garde(length(chars, min = 8), length(bytes, max = 72))]
    pub password: String,
    /// Display name.
    #[garde(inner(length(chars, max = 200)))]
    pub full_name: Option<String>,
    /// Superuser flag.
    #[garde(skip)]
    pub is_superuser: bool,
    /// Active flag.
    #[garde(skip)]
    pub is_active: bool,
}

impl From<UserCreate> for NewUser {
    fn from(c: UserCreate) -> Self {
        Self {
            email: c.email,
            username: c.username,
            password: c.password,
            full_name: c.full_name,
            is_superuser: c.is_superuser,
            is_active: c.is_active,
        }
    }
}

impl From<UserUpdateMe> for UserUpdate {
    fn from(u: UserUpdateMe) -> Self {
        Self {
            email: u.email,
            username: u.username,
            full_name: u.full_name,
            ..Default::default()
        }
    }
}

/// The file to show as the caller's avatar.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct AvatarSet {
    /// One of the caller's files uploaded with `purpose: avatar` (else a `422` naming it).
    #[garde(skip)]
    pub file_id: Uuid,
}
