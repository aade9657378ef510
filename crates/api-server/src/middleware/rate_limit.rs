//! Per-client-IP, per-route rate limiting of the credential routes (login, register,
//! password recovery), on the `governor` crate's GCRA limiter.

use std::future::{Ready, ready};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::Method;
use futures_util::future::Either;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The `POST` routes (below `kernel::routes::API_PREFIX`) whose every request counts against
/// the limit. A test checks each is a `POST` route of the OpenAPI document, i.e. of the
/// route table, so renaming one fails there instead of silently dropping its limit.
pub const LIMITED_ROUTES: [&str; 3] = ["/auth/login", "/auth/register", "/auth/password-recovery"];

/// Shared limiter state (one per process).
pub struct AuthRateLimiter {
    limiter: DefaultKeyedRateLimiter<(IpAddr, &'static str)>,
    trust_forwarded_for: bool,
}

impl AuthRateLimiter {
    /// `per_minute` requests per client IP and route, all of them usable in a burst.
    pub fn new(per_minute: u32, trust_forwarded_for: bool) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: RateLimiter::keyed(Quota::per_minute(per_minute)),
            trust_forwarded_for,
        }
    }

    /// Forgets clients whose allowance is full again (called periodically, bounds memory).
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// `Err(seconds to wait)` when this client is over the limit on this route.
    fn check(&self, req: &ServiceRequest) -> Result<(), u64> {
        if req.method() != Method::POST {
            return Ok(());
        }
        // The path as the router matches it (percent-decoded): the raw `req.path()` would let
        // `/api/v1/auth/%6Cogin` reach the login handler without being counted.
        let path = kernel::routes::below_prefix(req.match_info().as_str());
        let Some(route) = LIMITED_ROUTES.iter().find(|r| Some(**r) == path) else {
            return Ok(());
        };
        let ip = self.client_ip(req);
        self.limiter.check_key(&(ip, *route)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    fn client_ip(&self, req: &ServiceRequest) -> IpAddr {
        let forwarded = self
            .trust_forwarded_for
            .then(|| req.connection_info().realip_remote_addr().map(str::to_owned))
            .flatten()
            .and_then(|addr| {
                addr.parse::<IpAddr>()
                    .ok()
                    .or_else(|| addr.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
            });
        forwarded
            .or_else(|| req.peer_addr().map(|a| a.ip()))
            .unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }
}

/// The middleware factory.
pub struct RateLimit(pub Arc<AuthRateLimiter>);

impl<S, B> Transform<S, ServiceRequest> for RateLimit
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = RateLimitService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RateLimitService {
            service,
            limiter: Arc::clone(&self.0),
        }))
    }
}

/// The middleware service.
pub struct RateLimitService<S> {
    service: S,
    limiter: Arc<AuthRateLimiter>,
}

impl<S, B> Service<ServiceRequest> for RateLimitService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    /// Requests that are not limited pass through without a boxed future of this layer.
    type Future =
        Either<kernel::passthrough::PassLeft<S::Future, B, BoxBody>, Ready<Result<Self::Response, Self::Error>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if let Err(retry_after_secs) = self.limiter.check(&req) {
            let res = actix_web::ResponseError::error_response(&kernel::Error::RateLimited { retry_after_secs });
            return Either::Right(ready(Ok(req.into_response(res).map_into_right_body())));
        }
        Either::Left(kernel::passthrough::left(self.service.call(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::LIMITED_ROUTES;

    #[test]
    fn every_limited_route_is_a_post_route_of_the_route_table() {
        let doc = crate::app::openapi();
        for route in LIMITED_ROUTES {
            let path = kernel::routes::api_path(route);
            let item = doc.paths.paths.get(&path);
            assert!(
                item.is_some_and(|item| item.post.is_some()),
                "{path} is rate limited but is no POST route"
            );
        }
    }
}
