//! Handlers of `POST /conversations/{id}/messages` and `POST /chat/messages`: each starts a
//! run of the conversation, then waits for its reply (JSON) or streams its events (SSE).

use actix_web::web::{self, Json};
use actix_web::{HttpRequest, HttpResponse, post};
use conversations::schemas::{ChatMessageCreate, IfBusy, Message, MessageCreate};

use crate::chat_stream::ChatStreamEvent;
use kernel::openapi as problems;
use kernel::{Principal, Problem, Result, Valid};
use uuid::Uuid;

use super::sse::{self, EXECUTION_ID, Framing};
use crate::schemas::Execution;
use crate::service::Reply;
use crate::{ExecutionService, MessageTarget, UserTurn};

/// The `200` answer of the message routes, shown in the OpenAPI document.
///
/// It is listed under `2XX` (any other success), not `200`: the document orders responses
/// by status, and Swagger UI (like other clients) sends the media type of the first success
/// response as `Accept`, so a plain `200` would turn every "Try it out" into a stream.
const STREAM_DESCRIPTION: &str = "Status `200`, with `\"stream\": true` in the body or `Accept: text/event-stream`: \
a Server-Sent Events stream of the run writing the reply (header `X-Execution-Id`). Each event is an `id: <seq>` line, \
an `event: <name>` line and a `data:` line holding a JSON object (the schema `ChatStreamEvent` describes each as \
`{event, data}`), in this order: `message.created` (the stored user Message), `message.delta` (`{\"delta\": \"text\"}`, \
pieces that concatenate to the reply; with tool calls, `tool_call.created` for each call of a model turn and \
`tool_call.completed` for each result), then `message.completed` (the stored assistant Message), \
`execution.requires_action` (the run paused for a person: a client tool or an approval; answer with \
`POST /executions/{id}/inputs`, then follow `GET /executions/{id}/events`) or `error` (a Problem: \
the provider failed, status 502, or timed out, status 504; the run was cancelled, 409; the user's message stays \
stored and no reply is). The stream ends after `message.completed`, `execution.requires_action` or `error`. While no event is due, a comment \
line `: keep-alive` is sent every `SSE_KEEPALIVE_SECS` (15 s). A client that disconnects does not stop the run: \
the reply is completed and stored, and `GET /executions/{id}/events` (with `Last-Event-ID: <last id seen>`) \
resumes the stream.";

/// An example stream, for the OpenAPI document.
const STREAM_EXAMPLE: &str = "id: 2\nevent: message.created\n\
data: {\"id\":\"019a8f3e-1c2d-7e4f-8a9b-0c1d2e3f4a5b\",\"conversation_id\":\"019a8f3e-0b1c-7d2e-9f3a-4b5c6d7e8f9a\",\"role\":\"user\",\"content\":\"Hi there\",\"model\":null,\"usage\":null,\"execution_id\":\"019a8f3e-1c2c-7000-8000-000000000001\",\"created_at\":\"2026-11-21T10:00:00Z\"}\n\n\
id: 3\nevent: message.delta\ndata: {\"delta\":\"echo: \"}\n\n\
id: 4\nevent: message.delta\ndata: {\"delta\":\"Hi \"}\n\n\
id: 5\nevent: message.delta\ndata: {\"delta\":\"there\"}\n\n\
id: 6\nevent: message.completed\n\
data: {\"id\":\"019a8f3e-1c3e-7a4b-8c5d-6e7f8a9b0c1d\",\"conversation_id\":\"019a8f3e-0b1c-7d2e-9f3a-4b5c6d7e8f9a\",\"role\":\"assistant\",\"content\":\"echo: Hi there\",\"model\":\"echo-1\",\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3},\"execution_id\":\"019a8f3e-1c2c-7000-8000-000000000001\",\"created_at\":\"2026-11-21T10:00:01Z\"}\n\n";

