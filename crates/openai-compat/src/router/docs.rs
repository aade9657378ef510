//! The error responses of `/v1` operations in the OpenAPI document: problem+json bodies that
//! also carry OpenAI's `error` object ([`OpenAiProblem`]). Operations reference them by
//! name; `api-server` registers them with [`problem_responses`] (and the schema with the
//! rest of the document).

use utoipa::ToResponse;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

#[allow(unused_imports, reason = "named in the doc comments")]
use crate::schemas::error::OpenAiProblem;

fn problem_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            kernel::problem::PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("OpenAiProblem")))
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

        /// Every `/v1` problem response, for registration as OpenAPI components.
        pub fn problem_responses() -> Vec<(&'static str, RefOr<Response>)> {
            vec![$((stringify!($name), problem_response($description)),)*]
        }
    };
}

problem_responses! {
    OpenAiUnauthorized => "Missing, invalid, revoked or expired API key or token (`type: authentication_error`); carries `WWW-Authenticate: Bearer`.",
    OpenAiNotFound => "No such model (`code: model_not_found`, `param: model`) or response: not one of the caller's (`type: not_found_error`).",
    OpenAiConflict => "Nothing a retry can fix (`type: conflict_error`): the run was cancelled or expired before it answered. Carries `x-should-retry: false`.",
    OpenAiPayloadTooLarge => "The request body is larger than the configured limit.",
    OpenAiUnsupportedMediaType => "The body is not JSON.",
    OpenAiUnprocessable => "A parameter is invalid or not supported (`n` > 1, `audio`, `logprobs`, an image part, a model name two agents share…): `error.param` names the first, `errors` every one.",
    OpenAiBadGateway => "The agent's LLM provider failed (`type: server_error`).",
    OpenAiServiceUnavailable => "The database does not answer, or the server stopped before the answer was complete.",
    OpenAiGatewayTimeout => "The agent's LLM provider did not answer in time.",
}
