//! Handlers of `/agents`.

use actix_web::http::header;
use actix_web::web::{self, Json, Query};
use actix_web::{HttpResponse, delete, get, patch, post};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Result, Valid};
use uuid::Uuid;

use crate::AgentService;
use crate::schemas::{Agent, AgentCreate, AgentUpdate, ListQuery};

/// Creates an agent owned by the caller.
#[utoipa::path(
    tag = "agents",
    path = "/agents",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = AgentCreate,
    responses(
        (status = 201, description = "The new agent", body = Agent, headers(("Location" = String, description = "URL of the new agent"))),
        (status = 401, response = problems::Unauthorized),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/agents")]
pub(super) async fn create_agent(
    principal: Principal,
    agents: web::Data<AgentService>,
    body: Valid<Json<AgentCreate>>,
) -> Result<HttpResponse> {
    let created = agents.create(principal.user_id, body.into_inner().into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/agents/{}", created.id)),
        ))
        .json(created))
}

/// Lists the caller's agents, newest first.
#[utoipa::path(
    tag = "agents",
    path = "/agents",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of agents", body = Page<Agent>),
        (status = 401, response = problems::Unauthorized),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("/agents")]
pub(super) async fn list_agents(
    principal: Principal,
    agents: web::Data<AgentService>,
    query: Valid<Query<ListQuery>>,
) -> Result<Json<Page<Agent>>> {
    let query = query.into_inner().into_inner();
    let page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    Ok(Json(agents.list(principal.user_id, query.q.as_deref(), &page).await?))
}

/// One of the caller's agents.
#[utoipa::path(
    tag = "agents",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("agent_id" = Uuid, Path, description = "The agent's id")),
    responses(
        (status = 200, description = "The agent", body = Agent),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[get("/agents/{agent_id}")]
pub(super) async fn read_agent(
    principal: Principal,
    agents: web::Data<AgentService>,
    path: web::Path<Uuid>,
) -> Result<Json<Agent>> {
    Ok(Json(agents.get(principal.user_id, path.into_inner()).await?))
}

/// Updates some fields of one of the caller's agents.
#[utoipa::path(
    tag = "agents",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("agent_id" = Uuid, Path, description = "The agent's id")),
    request_body = AgentUpdate,
    responses(
        (status = 200, description = "The updated agent", body = Agent),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[patch("/agents/{agent_id}")]
pub(super) async fn update_agent(
    principal: Principal,
    agents: web::Data<AgentService>,
    path: web::Path<Uuid>,
    body: Valid<Json<AgentUpdate>>,
) -> Result<Json<Agent>> {
    let update = body.into_inner().into_inner();
    Ok(Json(agents.update(principal.user_id, path.into_inner(), update).await?))
}

/// Soft-deletes one of the caller's agents: it is hidden from every read afterwards.
#[utoipa::path(
    tag = "agents",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("agent_id" = Uuid, Path, description = "The agent's id")),
    responses(
        (status = 204, description = "Agent deleted"),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[delete("/agents/{agent_id}")]
pub(super) async fn delete_agent(
    principal: Principal,
    agents: web::Data<AgentService>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    agents.delete(principal.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
