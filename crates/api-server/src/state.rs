//! Everything built once at start-up and shared by the HTTP workers.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use auth::{AuthService, AuthSettings, BcryptHasher, JwtKeys, LogMailer, Mailer, SmtpMailer};
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;
use users::{StandingCache, UserService};

use crate::config::{AppEnv, Config};
use crate::fallback::RouteTable;
use crate::middleware::idempotency::IdempotentRoutes;
use crate::middleware::metrics::Metrics;
use crate::middleware::rate_limit::AuthRateLimiter;

/// Accounts whose standing one process keeps in memory (a few MiB at most).
const ACCOUNT_CACHE_CAPACITY: u64 = 20_000;
/// What the `/v1` model names one process keeps in memory may hold, weighed (an agent with
/// a 32,000-character system prompt weighs ~32 KB): 32 MiB.
const MODEL_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// The services and shared state of one server process.
#[derive(Clone)]
pub struct AppState {
    /// The configuration in effect.
    pub config: Arc<Config>,
    /// The database pool.
    pub db: DatabaseConnection,
    /// User accounts.
    pub users: UserService,
    /// Accounts' standing, cached for the token check (`None` when turned off).
    pub standing: Option<StandingCache>,
    /// Cancelled when the process's background tasks must stop.
    pub background: CancellationToken,
    /// The graceful stop as open event streams and WebSockets see it.
    pub shutdown: kernel::Shutdown,
    /// Authentication (also the token verifier).
    pub auth: AuthService,
    /// The configured LLM providers.
    pub llm: llm::ProviderRegistry,
    /// Agents (their provider names come from `llm`).
    pub agents: agents::AgentService,
    /// Tools agents may call.
    pub tools: agents::ToolService,
    /// Conversations and their messages.
    pub conversations: conversations::ConversationService,
    /// Users' secrets, encrypted at rest (for the run engine's tools too).
    pub secrets: secrets::SecretService,
    /// Users' files (uploads, avatars, attachments).
    pub files: files::FilesService,
    /// Users' avatars (files shown on their accounts).
    pub avatars: users::AvatarService,
    /// Users' MCP servers (contacted through the outbound guard).
    pub mcp_servers: mcp::McpServerService,
    /// Background agent runs: start, read, cancel, watch.
    pub executions: executions::ExecutionService,
    /// Claims and runs queued executions (started by `server::start`).
    pub runner: executions::Runner,
    /// Text-to-speech and transcription (echo, OpenAI-compatible, ElevenLabs).
    pub speech: speech::SpeechService,
    /// The OpenAI-compatible `/v1` API over agents and executions.
    pub openai: openai_compat::OpenAiService,
    /// Credential-route rate limiter.
    pub rate_limiter: Arc<AuthRateLimiter>,
    /// Prometheus metrics (served at `/metrics`).
    pub metrics: Metrics,
    /// The OpenAPI document served at `/openapi.json`, serialized once at start-up: the
    /// document itself is dropped once the route tables below are read from it (kept, and
    /// cloned into every HTTP worker for Swagger UI, it held several MiB of the idle RSS).
    pub openapi_json: Bytes,
    /// Known routes, for `405` answers.
    pub routes: Arc<RouteTable>,
    /// Idempotency keys and the answers they replay.
    pub idempotency: kernel::idempotency::IdempotencyStore,
    /// The routes that accept an `Idempotency-Key`.
    pub idempotent_routes: Arc<IdempotentRoutes>,
}

