//! HTTP tools (`kind: "http"`): one call's arguments and the caller's secrets become an
//! [`OutboundRequest`]; its outcome becomes the text given to the model.

mod secrets;
mod stored;
mod template;

use std::time::Duration;

use reqwest::Method;
use serde_json::{Map, Value};
use url::Url;

use crate::headers::parse_header;
use crate::{OutboundError, OutboundRequest, OutboundResponse};

pub use secrets::secret_names;
pub use stored::{HEADER_VALUE_MAX, HEADERS_MAX, MASK, stored_header_problems};

/// Builds the request of one HTTP-tool call: `{param}` placeholders in `url_template` filled
/// from `arguments` (percent-encoded as a path segment; a missing placeholder argument is an
/// error naming it), the other arguments as the JSON body (POST/PUT/PATCH) or the query
/// string (GET/DELETE; strings as-is, other values as JSON text), header values with
/// `{{secret:NAME}}` replaced from `secrets` (a missing secret is an error
/// "the secret `NAME` is not set" — the name, never a value).
pub fn prepare(
    method: &str,
    url_template: &str,
    headers: &[(String, String)],
    arguments: &Map<String, Value>,
    secrets: &dyn Fn(&str) -> Option<String>,
    timeout: Duration,
    max_response_bytes: usize,
) -> Result<OutboundRequest, String> {
    let method = match method.to_ascii_uppercase().as_str() {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "PUT" => Method::PUT,
        "PATCH" => Method::PATCH,
        "DELETE" => Method::DELETE,
        _ => return Err(format!("the method `{method}` is not supported")),
    };
    let (url_text, used) = template::fill(url_template, arguments)?;
    let mut url = Url::parse(&url_text).map_err(|err| format!("the URL is not valid: {err}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "the URL scheme `{}` is not allowed (only http and https)",
            url.scheme()
        ));
    }
    let mut rest = arguments.clone();
    rest.retain(|name, _| !used.contains(name));
    let json_body = if matches!(method, Method::GET | Method::DELETE) {
        if !rest.is_empty() {
            let mut query = url.query_pairs_mut();
            for (name, value) in &rest {
                query.append_pair(name, &template::plain_text(value));
            }
        }
        None
    } else {
        Some(Value::Object(rest))
    };
    let headers = fill_headers(headers, secrets)?;
    Ok(OutboundRequest {
        method,
        url,
        headers,
        json_body,
        timeout,
        max_response_bytes,
    })
}

