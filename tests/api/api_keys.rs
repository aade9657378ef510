//! `/api/v1/api-keys`, and API keys as bearer tokens: shown once, stored as a hash, acting
//! as their user everywhere but key management, password change and account deletion,
//! and refused from the next request on after revocation, expiry, or the account's
//! deactivation or deletion.

mod replicas;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use reqwest::{Method, Response};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const KEYS: &str = "/api/v1/api-keys";
const ME: &str = "/api/v1/users/me";

/// The fields of a key as reads show it (never `key`).
const KEY_FIELDS: [&str; 6] = ["created_at", "expires_at", "id", "last_used_at", "name", "prefix"];

fn key_path(id: &Value) -> String {
    format!("{KEYS}/{}", id.as_str().unwrap())
}

/// Creates a key named `name` for `user` (with its access token); the `201` body.
async fn create_key(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app.post_as(user, KEYS, &body).send().await.unwrap();
    let status = res.status();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let cache_control = res
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    let created: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{created}");
    assert_eq!(location, Some(key_path(&created["id"])));
    assert_eq!(cache_control.as_deref(), Some("no-store"));
    created
}

/// `user` acting with `key` instead of their access token.
fn with_key(user: &TestUser, created: &Value) -> TestUser {
    TestUser {
        access_token: created["key"].as_str().unwrap().to_owned(),
        ..user.clone()
    }
}

fn sorted_keys(body: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

/// Asserts a `401` problem with `WWW-Authenticate: Bearer`.
async fn assert_refused(res: Response, case: &str) {
    assert_eq!(
        res.headers().get("www-authenticate").map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{case}"
    );
    assert_problem(res, 401).await;
}

/// Sets a timestamp column of the key `id` behind the server's back.
async fn set_key_time(app: &TestApp, id: &Value, column: &str, at: chrono::DateTime<chrono::Utc>) {
    let id = uuid::Uuid::parse_str(id.as_str().unwrap()).unwrap();
    let update = Query::update()
        .table(Alias::new("api_keys"))
        .value(Alias::new(column), at)
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    assert_eq!(app.db.execute(&update).await.unwrap().rows_affected(), 1);
}

/// Every stored `api_keys` row's text columns.
async fn stored_rows(app: &TestApp) -> Vec<[String; 3]> {
    let select = Query::select()
        .columns([Alias::new("name"), Alias::new("prefix"), Alias::new("key_hash")])
        .from(Alias::new("api_keys"))
        .to_owned();
    app.db
        .query_all(&select)
        .await
        .unwrap()
        .iter()
        .map(|row| ["name", "prefix", "key_hash"].map(|column| row.try_get::<String>("", column).unwrap()))
        .collect()
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn create_list_read_and_revoke() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let created = create_key(&app, &alice, json!({"name": "CI pipeline"})).await;
    let mut fields = KEY_FIELDS.to_vec();
    fields.push("key");
    fields.sort_unstable();
    assert_eq!(sorted_keys(&created), fields, "{created}");
    let key = created["key"].as_str().unwrap();
    let secret = key.strip_prefix("agk_").expect("agk_ prefix");
    assert!(secret.len() >= 32, "{key}");
    assert_eq!(created["prefix"], key[..12]);
    assert_eq!(created["name"], "CI pipeline");
    assert_eq!(
        (created["expires_at"].clone(), created["last_used_at"].clone()),
        (Value::Null, Value::Null)
    );

    let read = app.get_ok(&alice, &key_path(&created["id"])).await;
    assert_eq!(sorted_keys(&read), KEY_FIELDS, "{read}");
    for field in KEY_FIELDS {
        assert_eq!(read[field], created[field], "{field}");
    }
    let second = create_key(&app, &alice, json!({"name": "laptop"})).await;
    assert_ne!(second["key"], created["key"]);
    let page = app.get_ok(&alice, KEYS).await;
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["next_cursor"], Value::Null);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["laptop", "CI pipeline"], "newest first");
    for item in page["items"].as_array().unwrap() {
        assert_eq!(sorted_keys(item), KEY_FIELDS, "{item}");
    }
    let shown = format!("{read}{page}");
    assert!(!shown.contains(secret), "the key is never shown again: {shown}");

    // Paged like every list.
    let first = app.get_ok(&alice, &format!("{KEYS}?limit=1")).await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let rest = app.get_ok(&alice, &format!("{KEYS}?limit=1&cursor={cursor}")).await;
    assert_eq!(rest["items"][0]["id"], created["id"]);

    let res = app.delete_as(&alice, &key_path(&created["id"])).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get_as(&alice, &key_path(&created["id"])).send().await.unwrap(), 404).await;
    assert_problem(
        app.delete_as(&alice, &key_path(&created["id"])).send().await.unwrap(),
        404,
    )
    .await;
    assert_eq!(app.get_ok(&alice, KEYS).await["total"], 1);
}

