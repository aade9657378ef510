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
        .min_connections(config.pool_min())
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
        options
            .map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
            })
            .map_sqlx_sqlite_pool_opts(|pool| pool.after_connect(|conn, _| Box::pin(stable_plans(conn))));
    }
    Database::connect(options)
        .await
        .with_context(|| format!("connecting to {}", crate::config::redact_url(url)))
}

/// Turns on SQLite's query planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`) on a
/// new connection: a statement's plan no longer depends on the values bound to it. Without
/// it SQLite (3.47 and later) reads a bound `LIMIT ?` while planning — and any `col = ?` a
/// partial index's condition might match — marks the statement as depending on that value
/// and prepares it again at every execution, cached or not: a fifth of the server's CPU
/// under `just bench-openai` went to parsing the same two `SELECT`s over and over. The
/// statements that need a partial index name its condition literally (executions' queue).
#[allow(unsafe_code, reason = "the guarantee has no PRAGMA: one sqlite3_db_config call")]
async fn stable_plans(conn: &mut sea_orm::sqlx::SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    use std::os::raw::c_int;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle();
    let mut enabled: c_int = 0;
    // SAFETY: `lock_handle` keeps the connection's worker thread off the handle while
    // `handle` lives, so this is the only call on it; `db` is that open handle, and
    // SQLITE_DBCONFIG_ENABLE_QPSG takes an int (1: on) and a pointer to an int it writes
    // the resulting setting to, which `enabled` outlives.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db.as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            &raw mut enabled,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK || enabled != 1 {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused the query planner stability guarantee (code {rc})").into(),
        ));
    }
    Ok(())
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
    use sea_orm::{ConnectionTrait, Statement};

    use super::sqlite_dir;

    /// The query plan of `sql` with `values` bound, as SQLite explains it.
    async fn plan(db: &sea_orm::DatabaseConnection, sql: &str, values: Vec<sea_orm::Value>) -> String {
        let explain =
            Statement::from_sql_and_values(db.get_database_backend(), format!("EXPLAIN QUERY PLAN {sql}"), values);
        let rows = db.query_all_raw(explain).await.unwrap();
        rows.iter()
            .map(|row| row.try_get::<String>("", "detail").unwrap())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// SQLite connections plan without looking at bound values: a bound `LIMIT ?` or
    /// `col = ?` no longer makes a statement be prepared again at each execution. What shows
    /// it: a partial index whose condition only a bound value would meet is not used, and
    /// is when the statement names the value.
    #[tokio::test]
    async fn sqlite_plans_do_not_depend_on_bound_values() {
        let dir = std::env::temp_dir().join(format!("agentry-db-{}", uuid::Uuid::new_v4().simple()));
        let config = crate::config::Config {
            database_url: format!("sqlite://{}/plans.db", dir.display()),
            ..crate::config::Config::default()
        };
        let db = super::connect(&config).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT NOT NULL, at INTEGER NOT NULL); \
             CREATE INDEX ix_jobs_queued ON jobs (at) WHERE status = 'queued';",
        )
        .await
        .unwrap();
        let bound = plan(
            &db,
            "SELECT id FROM jobs WHERE status = ? ORDER BY at LIMIT ?",
            vec!["queued".into(), 1i64.into()],
        )
        .await;
        assert!(
            !bound.contains("ix_jobs_queued"),
            "the plan read a bound value: {bound}"
        );
        let named = plan(
            &db,
            "SELECT id FROM jobs WHERE status = 'queued' ORDER BY at LIMIT ?",
            vec![1i64.into()],
        )
        .await;
        assert!(named.contains("ix_jobs_queued"), "{named}");
        db.close().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sqlite_folders() {
        assert_eq!(sqlite_dir("sqlite://data/agentry.db").as_deref(), Some("data"));
        assert_eq!(sqlite_dir("sqlite:///tmp/x/a.db?mode=rwc").as_deref(), Some("/tmp/x"));
        assert_eq!(sqlite_dir("sqlite::memory:"), None);
        assert_eq!(sqlite_dir("sqlite://a.db"), None);
    }
}
