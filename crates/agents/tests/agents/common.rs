//! Shared set-up of the service tests: a fresh migrated database (SQLite in memory, or a
//! fresh schema on the PostgreSQL server of `TEST_DATABASE_URL`), users, and the services.

use agents::{AgentService, ProviderNames, ToolService};
use sea_orm::DatabaseConnection;

pub use testkit::{body, invalid_fields, user};

/// A fresh, migrated database (see `testkit::database`).
pub async fn database() -> DatabaseConnection {
    testkit::database("agents_test_").await
}

/// The services over `db`, allowing `echo` and `openai`.
pub fn services(db: &DatabaseConnection) -> (AgentService, ToolService) {
    let providers = ProviderNames {
        allowed: vec!["openai".into()],
        default: "echo".into(),
    };
    (AgentService::new(db.clone(), providers), ToolService::new(db.clone()))
}
