//! Connecting to the database and applying migrations.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::config::Config;

/// Connects to `DATABASE_URL`. For SQLite the file (and its folder) is created on first
/// start, and the connection uses WAL, a busy timeout and enforced foreign keys.
pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let url = config.database_url.as_str();
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(config.database_pool_size)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(config.database_connect_timeout_secs))
        .acquire_timeout(Duration::from_secs(config.database_connect_timeout_secs))
        // No ping before every checkout: it doubles the round trips of a request. A dead
        // connection fails its query instead (a 503), and the pool replaces it.
        .test_before_acquire(false)
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_dir(url) {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating the database folder {dir}"))?;
        }
        options.map_sqlx_sqlite_opts(|o| {
            o.create_if_missing(true)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    }
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", crate::config::redact_url(url)))
}

/// The folder of a file-backed SQLite URL, if it has one.
fn sqlite_dir(url: &str) -> Option<String> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path.starts_with(":memory:") {
        return None;
    }
    let parent = std::path::Path::new(path).parent()?;
    let parent = parent.to_str()?;
    (!parent.is_empty()).then(|| parent.to_owned())
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("applying migrations")
}

#[cfg(test)]
mod tests {
    use super::sqlite_dir;

    #[test]
    fn sqlite_folders() {
        assert_eq!(sqlite_dir("sqlite://data/agentry.db").as_deref(), Some("data"));
        assert_eq!(sqlite_dir("sqlite:///tmp/x/a.db?mode=rwc").as_deref(), Some("/tmp/x"));
        assert_eq!(sqlite_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_dir("sqlite://a.db"), None);
    }
}
