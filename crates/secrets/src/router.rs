//! The `/secrets` routes: thin handlers that extract, call the service, and answer. No
//! answer ever holds a value.

use actix_web::web::{self, Json};
use actix_web::{HttpResponse, delete, get, put};
use kernel::openapi as problems;
use kernel::{Principal, Result, Valid};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::SecretService;
use crate::schemas::{SecretList, SecretPut};

/// Registers the `/secrets` routes (mount under `kernel::routes::API_PREFIX`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(put_secret).service(list_secrets).service(delete_secret);
}

/// Creates the caller's secret `name`, or replaces its value. The value is stored encrypted
/// and never shown again.
#[utoipa::path(
    tag = "secrets",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("name" = String, Path, description = "The secret's name, as used in `{{secret:NAME}}`",
        pattern = "^[A-Za-z0-9_]{1,64}$", min_length = 1, max_length = 64, example = "GITHUB_TOKEN")),
    request_body = SecretPut,
    responses(
        (status = 204, description = "Stored (created or replaced)"),
        (status = 401, response = problems::Unauthorized),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[put("/secrets/{name}")]
pub(crate) async fn put_secret(
    principal: Principal,
    secrets: web::Data<SecretService>,
    path: web::Path<String>,
    body: Valid<Json<SecretPut>>,
) -> Result<HttpResponse> {
    let body = body.into_inner().into_inner();
    secrets.put(principal.user_id, &path, &body.value).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lists the caller's secrets by name: names and times, never values.
#[utoipa::path(
    tag = "secrets",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The caller's secrets", body = SecretList),
        (status = 401, response = problems::Unauthorized),
    )
)]
#[get("/secrets")]
pub(crate) async fn list_secrets(principal: Principal, secrets: web::Data<SecretService>) -> Result<Json<SecretList>> {
    Ok(Json(SecretList {
        items: secrets.list(principal.user_id).await?,
    }))
}

/// Deletes the caller's secret `name`.
#[utoipa::path(
    tag = "secrets",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("name" = String, Path, description = "The secret's name",
        pattern = "^[A-Za-z0-9_]{1,64}$", min_length = 1, max_length = 64, example = "GITHUB_TOKEN")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
    )
)]
#[delete("/secrets/{name}")]
pub(crate) async fn delete_secret(
    principal: Principal,
    secrets: web::Data<SecretService>,
    path: web::Path<String>,
) -> Result<HttpResponse> {
    secrets.delete(principal.user_id, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}