#[tokio::test]
async fn only_the_hash_is_stored() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let created = create_key(&app, &alice, json!({"name": "ci"})).await;
    let key = created["key"].as_str().unwrap();
    let rows = stored_rows(&app).await;
    assert_eq!(rows.len(), 1);
    let [name, prefix, hash] = &rows[0];
    assert_eq!((name.as_str(), prefix.as_str()), ("ci", &key[..12]));
    assert_eq!(*hash, hex_sha256(key));
    assert!(!rows[0].iter().any(|column| column.contains(&key[12..])), "{rows:?}");
}

#[tokio::test]
async fn a_key_acts_as_its_user() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let created = create_key(&app, &alice, json!({"name": "ci"})).await;
    let keyed = with_key(&alice, &created);

    let me = app.get_ok(&keyed, ME).await;
    assert_eq!(me["id"], alice.id.to_string());
    assert_eq!(app.get_ok(&keyed, "/api/v1/agents").await["total"], 0);
    let agent = app
        .post_as(
            &keyed,
            "/api/v1/agents",
            &json!({"name": "helper", "model": "echo-1", "provider": "echo"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(agent.status(), 201, "{}", agent.text().await.unwrap());
    assert_eq!(
        app.get_ok(&alice, "/api/v1/agents").await["total"],
        1,
        "Alice's own agent"
    );
    // Not a superuser's key: the admin routes stay closed.
    assert_problem(app.get_as(&keyed, "/api/v1/users").send().await.unwrap(), 403).await;

    // Its use is recorded.
    let read = app.get_ok(&alice, &key_path(&created["id"])).await;
    let used = read["last_used_at"].as_str().expect("last_used_at set");
    let used = chrono::DateTime::parse_from_rfc3339(used).unwrap();
    assert!(chrono::Utc::now().signed_duration_since(used) < chrono::Duration::minutes(1));
}

#[tokio::test]
async fn a_revoked_key_is_refused_from_the_next_request_on() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let created = create_key(&app, &alice, json!({"name": "ci"})).await;
    let other = create_key(&app, &alice, json!({"name": "other"})).await;
    let keyed = with_key(&alice, &created);
    assert_eq!(app.get_as(&keyed, ME).send().await.unwrap().status(), 200);

    let res = app.delete_as(&alice, &key_path(&created["id"])).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_refused(app.get_as(&keyed, ME).send().await.unwrap(), "revoked").await;
    assert_refused(app.get_as(&keyed, "/api/v1/agents").send().await.unwrap(), "revoked").await;
    let still = with_key(&alice, &other);
    assert_eq!(
        app.get_as(&still, ME).send().await.unwrap().status(),
        200,
        "other keys live on"
    );
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let created = create_key(&app, &alice, json!({"name": "ci", "expires_at": tomorrow})).await;
    let expires_at = chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires_at.timestamp(), tomorrow.timestamp());
    let keyed = with_key(&alice, &created);

    // As if the day had passed (before this server cached the key).
    set_key_time(
        &app,
        &created["id"],
        "expires_at",
        chrono::Utc::now() - chrono::Duration::seconds(1),
    )
    .await;
    assert_refused(app.get_as(&keyed, ME).send().await.unwrap(), "expired").await;
}

