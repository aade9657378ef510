//! The `/conversations` and `/chat` routes: thin handlers that extract, call the services,
//! and answer with JSON or a Server-Sent Events stream.

mod conversations;
mod messages;
mod sse;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the `/conversations` and `/chat` routes (mount under `/api/v1`).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/conversations")
            .service(conversations::create_conversation)
            .service(conversations::list_conversations)
            .service(conversations::read_conversation)
            .service(conversations::update_conversation)
            .service(conversations::delete_conversation)
            .service(messages::list_messages)
            .service(messages::post_message),
    )
    .service(utoipa_actix_web::scope("/chat").service(messages::post_chat_message));
}
