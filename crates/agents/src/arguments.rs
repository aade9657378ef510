//! Tool `parameters` as JSON Schema (draft 2020-12): checked when a tool is written, and
//! used to check the arguments of each call a model makes.
//!
//! Nothing is ever fetched: a `$ref` must resolve inside the schema itself (or to a bundled
//! meta-schema); one that points elsewhere makes the schema invalid.

use jsonschema::{Draft, Validator};
use serde_json::Value;

/// Most failing paths a [`check`] error names.
const ERRORS_SHOWN: usize = 5;
/// Longest text of one failure in messages, in characters.
const MESSAGE_MAX: usize = 200;

/// Checks a call's arguments against a tool's parameters schema; Err: a short text for
/// the model naming the failing path(s).
pub fn check(parameters: &Value, arguments: &Value) -> Result<(), String> {
    if let Value::String(raw) = arguments {
        return Err(format!(
            "the arguments are not a JSON object (not valid JSON?): {}",
            shorten(raw)
        ));
    }
    let validator = compile(parameters).map_err(|err| format!("the tool's parameters schema cannot be used: {err}"))?;
    let failures: Vec<String> = validator
        .iter_errors(arguments)
        .take(ERRORS_SHOWN + 1)
        .map(|err| {
            format!(
                "at {}: {}",
                pointer(&err.instance_path().to_string()),
                shorten(&err.to_string())
            )
        })
        .collect();
    if failures.is_empty() {
        return Ok(());
    }
    let more = if failures.len() > ERRORS_SHOWN { "; …" } else { "" };
    let shown: Vec<&str> = failures.iter().take(ERRORS_SHOWN).map(String::as_str).collect();
    Err(format!(
        "the arguments do not match the tool's parameters: {}{more}",
        shown.join("; ")
    ))
}

/// Why `schema` is not a usable JSON Schema (draft 2020-12), if it is not: it breaks the
/// meta-schema, or it cannot be compiled (a `$ref` that does not resolve locally, a
/// `pattern` that is not a regular expression, …).
pub(crate) fn schema_problem(schema: &Value) -> Option<String> {
    if let Err(err) = jsonschema::draft202012::meta::validator().validate(schema) {
        return Some(format!(
            "is not a valid JSON Schema (draft 2020-12) at {}: {}",
            pointer(&err.instance_path().to_string()),
            shorten(&err.to_string())
        ));
    }
    compile(schema)
        .err()
        .map(|err| format!("is not a usable JSON Schema: {err}"))
}

/// The validator of `schema`, offline: a reference to anything outside it is an error.
fn compile(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .offline()
        .build(schema)
        .map_err(|err| shorten(&err.to_string()))
}

/// A JSON pointer for messages: the root reads `/`.
fn pointer(path: &str) -> String {
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

/// `text` cut to [`MESSAGE_MAX`] characters.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MESSAGE_MAX) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn weather() -> Value {
        json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
            "required": ["city"],
            "additionalProperties": false
        })
    }

    #[test]
    fn matching_arguments_pass() {
        assert_eq!(check(&weather(), &json!({"city": "Paris", "days": 2})), Ok(()));
        assert_eq!(check(&json!({"type": "object"}), &json!({})), Ok(()));
    }

    #[test]
    fn failures_name_their_paths() {
        let err = check(&weather(), &json!({"days": 0})).expect_err("two failures");
        assert!(err.contains("at /:") && err.contains("city"), "{err}");
        assert!(err.contains("at /days:"), "{err}");
        let err = check(&weather(), &json!({"city": 12})).expect_err("wrong type");
        assert!(err.contains("at /city:"), "{err}");
        let err = check(&weather(), &json!({"city": "x", "extra": 1})).expect_err("extra");
        assert!(err.contains("extra"), "{err}");
        let err = check(&weather(), &json!("{oops")).expect_err("not JSON");
        assert!(err.contains("not a JSON object") && err.contains("{oops"), "{err}");
    }

    #[test]
    fn bad_schemas_are_found_without_fetching_anything() {
        assert_eq!(schema_problem(&weather()), None);
        let local = json!({"type": "object", "$defs": {"c": {"type": "string"}}, "properties": {"city": {"$ref": "#/$defs/c"}}});
        assert_eq!(schema_problem(&local), None);
        let err = schema_problem(&json!({"type": "object", "properties": {"a": {"type": 12}}})).expect("bad type");
        assert!(err.contains("/properties/a/type"), "{err}");
        let remote = json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}});
        assert!(schema_problem(&remote).is_some());
        let relative = json!({"$id": "https://example.com/root.json", "type": "object", "properties": {"a": {"$ref": "other.json"}}});
        assert!(schema_problem(&relative).is_some());
        let pattern = json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(unclosed"}}});
        assert!(schema_problem(&pattern).is_some());
    }
}
