//! Shared set-up of the service tests: a fresh migrated database (SQLite in memory, or a
//! fresh schema on the PostgreSQL server of `TEST_DATABASE_URL`), users, agents, services,
//! and scripted LLM providers.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use agents::schemas::AgentCreate;
use agents::{AgentService, ProviderNames};
use conversations::{ChatService, ConversationService};
use futures_util::stream::BoxStream;
use llm::{ChatRequest, ChatResponse, EchoProvider, LlmConfig, LlmError, Provider, ProviderRegistry, StreamEvent};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

/// A fresh, migrated database (see `migration::testing`).
pub async fn database() -> DatabaseConnection {
    migration::testing::database("conversations_test_").await
}

pub use migration::testing::user;

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

/// Parses a JSON literal into a request body.
pub fn body<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> T {
    serde_json::from_value(json).expect("a valid body")
}

/// The failing fields of a validation error (panics on any other result).
pub fn invalid_fields<T: std::fmt::Debug>(result: kernel::Result<T>) -> Vec<String> {
    match result {
        Err(kernel::Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// A provider that records every request and answers like echo, or fails as told.
#[derive(Default)]
pub struct Scripted {
    /// Every request received, in order.
    pub requests: Mutex<Vec<ChatRequest>>,
    /// When set, every call fails with it.
    pub failure: Option<LlmError>,
}

impl Scripted {
    /// A provider failing every call with `failure`.
    pub fn failing(failure: LlmError) -> Arc<Self> {
        Arc::new(Self {
            failure: Some(failure),
            ..Self::default()
        })
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().expect("lock").clone()
    }
}

impl Provider for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }

    fn complete(&self, req: ChatRequest) -> kernel::BoxFuture<'_, Result<ChatResponse, LlmError>> {
        self.requests.lock().expect("lock").push(req.clone());
        let failure = self.failure.clone();
        Box::pin(async move {
            match failure {
                Some(err) => Err(err),
                None => EchoProvider::new().complete(req).await,
            }
        })
    }

    fn stream(&self, req: ChatRequest) -> BoxStream<'static, Result<StreamEvent, LlmError>> {
        self.requests.lock().expect("lock").push(req.clone());
        match self.failure.clone() {
            // One delta gets out before the failure, as with a connection cut mid-answer.
            Some(err) => Box::pin(futures_util::stream::iter([
                Ok(StreamEvent::Delta("partial ".into())),
                Err(err),
            ])),
            None => EchoProvider::new()
                .with_word_delay(Duration::from_millis(1))
                .stream(req),
        }
    }
}
