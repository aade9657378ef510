//! `/v1/responses`: create (whole, streamed with typed events, or in the background),
//! retrieve (or replay its events from `starting_after`), cancel, delete.

use actix_web::web::{self, Bytes, Json, Query};
use actix_web::{HttpRequest, HttpResponse, delete, get, post};
use executions::entities::execution;
use kernel::{Principal, Result, Valid};
use serde_json::json;
use uuid::Uuid;

use super::docs;
use super::stream::{self, StreamContext, error_object};
use crate::OpenAiService;
use crate::schemas::responses::{
    Response, ResponseCreate, ResponseDeleted, ResponseQuery, ResponseSettings, ResponseStreamEvent,
};
use crate::service::transcript::{Ending, EventStream, settings_of};

/// How a streamed response is described in the OpenAPI document.
const STREAM_DESCRIPTION: &str = "With `\"stream\": true`: Server-Sent Events, each an `event: <type>` line and a \
`data:` line holding the event (`type`, `sequence_number` counting from 0, and the members of that type): \
`response.created`, `response.in_progress`, `response.output_item.added`, `response.content_part.added`, \
`response.output_text.delta`…, `response.output_text.done`, `response.content_part.done`, \
`response.output_item.done`, `response.function_call_arguments.delta`/`.done` for your functions' calls, then \
`response.completed` or `response.failed` (or an `error` event). Header `X-Execution-Id` names the run.";

/// Creates a response with one of the caller's agents: whole, streamed, or in the
/// background (`queued` at once). Calls of your `function` tools end it with
/// `function_call` items; answer them with `function_call_output` items in a request with
/// `previous_response_id`.
#[utoipa::path(
    tag = "openai",
    operation_id = "openai_create_response",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = ResponseCreate,
    responses(
        (status = 200, description = STREAM_DESCRIPTION,
            headers(("X-Execution-Id" = Uuid, description = "The run answering")),
            content((Response = "application/json"), (ResponseStreamEvent = "text/event-stream"))),
        (status = 401, response = docs::OpenAiUnauthorized),
        (status = 404, response = docs::OpenAiNotFound),
        (status = 413, response = docs::OpenAiPayloadTooLarge),
        (status = 415, response = docs::OpenAiUnsupportedMediaType),
        (status = 422, response = docs::OpenAiUnprocessable),
        (status = 503, response = docs::OpenAiServiceUnavailable),
    )
)]
#[post("/responses")]
pub(super) async fn create_response(
    req: HttpRequest,
    principal: Principal,
    service: web::Data<OpenAiService>,
    body: Valid<Json<ResponseCreate>>,
) -> Result<HttpResponse> {
    let owner = principal.user_id;
    let started = service.start_response(owner, body.into_inner().into_inner()).await?;
    let id = started.run.id;
    if started.stream {
        return events(&req, &service, owner, started.run, started.settings, -1).await;
    }
    let response = if started.settings.background {
        service.response(owner, &id.to_string()).await?
    } else {
        service.finished_response(owner, id).await?
    };
    Ok(json_answer(id, &response))
}

/// Reads one of the caller's responses; with `stream=true`, replays its events after
/// `starting_after` from the run's log, then follows it live.
#[utoipa::path(
    tag = "openai",
    operation_id = "openai_retrieve_response",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("response_id" = String, Path, description = "The response's id (its execution's)"), ResponseQuery),
    responses(
        (status = 200, description = "The response, or (with `stream=true`) its events as when it was created",
            content((Response = "application/json"), (ResponseStreamEvent = "text/event-stream"))),
        (status = 401, response = docs::OpenAiUnauthorized),
        (status = 404, response = docs::OpenAiNotFound),
        (status = 422, response = docs::OpenAiUnprocessable),
        (status = 503, response = docs::OpenAiServiceUnavailable),
    )
)]
#[get("/responses/{response_id}")]
pub(super) async fn retrieve_response(
    req: HttpRequest,
    principal: Principal,
    service: web::Data<OpenAiService>,
    path: web::Path<String>,
    query: Valid<Query<ResponseQuery>>,
) -> Result<HttpResponse> {
    let owner = principal.user_id;
    let query = query.into_inner().into_inner();
    if query.stream.unwrap_or(false) {
        let run = service.response_run(owner, &path).await?;
        let settings = settings_of(&run);
        let after = query.starting_after.unwrap_or(-1);
        return events(&req, &service, owner, run, settings, after).await;
    }
    let response = service.response(owner, &path).await?;
    Ok(json_answer(
        Uuid::parse_str(&response.id).unwrap_or_default(),
        &response,
    ))
}