/// Sends a message to one of the caller's conversations and answers with the reply of its
/// agent (or of the default provider and model), whole or streamed. The reply is written
/// by a run (an execution) that outlives the request.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation's id")),
    request_body = MessageCreate,
    responses(
        (status = 201, description = "The assistant's reply, stored after the user's message", body = Message,
            headers(("X-Execution-Id" = Uuid, description = "The run that wrote the reply"))),
        (status = 202, description = "The run paused for a person (a client tool or an approval): the execution, `requires_action`, \
            with its `required_action`; answer it with `POST /executions/{id}/inputs`", body = Execution,
            headers(("X-Execution-Id" = Uuid, description = "The run"), ("Location" = String, description = "URL of the execution"))),
        (status = "2XX", description = STREAM_DESCRIPTION, content((ChatStreamEvent = "text/event-stream", example = json!(STREAM_EXAMPLE)))),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 409, description = "The conversation's agent was deleted (nothing is stored); the run was cancelled before it answered; \
            or, with `if_busy: \"reject\"`, the conversation has an active run (`code: \"conversation_busy\"`, `active_execution_id`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 502, response = problems::BadGateway),
        (status = 503, description = "The server stopped before the reply was complete", body = Problem, content_type = "application/problem+json"),
        (status = 504, response = problems::GatewayTimeout),
    )
)]
#[post("/conversations/{conversation_id}/messages")]
pub(super) async fn post_message(
    req: HttpRequest,
    principal: Principal,
    executions: web::Data<ExecutionService>,
    path: web::Path<Uuid>,
    body: Valid<Json<MessageCreate>>,
) -> Result<HttpResponse> {
    let body = body.into_inner().into_inner();
    let target = MessageTarget::Conversation(path.into_inner());
    let stream = body.stream || sse::wants_event_stream(&req);
    let if_busy = body.if_busy.unwrap_or_default();
    answer(&req, &executions, principal, target, body.into(), if_busy, stream).await
}

/// Sends a message to one of the caller's conversations, or to a new one (titled with the
/// first 50 characters of the message), and answers with the reply, whole or streamed.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = ChatMessageCreate,
    responses(
        (status = 201, description = "The assistant's reply, stored after the user's message", body = Message,
            headers(("X-Execution-Id" = Uuid, description = "The run that wrote the reply"))),
        (status = 202, description = "The run paused for a person (a client tool or an approval): the execution, `requires_action`, \
            with its `required_action`; answer it with `POST /executions/{id}/inputs`", body = Execution,
            headers(("X-Execution-Id" = Uuid, description = "The run"), ("Location" = String, description = "URL of the execution"))),
        (status = "2XX", description = STREAM_DESCRIPTION, content((ChatStreamEvent = "text/event-stream", example = json!(STREAM_EXAMPLE)))),
        (status = 401, response = problems::Unauthorized),
        (status = 409, description = "The conversation's agent was deleted (nothing is stored); the run was cancelled before it answered; \
            or, with `if_busy: \"reject\"`, the conversation has an active run (`code: \"conversation_busy\"`, `active_execution_id`)",
            body = Problem, content_type = "application/problem+json"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 502, response = problems::BadGateway),
        (status = 503, description = "The server stopped before the reply was complete", body = Problem, content_type = "application/problem+json"),
        (status = 504, response = problems::GatewayTimeout),
    )
)]
#[post("/chat/messages")]
pub(super) async fn post_chat_message(
    req: HttpRequest,
    principal: Principal,
    executions: web::Data<ExecutionService>,
    body: Valid<Json<ChatMessageCreate>>,
) -> Result<HttpResponse> {
    let body = body.into_inner().into_inner();
    let target = MessageTarget::Chat {
        conversation_id: body.conversation_id,
        agent_id: body.agent_id,
    };
    let stream = body.stream || sse::wants_event_stream(&req);
    let if_busy = body.if_busy.unwrap_or_default();
    let turn = UserTurn::from(&body);
    answer(&req, &executions, principal, target, turn, if_busy, stream).await
}

/// Starts the run, then answers with its events (`200` stream) or its reply (`201`).
async fn answer(
    req: &HttpRequest,
    executions: &ExecutionService,
    principal: Principal,
    target: MessageTarget,
    turn: UserTurn,
    if_busy: IfBusy,
    stream: bool,
) -> Result<HttpResponse> {
    let owner = principal.user_id;
    let run = executions.send(owner, target, turn, if_busy).await?;
    if stream {
        let feed = executions.follow(&run);
        return Ok(sse::respond(req, run.id, feed, Framing::Chat));
    }
    match executions.reply_to(owner, &run).await? {
        Reply::Message(reply) => Ok(HttpResponse::Created()
            .insert_header((EXECUTION_ID, run.id.to_string()))
            .json(reply)),
        Reply::Paused(execution) => Ok(HttpResponse::Accepted()
            .insert_header((EXECUTION_ID, run.id.to_string()))
            .insert_header((
                actix_web::http::header::LOCATION,
                kernel::routes::api_path(&format!("/executions/{}", run.id)),
            ))
            .json(execution)),
    }
}
