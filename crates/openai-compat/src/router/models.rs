//! `GET /v1/models` and `GET /v1/models/{model}`.

use actix_web::get;
use actix_web::web::{self, Json};
use kernel::{Principal, Result};

use super::docs;
use crate::OpenAiService;
use crate::schemas::models::{Model, ModelList};

/// Lists the models: each of the caller's live agents, oldest first.
#[utoipa::path(
    tag = "openai",
    operation_id = "openai_list_models",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The caller's live agents as models", body = ModelList),
        (status = 401, response = docs::OpenAiUnauthorized),
        (status = 503, response = docs::OpenAiServiceUnavailable),
    )
)]
#[get("/models")]
pub(super) async fn list_models(principal: Principal, service: web::Data<OpenAiService>) -> Result<Json<ModelList>> {
    Ok(Json(service.models(principal.user_id).await?))
}

/// One model: the caller's live agent with this id, or with this name when no other live
/// agent of the caller has it.
#[utoipa::path(
    tag = "openai",
    operation_id = "openai_retrieve_model",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("model" = String, Path, description = "The agent's id, or its name")),
    responses(
        (status = 200, description = "The model", body = Model),
        (status = 401, response = docs::OpenAiUnauthorized),
        (status = 404, response = docs::OpenAiNotFound),
        (status = 422, response = docs::OpenAiUnprocessable),
        (status = 503, response = docs::OpenAiServiceUnavailable),
    )
)]
#[get("/models/{model}")]
pub(super) async fn retrieve_model(
    principal: Principal,
    service: web::Data<OpenAiService>,
    path: web::Path<String>,
) -> Result<Json<Model>> {
    Ok(Json(service.model(principal.user_id, &path.into_inner()).await?))
}
