//! Request id, processing time, and the per-request tracing span.
//!
//! Every response carries `X-Request-Id` (the client's, when it sent a sane one) and
//! `X-Process-Time` (seconds). The rest of the request runs inside a
//! [`kernel::context::RequestContext`] scope so problem bodies carry the same id.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use futures_util::future::LocalBoxFuture;
use kernel::context::RequestContext;
use tracing::Instrument;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static PROCESS_TIME: HeaderName = HeaderName::from_static("x-process-time");

/// The middleware factory.
pub struct RequestContextMiddleware;

impl<S, B> Transform<S, ServiceRequest> for RequestContextMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RequestContextService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestContextService {
            service: Rc::new(service),
        }))
    }
}

/// The middleware service.
pub struct RequestContextService<S> {
    service: Rc<S>,
}

/// A client-sent id is kept only if it is short visible ASCII (it is logged and echoed).
fn client_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| value.to_owned())
}

impl<S, B> Service<ServiceRequest> for RequestContextService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let request_id = client_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %req.method(),
            path = %req.path(),
            status = tracing::field::Empty,
        );
        let context = RequestContext {
            request_id: request_id.clone(),
            path: req.path().to_owned(),
        };
        let service = Rc::clone(&self.service);
        Box::pin(
            async move {
                // The call itself runs inside the scope: routing, extractors and handlers
                // render their errors there, so problem bodies carry the request id.
                let mut res = context.scope(async move { service.call(req).await }).await?;
                let status = res.status().as_u16();
                tracing::Span::current().record("status", status);
                let elapsed = started.elapsed();
                let headers = res.headers_mut();
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    headers.insert(REQUEST_ID.clone(), value);
                }
                if let Ok(value) = HeaderValue::from_str(&format!("{:.6}", elapsed.as_secs_f64())) {
                    headers.insert(PROCESS_TIME.clone(), value);
                }
                tracing::debug!(status, elapsed_ms = elapsed.as_secs_f64() * 1000.0, "handled");
                Ok(res)
            }
            .instrument(span),
        )
    }
}
