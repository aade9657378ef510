//! What a tool is and how it runs: [`ToolKind`], [`ToolApproval`], and the HTTP call of an
//! `http` tool ([`HttpSpecInput`] as written, [`HttpSpec`] as stored and shown, its header
//! values masked in responses).

use std::collections::BTreeMap;

use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules::null_as_default;

/// Who runs a tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolKind {
    /// The caller's own program: the run pauses in `requires_action` and waits for the output.
    #[default]
    Client,
    /// The server calls the HTTP endpoint described by the tool's `http`.
    Http,
}

impl ToolKind {
    /// The lowercase wire name (`"client"`, `"http"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Http => "http",
        }
    }
}

/// Whether a person approves each call before it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolApproval {
    /// Calls run without asking.
    #[default]
    Never,
    /// Every call waits for a person to approve, deny, edit or answer it.
    Always,
}

impl ToolApproval {
    /// The lowercase wire name (`"never"`, `"always"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Always => "always",
        }
    }
}

/// The HTTP method of an `http` tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `GET`: the arguments not in the URL go in the query string.
    Get,
    /// `POST`: the arguments not in the URL are the JSON body.
    Post,
    /// `PUT`: the arguments not in the URL are the JSON body.
    Put,
    /// `PATCH`: the arguments not in the URL are the JSON body.
    Patch,
    /// `DELETE`: the arguments not in the URL go in the query string.
    Delete,
}

impl HttpMethod {
    /// The method's name (`"GET"`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// Longest `url`, in characters.
pub const URL_MAX: usize = 2048;
/// `timeout_ms` when absent.
pub const DEFAULT_TIMEOUT_MS: u32 = 15_000;
/// Largest `timeout_ms`.
pub const TIMEOUT_MS_MAX: u32 = 60_000;
/// `max_response_bytes` when absent.
pub const DEFAULT_MAX_RESPONSE_BYTES: u32 = 65_536;
/// Largest `max_response_bytes`.
pub const MAX_RESPONSE_BYTES_MAX: u32 = 1_048_576;
pub use outbound::http_tool::{HEADER_VALUE_MAX, HEADERS_MAX, MASK};

/// The HTTP call of an `http` tool, as written in a create or update body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Validate, ToSchema)]
pub struct HttpSpecInput {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    #[garde(skip)]
    pub method: HttpMethod,
    /// The absolute `http` or `https` URL, at most 2048 characters; `{param}` placeholders
    /// are filled from the call's arguments (percent-encoded).
    #[garde(length(chars, max = URL_MAX), custom(http_url))]
    #[schema(max_length = 2048, example = "https://api.example.com/weather/{city}")]
    pub url: String,
    /// Headers sent with every call (at most 32, values at most 4096 bytes); a value may hold
    /// `{{secret:NAME}}`, replaced at call time by the caller's secret `NAME`. A value of
    /// exactly `•••` in a PATCH keeps the header's stored value. Absent or `null`: none.
    #[serde(default, deserialize_with = "null_as_default")]
    #[garde(dive)]
    #[schema(schema_with = headers_input_schema)]
    pub headers: HttpHeaders,
    /// Time limit of one call in milliseconds, 1..=60000; absent: 15000.
    #[garde(inner(range(min = 1, max = TIMEOUT_MS_MAX)))]
    #[schema(minimum = 1, maximum = 60000)]
    pub timeout_ms: Option<u32>,
    /// Largest response body kept (the rest is cut), 1..=1048576 bytes; absent: 65536.
    #[garde(inner(range(min = 1, max = MAX_RESPONSE_BYTES_MAX)))]
    #[schema(minimum = 1, maximum = 1048576)]
    pub max_response_bytes: Option<u32>,
}

/// The OpenAPI schema of the headers of an [`HttpSpecInput`]: at most 32 names, each with a
/// string value of at most 4096 bytes, or `null`.
fn headers_input_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
    let value = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(HEADER_VALUE_MAX));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .description(Some(
            "Headers sent with every call: at most 32, values at most 4096 bytes; a value may hold \
             `{{secret:NAME}}` (NAME of 1 to 64 letters, digits or `_`), replaced at call time by the \
             caller's secret. In a PATCH, a value of exactly `•••` keeps that header's stored value. \
             Absent or `null`: none.",
        ))
        .max_properties(Some(HEADERS_MAX))
        .additional_properties(Some(AdditionalProperties::RefOr(value.into())))
        .examples([serde_json::json!({"Authorization": "Bearer {{secret:WEATHER_KEY}}"})])
        .build()
}

