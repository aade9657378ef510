//! `UserService::standing` with a cache: what authenticating a request reads, used as a
//! library over a bare database connection (SQLite in memory, or `TEST_DATABASE_URL`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::time::Duration;

use kernel::{BoxFuture, PasswordHasher};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use users::entities::user;
use users::schemas::{NewUser, UserUpdate};
use users::{Standing, StandingCache, UserService};

/// Stores passwords reversed: these tests never log in.
struct PlainHasher;

impl PasswordHasher for PlainHasher {
    fn hash(&self, password: String) -> BoxFuture<'_, kernel::Result<String>> {
        Box::pin(async move { Ok(password.chars().rev().collect()) })
    }
    fn verify(&self, password: String, hash: Option<String>) -> BoxFuture<'_, kernel::Result<bool>> {
        Box::pin(async move { Ok(hash.is_some_and(|h| h == password.chars().rev().collect::<String>())) })
    }
}

async fn service(cache: Option<StandingCache>) -> (UserService, sea_orm::DatabaseConnection) {
    let db = testkit::database("users_test_").await;
    let service = UserService::new(db.clone(), Arc::new(PlainHasher));
    let service = match cache {
        Some(cache) => service.with_standing_cache(cache),
        None => service,
    };
    (service, db)
}

async fn create(service: &UserService, name: &str) -> user::Model {
    service
        .create(NewUser {
            email: format!("{name}@example.com"),
            username: name.into(),
            password: "password-123".into(),
            full_name: None,
            is_superuser: false,
            is_active: true,
        })
        .await
        .expect("create a user")
}

/// Sets `is_active` behind the service's back, as another process would.
async fn deactivate_by_hand(db: &sea_orm::DatabaseConnection, id: uuid::Uuid) {
    user::Entity::update_many()
        .col_expr(user::Column::IsActive, Expr::value(false))
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .expect("update by hand");
}

const ACTIVE: Standing = Standing {
    is_active: true,
    is_superuser: false,
};

#[tokio::test]
async fn without_a_cache_every_lookup_reads_the_database() {
    let (users, db) = service(None).await;
    let ada = create(&users, "ada").await;
    assert_eq!(users.standing(ada.id).await.unwrap(), Some(ACTIVE));
    deactivate_by_hand(&db, ada.id).await;
    assert_eq!(users.standing(ada.id).await.unwrap().map(|s| s.is_active), Some(false));
    assert_eq!(
        users.standing(uuid::Uuid::now_v7()).await.unwrap(),
        None,
        "unknown account"
    );
}

#[tokio::test]
async fn a_live_cache_serves_lookups_and_forgets_what_the_service_changes() {
    let cache = StandingCache::new(100, Duration::from_secs(60), true);
    let (users, db) = service(Some(cache.clone())).await;
    let ada = create(&users, "ada").await;
    assert_eq!(users.standing(ada.id).await.unwrap(), Some(ACTIVE));

    // A change behind the service's back is not seen: the lookup came from memory.
    deactivate_by_hand(&db, ada.id).await;
    assert_eq!(users.standing(ada.id).await.unwrap(), Some(ACTIVE));

    // A change through the service is seen at once.
    let update = UserUpdate {
        is_superuser: Some(true),
        ..Default::default()
    };
    users.update(ada.id, update).await.unwrap();
    assert_eq!(
        users.standing(ada.id).await.unwrap(),
        Some(Standing {
            is_active: false,
            is_superuser: true
        })
    );

    users.delete(ada.id).await.unwrap();
    assert_eq!(users.standing(ada.id).await.unwrap(), None, "deleted account");
}

#[tokio::test]
async fn a_paused_cache_reads_the_database_every_time() {
    let cache = StandingCache::new(100, Duration::from_secs(60), false);
    let (users, db) = service(Some(cache.clone())).await;
    let ada = create(&users, "ada").await;
    assert_eq!(users.standing(ada.id).await.unwrap(), Some(ACTIVE));
    deactivate_by_hand(&db, ada.id).await;
    assert_eq!(users.standing(ada.id).await.unwrap().map(|s| s.is_active), Some(false));
}

#[tokio::test]
async fn create_checks_the_same_rules_as_the_http_body_for_library_callers() {
    let (users, _db) = service(None).await;
    let bad = NewUser {
        email: "not-an-email".into(),
        username: "a b".into(),
        password: "short".into(),
        full_name: None,
        is_superuser: false,
        is_active: true,
    };
    let fields = match users.create(bad).await {
        Err(users::UserError::Invalid(errors)) => {
            let mut fields: Vec<String> = errors.into_iter().map(|e| e.field).collect();
            fields.sort();
            fields
        }
        other => panic!("expected a validation error, got {other:?}"),
    };
    assert_eq!(fields, ["email", "password", "username"]);
    assert!(
        users.find_by_login("a b").await.unwrap().is_none(),
        "nothing was stored"
    );
}
