//! [`OpenAiErrors`]: the middleware that makes every error answered below `/v1` readable
//! by the OpenAI SDKs. The problem+json body keeps its members and gains OpenAI's
//! `error: {message, type, param, code}`; a `409` that a retry cannot fix (all but
//! `idempotency_key_in_use`) carries `x-should-retry: false`, and a `429` carries `retry-after-ms` beside `Retry-After`.
//! Wrapped around the whole application (so that the fallback's `404`/`405`, the
//! extractors' `401`/`413`/`415`/`422` and the idempotency answers are covered too), it
//! touches only paths below [`PREFIX`].

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::Bytes;
use futures_util::future::{Either, LocalBoxFuture};
use serde_json::{Map, Value};

use crate::schemas::error::ErrorObject;

/// Where the OpenAI-compatible API lives.
pub const PREFIX: &str = "/v1";

/// The largest error body rewritten (problem bodies are far smaller).
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

static SHOULD_RETRY: HeaderName = HeaderName::from_static("x-should-retry");
static RETRY_AFTER_MS: HeaderName = HeaderName::from_static("retry-after-ms");

/// Whether `path` is below [`PREFIX`].
pub fn is_below_prefix(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The middleware factory (wrap the application with it).
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiErrors;

impl<S, B> Transform<S, ServiceRequest> for OpenAiErrors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    type Transform = OpenAiErrorsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(OpenAiErrorsService {
            service: Rc::new(service),
        }))
    }
}

/// The middleware service.
pub struct OpenAiErrorsService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for OpenAiErrorsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = actix_web::Error;
    /// Requests outside [`PREFIX`] pass through without a boxed future of this layer.
    type Future = Either<
        kernel::passthrough::PassLeft<S::Future, B, BoxBody>,
        LocalBoxFuture<'static, Result<Self::Response, Self::Error>>,
    >;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let below = is_below_prefix(req.path());
        let answer = self.service.call(req);
        if !below {
            return Either::Left(kernel::passthrough::left(answer));
        }
        Either::Right(Box::pin(async move {
            let res = answer.await?;
            if !is_problem(&res) {
                return Ok(res.map_into_left_body());
            }
            let (http_req, res) = res.into_parts();
            let (mut head, body) = res.into_parts();
            let body = match actix_web::body::to_bytes_limited(body, MAX_PROBLEM_BYTES).await {
                Ok(Ok(bytes)) => bytes,
                // Unreadable (it cannot be: problems are whole): sent as it stood, empty.
                _ => Bytes::new(),
            };
            let status = head.status().as_u16();
            let retry_fixes_it = problem_code(&body).as_deref() == Some(RETRYABLE_CONFLICT);
            let rewritten = with_error_member(&body).unwrap_or(body);
            let headers = head.headers_mut();
            if status == 409 && !retry_fixes_it {
                headers.insert(SHOULD_RETRY.clone(), HeaderValue::from_static("false"));
            }
            if status == 429
                && let Some(ms) = headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .and_then(|secs| HeaderValue::from_str(&(secs.saturating_mul(1000)).to_string()).ok())
            {
                headers.insert(RETRY_AFTER_MS.clone(), ms);
            }
            let res = head.set_body(BoxBody::new(rewritten));
            Ok(ServiceResponse::new(http_req, res).map_into_right_body())
        }))
    }
}

/// The one conflict a later retry fixes: the first request with the same
/// `Idempotency-Key` is still being handled.
const RETRYABLE_CONFLICT: &str = "idempotency_key_in_use";

/// The `code` of a problem body.
fn problem_code(body: &[u8]) -> Option<String> {
    let problem: Map<String, Value> = serde_json::from_slice(body).ok()?;
    problem.get("code")?.as_str().map(str::to_owned)
}

/// Whether the answer is an error rendered as problem+json.
fn is_problem<B>(res: &ServiceResponse<B>) -> bool {
    let status = res.status();
    (status.is_client_error() || status.is_server_error())
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(kernel::problem::PROBLEM_JSON))
}

/// The problem body with OpenAI's `error` member added (`None` if it is not a JSON object).
pub fn with_error_member(body: &[u8]) -> Option<Bytes> {
    let mut problem: Map<String, Value> = serde_json::from_slice(body).ok()?;
    let error = ErrorObject::of_problem(&problem);
    problem.insert("error".to_owned(), serde_json::to_value(error).ok()?);
    serde_json::to_vec(&problem).ok().map(Bytes::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_below_v1_are_rewritten() {
        assert!(is_below_prefix("/v1/models"));
        assert!(is_below_prefix("/v1"));
        assert!(!is_below_prefix("/v10/models"));
        assert!(!is_below_prefix("/api/v1/agents"));
    }

    #[test]
    fn the_problem_members_stay_and_error_is_added() {
        let body = br#"{"status":401,"code":"unauthorized","detail":"missing bearer token","title":"Unauthorized"}"#;
        let out: Value = serde_json::from_slice(&with_error_member(body).unwrap()).unwrap();
        assert_eq!(out["detail"], "missing bearer token");
        assert_eq!(
            out["error"],
            serde_json::json!({"message": "missing bearer token", "type": "authentication_error", "param": null, "code": "unauthorized"})
        );
        assert!(with_error_member(b"not json").is_none());
    }
}

#[cfg(test)]
mod service_tests {
    use actix_web::{App, HttpResponse, test, web};

    use super::*;

    async fn limited() -> Result<HttpResponse, kernel::Error> {
        Err(kernel::Error::RateLimited { retry_after_secs: 3 })
    }

    async fn conflict() -> Result<HttpResponse, kernel::Error> {
        Err(kernel::Error::Conflict(
            "the run was cancelled before it answered".into(),
        ))
    }

    async fn in_use() -> Result<HttpResponse, kernel::Error> {
        Err(kernel::Error::coded(
            409,
            "idempotency_key_in_use",
            "still being handled",
            [],
        ))
    }

    #[actix_web::test]
    async fn a_429_gains_retry_after_ms_and_a_409_says_do_not_retry_below_v1_only() {
        let app = test::init_service(
            App::new()
                .wrap(OpenAiErrors)
                .route("/v1/limited", web::get().to(limited))
                .route("/v1/conflict", web::get().to(conflict))
                .route("/v1/in-use", web::get().to(in_use))
                .route("/api/v1/conflict", web::get().to(conflict)),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/v1/limited").to_request()).await;
        assert_eq!(res.status(), 429);
        let header =
            |res: &ServiceResponse<_>, name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header(&res, "retry-after").as_deref(), Some("3"));
        assert_eq!(header(&res, "retry-after-ms").as_deref(), Some("3000"));
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["error"]["type"], "rate_limit_error");

        let res = test::call_service(&app, test::TestRequest::get().uri("/v1/conflict").to_request()).await;
        assert_eq!(header(&res, "x-should-retry").as_deref(), Some("false"));
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["error"]["type"], "conflict_error");
        assert_eq!(body["detail"], "the run was cancelled before it answered");

        let res = test::call_service(&app, test::TestRequest::get().uri("/v1/in-use").to_request()).await;
        assert_eq!(res.status(), 409);
        assert_eq!(header(&res, "x-should-retry"), None, "a retry fixes this one");

        let res = test::call_service(&app, test::TestRequest::get().uri("/api/v1/conflict").to_request()).await;
        assert_eq!(header(&res, "x-should-retry"), None);
        let body: Value = test::read_body_json(res).await;
        assert!(body.get("error").is_none(), "{body}");
    }
}
