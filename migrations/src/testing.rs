//! Fresh, migrated databases for the domain crates' service tests (feature `testing`).
//!
//! SQLite in memory by default; with `TEST_DATABASE_URL=postgres://…` a fresh schema on that
//! server, named after the test process so a run drops only the leftovers of processes
//! that are gone (another test binary may be running at the same time).

// Test support: a failed set-up should panic the test that asked for it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::sea_query::Query;
use sea_orm_migration::sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::Migrator;

/// A fresh database with every migration applied; `prefix` names the PostgreSQL schemas
/// of one test suite (e.g. `agents_test_`).
pub async fn database(prefix: &str) -> DatabaseConnection {
    let db = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => postgres(&url, prefix).await,
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

async fn postgres(url: &str, prefix: &str) -> DatabaseConnection {
    static CLEANED: OnceCell<()> = OnceCell::const_new();
    let admin = Database::connect(url).await.expect("connect to postgres");
    CLEANED.get_or_init(|| drop_leftover_schemas(&admin)).await;
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

/// Drops the test schemas of test processes that no longer run.
async fn drop_leftover_schemas(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE '%\\_test\\_%'",
        ))
        .await
        .expect("list schemas");
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "nspname") else {
            continue;
        };
        let pid = name.rsplit('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await;
        }
    }
}

/// Inserts a user row (as the users crate would store it) and returns its id.
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
