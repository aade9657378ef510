//! The limits of agents and tools, the garde rules that need code, and PATCH deserializers.

use serde_json::{Map, Value};

/// Longest agent name, in characters.
pub(crate) const NAME_MAX: usize = 100;
/// Longest description, in characters.
pub(crate) const DESCRIPTION_MAX: usize = 2000;
/// Longest system prompt, in characters.
pub(crate) const SYSTEM_PROMPT_MAX: usize = 32000;
/// Largest `max_tokens`.
pub(crate) const MAX_TOKENS_MAX: u32 = 200_000;
/// Most ids in `tool_ids` or `subagent_ids`.
pub(crate) const LINKS_MAX: usize = 128;
/// Largest serialized tool `parameters`, in bytes.
pub(crate) const PARAMETERS_BYTES_MAX: usize = 16 * 1024;
/// Default sampling temperature.
pub(crate) const DEFAULT_TEMPERATURE: f64 = 0.7;

pub(crate) fn default_temperature() -> f64 {
    DEFAULT_TEMPERATURE
}

/// garde rule: the text does not start or end with whitespace.
pub(crate) fn no_surrounding_whitespace(value: &str, _: &()) -> garde::Result {
    if value.trim() != value {
        return Err(garde::Error::new("must not start or end with whitespace"));
    }
    Ok(())
}

/// The OpenAPI mirror of [`object_schema`]: an object whose `"type"` is `"object"`, with
/// `"properties"` an object and `"required"` an array of strings when present (the
/// 16 KiB bound is in the description).
pub(crate) fn object_schema_spec() -> utoipa::openapi::Object {
    json_schema_object(
        r#"JSON Schema (draft 2020-12) of the tool's arguments: an object schema (`{"type":"object",...}`), at most 16 KiB serialized, valid against the 2020-12 meta-schema; every `$ref` must resolve within the schema (nothing is fetched)."#,
    )
}

/// The OpenAPI schema of a stored tool's `parameters`: what [`object_schema_spec`] accepted.
pub(crate) fn stored_object_schema_spec() -> utoipa::openapi::Object {
    json_schema_object("JSON Schema of the tool's arguments (`{\"type\":\"object\",...}`).")
}

/// A JSON Schema of an object, open to every other JSON Schema keyword: each key says what it
/// holds (`additionalProperties`), since generators read a bare `{"type": "object"}` as an
/// object that can hold nothing.
fn json_schema_object(description: &str) -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, Type};
    let any = || Some(AdditionalProperties::<Schema>::FreeForm(true));
    let argument_schema = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some("The JSON Schema of one argument."))
        .additional_properties(any());
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .examples([serde_json::json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        })])
        .property(
            "type",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["object"])),
        )
        .property(
            "properties",
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("The arguments by name."))
                .additional_properties(Some(argument_schema)),
        )
        .property(
            "required",
            ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)),
        )
        .required("type")
        .additional_properties(any())
        .build()
}

/// garde rule: a JSON Schema of an object (`{"type":"object",...}`) of at most 16 KiB,
/// valid against the draft 2020-12 meta-schema, whose references all resolve within it.
pub(crate) fn object_schema(value: &Map<String, Value>, _: &()) -> garde::Result {
    if value.get("type").and_then(Value::as_str) != Some("object") {
        return Err(garde::Error::new(r#"must be a JSON Schema with "type": "object""#));
    }
    // Each property is itself a JSON Schema, so an object (as the OpenAPI document says).
    let properties_ok = |p: &Value| p.as_object().is_some_and(|props| props.values().all(Value::is_object));
    if value.get("properties").is_some_and(|p| !properties_ok(p)) {
        return Err(garde::Error::new(
            r#""properties" must be an object of JSON Schema objects"#,
        ));
    }
    let required_ok = |r: &Value| r.as_array().is_some_and(|items| items.iter().all(Value::is_string));
    if value.get("required").is_some_and(|r| !required_ok(r)) {
        return Err(garde::Error::new(r#""required" must be an array of strings"#));
    }
    let size = serde_json::to_vec(value).map(|bytes| bytes.len()).unwrap_or(usize::MAX);
    if size > PARAMETERS_BYTES_MAX {
        return Err(garde::Error::new(format!(
            "must be at most {PARAMETERS_BYTES_MAX} bytes serialized"
        )));
    }
    match crate::arguments::schema_problem(&Value::Object(value.clone())) {
        Some(problem) => Err(garde::Error::new(problem)),
        None => Ok(()),
    }
}

pub(crate) use kernel::nullable::{null_as_default, reject_null as non_null};
pub(crate) use kernel::rules::metadata_keys;
