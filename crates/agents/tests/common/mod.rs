//! Shared set-up of the service tests: a fresh migrated database (SQLite in memory, or a
//! fresh schema on the PostgreSQL server of `TEST_DATABASE_URL`) and users.

#![allow(dead_code)]

use agents::{AgentService, ProviderNames, ToolService};
use sea_orm::DatabaseConnection;

/// A fresh, migrated database (see `migration::testing`).
pub async fn database() -> DatabaseConnection {
    migration::testing::database("agents_test_").await
}

pub use migration::testing::user;

/// The services over `db`, allowing `echo` and `openai`.
pub fn services(db: &DatabaseConnection) -> (AgentService, ToolService) {
    let providers = ProviderNames {
        allowed: vec!["openai".into()],
        default: "echo".into(),
    };
    (AgentService::new(db.clone(), providers), ToolService::new(db.clone()))
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