/// The headers of an [`HttpSpecInput`]: each is checked by name, so an error names
/// `http.headers.<Header-Name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct HttpHeaders(pub BTreeMap<String, String>);

impl Validate for HttpHeaders {
    type Context = ();

    fn validate_into(&self, _: &(), parent: &mut dyn FnMut() -> garde::Path, report: &mut garde::Report) {
        for (name, message) in outbound::http_tool::stored_header_problems(&self.0, &[]) {
            let path = match name {
                Some(name) => parent().join(name.as_str()),
                None => parent(),
            };
            report.append(path, garde::Error::new(message));
        }
    }
}

/// garde rule: an absolute `http` or `https` URL with a host, without surrounding whitespace.
fn http_url(value: &str, _: &()) -> garde::Result {
    if value.trim() != value {
        return Err(garde::Error::new("must not start or end with whitespace"));
    }
    let url = url::Url::parse(value).map_err(|err| garde::Error::new(format!("is not an absolute URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(garde::Error::new("must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(garde::Error::new("must name a host"));
    }
    Ok(())
}

/// The HTTP call of an `http` tool, as stored (defaults filled in). In a response every
/// header value is `•••`: values are write-only, since they may hold credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HttpSpec {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: HttpMethod,
    /// The absolute `http` or `https` URL, with `{param}` placeholders.
    #[schema(example = "https://api.example.com/weather/{city}")]
    pub url: String,
    /// The headers sent with every call; in responses each value reads `•••`.
    #[schema(example = json!({"Authorization": "•••"}))]
    pub headers: BTreeMap<String, String>,
    /// Time limit of one call, in milliseconds.
    #[schema(minimum = 1, maximum = 60000)]
    pub timeout_ms: u32,
    /// Largest response body kept, in bytes.
    #[schema(minimum = 1, maximum = 1048576)]
    pub max_response_bytes: u32,
}

impl HttpSpec {
    /// This spec as a response shows it: every header value replaced by `•••`.
    pub fn masked(mut self) -> Self {
        for value in self.headers.values_mut() {
            *value = MASK.to_owned();
        }
        self
    }

    /// The spec to store for `input`, defaults filled in. A header value `•••` keeps the
    /// header's value in `stored`; `Err` names each header that has none to keep.
    pub(crate) fn from_input(input: HttpSpecInput, stored: Option<&HttpSpec>) -> Result<Self, Vec<String>> {
        let mut unknown = Vec::new();
        let mut headers = BTreeMap::new();
        for (name, value) in input.headers.0 {
            if value == MASK {
                match stored.and_then(|spec| spec.headers.get(&name)) {
                    Some(kept) => headers.insert(name, kept.clone()),
                    None => {
                        unknown.push(name);
                        continue;
                    }
                };
            } else {
                headers.insert(name, value);
            }
        }
        if !unknown.is_empty() {
            return Err(unknown);
        }
        Ok(Self {
            method: input.method,
            url: input.url,
            headers,
            timeout_ms: input.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            max_response_bytes: input.max_response_bytes.unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_keep_the_stored_ones() {
        let stored = HttpSpec {
            method: HttpMethod::Get,
            url: "https://x.example".into(),
            headers: BTreeMap::from([("A".to_owned(), "secret".to_owned())]),
            timeout_ms: 1,
            max_response_bytes: 1,
        };
        let input = |value: &str, name: &str| HttpSpecInput {
            method: HttpMethod::Post,
            url: "https://y.example".into(),
            headers: HttpHeaders(BTreeMap::from([(name.to_owned(), value.to_owned())])),
            timeout_ms: None,
            max_response_bytes: None,
        };
        let kept = HttpSpec::from_input(input(MASK, "A"), Some(&stored)).expect("kept");
        assert_eq!(kept.headers["A"], "secret");
        assert_eq!(kept.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(kept.clone().masked().headers["A"], MASK);
        assert_eq!(
            HttpSpec::from_input(input(MASK, "B"), Some(&stored)),
            Err(vec!["B".to_owned()])
        );
        assert_eq!(HttpSpec::from_input(input(MASK, "A"), None), Err(vec!["A".to_owned()]));
    }
}
