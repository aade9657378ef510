//! OpenAPI pieces that derives cannot say: audio bytes as a binary string.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

/// Audio bytes in the response's `Content-Type` (`audio/mpeg`, `audio/wav` or
/// `audio/ogg; codecs=opus`).
pub struct AudioBytes;

impl utoipa::PartialSchema for AudioBytes {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("The audio, streamed."))
            .into()
    }
}

impl utoipa::ToSchema for AudioBytes {}
