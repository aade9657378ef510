//! Shared set-up of the service tests: a fresh migrated database (SQLite in memory, or a
//! fresh schema on the PostgreSQL server of `TEST_DATABASE_URL`), users and the service.

use sea_orm::DatabaseConnection;
use secrets::{SecretService, SecretsKey};

pub use testkit::{invalid_fields, user};

/// A key other than the development one.
pub const OTHER_KEY: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// The service over a fresh database, under the development key.
pub async fn service() -> (DatabaseConnection, SecretService) {
    let db = testkit::database("secrets_test_").await;
    let service = SecretService::new(db.clone(), SecretsKey::development());
    (db, service)
}

/// Names as the run engine passes them.
pub fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// The key named [`OTHER_KEY`].
pub fn other_key() -> SecretsKey {
    SecretsKey::parse(OTHER_KEY).unwrap()
}
