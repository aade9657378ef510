//! The `/mcp-servers` routes: thin handlers that extract, call the service, and answer.
//! No answer ever holds a header value.

use actix_web::http::header;
use actix_web::web::{self, Json, Query};
use actix_web::{HttpResponse, delete, get, patch, post};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Result, Valid};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::McpServerService;
use crate::schemas::{ListQuery, McpServer, McpServerCreate, McpServerUpdate};

/// Registers the `/mcp-servers` routes (mount under `kernel::routes::API_PREFIX`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/mcp-servers")
            .service(create_server)
            .service(list_servers)
            .service(read_server)
            .service(update_server)
            .service(delete_server)
            .service(refresh_server),
    );
}

/// Adds an MCP server. It is contacted at once (initialize, then `tools/list`) through the
/// outbound guard; a server that cannot be reached or refuses is a `422` naming `url`.
#[utoipa::path(
    tag = "mcp-servers",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = McpServerCreate,
    responses(
        (status = 201, description = "The new server with the tools it offers", body = McpServer,
            headers(("Location" = String, description = "URL of the new server"))),
        (status = 401, response = problems::Unauthorized),
        (status = 409, response = problems::Conflict),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("")]
pub(crate) async fn create_server(
    principal: Principal,
    servers: web::Data<McpServerService>,
    body: Valid<Json<McpServerCreate>>,
) -> Result<HttpResponse> {
    let created = servers
        .create(principal.user_id, body.into_inner().into_inner())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/mcp-servers/{}", created.id)),
        ))
        .json(created))
}

/// Lists the caller's MCP servers, newest first.
#[utoipa::path(
    tag = "mcp-servers",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of MCP servers", body = Page<McpServer>),
        (status = 401, response = problems::Unauthorized),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("")]
pub(crate) async fn list_servers(
    principal: Principal,
    servers: web::Data<McpServerService>,
    query: Valid<Query<ListQuery>>,
) -> Result<Json<Page<McpServer>>> {
    let query = query.into_inner().into_inner();
    let page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    Ok(Json(servers.list(principal.user_id, &page).await?))
}

/// One of the caller's MCP servers.
#[utoipa::path(
    tag = "mcp-servers",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("server_id" = Uuid, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The server", body = McpServer),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[get("/{server_id}")]
pub(crate) async fn read_server(
    principal: Principal,
    servers: web::Data<McpServerService>,
    path: web::Path<Uuid>,
) -> Result<Json<McpServer>> {
    Ok(Json(servers.get(principal.user_id, path.into_inner()).await?))
}

/// Updates some fields of one of the caller's MCP servers; a change of `url` or `headers`
/// lists its tools again (a `422` naming `url`, changing nothing, when it cannot be reached).
#[utoipa::path(
    tag = "mcp-servers",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("server_id" = Uuid, Path, description = "The server's id")),
    request_body = McpServerUpdate,
    responses(
        (status = 200, description = "The updated server", body = McpServer),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 409, response = problems::Conflict),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[patch("/{server_id}")]
pub(crate) async fn update_server(
    principal: Principal,
    servers: web::Data<McpServerService>,
    path: web::Path<Uuid>,
    body: Valid<Json<McpServerUpdate>>,
) -> Result<Json<McpServer>> {
    let update = body.into_inner().into_inner();
    Ok(Json(
        servers.update(principal.user_id, path.into_inner(), update).await?,
    ))
}

/// Deletes one of the caller's MCP servers and detaches it from every agent.
#[utoipa::path(
    tag = "mcp-servers",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("server_id" = Uuid, Path, description = "The server's id")),
    responses(
        (status = 204, description = "Deleted and detached from its agents"),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[delete("/{server_id}")]
pub(crate) async fn delete_server(
    principal: Principal,
    servers: web::Data<McpServerService>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    servers.delete(principal.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists the server's tools again (after the server changed them); a server that cannot be
/// reached is a `422` naming `url`, and nothing changes.
#[utoipa::path(
    tag = "mcp-servers",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("server_id" = Uuid, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The server with its tools listed now", body = McpServer),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/{server_id}/refresh")]
pub(crate) async fn refresh_server(
    principal: Principal,
    servers: web::Data<McpServerService>,
    path: web::Path<Uuid>,
) -> Result<Json<McpServer>> {
    Ok(Json(servers.refresh(principal.user_id, path.into_inner()).await?))
}
