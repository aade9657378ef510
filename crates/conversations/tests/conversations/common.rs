//! Shared set-up of the service tests: a fresh migrated database (SQLite in memory, or a
//! fresh schema on the PostgreSQL server of `TEST_DATABASE_URL`), users, agents, services,
//! and scripted LLM providers.

use std::sync::Arc;

use agents::schemas::AgentCreate;
use agents::{AgentService, ProviderNames};
use conversations::{ChatService, ConversationService};
use llm::{LlmConfig, Provider, ProviderRegistry};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

pub use testkit::{ScriptedProvider, body, invalid_fields, user};

/// A fresh, migrated database (see `testkit::database`).
pub async fn database() -> DatabaseConnection {
    testkit::database("conversations_test_").await
}

/// Everything a test drives.
pub struct Services {
    pub db: DatabaseConnection,
    pub agents: AgentService,
    pub conversations: ConversationService,
    pub chat: ChatService,
}

/// The services over a fresh database, with `echo` plus `extra` providers and a history of `history_limit`.
pub async fn services(extra: Vec<(&str, Arc<dyn Provider>)>, history_limit: u64) -> Services {
    let db = database().await;
    let mut registry = ProviderRegistry::from_config(&LlmConfig::default()).expect("registry");
    for (name, provider) in extra {
        registry = registry.with_provider(name, provider);
    }
    let agents = AgentService::new(
        db.clone(),
        ProviderNames {
            allowed: registry.names(),
            default: registry.default_provider().to_owned(),
        },
    );
    let conversations = ConversationService::new(db.clone(), agents.clone());
    let chat = ChatService::new(conversations.clone(), agents.clone(), registry, history_limit);
    Services {
        db,
        agents,
        conversations,
        chat,
    }
}

/// Creates an agent of `owner` from a JSON body.
pub async fn agent(services: &Services, owner: Uuid, body: serde_json::Value) -> Uuid {
    let input: AgentCreate = serde_json::from_value(body).expect("an agent body");
    services.agents.create(owner, input).await.expect("create agent").id
}
