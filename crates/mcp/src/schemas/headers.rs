//! The headers of an MCP server: sent with every request to it, write-only (shown as
//! `•••`), values may hold `{{secret:NAME}}`. The same rules as an HTTP tool's headers
//! (`outbound::http_tool::check_header`), plus the headers the MCP transport sets itself.

use std::collections::BTreeMap;

use garde::Validate;
use serde::Deserialize;

/// Most headers of a server.
pub const HEADERS_MAX: usize = 32;
/// Longest header value, in bytes.
pub const HEADER_VALUE_MAX: usize = 4096;
/// What a response shows instead of each header value (as for HTTP tools); sent back in a
/// PATCH, it keeps the stored value of that header.
pub const MASK: &str = "•••";

/// Headers the MCP transport sets itself (content negotiation and the session).
const SET_BY_THE_TRANSPORT: &[&str] = &[
    "accept",
    "content-type",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
];

/// The headers of a create or update body, checked by name, so an error names
/// `headers.<Header-Name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct McpHeaders(pub BTreeMap<String, String>);

impl Validate for McpHeaders {
    type Context = ();

    fn validate_into(&self, _: &(), parent: &mut dyn FnMut() -> garde::Path, report: &mut garde::Report) {
        if self.0.len() > HEADERS_MAX {
            report.append(
                parent(),
                garde::Error::new(format!("must have at most {HEADERS_MAX} headers")),
            );
        }
        let mut seen: Vec<String> = Vec::new();
        for (name, value) in &self.0 {
            let lower = name.to_ascii_lowercase();
            let problem = if seen.contains(&lower) {
                Some("is given twice (header names ignore case)".to_owned())
            } else {
                header_problem(name, value)
            };
            seen.push(lower);
            if let Some(message) = problem {
                report.append(parent().join(name.as_str()), garde::Error::new(message));
            }
        }
    }
}

/// Why a header cannot be stored, if it cannot.
fn header_problem(name: &str, value: &str) -> Option<String> {
    if SET_BY_THE_TRANSPORT.contains(&name.to_ascii_lowercase().as_str()) {
        return Some(format!(
            "the header `{name}` is set by the MCP transport itself and cannot be given"
        ));
    }
    if value == MASK {
        // Resolved against the stored value by the service.
        return outbound::http_tool::check_header(name, "x").err();
    }
    if value.len() > HEADER_VALUE_MAX {
        return Some(format!("the value must be at most {HEADER_VALUE_MAX} bytes"));
    }
    if value.contains('\0') {
        return Some("the value must not contain the NUL character (\\u0000)".to_owned());
    }
    if let Some(problem) = secret_reference_problem(value) {
        return Some(problem);
    }
    outbound::http_tool::check_header(name, value).err()
}

/// Every `{{secret:` must open a reference `{{secret:NAME}}` with NAME `^[A-Za-z0-9_]{1,64}$`.
fn secret_reference_problem(value: &str) -> Option<String> {
    const OPEN: &str = "{{secret:";
    let mut rest = value;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let name = after.split("}}").next().unwrap_or_default();
        let closed = after.len() > name.len();
        let valid = (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !closed || !valid {
            return Some(
                "holds a malformed secret reference: write `{{secret:NAME}}`, NAME of 1 to 64 letters, digits or `_`"
                    .to_owned(),
            );
        }
        rest = &after[name.len() + 2..];
    }
    None
}

/// The OpenAPI schema of the headers of a body: at most 32 names, each with a string value
/// of at most 4096 bytes, or `null`.
pub(crate) fn headers_input_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
    let value = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(HEADER_VALUE_MAX));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .description(Some(
            "Headers sent with every request to the server: at most 32, values at most 4096 bytes; \
             a value may hold `{{secret:NAME}}` (NAME of 1 to 64 letters, digits or `_`), replaced \
             by the caller's secret whenever the server is contacted. `Accept`, `Content-Type`, \
             `Mcp-Session-Id`, `Mcp-Protocol-Version` and `Last-Event-ID` are set by the transport. \
             In a PATCH, a value of exactly `•••` keeps that header's stored value. Absent or `null`: none.",
        ))
        .max_properties(Some(HEADERS_MAX))
        .additional_properties(Some(AdditionalProperties::RefOr(value.into())))
        .examples([serde_json::json!({"Authorization": "Bearer {{secret:GITHUB_TOKEN}}"})])
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(name: &str, value: &str) -> Option<String> {
        header_problem(name, value)
    }

    #[test]
    fn transport_and_framing_headers_and_bad_references_are_refused() {
        assert_eq!(problems("Authorization", "Bearer {{secret:KEY}}"), None);
        assert_eq!(problems("X-Key", MASK), None);
        for name in ["Accept", "mcp-session-id", "Host", "Content-Length"] {
            assert!(problems(name, "x").is_some_and(|p| p.contains(name)), "{name}");
        }
        assert!(problems("X", "{{secret:bad name}}").is_some());
        assert!(problems("X", &"a".repeat(HEADER_VALUE_MAX + 1)).is_some());
    }
}
