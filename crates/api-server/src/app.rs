//! The composed application: routes of every domain crate, middleware, docs.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{App, web};
use kernel::TokenVerifier;
use kernel::extract::{BodyLimit, BodyTimeout, form_config, json_config, path_config, query_config};
use kernel::idempotency::StreamReplay;
use utoipa::openapi::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};

use crate::middleware::cors::{CrossOrigin, cors};
use crate::middleware::idempotency::{self, Idempotency};
use crate::middleware::rate_limit::RateLimit;
use crate::middleware::request_context::RequestContextMiddleware;
use crate::state::AppState;
use crate::{examples, fallback, health};

/// Registers every documented route: the probes and each domain's `/api/v1` routes.
fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(examples::execution_viewer)
        .service(
            utoipa_actix_web::scope(kernel::routes::API_PREFIX)
                .configure(auth::router::configure)
                .configure(users::router::configure)
                .configure(agents::router::configure)
                .configure(conversations::router::configure)
                .configure(executions::router::configure)
                .configure(secrets::router::configure)
                .configure(mcp::router::configure)
                .configure(speech::router::configure)
                .configure(files::router::configure),
        )
        .configure(openai_compat::router::configure);
}

/// The OpenAPI document of every route, as served at `/openapi.json`.
pub fn openapi() -> OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(crate::openapi::base())
        .configure(routes)
        .split_for_parts();
    idempotency::scope::document(&mut doc);
    doc
}

/// Where the OpenAPI document is served (Swagger UI reads it from there).
const OPENAPI_URL: &str = "/openapi.json";

/// `GET /openapi.json`: the document serialized at start-up (as Swagger UI's own resource
/// answered it, without keeping the document in every worker and serializing it per request).
fn openapi_json(body: web::Bytes) -> actix_web::Resource {
    web::resource(OPENAPI_URL).guard(actix_web::guard::Get()).to(move || {
        let body = body.clone();
        async move {
            actix_web::HttpResponse::Ok()
                .content_type(header::ContentType::json())
                .body(body)
        }
    })
}

/// One worker's application over the shared `state`.
pub fn build(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = state.config.body_limit_bytes;
    let verifier: Arc<dyn TokenVerifier> = Arc::new(state.auth.clone());
    // A replayed streaming POST answers with the execution it ran.
    let stream_replay: Arc<dyn StreamReplay> = Arc::new(state.executions.clone());
    App::new()
        .app_data(web::Data::new(state.db.clone()))
        .app_data(web::Data::new(state.users.clone()))
        .app_data(web::Data::new(state.auth.clone()))
        .app_data(web::Data::new(state.agents.clone()))
        .app_data(web::Data::new(state.tools.clone()))
        .app_data(web::Data::new(state.conversations.clone()))
        .app_data(web::Data::new(state.executions.clone()))
        .app_data(web::Data::new(state.secrets.clone()))
        .app_data(web::Data::new(state.mcp_servers.clone()))
        .app_data(web::Data::new(state.files.clone()))
        .app_data(web::Data::new(state.avatars.clone()))
        .app_data(web::Data::new(state.openai.clone()))
        .app_data(web::Data::new(state.speech.clone()))
        .app_data(web::Data::from(verifier))
        .app_data(web::Data::from(stream_replay))
        .app_data(web::Data::new(Arc::clone(&state.routes)))
        .app_data(state.shutdown.clone())
        .app_data(state.config.streams())
        .app_data(BodyLimit(limit))
        .app_data(BodyTimeout(std::time::Duration::from_secs(
            state.config.body_read_timeout_secs,
        )))
        .app_data(web::PayloadConfig::new(limit))
        .app_data(json_config(limit))
        .app_data(form_config(limit))
        .app_data(query_config())
        .app_data(path_config())
        .configure(|cfg| routes(&mut ServiceConfig::new(cfg)))
        .service(openapi_json(state.openapi_json.clone()))
        .service(SwaggerUi::new("/docs/{_:.*}").config(SwaggerConfig::from(OPENAPI_URL)))
        .default_service(web::to(fallback::unmatched))
        // Inside the rate limit and the request context: a limited request claims no key,
        // and the problems it answers carry the request id.
        .wrap(Idempotency {
            store: state.idempotency.clone(),
            routes: Arc::clone(&state.idempotent_routes),
        })
        // Outside the idempotency answers, so those below `/v1` get OpenAI's `error` too.
        .wrap(openai_compat::router::OpenAiErrors)
        .wrap(RateLimit(Arc::clone(&state.rate_limiter)))
        .wrap(CrossOrigin(cors(&state.config.cors_origins())))
        .wrap(state.metrics.clone())
        // Outermost; it also answers `Connection: close` once the process is stopping.
        .wrap(RequestContextMiddleware(state.shutdown.clone()))
}
