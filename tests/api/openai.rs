//! The OpenAI-compatible API (`/v1`): models, errors in the shape the SDKs read, chat
//! completions whole and streamed. The official SDKs play their own tour against a live
//! server in `tests/openai-sdk`.

mod chat;
mod errors;
mod model_cache;
mod models;
mod responses;

use agentry_tests::{TestApp, TestUser};
use serde_json::{Value, json};

/// Creates an echo agent named `name` for `user`; its id.
pub async fn agent(app: &TestApp, user: &TestUser, name: &str) -> String {
    let res = app
        .post_as(
            user,
            "/api/v1/agents",
            &json!({"name": name, "model": "echo-1", "provider": "echo"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let agent: Value = res.json().await.unwrap();
    agent["id"].as_str().unwrap().to_owned()
}

/// Creates an API key for `user`; the `agk_…` secret.
pub async fn api_key(app: &TestApp, user: &TestUser) -> String {
    let res = app
        .post_as(user, "/api/v1/api-keys", &json!({"name": "sdk"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let key: Value = res.json().await.unwrap();
    key["key"].as_str().unwrap().to_owned()
}

/// Asserts `body` is a `/v1` problem: problem members and OpenAI's `error` object of
/// `kind`, naming `param`; returns `error`.
pub fn assert_openai_error(body: &Value, kind: &str, param: Option<&str>) -> Value {
    let error = &body["error"];
    assert_eq!(error["type"], kind, "{body}");
    assert_eq!(error["param"], param.map_or(Value::Null, Value::from), "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert_eq!(error["code"], body["code"], "{body}");
    error.clone()
}
