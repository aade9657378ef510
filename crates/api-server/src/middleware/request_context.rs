//! Request id, processing time, the request's context, and `Connection: close` once the
//! process is stopping.
//!
//! Every response carries `X-Request-Id` (the client's, when it sent a sane one) and
//! `X-Process-Time` (seconds). The rest of the request runs inside a
//! [`kernel::context::RequestContext`] scope, so problem bodies carry the same id and the
//! log lines of the request its id, method and path (`telemetry::request`; no tracing span
//! per request, whose cost every request paid whether it logged or not).
//!
//! Once the process is stopping, every answer says `Connection: close`, so a client stops
//! sending requests on a keep-alive connection that is about to be closed (with the drain
//! of `server::shutdown`, no request already sent is left unanswered). It is done here, not
//! in a layer of its own, to spare every request one more boxed future.

use std::borrow::Cow;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{ConnectionType, Method};
use actix_web::web::Bytes;
use futures_util::future::LocalBoxFuture;
use kernel::context::RequestContext;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static PROCESS_TIME: HeaderName = HeaderName::from_static("x-process-time");

/// The middleware factory, over the process's shutdown signal.
pub struct RequestContextMiddleware(pub kernel::Shutdown);

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
            shutdown: Rc::new(self.0.clone()),
        }))
    }
}

/// The middleware service.
pub struct RequestContextService<S> {
    service: Rc<S>,
    /// Shared by this worker's requests without cloning its tokens (each clone and drop
    /// of a `CancellationToken` takes a lock).
    shutdown: Rc<kernel::Shutdown>,
}

/// A client-sent id is kept only if it is short visible ASCII (it is logged and echoed).
fn client_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| value.to_owned())
}

/// A fresh request id: a random UUID, hyphenated lower case (written without `fmt`).
fn new_request_id() -> String {
    let mut buf = uuid::Uuid::encode_buffer();
    uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf).to_owned()
}

/// `X-Process-Time`: the seconds with six decimals (as `{:.6}` prints them, but for the
/// rounding of an exact half microsecond, which goes up here), written with
/// integer arithmetic into a stack buffer: `format!` of a float was a measurable part of a
/// cheap request's cost.
fn process_time(elapsed: Duration) -> HeaderValue {
    let micros = (elapsed.as_nanos() + 500) / 1000;
    let (secs, frac) = (micros / 1_000_000, micros % 1_000_000);
    let mut secs_buf = itoa::Buffer::new();
    let mut frac_buf = itoa::Buffer::new();
    // `frac + 1_000_000` has seven digits; its last six are `frac` zero-padded.
    let frac = &frac_buf.format(frac + 1_000_000)[1..];
    let secs = secs_buf.format(secs);
    let mut out = [0u8; 48];
    let len = secs.len() + 1 + frac.len();
    out[..secs.len()].copy_from_slice(secs.as_bytes());
    out[secs.len()] = b'.';
    out[secs.len() + 1..len].copy_from_slice(frac.as_bytes());
    HeaderValue::from_bytes(&out[..len]).unwrap_or_else(|_| HeaderValue::from_static("0.000000"))
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
        let request_id = client_request_id(&req).unwrap_or_else(new_request_id);
        let context = RequestContext {
            request_id: request_id.clone(),
            method: method_name(req.method()),
            path: req.path().to_owned(),
        };
        let service = Rc::clone(&self.service);
        let shutdown = Rc::clone(&self.shutdown);
        // The whole request runs inside the scope: routing, extractors and handlers render
        // their errors there, so problem bodies carry the request id, and every log line
        // of the request (`handled` included) carries its id, method and path.
        Box::pin(context.scope(async move {
            let mut res = service.call(req).await?;
            let elapsed = started.elapsed();
            let headers = res.headers_mut();
            // The id's own buffer becomes the header value (no copy).
            if let Ok(value) = HeaderValue::from_maybe_shared(Bytes::from(request_id)) {
                headers.insert(REQUEST_ID.clone(), value);
            }
            headers.insert(PROCESS_TIME.clone(), process_time(elapsed));
            if shutdown.has_begun() {
                res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
            }
            tracing::debug!(
                status = res.status().as_u16(),
                elapsed_ms = elapsed.as_secs_f64() * 1000.0,
                "handled"
            );
            Ok(res)
        }))
    }
}

/// The method's name, without an allocation for the standard ones.
fn method_name(method: &Method) -> Cow<'static, str> {
    const STANDARD: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    match STANDARD.iter().find(|(m, _)| m == method) {
        Some((_, name)) => Cow::Borrowed(name),
        None => Cow::Owned(method.as_str().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{new_request_id, process_time};

    #[test]
    fn process_time_prints_seconds_with_six_decimals() {
        for (nanos, want) in [
            (0, "0.000000"),
            (499, "0.000000"),
            (501, "0.000001"),
            (1_234_567, "0.001235"),
            (999_999_600, "1.000000"),
            (12_000_007_000, "12.000007"),
            (u64::MAX, "18446744073.709552"),
        ] {
            let elapsed = Duration::from_nanos(nanos);
            assert_eq!(process_time(elapsed).to_str().ok(), Some(want), "{nanos} ns");
            if nanos < 1 << 40 {
                assert_eq!(format!("{:.6}", elapsed.as_secs_f64()), want, "{nanos} ns as {{:.6}}");
            }
        }
    }

    #[test]
    fn a_new_request_id_is_a_hyphenated_lower_case_uuid() {
        let id = new_request_id();
        assert_eq!(uuid::Uuid::parse_str(&id).map(|u| u.to_string()).ok(), Some(id.clone()));
        assert_eq!(id.len(), 36);
    }
}
