//! The account check behind every token, with the standing cache on PostgreSQL: a change
//! made on one replica, or by hand in the database, reaches every replica's cache, also
//! after the listening connection was cut; without the trigger the cache stays paused. PostgreSQL only: on SQLite these tests are reported as ignored.

use std::time::Duration;

use agentry_tests::{TestApp, TestUser};
use sea_orm::ConnectionTrait;
use serde_json::json;

use uuid::Uuid;

use super::ME;

/// Polls `GET path` as `user` on `app` until it answers `status` (at most 10 s;
/// notifications cross replicas in milliseconds).
pub(crate) async fn until_status(app: &TestApp, user: &TestUser, path: &str, status: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let got = app.get_as(user, path).send().await.unwrap().status();
        if got == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "GET {path}: still {got}, expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Deactivates the account behind the server's back, as an operator's SQL would.
async fn deactivate_by_hand(app: &TestApp, id: Uuid) {
    let sql = format!("UPDATE users SET is_active = false WHERE id = '{id}'");
    app.db.execute_unprepared(&sql).await.unwrap();
}

/// Terminates the server's `LISTEN` connection for account changes.
async fn cut_listener(app: &TestApp) {
    let cut = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
               WHERE datname = current_database() AND pid <> pg_backend_pid() \
               AND query LIKE '%LISTEN%agentry_user_standing%'";
    let cut = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), cut));
    assert_eq!(cut.await.unwrap().len(), 1, "one listening connection per process");
}

/// Waits until `app`'s account cache listens (it reads the database until then).
pub(crate) async fn until_listening(app: &TestApp) {
    let cache = app.state.standing.clone().expect("the account cache is on by default");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cache.is_live() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the account cache never listened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_deactivation_on_one_replica_ends_the_token_on_another() {
    testkit::require_postgres();
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(&first, |_| {}).await;
    until_listening(&second).await;
    let root = first.superuser("root").await;
    let alice = first.register("alice").await;
    // The second replica has Alice's standing in memory...
    assert_eq!(second.get_as(&alice, ME).send().await.unwrap().status(), 200);
    assert_eq!(
        second.get_as(&alice, "/api/v1/users").send().await.unwrap().status(),
        403
    );

    // ...and forgets it when the first one promotes her,
    first.patch_user(&root, alice.id, json!({"is_superuser": true})).await;
    until_status(&second, &alice, "/api/v1/users", 200).await;

    // ...and when it deactivates her.
    first.patch_user(&root, alice.id, json!({"is_active": false})).await;
    until_status(&second, &alice, ME, 401).await;
    drop(second);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_change_by_hand_in_the_database_reaches_the_server() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    until_listening(&app).await;
    let alice = app.register("alice").await;
    assert_eq!(app.get_as(&alice, ME).send().await.unwrap().status(), 200);
    deactivate_by_hand(&app, alice.id).await;
    until_status(&app, &alice, ME, 401).await;
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn nothing_cached_survives_a_cut_listening_connection() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    until_listening(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    assert_eq!(app.get_as(&alice, ME).send().await.unwrap().status(), 200);
    assert_eq!(app.get_as(&bob, ME).send().await.unwrap().status(), 200);

    // Cut the listener, and deactivate Alice while nobody may be listening.
    cut_listener(&app).await;
    deactivate_by_hand(&app, alice.id).await;

    // Whether the notification was missed or not, Alice's cached standing is gone, and
    // the relay listens again.
    until_status(&app, &alice, ME, 401).await;
    until_listening(&app).await;
    assert_eq!(app.get_as(&bob, ME).send().await.unwrap().status(), 200);
    deactivate_by_hand(&app, bob.id).await;
    until_status(&app, &bob, ME, 401).await;
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn without_the_trigger_the_cache_stays_paused() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    until_listening(&app).await;
    // As if the migration were not applied (AUTO_MIGRATE=false and no `migrate up` yet).
    app.db
        .execute_unprepared("DROP TRIGGER users_standing_notify ON users")
        .await
        .unwrap();
    cut_listener(&app).await;
    let cache = app.state.standing.clone().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while cache.is_live() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay never noticed the cut"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The relay has had ample time to reconnect; it must not have gone live.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !cache.is_live(),
        "no trigger, no notifications: the cache must stay paused"
    );

    // So a change nobody announces still applies on the very next request.
    let alice = app.register("alice").await;
    assert_eq!(app.get_as(&alice, ME).send().await.unwrap().status(), 200);
    deactivate_by_hand(&app, alice.id).await;
    let status = app.get_as(&alice, ME).send().await.unwrap().status();
    assert_eq!(status, 401);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn rolling_the_trigger_back_pauses_running_caches_at_once() {
    testkit::require_postgres();
    use migration::MigratorTrait;
    let app = TestApp::spawn().await;
    until_listening(&app).await;
    let alice = app.register("alice").await;
    assert_eq!(app.get_as(&alice, ME).send().await.unwrap().status(), 200);

    // `api-server migrate down` as far as the trigger's migration, while serving.
    let steps = migration::Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261122_000001_notify_user_standing")
        .expect("the trigger's migration")
        + 1;
    migration::Migrator::down(&app.db, Some(steps as u32)).await.unwrap();
    let cache = app.state.standing.clone().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while cache.is_live() {
        assert!(tokio::time::Instant::now() < deadline, "the cache never paused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    deactivate_by_hand(&app, alice.id).await;
    let status = app.get_as(&alice, ME).send().await.unwrap().status();
    assert_eq!(status, 401, "a paused cache reads the account");
}
