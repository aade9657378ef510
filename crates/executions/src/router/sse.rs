//! Server-Sent Events of a run: the chat framing of a reply (`event: <type>`, `id: <seq>`,
//! `data: <the event's data>`) and the events framing of `GET /executions/{id}/events`
//! (`data: <the whole event>`). Both replay from the event log, then follow live events,
//! send a `: keep-alive` comment while idle, and end with a `503` error event when the
//! server stops. A client leaving drops only its stream: the run goes on.

use std::convert::Infallible;
use std::time::Duration;

use crate::chat_stream::ChatStreamEvent;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::stream;
use kernel::context::RequestContext;
use kernel::{Error, Problem, Shutdown};
use uuid::Uuid;

use crate::ExecutionError;
use crate::events::{Event, ExecutionFailed};
use crate::feed::{EventFeed, EventFrame};

/// The media type of an event stream.
pub(super) const EVENT_STREAM: &str = "text/event-stream";

/// The response header naming the run behind a reply.
pub(super) const EXECUTION_ID: &str = "x-execution-id";

/// How often an idle event stream sends a comment line (`SSE_KEEPALIVE_SECS`); registered
/// as app data by the server, 15 s when absent.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    /// The interval between `: keep-alive` comments while no event is sent.
    pub keepalive: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            keepalive: Duration::from_secs(15),
        }
    }
}

/// Whether the client asked for an event stream with its `Accept` header.
pub(super) fn wants_event_stream(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|range| range.split(';').next())
        .any(|media| media.trim().eq_ignore_ascii_case(EVENT_STREAM))
}

/// The `Last-Event-ID` a reconnecting client sends: a `seq` (0 or more), or a `422` naming
/// the header when it is anything else.
pub(super) fn last_event_id(req: &HttpRequest) -> Result<Option<i64>, Error> {
    let Some(value) = req.headers().get("last-event-id") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|value| value.trim().parse::<i64>().ok())
        .filter(|seq| *seq >= 0)
        .map(Some)
        .ok_or_else(|| Error::invalid("Last-Event-ID", "must be the `id` of an event: an integer from 0"))
}

/// How a stream frames the events it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// A reply: the message events, `data:` the event's data, ending with the reply.
    Chat,
    /// Every event, `data:` the whole event, ending with the terminal event.
    Events,
}

/// What one step of the stream produced.
enum Step {
    /// Bytes to send, and whether the stream ends after them.
    Send(Bytes, bool),
    /// Nothing to send for this event.
    Skip,
}

struct State {
    feed: EventFeed,
    framing: Framing,
    shutdown: Shutdown,
    keepalive: tokio::time::Interval,
    context: Option<RequestContext>,
    done: bool,
}

