//! Bodies of the `/api-keys` routes: [`ApiKeyCreate`], the once-only [`ApiKeyCreated`],
//! and the [`ApiKey`] every later read shows (never the key).

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::entities::api_key;

/// Longest key name, in characters.
pub const NAME_MAX: usize = 100;

/// A new API key.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct ApiKeyCreate {
    /// A label to recognise the key by, 1 to 100 characters.
    #[garde(length(chars, min = 1, max = NAME_MAX), custom(no_nul))]
    #[schema(min_length = 1, max_length = 100, example = "CI pipeline")]
    pub name: String,
    /// When the key stops working (RFC 3339, in the future); `null` or absent: never.
    #[garde(inner(custom(in_the_future)))]
    #[schema(example = "2027-01-01T00:00:00Z")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// garde rule: no NUL character (no database may hold what PostgreSQL cannot).
fn no_nul(value: &str, _: &()) -> garde::Result {
    if value.contains('\0') {
        return Err(garde::Error::new("must not contain the NUL character (\\u0000)"));
    }
    Ok(())
}

/// garde rule: the instant is still to come.
fn in_the_future(value: &DateTime<Utc>, _: &()) -> garde::Result {
    if *value <= kernel::clock::now() {
        return Err(garde::Error::new("must be in the future"));
    }
    Ok(())
}

/// An API key as every read shows it: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    /// UUID v7.
    pub id: Uuid,
    /// The key's label.
    pub name: String,
    /// The key's first 12 characters (`agk_` and 8 more), to recognise it by.
    #[schema(example = "agk_3xAmPl3Q")]
    pub prefix: String,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// When the key stops working; `null`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last time the key authenticated a request, to the minute; `null`: never used.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<api_key::Model> for ApiKey {
    fn from(m: api_key::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            prefix: m.prefix,
            created_at: m.created_at,
            expires_at: m.expires_at,
            last_used_at: m.last_used_at,
        }
    }
}

/// A key just created: the only answer that ever carries `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiKeyCreated {
    /// UUID v7.
    pub id: Uuid,
    /// The key's label.
    pub name: String,
    /// The key's first 12 characters.
    #[schema(example = "agk_3xAmPl3Q")]
    pub prefix: String,
    /// The secret, for `Authorization: Bearer`: `agk_` and 43 random characters. Shown
    /// only here; store it now.
    #[schema(example = "agk_3xAmPl3QkVYd0b5n8m2C1sR9tJ4wZ6uH7pL0aE-fGi_")]
    pub key: String,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// When the key stops working; `null`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Always `null` for a new key.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKeyCreated {
    /// The response to a creation: the stored row and the key it hashes.
    pub fn new(model: api_key::Model, key: String) -> Self {
        Self {
            id: model.id,
            name: model.name,
            prefix: model.prefix,
            key,
            created_at: model.created_at,
            expires_at: model.expires_at,
            last_used_at: model.last_used_at,
        }
    }
}

/// Paging of the key list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApiKeyListQuery {
    /// Page size.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Cursor from the previous page's `next_cursor`.
    #[garde(skip)]
    pub cursor: Option<String>,
}
