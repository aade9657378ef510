//! The error shape the OpenAI SDKs read: `{"error": {message, type, param, code}}`, added
//! to Agentry's problem+json body on `/v1` (the problem members stay).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// OpenAI's error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorObject {
    /// What went wrong, for a person.
    pub message: String,
    /// The kind of error: `invalid_request_error`, `authentication_error`,
    /// `permission_error`, `not_found_error`, `conflict_error`, `rate_limit_error`,
    /// `server_error`…
    #[serde(rename = "type")]
    pub kind: String,
    /// The request parameter at fault (`model`, `messages[0].content`, `n`…), if one is.
    pub param: Option<String>,
    /// The stable machine-readable code (the problem's `code`: `model_not_found`,
    /// `validation_failed`, …).
    pub code: Option<String>,
}

/// A `/v1` error body: an RFC 9457 problem (`application/problem+json`) that also carries
/// OpenAI's `error` object.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://agentry.dev/problems/model_not_found",
    "title": "Not Found",
    "status": 404,
    "detail": "The model `writer` does not exist or you do not have access to it.",
    "instance": "/v1/chat/completions",
    "code": "model_not_found",
    "request_id": "5f0c6a0e-3b1d-4f7e-9a51-4c2f8e9d1b7a",
    "param": "model",
    "error": {
        "message": "The model `writer` does not exist or you do not have access to it.",
        "type": "not_found_error",
        "param": "model",
        "code": "model_not_found"
    }
}))]
pub struct OpenAiProblem {
    /// The problem members (`type`, `title`, `status`, `detail`, `instance`, `code`,
    /// `request_id`, and `errors` for validation problems).
    #[serde(flatten)]
    pub problem: kernel::Problem,
    /// The same error as OpenAI's SDKs read it.
    pub error: ErrorObject,
}

/// OpenAI's error `type` for an HTTP status.
pub fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        409 => "conflict_error",
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    }
}

impl ErrorObject {
    /// The error object of a problem body (its members as JSON): `message` is the detail
    /// (every failing field for a validation problem), `param` the problem's `param`
    /// member or its first named field, `code` its code.
    pub fn of_problem(problem: &Map<String, Value>) -> Self {
        let text = |key: &str| problem.get(key).and_then(Value::as_str).map(str::to_owned);
        let status = problem
            .get("status")
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(500);
        let fields: Vec<(String, String)> = problem
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| {
                        let field = e.get("field")?.as_str()?.to_owned();
                        let message = e.get("message")?.as_str()?.to_owned();
                        Some((field, message))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let message = match fields.as_slice() {
            [] | [_] => text("detail").unwrap_or_default(),
            many => many
                .iter()
                .map(|(field, message)| format!("{field}: {message}"))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let param = text("param").or_else(|| fields.iter().map(|(f, _)| f.clone()).find(|f| !f.is_empty()));
        Self {
            message,
            kind: error_type(status).to_owned(),
            param,
            code: text("code"),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn of(problem: Value) -> ErrorObject {
        ErrorObject::of_problem(problem.as_object().unwrap())
    }

    #[test]
    fn a_validation_problem_names_its_first_field_as_param() {
        let error = of(json!({
            "status": 422, "code": "validation_failed", "detail": "request validation failed",
            "errors": [{"field": "n", "message": "only 1 is supported"}, {"field": "logprobs", "message": "not supported"}]
        }));
        assert_eq!(
            error,
            ErrorObject {
                message: "n: only 1 is supported; logprobs: not supported".into(),
                kind: "invalid_request_error".into(),
                param: Some("n".into()),
                code: Some("validation_failed".into()),
            }
        );
    }

    #[test]
    fn param_member_and_status_types() {
        let error = of(json!({"status": 404, "code": "model_not_found", "detail": "no", "param": "model"}));
        assert_eq!(
            (error.kind.as_str(), error.param.as_deref()),
            ("not_found_error", Some("model"))
        );
        let malformed = of(json!({"status": 422, "code": "malformed_body", "detail": "not JSON", "errors": []}));
        assert_eq!((malformed.message.as_str(), malformed.param), ("not JSON", None));
        assert_eq!(error_type(401), "authentication_error");
        assert_eq!(error_type(413), "invalid_request_error");
        assert_eq!(error_type(503), "server_error");
    }
}
