//! The configured providers by name, with the default provider and model.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::non_empty;
use crate::echo::ECHO_MODEL;
use crate::http::build_client;
use crate::{AnthropicProvider, EchoProvider, LlmConfig, LlmError, OpenAiProvider, Provider};

/// The model `openai` uses when none is configured.
const OPENAI_DEFAULT_MODEL: &str = "gpt-4o-mini";
/// The model `anthropic` uses when none is configured.
const ANTHROPIC_DEFAULT_MODEL: &str = "claude-sonnet-4-5";

/// Every usable provider by name; cheap to clone and share.
#[derive(Clone)]
pub struct ProviderRegistry {
    providers: Arc<BTreeMap<String, Arc<dyn Provider>>>,
    default_provider: String,
    default_model: String,
}

impl ProviderRegistry {
    /// `echo` always; `openai` when its key or base URL is set; `anthropic` when its key is set.
    /// Fails when the configured default provider is not among them.
    pub fn from_config(config: &LlmConfig) -> Result<Self, LlmError> {
        let openai_keyed = non_empty(&config.openai_api_key).is_some();
        let openai_enabled = openai_keyed || non_empty(&config.openai_base_url).is_some();
        let anthropic_keyed = non_empty(&config.anthropic_api_key).is_some();

        let mut providers: BTreeMap<String, Arc<dyn Provider>> = BTreeMap::new();
        providers.insert("echo".into(), Arc::new(EchoProvider::new()));
        if openai_enabled || anthropic_keyed {
            let client = build_client(config)?;
            if openai_enabled {
                providers.insert(
                    "openai".into(),
                    Arc::new(OpenAiProvider::with_client(client.clone(), config)?),
                );
            }
            if anthropic_keyed {
                providers.insert(
                    "anthropic".into(),
                    Arc::new(AnthropicProvider::with_client(client, config)?),
                );
            }
        }

        let default_provider = match non_empty(&config.default_provider) {
            Some(name) if providers.contains_key(name) => name.to_owned(),
            Some(name) => return Err(LlmError::UnknownProvider(name.to_owned())),
            None if openai_keyed => "openai".to_owned(),
            None if anthropic_keyed => "anthropic".to_owned(),
            None => "echo".to_owned(),
        };
        let default_model = match non_empty(&config.default_model) {
            Some(model) => model.to_owned(),
            None => fallback_model(&default_provider).to_owned(),
        };
        tracing::info!(
            providers = ?providers.keys().collect::<Vec<_>>(),
            default_provider,
            default_model,
            "LLM providers configured"
        );
        Ok(Self {
            providers: Arc::new(providers),
            default_provider,
            default_model,
        })
    }

    /// The same registry with `provider` registered (or replaced) under `name`.
    pub fn with_provider(mut self, name: impl Into<String>, provider: Arc<dyn Provider>) -> Self {
        Arc::make_mut(&mut self.providers).insert(name.into(), provider);
        self
    }

    /// The provider registered under `name`.
    pub fn get(&self, name: &str) -> Result<Arc<dyn Provider>, LlmError> {
        self.providers
            .get(name)
            .cloned()
            .ok_or_else(|| LlmError::UnknownProvider(name.to_owned()))
    }

    /// Whether a provider is registered under `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.providers.contains_key(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }

    /// The provider used when an agent names none.
    pub fn default_provider(&self) -> &str {
        &self.default_provider
    }

    /// The model used when an agent names none.
    pub fn default_model(&self) -> &str {
        &self.default_model
    }
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("default_provider", &self.default_provider)
            .field("default_model", &self.default_model)
            .finish()
    }
}

/// The model a provider uses when none is configured.
fn fallback_model(provider: &str) -> &'static str {
    match provider {
        "openai" => OPENAI_DEFAULT_MODEL,
        "anthropic" => ANTHROPIC_DEFAULT_MODEL,
        _ => ECHO_MODEL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_echo_without_configuration() {
        let registry = ProviderRegistry::from_config(&LlmConfig::default()).expect("registry");
        assert_eq!(registry.names(), vec!["echo"]);
        assert_eq!(registry.default_provider(), "echo");
        assert_eq!(registry.default_model(), "echo-1");
        assert!(matches!(registry.get("openai"), Err(LlmError::UnknownProvider(_))));
    }

    #[test]
    fn a_base_url_alone_enables_openai_without_making_it_default() {
        let config = LlmConfig {
            openai_base_url: Some("http://localhost:11434/v1".into()),
            ..LlmConfig::default()
        };
        let registry = ProviderRegistry::from_config(&config).expect("registry");
        assert_eq!(registry.names(), vec!["echo", "openai"]);
        assert_eq!(registry.default_provider(), "echo");
    }

    #[test]
    fn keys_choose_the_default_openai_first() {
        let config = LlmConfig {
            openai_api_key: Some("sk-o".into()),
            anthropic_api_key: Some("sk-a".into()),
            ..LlmConfig::default()
        };
        let registry = ProviderRegistry::from_config(&config).expect("registry");
        assert_eq!(registry.names(), vec!["anthropic", "echo", "openai"]);
        assert_eq!(registry.default_provider(), "openai");
        assert_eq!(registry.default_model(), "gpt-4o-mini");

        let config = LlmConfig {
            anthropic_api_key: Some("sk-a".into()),
            ..LlmConfig::default()
        };
        let registry = ProviderRegistry::from_config(&config).expect("registry");
        assert_eq!(registry.default_provider(), "anthropic");
        assert_eq!(registry.default_model(), "claude-sonnet-4-5");
    }

    #[test]
    fn configured_defaults_win_and_must_exist() {
        let config = LlmConfig {
            openai_api_key: Some("sk-o".into()),
            default_provider: Some("echo".into()),
            default_model: Some("my-model".into()),
            ..LlmConfig::default()
        };
        let registry = ProviderRegistry::from_config(&config).expect("registry");
        assert_eq!(registry.default_provider(), "echo");
        assert_eq!(registry.default_model(), "my-model");

        let config = LlmConfig {
            default_provider: Some("anthropic".into()),
            ..LlmConfig::default()
        };
        assert_eq!(
            ProviderRegistry::from_config(&config).err(),
            Some(LlmError::UnknownProvider("anthropic".into()))
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = LlmConfig {
            openai_api_key: Some(String::new()),
            openai_base_url: Some(" ".into()),
            default_provider: Some(String::new()),
            ..LlmConfig::default()
        };
        let registry = ProviderRegistry::from_config(&config).expect("registry");
        assert_eq!(registry.names(), vec!["echo"]);
    }

    #[test]
    fn a_base_url_that_is_no_url_is_refused_at_start_naming_it() {
        let config = LlmConfig {
            openai_base_url: Some("api.example.com/v1".into()),
            ..LlmConfig::default()
        };
        let Err(err) = ProviderRegistry::from_config(&config) else {
            panic!("a base URL that is no URL was accepted");
        };
        assert!(
            err.to_string()
                .contains("`api.example.com/v1/chat/completions` is not a URL"),
            "{err}"
        );
    }

    #[test]
    fn fakes_can_be_registered() {
        let registry = ProviderRegistry::from_config(&LlmConfig::default())
            .expect("registry")
            .with_provider("fake", Arc::new(EchoProvider::new()));
        assert!(registry.contains("fake"));
        assert_eq!(registry.get("fake").expect("registered").name(), "echo");
    }
}
