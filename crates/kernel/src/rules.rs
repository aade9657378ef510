//! Validation rules shared by several domains.

use serde_json::{Map, Value};

/// Most keys a `metadata` object may have.
pub const METADATA_KEYS_MAX: usize = 16;

/// garde rule: a `metadata` object has at most [`METADATA_KEYS_MAX`] keys.
pub fn metadata_keys(value: &Map<String, Value>, _: &()) -> garde::Result {
    if value.len() > METADATA_KEYS_MAX {
        return Err(garde::Error::new(format!("must have at most {METADATA_KEYS_MAX} keys")));
    }
    Ok(())
}
