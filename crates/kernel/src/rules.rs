//! Validation rules shared by several domains.

use garde::Validate;
use serde_json::{Map, Value};

use crate::FieldError;

/// Runs garde's rules on a value, listing every failing field: the one conversion of a
/// garde report, shared by the [`Valid`](crate::Valid) extractor and the services.
pub fn check<T: Validate>(value: &T) -> Result<(), Vec<FieldError>>
where
    T::Context: Default,
{
    value.validate().map_err(|report| {
        report
            .iter()
            .map(|(path, err)| FieldError::new(path.to_string(), err.message().to_string()))
            .collect()
    })
}

/// Why a text holding `\u0000` is refused: PostgreSQL cannot store it, so no database may.
/// The [`Valid`](crate::Valid) extractor refuses it in every body and query string; a
/// service that takes text by another way (a path segment, a library call) says the same.
pub const NUL_REFUSED: &str = "must not contain the NUL character (\\u0000)";

/// Most keys a `metadata` object may have.
pub const METADATA_KEYS_MAX: usize = 16;

/// garde rule: a `metadata` object has at most [`METADATA_KEYS_MAX`] keys.
pub fn metadata_keys(value: &Map<String, Value>, _: &()) -> garde::Result {
    if value.len() > METADATA_KEYS_MAX {
        return Err(garde::Error::new(format!("must have at most {METADATA_KEYS_MAX} keys")));
    }
    Ok(())
}

/// The OpenAPI mirror of [`metadata_keys`] for a request's `metadata` field: an object of at
/// most [`METADATA_KEYS_MAX`] keys, or `null` (read as `{}`: empty metadata).
pub fn metadata_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    metadata_object()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .description(Some(format!(
            "Free-form JSON object of at most {METADATA_KEYS_MAX} keys, any JSON value each; `null` means `{{}}`."
        )))
        .max_properties(Some(METADATA_KEYS_MAX))
        .examples([serde_json::json!({"team": "support"})])
        .build()
}

/// The OpenAPI schema of a stored `metadata` field in a response: always an object.
pub fn stored_metadata_schema() -> utoipa::openapi::Object {
    metadata_object()
        .description(Some("Free-form JSON object, any JSON value under each key."))
        .build()
}

/// An object whose keys hold any JSON value: said with `additionalProperties`, or
/// generators read a bare `{"type": "object"}` as an object that can hold nothing.
fn metadata_object() -> utoipa::openapi::schema::ObjectBuilder {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::<utoipa::openapi::schema::Schema>::FreeForm(
            true,
        )))
}