/// Cancels one of the caller's responses (a finished one is shown unchanged).
#[utoipa::path(
    tag = "openai",
    operation_id = "openai_cancel_response",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("response_id" = String, Path, description = "The response's id")),
    responses(
        (status = 200, description = "The response, `cancelled` unless it had ended", body = Response),
        (status = 401, response = docs::OpenAiUnauthorized),
        (status = 404, response = docs::OpenAiNotFound),
        (status = 503, response = docs::OpenAiServiceUnavailable),
    )
)]
#[post("/responses/{response_id}/cancel")]
pub(super) async fn cancel_response(
    principal: Principal,
    service: web::Data<OpenAiService>,
    path: web::Path<String>,
) -> Result<Json<Response>> {
    Ok(Json(service.cancel_response(principal.user_id, &path).await?))
}

/// Deletes one of the caller's responses: its run and its events.
#[utoipa::path(
    tag = "openai",
    operation_id = "openai_delete_response",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("response_id" = String, Path, description = "The response's id")),
    responses(
        (status = 200, description = "Deleted", body = ResponseDeleted),
        (status = 401, response = docs::OpenAiUnauthorized),
        (status = 404, response = docs::OpenAiNotFound),
        (status = 503, response = docs::OpenAiServiceUnavailable),
    )
)]
#[delete("/responses/{response_id}")]
pub(super) async fn delete_response(
    principal: Principal,
    service: web::Data<OpenAiService>,
    path: web::Path<String>,
) -> Result<Json<ResponseDeleted>> {
    Ok(Json(service.delete_response(principal.user_id, &path).await?))
}

fn json_answer(id: Uuid, response: &Response) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((stream::EXECUTION_ID, id.to_string()))
        .json(response)
}

/// One typed event: `event: <type>` and its data.
fn frame(event: &ResponseStreamEvent) -> Bytes {
    let json = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!("event: {}\ndata: {json}\n\n", event.kind))
}

/// The events of `run`'s response with a `sequence_number` above `after`: replayed from
/// its log (numbered alike on every replay), then live, up to its last.
async fn events(
    req: &HttpRequest,
    service: &OpenAiService,
    owner: Uuid,
    run: execution::Model,
    settings: ResponseSettings,
    after: i64,
) -> Result<HttpResponse> {
    let id = run.id;
    let mut feed = service.executions().watch(owner, id, 0).await?;
    let mut context = StreamContext::of(req);
    let service = service.clone();
    let body = async_stream::stream! {
        let mut events = EventStream::new(id.to_string());
        let created = events.created(&run, &settings);
        if created.sequence_number > after {
            yield Ok::<_, std::convert::Infallible>(frame(&created));
        }
        let ending = loop {
            let next = tokio::select! {
                biased;
                next = feed.next() => next,
                () = context.shutdown.streams_end() => break Ending::Error(stream::stopping()),
                _ = context.keepalive.tick() => {
                    yield Ok(stream::keepalive());
                    continue;
                }
            };
            context.keepalive.reset();
            let frame_of_run = match next {
                Ok(Some(frame_of_run)) => frame_of_run,
                Ok(None) => return,
                Err(err) => break Ending::Error(err),
            };
            let (out, ending) = events.on(&frame_of_run.event.event, &run, &settings);
            for event in out.iter().filter(|e| e.sequence_number > after) {
                yield Ok(frame(event));
            }
            if let Some(ending) = ending {
                break ending;
            }
        };
        let (response, error) = match &ending {
            Ending::Error(err) => (None, Some(error_members(err, context.request.as_ref()))),
            _ => match service.response(owner, &id.to_string()).await {
                Ok(response) => (Some(response), None),
                Err(err) => (None, Some(error_members(&err.into(), context.request.as_ref()))),
            },
        };
        let last = events.end(&ending, response.as_ref(), error);
        if last.sequence_number > after {
            yield Ok(frame(&last));
        }
    };
    Ok(stream::respond(id, body))
}

/// An `error` event's members: OpenAI's `code`, `message` and `param`.
fn error_members(err: &kernel::Error, context: Option<&kernel::context::RequestContext>) -> serde_json::Value {
    let error = error_object(err, context);
    json!({"code": error.code, "message": error.message, "param": error.param})
}
