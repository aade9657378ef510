//! Middleware that lets most requests through untouched, without a boxed future.
//!
//! A middleware answering `ServiceResponse<EitherBody<B, R>>` usually wraps the inner
//! service's future in a `Box::pin(async move { … map_into_left_body() })`: one allocation
//! and one dynamic poll per layer and request, even on requests the layer never looks at.
//! [`left`] maps the inner future in place instead, with a type a `Service::Future` can name:
//! `Either<PassLeft<S::Future, B, R>, …>` for the path that does look.

use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use futures_util::TryFutureExt;
use futures_util::future::MapOk;

/// The inner service's future, its body put on the left of an [`EitherBody`].
pub type PassLeft<F, B, R> = MapOk<F, fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B, R>>>;

/// `answer`, its body put on the left of an [`EitherBody`] when it is ready.
pub fn left<F, B, R>(answer: F) -> PassLeft<F, B, R>
where
    F: std::future::Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    answer.map_ok(ServiceResponse::map_into_left_body as fn(ServiceResponse<B>) -> ServiceResponse<EitherBody<B, R>>)
}
