//! A fresh, migrated database per test.
//!
//! SQLite by default; with `TEST_DATABASE_URL=postgres://…` PostgreSQL. Everything a test
//! creates on the server is named `<kind>_<pid>_<uuid>`, so a run drops only the leftovers
//! of test processes that are gone (another test binary may be running at the same time).

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::sync::OnceCell;
use uuid::Uuid;

/// The PostgreSQL server the tests run on (`TEST_DATABASE_URL`), if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres"))
}

/// Whether the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_url().is_some()
}

/// The PostgreSQL URL, for a test that needs PostgreSQL. Such a test is marked
/// `#[cfg_attr(not(test_postgres), ignore = "…")]`, so a SQLite run reports it as ignored;
/// run by hand (`--ignored`) without `TEST_DATABASE_URL`, it fails here with the reason.
pub fn require_postgres() -> String {
    postgres_url().expect("this test needs PostgreSQL: set TEST_DATABASE_URL=postgres://…")
}

/// A fresh migrated database behind one pool, for service tests: SQLite in memory, or a new
/// schema `<prefix><pid>_<uuid>` on the PostgreSQL server (`prefix` names the test suite,
/// e.g. `agents_test_`).
pub async fn database(prefix: &str) -> DatabaseConnection {
    let db = match postgres_url() {
        Some(url) => postgres_schema(&url, prefix).await,
        None => {
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

async fn postgres_schema(url: &str, prefix: &str) -> DatabaseConnection {
    let admin = Database::connect(url).await.expect("connect to TEST_DATABASE_URL");
    drop_leftovers(&admin).await;
    let schema = format!("{prefix}{}_{}", std::process::id(), Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    let _ = admin.close().await;
    let mut options = ConnectOptions::new(url);
    options
        .set_schema_search_path(schema)
        .max_connections(6)
        .sqlx_logging(false);
    Database::connect(options).await.expect("connect to the test schema")
}

/// A database that exists for one test and is removed afterwards, for tests that start a
/// server on it (the server opens its own pool from [`TestDatabase::url`] and migrates it).
pub struct TestDatabase {
    /// Its connection URL.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// Owned by another handle, which removes it.
    Shared,
}

impl TestDatabase {
    /// Creates the database: a temporary SQLite file, or a new PostgreSQL database
    /// `test_<pid>_<uuid>`.
    pub async fn create() -> Self {
        match postgres_url() {
            Some(admin_url) => Self::postgres(admin_url).await,
            None => {
                let path = std::env::temp_dir().join(format!("agentry-test-{}.db", Uuid::new_v4()));
                Self {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::File(path),
                }
            }
        }
    }

    /// A handle on a database another [`TestDatabase`] owns (and removes).
    pub fn shared(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            cleanup: Cleanup::Shared,
        }
    }

    async fn postgres(admin_url: String) -> Self {
        let admin = Database::connect(admin_url.as_str())
            .await
            .expect("connect to TEST_DATABASE_URL");
        drop_leftovers(&admin).await;
        let name = format!("test_{}_{}", std::process::id(), Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        let _ = admin.close().await;
        Self {
            url: replace_database(&admin_url, &name),
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Shared => {}
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop needs async work: do it on a private runtime in a plain thread.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(admin_url.as_str()).await {
                            let _ = admin.execute_unprepared(&drop_database(&name)).await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// Once per process: drops the test schemas and databases of test processes that no longer
/// run (a crashed or killed run leaves them behind).
async fn drop_leftovers(admin: &DatabaseConnection) {
    static DONE: OnceCell<()> = OnceCell::const_new();
    DONE.get_or_init(|| async {
        let listings = [
            (
                "SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE '%\\_test\\_%'",
                drop_schema as fn(&str) -> String,
            ),
            (
                "SELECT datname AS name FROM pg_database WHERE datname LIKE 'test\\_%'",
                drop_database,
            ),
        ];
        for (query, drop) in listings {
            let rows = admin
                .query_all_raw(Statement::from_string(admin.get_database_backend(), query))
                .await
                .unwrap_or_default();
            for row in rows {
                let Ok(name) = row.try_get::<String>("", "name") else {
                    continue;
                };
                if owner_is_gone(&name) {
                    let _ = admin.execute_unprepared(&drop(&name)).await;
                }
            }
        }
    })
    .await;
}

fn drop_schema(name: &str) -> String {
    format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE")
}

fn drop_database(name: &str) -> String {
    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")
}

/// Whether the process named in `<kind>_<pid>_<uuid>` has ended.
fn owner_is_gone(name: &str) -> bool {
    let pid = name.rsplit('_').nth(1).and_then(|p| p.parse::<u32>().ok());
    pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
}

/// `url` with its database name replaced, query string kept.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{owner_is_gone, replace_database};

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
    }

    #[test]
    fn leftovers_are_told_by_their_process() {
        let mine = format!("agents_test_{}_0123abcd", std::process::id());
        assert!(!owner_is_gone(&mine));
        assert!(!owner_is_gone(&format!("test_{}_0123abcd", std::process::id())));
        assert!(owner_is_gone("agents_test_4294967294_0123abcd"));
        assert!(!owner_is_gone("not_a_test_schema"));
    }
}
