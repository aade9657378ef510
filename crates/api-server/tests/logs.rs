//! A secret used by an HTTP tool never reaches the server's logs: the real binary runs with
//! every log line on (`RUST_LOG=debug`), an HTTP tool call sends the secret to a real
//! endpoint, and the captured output is searched for it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::process::Stdio;

use common::{Db, free_port, post, ready_and_logged_in, sigterm};
use serde_json::json;
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "sk-live-7f3a9c1e55d04b2b";

#[tokio::test]
async fn a_secret_sent_by_an_http_tool_is_in_no_log_line() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let endpoint = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("x-api-key", SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_string("forecast: sunny"))
        .expect(1)
        .mount(&endpoint)
        .await;
    let db = Db::create().await;
    let port = free_port();
    let log_path = std::env::temp_dir().join(format!("agentry-logs-{}.txt", uuid::Uuid::new_v4()));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = common::server(&db, port)
        .env("RUST_LOG", "debug")
        .env("OUTBOUND_ALLOWLIST", "127.0.0.1/32")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start api-server");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let token = ready_and_logged_in(&client, &base, &mut child).await;

    let res = client
        .put(format!("{base}/api/v1/secrets/WEATHER_KEY"))
        .bearer_auth(&token)
        .json(&json!({"value": SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let tool = json!({
        "name": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "kind": "http",
        "http": {"method": "GET", "url": format!("{}/weather", endpoint.uri()), "headers": {"X-Api-Key": "{{secret:WEATHER_KEY}}"}},
    });
    let tool = post(&client, &base, &token, "/api/v1/tools", tool).await;
    let agent = json!({"name": "forecaster", "model": "echo-1", "tool_ids": [tool["id"]]});
    let agent = post(&client, &base, &token, "/api/v1/agents", agent).await;
    let chat = json!({"agent_id": agent["id"], "content": "/call weather {\"city\": \"Oslo\"}"});
    let reply = post(&client, &base, &token, "/api/v1/chat/messages", chat).await;
    assert_eq!(reply["content"], "echo: weather returned forecast: sunny");

    sigterm(&child);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);
    // The capture holds the run's debug lines (so the search below can find something).
    assert!(logged.contains("execution"), "nothing was logged: {logged}");
    assert!(logged.lines().count() > 20, "too little was logged to tell: {logged}");
    assert!(!logged.contains(SECRET), "the secret is in the logs");
    db.drop_database().await;
}
