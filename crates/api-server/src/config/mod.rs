//! The service's configuration: one typed struct read from the environment (and `.env`).
//!
//! Every variable, its default and production advice: `docs/configuration.md`.

use std::time::Duration;

use serde::Deserialize;

mod check;
mod defaults;

pub use check::ConfigError;

/// The JWT secret used when none is configured in development. Production refuses it.
pub const DEV_JWT_SECRET: &str = "agentry-development-secret-change-me-please!";

/// Where the service runs; production refuses unsafe settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppEnv {
    /// Local development: safe defaults, warnings instead of refusals.
    Development,
    /// Automated tests.
    Test,
    /// A real deployment.
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Every setting of the server. Field `foo_bar` is read from `FOO_BAR`.
#[derive(Clone, Deserialize)]
pub struct Config {
    /// `APP_ENV`: development | test | production.
    #[serde(default = "defaults::app_env")]
    pub app_env: AppEnv,
    /// `HOST` to bind.
    #[serde(default = "defaults::host")]
    pub host: String,
    /// `PORT` to bind.
    #[serde(default = "defaults::port")]
    pub port: u16,
    /// `WORKERS`: HTTP worker threads (default: one per core).
    #[serde(default)]
    pub workers: Option<usize>,
    /// `DATABASE_URL`: `sqlite://...` or `postgres://...`.
    #[serde(default = "defaults::database_url")]
    pub database_url: String,
    /// `DATABASE_POOL_SIZE`: maximum connections.
    #[serde(default = "defaults::pool_size")]
    pub database_pool_size: u32,
    /// `DATABASE_POOL_MIN`: connections the pool keeps open (default: all of
    /// `DATABASE_POOL_SIZE` on PostgreSQL, 1 on SQLite; see [`Config::pool_min`]).
    #[serde(default)]
    pub database_pool_min: Option<u32>,
    /// `DATABASE_LANE_SIZE`: direct PostgreSQL connections for the hot reads by id, beside
    /// the pool, when the lane cannot pipeline (TLS; `kernel::lane`); 0 reads through the pool.
    #[serde(default = "defaults::lane_size")]
    pub database_lane_size: u32,
    /// `DATABASE_LANE_PER_THREAD`: pipelined PostgreSQL connections per thread for those
    /// reads when the URL says `sslmode=disable` (`kernel::lane::Pipelined`); 0: the direct lane.
    #[serde(default = "defaults::lane_per_thread")]
    pub database_lane_per_thread: u32,
    /// `DATABASE_CONNECT_TIMEOUT_SECS`: how long to wait for a connection.
    #[serde(default = "defaults::connect_timeout")]
    pub database_connect_timeout_secs: u64,
    /// `AUTO_MIGRATE`: apply pending migrations at start-up.
    #[serde(default = "defaults::yes")]
    pub auto_migrate: bool,
    /// `JWT_SECRET`: HS256 key, at least 32 bytes in production.
    #[serde(default)]
    pub jwt_secret: Option<String>,
    /// `SECRETS_KEY`: the AES-256 key users' secrets are encrypted under, 32 bytes as 64 hex
    /// characters or base64; required in production.
    #[serde(default)]
    pub secrets_key: Option<String>,
    /// `ACCESS_TOKEN_TTL_SECS`.
    #[serde(default = "defaults::access_ttl")]
    pub access_token_ttl_secs: i64,
    /// `REFRESH_TOKEN_TTL_SECS`.
    #[serde(default = "defaults::refresh_ttl")]
    pub refresh_token_ttl_secs: i64,
    /// `PASSWORD_RESET_TTL_SECS`.
    #[serde(default = "defaults::reset_ttl")]
    pub password_reset_ttl_secs: i64,
    /// `PASSWORD_RESET_URL`: the frontend page a reset mail links to (`?token=` is appended).
    #[serde(default)]
    pub password_reset_url: Option<String>,
    /// `BCRYPT_COST`: 4..=31.
    #[serde(default = "defaults::bcrypt_cost")]
    pub bcrypt_cost: u32,
    /// `CORS_ALLOWED_ORIGINS`: comma-separated origins, or `*`.
    #[serde(default)]
    pub cors_allowed_origins: Option<String>,
    /// `ACCOUNT_CACHE_TTL_SECS`: longest an account's standing is served from memory; 0 turns the cache off.
    #[serde(default = "defaults::account_cache_ttl")]
    pub account_cache_ttl_secs: u64,
    /// `AUTH_RATE_LIMIT_PER_MINUTE`: login/register/recovery requests per client IP and route.
    #[serde(default = "defaults::auth_rate")]
    pub auth_rate_limit_per_minute: u32,
    /// `TRUST_FORWARDED_FOR`: take the client IP from `X-Forwarded-For`/`Forwarded` (behind a proxy only).
    #[serde(default)]
    pub trust_forwarded_for: bool,
    /// `BODY_LIMIT_BYTES`: largest accepted request body.
    #[serde(default = "defaults::body_limit")]
    pub body_limit_bytes: usize,
    /// `BODY_READ_TIMEOUT_SECS`: how long a client may take to send a whole request body (`408` after).
    #[serde(default = "defaults::body_read_timeout")]
    pub body_read_timeout_secs: u64,
    /// `IDEMPOTENCY_TTL_SECS`: how long the answer to an `Idempotency-Key` is kept and replayed.
    #[serde(default = "defaults::idempotency_ttl")]
    pub idempotency_ttl_secs: u64,
    /// `FIRST_SUPERUSER_EMAIL`.
    #[serde(default)]
    pub first_superuser_email: Option<String>,
    /// `FIRST_SUPERUSER_PASSWORD`.
    #[serde(default)]
    pub first_superuser_password: Option<String>,
    /// `LOG_FORMAT`: pretty | json.
    #[serde(default = "defaults::log_format")]
    pub log_format: LogFormat,
    /// `SMTP_URL`: e.g. `smtps://user:pass@smtp.example.com`; unset logs mail instead.
    #[serde(default)]
    pub smtp_url: Option<String>,
    /// `MAIL_FROM`: sender of outgoing mail.
    #[serde(default = "defaults::mail_from")]
    pub mail_from: String,
    /// `OPENAI_BASE_URL`: any OpenAI-compatible Chat Completions API (OpenAI, vLLM, Ollama, llama.cpp).
    #[serde(default)]
    pub openai_base_url: Option<String>,
    /// `OPENAI_API_KEY`.
    #[serde(default)]
    pub openai_api_key: Option<String>,
    /// `ANTHROPIC_BASE_URL` (default `https://api.anthropic.com`).
    #[serde(default)]
    pub anthropic_base_url: Option<String>,
    /// `ANTHROPIC_API_KEY`.
    #[serde(default)]
    pub anthropic_api_key: Option<String>,
    /// `LLM_DEFAULT_PROVIDER`: provider of agents that name none (default: the first configured of openai, anthropic, echo).
    #[serde(default)]
    pub llm_default_provider: Option<String>,
    /// `LLM_DEFAULT_MODEL`: model of conversations without an agent.
    #[serde(default)]
    pub llm_default_model: Option<String>,
    /// `LLM_TIMEOUT_SECS`: per-call timeout (and the longest silence inside a stream).
    #[serde(default = "defaults::llm_timeout")]
    pub llm_timeout_secs: u64,
    /// `LLM_MAX_RETRIES`: retries on 429/5xx before the first byte.
    #[serde(default = "defaults::llm_retries")]
    pub llm_max_retries: u32,
    /// `SPEECH_DEFAULT_PROVIDER`: speech provider of requests that name none (default: the
    /// first configured of openai, elevenlabs, else echo).
    #[serde(default)]
    pub speech_default_provider: Option<String>,
    /// `SPEECH_TIMEOUT_SECS`: longest wait for a speech provider's answer, and longest gap while its audio streams.
    #[serde(default = "defaults::speech_timeout")]
    pub speech_timeout_secs: u64,
    /// `SPEECH_MAX_AUDIO_BYTES`: largest audio accepted for transcription and taken from a speech provider.
    #[serde(default = "defaults::speech_max_audio_bytes")]
    pub speech_max_audio_bytes: usize,
    /// `SPEECH_OPENAI_TTS_MODEL` (default `gpt-4o-mini-tts`).
    #[serde(default)]
    pub speech_openai_tts_model: Option<String>,
    /// `SPEECH_OPENAI_STT_MODEL` (default `whisper-1`).
    #[serde(default)]
    pub speech_openai_stt_model: Option<String>,
    /// `SPEECH_OPENAI_VOICE`: voice when a request names none (default `alloy`).
    #[serde(default)]
    pub speech_openai_voice: Option<String>,
    /// `ELEVENLABS_API_KEY`: enables the `elevenlabs` speech provider.
    #[serde(default)]
    pub elevenlabs_api_key: Option<String>,
    /// `ELEVENLABS_BASE_URL` without `/v1` (default `https://api.elevenlabs.io`).
    #[serde(default)]
    pub elevenlabs_base_url: Option<String>,
    /// `ELEVENLABS_VOICE_ID`: voice when a request names none.
    #[serde(default)]
    pub elevenlabs_voice_id: Option<String>,
    /// `ELEVENLABS_TTS_MODEL` (default `eleven_multilingual_v2`).
    #[serde(default)]
    pub elevenlabs_tts_model: Option<String>,
    /// `ELEVENLABS_STT_MODEL` (default `scribe_v2`).
    #[serde(default)]
    pub elevenlabs_stt_model: Option<String>,
    /// `CHAT_HISTORY_LIMIT`: how many of a conversation's last messages a reply is generated from.
    #[serde(default = "defaults::chat_history_limit")]
    pub chat_history_limit: u64,
    /// `SSE_KEEPALIVE_SECS`: interval of the `: keep-alive` comment on an idle event stream.
    #[serde(default = "defaults::sse_keepalive")]
    pub sse_keepalive_secs: u64,
    /// `ECHO_WORD_DELAY_MS`: pause of the `echo` provider before each streamed word (demos, load tests).
    #[serde(default)]
    pub echo_word_delay_ms: u64,
    /// `EXECUTION_WORKERS`: executions this process runs at once (0: serve the API only).
    #[serde(default = "defaults::execution_workers")]
    pub execution_workers: usize,
    /// `EXECUTION_MAX_DEPTH`: deepest sub-agent delegation (a top-level run has depth 0).
    #[serde(default = "defaults::execution_max_depth")]
    pub execution_max_depth: u32,
    /// `EXECUTION_MAX_STEPS`: provider calls one execution may make (tool round trips included).
    #[serde(default = "defaults::execution_max_steps")]
    pub execution_max_steps: u32,
    /// `EXECUTION_TIMEOUT_SECS`: longest run of a top-level execution with its sub-agents.
    #[serde(default = "defaults::execution_timeout")]
    pub execution_timeout_secs: u64,
    /// `EXECUTION_ACTION_TIMEOUT_SECS`: how long a run waits in `requires_action` before it ends `expired`.
    #[serde(default = "defaults::execution_action_timeout")]
    pub execution_action_timeout_secs: u64,
    /// `TOOL_CONCURRENCY`: server-side tool calls of one model turn run at once.
    #[serde(default = "defaults::tool_concurrency")]
    pub tool_concurrency: usize,
    /// `OUTBOUND_ALLOWLIST`: CIDRs and host names that calls made for users (HTTP tools, MCP)
    /// may reach although they are internal (loopback, private, link-local…); empty by default.
    #[serde(default)]
    pub outbound_allowlist: Option<String>,
    /// `MCP_SESSIONS_MAX`: MCP sessions (one per server and user) kept open for runs; the
    /// least recently used is closed first.
    #[serde(default = "defaults::mcp_sessions_max")]
    pub mcp_sessions_max: u64,
    /// `MCP_CALL_TIMEOUT_SECS`: longest wait for one `tools/call` of an MCP server (an error
    /// result for the model after it).
    #[serde(default = "defaults::mcp_call_timeout")]
    pub mcp_call_timeout_secs: u64,
    /// `EXECUTION_LEASE_SECS`: how long a claim outlives its last heartbeat (sent every third of it).
    #[serde(default = "defaults::execution_lease")]
    pub execution_lease_secs: u64,
    /// `EXECUTION_POLL_MS`: how often idle workers look for queued executions without a wake-up.
    #[serde(default = "defaults::execution_poll_ms")]
    pub execution_poll_ms: u64,
    /// `FILE_STORE_URL`: where uploaded files are kept: a directory (`file:///abs/path` or a
    /// plain path, default `./data/files`) or an S3-compatible bucket (`s3://bucket[/prefix]`,
    /// credentials and endpoint from the `AWS_*` variables).
    #[serde(default = "defaults::file_store_url")]
    pub file_store_url: String,
    /// `FILE_MAX_BYTES`: the largest upload (avatars: at most 2 MiB whatever this says).
    #[serde(default = "defaults::file_max_bytes")]
    pub file_max_bytes: u64,
    /// `FILE_QUOTA_BYTES`: what one user's files may take in all.
    #[serde(default = "defaults::file_quota_bytes")]
    pub file_quota_bytes: u64,
    /// S3 settings given in code rather than `AWS_*` variables (`("aws_endpoint", …)`): tests.
    #[serde(skip)]
    pub file_store_s3_options: Vec<(String, String)>,
    /// `SHUTDOWN_TIMEOUT_SECS`: grace period for in-flight requests on SIGTERM.
    #[serde(default = "defaults::shutdown_timeout")]
    pub shutdown_timeout_secs: u64,
}

