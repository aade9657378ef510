//! The execution routes: thin handlers that extract, call [`crate::ExecutionService`], and
//! answer; and the WebSocket stream of an execution's events.

mod chat;
mod executions;
mod frame_limit;
mod sse;
mod ws;

pub use sse::StreamSettings;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers `POST /agents/{agent_id}/execute`, `POST /conversations/{id}/messages`,
/// `POST /chat/messages`, `/executions…` and `/ws/executions/{id}`
/// (mount under `kernel::routes::API_PREFIX`; the order against the agents' routes does not matter).
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(executions::execute_agent)
        .service(chat::post_message)
        .service(chat::post_chat_message)
        .service(
            utoipa_actix_web::scope("/executions")
                .service(executions::list_executions)
                .service(executions::read_execution)
                .service(executions::cancel_execution)
                .service(executions::submit_inputs)
                .service(executions::list_execution_events),
        )
        .service(ws::watch_execution);
}
