//! Handlers of `POST /agents/{agent_id}/execute` and `/executions`.

use actix_web::http::header;
use actix_web::web::{self, Json, Query};
use actix_web::{HttpRequest, HttpResponse, get, post};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Problem, Result, Valid};
use uuid::Uuid;

use super::sse::{self, Framing};
use crate::ExecutionService;
use crate::actions::ActionInputs;
use crate::events::ExecutionEventFrame;
use crate::schemas::{EVENTS_MAX, EventList, EventsQuery, Execution, ExecutionCreate, ListQuery};
use crate::service::ListFilter;

/// Starts a run of one of the caller's agents in the background: answers at once with
/// the execution as accepted, `queued` (a free worker of this server may have started it
/// already); follow it at `/ws/executions/{id}` or `/executions/{id}/events`.
#[utoipa::path(
    tag = "executions",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("agent_id" = Uuid, Path, description = "The agent to run")),
    request_body = ExecutionCreate,
    responses(
        (status = 202, description = "The execution as accepted: `queued`, not started yet (a free worker of this server may already be running it; its events say when it started)", body = Execution,
            headers(("Location" = String, description = "URL of the execution"))),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 409, description = "With `conversation_id` and `if_busy: \"reject\"`: the conversation has an active run (`code: \"conversation_busy\"`, `active_execution_id`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/agents/{agent_id}/execute")]
pub(super) async fn execute_agent(
    principal: Principal,
    executions: web::Data<ExecutionService>,
    path: web::Path<Uuid>,
    body: Valid<Json<ExecutionCreate>>,
) -> Result<HttpResponse> {
    let request = body.into_inner().into_inner();
    let queued = executions.start(principal.user_id, path.into_inner(), request).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/executions/{}", queued.id)),
        ))
        .json(queued))
}

/// Lists the caller's executions (sub-agent runs included), newest first.
#[utoipa::path(
    tag = "executions",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of executions", body = Page<Execution>),
        (status = 401, response = problems::Unauthorized),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("")]
pub(super) async fn list_executions(
    principal: Principal,
    executions: web::Data<ExecutionService>,
    query: Valid<Query<ListQuery>>,
) -> Result<Json<Page<Execution>>> {
    let query = query.into_inner().into_inner();
    let page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    let filter = ListFilter {
        agent_id: query.agent_id,
        status: query.status,
    };
    Ok(Json(executions.list(principal.user_id, filter, &page).await?))
}

/// One of the caller's executions.
#[utoipa::path(
    tag = "executions",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("execution_id" = Uuid, Path, description = "The execution's id")),
    responses(
        (status = 200, description = "The execution", body = Execution),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[get("/{execution_id}")]
pub(super) async fn read_execution(
    principal: Principal,
    executions: web::Data<ExecutionService>,
    path: web::Path<Uuid>,
) -> Result<Json<Execution>> {
    Ok(Json(executions.get(principal.user_id, path.into_inner()).await?))
}

/// Cancels one of the caller's queued, running or `requires_action` executions (its run
/// stops promptly and `execution.cancelled` is recorded); an execution that already ended
/// is returned unchanged.
#[utoipa::path(
    tag = "executions",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("execution_id" = Uuid, Path, description = "The execution's id")),
    responses(
        (status = 200, description = "The execution, cancelled or unchanged", body = Execution),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[post("/{execution_id}/cancel")]
pub(super) async fn cancel_execution(
    principal: Principal,
    executions: web::Data<ExecutionService>,
    path: web::Path<Uuid>,
) -> Result<Json<Execution>> {
    Ok(Json(executions.cancel(principal.user_id, path.into_inner()).await?))
}

/// Answers every pending call of one of the caller's `requires_action` executions at once
/// (client-tool outputs and approval decisions): the answers are applied exactly once and
/// the run is queued to go on, on any replica.
#[utoipa::path(
    tag = "executions",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("execution_id" = Uuid, Path, description = "The execution's id")),
    request_body = ActionInputs,
    responses(
        (status = 200, description = "The execution, `queued` (or already `running`) with `required_action` null", body = Execution),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 409, description = "The execution is not waiting for input (`code: \"not_awaiting_input\"`; also the loser of two concurrent submissions)",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/{execution_id}/inputs")]
pub(super) async fn submit_inputs(
    principal: Principal,
    executions: web::Data<ExecutionService>,
    path: web::Path<Uuid>,
    body: Valid<Json<ActionInputs>>,
) -> Result<Json<Execution>> {
    let inputs = body.into_inner().into_inner();
    Ok(Json(
        executions
            .submit_inputs(principal.user_id, path.into_inner(), inputs)
            .await?,
    ))
}

/// The stored events of one of the caller's executions with `seq > after`, oldest first
/// (at most `limit`; read on with `after` = the last `seq` returned); with
/// `Accept: text/event-stream`, the same events as a Server-Sent Events stream that goes on
/// with the live ones.
#[utoipa::path(
    tag = "executions",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(
        ("execution_id" = Uuid, Path, description = "The execution's id"),
        EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, minimum = 0, description = "Stream only: the `id` of the last event received; the stream resumes after it (instead of `after`). Anything but an integer from 0 is a `422`."),
    ),
    responses(
        (status = 200, description = "The events", body = EventList),
        (status = "2XX", description = EVENTS_STREAM_DESCRIPTION, content((ExecutionEventFrame = "text/event-stream"))),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("/{execution_id}/events")]
pub(super) async fn list_execution_events(
    req: HttpRequest,
    principal: Principal,
    executions: web::Data<ExecutionService>,
    path: web::Path<Uuid>,
    query: Valid<Query<EventsQuery>>,
) -> Result<HttpResponse> {
    let query = query.into_inner().into_inner();
    let id = path.into_inner();
    let last_event_id = sse::last_event_id(&req)?;
    if sse::wants_event_stream(&req) {
        let after = last_event_id.or(query.after).unwrap_or(0);
        let feed = executions.watch(principal.user_id, id, after).await?;
        return Ok(sse::respond(&req, id, feed, Framing::Events));
    }
    let (after, limit) = (query.after.unwrap_or(0), query.limit.unwrap_or(EVENTS_MAX));
    let items = executions.events(principal.user_id, id, after, limit).await?;
    Ok(HttpResponse::Ok().json(EventList { items }))
}

/// The stream answer of the events route, listed under `2XX` (see the chat routes' note).
const EVENTS_STREAM_DESCRIPTION: &str = "Status `200`, with `Accept: text/event-stream`: the stored events after `after` (or after the `Last-Event-ID` header), then the live ones, as Server-Sent Events: `id: <seq>`, `event: <type>`, and `data:` the whole Event as JSON (as on the WebSocket). The stream ends after the terminal event (at once when the client already has it); while idle it sends a comment line `: keep-alive` every `SSE_KEEPALIVE_SECS` (15 s).";
