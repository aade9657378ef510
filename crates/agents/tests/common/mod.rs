//! Shared set-up of the service tests: a migrated in-memory SQLite database and users.

#![allow(dead_code)]

use agents::{AgentService, ProviderNames, ToolService};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use uuid::Uuid;

/// A fresh, migrated in-memory database (one connection: `:memory:` is per connection).
pub async fn database() -> DatabaseConnection {
    let mut options = ConnectOptions::new("sqlite::memory:");
    options
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .sqlx_logging(false);
    let db = Database::connect(options).await.expect("connect to sqlite");
    Migrator::up(&db, None).await.expect("migrate");
    db
}

/// Inserts a user row the way the users crate would, and returns its id.
pub async fn user(db: &DatabaseConnection, name: &str) -> Uuid {
    let id = Uuid::now_v7();
    let now = chrono::Utc::now();
    let insert = Statement::from_sql_and_values(
        db.get_database_backend(),
        "INSERT INTO users (id, email, username, full_name, password_hash, is_active, is_superuser, \
         sessions_revoked_at, created_at, updated_at) VALUES (?, ?, ?, NULL, 'x', ?, ?, NULL, ?, ?)",
        [
            id.into(),
            format!("{name}@example.com").into(),
            name.to_owned().into(),
            true.into(),
            false.into(),
            now.into(),
            now.into(),
        ],
    );
    db.execute_raw(insert).await.expect("insert user");
    id
}

/// The services over `db`, allowing `echo` and `openai`.
pub fn services(db: &DatabaseConnection) -> (AgentService, ToolService) {
    let providers = ProviderNames {
        allowed: vec!["openai".into()],
        default: "echo".into(),
    };
    (
        AgentService::new(db.clone(), providers),
        ToolService::new(db.clone()),
    )
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
