//! Shared set-up of the service tests: a fresh migrated database (SQLite in memory, or a
//! fresh schema on the PostgreSQL server of `TEST_DATABASE_URL`), users, agents, services,
//! and services.

use agents::schemas::AgentCreate;
use agents::{AgentService, ProviderNames};
use conversations::ConversationService;
use llm::{LlmConfig, ProviderRegistry};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

pub use testkit::{body, invalid_fields, user};

/// A fresh, migrated database (see `testkit::database`).
pub async fn database() -> DatabaseConnection {
    testkit::database("conversations_test_").await
}

/// Everything a test drives.
pub struct Services {
    pub db: DatabaseConnection,
    pub agents: AgentService,
    pub conversations: ConversationService,
}

/// The services over a fresh database (agents may name the built-in providers).
pub async fn services() -> Services {
    let db = database().await;
    let registry = ProviderRegistry::from_config(&LlmConfig::default()).expect("registry");
    let agents = AgentService::new(
        db.clone(),
        ProviderNames {
            allowed: registry.names(),
            default: registry.default_provider().to_owned(),
        },
    );
    let files = files::FilesService::new(db.clone(), files::FileStore::memory(), files::FileLimits::default());
    let conversations = ConversationService::new(db.clone(), agents.clone(), files);
    Services {
        db,
        agents,
        conversations,
    }
}

/// Creates an agent of `owner` from a JSON body.
pub async fn agent(services: &Services, owner: Uuid, body: serde_json::Value) -> Uuid {
    let input: AgentCreate = serde_json::from_value(body).expect("an agent body");
    services.agents.create(owner, input).await.expect("create agent").id
}
