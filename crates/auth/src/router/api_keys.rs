//! Handlers of `/api-keys`. Managing keys takes a login's access token: a key cannot mint,
//! list or revoke keys (`403`).

use actix_web::http::header;
use actix_web::web::{self, Json, Query};
use actix_web::{HttpResponse, delete, get, post};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Result, Valid};
use uuid::Uuid;

use crate::AuthService;
use crate::schemas::{ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyListQuery};

/// Creates an API key for the caller. The answer is the only one that ever shows the key.
#[utoipa::path(
    tag = "api-keys",
    path = "",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = ApiKeyCreate,
    responses(
        (status = 201, description = "The new key, with its secret (shown only here)", body = ApiKeyCreated,
            headers(("Location" = String, description = "URL of the new key"), ("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("")]
pub(super) async fn create_api_key(
    principal: Principal,
    auth: web::Data<AuthService>,
    body: Valid<Json<ApiKeyCreate>>,
) -> Result<HttpResponse> {
    principal.require_access_token()?;
    let created = auth
        .api_keys()
        .create(principal.user_id, body.into_inner().into_inner())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/api-keys/{}", created.id)),
        ))
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .json(created))
}

/// Lists the caller's API keys, newest first (never the keys themselves).
#[utoipa::path(
    tag = "api-keys",
    path = "",
    security(("bearer" = []), ("oauth2" = [])),
    params(ApiKeyListQuery),
    responses(
        (status = 200, description = "A page of keys", body = Page<ApiKey>),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("")]
pub(super) async fn list_api_keys(
    principal: Principal,
    auth: web::Data<AuthService>,
    query: Valid<Query<ApiKeyListQuery>>,
) -> Result<Json<Page<ApiKey>>> {
    principal.require_access_token()?;
    let query = query.into_inner().into_inner();
    let page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    Ok(Json(auth.api_keys().list(principal.user_id, &page).await?))
}

/// One of the caller's API keys (never the key itself).
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = []), ("oauth2" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The key", body = ApiKey),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
    )
)]
#[get("/{api_key_id}")]
pub(super) async fn read_api_key(
    principal: Principal,
    auth: web::Data<AuthService>,
    path: web::Path<Uuid>,
) -> Result<Json<ApiKey>> {
    principal.require_access_token()?;
    Ok(Json(auth.api_keys().get(principal.user_id, path.into_inner()).await?))
}

/// Revokes one of the caller's API keys: it is refused from the next request on, on
/// every replica.
#[utoipa::path(
    tag = "api-keys",
    security(("bearer" = []), ("oauth2" = [])),
    params(("api_key_id" = Uuid, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Key revoked"),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
    )
)]
#[delete("/{api_key_id}")]
pub(super) async fn revoke_api_key(
    principal: Principal,
    auth: web::Data<AuthService>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    principal.require_access_token()?;
    auth.api_keys().revoke(principal.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
