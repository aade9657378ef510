//! The `/agents` and `/tools` routes: thin handlers that extract, call the services, and answer.

mod agents;
mod tools;

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the `/agents` and `/tools` routes (mount under `kernel::routes::API_PREFIX`).
/// The agent routes are plain resources, not an `/agents` scope: a scope would take every
/// `/agents/…` path, including `executions`' `/agents/{agent_id}/execute`, and make the
/// result depend on mounting order.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(agents::create_agent)
        .service(agents::list_agents)
        .service(agents::read_agent)
        .service(agents::update_agent)
        .service(agents::delete_agent)
        .service(
            utoipa_actix_web::scope("/tools")
                .service(tools::create_tool)
                .service(tools::list_tools)
                .service(tools::read_tool)
                .service(tools::update_tool)
                .service(tools::delete_tool),
        );
}
