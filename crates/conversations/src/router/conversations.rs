//! Handlers of `/conversations` and `/conversations/{conversation_id}`.

use actix_web::http::header;
use actix_web::web::{self, Json, Query};
use actix_web::{HttpResponse, delete, get, patch, post};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Result, Valid};
use uuid::Uuid;

use crate::ConversationService;
use crate::schemas::{Conversation, ConversationCreate, ConversationListQuery, ConversationUpdate};

/// Creates a conversation owned by the caller, optionally bound to one of their agents.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = ConversationCreate,
    responses(
        (status = 201, description = "The new conversation", body = Conversation, headers(("Location" = String, description = "URL of the new conversation"))),
        (status = 401, response = problems::Unauthorized),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/conversations")]
pub(super) async fn create_conversation(
    principal: Principal,
    conversations: web::Data<ConversationService>,
    body: Valid<Json<ConversationCreate>>,
) -> Result<HttpResponse> {
    let created = conversations
        .create(principal.user_id, body.into_inner().into_inner())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/conversations/{}", created.id)),
        ))
        .json(created))
}

/// Lists the caller's conversations, newest first; `?agent_id=` keeps one agent's.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(ConversationListQuery),
    responses(
        (status = 200, description = "A page of conversations", body = Page<Conversation>),
        (status = 401, response = problems::Unauthorized),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("/conversations")]
pub(super) async fn list_conversations(
    principal: Principal,
    conversations: web::Data<ConversationService>,
    query: Valid<Query<ConversationListQuery>>,
) -> Result<Json<Page<Conversation>>> {
    let query = query.into_inner().into_inner();
    let page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    Ok(Json(
        conversations.list(principal.user_id, query.agent_id, &page).await?,
    ))
}

/// One of the caller's conversations (also after its agent was deleted).
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation's id")),
    responses(
        (status = 200, description = "The conversation", body = Conversation),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[get("/conversations/{conversation_id}")]
pub(super) async fn read_conversation(
    principal: Principal,
    conversations: web::Data<ConversationService>,
    path: web::Path<Uuid>,
) -> Result<Json<Conversation>> {
    Ok(Json(conversations.get(principal.user_id, path.into_inner()).await?))
}

/// Updates the title or metadata of one of the caller's conversations.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation's id")),
    request_body = ConversationUpdate,
    responses(
        (status = 200, description = "The updated conversation", body = Conversation),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[patch("/conversations/{conversation_id}")]
pub(super) async fn update_conversation(
    principal: Principal,
    conversations: web::Data<ConversationService>,
    path: web::Path<Uuid>,
    body: Valid<Json<ConversationUpdate>>,
) -> Result<Json<Conversation>> {
    let update = body.into_inner().into_inner();
    Ok(Json(
        conversations
            .update(principal.user_id, path.into_inner(), update)
            .await?,
    ))
}

/// Deletes one of the caller's conversations together with its messages.
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation's id")),
    responses(
        (status = 204, description = "Conversation and its messages deleted"),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[delete("/conversations/{conversation_id}")]
pub(super) async fn delete_conversation(
    principal: Principal,
    conversations: web::Data<ConversationService>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    conversations.delete(principal.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
