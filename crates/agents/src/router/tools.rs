//! Handlers of `/tools`.

use actix_web::http::header;
use actix_web::web::{self, Json, Query};
use actix_web::{HttpResponse, delete, get, patch, post};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Result, Valid};
use uuid::Uuid;

use crate::ToolService;
use crate::schemas::{ListQuery, Tool, ToolCreate, ToolUpdate};

/// Creates a tool (a function definition an agent may call) owned by the caller.
#[utoipa::path(
    tag = "tools",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = ToolCreate,
    responses(
        (status = 201, description = "The new tool", body = Tool, headers(("Location" = String, description = "URL of the new tool"))),
        (status = 401, response = problems::Unauthorized),
        (status = 409, response = problems::Conflict),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("")]
pub(super) async fn create_tool(
    principal: Principal,
    tools: web::Data<ToolService>,
    body: Valid<Json<ToolCreate>>,
) -> Result<HttpResponse> {
    let created = tools.create(principal.user_id, body.into_inner().into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/tools/{}", created.id)),
        ))
        .json(created))
}

/// Lists the caller's tools, newest first.
#[utoipa::path(
    tag = "tools",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of tools", body = Page<Tool>),
        (status = 401, response = problems::Unauthorized),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("")]
pub(super) async fn list_tools(
    principal: Principal,
    tools: web::Data<ToolService>,
    query: Valid<Query<ListQuery>>,
) -> Result<Json<Page<Tool>>> {
    let query = query.into_inner().into_inner();
    let page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    Ok(Json(tools.list(principal.user_id, query.q.as_deref(), &page).await?))
}

/// One of the caller's tools.
#[utoipa::path(
    tag = "tools",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("tool_id" = Uuid, Path, description = "The tool's id")),
    responses(
        (status = 200, description = "The tool", body = Tool),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[get("/{tool_id}")]
pub(super) async fn read_tool(
    principal: Principal,
    tools: web::Data<ToolService>,
    path: web::Path<Uuid>,
) -> Result<Json<Tool>> {
    Ok(Json(tools.get(principal.user_id, path.into_inner()).await?))
}

/// Updates some fields of one of the caller's tools.
#[utoipa::path(
    tag = "tools",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("tool_id" = Uuid, Path, description = "The tool's id")),
    request_body = ToolUpdate,
    responses(
        (status = 200, description = "The updated tool", body = Tool),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 409, response = problems::Conflict),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[patch("/{tool_id}")]
pub(super) async fn update_tool(
    principal: Principal,
    tools: web::Data<ToolService>,
    path: web::Path<Uuid>,
    body: Valid<Json<ToolUpdate>>,
) -> Result<Json<Tool>> {
    let update = body.into_inner().into_inner();
    Ok(Json(tools.update(principal.user_id, path.into_inner(), update).await?))
}

/// Deletes one of the caller's tools and detaches it from every agent.
#[utoipa::path(
    tag = "tools",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("tool_id" = Uuid, Path, description = "The tool's id")),
    responses(
        (status = 204, description = "Tool deleted and detached from its agents"),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[delete("/{tool_id}")]
pub(super) async fn delete_tool(
    principal: Principal,
    tools: web::Data<ToolService>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    tools.delete(principal.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
