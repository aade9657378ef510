//! Server-Sent Events framing of a streamed reply.

use std::convert::Infallible;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use kernel::context::RequestContext;
use kernel::{Error, Problem, Shutdown};

use crate::ChatEvent;
use crate::schemas::{ChatStreamEvent, MessageDelta};

/// The media type of an event stream.
const EVENT_STREAM: &str = "text/event-stream";

/// Whether the client asked for an event stream with its `Accept` header.
pub(super) fn wants_event_stream(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|range| range.split(';').next())
        .any(|media| media.trim().eq_ignore_ascii_case(EVENT_STREAM))
}

/// A `200` event stream of `events`. Dropping the body (the client went away) drops
/// `events`, which cancels the provider call before anything more is stored. When the
/// server stops and its grace period is over, the stream ends with an `error` event (`503`).
pub(super) fn event_stream(req: &HttpRequest, events: BoxStream<'static, ChatEvent>) -> HttpResponse {
    // Error events carry the request id; the request's context is only current here.
    let context = RequestContext::current();
    let shutdown = req.app_data::<Shutdown>().cloned().unwrap_or_default();
    let events = futures_util::stream::unfold(Some((events, shutdown)), |state| async move {
        let (mut events, shutdown) = state?;
        tokio::select! {
            biased;
            event = events.next() => event.map(|event| (event, Some((events, shutdown)))),
            () = shutdown.streams_end() => {
                let stopping = Error::Unavailable("the server is shutting down: send the message again".into());
                Some((ChatEvent::Failed(stopping.into()), None))
            }
        }
    });
    let body = events.map(move |event| Ok::<_, Infallible>(frame(event, context.as_ref())));
    HttpResponse::Ok()
        .content_type(EVENT_STREAM)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}

/// One event: an `event:` line, a `data:` line holding a JSON object, and a blank line.
fn frame(event: ChatEvent, context: Option<&RequestContext>) -> Bytes {
    let event = match event {
        ChatEvent::Created(message) => ChatStreamEvent::MessageCreated(message),
        ChatEvent::Delta(delta) => ChatStreamEvent::MessageDelta(MessageDelta { delta }),
        ChatEvent::Completed(message) => ChatStreamEvent::MessageCompleted(message),
        ChatEvent::Failed(err) => ChatStreamEvent::Error(problem(&err.into(), context)),
    };
    // serde_json escapes newlines, so the data fits one `data:` line.
    let data = event.content_json().unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!("event: {}\ndata: {data}\n\n", event.tag()))
}

/// The problem object of a failure inside the stream, logged like a failed request.
fn problem(err: &Error, context: Option<&RequestContext>) -> Problem {
    let (instance, request_id) = context
        .map(|c| (c.path.clone(), c.request_id.clone()))
        .unwrap_or_default();
    match err {
        Error::Internal(cause) => {
            tracing::error!(request_id = %request_id, error = ?cause, "streamed reply failed");
        }
        other => tracing::warn!(request_id = %request_id, error = %other, "streamed reply failed"),
    }
    Problem::from_error(err, instance, request_id)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn accept_ranges_are_matched_by_media_type() {
        let asks = |accept: &str| {
            wants_event_stream(
                &TestRequest::default()
                    .insert_header((header::ACCEPT, accept))
                    .to_http_request(),
            )
        };
        assert!(asks("text/event-stream"));
        assert!(asks("application/json, Text/Event-Stream;q=0.9"));
        assert!(!asks("application/json"));
        assert!(!asks("*/*"));
        assert!(!wants_event_stream(&TestRequest::default().to_http_request()));
    }

    #[test]
    fn a_delta_is_one_event_with_one_data_line() {
        let bytes = frame(ChatEvent::Delta("two\nlines".into()), None);
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            "event: message.delta\ndata: {\"delta\":\"two\\nlines\"}\n\n"
        );
    }
}
