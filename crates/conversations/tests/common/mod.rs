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
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tokio::sync::OnceCell;
use uuid::Uuid;

const SCHEMA_PREFIX: &str = "conversations_test_";

/// A fresh, migrated database.
pub async fn database() -> DatabaseConnection {
    let db = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => postgres(&url).await,
        _ => {
            // `:memory:` is one database per connection: exactly one, never recycled.
            let mut options = ConnectOptions::new("sqlite::memory:");
            options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .sqlx_logging(false)
                .map_sqlx_sqlite_opts(|o| o.foreign_keys(true));
            Database::connect(options).await.expect("connect to sqlite")
        }
    };
    Migrator::up(&db, None).await.expect("migrate");
    db
}

async fn postgres(url: &str) -> DatabaseConnection {
    static CLEANED: OnceCell<()> = OnceCell::const_new();
    let admin = Database::connect(url).await.expect("connect to postgres");
    CLEANED.get_or_init(|| drop_leftover_schemas(&admin)).await;
    let schema = format!("{SCHEMA_PREFIX}{}", Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    let mut options = ConnectOptions::new(url);
    options
        .set_schema_search_path(schema)
        .max_connections(4)
        .sqlx_logging(false);
    Database::connect(options).await.expect("connect to the test schema")
}

async fn drop_leftover_schemas(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT nspname FROM pg_namespace WHERE nspname LIKE '{SCHEMA_PREFIX}%'"),
        ))
        .await
        .expect("list schemas");
    for row in rows {
        let name: String = row.try_get("", "nspname").expect("a schema name");
        admin
            .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
            .await
            .expect("drop schema");
    }
}

/// Inserts a user row the way the users crate would, and returns its id.
pub async fn user(db: &DatabaseConnection, name: &str) -> Uuid {
    let id = Uuid::now_v7();
    let now = chrono::Utc::now();
    let insert = Query::insert()
        .into_table("users")
        .columns([
            "id",
            "email",
            "username",
            "password_hash",
            "is_active",
            "is_superuser",
            "created_at",
            "updated_at",
        ])
        .values_panic([
            id.into(),
            format!("{name}@example.com").into(),
            name.into(),
            "x".into(),
            true.into(),
            false.into(),
            now.into(),
            now.into(),
        ])
        .to_owned();
    db.execute(&insert).await.expect("insert user");
    id
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
