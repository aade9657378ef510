//! `GET /ws/executions/{id}`: an execution's events over a WebSocket.
//!
//! The handshake authenticates (an `Authorization: Bearer` header, or the `access_token`
//! query parameter for browsers, which cannot set headers on a WebSocket) and checks
//! ownership before upgrading, so failures are ordinary problem+json answers (`401`,
//! `404`, `422`). Then every stored event after `?after=` is sent, then live ones, one
//! JSON text frame each, and the socket is closed with code 1000 after the terminal event
//! (at once when the client already has it). A client frame over [`FRAME_MAX`] bytes
//! closes the socket with code 1009 as soon as its header arrives.

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, ProtocolError, Session};
use kernel::extract::{parse_urlencoded, validate};
use kernel::openapi as problems;
use kernel::principal::bearer_token;
use kernel::{Error, Result, Shutdown, TokenVerifier};
use uuid::Uuid;

use super::frame_limit::FrameLimit;
use crate::ExecutionService;
use crate::feed::EventFeed;
use crate::schemas::WatchQuery;

/// The largest frame a client may send: it sends only control frames (at most 125 bytes).
const FRAME_MAX: usize = 64 * 1024;

/// A watcher that cannot take a frame for this long is disconnected.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle socket is pinged, so dead peers are noticed.
const PING_INTERVAL: Duration = Duration::from_secs(30);
/// How long a stopping server waits for events already published before it closes a socket.
const LAST_EVENTS_WAIT: Duration = Duration::from_millis(250);

/// The close of a socket whose server stops (1001).
fn going_away() -> CloseReason {
    CloseReason {
        code: CloseCode::Away,
        description: Some("the server is shutting down".into()),
    }
}

/// Streams the events of one of the caller's executions over a WebSocket.
///
/// Not a plain GET: generated clients skip this operation (`x-websocket: true`). Connect with a WebSocket client to `ws://<host>/api/v1/ws/executions/{execution_id}`
/// (`wss://` behind TLS), sending the access token as `Authorization: Bearer <token>` or,
/// from a browser, as the `access_token` query parameter. The server sends every stored
/// event with `seq > after`, then live ones, each as one JSON text frame holding an
/// `ExecutionEvent` (see that schema: `{seq, execution_id, type, data, created_at}`),
/// and closes with code 1000 after the terminal event (at once when `after` is already
/// the terminal event's `seq`). Reconnect with `?after=<last seq seen>` to miss nothing.
/// The client sends nothing but control frames; a frame over 64 KiB closes the socket
/// with code 1009.
#[utoipa::path(
    tag = "websocket",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("execution_id" = Uuid, Path, description = "The execution's id"), WatchQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; each text frame is an `ExecutionEvent` (`#/components/schemas/ExecutionEvent`)"),
        (status = 400, response = problems::BadRequest),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 422, response = problems::UnprocessableContent),
    ),
    extensions(("x-websocket" = json!(true)))
)]
#[get("/ws/executions/{execution_id}")]
pub(super) async fn watch_execution(
    req: HttpRequest,
    payload: web::Payload,
    executions: web::Data<ExecutionService>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    let query = parse_urlencoded::<WatchQuery>(req.query_string().as_bytes()).and_then(|q| validate(&q).map(|()| q));
    let token = bearer_token(&req)
        .map(str::to_owned)
        .or_else(|| query.as_ref().ok().and_then(|q| q.access_token.clone()))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Unauthorized("an access token is required (bearer header or access_token)".into()))?;
    let verifier = req
        .app_data::<web::Data<dyn TokenVerifier>>()
        .cloned()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no TokenVerifier registered as app data")))?;
    let principal = verifier.verify(&token).await?;
    let after = query?.after.unwrap_or(0);
    let execution_id = path.into_inner();
    let feed = executions.watch(principal.user_id, execution_id, after).await?;
    // actix-ws checks a frame's size only once the whole frame is buffered: the guard
    // refuses an oversized frame from its header on.
    let guard: std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>> =
        Box::pin(FrameLimit::new(payload, FRAME_MAX as u64));
    let mut guarded = Payload::Stream { payload: guard };
    let payload = web::Payload::from_request(&req, &mut guarded)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("cannot read the WebSocket stream: {e}")))?;
    let (response, session, incoming) = actix_ws::handle(&req, payload)
        .map_err(|e| Error::BadRequest(format!("a WebSocket upgrade is required: {e}")))?;
    let incoming = incoming.max_frame_size(FRAME_MAX);
    let shutdown = req.app_data::<Shutdown>().cloned().unwrap_or_default();
    actix_web::rt::spawn(send_events(execution_id, feed, session, incoming, shutdown));
    Ok(response)
}

/// Sends the feed's events until the terminal one, answering pings, until either side ends.
/// When the server stops, the socket is closed with 1001 after the events already published
/// (an `execution.failed` of a run the stop interrupted among them).
#[tracing::instrument(name = "execution.watch", skip_all, fields(execution_id = %execution_id))]
async fn send_events(
    execution_id: Uuid,
    mut feed: EventFeed,
    mut session: Session,
    mut incoming: MessageStream,
    shutdown: Shutdown,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_INTERVAL, PING_INTERVAL);
    loop {
        tokio::select! {
            () = shutdown.streams_end() => {
                // Whatever is already published arrives at once; a quiet feed has nothing left.
                while let Ok(Ok(Some(frame))) = tokio::time::timeout(LAST_EVENTS_WAIT, feed.next()).await {
                    if session.text(frame.json.clone()).await.is_err() {
                        return;
                    }
                }
                let _ = session.close(Some(going_away())).await;
                return;
            }
            next = feed.next() => match next {
                Ok(Some(frame)) => {
                    match tokio::time::timeout(SEND_TIMEOUT, session.text(frame.json.clone())).await {
                        Ok(Ok(())) => {}
                        // Gone, or too slow to keep up: drop it rather than buffer for it.
                        _ => return,
                    }
                }
                Ok(None) if shutdown.has_begun() => {
                    let _ = session.close(Some(going_away())).await;
                    return;
                }
                Ok(None) => {
                    let reason = CloseReason { code: CloseCode::Normal, description: Some("execution finished".into()) };
                    let _ = session.close(Some(reason)).await;
                    return;
                }
                Err(err) => {
                    tracing::warn!(execution_id = %execution_id, error = %err, "cannot read execution events for a watcher");
                    let _ = session.close(Some(CloseReason { code: CloseCode::Error, description: None })).await;
                    return;
                }
            },
            message = incoming.recv() => match message {
                Some(Ok(Message::Ping(bytes))) => {
                    if session.pong(&bytes).await.is_err() {
                        return;
                    }
                }
                Some(Err(err)) if is_oversized(&err) => {
                    tracing::warn!(execution_id = %execution_id, "a watcher sent a frame over {FRAME_MAX} bytes");
                    let reason = CloseReason { code: CloseCode::Size, description: Some("frame too large".into()) };
                    let _ = session.close(Some(reason)).await;
                    return;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    let _ = session.close(None).await;
                    return;
                }
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if session.ping(b"").await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Whether the client's frame was over the limit (seen by the codec or by [`FrameLimit`]).
fn is_oversized(err: &ProtocolError) -> bool {
    match err {
        ProtocolError::Overflow => true,
        ProtocolError::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<PayloadError>())
            .is_some_and(|inner| matches!(inner, PayloadError::Overflow)),
        _ => false,
    }
}