/// A `200` event stream of run `execution_id` fed by `feed`.
pub(super) fn respond(req: &HttpRequest, execution_id: Uuid, feed: EventFeed, framing: Framing) -> HttpResponse {
    let settings = req.app_data::<StreamSettings>().copied().unwrap_or_default();
    let period = settings.keepalive.max(Duration::from_millis(10));
    let mut keepalive = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = State {
        feed,
        framing,
        shutdown: req.app_data::<Shutdown>().cloned().unwrap_or_default(),
        keepalive,
        // Error events carry the request id; the request's context is only current here.
        context: RequestContext::current(),
        done: false,
    };
    let body = stream::unfold(state, |mut state| async move {
        loop {
            if state.done {
                return None;
            }
            let step = tokio::select! {
                biased;
                next = state.feed.next() => match next {
                    Ok(Some(frame)) => frame_of(&frame, state.framing, state.context.as_ref()),
                    Ok(None) => return None,
                    Err(err) => Step::Send(error_frame(None, &err, state.context.as_ref()), true),
                },
                () = state.shutdown.streams_end() => {
                    let stopping = Error::Unavailable("the server is shutting down: the run goes on; resume with GET /executions/{id}/events".into());
                    Step::Send(error_frame(None, &stopping, state.context.as_ref()), true)
                }
                _ = state.keepalive.tick() => Step::Send(Bytes::from_static(b": keep-alive\n\n"), false),
            };
            match step {
                Step::Skip => continue,
                Step::Send(bytes, last) => {
                    state.done = last;
                    state.keepalive.reset();
                    return Some((Ok::<_, Infallible>(bytes), state));
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type(EVENT_STREAM)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .insert_header((EXECUTION_ID, execution_id.to_string()))
        .streaming(body)
}

/// The bytes of one stored event in `framing`.
fn frame_of(frame: &EventFrame, framing: Framing, context: Option<&RequestContext>) -> Step {
    let seq = frame.event.seq;
    match framing {
        Framing::Events => {
            let bytes = format!(
                "id: {seq}\nevent: {}\ndata: {}\n\n",
                frame.event.event.tag(),
                frame.json
            );
            Step::Send(Bytes::from(bytes), frame.event.is_terminal())
        }
        Framing::Chat => {
            let (event, last) = match &frame.event.event {
                Event::MessageCreated(message) => (ChatStreamEvent::MessageCreated(message.clone()), false),
                Event::MessageDelta(delta) => (ChatStreamEvent::MessageDelta(delta.clone()), false),
                Event::MessageCompleted(message) => (ChatStreamEvent::MessageCompleted(message.clone()), true),
                Event::ToolCallCreated(call) => (ChatStreamEvent::ToolCallCreated(call.clone()), false),
                Event::ToolCallCompleted(call) => (ChatStreamEvent::ToolCallCompleted(call.clone()), false),
                Event::ExecutionRequiresAction(action) => (ChatStreamEvent::RequiresAction(action.clone()), true),
                Event::ExecutionExpired(_) => {
                    let err: Error = ExecutionError::RunExpired.into();
                    return Step::Send(error_frame(Some(seq), &err, context), true);
                }
                Event::ExecutionFailed(ExecutionFailed { error, code }) => {
                    let err: Error = ExecutionError::RunFailed {
                        error: error.clone(),
                        code: *code,
                    }
                    .into();
                    return Step::Send(error_frame(Some(seq), &err, context), true);
                }
                Event::ExecutionCancelled(_) => {
                    let err: Error = ExecutionError::RunCancelled.into();
                    return Step::Send(error_frame(Some(seq), &err, context), true);
                }
                // A run of a conversation sends `message.completed` first; nothing follows.
                Event::ExecutionCompleted(_) => return Step::Send(Bytes::new(), true),
                _ => return Step::Skip,
            };
            Step::Send(chat_frame(Some(seq), &event), last)
        }
    }
}

/// One chat event: `id:` (when stored), `event:`, and one `data:` line of JSON.
fn chat_frame(seq: Option<i64>, event: &ChatStreamEvent) -> Bytes {
    // serde_json escapes newlines, so the data fits one `data:` line.
    let data = event.content_json().unwrap_or_else(|_| "{}".to_owned());
    let id = seq.map(|seq| format!("id: {seq}\n")).unwrap_or_default();
    Bytes::from(format!("{id}event: {}\ndata: {data}\n\n", event.tag()))
}

/// An `error` event holding the problem of `err`, logged like a failed request.
fn error_frame(seq: Option<i64>, err: &Error, context: Option<&RequestContext>) -> Bytes {
    let (instance, request_id) = context
        .map(|c| (c.path.clone(), c.request_id.clone()))
        .unwrap_or_default();
    match err {
        Error::Internal(cause) => tracing::error!(request_id = %request_id, error = ?cause, "event stream failed"),
        other => tracing::warn!(request_id = %request_id, error = %other, "event stream ended with an error"),
    }
    chat_frame(
        seq,
        &ChatStreamEvent::Error(Problem::from_error(err, instance, request_id)),
    )
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use conversations::schemas::MessageDelta;

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
    fn a_delta_is_one_event_with_its_id_and_one_data_line() {
        let bytes = chat_frame(
            Some(4),
            &ChatStreamEvent::MessageDelta(MessageDelta {
                delta: "two\nlines".into(),
            }),
        );
        assert_eq!(
            std::str::from_utf8(&bytes).unwrap(),
            "id: 4\nevent: message.delta\ndata: {\"delta\":\"two\\nlines\"}\n\n"
        );
    }

    #[test]
    fn last_event_id_is_a_sequence_number() {
        let with = |value: &str| {
            last_event_id(
                &TestRequest::default()
                    .insert_header(("Last-Event-ID", value))
                    .to_http_request(),
            )
            .ok()
        };
        assert_eq!(with("7"), Some(Some(7)));
        assert_eq!(with(" 12 "), Some(Some(12)));
        assert_eq!(with("-1"), None);
        assert_eq!(with("abc"), None);
        assert_eq!(with("9223372036854775808"), None);
        assert_eq!(
            last_event_id(&TestRequest::default().to_http_request()).ok(),
            Some(None)
        );
    }
}
