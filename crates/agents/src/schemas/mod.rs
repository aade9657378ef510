//! Request and response bodies of the agent and tool routes, with their validation rules.
//!
//! Each garde rule is mirrored in `#[schema(...)]` so generated clients know the limits;
//! rules that need the database or the configuration (providers, linked ids) live in the service.

mod agent;
mod http;
mod rules;
mod tool;

pub use agent::{Agent, AgentCreate, AgentUpdate};
pub use http::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_MS, HttpHeaders, HttpMethod, HttpSpec, HttpSpecInput, MASK,
    ToolApproval, ToolKind,
};
pub(crate) use tool::{HTTP_REFUSED, HTTP_REQUIRED};
pub use tool::{Tool, ToolCreate, ToolUpdate};

use garde::Validate;
use serde::Deserialize;
use utoipa::IntoParams;

/// Filters and paging of the agent and tool lists.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Substring of the name (case-insensitive).
    #[garde(inner(length(chars, max = 100)))]
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Page size.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Cursor from the previous page's `next_cursor`.
    #[garde(skip)]
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use utoipa::PartialSchema;

    use super::*;

    fn spec<T: PartialSchema>() -> Value {
        serde_json::to_value(T::schema()).expect("a schema serializes")
    }

    #[test]
    fn limits_are_mirrored_in_the_openapi_schema() {
        let create = spec::<AgentCreate>();
        assert_eq!(create["required"], json!(["name", "model"]));
        assert_eq!(create["properties"]["name"]["maxLength"], 100);
        assert_eq!(create["properties"]["model"]["pattern"], "^[A-Za-z0-9._:/-]{1,100}$");
        assert_eq!(create["properties"]["temperature"]["maximum"], 2.0);
        // A `default` would make generated request types require the field.
        assert!(create["properties"]["temperature"].get("default").is_none());
        assert_eq!(create["properties"]["max_tokens"]["maximum"], 200000);
        assert_eq!(create["properties"]["system_prompt"]["maxLength"], 32000);
        let tool = spec::<ToolCreate>();
        assert_eq!(tool["properties"]["name"]["pattern"], "^[A-Za-z0-9_-]{1,64}$");
        assert_eq!(tool["properties"]["parameters"]["type"], "object");
    }

    #[test]
    fn patch_fields_are_optional_and_only_clearable_ones_nullable() {
        let update = spec::<AgentUpdate>();
        assert!(update.get("required").is_none());
        assert_eq!(update["properties"]["name"]["type"], "string");
        assert_eq!(update["properties"]["temperature"]["type"], "number");
        assert_eq!(update["properties"]["description"]["type"], json!(["string", "null"]));
        let update = spec::<ToolUpdate>();
        assert!(update.get("required").is_none());
        assert_eq!(update["properties"]["parameters"]["type"], "object");
    }
}
