//! `/api/v1/users`: the caller's own account, and the superuser's administration routes.

mod admin;

use agentry_tests::{TestApp, TestUser, USER_KEYS, assert_problem, field_names};
use auth::entities::{password_reset_token, refresh_token};
use reqwest::{Method, Response};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use users::entities::user;
use uuid::Uuid;

const ME: &str = "/api/v1/users/me";
const USERS: &str = "/api/v1/users";

async fn stored(app: &TestApp, id: Uuid) -> Option<user::Model> {
    user::Entity::find_by_id(id).one(&app.db).await.unwrap()
}

async fn user_count(app: &TestApp) -> u64 {
    user::Entity::find().count(&app.db).await.unwrap()
}

/// Asserts a `status` answer carrying a User (and nothing secret); returns it.
async fn user_body(res: Response, status: u16) -> Value {
    let actual = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(actual, status, "{text}");
    assert!(!text.contains("$2b$") && !text.contains("password"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, USER_KEYS, "{body}");
    body
}

async fn refresh(app: &TestApp, token: &str) -> Response {
    app.request(Method::POST, "/api/v1/auth/refresh")
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

fn user_path(id: impl std::fmt::Display) -> String {
    format!("{USERS}/{id}")
}

#[tokio::test]
async fn me_is_the_caller() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.register("bob").await;
    let me = user_body(app.get_as(&alice, ME).send().await.unwrap(), 200).await;
    assert_eq!(me["id"], alice.id.to_string());
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["username"], "alice");
    assert_eq!(me["full_name"], Value::Null);
    assert_eq!(
        (me["is_active"].clone(), me["is_superuser"].clone()),
        (json!(true), json!(false))
    );
}

