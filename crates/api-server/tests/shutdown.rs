//! SIGTERM to the real `api-server` binary with work in flight (a temporary SQLite file,
//! or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set): no queued execution is
//! claimed, the running one ends `interrupted`, open streams end with a final event, all
//! within one grace period.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod common;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use common::{Db, free_port, post, ready_and_logged_in, sigterm};

/// `SHUTDOWN_TIMEOUT_SECS` of the server under test.
const GRACE_SECS: u64 = 3;

/// The server under test: a grace period of [`GRACE_SECS`], echo streaming a word every 100 ms.
fn spawn_server(db: &Db, port: u16) -> std::process::Child {
    common::server(db, port)
        .env("SHUTDOWN_TIMEOUT_SECS", GRACE_SECS.to_string())
        .env("ECHO_WORD_DELAY_MS", "100")
        .spawn()
        .expect("start api-server")
}

#[tokio::test]
async fn sigterm_interrupts_runs_claims_nothing_and_ends_streams_within_one_grace_period() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = Db::create().await;
    let port = free_port();
    let mut child = spawn_server(&db, port);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let token = ready_and_logged_in(&client, &base, &mut child).await;
    let agent = post(
        &client,
        &base,
        &token,
        "/api/v1/agents",
        json!({"name": "slow", "model": "echo-1"}),
    )
    .await;
    let agent_id = agent["id"].as_str().unwrap().to_owned();

    // Two workers: one running execution and one streamed chat reply (a run too) that both
    // outlast the grace period, and one execution queued behind them.
    let long_input = vec!["word"; 400].join(" ");
    let execute = format!("/api/v1/agents/{agent_id}/execute");
    let running = post(&client, &base, &token, &execute, json!({"input": long_input})).await;
    let running_id = running["id"].as_str().unwrap().to_owned();
    let url = format!("ws://127.0.0.1:{port}/api/v1/ws/executions/{running_id}?access_token={token}");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // Running once its model streams.
    loop {
        let Some(Ok(Message::Text(text))) = socket.next().await else {
            panic!("the socket ended early")
        };
        if serde_json::from_str::<Value>(&text).unwrap()["type"] == "message.delta" {
            break;
        }
    }
    // A streamed chat reply that outlasts the grace period, opened before the signal.
    let mut sse = client
        .post(format!("{base}/api/v1/chat/messages"))
        .bearer_auth(&token)
        .json(&json!({"content": long_input, "stream": true}))
        .send()
        .await
        .unwrap()
        .bytes_stream();
    let first = sse.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: message.created"));
    let queued = post(&client, &base, &token, &execute, json!({"input": "later"})).await;
    let queued_id = queued["id"].as_str().unwrap().to_owned();

    let signalled = Instant::now();
    sigterm(&child);

    let watcher = tokio::spawn(async move {
        let mut last_event = Value::Null;
        let mut close = None;
        while let Some(message) = socket.next().await {
            match message.unwrap() {
                Message::Text(text) => last_event = serde_json::from_str(&text).unwrap(),
                Message::Close(frame) => {
                    close = frame.map(|f| f.code);
                    break;
                }
                _ => {}
            }
        }
        (last_event, close)
    });
    let reader = tokio::spawn(async move {
        let mut text = String::new();
        while let Some(Ok(chunk)) = sse.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        text
    });
    let (last_event, close) = watcher.await.unwrap();
    assert_eq!(last_event["type"], "execution.failed", "{last_event}");
    assert_eq!(last_event["data"]["error"], "interrupted", "{last_event}");
    assert_eq!(close, Some(CloseCode::Away));
    let streamed = reader.await.unwrap();
    let last = streamed.trim_end().rsplit("\n\n").next().unwrap_or_default();
    // The run's `execution.failed` (`interrupted`, with its `id:`) or the server's own
    // end-of-stream error, whichever came first: a 503 either way.
    let last = match last.split_once('\n') {
        Some((id, rest)) if id.starts_with("id: ") => rest,
        _ => last,
    };
    assert!(last.starts_with("event: error\ndata: "), "{last}");
    let problem: Value = serde_json::from_str(last.trim_start_matches("event: error\ndata: ")).unwrap();
    assert_eq!(problem["status"], 503, "{problem}");

    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let took = signalled.elapsed();
    assert!(exit.success(), "{exit:?}");
    // One grace period, not the HTTP drain and the runs' grace one after the other.
    assert!(took < Duration::from_secs(2 * GRACE_SECS), "shutdown took {took:?}");

    let conn = Database::connect(db.url.as_str()).await.unwrap();
    let status_of = |id: String| {
        let conn = &conn;
        async move {
            let backend = conn.get_database_backend();
            let placeholder = if backend == sea_orm::DbBackend::Postgres {
                "$1"
            } else {
                "?"
            };
            let sql = format!("SELECT status, error FROM executions WHERE id = {placeholder}");
            let id = uuid::Uuid::parse_str(&id).unwrap();
            let row = conn
                .query_one_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
                .await
                .unwrap()
                .expect("the execution is stored");
            (
                row.try_get::<String>("", "status").unwrap(),
                row.try_get::<Option<String>>("", "error").unwrap(),
            )
        }
    };
    assert_eq!(
        status_of(running_id).await,
        ("failed".into(), Some("interrupted".into()))
    );
    assert_eq!(status_of(queued_id).await, ("queued".into(), None));
    drop(conn);
    db.drop_database().await;
}

#[tokio::test]
async fn requests_sent_on_keep_alive_connections_just_before_sigterm_are_answered() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = Db::create().await;
    let port = free_port();
    let mut child = spawn_server(&db, port);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
    let token = ready_and_logged_in(&client, &base, &mut child).await;
    // Open keep-alive connections: the requests below reuse them.
    const IN_FLIGHT: usize = 32;
    let warm: Vec<_> = (0..IN_FLIGHT)
        .map(|_| client.get(format!("{base}/api/v1/users/me")).bearer_auth(&token).send())
        .collect();
    for res in futures_util::future::join_all(warm).await {
        assert_eq!(res.unwrap().status(), 200);
    }

    let sends: Vec<_> = (0..IN_FLIGHT)
        .map(|i| {
            client
                .post(format!("{base}/api/v1/agents"))
                .bearer_auth(&token)
                .json(&json!({"name": format!("agent {i}"), "model": "echo-1"}))
                .send()
        })
        .collect();
    let answers = tokio::spawn(futures_util::future::join_all(sends));
    tokio::time::sleep(Duration::from_millis(3)).await;
    sigterm(&child);
    let answers = answers.await.unwrap();
    let dropped: Vec<String> = answers
        .iter()
        .filter_map(|res| res.as_ref().err().map(|err| format!("{err:?}")))
        .collect();
    assert!(
        dropped.is_empty(),
        "{} of {IN_FLIGHT} requests got no answer: {dropped:?}",
        dropped.len()
    );
    for res in answers {
        assert_eq!(res.unwrap().status(), 201);
    }
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status}");
    db.drop_database().await;
}
