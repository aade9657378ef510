//! Shared set-up of the service tests: a fresh migrated database (SQLite in memory, or a
//! fresh schema on the PostgreSQL server of `TEST_DATABASE_URL`) and users.

#![allow(dead_code)]

use agents::{AgentService, ProviderNames, ToolService};
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::Query;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tokio::sync::OnceCell;
use uuid::Uuid;

const SCHEMA_PREFIX: &str = "agents_test_";

/// A fresh, migrated database.
pub async fn database() -> DatabaseConnection {
    let db = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => postgres(&url).await,
        _ => {
            // `:memory:` is one database per connection: exactly one, never recycled.
            let mut options = ConnectOptions::new("sqlite::memory:");
            options
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .sqlx_logging(false);
            Database::connect(options).await.expect("connect to sqlite")
        }
    };
    Migrator::up(&db, None).await.expect("migrate");
    db
}

async fn postgres(url: &str) -> DatabaseConnection {
    // Leftovers of earlier runs are dropped once per test process.
    static CLEANED: OnceCell<()> = OnceCell::const_new();
    let admin = Database::connect(url).await.expect("connect to postgres");
    CLEANED.get_or_init(|| drop_leftover_schemas(&admin)).await;
    let schema = format!("{SCHEMA_PREFIX}{}_{}", std::process::id(), Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    let mut options = ConnectOptions::new(url);
    options
        .set_schema_search_path(schema)
        .max_connections(4)
        .sqlx_logging(false);
    Database::connect(options).await.expect("connect to the test schema")
}

async fn drop_leftover_schemas(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!("SELECT nspname FROM pg_namespace WHERE nspname LIKE '{SCHEMA_PREFIX}%'"),
        ))
        .await
        .expect("list schemas");
    for row in rows {
        let name: String = row.try_get("", "nspname").expect("a schema name");
        // Only schemas of test processes that are gone: another test binary may be running.
        let pid = name
            .trim_start_matches(SCHEMA_PREFIX)
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        if !pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists()) {
            admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .await
                .expect("drop schema");
        }
    }
}

/// Inserts a user row the way the users crate would, and returns its id.
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
