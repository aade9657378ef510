//! `Idempotency-Key` on authenticated POSTs: replays of the first answer, a key reused for
//! another request (422), a duplicate while the first runs (409), per-user keys, expiry,
//! and invalid keys.

mod concurrency;
mod streams;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use kernel::idempotency::entity;
use reqwest::{RequestBuilder, Response};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::agents::total;
use crate::chat::messages;

/// A key used by the tests.
const KEY: &str = "create-researcher-7f3a";

/// POSTs `body` to `path` as `user` with `Idempotency-Key: key`.
fn post_with_key(app: &TestApp, user: &TestUser, path: &str, body: &Value, key: &str) -> RequestBuilder {
    app.post_as(user, path, body).header("Idempotency-Key", key)
}

/// Status, `Location`, `Idempotent-Replayed` and JSON body of an answer.
async fn answer(res: Response) -> (u16, Option<String>, Option<String>, Value) {
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, location, replayed) = (res.status().as_u16(), header("location"), header("idempotent-replayed"));
    (status, location, replayed, res.json().await.unwrap())
}

/// The stored keys of `user`.
pub(crate) async fn stored_keys(app: &TestApp, user: &TestUser) -> Vec<entity::Model> {
    entity::Entity::find()
        .filter(entity::Column::UserId.eq(user.id))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_create_sent_again_with_its_key_replays_the_first_answer_and_stores_one_agent() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let body = json!({"name": "Researcher", "model": "echo-1"});

    let (status, location, replayed, first) = answer(
        post_with_key(&app, &ada, "/api/v1/agents", &body, KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(replayed, None);
    let location = location.expect("Location");
    assert_eq!(location, format!("/api/v1/agents/{}", first["id"].as_str().unwrap()));

    for _ in 0..2 {
        let (status, again_location, replayed, again) = answer(
            post_with_key(&app, &ada, "/api/v1/agents", &body, KEY)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(replayed.as_deref(), Some("true"));
        assert_eq!(again_location.as_deref(), Some(location.as_str()));
        assert_eq!(again, first);
    }
    assert_eq!(total(&app, &ada).await, 1);
    let keys = stored_keys(&app, &ada).await;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].state, "done");

    // Without a key, the same request runs again.
    let res = app.post_as(&ada, "/api/v1/agents", &body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(total(&app, &ada).await, 2);
    assert_eq!(stored_keys(&app, &ada).await.len(), 1);
}

#[tokio::test]
async fn a_chat_message_sent_again_with_its_key_is_answered_once() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let body = json!({"content": "hello there"});

    let res = post_with_key(&app, &ada, "/api/v1/chat/messages", &body, KEY)
        .send()
        .await
        .unwrap();
    let (status, _, replayed, reply) = answer(res).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(replayed, None);
    assert_eq!(reply["content"], "echo: hello there");

    let res = post_with_key(&app, &ada, "/api/v1/chat/messages", &body, KEY)
        .send()
        .await
        .unwrap();
    let (status, _, replayed, again) = answer(res).await;
    assert_eq!(status, 201);
    assert_eq!(replayed.as_deref(), Some("true"));
    assert_eq!(again, reply);

    let conversations = app.get_ok(&ada, "/api/v1/conversations").await;
    assert_eq!(conversations["total"], 1, "{conversations}");
    let conversation_id = reply["conversation_id"].as_str().unwrap();
    let stored: Vec<(String, String)> = messages(&app, &ada, conversation_id)
        .await
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        stored,
        [
            ("user".to_owned(), "hello there".to_owned()),
            ("assistant".to_owned(), "echo: hello there".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_key_sent_with_another_body_or_path_is_a_422_and_runs_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = post_with_key(
        &app,
        &ada,
        "/api/v1/agents",
        &json!({"name": "First", "model": "m"}),
        KEY,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 201);

    let other_body = post_with_key(
        &app,
        &ada,
        "/api/v1/agents",
        &json!({"name": "Second", "model": "m"}),
        KEY,
    );
    let other_path = post_with_key(
        &app,
        &ada,
        "/api/v1/tools",
        &json!({"name": "t", "parameters": {"type": "object"}}),
        KEY,
    );
    for request in [other_body, other_path] {
        let problem = assert_problem(request.send().await.unwrap(), 422).await;
        assert_eq!(problem["code"], "idempotency_key_reused", "{problem}");
        assert_eq!(field_names(&problem), ["Idempotency-Key"]);
    }
    assert_eq!(total(&app, &ada).await, 1);
    let tools = app.get_ok(&ada, "/api/v1/tools").await;
    assert_eq!(tools["total"], 0);
}

#[tokio::test]
async fn keys_are_the_callers_own() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let body = json!({"name": "Researcher", "model": "m"});
    let mut ids = Vec::new();
    for user in [&ada, &bob] {
        let res = post_with_key(&app, user, "/api/v1/agents", &body, KEY)
            .send()
            .await
            .unwrap();
        let (status, _, replayed, agent) = answer(res).await;
        assert_eq!(status, 201, "{agent}");
        assert_eq!(replayed, None, "{}'s key is not {}'s", user.username, ada.username);
        assert_eq!(agent["owner_id"], user.id.to_string());
        ids.push(agent["id"].clone());
    }
    assert_ne!(ids[0], ids[1]);
    // Each one's key replays their own answer.
    for (user, id) in [(&ada, &ids[0]), (&bob, &ids[1])] {
        let res = post_with_key(&app, user, "/api/v1/agents", &body, KEY)
            .send()
            .await
            .unwrap();
        let (_, _, replayed, agent) = answer(res).await;
        assert_eq!(replayed.as_deref(), Some("true"));
        assert_eq!(&agent["id"], id);
        assert_eq!(total(&app, user).await, 1);
    }
}

#[tokio::test]
async fn an_expired_key_is_purged_and_its_request_runs_again() {
    let app = TestApp::spawn_with(|c| c.idempotency_ttl_secs = 60).await;
    let ada = app.register("ada").await;
    let body = json!({"name": "Researcher", "model": "m"});
    let send = || post_with_key(&app, &ada, "/api/v1/agents", &body, KEY).send();
    let first = answer(send().await.unwrap()).await.3;
    assert_eq!(send().await.unwrap().headers()["idempotent-replayed"], "true");

    // The key is now older than the 60 s TTL.
    backdate(&app, &ada, 61).await;
    let (status, _, replayed, again) = answer(send().await.unwrap()).await;
    assert_eq!(status, 201);
    assert_eq!(replayed, None);
    assert_ne!(again["id"], first["id"]);
    assert_eq!(total(&app, &ada).await, 2);
    let keys = stored_keys(&app, &ada).await;
    assert_eq!(keys.len(), 1, "the expired row was replaced");

    // The periodic purge deletes expired keys it is not asked about, and only those.
    let bob = app.register("bob").await;
    post_with_key(&app, &bob, "/api/v1/agents", &body, KEY)
        .send()
        .await
        .unwrap();
    backdate(&app, &ada, 61).await;
    assert_eq!(app.state.idempotency.purge_expired().await.unwrap(), 1);
    assert!(stored_keys(&app, &ada).await.is_empty());
    assert_eq!(stored_keys(&app, &bob).await.len(), 1);
}

/// Moves `user`'s keys `secs` seconds into the past.
async fn backdate(app: &TestApp, user: &TestUser, secs: i64) {
    for key in stored_keys(app, user).await {
        let created_at = key.created_at - chrono::Duration::seconds(secs);
        entity::Entity::update_many()
            .col_expr(entity::Column::CreatedAt, sea_orm::sea_query::Expr::value(created_at))
            .filter(entity::Column::Id.eq(key.id))
            .exec(&app.db)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_invalid_key_is_a_422_naming_the_header() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let body = json!({"name": "Researcher", "model": "m"});
    let too_long = "k".repeat(256);
    let invalid: [&[u8]; 5] = [b"", too_long.as_bytes(), b"two words", b"tab\tkey", b"caf\xc3\xa9"];
    for key in invalid {
        let value = reqwest::header::HeaderValue::from_bytes(key).unwrap();
        let res = app
            .post_as(&ada, "/api/v1/agents", &body)
            .header("Idempotency-Key", value)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(problem["code"], "validation_failed", "{key:?}: {problem}");
        assert_eq!(field_names(&problem), ["Idempotency-Key"], "{key:?}");
    }
    // Two keys on one request are refused as well.
    let res = app
        .post_as(&ada, "/api/v1/agents", &body)
        .header("Idempotency-Key", "a")
        .header("Idempotency-Key", "b")
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["Idempotency-Key"]);
    // The longest key is fine.
    let longest = "k".repeat(255);
    let res = post_with_key(&app, &ada, "/api/v1/agents", &body, &longest)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(total(&app, &ada).await, 1);
}

#[tokio::test]
async fn without_a_login_the_key_changes_nothing() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Researcher", "model": "m"});
    for token in [None, Some("not-a-token")] {
        let mut request = app
            .request(reqwest::Method::POST, "/api/v1/agents")
            .json(&body)
            .header("Idempotency-Key", " not valid either ");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_problem(request.send().await.unwrap(), 401).await;
    }
    // (With a login, that key is refused.)
    let ada = app.register("ada").await;
    let res = app
        .post_as(&ada, "/api/v1/agents", &body)
        .header("Idempotency-Key", " not valid either ")
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["Idempotency-Key"]);
    // Routes without a login ignore the header: a registration is not replayed.
    for name in ["bob", "eve"] {
        let res = app
            .request(reqwest::Method::POST, "/api/v1/auth/register")
            .header("Idempotency-Key", KEY)
            .json(&json!({"email": format!("{name}@example.com"), "username": name, "password": "password-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        assert!(res.headers().get("idempotent-replayed").is_none());
    }
    assert_eq!(entity::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_client_error_is_replayed_with_this_requests_id() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let body = json!({"name": " padded ", "model": "m"});
    let first = assert_problem(
        post_with_key(&app, &ada, "/api/v1/agents", &body, KEY)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    let res = post_with_key(&app, &ada, "/api/v1/agents", &body, KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    // assert_problem checks the body's request_id against this answer's X-Request-Id.
    let again = assert_problem(res, 422).await;
    assert_ne!(again["request_id"], first["request_id"]);
    for field in ["type", "detail", "instance", "code", "errors"] {
        assert_eq!(again[field], first[field], "{field}");
    }
}

#[tokio::test]
async fn every_authenticated_post_documents_the_key_and_its_answers() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let parameter = &doc["components"]["parameters"]["IdempotencyKey"];
    assert_eq!(parameter["in"], "header");
    assert_eq!(parameter["name"], "Idempotency-Key");
    assert_eq!(parameter["schema"]["maxLength"], 255);
    let mut covered = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(post) = item.get("post") else { continue };
        let documented = post["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["$ref"] == "#/components/parameters/IdempotencyKey"));
        let authenticated = post["security"].as_array().is_some_and(|s| !s.is_empty());
        let below = path.starts_with("/api/v1/") || path.starts_with("/v1/");
        // Uploads stream their body to the store instead of reading it whole for a fingerprint.
        let streamed = ["/api/v1/files", "/api/v1/audio/transcriptions"].contains(&path.as_str());
        assert_eq!(documented, authenticated && below && !streamed, "POST {path}");
        if documented {
            covered += 1;
            let responses = &post["responses"];
            for status in ["409", "422"] {
                let response = &responses[status];
                let text = response.to_string();
                assert!(
                    text.contains("idempotency_key") || text.contains("IdempotencyKey"),
                    "POST {path} {status}: {response}"
                );
            }
        }
    }
    assert!(covered >= 8, "{covered} idempotent POSTs");
    let created = &doc["paths"]["/api/v1/agents"]["post"]["responses"]["201"];
    assert_eq!(
        created["headers"]["Idempotent-Replayed"]["schema"]["enum"],
        json!(["true"])
    );
    // Only authenticated routes: login and register are not among them.
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["parameters"].is_null());
}
