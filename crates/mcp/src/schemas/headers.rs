//! The headers of an MCP server: sent with every request to it, write-only (shown as
//! `•••`), values may hold `{{secret:NAME}}`. The same rules as an HTTP tool's headers
//! (`outbound::http_tool::check_header`), plus the headers the MCP transport sets itself.

use std::collections::BTreeMap;

use garde::Validate;
use serde::Deserialize;

pub use outbound::http_tool::{HEADER_VALUE_MAX, HEADERS_MAX, MASK};

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
        for (name, message) in outbound::http_tool::stored_header_problems(&self.0, SET_BY_THE_TRANSPORT) {
            let path = match name {
                Some(name) => parent().join(name.as_str()),
                None => parent(),
            };
            report.append(path, garde::Error::new(message));
        }
    }
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
        let headers = BTreeMap::from([(name.to_owned(), value.to_owned())]);
        outbound::http_tool::stored_header_problems(&headers, SET_BY_THE_TRANSPORT)
            .into_iter()
            .next()
            .map(|(_, message)| message)
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
