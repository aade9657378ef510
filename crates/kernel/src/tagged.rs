//! Serde-tagged unions (event streams) and their OpenAPI schemas.
//!
//! [`tagged_union!`](crate::tagged_union) declares an enum serialized as
//! `{<tag>: "<name>", <content>: {...}}` together with the list of its [`Variant`]s, so
//! that the OpenAPI document is built from the same definition: a named schema per
//! variant and a `oneOf` of them with a `discriminator` on the tag, which generators turn
//! into a discriminated union. Adding a variant to the enum adds it to the document.

use std::borrow::Cow;

use utoipa::openapi::schema::{Discriminator, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};

/// Named schemas to add to the OpenAPI components, as `ToSchema::schemas` collects them.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// One variant of a union declared with [`tagged_union!`](crate::tagged_union).
#[derive(Debug, Clone)]
pub struct Variant {
    /// The value of the tag member (`"message.delta"`).
    pub tag: &'static str,
    /// The name of the variant's own schema (`"MessageDeltaEvent"`).
    pub schema_name: &'static str,
    /// The name of the schema of its content.
    pub content_name: Cow<'static, str>,
    /// Adds the content's schema, and those it references, to the components.
    pub register: fn(&mut Schemas),
}

impl Variant {
    /// A `$ref` to the schema of the variant's content.
    pub fn content_ref(&self) -> Ref {
        Ref::from_schema_name(self.content_name.clone())
    }
}

/// The schema of a tag member that holds exactly `tag`.
pub fn tag_schema(tag: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some([tag]))
}

/// A `oneOf` of every variant's schema (each a `$ref`), discriminated by `property`.
pub fn union_schema(property: &str, variants: &[Variant], description: &str) -> RefOr<Schema> {
    let mut discriminator = Discriminator::new(property);
    let mut one_of = OneOfBuilder::new().description(Some(description));
    for variant in variants {
        let reference = Ref::from_schema_name(variant.schema_name);
        discriminator
            .mapping
            .insert(variant.tag.to_owned(), reference.ref_location.clone());
        one_of = one_of.item(reference);
    }
    Schema::OneOf(one_of.discriminator(Some(discriminator)).build()).into()
}

/// Adds every variant's schema (built by `variant_schema`) and its content's schemas.
pub fn register_variants(
    schemas: &mut Schemas,
    variants: &[Variant],
    variant_schema: impl Fn(&Variant) -> RefOr<Schema>,
) {
    for variant in variants {
        schemas.push((variant.schema_name.to_owned(), variant_schema(variant)));
        (variant.register)(schemas);
    }
}

/// Declares a serde-tagged enum (`#[serde(tag = .., content = ..)]`), one tuple variant per
/// type, and its `tag()` and `variants()` (the OpenAPI description of every variant).
///
/// The attributes given must derive serde's `Serialize` (and `Deserialize` to read it
/// back). Each variant's schema is named `<prefix><Variant>Event`; its content type must
/// implement `utoipa::ToSchema`.
///
/// ```ignore
/// kernel::tagged_union! {
///     /// What happened.
///     #[derive(Debug, Clone, Serialize, Deserialize)]
///     pub enum Event: tag = "type", content = "data", schema_prefix = "" {
///         /// A piece of text.
///         MessageDelta(MessageDelta) = "message.delta",
///     }
/// }
/// ```
#[macro_export]
macro_rules! tagged_union {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: tag = $tag_member:literal, content = $content_member:literal, schema_prefix = $prefix:literal {
            $( $(#[doc = $doc:literal])* $variant:ident($content:ty) = $tag:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[serde(tag = $tag_member, content = $content_member)]
        $vis enum $name {
            $(
                $(#[doc = $doc])*
                #[serde(rename = $tag)]
                $variant($content),
            )+
        }

        impl $name {
            /// The value of this variant's tag member.
            pub fn tag(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $tag,)+
                }
            }

            /// The content (the `data` member), as JSON.
            pub fn content_value(&self) -> ::serde_json::Result<::serde_json::Value> {
                match self {
                    $(Self::$variant(content) => ::serde_json::to_value(content),)+
                }
            }

            /// The content (the `data` member), as JSON text.
            pub fn content_json(&self) -> ::serde_json::Result<::std::string::String> {
                match self {
                    $(Self::$variant(content) => ::serde_json::to_string(content),)+
                }
            }

            /// Every variant, for the OpenAPI document.
            pub fn variants() -> ::std::vec::Vec<$crate::tagged::Variant> {
                ::std::vec![$(
                    $crate::tagged::Variant {
                        tag: $tag,
                        schema_name: concat!($prefix, stringify!($variant), "Event"),
                        content_name: <$content as ::utoipa::ToSchema>::name(),
                        register: |schemas| {
                            schemas.push((
                                <$content as ::utoipa::ToSchema>::name().into_owned(),
                                <$content as ::utoipa::PartialSchema>::schema(),
                            ));
                            <$content as ::utoipa::ToSchema>::schemas(schemas);
                        },
                    },
                )+]
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;
    use utoipa::ToSchema;

    use super::*;

    /// Text.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    struct Piece {
        text: String,
    }

    /// Nothing.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
    struct Nothing {}

    crate::tagged_union! {
        /// A test union.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        enum Sample: tag = "kind", content = "body", schema_prefix = "Sample" {
            /// A piece.
            Piece(Piece) = "piece.added",
            /// The end.
            Done(Nothing) = "done",
        }
    }

    #[test]
    fn variants_serialize_adjacently_tagged_and_read_back() {
        let piece = Sample::Piece(Piece { text: "hi".into() });
        let value = serde_json::to_value(&piece).expect("serializes");
        assert_eq!(value, json!({"kind": "piece.added", "body": {"text": "hi"}}));
        assert_eq!(serde_json::from_value::<Sample>(value).expect("reads"), piece);
        let done = serde_json::to_value(Sample::Done(Nothing {})).expect("serializes");
        assert_eq!(
            done,
            json!({"kind": "done", "body": {}}),
            "an empty content is still sent"
        );
        assert_eq!(Sample::Done(Nothing {}).tag(), "done");
        assert_eq!(piece.content_json().expect("serializes"), r#"{"text":"hi"}"#);
        assert_eq!(piece.content_value().expect("serializes"), json!({"text": "hi"}));
    }

    #[test]
    fn the_union_schema_is_a_discriminated_one_of_named_variants() {
        let variants = Sample::variants();
        let union = serde_json::to_value(union_schema("kind", &variants, "A sample")).expect("serializes");
        assert_eq!(
            union["oneOf"],
            json!([
                {"$ref": "#/components/schemas/SamplePieceEvent"},
                {"$ref": "#/components/schemas/SampleDoneEvent"}
            ])
        );
        assert_eq!(union["discriminator"]["propertyName"], "kind");
        assert_eq!(
            union["discriminator"]["mapping"]["piece.added"],
            "#/components/schemas/SamplePieceEvent"
        );
        let mut schemas = Schemas::new();
        register_variants(&mut schemas, &variants, |v| {
            ObjectBuilder::new()
                .property("kind", tag_schema(v.tag))
                .property("body", v.content_ref())
                .into()
        });
        let names: Vec<&str> = schemas.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["SamplePieceEvent", "Piece", "SampleDoneEvent", "Nothing"]);
        let piece = serde_json::to_value(&schemas[0].1).expect("serializes");
        assert_eq!(piece["properties"]["kind"]["enum"], json!(["piece.added"]));
        assert_eq!(piece["properties"]["body"]["$ref"], "#/components/schemas/Piece");
    }
}