impl AppState {
    /// Builds every service over `db`. `mailer` overrides the configured one (tests).
    pub fn build(config: Config, db: DatabaseConnection, mailer: Option<Arc<dyn Mailer>>) -> anyhow::Result<Self> {
        let mailer = match (mailer, config.smtp_url.as_deref()) {
            (Some(mailer), _) => mailer,
            (None, Some(url)) => Arc::new(SmtpMailer::new(url, &config.mail_from)?) as Arc<dyn Mailer>,
            (None, None) => Arc::new(LogMailer::new(config.app_env != AppEnv::Production)),
        };
        let hasher = Arc::new(BcryptHasher::new(config.bcrypt_cost));
        let standing = (config.account_cache_ttl_secs > 0).then(|| {
            // Fed by the PostgreSQL relay (started by `server::start`), the cache serves
            // only once it listens; on SQLite this process sees every change itself.
            let live = db.get_database_backend() != sea_orm::DbBackend::Postgres;
            StandingCache::new(
                ACCOUNT_CACHE_CAPACITY,
                Duration::from_secs(config.account_cache_ttl_secs),
                live,
            )
        });
        let users = UserService::new(db.clone(), hasher);
        let users = match &standing {
            Some(cache) => users.with_standing_cache(cache.clone()),
            None => users,
        };
        let settings = AuthSettings {
            access_ttl_secs: config.access_token_ttl_secs,
            refresh_ttl_secs: config.refresh_token_ttl_secs,
            reset_ttl_secs: config.password_reset_ttl_secs,
            reset_url: config.password_reset_url(),
        };
        let auth = AuthService::new(
            db.clone(),
            users.clone(),
            JwtKeys::new(config.jwt_secret().as_bytes()),
            mailer,
            settings,
        );
        let llm =
            llm::ProviderRegistry::from_config(&config.llm()).map_err(|e| anyhow::anyhow!("LLM providers: {e}"))?;
        let llm = match config.echo_word_delay_ms {
            0 => llm,
            ms => llm.with_provider(
                "echo",
                Arc::new(llm::EchoProvider::new().with_word_delay(Duration::from_millis(ms))),
            ),
        };
        let provider_names = agents::ProviderNames {
            allowed: llm.names(),
            default: llm.default_provider().to_owned(),
        };
        let lane = kernel::lane::Lane::for_db(
            &db,
            &config.database_url,
            kernel::lane::LaneSize {
                direct: config.database_lane_size,
                per_thread: config.database_lane_per_thread,
                connect_timeout: Duration::from_secs(config.database_connect_timeout_secs),
            },
        );
        let agents = agents::AgentService::new(db.clone(), provider_names).with_lane(lane);
        // `/v1` model names resolve from memory, forgotten with the account cache (same
        // relay, same pause); without the account cache, from the database every time.
        let agents = match &standing {
            Some(cache) => {
                let models = agents::ModelCache::new(
                    MODEL_CACHE_BYTES,
                    Duration::from_secs(config.account_cache_ttl_secs),
                    cache.is_live(),
                );
                cache.follow(Arc::new(models.clone()));
                agents.with_model_cache(models)
            }
            None => agents,
        };
        let tools = agents::ToolService::new(db.clone());
        let files = files::FilesService::new(db.clone(), config.file_store()?, config.file_limits());
        let conversations = conversations::ConversationService::new(db.clone(), agents.clone(), files.clone());
        let secrets = secrets::SecretService::new(db.clone(), config.secrets_key()?);
        let avatars = users::AvatarService::new(users.clone(), files.clone());
        let runner_config = config.executions();
        let broker = executions::Broker::new(runner_config.fanout_capacity);
        let runner = executions::Runner::new(
            db.clone(),
            broker,
            agents.clone(),
            conversations.clone(),
            llm.clone(),
            runner_config,
        );
        let outbound = outbound::OutboundClient::new(config.outbound_policy()?)
            .map_err(|e| anyhow::anyhow!("the outbound HTTP client: {e}"))?;
        let mcp_servers = mcp::McpServerService::new(db.clone(), secrets.clone(), outbound.clone());
        runner.set_mcp_runtime(mcp::McpRuntime::new(
            mcp_servers.clone(),
            config.mcp_sessions_max,
            config.mcp_call_timeout(),
        ));
        runner.set_tool_runtime(executions::ToolRuntime::new(secrets.clone(), outbound));
        let speech = speech::SpeechService::from_config(&config.speech())
            .map_err(|e| anyhow::anyhow!("speech providers: {e}"))?
            .with_files(files.clone());
        runner.set_speech(speech.clone());
        let executions = executions::ExecutionService::new(runner.clone());
        let openai = openai_compat::OpenAiService::new(agents.clone(), executions.clone());
        let metrics = Metrics::new("agentry").map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let openapi = crate::app::openapi();
        let routes = Arc::new(RouteTable::from_openapi(&openapi));
        let idempotent_routes = Arc::new(IdempotentRoutes::from_openapi(&openapi));
        let openapi_json = Bytes::from(
            serde_json::to_vec(&openapi).map_err(|e| anyhow::anyhow!("serializing the OpenAPI document: {e}"))?,
        );
        drop(openapi);
        let idempotency = kernel::idempotency::IdempotencyStore::new(db.clone(), config.idempotency_ttl());
        Ok(Self {
            rate_limiter: Arc::new(AuthRateLimiter::new(
                config.auth_rate_limit_per_minute,
                config.trust_forwarded_for,
            )),
            config: Arc::new(config),
            db,
            users,
            standing,
            background: CancellationToken::new(),
            shutdown: kernel::Shutdown::default(),
            auth,
            llm,
            agents,
            tools,
            conversations,
            secrets,
            files,
            avatars,
            mcp_servers,
            executions,
            runner,
            openai,
            speech,
            metrics,
            openapi_json,
            routes,
            idempotency,
            idempotent_routes,
        })
    }
}
