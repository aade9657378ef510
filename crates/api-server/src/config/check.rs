//! What the server refuses to start with, and what it only warns about.

use super::{AppEnv, Config, DEV_JWT_SECRET};

/// The longest an idempotency key may be kept: its stored answers are bounded by it.
const MAX_IDEMPOTENCY_TTL_SECS: u64 = 30 * 24 * 3600;

/// A setting the service refuses to start with.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable to set or fix.
    pub variable: &'static str,
    /// What is wrong.
    pub problem: String,
}

impl Config {
    /// Refusals (any environment) and, outside production, warnings for unsafe settings.
    pub fn check(&self) -> Result<Vec<String>, ConfigError> {
        let mut warnings = Vec::new();
        if !(4..=31).contains(&self.bcrypt_cost) {
            return Err(ConfigError {
                variable: "BCRYPT_COST",
                problem: "must be between 4 and 31".into(),
            });
        }
        if self.auth_rate_limit_per_minute == 0 {
            return Err(ConfigError {
                variable: "AUTH_RATE_LIMIT_PER_MINUTE",
                problem: "must be at least 1".into(),
            });
        }
        if self.account_cache_ttl_secs > 3600 {
            return Err(ConfigError {
                variable: "ACCOUNT_CACHE_TTL_SECS",
                problem: "must be at most 3600 (0 turns the cache off)".into(),
            });
        }
        if !(1..=MAX_IDEMPOTENCY_TTL_SECS).contains(&self.idempotency_ttl_secs) {
            return Err(ConfigError {
                variable: "IDEMPOTENCY_TTL_SECS",
                problem: format!("must be between 1 and {MAX_IDEMPOTENCY_TTL_SECS} (30 days)"),
            });
        }
        if self.chat_history_limit == 0 {
            return Err(ConfigError {
                variable: "CHAT_HISTORY_LIMIT",
                problem: "must be at least 1".into(),
            });
        }
        for (variable, value) in [
            ("EXECUTION_MAX_STEPS", u64::from(self.execution_max_steps)),
            ("EXECUTION_TIMEOUT_SECS", self.execution_timeout_secs),
            ("EXECUTION_LEASE_SECS", self.execution_lease_secs),
            ("EXECUTION_POLL_MS", self.execution_poll_ms),
            ("EXECUTION_ACTION_TIMEOUT_SECS", self.execution_action_timeout_secs),
            ("MCP_SESSIONS_MAX", self.mcp_sessions_max),
            ("MCP_CALL_TIMEOUT_SECS", self.mcp_call_timeout_secs),
            ("SPEECH_TIMEOUT_SECS", self.speech_timeout_secs),
            (
                "SPEECH_MAX_AUDIO_BYTES",
                u64::try_from(self.speech_max_audio_bytes).unwrap_or(u64::MAX),
            ),
            (
                "TOOL_CONCURRENCY",
                u64::try_from(self.tool_concurrency).unwrap_or(u64::MAX),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError {
                    variable,
                    problem: "must be at least 1".into(),
                });
            }
        }
        self.outbound_policy()?;
        for (variable, value) in [
            ("FILE_MAX_BYTES", self.file_max_bytes),
            ("FILE_QUOTA_BYTES", self.file_quota_bytes),
        ] {
            if value == 0 {
                return Err(ConfigError {
                    variable,
                    problem: "must be at least 1".into(),
                });
            }
        }
        if self.database_pool_size == 0 {
            return Err(ConfigError {
                variable: "DATABASE_POOL_SIZE",
                problem: "must be at least 1".into(),
            });
        }
        if let Some(min) = self.database_pool_min
            && min > self.database_pool_size
        {
            return Err(ConfigError {
                variable: "DATABASE_POOL_MIN",
                problem: format!("must be at most DATABASE_POOL_SIZE ({})", self.database_pool_size),
            });
        }
        let secret_problem = match self.jwt_secret.as_deref() {
            None => Some("is not set".to_owned()),
            Some(DEV_JWT_SECRET) => Some("is the public development default".to_owned()),
            Some(s) if s.len() < 32 => Some(format!("is {} bytes; use at least 32 random bytes", s.len())),
            Some(_) => None,
        };
        if let Some(problem) = secret_problem {
            if self.app_env == AppEnv::Production {
                return Err(ConfigError {
                    variable: "JWT_SECRET",
                    problem: format!("{problem} (e.g. `openssl rand -hex 32`)"),
                });
            }
            warnings.push(format!("JWT_SECRET {problem}; using an insecure development secret"));
        }
        let secrets_key = self.secrets_key()?;
        let secrets_key_problem = match (&self.secrets_key, secrets_key.is_development()) {
            (None, _) => Some("is not set"),
            (Some(_), true) => Some("is the public development key"),
            (Some(_), false) => None,
        };
        if let Some(problem) = secrets_key_problem {
            if self.app_env == AppEnv::Production {
                return Err(ConfigError {
                    variable: "SECRETS_KEY",
                    problem: format!("{problem}; {}", secrets::SecretsKey::ADVICE),
                });
            }
            warnings.push(format!(
                "SECRETS_KEY {problem}; users' secrets are encrypted with an insecure development key"
            ));
        }
        if self.app_env == AppEnv::Production && self.bcrypt_cost < 10 {
            return Err(ConfigError {
                variable: "BCRYPT_COST",
                problem: "must be at least 10 in production".into(),
            });
        }
        if self.app_env == AppEnv::Production && self.cors_allowed_origins.as_deref() == Some("*") {
            warnings.push("CORS_ALLOWED_ORIGINS is `*`: any web origin may call the API".into());
        }
        if self.smtp_url.is_none() && self.app_env == AppEnv::Production {
            warnings.push("SMTP_URL is not set: password-reset mail is only logged".into());
        }
        Ok(warnings)
    }
}
