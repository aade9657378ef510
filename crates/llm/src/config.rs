//! The settings the providers are built from (the api-server fills them from the environment).

use std::fmt;
use std::time::Duration;

/// Anthropic's public endpoint, used when no base URL is configured.
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// OpenAI's public endpoint, used when only a key is configured.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// The Messages API version sent in `anthropic-version` unless configured otherwise.
pub const DEFAULT_ANTHROPIC_VERSION: &str = "2023-06-01";

/// Provider endpoints, keys, defaults and network limits.
#[derive(Clone)]
pub struct LlmConfig {
    /// Base URL of an OpenAI-compatible API (`OPENAI_BASE_URL`); setting it alone enables `openai`.
    pub openai_base_url: Option<String>,
    /// Bearer key for the OpenAI-compatible API (`OPENAI_API_KEY`).
    pub openai_api_key: Option<String>,
    /// Base URL of the Anthropic API (`ANTHROPIC_BASE_URL`); [`DEFAULT_ANTHROPIC_BASE_URL`] when unset.
    pub anthropic_base_url: Option<String>,
    /// Anthropic key (`ANTHROPIC_API_KEY`); enables `anthropic`.
    pub anthropic_api_key: Option<String>,
    /// The `anthropic-version` header value.
    pub anthropic_version: String,
    /// The provider used when an agent names none (`LLM_DEFAULT_PROVIDER`).
    pub default_provider: Option<String>,
    /// The model used when an agent names none (`LLM_DEFAULT_MODEL`).
    pub default_model: Option<String>,
    /// Limit of a whole call; for a stream, of the wait for the answer and of each gap between chunks (`LLM_TIMEOUT_SECS`).
    pub request_timeout: Duration,
    /// Limit of establishing a connection.
    pub connect_timeout: Duration,
    /// Extra attempts after a 429, a 5xx or a connection failure (`LLM_MAX_RETRIES`).
    pub max_retries: u32,
    /// The wait before the first retry; it doubles with each further one.
    pub retry_base_delay: Duration,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self {
            openai_base_url: None,
            openai_api_key: None,
            anthropic_base_url: None,
            anthropic_api_key: None,
            anthropic_version: DEFAULT_ANTHROPIC_VERSION.to_owned(),
            default_provider: None,
            default_model: None,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_retries: 2,
            retry_base_delay: Duration::from_millis(500),
        }
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |key: &Option<String>| key.as_ref().map(|_| "[redacted]");
        f.debug_struct("LlmConfig")
            .field("openai_base_url", &self.openai_base_url)
            .field("openai_api_key", &redacted(&self.openai_api_key))
            .field("anthropic_base_url", &self.anthropic_base_url)
            .field("anthropic_api_key", &redacted(&self.anthropic_api_key))
            .field("anthropic_version", &self.anthropic_version)
            .field("default_provider", &self.default_provider)
            .field("default_model", &self.default_model)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .finish()
    }
}

/// The value if it holds more than whitespace: an empty environment variable counts as unset.
pub(crate) fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_keys() {
        let config = LlmConfig {
            openai_api_key: Some("sk-openai-secret".into()),
            anthropic_api_key: Some("sk-ant-secret".into()),
            ..LlmConfig::default()
        };
        let text = format!("{config:?}");
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn blank_values_count_as_unset() {
        assert_eq!(non_empty(&Some("  ".into())), None);
        assert_eq!(non_empty(&Some(" x ".into())), Some("x"));
        assert_eq!(non_empty(&None), None);
    }
}
