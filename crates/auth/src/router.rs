//! The `/auth` and `/api-keys` routes.

mod api_keys;

use actix_web::http::header;
use actix_web::web::{self, Json};
use actix_web::{HttpRequest, HttpResponse, post};
use kernel::extract::{is_form, is_json, parse_json, parse_urlencoded, read_body, validate};
use kernel::openapi as problems;
use kernel::{Error, Result, Valid};
use users::schemas::User;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AuthService;
use crate::schemas::{
    LoginRequest, PasswordRecoveryRequest, RefreshRequest, RegisterRequest, ResetPasswordRequest, TokenPair,
};

/// Registers the `/auth` and `/api-keys` routes (mount under `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/auth")
            .service(register)
            .service(login)
            .service(refresh)
            .service(logout)
            .service(password_recovery)
            .service(reset_password),
    )
    .service(
        utoipa_actix_web::scope("/api-keys")
            .service(api_keys::create_api_key)
            .service(api_keys::list_api_keys)
            .service(api_keys::read_api_key)
            .service(api_keys::revoke_api_key),
    );
}

/// Creates an account (rate limited per client IP).
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new user", body = User, headers(("Location" = String, description = "URL of the new user"))),
        (status = 409, response = problems::Conflict),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 429, response = problems::TooManyRequests),
    )
)]
#[post("/register")]
async fn register(auth: web::Data<AuthService>, body: Valid<Json<RegisterRequest>>) -> Result<HttpResponse> {
    let created = auth.register(body.into_inner().into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            kernel::routes::api_path(&format!("/users/{}", created.id)),
        ))
        .json(User::from(created)))
}

/// Logs in with an email or username and a password; answers a token pair.
///
/// Takes JSON or the OAuth2 password-grant form (`application/x-www-form-urlencoded` with the
/// same fields: what the `oauth2` security scheme's token URL, and so Swagger UI's
/// "Authorize", sends). Rate limited per client IP.
// The document lists only the JSON body: one operation with two bodies makes
// openapi-python-client 0.29 emit a module that fails at import; the form stays served and
// described by the security scheme.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "A new session", body = TokenPair, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, response = problems::Unauthorized),
        (status = 403, response = problems::Forbidden),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 429, response = problems::TooManyRequests),
    )
)]
#[post("/login")]
async fn login(auth: web::Data<AuthService>, req: HttpRequest, mut payload: web::Payload) -> Result<HttpResponse> {
    let credentials: LoginRequest = if is_form(&req) {
        parse_urlencoded(&read_body(&req, &mut payload).await?)?
    } else if is_json(&req) {
        parse_json(&read_body(&req, &mut payload).await?)?
    } else {
        return Err(Error::UnsupportedMediaType(
            "send the credentials as application/x-www-form-urlencoded or application/json".into(),
        ));
    };
    validate(&credentials)?;
    let pair = auth.login(&credentials.username, credentials.password).await?;
    Ok(token_response(pair))
}

/// A `200` carrying tokens; such a response must never be stored by a cache (RFC 6749 §5.1).
fn token_response(pair: TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .json(pair)
}

/// Exchanges a refresh token for a new pair; the presented token is spent.
/// Presenting a spent token again revokes its whole family.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A rotated token pair", body = TokenPair, headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 401, response = problems::Unauthorized),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/refresh")]
async fn refresh(auth: web::Data<AuthService>, body: Valid<Json<RefreshRequest>>) -> Result<HttpResponse> {
    Ok(token_response(auth.refresh(&body.refresh_token).await?))
}

/// Ends the session of this refresh token (its whole family); idempotent.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Session ended"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/logout")]
async fn logout(auth: web::Data<AuthService>, body: Valid<Json<RefreshRequest>>) -> Result<HttpResponse> {
    auth.logout(&body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mails a single-use password-reset link (valid one hour) if the address has an
/// account; the answer is the same either way. Rate limited per client IP.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordRecoveryRequest,
    responses(
        (status = 202, description = "If the address has an account, a reset mail is on its way"),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
        (status = 429, response = problems::TooManyRequests),
    )
)]
#[post("/password-recovery")]
async fn password_recovery(
    auth: web::Data<AuthService>,
    body: Valid<Json<PasswordRecoveryRequest>>,
) -> Result<HttpResponse> {
    auth.recover_password(&body.email).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Sets a new password with the mailed token; every session of the user is revoked.
#[utoipa::path(
    tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, response = problems::BadRequest),
        (status = 413, response = problems::PayloadTooLarge),
        (status = 415, response = problems::UnsupportedMediaType),
        (status = 422, response = problems::UnprocessableContent),
    )
)]
#[post("/reset-password")]
async fn reset_password(auth: web::Data<AuthService>, body: Valid<Json<ResetPasswordRequest>>) -> Result<HttpResponse> {
    let body = body.into_inner().into_inner();
    auth.reset_password(&body.token, body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}