#[tokio::test]
async fn patch_me_updates_the_given_fields_only() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let before = stored(&app, alice.id).await.unwrap();

    let body = json!({"email": "Alice.New@Example.COM", "username": "Alice_2", "full_name": "Alice Liddell"});
    let me = user_body(app.patch_as(&alice, ME, &body).send().await.unwrap(), 200).await;
    assert_eq!(me["email"], "alice.new@example.com");
    assert_eq!(me["username"], "Alice_2");
    assert_eq!(me["full_name"], "Alice Liddell");
    let row = stored(&app, alice.id).await.unwrap();
    assert_eq!(
        (row.email.as_str(), row.username.as_str()),
        ("alice.new@example.com", "Alice_2")
    );
    assert_eq!(row.full_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(row.created_at, before.created_at);
    assert!(row.updated_at >= before.updated_at);
    assert_eq!(row.password_hash, before.password_hash);

    // Absent leaves a field alone; a username differing only in case from one's own is fine.
    let me = user_body(
        app.patch_as(&alice, ME, &json!({"username": "alice_2"}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(me["username"], "alice_2");
    assert_eq!(me["full_name"], "Alice Liddell");
    assert_eq!(me["email"], "alice.new@example.com");
    let me = user_body(app.patch_as(&alice, ME, &json!({})).send().await.unwrap(), 200).await;
    assert_eq!(me["full_name"], "Alice Liddell");

    // `null` clears the nullable field.
    let me = user_body(
        app.patch_as(&alice, ME, &json!({"full_name": null}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(me["full_name"], Value::Null);
    assert_eq!(stored(&app, alice.id).await.unwrap().full_name, None);
    assert_eq!(me["username"], "alice_2");

    // The new email and username log in; the old ones no longer name anyone.
    assert_eq!(app.login("ALICE.NEW@example.com", &alice.password).await.status(), 200);
    assert_eq!(app.login("Alice_2", &alice.password).await.status(), 200);
    assert_problem(app.login("alice@example.com", &alice.password).await, 401).await;
}

#[tokio::test]
async fn patch_me_never_takes_protected_fields_from_the_body() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let before = stored(&app, alice.id).await.unwrap();
    let body = json!({
        "is_superuser": true,
        "is_active": false,
        "id": Uuid::now_v7(),
        "created_at": "2000-01-01T00:00:00Z",
        "updated_at": "2000-01-01T00:00:00Z",
        "password": "hijacked-password",
        "password_hash": "$2b$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
        "sessions_revoked_at": "2000-01-01T00:00:00Z",
        "full_name": "Still Alice"
    });
    let me = user_body(app.patch_as(&alice, ME, &body).send().await.unwrap(), 200).await;
    assert_eq!(me["id"], alice.id.to_string());
    assert_eq!(
        (me["is_superuser"].clone(), me["is_active"].clone()),
        (json!(false), json!(true))
    );

    let row = stored(&app, alice.id).await.unwrap();
    assert!(!row.is_superuser && row.is_active);
    assert_eq!(row.created_at, before.created_at);
    assert_ne!(row.updated_at.to_rfc3339(), "2000-01-01T00:00:00+00:00");
    assert_eq!(row.password_hash, before.password_hash);
    assert_eq!(row.sessions_revoked_at, None);
    assert_eq!(row.full_name.as_deref(), Some("Still Alice"));
    assert_eq!(user_count(&app).await, 1);
    assert_problem(app.get_as(&alice, USERS).send().await.unwrap(), 403).await;
    assert_eq!(app.login("alice", &alice.password).await.status(), 200);
    assert_problem(app.login("alice", "hijacked-password").await, 401).await;
}

#[tokio::test]
async fn patch_me_to_a_taken_email_or_username_is_409() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.register("bob").await;
    for body in [
        json!({"email": "BOB@example.com"}),
        json!({"username": "Bob"}),
        json!({"username": "bob", "full_name": "x"}),
    ] {
        let problem = assert_problem(app.patch_as(&alice, ME, &body).send().await.unwrap(), 409).await;
        assert_eq!(problem["code"], "conflict", "{body}");
    }
    let row = stored(&app, alice.id).await.unwrap();
    assert_eq!(
        (row.email.as_str(), row.username.as_str(), row.full_name),
        ("alice@example.com", "alice", None)
    );
}

#[tokio::test]
async fn patch_me_with_invalid_fields_is_422_naming_them() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let cases = [
        (json!({"email": "not-an-email"}), vec!["email"]),
        (json!({"username": "a b"}), vec!["username"]),
        (json!({"username": "ab"}), vec!["username"]),
        (json!({"full_name": "x".repeat(201)}), vec!["full_name"]),
        (json!({"full_name": 5}), vec!["full_name"]),
        (json!({"email": "nope", "username": "!"}), vec!["email", "username"]),
        // Required fields may be absent from a PATCH, but not cleared.
        (json!({"email": null}), vec!["email"]),
        (json!({"username": null}), vec!["username"]),
    ];
    for (body, fields) in cases {
        let problem = assert_problem(app.patch_as(&alice, ME, &body).send().await.unwrap(), 422).await;
        let mut names = field_names(&problem);
        names.sort();
        assert_eq!(names, fields, "{body}: {problem}");
    }
    let row = stored(&app, alice.id).await.unwrap();
    assert_eq!(
        (row.email.as_str(), row.username.as_str()),
        ("alice@example.com", "alice")
    );
}

#[tokio::test]
async fn changing_the_password_checks_the_current_one_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let path = "/api/v1/users/me/password";

    let wrong = json!({"current_password": "not-my-password", "new_password": "brand-new-password"});
    let problem = assert_problem(app.post_as(&alice, path, &wrong).send().await.unwrap(), 400).await;
    assert_eq!(problem["code"], "bad_request");
    for new_password in ["short", &"é".repeat(37), "éééé"] {
        let body = json!({"current_password": alice.password, "new_password": new_password});
        let problem = assert_problem(app.post_as(&alice, path, &body).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), ["new_password"]);
    }
    let body = json!({"new_password": "brand-new-password"});
    let problem = assert_problem(app.post_as(&alice, path, &body).send().await.unwrap(), 422).await;
    assert_eq!(field_names(&problem), ["current_password"]);
    // None of the refusals changed anything.
    let res = app.login("alice", &alice.password).await;
    assert_eq!(res.status(), 200);
    let second_session: Value = res.json().await.unwrap();

    let body = json!({"current_password": alice.password, "new_password": "brand-new-password"});
    let res = app.post_as(&alice, path, &body).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty());

    for old in [
        alice.refresh_token.as_str(),
        second_session["refresh_token"].as_str().unwrap(),
    ] {
        assert_problem(refresh(&app, old).await, 401).await;
    }
    assert_problem(app.login("alice", &alice.password).await, 401).await;
    let res = app.login("alice", "brand-new-password").await;
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.unwrap();
    assert_eq!(
        refresh(&app, fresh["refresh_token"].as_str().unwrap()).await.status(),
        200,
        "new sessions work"
    );
}

#[tokio::test]
async fn deleting_my_account_removes_it_and_what_it_owns() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let res = app
        .request(Method::POST, "/api/v1/auth/password-recovery")
        .json(&json!({"email": alice.email}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);

    let res = app.delete_as(&alice, ME).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty());

    assert!(stored(&app, alice.id).await.is_none());
    let tokens = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(alice.id))
        .count(&app.db)
        .await;
    assert_eq!(tokens.unwrap(), 0);
    let resets = password_reset_token::Entity::find()
        .filter(password_reset_token::Column::UserId.eq(alice.id))
        .count(&app.db)
        .await;
    assert_eq!(resets.unwrap(), 0);
    let res = app.get_as(&alice, ME).send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_problem(res, 401).await;
    assert_problem(refresh(&app, &alice.refresh_token).await, 401).await;
    assert_problem(app.login("alice", &alice.password).await, 401).await;

    // Others are untouched, and the email and username are free again.
    assert_eq!(app.get_as(&bob, ME).send().await.unwrap().status(), 200);
    assert_eq!(user_count(&app).await, 1);
    app.register("alice").await;
}
