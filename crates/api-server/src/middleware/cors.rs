//! CORS: `actix-cors` with the allowed origins, for the requests that are cross-origin.
//!
//! `actix-cors` handles every request the same way: a boxed future, and on every answer an
//! `Access-Control-Expose-Headers` list and a `Vary` header. A request without an `Origin`
//! header is no CORS request (browsers send `Origin` on every cross-origin request and
//! preflight), so for it [`CrossOrigin`] only adds the same `Vary` header (caches must still
//! tell such answers from CORS ones) and calls the application directly. Requests with an
//! `Origin` get exactly what `actix-cors` answers.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_cors::{Cors, CorsMiddleware};
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::{Method, header::HeaderName};
use futures_util::FutureExt;
use futures_util::future::{Either, Map};

/// The headers a browser may send, and read, on cross-origin requests.
pub fn cors(origins: &[String]) -> Cors {
    // A mismatched origin only gets no CORS headers (the browser then refuses); same-origin
    // requests such as Swagger UI's carry an Origin header too and must pass.
    let mut cors = Cors::default()
        .block_on_origin_mismatch(false)
        .allowed_methods([Method::GET, Method::POST, Method::PATCH, Method::PUT, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("x-process-time"),
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("x-execution-id"),
            HeaderName::from_static("x-should-retry"),
            HeaderName::from_static("retry-after-ms"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// What `actix-cors` writes in `Vary` (appended to a `Vary` the answer has).
const VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

/// The middleware factory: `actix-cors` for requests with an `Origin`, `Vary` only otherwise.
pub struct CrossOrigin(pub Cors);

impl<S, B> Transform<S, ServiceRequest> for CrossOrigin
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CrossOriginService<S>;
    type InitError = ();
    type Future = Pin<Box<dyn Future<Output = Result<Self::Transform, Self::InitError>>>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let service = Rc::new(service);
        let cors = self.0.new_transform(Rc::clone(&service));
        Box::pin(async move {
            Ok(CrossOriginService {
                cors: cors.await?,
                service,
            })
        })
    }
}

/// The middleware service: the application, and `actix-cors` around the same application.
pub struct CrossOriginService<S> {
    cors: CorsMiddleware<Rc<S>>,
    service: Rc<S>,
}

/// The answer to a request without `Origin`, with `Vary` added (also to an error's answer).
type Answer<B> = Result<ServiceResponse<EitherBody<B, BoxBody>>, actix_web::Error>;

impl<S, B> Service<ServiceRequest> for CrossOriginService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Either<
        Map<S::Future, fn(Result<ServiceResponse<B>, actix_web::Error>) -> Answer<B>>,
        <CorsMiddleware<Rc<S>> as Service<ServiceRequest>>::Future,
    >;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if req.headers().contains_key(header::ORIGIN) {
            return Either::Right(self.cors.call(req));
        }
        Either::Left(self.service.call(req).map(without_origin::<B> as fn(_) -> _))
    }
}

/// A same-site or non-browser request's answer: `Vary` as `actix-cors` writes it, nothing else.
fn without_origin<B>(answer: Result<ServiceResponse<B>, actix_web::Error>) -> Answer<B> {
    match answer {
        Ok(mut res) => {
            add_vary(res.headers_mut());
            Ok(res.map_into_left_body())
        }
        Err(mut err) => {
            err.add_response_mapper(|mut res| {
                add_vary(res.headers_mut());
                res
            });
            Err(err)
        }
    }
}

fn add_vary(headers: &mut HeaderMap) {
    let value = match headers.get(header::VARY) {
        Some(existing) => {
            let joined = [existing.as_bytes(), b", ", VARY.as_bytes()].concat();
            HeaderValue::from_bytes(&joined).unwrap_or_else(|_| HeaderValue::from_static(VARY))
        }
        None => HeaderValue::from_static(VARY),
    };
    headers.insert(header::VARY, value);
}
