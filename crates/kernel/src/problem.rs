//! RFC 9457 problem details, the body of every error response.

use serde::Serialize;
use utoipa::ToSchema;

use crate::{Error, FieldError};

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://agentry.dev/problems/not_found",
    "title": "Not Found",
    "status": 404,
    "detail": "agent not found",
    "instance": "/api/v1/agents/0193a4d2-7c1e-7b2a-9f1e-3c4d5e6f7a8b",
    "code": "not_found",
    "request_id": "5f0c6a0e-3b1d-4f7e-9a51-4c2f8e9d1b7a"
}))]
pub struct Problem {
    /// URI identifying the problem type.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type (the HTTP reason phrase).
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Human-readable explanation of this occurrence.
    pub detail: String,
    /// The request path this occurrence belongs to.
    pub instance: String,
    /// Stable machine-readable error code.
    pub code: String,
    /// The request id, also sent as the `X-Request-Id` header.
    pub request_id: String,
    /// Failing fields (validation problems only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Members particular to this problem's `code` (e.g. `active_execution_id` of
    /// `conversation_busy`).
    #[serde(flatten, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(ignore)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    /// The problem body for an error raised while handling `instance` under `request_id`.
    pub fn from_error(err: &Error, instance: String, request_id: String) -> Self {
        let status = err.status();
        let errors = match err {
            Error::Validation(errors) => Some(errors.clone()),
            Error::Malformed(_) => Some(Vec::new()),
            _ => None,
        };
        Self {
            problem_type: format!("https://agentry.dev/problems/{}", err.code()),
            title: reason_phrase(status).to_owned(),
            status,
            detail: err.public_detail(),
            instance,
            code: err.code().to_owned(),
            request_id,
            errors,
            extensions: match err {
                Error::Coded(coded) => coded.extensions.clone(),
                _ => serde_json::Map::new(),
            },
        }
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Internal Server Error",
    }
}
