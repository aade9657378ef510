//! The `/users` routes: thin handlers that extract, call [`UserService`], and answer.

use actix_web::http::header;
use actix_web::web::{self, Json, Query};
use actix_web::{HttpResponse, delete, get, patch, post, put};
use kernel::openapi as problems;
use kernel::{Page, PageParams, Principal, Result, Valid};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::schemas::{AvatarSet, PasswordChange, User, UserCreate, UserListQuery, UserUpdate, UserUpdateMe};
use crate::{AvatarService, UserService};

/// Registers the `/users` routes (mount under `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/users")
            .service(read_me)
            .service(update_me)
            .service(change_password)
            .service(delete_me)
            .service(set_avatar)
            .service(clear_avatar)
            .service(read_my_avatar)
            .service(read_avatar)
            .service(list_users)
            .service(create_user)
            .service(read_user)
            .service(update_user)
            .service(delete_user),
    );
}

/// The caller's own account.
#[utoipa::path(
    tag = "users",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The caller", body = User),
        (status = 401, response = problems::Unauthorized),
    )
)]
#[get("/me")]
async fn read_me(principal: Principal, users: web::Data<UserService>) -> Result<Json<User>> {
    Ok(Json(users.get(principal.user_id).await?.into()))
}

/// Updates the caller's email, username or display name.
#[utoipa::path(
    tag = "users",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = UserUpdateMe,
    responses(
        (status = 200, description = "The updated caller", body = User),
        (status = 401, response = problems::Unauthorized),
        (status = 409, response = problems::Conflict),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[patch("/me")]
async fn update_me(
    principal: Principal,
    users: web::Data<UserService>,
    body: Valid<Json<UserUpdateMe>>,
) -> Result<Json<User>> {
    let update = body.into_inner().into_inner().into();
    Ok(Json(users.update(principal.user_id, update).await?.into()))
}

/// Changes the caller's password; all their refresh tokens are revoked. Not with an API key.
#[utoipa::path(
    tag = "users",
    path = "/me/password",
    security(("bearer" = []), ("oauth2" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, response = problems::BadRequest),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/me/password")]
async fn change_password(
    principal: Principal,
    users: web::Data<UserService>,
    body: Valid<Json<PasswordChange>>,
) -> Result<HttpResponse> {
    principal.require_access_token()?;
    users
        .change_password(principal.user_id, body.into_inner().into_inner())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes the caller's account and everything it owns. Not with an API key.
#[utoipa::path(
    tag = "users",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 204, description = "Account deleted"),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
    )
)]
#[delete("/me")]
async fn delete_me(principal: Principal, users: web::Data<UserService>) -> Result<HttpResponse> {
    principal.require_access_token()?;
    users.delete(principal.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Shows one of the caller's files (uploaded with `purpose: avatar`) as their avatar.
#[utoipa::path(
    tag = "users",
    path = "/me/avatar",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = AvatarSet,
    responses(
        (status = 200, description = "The caller, with `avatar_url`", body = User),
        (status = 401, response = problems::Unauthorized),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[put("/me/avatar")]
async fn set_avatar(
    principal: Principal,
    avatars: web::Data<AvatarService>,
    body: Valid<Json<AvatarSet>>,
) -> Result<Json<User>> {
    let body = body.into_inner().into_inner();
    Ok(Json(avatars.set(principal.user_id, body.file_id).await?.into()))
}

/// Removes the caller's avatar (the file stays among their files).
#[utoipa::path(
    tag = "users",
    path = "/me/avatar",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    responses(
        (status = 204, description = "No avatar any more"),
        (status = 401, response = problems::Unauthorized),
    )
)]
#[delete("/me/avatar")]
async fn clear_avatar(principal: Principal, avatars: web::Data<AvatarService>) -> Result<HttpResponse> {
    avatars.clear(principal.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A user's avatar image, for any signed-in user; `If-None-Match` with its `ETag` answers `304`.
#[utoipa::path(
    tag = "users",
    path = "/{user_id}/avatar",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(
        ("user_id" = Uuid, Path, description = "The user's id"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier download"),
    ),
    responses(
        (status = 200, description = "The image (PNG, JPEG or WebP)", content(
            (kernel::binary::Binary = "image/png"), (kernel::binary::Binary = "image/jpeg"),
            (kernel::binary::Binary = "image/webp")), headers(
                ("ETag" = String, description = "`\"<sha256>\"`"),
                ("Content-Length" = u64, description = "The image's size"))),
        (status = 304, description = "`If-None-Match` matches", headers(("ETag" = String, description = "`\"<sha256>\"`"))),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 503, response = problems::ServiceUnavailable),
    )
)]
#[get("/{user_id}/avatar")]
async fn read_avatar(
    _principal: Principal,
    avatars: web::Data<AvatarService>,
    path: web::Path<Uuid>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse> {
    avatar_image(&avatars, path.into_inner(), &req).await
}

/// The caller's own avatar image (`404` when they have none).
#[utoipa::path(
    tag = "users",
    path = "/me/avatar",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("If-None-Match" = Option<String>, Header, description = "An `ETag` from an earlier download")),
    responses(
        (status = 200, description = "The image (PNG, JPEG or WebP)", content(
            (kernel::binary::Binary = "image/png"), (kernel::binary::Binary = "image/jpeg"),
            (kernel::binary::Binary = "image/webp")), headers(
                ("ETag" = String, description = "`\"<sha256>\"`"),
                ("Content-Length" = u64, description = "The image's size"))),
        (status = 304, description = "`If-None-Match` matches", headers(("ETag" = String, description = "`\"<sha256>\"`"))),
        (status = 401, response = problems::Unauthorized),
        (status = 404, response = problems::NotFound),
        (status = 503, response = problems::ServiceUnavailable),
    )
)]
#[get("/me/avatar")]
async fn read_my_avatar(
    principal: Principal,
    avatars: web::Data<AvatarService>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse> {
    avatar_image(&avatars, principal.user_id, &req).await
}

/// The avatar of `user_id` as an inline image, or `304` for a current `If-None-Match`.
async fn avatar_image(avatars: &AvatarService, user_id: Uuid, req: &actix_web::HttpRequest) -> Result<HttpResponse> {
    let content = avatars.open(user_id).await.map_err(|err| match err {
        crate::UserError::NotFound => kernel::Error::not_found("avatar"),
        other => other.into(),
    })?;
    let etag = files::router::etag(&content.file);
    let none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    if files::router::range::none_match(none_match, &etag) {
        return Ok(HttpResponse::NotModified().insert_header((header::ETAG, etag)).finish());
    }
    Ok(files::router::serve(content, false, false))
}

/// Lists users, newest first (superuser).
#[utoipa::path(
    tag = "users",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of users", body = Page<User>),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[get("")]
async fn list_users(
    principal: Principal,
    users: web::Data<UserService>,
    query: Valid<Query<UserListQuery>>,
) -> Result<Json<Page<User>>> {
    principal.require_superuser()?;
    let query = query.into_inner().into_inner();
    let page = PageParams::parse(query.limit, query.cursor.as_deref())?;
    Ok(Json(users.list(query.q.as_deref(), &page).await?.map(User::from)))
}

/// Creates a user (superuser).
#[utoipa::path(
    tag = "users",
    path = "",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    request_body = UserCreate,
    responses(
        (status = 201, description = "The new user", body = User, headers(("Location" = String, description = "URL of the new user"))),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 409, response = problems::Conflict),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("")]
