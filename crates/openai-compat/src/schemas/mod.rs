//! OpenAI's published shapes, as `/v1` reads and writes them: models, chat completions
//! (request, answer, streamed chunks) and the error object. Each garde rule is mirrored in
//! `#[schema]` so generated clients know it.

pub mod chat;
pub mod completion;
pub mod error;
pub mod models;
pub mod responses;

/// `created` as OpenAI writes it: Unix seconds.
pub fn unix_seconds(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp()
}

/// The OpenAPI schema of an object holding any JSON value under each key, or `null`.
pub(crate) fn any_object() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(true)))
        .build()
}

/// The OpenAPI schema of an array of [`any_object`]s, or `null`.
pub(crate) fn any_objects() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, SchemaType, Type};
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(any_object())
        .build()
}
