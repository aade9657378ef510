//! `/api/v1/secrets`: per-user secrets, written and deleted by name, listed without their
//! values, stored encrypted, and never shown in any answer.

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use reqwest::{Method, Response};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::Query;
use serde_json::{Value, json};

const SECRETS: &str = "/api/v1/secrets";

/// A value that must never come back.
const VALUE: &str = "ghp_Th1s-Is-The-Secret-Value";

fn secret_path(name: &str) -> String {
    format!("{SECRETS}/{name}")
}

/// `PUT /secrets/{name}` as `user` with `body`.
async fn put(app: &TestApp, user: &TestUser, name: &str, body: &Value) -> Response {
    app.request(Method::PUT, &secret_path(name))
        .bearer_auth(&user.access_token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Stores `value` under `name` for `user`, which must answer `204` with no body.
async fn put_ok(app: &TestApp, user: &TestUser, name: &str, value: &str) {
    let res = put(app, user, name, &json!({"value": value})).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(status, 204, "PUT {name}: {text}");
    assert!(text.is_empty(), "{text}");
}

/// The names the caller's list shows, checking each item has exactly the documented fields.
async fn listed_names(app: &TestApp, user: &TestUser) -> Vec<String> {
    let body = app.get_ok(user, SECRETS).await;
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let mut keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["created_at", "name", "updated_at"], "{item}");
            item["name"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// How many rows the `secrets` table holds.
async fn stored_rows(app: &TestApp) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let select = Query::select()
        .columns(["name", "nonce", "ciphertext"])
        .from("secrets")
        .to_owned();
    app.db
        .query_all(&select)
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get("", "name").unwrap(),
                row.try_get("", "nonce").unwrap(),
                row.try_get("", "ciphertext").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn put_list_and_delete() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    assert!(listed_names(&app, &alice).await.is_empty());
    put_ok(&app, &alice, "OPENAI_KEY", "sk-1").await;
    put_ok(&app, &alice, "GITHUB_TOKEN", VALUE).await;
    assert_eq!(listed_names(&app, &alice).await, ["GITHUB_TOKEN", "OPENAI_KEY"]);

    let res = app
        .delete_as(&alice, &secret_path("GITHUB_TOKEN"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(listed_names(&app, &alice).await, ["OPENAI_KEY"]);
    let res = app
        .delete_as(&alice, &secret_path("GITHUB_TOKEN"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
}

#[tokio::test]
async fn replacing_keeps_one_secret_and_moves_updated_at() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    put_ok(&app, &alice, "TOKEN", "first").await;
    let before = app.get_ok(&alice, SECRETS).await["items"][0].clone();
    assert_eq!(before["created_at"], before["updated_at"]);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    put_ok(&app, &alice, "TOKEN", "second").await;
    let after = app.get_ok(&alice, SECRETS).await["items"].clone();
    assert_eq!(after.as_array().unwrap().len(), 1, "{after}");
    assert_eq!(after[0]["created_at"], before["created_at"]);
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(
        parse(&after[0]["updated_at"]) > parse(&before["updated_at"]),
        "{before} then {after}"
    );
    assert_eq!(stored_rows(&app).await.len(), 1);
    let resolved = app
        .state
        .secrets
        .resolve(alice.id, &["TOKEN".to_owned()])
        .await
        .unwrap();
    assert_eq!(resolved["TOKEN"].expose(), "second");
}

#[tokio::test]
async fn the_database_holds_only_ciphertext_and_the_run_engine_can_decrypt_it() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    put_ok(&app, &alice, "GITHUB_TOKEN", VALUE).await;
    let rows = stored_rows(&app).await;
    assert_eq!(rows.len(), 1);
    let (name, nonce, ciphertext) = &rows[0];
    assert_eq!(name, "GITHUB_TOKEN");
    assert_eq!(nonce.len(), 12);
    for stored in [nonce, ciphertext] {
        assert!(
            !stored.windows(VALUE.len()).any(|w| w == VALUE.as_bytes()),
            "the value is stored in clear"
        );
    }
    let wanted = ["GITHUB_TOKEN".to_owned(), "MISSING".to_owned()];
    let resolved = app.state.secrets.resolve(alice.id, &wanted).await.unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved["GITHUB_TOKEN"].expose(), VALUE);
}

#[tokio::test]
async fn bad_names_and_values_are_422_naming_the_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let long_name = "n".repeat(65);
    let cases: [(&str, Value, &[&str]); 11] = [
        ("bad-name", json!({"value": "v"}), &["name"]),
        ("with%20space", json!({"value": "v"}), &["name"]),
        ("nul%00", json!({"value": "v"}), &["name"]),
        (&long_name, json!({"value": "v"}), &["name"]),
        ("OK", json!({"value": ""}), &["value"]),
        ("OK", json!({"value": "x".repeat(8193)}), &["value"]),
        ("OK", json!({"value": "é".repeat(4097)}), &["value"]),
        ("OK", json!({"value": "a\u{0}b"}), &["value"]),
        ("OK", json!({}), &["value"]),
        ("OK", json!({"value": 42}), &["value"]),
        ("bad-name", json!({"value": ""}), &["name", "value"]),
    ];
    for (name, body, fields) in cases {
        let problem = assert_problem(put(&app, &alice, name, &body).await, 422).await;
        assert_eq!(field_names(&problem), fields, "{name}: {problem}");
    }
    assert!(stored_rows(&app).await.is_empty());
    put_ok(&app, &alice, &"n".repeat(64), &"x".repeat(8192)).await;
}

#[tokio::test]
async fn another_users_secret_is_not_found_and_never_listed() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    put_ok(&app, &alice, "SHARED_NAME", "alice-value").await;
    put_ok(&app, &alice, "ALICE_ONLY", "alice-only").await;
    put_ok(&app, &bob, "SHARED_NAME", "bob-value").await;

    assert_eq!(listed_names(&app, &bob).await, ["SHARED_NAME"]);
    for name in ["ALICE_ONLY", "NEVER_WRITTEN", "bad-name"] {
        let res = app.delete_as(&bob, &secret_path(name)).send().await.unwrap();
        assert_problem(res, 404).await;
    }
    let res = app.delete_as(&bob, &secret_path("SHARED_NAME")).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(listed_names(&app, &alice).await, ["ALICE_ONLY", "SHARED_NAME"]);
    let resolved = app
        .state
        .secrets
        .resolve(alice.id, &["SHARED_NAME".to_owned()])
        .await
        .unwrap();
    assert_eq!(resolved["SHARED_NAME"].expose(), "alice-value");
}

#[tokio::test]
async fn no_answer_ever_shows_a_value() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut bodies = Vec::new();
    for (name, body) in [
        ("TOKEN", json!({"value": VALUE})),
        ("TOKEN", json!({"value": VALUE})),
        ("bad-name", json!({"value": VALUE})),
        ("TOKEN", json!({"value": format!("{VALUE}{}", "x".repeat(8192))})),
        ("TOKEN", json!({"value": format!("{VALUE}\u{0}")})),
        ("TOKEN", json!({"value": VALUE, "extra": 1})),
    ] {
        bodies.push(put(&app, &alice, name, &body).await.text().await.unwrap());
    }
    bodies.push(app.get_as(&alice, SECRETS).send().await.unwrap().text().await.unwrap());
    for path in [secret_path("TOKEN"), secret_path("TOKEN")] {
        bodies.push(app.delete_as(&alice, &path).send().await.unwrap().text().await.unwrap());
    }
    let res = app.get_as(&alice, "/openapi.json").send().await.unwrap();
    bodies.push(res.text().await.unwrap());
    for body in &bodies {
        assert!(
            !body.contains("Th1s-Is-The-Secret"),
            "an answer shows the value: {body}"
        );
    }
}

#[tokio::test]
async fn api_keys_manage_secrets_and_anonymous_callers_are_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let created: Value = app
        .post_as(&alice, "/api/v1/api-keys", &json!({"name": "ci"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keyed = TestUser {
        access_token: created["key"].as_str().unwrap().to_owned(),
        ..alice.clone()
    };
    put_ok(&app, &keyed, "FROM_KEY", "v").await;
    assert_eq!(listed_names(&app, &alice).await, ["FROM_KEY"]);
    assert_eq!(listed_names(&app, &keyed).await, ["FROM_KEY"]);

    for (method, path) in [
        (Method::PUT, secret_path("FROM_KEY")),
        (Method::GET, SECRETS.to_owned()),
        (Method::DELETE, secret_path("FROM_KEY")),
    ] {
        let res = app
            .request(method.clone(), &path)
            .json(&json!({"value": "v"}))
            .send()
            .await
            .unwrap();
        assert_problem(res, 401).await;
        let res = app
            .request(method.clone(), &path)
            .bearer_auth("not-a-token")
            .json(&json!({"value": "v"}))
            .send()
            .await
            .unwrap();
        assert_problem(res, 401).await;
    }
    assert_eq!(listed_names(&app, &alice).await, ["FROM_KEY"]);
}