#[tokio::test]
async fn a_deactivated_or_deleted_users_key_is_refused() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let alice_key = with_key(&alice, &create_key(&app, &alice, json!({"name": "ci"})).await);
    let bob_key = with_key(&bob, &create_key(&app, &bob, json!({"name": "ci"})).await);
    assert_eq!(app.get_as(&alice_key, ME).send().await.unwrap().status(), 200);
    assert_eq!(app.get_as(&bob_key, ME).send().await.unwrap().status(), 200);

    app.patch_user(&root, alice.id, json!({"is_active": false})).await;
    assert_refused(app.get_as(&alice_key, ME).send().await.unwrap(), "deactivated").await;

    let res = app
        .delete_as(&root, &format!("/api/v1/users/{}", bob.id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_refused(app.get_as(&bob_key, ME).send().await.unwrap(), "deleted").await;
    assert!(stored_rows(&app).await.len() == 1, "Bob's key went with his account");
}

#[tokio::test]
async fn a_key_cannot_manage_keys_change_the_password_or_delete_the_account() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let created = create_key(&app, &alice, json!({"name": "ci"})).await;
    let keyed = with_key(&alice, &created);
    let attempts = [
        ("create a key", app.post_as(&keyed, KEYS, &json!({"name": "more"}))),
        ("list keys", app.get_as(&keyed, KEYS)),
        ("read a key", app.get_as(&keyed, &key_path(&created["id"]))),
        ("revoke a key", app.delete_as(&keyed, &key_path(&created["id"]))),
        (
            "change the password",
            app.post_as(
                &keyed,
                "/api/v1/users/me/password",
                &json!({"current_password": alice.password, "new_password": "taken-over-123"}),
            ),
        ),
        ("delete the account", app.delete_as(&keyed, ME)),
    ];
    for (case, request) in attempts {
        let problem = assert_problem(request.send().await.unwrap(), 403).await;
        assert_eq!(problem["code"], "forbidden", "{case}: {problem}");
    }
    // Nothing changed: the account, its password and its one key are as they were.
    assert_eq!(app.login(&alice.username, &alice.password).await.status(), 200);
    let page = app.get_ok(&alice, KEYS).await;
    assert_eq!(page["total"], 1);
    assert_eq!(app.get_as(&keyed, ME).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn another_users_key_is_404_and_stays_theirs() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let created = create_key(&app, &alice, json!({"name": "alice's"})).await;
    let path = key_path(&created["id"]);
    let missing = app
        .get_as(&bob, &format!("{KEYS}/00000000-0000-7000-8000-000000000000"))
        .send()
        .await
        .unwrap();
    let missing = assert_problem(missing, 404).await;
    let foreign = assert_problem(app.get_as(&bob, &path).send().await.unwrap(), 404).await;
    assert_eq!(foreign["detail"], missing["detail"], "no existence leak");
    assert_problem(app.delete_as(&bob, &path).send().await.unwrap(), 404).await;
    assert_eq!(app.get_ok(&bob, KEYS).await["total"], 0);
    assert_eq!(
        app.get_as(&with_key(&alice, &created), ME)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_problem(
        app.get_as(&bob, &format!("{KEYS}/not-an-id")).send().await.unwrap(),
        404,
    )
    .await;
}

#[tokio::test]
async fn bad_input_is_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    let cases = [
        (json!({}), vec!["name"]),
        (json!({"name": ""}), vec!["name"]),
        (json!({"name": "x".repeat(101)}), vec!["name"]),
        (json!({"name": "a\u{0}b"}), vec!["name"]),
        (json!({"name": 7}), vec!["name"]),
        (json!({"name": "ci", "expires_at": past}), vec!["expires_at"]),
        (json!({"name": "ci", "expires_at": "tomorrow"}), vec!["expires_at"]),
        (json!({"name": "", "expires_at": past}), vec!["expires_at", "name"]),
    ];
    for (body, fields) in cases {
        let problem = assert_problem(app.post_as(&alice, KEYS, &body).send().await.unwrap(), 422).await;
        let mut named = field_names(&problem);
        named.sort();
        assert_eq!(named, fields, "{body}: {problem}");
    }
    for query in ["?limit=0", "?limit=101", "?cursor=nope"] {
        assert_problem(app.get_as(&alice, &format!("{KEYS}{query}")).send().await.unwrap(), 422).await;
    }
    assert_eq!(app.get_ok(&alice, KEYS).await["total"], 0, "nothing stored");
    create_key(&app, &alice, json!({"name": "é".repeat(100), "expires_at": null})).await;
}

#[tokio::test]
async fn an_idempotent_retry_never_replays_or_stores_the_key() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut keys = Vec::new();
    for _ in 0..2 {
        let res = app
            .post_as(&alice, KEYS, &json!({"name": "ci"}))
            .header("idempotency-key", "create-ci-key")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        assert!(res.headers().get("idempotent-replayed").is_none());
        let created: Value = res.json().await.unwrap();
        keys.push(created["key"].as_str().unwrap().to_owned());
    }
    assert_ne!(keys[0], keys[1], "the retry ran again: a second key");
    let select = Query::select()
        .column(Alias::new("response_body"))
        .from(Alias::new("idempotency_keys"))
        .to_owned();
    for row in app.db.query_all(&select).await.unwrap() {
        let body = row
            .try_get::<Option<Vec<u8>>>("", "response_body")
            .unwrap()
            .unwrap_or_default();
        let body = String::from_utf8_lossy(&body);
        assert!(keys.iter().all(|key| !body.contains(&key[12..])), "{body}");
    }
}

#[tokio::test]
async fn malformed_and_unknown_keys_are_401() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let created = create_key(&app, &alice, json!({"name": "ci"})).await;
    let key = created["key"].as_str().unwrap();
    let mut unknown = key[..key.len() - 1].to_owned();
    unknown.push(if key.ends_with('A') { 'B' } else { 'A' });
    for token in [
        unknown.as_str(),
        &key[..key.len() - 1],
        &format!("{key}A"),
        "agk_",
        "agk_not-a-key",
        &format!("agk_{}", "\u{e9}".repeat(22)),
    ] {
        let res = app
            .request(Method::GET, ME)
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_refused(res, token).await;
    }
}
