//! PATCH semantics for nullable fields: absent = unchanged, `null` = clear.

use serde::{Deserialize, Deserializer};

/// Deserializes a present field (even `null`) as `Some(..)`; pair it with `#[serde(default)]`
/// so an absent field stays `None`. `Some(None)` then means "clear this field".
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
