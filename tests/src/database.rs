//! A fresh database per test: a temporary SQLite file, or a new PostgreSQL database
//! when `TEST_DATABASE_URL` is set.

use sea_orm::{ConnectionTrait, Database};
use tokio::sync::OnceCell;

/// A database that exists for one test and is removed afterwards.
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

static LEFTOVERS_DROPPED: OnceCell<()> = OnceCell::const_new();

impl TestDatabase {
    /// Creates the database.
    pub async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(admin_url) => Self::postgres(admin_url).await,
            None => {
                let path = std::env::temp_dir().join(format!("agentry-test-{}.db", uuid::Uuid::new_v4()));
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
        LEFTOVERS_DROPPED.get_or_init(|| drop_leftovers(&admin)).await;
        let name = format!("test_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
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

/// Drops databases left by test processes that no longer run (a crashed or killed run).
async fn drop_leftovers(admin: &sea_orm::DatabaseConnection) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'",
        ))
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
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
                            let _ = admin
                                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

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
}
