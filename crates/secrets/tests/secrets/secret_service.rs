//! Writing, listing, deleting and resolving secrets.

use secrets::SecretError;

use crate::common::{invalid_fields, names, service, user};

#[tokio::test]
async fn put_list_resolve_and_delete() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    assert!(secrets.list(alice).await.unwrap().is_empty());
    secrets.put(alice, "b_token", "value-b").await.unwrap();
    secrets.put(alice, "A_TOKEN", "value-a").await.unwrap();
    secrets.put(alice, "a_token", "value-lower").await.unwrap();

    let listed = secrets.list(alice).await.unwrap();
    let listed_names: Vec<&str> = listed.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        listed_names,
        ["A_TOKEN", "a_token", "b_token"],
        "byte order on every database"
    );
    for info in &listed {
        assert_eq!(info.created_at, info.updated_at);
    }

    let resolved = secrets
        .resolve(alice, &names(&["A_TOKEN", "b_token", "missing", "A_TOKEN"]))
        .await
        .unwrap();
    assert_eq!(resolved.len(), 2, "{resolved:?}");
    assert_eq!(resolved["A_TOKEN"].expose(), "value-a");
    assert_eq!(resolved["b_token"].expose(), "value-b");
    assert_eq!(
        format!("{resolved:?}").matches("value-").count(),
        0,
        "Debug shows no value"
    );

    secrets.delete(alice, "A_TOKEN").await.unwrap();
    let listed = secrets.list(alice).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(secrets.resolve(alice, &names(&["A_TOKEN"])).await.unwrap().is_empty());
    assert!(matches!(
        secrets.delete(alice, "A_TOKEN").await,
        Err(SecretError::NotFound)
    ));
}

#[tokio::test]
async fn replacing_keeps_one_row_its_creation_time_and_moves_updated_at() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    secrets.put(alice, "TOKEN", "first").await.unwrap();
    let before = secrets.list(alice).await.unwrap().remove(0);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    secrets.put(alice, "TOKEN", "second").await.unwrap();
    let after = secrets.list(alice).await.unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].created_at, before.created_at);
    assert!(after[0].updated_at > before.updated_at, "{before:?} then {after:?}");
    let resolved = secrets.resolve(alice, &names(&["TOKEN"])).await.unwrap();
    assert_eq!(resolved["TOKEN"].expose(), "second");
}

#[tokio::test]
async fn concurrent_writes_of_one_name_all_succeed_and_leave_one_row() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    let writes = (0..8).map(|i| {
        let secrets = secrets.clone();
        tokio::spawn(async move { secrets.put(alice, "RACE", &format!("value-{i}")).await })
    });
    for write in futures_util::future::join_all(writes).await {
        write.unwrap().unwrap();
    }
    assert_eq!(secrets.list(alice).await.unwrap().len(), 1);
    let resolved = secrets.resolve(alice, &names(&["RACE"])).await.unwrap();
    assert!(resolved["RACE"].expose().starts_with("value-"));
}

#[tokio::test]
async fn secrets_are_per_user() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    secrets.put(alice, "TOKEN", "alice-value").await.unwrap();
    secrets.put(bob, "TOKEN", "bob-value").await.unwrap();
    secrets.put(bob, "BOB_ONLY", "bob-only").await.unwrap();

    assert_eq!(secrets.list(alice).await.unwrap().len(), 1);
    let resolved = secrets.resolve(alice, &names(&["TOKEN", "BOB_ONLY"])).await.unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved["TOKEN"].expose(), "alice-value");

    assert!(matches!(
        secrets.delete(alice, "BOB_ONLY").await,
        Err(SecretError::NotFound)
    ));
    secrets.delete(alice, "TOKEN").await.unwrap();
    let resolved = secrets.resolve(bob, &names(&["TOKEN", "BOB_ONLY"])).await.unwrap();
    assert_eq!(resolved.len(), 2, "bob's secrets are untouched");
    assert_eq!(resolved["TOKEN"].expose(), "bob-value");
}

#[tokio::test]
async fn writes_that_break_the_rules_name_every_field_and_store_nothing() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    let too_long_name = "n".repeat(65);
    let too_big = "x".repeat(8193);
    for (name, value, fields) in [
        ("bad-name", "v", vec!["name"]),
        ("", "v", vec!["name"]),
        (too_long_name.as_str(), "v", vec!["name"]),
        ("nul\0", "v", vec!["name"]),
        ("OK", "", vec!["value"]),
        ("OK", too_big.as_str(), vec!["value"]),
        ("OK", "a\0b", vec!["value"]),
        ("bad name", "", vec!["name", "value"]),
    ] {
        assert_eq!(
            invalid_fields(secrets.put(alice, name, value).await),
            fields,
            "{name:?}"
        );
    }
    secrets.put(alice, "MAX", &"x".repeat(8192)).await.unwrap();
    secrets.put(alice, &"n".repeat(64), "v").await.unwrap();
    assert_eq!(secrets.list(alice).await.unwrap().len(), 2);
}

#[tokio::test]
async fn names_that_cannot_exist_are_not_found_and_never_reach_the_database() {
    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    for name in ["", "a\0b", "with space", &"n".repeat(65)] {
        assert!(
            matches!(secrets.delete(alice, name).await, Err(SecretError::NotFound)),
            "{name:?}"
        );
    }
    assert!(secrets.resolve(alice, &names(&["a\0b", ""])).await.unwrap().is_empty());
    assert!(secrets.resolve(alice, &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn deleting_a_user_deletes_their_secrets() {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Expr, ExprTrait, Query};

    let (db, secrets) = service().await;
    let alice = user(&db, "alice").await;
    secrets.put(alice, "TOKEN", "v").await.unwrap();
    let delete = Query::delete()
        .from_table("users")
        .and_where(Expr::col("id").eq(alice))
        .to_owned();
    db.execute(&delete).await.unwrap();
    assert!(secrets.list(alice).await.unwrap().is_empty());
}
