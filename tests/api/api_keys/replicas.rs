//! Two replicas over one PostgreSQL database: a key revoked on one is refused by the
//! other, though the other had it cached. PostgreSQL only: on SQLite these tests are
//! reported as ignored.

use agentry_tests::TestApp;
use serde_json::json;

use super::{ME, create_key, key_path, with_key};
use crate::tokens::replicas::{until_listening, until_status};

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_key_revoked_on_one_replica_is_refused_by_another() {
    testkit::require_postgres();
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(&first, |_| {}).await;
    until_listening(&second).await;
    let alice = first.register("alice").await;
    let revoked = create_key(&first, &alice, json!({"name": "revoked"})).await;
    let kept = create_key(&first, &alice, json!({"name": "kept"})).await;
    let (revoked_key, kept_key) = (with_key(&alice, &revoked), with_key(&alice, &kept));
    // The second replica has both keys in memory...
    for key in [&revoked_key, &kept_key] {
        assert_eq!(second.get_as(key, ME).send().await.unwrap().status(), 200);
    }

    // ...and forgets the one the first replica revokes.
    let res = first.delete_as(&alice, &key_path(&revoked["id"])).send().await.unwrap();
    assert_eq!(res.status(), 204);
    until_status(&second, &revoked_key, ME, 401).await;
    assert_eq!(second.get_as(&kept_key, ME).send().await.unwrap().status(), 200);
    drop(second);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_deactivation_on_one_replica_ends_the_key_on_another() {
    testkit::require_postgres();
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(&first, |_| {}).await;
    until_listening(&second).await;
    let root = first.superuser("root").await;
    let alice = first.register("alice").await;
    let key = with_key(&alice, &create_key(&first, &alice, json!({"name": "ci"})).await);
    assert_eq!(second.get_as(&key, ME).send().await.unwrap().status(), 200);

    first.patch_user(&root, alice.id, json!({"is_active": false})).await;
    until_status(&second, &key, ME, 401).await;
    drop(second);
}
