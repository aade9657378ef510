//! [`SecretPut`], [`SecretInfo`] and [`SecretList`].

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::entities::secret;

/// The value of a secret to create or replace; the name is in the path. A `422` names
/// every failing field: `name`, `value`, or both.
// The rules (1 to 8192 bytes of UTF-8, no NUL) are the service's, checked together with
// the name's; the extractor only refuses NUL, as in every body.
#[derive(Clone, Deserialize, Validate, ToSchema)]
pub struct SecretPut {
    /// The value: 1 to 8192 bytes of UTF-8 text. It is stored encrypted and never shown again.
    #[garde(skip)]
    #[schema(min_length = 1, max_length = 8192, example = "sk-live-1234")]
    pub value: String,
}

impl std::fmt::Debug for SecretPut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretPut").field("value", &"•••").finish()
    }
}

/// A secret as reads show it: its name and times, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecretInfo {
    /// The name, `^[A-Za-z0-9_]{1,64}$`, as used in `{{secret:NAME}}`.
    #[schema(example = "GITHUB_TOKEN")]
    pub name: String,
    /// First write (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// Last write (RFC 3339, UTC).
    pub updated_at: DateTime<Utc>,
}

impl From<secret::Model> for SecretInfo {
    fn from(m: secret::Model) -> Self {
        Self {
            name: m.name,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// The caller's secrets, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecretList {
    /// Every secret of the caller, ordered by name.
    pub items: Vec<SecretInfo>,
}
