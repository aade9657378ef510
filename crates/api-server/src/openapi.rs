//! The OpenAPI document: the base (info, security schemes, shared components) that the
//! routes collected from every domain crate are merged into.

use utoipa::openapi::security::{Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi as OpenApiDoc};
use utoipa::{Modify, OpenApi};

/// The base document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Agentry API",
        description = "Users, authentication, configurable AI agents, conversations and background agent runs.\n\n\
            Errors are RFC 9457 problem details (`application/problem+json`). Use **Authorize** \
            with a username (or email) and password to log in through the OAuth2 password flow, \
            or paste an API key (`agk_…`, from `POST /api/v1/api-keys`) under `api_key`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(kernel::Problem, kernel::FieldError, openai_compat::schemas::error::OpenAiProblem, openai_compat::schemas::error::ErrorObject)),
    modifiers(&SecuritySchemes, &ProblemResponses),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Registration, login, token refresh, password reset"),
        (name = "users", description = "The caller's account and user administration"),
        (name = "api-keys", description = "Long-lived API keys (`Authorization: Bearer agk_…`): create (the key is shown once), list, read, revoke. Managed with a login's access token only"),
        (name = "agents", description = "Configurable AI agents: provider, model, prompt, tools and sub-agents"),
        (name = "tools", description = "Function definitions (JSON Schema parameters) that agents may call"),
        (name = "conversations", description = "Conversations with an agent and their messages; replies whole or streamed (Server-Sent Events)"),
        (name = "chat", description = "Send a message to a new or existing conversation and get the reply, whole or streamed"),
        (name = "files", description = "Uploads (multipart, type detected from the content, size caps and a quota per user), downloads with ranges and ETags, deletion"),
        (name = "secrets", description = "Named values for tools (`{{secret:NAME}}` in a header): write, list, delete. Encrypted at rest; a value is never returned"),
        (name = "mcp-servers", description = "Remote MCP (Model Context Protocol) servers whose tools your agents may call: add (the server is contacted and its tools listed), list, read, change, refresh, delete. Header values are write-only"),
        (name = "audio", description = "Speech: text to audio and audio to text, through an OpenAI-compatible audio API, ElevenLabs, or the offline `echo` stand-in (a WAV of tones that encode the text, which `echo` transcription reads back)"),
        (name = "executions", description = "Background agent runs: start, follow live over a WebSocket or replay their events, cancel"),
        (name = "websocket", description = "Live streams over a WebSocket. Not plain HTTP calls: each operation carries `x-websocket: true`, and client generators should leave them out"),
        (name = "openai", description = "The OpenAI-compatible API under `/v1` (not `/api/v1`): the official OpenAI SDKs and tools built on them (Open WebUI…) talk to your agents. Each of your live agents is a model; authenticate with an API key (`agk_…`) or an access token. Errors are problem+json with OpenAI's `error: {message, type, param, code}` added"),
        (name = "examples", description = "A browser page that starts an execution and shows its events live"),
    )
)]
pub struct BaseDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("agk_…")
                    .description(Some(
                        "An API key from `POST /api/v1/api-keys`, sent as `Authorization: Bearer agk_…`. \
                         Not accepted by the `/api-keys` routes, `POST /users/me/password` and `DELETE /users/me`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::Password(Password::new(
                    kernel::routes::api_path("/auth/login"),
                    Scopes::new(),
                ))],
                "Log in with a username or email and a password.",
            )),
        );
    }
}

struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let extra = ComponentsBuilder::new()
            .responses_from_iter(kernel::openapi::problem_responses())
            .responses_from_iter(openai_compat::router::docs::problem_responses())
            .build();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.responses.extend(extra.responses);
    }
}

/// The base document with the version of this build.
pub fn base() -> OpenApiDoc {
    let mut doc = BaseDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}