/// Header values with every `{{secret:NAME}}` replaced from `secrets`, each header checked
/// as [`prepare`] does (for callers sending their own requests, such as the MCP transport);
/// a missing secret or a header that cannot be sent is an error naming it, never a value.
pub fn fill_headers(
    headers: &[(String, String)],
    secrets: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, String> {
    headers
        .iter()
        .map(|(name, value)| {
            check_header(name, value)?;
            let value = secrets::fill(value, secrets)?;
            parse_header(name, &value)?;
            Ok((name.clone(), value))
        })
        .collect()
}

/// Whether a tool's header can be sent, as written (a `{{secret:NAME}}` reference counts
/// as text): a valid name the client does not set itself (`Host`, `Content-Length`,
/// `Transfer-Encoding`, `Connection`, …) and a value of visible characters. For checking a
/// tool when it is saved; the error names the header, never the value.
pub fn check_header(name: &str, value: &str) -> Result<(), String> {
    parse_header(name, value).map(|_| ())
}

/// The text given to the model for an outcome: the body for 2xx; otherwise an error text
/// with the status (and the cut body), "timed out after N ms", "refused: HOST is an
/// internal address", …; returns (text, is_error).
pub fn result_text(outcome: &Result<OutboundResponse, OutboundError>) -> (String, bool) {
    match outcome {
        Ok(response) if (200..300).contains(&response.status) => (response.body.clone(), false),
        Ok(response) => {
            let reason = reqwest::StatusCode::from_u16(response.status)
                .ok()
                .and_then(|status| status.canonical_reason())
                .map(|reason| format!(" {reason}"))
                .unwrap_or_default();
            let mut text = format!("the endpoint answered HTTP {}{reason}", response.status);
            if !response.body.trim().is_empty() {
                text.push_str(": ");
                text.push_str(&response.body);
            }
            (text, true)
        }
        Err(err) => (err.to_string(), true),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn arguments(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("an object"),
        }
    }

    fn no_secrets(_: &str) -> Option<String> {
        None
    }

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn get_puts_the_other_arguments_in_the_query() {
        let args = arguments(json!({"city": "São Paulo", "days": 3, "units": "metric", "tags": ["a", "b"]}));
        let request = prepare(
            "get",
            "https://x.example/weather/{city}?v=1",
            &[],
            &args,
            &no_secrets,
            SECOND,
            10,
        )
        .expect("prepared");
        assert_eq!(request.method, Method::GET);
        assert_eq!(request.url.path(), "/weather/S%C3%A3o%20Paulo");
        let mut query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        assert_eq!(
            query.remove(0),
            ("v".to_owned(), "1".to_owned()),
            "the template's query comes first"
        );
        query.sort();
        assert_eq!(
            query,
            [
                ("days".to_owned(), "3".to_owned()),
                ("tags".to_owned(), r#"["a","b"]"#.to_owned()),
                ("units".to_owned(), "metric".to_owned()),
            ]
        );
        assert_eq!(request.json_body, None);
        assert_eq!(request.timeout, SECOND);
        assert_eq!(request.max_response_bytes, 10);
    }

    #[test]
    fn a_get_without_other_arguments_keeps_the_url() {
        let args = arguments(json!({"id": 5}));
        let request = prepare(
            "DELETE",
            "http://x.example/items/{id}",
            &[],
            &args,
            &no_secrets,
            SECOND,
            10,
        )
        .expect("prepared");
        assert_eq!(request.url.as_str(), "http://x.example/items/5");
    }

    #[test]
    fn post_puts_the_other_arguments_in_the_body() {
        let args = arguments(json!({"id": "a b", "title": "hi", "count": 2}));
        for method in ["POST", "PUT", "PATCH"] {
            let request = prepare(
                method,
                "https://x.example/items/{id}",
                &[],
                &args,
                &no_secrets,
                SECOND,
                10,
            )
            .expect("prepared");
            assert_eq!(request.method.as_str(), method);
            assert_eq!(request.url.as_str(), "https://x.example/items/a%20b");
            assert_eq!(request.json_body, Some(json!({"title": "hi", "count": 2})));
        }
        let request = prepare(
            "POST",
            "https://x.example/ping",
            &[],
            &Map::new(),
            &no_secrets,
            SECOND,
            10,
        )
        .expect("prepared");
        assert_eq!(request.json_body, Some(json!({})));
    }

    #[test]
    fn secrets_fill_header_values() {
        let headers = vec![
            ("Authorization".to_owned(), "Bearer {{secret:TOKEN}}".to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        let secrets = |name: &str| (name == "TOKEN").then(|| "t0ken".to_owned());
        let request =
            prepare("GET", "https://x.example/", &headers, &Map::new(), &secrets, SECOND, 10).expect("prepared");
        assert_eq!(
            request.headers,
            [
                ("Authorization".to_owned(), "Bearer t0ken".to_owned()),
                ("Accept".to_owned(), "application/json".to_owned()),
            ]
        );
        assert_eq!(secret_names(&headers), ["TOKEN"]);
    }

    #[test]
    fn mistakes_are_named() {
        let headers = vec![("Authorization".to_owned(), "Bearer {{secret:TOKEN}}".to_owned())];
        let err = prepare(
            "GET",
            "https://x.example/",
            &headers,
            &Map::new(),
            &no_secrets,
            SECOND,
            10,
        )
        .expect_err("missing secret");
        assert_eq!(err, "the secret `TOKEN` is not set");

        let err = prepare(
            "GET",
            "https://x.example/{id}",
            &[],
            &Map::new(),
            &no_secrets,
            SECOND,
            10,
        )
        .expect_err("missing argument");
        assert!(err.contains("`id`"), "{err}");

        let err =
            prepare("TRACE", "https://x.example/", &[], &Map::new(), &no_secrets, SECOND, 10).expect_err("method");
        assert!(err.contains("`TRACE`"), "{err}");

        let err = prepare("GET", "file:///etc/passwd", &[], &Map::new(), &no_secrets, SECOND, 10).expect_err("scheme");
        assert!(err.contains("`file`"), "{err}");

        let err = prepare("GET", "not a url", &[], &Map::new(), &no_secrets, SECOND, 10).expect_err("url");
        assert!(err.contains("URL"), "{err}");

        let secrets = |_: &str| Some("line\nbreak".to_owned());
        let err =
            prepare("GET", "https://x.example/", &headers, &Map::new(), &secrets, SECOND, 10).expect_err("bad value");
        assert!(err.contains("`Authorization`") && !err.contains("line"), "{err}");

        let bad_name = vec![("Bad Name".to_owned(), "v".to_owned())];
        let err = prepare(
            "GET",
            "https://x.example/",
            &bad_name,
            &Map::new(),
            &no_secrets,
            SECOND,
            10,
        )
        .expect_err("bad name");
        assert!(err.contains("`Bad Name`"), "{err}");
    }

    #[test]
    fn outcomes_become_model_text() {
        let ok = Ok(OutboundResponse {
            status: 200,
            body: "{\"temp\":21}".to_owned(),
            truncated: false,
        });
        assert_eq!(result_text(&ok), ("{\"temp\":21}".to_owned(), false));

        let not_found = Ok(OutboundResponse {
            status: 404,
            body: "no such city".to_owned(),
            truncated: false,
        });
        assert_eq!(
            result_text(&not_found),
            (
                "the endpoint answered HTTP 404 Not Found: no such city".to_owned(),
                true
            )
        );

        let redirect = Ok(OutboundResponse {
            status: 302,
            body: String::new(),
            truncated: false,
        });
        assert_eq!(
            result_text(&redirect),
            ("the endpoint answered HTTP 302 Found".to_owned(), true)
        );

        let timeout = Err(OutboundError::Timeout(Duration::from_millis(1500)));
        assert_eq!(result_text(&timeout), ("timed out after 1500 ms".to_owned(), true));

        let refused = Err(OutboundError::Refused {
            host: "169.254.169.254".to_owned(),
        });
        assert_eq!(
            result_text(&refused),
            ("refused: 169.254.169.254 is an internal address".to_owned(), true)
        );
    }
}
