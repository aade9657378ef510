//! Server-Sent Events as OpenAI streams them: `data: {json}` lines (with `event: <type>`
//! lines for responses), a `: keep-alive` comment while idle, and an error in OpenAI's
//! shape when the run fails or the server stops.

use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use executions::router::StreamSettings;
use futures_util::Stream;
use kernel::context::RequestContext;
use kernel::{Error, Problem, Shutdown};
use serde::Serialize;
use uuid::Uuid;

use crate::schemas::error::ErrorObject;

/// The media type of an event stream.
pub(super) const EVENT_STREAM: &str = "text/event-stream";

/// The response header naming the run behind an answer.
pub(super) const EXECUTION_ID: &str = "x-execution-id";

/// One `data:` line holding `value` as JSON.
pub(super) fn data_line(value: &impl Serialize) -> Bytes {
    // serde_json escapes newlines, so the data fits one line.
    let json = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!("data: {json}\n\n"))
}

/// OpenAI's error object for `err`, logged like a failed request.
pub(super) fn error_object(err: &Error, context: Option<&RequestContext>) -> ErrorObject {
    let (instance, request_id) = context
        .map(|c| (c.path.clone(), c.request_id.clone()))
        .unwrap_or_default();
    match err {
        Error::Internal(cause) => tracing::error!(request_id = %request_id, error = ?cause, "stream failed"),
        other => tracing::warn!(request_id = %request_id, error = %other, "stream ended with an error"),
    }
    let problem = Problem::from_error(err, instance, request_id);
    let members = serde_json::to_value(&problem)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    ErrorObject::of_problem(&members)
}

/// The error a stream ends with when the server stops under it.
pub(super) fn stopping() -> Error {
    Error::Unavailable("the server is shutting down; the run goes on".into())
}

/// The error a stream of an answer that is no run ends with when the server stops under it
/// (the answer stops with the process).
pub(super) fn stopping_direct() -> Error {
    Error::Unavailable("the server is shutting down; send the request again".into())
}

/// What open streams need from the app: the keep-alive period and the shutdown signal.
pub(super) struct StreamContext {
    /// The idle period after which a comment line is sent.
    pub keepalive: tokio::time::Interval,
    /// The graceful stop.
    pub shutdown: Shutdown,
    /// The request's context (for error bodies and logs).
    pub request: Option<RequestContext>,
}

impl StreamContext {
    /// The context of a stream answering `req`.
    pub(super) fn of(req: &HttpRequest) -> Self {
        let settings = req.app_data::<StreamSettings>().copied().unwrap_or_default();
        let period = settings.keepalive.max(Duration::from_millis(10));
        let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Self {
            keepalive,
            shutdown: req.app_data::<Shutdown>().cloned().unwrap_or_default(),
            request: RequestContext::current(),
        }
    }
}

/// The keep-alive comment.
pub(super) fn keepalive() -> Bytes {
    Bytes::from_static(b": keep-alive\n\n")
}

/// A `200` event stream of run `execution_id` (of an answer that is no run: `None`).
pub(super) fn respond(
    execution_id: impl Into<Option<Uuid>>,
    body: impl Stream<Item = Result<Bytes, Infallible>> + 'static,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .content_type(EVENT_STREAM)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"));
    if let Some(id) = execution_id.into() {
        response.insert_header((EXECUTION_ID, id.to_string()));
    }
    response.streaming(body)
}
