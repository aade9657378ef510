//! Assertions on problem+json answers.

use reqwest::Response;
use serde_json::Value;

/// Asserts `res` is a problem with `status` whose `request_id` equals the `X-Request-Id`
/// header and which leaks nothing internal; returns the body.
pub async fn assert_problem(res: Response, status: u16) -> Value {
    let actual = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = res.text().await.expect("problem body");
    assert_eq!(actual, status, "status; body: {text}");
    assert_eq!(content_type, "application/problem+json", "content type; body: {text}");
    let body: Value = serde_json::from_str(&text).expect("problem is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert!(!request_id.is_empty(), "X-Request-Id header");
    assert_eq!(body["request_id"], request_id.as_str(), "request_id matches header");
    for key in ["type", "title", "detail", "instance", "code"] {
        assert!(body[key].is_string(), "{key} in {body}");
    }
    let lower = text.to_lowercase();
    for leak in ["$2b$", "select ", "insert ", "panicked", "sqlx", "stack"] {
        assert!(!lower.contains(leak), "problem leaks {leak:?}: {text}");
    }
    body
}

/// The `field` of every entry of a validation problem's `errors`.
pub fn field_names(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
