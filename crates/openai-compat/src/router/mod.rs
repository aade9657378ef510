//! The `/v1` routes: thin handlers that extract, call [`crate::OpenAiService`] and answer in
//! OpenAI's formats; [`OpenAiErrors`] adds OpenAI's `error` member to their problems.

mod chat;
pub mod docs;
mod errors;
mod models;
mod responses;
mod stream;

pub use errors::{OpenAiErrors, PREFIX, is_below_prefix, with_error_member};

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the `/v1` scope (mount at the root, beside `kernel::routes::API_PREFIX`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope(PREFIX)
            .service(models::list_models)
            .service(models::retrieve_model)
            .service(chat::create_chat_completion)
            .service(responses::create_response)
            .service(responses::retrieve_response)
            .service(responses::cancel_response)
            .service(responses::delete_response),
    );
}
