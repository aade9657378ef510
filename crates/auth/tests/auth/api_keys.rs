//! `ApiKeyService`: the key is shown once and stored only as its hash; it authenticates as
//! its user until it is revoked, expires, or the account is deactivated or deleted;
//! `last_used_at` moves at most once a minute; owners see only their own keys.

use std::sync::{Arc, Mutex};

use auth::entities::api_key;
use auth::schemas::{ApiKeyCreate, ApiKeyCreated};
use auth::{ApiKeyService, AuthError};
use chrono::{Duration, Utc};
use kernel::{PageParams, TokenKind};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use sha2::{Digest, Sha256};
use users::schemas::UserUpdate;
use uuid::Uuid;

use crate::common::{api_keys, body, database, invalid_fields, user, users};

async fn create(service: &ApiKeyService, owner: Uuid, name: &str) -> ApiKeyCreated {
    service
        .create(owner, body(json!({"name": name})))
        .await
        .expect("create a key")
}

async fn stored(db: &DatabaseConnection, id: Uuid) -> Option<api_key::Model> {
    api_key::Entity::find_by_id(id).one(db).await.unwrap()
}

fn first_page() -> PageParams {
    PageParams::parse(None, None).unwrap()
}

fn refused(result: Result<kernel::Principal, AuthError>) -> bool {
    matches!(result, Err(AuthError::BadApiKey))
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn set_column(db: &DatabaseConnection, id: Uuid, column: api_key::Column, value: chrono::DateTime<Utc>) {
    api_key::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(api_key::Column::Id.eq(id))
        .exec(db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_new_key_is_shown_once_and_stored_only_as_its_hash() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let created = create(&service, alice, "ci").await;

    let random = created.key.strip_prefix("agk_").expect("agk_ prefix");
    assert!(random.len() >= 32, "{}", created.key);
    assert!(
        random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(created.prefix, created.key[..12]);
    assert_eq!((created.name.as_str(), created.last_used_at), ("ci", None));
    let other = create(&service, alice, "ci").await;
    assert_ne!(created.key, other.key, "every key is random");

    let row = stored(&db, created.id).await.unwrap();
    assert_eq!(row.key_hash, hex_sha256(&created.key));
    assert_eq!(row.prefix, created.prefix);
    let row_text = format!("{row:?}");
    assert!(!row_text.contains(random), "no plaintext stored: {row_text}");

    // Reads show everything but the key.
    let read = service.get(alice, created.id).await.unwrap();
    let listed = service.list(alice, &first_page()).await.unwrap();
    for shown in [
        serde_json::to_value(&read).unwrap(),
        serde_json::to_value(&listed.items).unwrap(),
    ] {
        assert!(!shown.to_string().contains(random), "{shown}");
    }
    assert_eq!(read.prefix, created.prefix);
    assert_eq!((listed.total, listed.items.len()), (2, 2));
}

#[tokio::test]
async fn a_key_authenticates_as_its_user() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let created = create(&service, alice, "ci").await;
    for _ in 0..2 {
        let principal = service.authenticate(&created.key).await.unwrap();
        assert_eq!(principal.user_id, alice);
        assert_eq!(principal.token, TokenKind::ApiKey);
        assert!(!principal.is_superuser);
    }
}

#[tokio::test]
async fn unknown_and_malformed_keys_are_refused() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let created = create(&service, alice, "ci").await;
    let mut flipped = created.key.clone().into_bytes();
    let last = flipped.len() - 1;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for key in [
        flipped.as_str(),
        &created.key[..created.key.len() - 1],
        &format!("{}x", created.key),
        "agk_",
        "agk_short",
        &format!("agk_{}", "é".repeat(22)),
    ] {
        assert!(refused(service.authenticate(key).await), "{key}");
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once_though_it_was_cached() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let created = create(&service, alice, "ci").await;
    let kept = create(&service, alice, "kept").await;
    service.authenticate(&created.key).await.unwrap();
    service.authenticate(&kept.key).await.unwrap();

    service.revoke(alice, created.id).await.unwrap();
    assert!(refused(service.authenticate(&created.key).await));
    assert!(stored(&db, created.id).await.is_none());
    assert!(matches!(
        service.revoke(alice, created.id).await,
        Err(AuthError::ApiKeyNotFound)
    ));
    service.authenticate(&kept.key).await.expect("other keys keep working");
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let expires_at = Utc::now() + Duration::days(1);
    let created = service
        .create(alice, body(json!({"name": "ci", "expires_at": expires_at})))
        .await
        .unwrap();
    assert_eq!(created.expires_at.map(|t| t.timestamp()), Some(expires_at.timestamp()));
    service.authenticate(&created.key).await.unwrap();

    // Expired since (as if a day had passed), on a process that has not cached it yet.
    set_column(
        &db,
        created.id,
        api_key::Column::ExpiresAt,
        Utc::now() - Duration::seconds(1),
    )
    .await;
    let (fresh, _) = api_keys(&db);
    assert!(refused(fresh.authenticate(&created.key).await));
}

#[tokio::test]
async fn a_deactivated_or_deleted_users_keys_are_refused() {
    let db = database().await;
    let (service, users) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    let alice_key = create(&service, alice, "ci").await;
    let bob_key = create(&service, bob, "ci").await;
    service.authenticate(&alice_key.key).await.unwrap();
    service.authenticate(&bob_key.key).await.unwrap();

    let deactivate = UserUpdate {
        is_active: Some(false),
        ..Default::default()
    };
    users.update(alice, deactivate).await.unwrap();
    assert!(refused(service.authenticate(&alice_key.key).await));
    let reactivate = UserUpdate {
        is_active: Some(true),
        ..Default::default()
    };
    users.update(alice, reactivate).await.unwrap();
    service
        .authenticate(&alice_key.key)
        .await
        .expect("works again once reactivated");

    users.delete(bob).await.unwrap();
    assert!(refused(service.authenticate(&bob_key.key).await));
    assert!(stored(&db, bob_key.id).await.is_none(), "the keys go with the account");
}

#[tokio::test]
async fn owners_see_and_revoke_only_their_own_keys() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    let alice_key = create(&service, alice, "alice's").await;
    create(&service, bob, "bob's").await;

    assert!(matches!(
        service.get(bob, alice_key.id).await,
        Err(AuthError::ApiKeyNotFound)
    ));
    assert!(matches!(
        service.revoke(bob, alice_key.id).await,
        Err(AuthError::ApiKeyNotFound)
    ));
    let bobs = service.list(bob, &first_page()).await.unwrap();
    assert_eq!(bobs.total, 1);
    assert_eq!(bobs.items[0].name, "bob's");
    service
        .authenticate(&alice_key.key)
        .await
        .expect("still Alice's and working");
}

#[tokio::test]
async fn the_list_pages_newest_first() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    for name in ["one", "two", "three"] {
        create(&service, alice, name).await;
    }
    let first = service
        .list(alice, &PageParams::parse(Some(2), None).unwrap())
        .await
        .unwrap();
    let names: Vec<_> = first.items.iter().map(|k| k.name.as_str()).collect();
    assert_eq!((names, first.total), (vec!["three", "two"], 3));
    let cursor = first.next_cursor.expect("a second page");
    let second = service
        .list(alice, &PageParams::parse(Some(2), Some(&cursor)).unwrap())
        .await
        .unwrap();
    let names: Vec<_> = second.items.iter().map(|k| k.name.as_str()).collect();
    assert_eq!((names, second.next_cursor), (vec!["one"], None));
}

