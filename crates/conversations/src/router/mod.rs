//! The `/conversations` routes: thin handlers that extract, call the service, and answer.
//! Sending a message (`POST /conversations/{id}/messages`, `POST /chat/messages`) starts a
//! run and is routed by the `executions` crate.

mod conversations;
mod messages;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the `/conversations` routes (mount under `kernel::routes::API_PREFIX`). They are
/// plain resources, not a `/conversations` scope: a scope would take every
/// `/conversations/…` path, including `executions`' `POST /conversations/{id}/messages`,
/// and make the result depend on mounting order.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(conversations::create_conversation)
        .service(conversations::list_conversations)
        .service(conversations::read_conversation)
        .service(conversations::update_conversation)
        .service(conversations::delete_conversation)
        .service(messages::list_messages);
}
