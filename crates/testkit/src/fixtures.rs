//! What tests start from: user rows, request bodies, and the fields a validation error names.

use sea_orm::sea_query::Query;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

/// Inserts an active, non-superuser user row named `name` (email `<name>@example.com`) the
/// way the users crate stores one, and returns its id. Service tests of crates that only
/// reference users need no `users` dependency for it.
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

/// Parses a JSON literal into a request body.
pub fn body<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> T {
    serde_json::from_value(json).expect("a valid body")
}

/// The fields a validation error names, in order (panics on any other outcome). Takes any
/// error that becomes a `kernel::Error` at the HTTP edge, so it reads every domain crate's.
pub fn invalid_fields<T: std::fmt::Debug, E: Into<kernel::Error>>(result: Result<T, E>) -> Vec<String> {
    match result.map_err(Into::into) {
        Err(kernel::Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}