#[tokio::test]
async fn bad_fields_are_named_all_at_once() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let past = Utc::now() - Duration::seconds(1);
    let cases: Vec<(ApiKeyCreate, Vec<&str>)> = vec![
        (body(json!({"name": ""})), vec!["name"]),
        (body(json!({"name": "x".repeat(101)})), vec!["name"]),
        (body(json!({"name": "a\u{0}b"})), vec!["name"]),
        (body(json!({"name": "ci", "expires_at": past})), vec!["expires_at"]),
        (
            body(json!({"name": "", "expires_at": past})),
            vec!["name", "expires_at"],
        ),
    ];
    for (input, fields) in cases {
        let case = format!("{input:?}");
        let mut got = invalid_fields(service.create(alice, input).await);
        got.sort();
        let mut fields = fields;
        fields.sort();
        assert_eq!(got, fields, "{case}");
    }
    service
        .create(alice, body(json!({"name": "é".repeat(100)})))
        .await
        .expect("100 characters fit");
    let listed = service.list(alice, &first_page()).await.unwrap();
    assert_eq!(listed.total, 1, "nothing stored for the refused ones");
}

#[tokio::test]
async fn last_used_at_moves_at_most_once_a_minute() {
    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let created = create(&service, alice, "ci").await;
    let last_used = |db: DatabaseConnection| async move { stored(&db, created.id).await.unwrap().last_used_at };

    service.authenticate(&created.key).await.unwrap();
    let first = last_used(db.clone()).await.expect("written on first use");
    assert!(Utc::now() - first < Duration::seconds(60));

    // Within the minute this process writes nothing, even if the row looks old.
    let two_minutes_ago = Utc::now() - Duration::minutes(2);
    set_column(&db, created.id, api_key::Column::LastUsedAt, two_minutes_ago).await;
    service.authenticate(&created.key).await.unwrap();
    let unchanged = last_used(db.clone()).await.unwrap();
    assert_eq!(unchanged.timestamp_micros(), two_minutes_ago.timestamp_micros());

    // Another process (a replica) writes a row last written over a minute ago...
    let (replica, _) = api_keys(&db);
    replica.authenticate(&created.key).await.unwrap();
    let moved = last_used(db.clone()).await.unwrap();
    assert!(moved > two_minutes_ago + Duration::seconds(60), "{moved}");

    // ...but not one written within the minute.
    let (another, _) = api_keys(&db);
    another.authenticate(&created.key).await.unwrap();
    assert_eq!(last_used(db.clone()).await, Some(moved));
}

#[tokio::test]
async fn without_a_cache_every_check_reads_the_database() {
    let db = database().await;
    let users = users(&db, false);
    let service = ApiKeyService::new(db.clone(), users);
    let alice = user(&db, "alice").await;
    let created = create(&service, alice, "ci").await;
    service.authenticate(&created.key).await.unwrap();
    api_key::Entity::delete_by_id(created.id).exec(&db).await.unwrap();
    assert!(refused(service.authenticate(&created.key).await));
}

/// A tracing writer keeping everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_never_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime is single-threaded: everything below logs to this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::info!("capturing");

    let db = database().await;
    let (service, _) = api_keys(&db);
    let alice = user(&db, "alice").await;
    let created = create(&service, alice, "ci").await;
    service.authenticate(&created.key).await.unwrap();
    service.list(alice, &first_page()).await.unwrap();
    service.revoke(alice, created.id).await.unwrap();
    assert!(refused(service.authenticate(&created.key).await));

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("capturing"), "the capture works");
    let secret = &created.key[created.prefix.len()..];
    assert!(!logs.contains(secret), "{logs}");
}
