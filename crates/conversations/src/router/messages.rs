//! Handlers of a conversation's messages and of `/chat/messages`: the reply as JSON or as
//! a Server-Sent Events stream.

use actix_web::web::{self, Json, Query};
use actix_web::{HttpRequest, HttpResponse, get, post};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Problem, Result, Valid};
use uuid::Uuid;

use super::sse;
use crate::schemas::{ChatMessageCreate, ChatStreamEvent, Message, MessageCreate, MessageListQuery, MessageOrder};
use crate::{ChatService, ChatTarget, ConversationService};

/// The `200` answer of the message routes, shown in the OpenAPI document.
///
/// It is listed under `2XX` (any other success), not `200`: the document orders responses
/// by status, and Swagger UI (like other clients) sends the media type of the first success
/// response as `Accept`, so a plain `200` would turn every "Try it out" into a stream.
const STREAM_DESCRIPTION: &str = "Status `200`, with `\"stream\": true` in the body or `Accept: text/event-stream`: \
a Server-Sent Events stream. Each event is an `event: <name>` line and a `data:` line holding a JSON object \
(the schema `ChatStreamEvent` describes each as `{event, data}`), in this order: `message.created` (the stored user Message), `message.delta` (`{\"delta\": \"text\"}`, \
pieces that concatenate to the reply), then `message.completed` (the stored assistant Message) or \
`error` (a Problem: the provider failed, status 502, or timed out, status 504; the user's message \
stays stored and no reply is). The stream ends after `message.completed` or `error`. A client that \
disconnects before `message.completed` leaves no reply stored.";

/// An example stream, for the OpenAPI document.
const STREAM_EXAMPLE: &str = "event: message.created\n\
data: {\"id\":\"019a8f3e-1c2d-7e4f-8a9b-0c1d2e3f4a5b\",\"conversation_id\":\"019a8f3e-0b1c-7d2e-9f3a-4b5c6d7e8f9a\",\"role\":\"user\",\"content\":\"Hi there\",\"model\":null,\"usage\":null,\"created_at\":\"2026-11-21T10:00:00Z\"}\n\n\
event: message.delta\ndata: {\"delta\":\"echo: \"}\n\n\
event: message.delta\ndata: {\"delta\":\"Hi \"}\n\n\
event: message.delta\ndata: {\"delta\":\"there\"}\n\n\
event: message.completed\n\
data: {\"id\":\"019a8f3e-1c3e-7a4b-8c5d-6e7f8a9b0c1d\",\"conversation_id\":\"019a8f3e-0b1c-7d2e-9f3a-4b5c6d7e8f9a\",\"role\":\"assistant\",\"content\":\"echo: Hi there\",\"model\":\"echo-1\",\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3},\"created_at\":\"2026-11-21T10:00:01Z\"}\n\n";

/// A page of one of the caller's conversations' messages, oldest first (`?order=desc`: newest first).
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("oauth2" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation's id"), MessageListQuery),
    responses(
        (status = 200, description = "A page of messages", body = Page<Message>),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("/{conversation_id}/messages")]
pub(super) async fn list_messages(
    principal: Principal,
    conversations: web::Data<ConversationService>,
    path: web::Path<Uuid>,
    query: Valid<Query<MessageListQuery>>,
) -> Result<Json<Page<Message>>> {
    let query = query.into_inner().into_inner();
    let mut page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    if query.order.unwrap_or_default() == MessageOrder::Asc {
        page = page.oldest_first();
    }
    Ok(Json(
        conversations
            .messages(principal.user_id, path.into_inner(), &page)
            .await?,
    ))
}

/// Sends a message to one of the caller's conversations and answers with the reply of its
/// agent (or of the default provider and model), whole or streamed.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("oauth2" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation's id")),
    request_body = MessageCreate,
    responses(
        (status = 201, description = "The assistant's reply, stored after the user's message", body = Message),
        (status = "2XX", description = STREAM_DESCRIPTION, content((ChatStreamEvent = "text/event-stream", example = json!(STREAM_EXAMPLE)))),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 409, description = "The conversation's agent was deleted; nothing is stored", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 502, response = problems::BadGateway),
        (status = 504, response = problems::GatewayTimeout),
    )
)]
#[post("/{conversation_id}/messages")]
pub(super) async fn post_message(
    req: HttpRequest,
    principal: Principal,
    chat: web::Data<ChatService>,
    path: web::Path<Uuid>,
    body: Valid<Json<MessageCreate>>,
) -> Result<HttpResponse> {
    let body = body.into_inner().into_inner();
    let target = ChatTarget::Conversation(path.into_inner());
    let stream = body.stream || sse::wants_event_stream(&req);
    answer(&req, &chat, principal, target, body.content, stream).await
}

/// Sends a message to one of the caller's conversations, or to a new one (titled with the
/// first 50 characters of the message), and answers with the reply, whole or streamed.
#[utoipa::path(
    tag = "chat",
    path = "/messages",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = ChatMessageCreate,
    responses(
        (status = 201, description = "The assistant's reply, stored after the user's message", body = Message),
        (status = "2XX", description = STREAM_DESCRIPTION, content((ChatStreamEvent = "text/event-stream", example = json!(STREAM_EXAMPLE)))),
        (status = 401, response = problems::Unauthorized),
        (status = 409, description = "The conversation's agent was deleted; nothing is stored", body = Problem, content_type = "application/problem+json"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 502, response = problems::BadGateway),
        (status = 504, response = problems::GatewayTimeout),
    )
)]
#[post("/messages")]
pub(super) async fn post_chat_message(
    req: HttpRequest,
    principal: Principal,
    chat: web::Data<ChatService>,
    body: Valid<Json<ChatMessageCreate>>,
) -> Result<HttpResponse> {
    let body = body.into_inner().into_inner();
    let target = ChatTarget::Chat {
        conversation_id: body.conversation_id,
        agent_id: body.agent_id,
    };
    let stream = body.stream || sse::wants_event_stream(&req);
    answer(&req, &chat, principal, target, body.content, stream).await
}

/// The reply as a `201` JSON message, or as a `200` event stream.
async fn answer(
    req: &HttpRequest,
    chat: &ChatService,
    principal: Principal,
    target: ChatTarget,
    content: String,
    stream: bool,
) -> Result<HttpResponse> {
    if stream {
        let events = chat.reply_stream(principal.user_id, target, content).await?;
        return Ok(sse::event_stream(req, events));
    }
    let reply = chat.reply(principal.user_id, target, content).await?;
    Ok(HttpResponse::Created().json(reply))
}
