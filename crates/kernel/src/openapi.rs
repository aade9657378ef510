//! Reusable OpenAPI responses: every error status with the problem+json schema.
//!
//! Operations reference these by name (`(status = 404, response = kernel::openapi::NotFound)`);
//! `api-server` registers them all as components with [`problem_responses`].

use utoipa::ToResponse;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

use crate::problem::PROBLEM_JSON;

fn problem_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

macro_rules! problem_responses {
    ($($name:ident => $description:literal,)*) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), problem_response($description))
                }
            }
        )*

        /// Every problem response, for registration as OpenAPI components.
        pub fn problem_responses() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$((stringify!($name), problem_response($description)),)*]
        }
    };
}

problem_responses! {
    BadRequest => "The request cannot be honoured (problem+json).",
    Unauthorized => "Missing, invalid or expired credentials; carries `WWW-Authenticate: Bearer`.",
    Forbidden => "Authenticated, but not allowed to do this.",
    NotFound => "No such resource, or it belongs to another user.",
    Conflict => "A unique value (such as a name or an email) is already taken.",
    PayloadTooLarge => "The request body is larger than the configured limit.",
    UnsupportedMediaType => "The body is not JSON (or not a form, where a form is read), or has a `Content-Encoding`.",
    UnprocessableContent => "Validation failed: `errors` lists every failing field (empty for a body that is not JSON).",
    TooManyRequests => "Rate limited; carries `Retry-After` (seconds).",
    ServiceUnavailable => "The database does not answer.",
    BadGateway => "The upstream LLM provider failed.",
    GatewayTimeout => "The upstream LLM provider did not answer in time.",
    IdempotencyKeyInUse => "`code: idempotency_key_in_use`: the first request sent with this `Idempotency-Key` is still being handled; retry later.",
    IdempotencyKeyReused => "`code: idempotency_key_reused`: this `Idempotency-Key` was first sent with a different method, path or body (`errors` names `Idempotency-Key`); an invalid key is a `validation_failed` naming it.",
}