impl Default for Config {
    #[allow(
        clippy::expect_used,
        reason = "every field has a serde default, so an empty environment always parses (tested)"
    )]
    fn default() -> Self {
        // An empty environment yields every default.
        envy::from_iter::<_, Config>(std::iter::empty::<(String, String)>()).expect("every field has a default")
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed.
        f.debug_struct("Config")
            .field("app_env", &self.app_env)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database_url", &redact_url(&self.database_url))
            .field("database_pool_size", &self.database_pool_size)
            .field("database_lane_size", &self.database_lane_size)
            .field("database_lane_per_thread", &self.database_lane_per_thread)
            .field("auto_migrate", &self.auto_migrate)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<redacted>"))
            .field("secrets_key", &self.secrets_key.as_ref().map(|_| "<redacted>"))
            .field("bcrypt_cost", &self.bcrypt_cost)
            .field("auth_rate_limit_per_minute", &self.auth_rate_limit_per_minute)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("body_read_timeout_secs", &self.body_read_timeout_secs)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("openai_base_url", &self.openai_base_url)
            .field("openai_api_key", &self.openai_api_key.as_ref().map(|_| "<redacted>"))
            .field(
                "anthropic_api_key",
                &self.anthropic_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("llm_default_provider", &self.llm_default_provider)
            .field(
                "elevenlabs_api_key",
                &self.elevenlabs_api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("speech_default_provider", &self.speech_default_provider)
            .field("file_store_url", &redact_url(&self.file_store_url))
            .finish_non_exhaustive()
    }
}

/// The URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Config {
    /// Reads `.env` (outside production, if present) and then the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        if std::env::var("APP_ENV").map(|v| v != "production").unwrap_or(true) {
            let _ = dotenvy::dotenv();
        }
        let vars = std::env::vars().filter(|(_, v)| !v.trim().is_empty());
        let config: Config = envy::from_iter(vars).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        Ok(config)
    }

    /// The HS256 secret in effect.
    pub fn jwt_secret(&self) -> &str {
        self.jwt_secret.as_deref().unwrap_or(DEV_JWT_SECRET)
    }

    /// The key secrets are encrypted under: `SECRETS_KEY`, or (when unset, outside
    /// production: [`Config::check`] refuses that in production) the public development key.
    /// A malformed `SECRETS_KEY` is an error naming it, in every environment.
    pub fn secrets_key(&self) -> Result<secrets::SecretsKey, ConfigError> {
        match self.secrets_key.as_deref() {
            Some(text) => secrets::SecretsKey::parse(text).map_err(|problem| ConfigError {
                variable: "SECRETS_KEY",
                problem,
            }),
            None => Ok(secrets::SecretsKey::development()),
        }
    }

    /// The file store `FILE_STORE_URL` names (the directory is created if missing).
    pub fn file_store(&self) -> Result<files::FileStore, ConfigError> {
        files::FileStore::open(&self.file_store_url, &self.file_store_s3_options).map_err(|e| ConfigError {
            variable: "FILE_STORE_URL",
            problem: e.to_string(),
        })
    }

    /// The caps of uploads.
    pub fn file_limits(&self) -> files::FileLimits {
        files::FileLimits {
            max_bytes: self.file_max_bytes,
            quota_bytes: self.file_quota_bytes,
        }
    }

    /// Allowed CORS origins (`["*"]` for any).
    pub fn cors_origins(&self) -> Vec<String> {
        self.cors_allowed_origins
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The outbound guard's exceptions (`OUTBOUND_ALLOWLIST`); an entry that is neither a
    /// CIDR, an address nor a host name is refused, naming it.
    pub fn outbound_policy(&self) -> Result<outbound::OutboundPolicy, ConfigError> {
        outbound::OutboundPolicy::parse(self.outbound_allowlist.as_deref().unwrap_or("")).map_err(|problem| {
            ConfigError {
                variable: "OUTBOUND_ALLOWLIST",
                problem,
            }
        })
    }

    /// How long an MCP `tools/call` may take (`MCP_CALL_TIMEOUT_SECS`).
    pub fn mcp_call_timeout(&self) -> Duration {
        Duration::from_secs(self.mcp_call_timeout_secs)
    }

    /// The execution runner's settings.
    pub fn executions(&self) -> executions::RunnerConfig {
        executions::RunnerConfig {
            workers: self.execution_workers,
            max_depth: self.execution_max_depth,
            max_steps: self.execution_max_steps,
            timeout: Duration::from_secs(self.execution_timeout_secs),
            lease: Duration::from_secs(self.execution_lease_secs),
            poll_interval: Duration::from_millis(self.execution_poll_ms),
            history_limit: self.chat_history_limit,
            tool_concurrency: self.tool_concurrency,
            action_timeout: Duration::from_secs(self.execution_action_timeout_secs),
            ..executions::RunnerConfig::default()
        }
    }

    /// The settings of the event streams (chat replies and execution events).
    pub fn streams(&self) -> executions::router::StreamSettings {
        executions::router::StreamSettings {
            keepalive: Duration::from_secs(self.sse_keepalive_secs.max(1)),
        }
    }

    /// The LLM provider settings.
    pub fn llm(&self) -> llm::LlmConfig {
        llm::LlmConfig {
            openai_base_url: self.openai_base_url.clone(),
            openai_api_key: self.openai_api_key.clone(),
            anthropic_base_url: self.anthropic_base_url.clone(),
            anthropic_api_key: self.anthropic_api_key.clone(),
            default_provider: self.llm_default_provider.clone(),
            default_model: self.llm_default_model.clone(),
            request_timeout: Duration::from_secs(self.llm_timeout_secs),
            max_retries: self.llm_max_retries,
            ..llm::LlmConfig::default()
        }
    }

    /// The speech provider settings (`OPENAI_*` shared with the LLM provider).
    pub fn speech(&self) -> speech::SpeechConfig {
        let defaults = speech::SpeechConfig::default();
        let or = |value: &Option<String>, default: String| value.clone().unwrap_or(default);
        speech::SpeechConfig {
            openai_base_url: self.openai_base_url.clone(),
            openai_api_key: self.openai_api_key.clone(),
            openai_tts_model: or(&self.speech_openai_tts_model, defaults.openai_tts_model),
            openai_stt_model: or(&self.speech_openai_stt_model, defaults.openai_stt_model),
            openai_voice: or(&self.speech_openai_voice, defaults.openai_voice),
            elevenlabs_api_key: self.elevenlabs_api_key.clone(),
            elevenlabs_base_url: self.elevenlabs_base_url.clone(),
            elevenlabs_voice_id: or(&self.elevenlabs_voice_id, defaults.elevenlabs_voice_id),
            elevenlabs_tts_model: or(&self.elevenlabs_tts_model, defaults.elevenlabs_tts_model),
            elevenlabs_stt_model: or(&self.elevenlabs_stt_model, defaults.elevenlabs_stt_model),
            default_provider: self.speech_default_provider.clone(),
            timeout: Duration::from_secs(self.speech_timeout_secs),
            max_audio_bytes: self.speech_max_audio_bytes,
            ..defaults
        }
    }

    /// How long an `Idempotency-Key` is kept.
    pub fn idempotency_ttl(&self) -> Duration {
        Duration::from_secs(self.idempotency_ttl_secs)
    }

    /// Connections the pool keeps open: `DATABASE_POOL_MIN`, else the whole pool on
    /// PostgreSQL — opening one over TLS took ~90 ms here (sqlx's socket waits twice on
    /// delayed ACKs during the handshake), which a burst of requests otherwise pays before
    /// its first statements — and 1 on SQLite (a file: opening is cheap).
    pub fn pool_min(&self) -> u32 {
        let default = if self.database_url.starts_with("postgres") {
            self.database_pool_size
        } else {
            1
        };
        self.database_pool_min.unwrap_or(default).min(self.database_pool_size)
    }

    /// The grace period of a graceful shutdown.
    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.shutdown_timeout_secs)
    }

    /// The reset page URL in effect.
    pub fn password_reset_url(&self) -> String {
        self.password_reset_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{}/reset-password", self.host, self.port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        envy::from_iter(vars.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
    }

    #[test]
    fn defaults_are_local_and_safe() {
        let c = Config::default();
        assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 8080));
        assert!(c.database_url.starts_with("sqlite://data/"));
        assert_eq!(c.access_token_ttl_secs, 900);
        assert_eq!(c.refresh_token_ttl_secs, 30 * 24 * 3600);
        assert_eq!(c.bcrypt_cost, 12);
        assert_eq!(c.body_limit_bytes, 1 << 20);
        assert_eq!(c.idempotency_ttl_secs, 24 * 3600);
    }

    #[test]
    fn the_idempotency_ttl_is_bounded() {
        assert!(config(&[("IDEMPOTENCY_TTL_SECS", "1")]).check().is_ok());
        assert!(config(&[("IDEMPOTENCY_TTL_SECS", "2592000")]).check().is_ok());
        for bad in ["0", "2592001"] {
            let err = config(&[("IDEMPOTENCY_TTL_SECS", bad)]).check().unwrap_err();
            assert_eq!(err.variable, "IDEMPOTENCY_TTL_SECS");
        }
    }

    #[test]
    fn the_pool_is_kept_full_on_postgres_unless_told_and_never_beyond_its_size() {
        let pg = ("DATABASE_URL", "postgres://db.example/agentry");
        assert_eq!(config(&[pg, ("DATABASE_POOL_SIZE", "12")]).pool_min(), 12);
        assert_eq!(config(&[("DATABASE_POOL_SIZE", "12")]).pool_min(), 1, "SQLite");
        let told = config(&[pg, ("DATABASE_POOL_SIZE", "12"), ("DATABASE_POOL_MIN", "3")]);
        assert_eq!(told.pool_min(), 3);
        assert!(told.check().is_ok());
        let err = config(&[pg, ("DATABASE_POOL_SIZE", "12"), ("DATABASE_POOL_MIN", "13")])
            .check()
            .unwrap_err();
        assert_eq!(err.variable, "DATABASE_POOL_MIN");
    }

    #[test]
    fn production_refuses_missing_or_short_secret_naming_the_variable() {
        let err = config(&[("APP_ENV", "production")]).check().unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
        let err = config(&[("APP_ENV", "production"), ("JWT_SECRET", "short")])
            .check()
            .unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
        let ok = config(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", &"x".repeat(32)),
            ("SECRETS_KEY", HEX_KEY),
        ])
        .check();
        assert!(ok.is_ok());
    }

    /// Production settings that pass every other check.
    const PROD_JWT: (&str, &str) = ("JWT_SECRET", "0123456789abcdef0123456789abcdef");
    const HEX_KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn the_secrets_key_is_hex_or_base64_of_32_bytes() {
        let hex = config(&[("SECRETS_KEY", HEX_KEY)]).secrets_key().unwrap();
        let base64 = config(&[("SECRETS_KEY", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=")])
            .secrets_key()
            .unwrap();
        assert_eq!(hex, base64, "the same 32 bytes written two ways");
        assert!(!hex.is_development());
        for bad in [&HEX_KEY[..62], "c2hvcnQ=", "definitely not a key"] {
            for env in ["development", "production"] {
                let c = config(&[("APP_ENV", env), PROD_JWT, ("SECRETS_KEY", bad)]);
                let err = c.secrets_key().unwrap_err();
                assert_eq!(err.variable, "SECRETS_KEY", "{bad}");
                assert!(!err.problem.contains(bad), "the error repeats the key: {err}");
                assert_eq!(c.check().unwrap_err().variable, "SECRETS_KEY", "{env}: {bad}");
            }
        }
    }

    #[test]
    fn production_refuses_to_start_without_a_secrets_key() {
        let err = config(&[("APP_ENV", "production"), PROD_JWT]).check().unwrap_err();
        assert_eq!(err.variable, "SECRETS_KEY");
        assert!(err.to_string().starts_with("SECRETS_KEY: is not set"), "{err}");
        let public = "agentry-insecure-development-key"
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        let err = config(&[("APP_ENV", "production"), PROD_JWT, ("SECRETS_KEY", &public)])
            .check()
            .unwrap_err();
        assert_eq!(err.variable, "SECRETS_KEY");
        assert!(err.problem.contains("development key"), "{err}");
        assert!(
            config(&[("APP_ENV", "production"), PROD_JWT, ("SECRETS_KEY", HEX_KEY)])
                .check()
                .is_ok()
        );
    }

    #[test]
    fn development_falls_back_to_a_logged_insecure_secrets_key() {
        let c = config(&[]);
        assert!(c.secrets_key().unwrap().is_development());
        let warnings = c.check().unwrap();
        assert_eq!(
            warnings.iter().filter(|w| w.contains("SECRETS_KEY")).count(),
            1,
            "{warnings:?}"
        );
        let warnings = config(&[("SECRETS_KEY", HEX_KEY)]).check().unwrap();
        assert!(!warnings.iter().any(|w| w.contains("SECRETS_KEY")), "{warnings:?}");
        let shown = format!("{:?}", config(&[("SECRETS_KEY", HEX_KEY)]));
        assert!(shown.contains("secrets_key") && !shown.contains(HEX_KEY), "{shown}");
    }

    #[test]
    fn development_only_warns() {
        let warnings = config(&[]).check().unwrap();
        assert!(warnings.iter().any(|w| w.contains("JWT_SECRET")));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = envy::from_iter::<_, Config>([("PORT".to_string(), "eighty".to_string())]).unwrap_err();
        assert!(err.to_string().to_lowercase().contains("port"), "{err}");
    }

    #[test]
    fn the_account_cache_ttl_is_bounded() {
        assert_eq!(Config::default().account_cache_ttl_secs, 30);
        assert!(
            config(&[("ACCOUNT_CACHE_TTL_SECS", "0")]).check().is_ok(),
            "0 turns it off"
        );
        assert!(config(&[("ACCOUNT_CACHE_TTL_SECS", "3600")]).check().is_ok());
        let err = config(&[("ACCOUNT_CACHE_TTL_SECS", "3601")]).check().unwrap_err();
        assert_eq!(err.variable, "ACCOUNT_CACHE_TTL_SECS");
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://data/a.db"), "sqlite://data/a.db");
    }
}
