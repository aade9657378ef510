//! `IdempotencyStore` against a fresh database: what a claim finds, recording, releasing,
//! expiry and the purge.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

use std::time::Duration;

use kernel::idempotency::entity;
use kernel::idempotency::{Claim, IdempotencyStore, Recorded};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

const TTL: Duration = Duration::from_secs(3600);

async fn store() -> (IdempotencyStore, DatabaseConnection, Uuid) {
    let db = testkit::database("kernel_").await;
    let user = testkit::user(&db, "ada").await;
    (IdempotencyStore::new(db.clone(), TTL), db, user)
}

fn created(body: &str) -> Recorded {
    Recorded::Response {
        status: 201,
        content_type: Some("application/json".into()),
        location: Some("/api/v1/agents/1".into()),
        body: body.as_bytes().to_vec(),
    }
}

#[tokio::test]
async fn a_claimed_key_is_in_flight_then_replays_what_was_recorded() {
    let (store, _db, ada) = store().await;
    let Claim::Acquired(id) = store.claim(ada, "k", "hash-a").await.unwrap() else {
        panic!("a fresh key is acquired");
    };
    assert_eq!(store.claim(ada, "k", "hash-a").await.unwrap(), Claim::InFlight);
    assert_eq!(store.claim(ada, "k", "hash-b").await.unwrap(), Claim::Reused);

    store.record(id, created("{\"id\":1}")).await.unwrap();
    assert_eq!(
        store.claim(ada, "k", "hash-a").await.unwrap(),
        Claim::Replay(created("{\"id\":1}"))
    );
    assert_eq!(store.claim(ada, "k", "hash-b").await.unwrap(), Claim::Reused);
}

#[tokio::test]
async fn a_stream_is_recorded_by_its_execution_and_an_empty_body_stays_a_body() {
    let (store, _db, ada) = store().await;
    let execution_id = Some(Uuid::now_v7());
    for (key, answer) in [
        ("stream", Recorded::Stream { execution_id }),
        ("nameless", Recorded::Stream { execution_id: None }),
        (
            "empty",
            Recorded::Response {
                status: 204,
                content_type: None,
                location: None,
                body: Vec::new(),
            },
        ),
    ] {
        let Claim::Acquired(id) = store.claim(ada, key, "h").await.unwrap() else {
            panic!("{key} is acquired");
        };
        store.record(id, answer.clone()).await.unwrap();
        assert_eq!(store.claim(ada, key, "h").await.unwrap(), Claim::Replay(answer));
    }
}

#[tokio::test]
async fn a_released_key_may_be_claimed_again_and_keys_are_per_user() {
    let (store, db, ada) = store().await;
    let bob = testkit::user(&db, "bob").await;
    let Claim::Acquired(id) = store.claim(ada, "k", "h").await.unwrap() else {
        panic!("acquired");
    };
    assert!(matches!(
        store.claim(bob, "k", "other").await.unwrap(),
        Claim::Acquired(_)
    ));
    store.release(id).await.unwrap();
    assert!(matches!(store.claim(ada, "k", "h2").await.unwrap(), Claim::Acquired(_)));
    // Releasing a recorded key changes nothing.
    let Claim::Acquired(done) = store.claim(ada, "done", "h").await.unwrap() else {
        panic!("acquired");
    };
    store.record(done, created("{}")).await.unwrap();
    store.release(done).await.unwrap();
    assert!(matches!(store.claim(ada, "done", "h").await.unwrap(), Claim::Replay(_)));
}

#[tokio::test]
async fn an_expired_key_is_claimed_anew_and_purged() {
    let (store, db, ada) = store().await;
    for key in ["old", "older", "fresh"] {
        let Claim::Acquired(id) = store.claim(ada, key, "h").await.unwrap() else {
            panic!("acquired");
        };
        store.record(id, created("{}")).await.unwrap();
    }
    let past = kernel::clock::now() - chrono::Duration::seconds(3601);
    entity::Entity::update_many()
        .col_expr(entity::Column::CreatedAt, Expr::value(past))
        .filter(entity::Column::IdempotencyKey.is_in(["old", "older"]))
        .exec(&db)
        .await
        .unwrap();

    // Even another request may use an expired key.
    assert!(matches!(
        store.claim(ada, "old", "other").await.unwrap(),
        Claim::Acquired(_)
    ));
    assert_eq!(store.purge_expired().await.unwrap(), 1, "only `older` is left to purge");
    let left: Vec<String> = entity::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.idempotency_key)
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&"old".to_owned()) && left.contains(&"fresh".to_owned()));
    assert_eq!(entity::Entity::find().count(&db).await.unwrap(), 2);
}
