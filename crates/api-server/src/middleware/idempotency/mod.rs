//! `Idempotency-Key` on every authenticated `POST` (see [`scope`]): the first request with a
//! key claims it in the database and runs; its answer is stored and replayed to the same
//! request sent again with that key; the key sent with another request is a `422`, and
//! while the first is still running a `409`. The store is `kernel::idempotency`.

mod answer;
pub mod scope;

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::future::{Either, LocalBoxFuture};
use kernel::idempotency::{Claim, HEADER, IdempotencyStore, is_valid_key};
use kernel::{Error, TokenVerifier};
use uuid::Uuid;

use self::answer::{Claimed, replay};
pub use self::scope::{IDEMPOTENT_PREFIXES, IdempotentRoutes};

/// The middleware factory.
pub struct Idempotency {
    /// Where keys are claimed and answers stored.
    pub store: IdempotencyStore,
    /// The routes it applies to.
    pub routes: Arc<IdempotentRoutes>,
}

impl<S, B> Transform<S, ServiceRequest> for Idempotency
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = IdempotencyService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(IdempotencyService {
            service: Rc::new(service),
            store: self.store.clone(),
            routes: Arc::clone(&self.routes),
        }))
    }
}

/// The middleware service.
pub struct IdempotencyService<S> {
    service: Rc<S>,
    store: IdempotencyStore,
    routes: Arc<IdempotentRoutes>,
}

impl<S, B> Service<ServiceRequest> for IdempotencyService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    /// Requests without a key pass through without a boxed future of this layer.
    type Future = Either<
        kernel::passthrough::PassLeft<S::Future, B, BoxBody>,
        LocalBoxFuture<'static, Result<Self::Response, Self::Error>>,
    >;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if !req.headers().contains_key(HEADER) || !self.routes.covers(&req) {
            return Either::Left(kernel::passthrough::left(self.service.call(req)));
        }
        let service = Rc::clone(&self.service);
        let store = self.store.clone();
        Either::Right(Box::pin(async move {
            // Keys are the caller's: without a valid login the handler answers (401) as usual.
            let Some(user_id) = caller(&req).await else {
                return Ok(service.call(req).await?.map_into_left_body());
            };
            handle(service, req, store, user_id).await
        }))
    }
}

/// The user the request's bearer token names, through the verifier the `Principal`
/// extractor uses (so every kind of credential it accepts counts).
async fn caller(req: &ServiceRequest) -> Option<Uuid> {
    let token = kernel::principal::bearer_token(req.request())?;
    let verifier = req.app_data::<web::Data<dyn TokenVerifier>>()?;
    verifier.verify(token).await.ok().map(|p| p.user_id)
}

/// The key of the request; exactly one header of 1..=255 visible ASCII characters.
fn key_of(req: &ServiceRequest) -> Result<String, Error> {
    let mut values = req.headers().get_all(HEADER);
    let invalid = || Error::invalid(HEADER, "must be one header of 1 to 255 visible ASCII characters");
    let value = values.next().ok_or_else(invalid)?;
    if values.next().is_some() || !is_valid_key(value.as_bytes()) {
        return Err(invalid());
    }
    value.to_str().map(str::to_owned).map_err(|_| invalid())
}

/// Claims the key of an idempotent request and runs it, or answers from the key.
async fn handle<S, B>(
    service: Rc<S>,
    mut req: ServiceRequest,
    store: IdempotencyStore,
    user_id: Uuid,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    let key = match key_of(&req) {
        Ok(key) => key,
        Err(err) => return Ok(refuse(req, &err)),
    };
    // Bounded like every body the handlers read (BODY_LIMIT_BYTES, 413 past it); the
    // handler then reads the same bytes.
    let mut payload = req.take_payload();
    let body = match kernel::extract::read_body(req.request(), &mut payload).await {
        Ok(body) => body,
        Err(err) => return Ok(refuse(req, &err)),
    };
    req.set_payload(Payload::from(body.clone()));
    let target = req.uri().path_and_query().map_or("", |p| p.as_str()).to_owned();
    let fingerprint = kernel::idempotency::fingerprint(req.method().as_str(), &target, &body);
    let claim = match store.claim(user_id, &key, &fingerprint).await {
        Ok(claim) => claim,
        Err(err) => return Ok(refuse(req, &err)),
    };
    match claim {
        Claim::Acquired(id) => Claimed::new(store, id).run(service, req).await,
        Claim::Replay(recorded) => {
            let res = replay(req.request(), user_id, recorded).await;
            Ok(req.into_response(res).map_into_right_body())
        }
        Claim::InFlight => Ok(refuse(req, &kernel::idempotency::in_use())),
        Claim::Reused => Ok(refuse(req, &kernel::idempotency::reused())),
    }
}

/// Answers `req` with the problem of `err`.
fn refuse<B>(req: ServiceRequest, err: &Error) -> ServiceResponse<EitherBody<B>> {
    let res: actix_web::HttpResponse<BoxBody> = err.error_response();
    req.into_response(res).map_into_right_body()
}
