//! Shared set-up: a fresh migrated database, users, and the services over it.

use std::sync::Arc;
use std::time::Duration;

use auth::{ApiKeyService, BcryptHasher};
use sea_orm::DatabaseConnection;
use users::{StandingCache, UserService};

pub use testkit::{body, invalid_fields, user};

/// A fresh, migrated database (see `testkit::database`).
pub async fn database() -> DatabaseConnection {
    testkit::database("auth_test_").await
}

/// The account service over `db`, with a live standing cache (as one process on SQLite
/// runs it) or none.
pub fn users(db: &DatabaseConnection, cached: bool) -> UserService {
    let users = UserService::new(db.clone(), Arc::new(BcryptHasher::new(4)));
    if cached {
        users.with_standing_cache(StandingCache::new(100, Duration::from_secs(600), true))
    } else {
        users
    }
}

/// The API key service over `db`, with a live standing cache.
pub fn api_keys(db: &DatabaseConnection) -> (ApiKeyService, UserService) {
    let users = users(db, true);
    (ApiKeyService::new(db.clone(), users.clone()), users)
}