async fn create_user(
    principal: Principal,
    users: web::Data<UserService>,
    body: Valid<Json<UserCreate>>,
) -> Result<HttpResponse> {
    principal.require_superuser()?;
    let created = users.create(body.into_inner().into_inner().into()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/users/{}", created.id)),
        ))
        .json(User::from(created)))
}

/// One user (superuser).
#[utoipa::path(
    tag = "users",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
    )
)]
#[get("/{user_id}")]
async fn read_user(principal: Principal, users: web::Data<UserService>, path: web::Path<Uuid>) -> Result<Json<User>> {
    principal.require_superuser()?;
    Ok(Json(users.get(path.into_inner()).await?.into()))
}

/// Updates any field of a user, including password and flags (superuser).
#[utoipa::path(
    tag = "users",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("user_id" = Uuid, Path, description = "The user's id")),
    request_body = UserUpdate,
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
        (status = 409, response = problems::Conflict),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[patch("/{user_id}")]
async fn update_user(
    principal: Principal,
    users: web::Data<UserService>,
    path: web::Path<Uuid>,
    body: Valid<Json<UserUpdate>>,
) -> Result<Json<User>> {
    principal.require_superuser()?;
    Ok(Json(
        users
            .update(path.into_inner(), body.into_inner().into_inner())
            .await?
            .into(),
    ))
}

/// Deletes a user and everything they own (superuser).
#[utoipa::path(
    tag = "users",
    security(("bearer" = []), ("api_key" = []), ("oauth2" = [])),
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "User deleted"),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 404, response = problems::NotFound),
    )
)]
#[delete("/{user_id}")]
async fn delete_user(
    principal: Principal,
    users: web::Data<UserService>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse> {
    principal.require_superuser()?;
    users.delete(path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
