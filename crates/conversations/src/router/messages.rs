//! The handler of a conversation's message log. Sending a message starts a run: its
//! handlers are the `executions` crate's.

use actix_web::get;
use actix_web::web::{self, Json, Query};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Result, Valid};
use uuid::Uuid;

use crate::ConversationService;
use crate::schemas::{Message, MessageListQuery, MessageOrder};

/// A page of one of the caller's conversations' messages, oldest first (`?order=desc`: newest first).
#[utoipa::path(
    tag = "conversations",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("conversation_id" = Uuid, Path, description = "The conversation's id"), MessageListQuery),
    responses(
        (status = 200, description = "A page of messages", body = Page<Message>),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("/conversations/{conversation_id}/messages")]
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
