//! Several servers on one PostgreSQL database behave as one service: each execution is
//! claimed once, events reach watchers connected to any replica (LISTEN/NOTIFY), a cancel
//! sent to any replica stops the run, and a live replica's runs are never swept.
//! PostgreSQL only: on SQLite (one process by design) they are reported as ignored.

use std::collections::HashSet;
use std::time::Duration;

use agentry_tests::{TestApp, instant};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::websocket::{Auth, connect, drain};
use super::{echo_agent, events, finished, start, types, wait_for, words};

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_watcher_on_one_replica_follows_a_run_on_another_that_outlives_the_lease() {
    testkit::require_postgres();
    // Runs take longer than the 2 s lease: the API-only replica sweeps every ~0.7 s and must
    // leave them alone while the running replica's heartbeat renews them.
    let worker = TestApp::spawn_with(|c| {
        c.echo_word_delay_ms = 25;
        c.execution_lease_secs = 2;
    })
    .await;
    let api = TestApp::spawn_on(&worker, |c| {
        c.execution_workers = 0;
        c.execution_lease_secs = 2;
    })
    .await;
    let ada = api.register("ada").await;
    let agent = echo_agent(&api, &ada, "Slow").await;
    let id = start(&api, &ada, &agent, &words(140)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut socket = connect(&api, &id, None, Auth::Query(&ada.access_token)).await.unwrap();
    let (received, code) = drain(&mut socket, usize::MAX).await;
    assert_eq!(code, Some(CloseCode::Normal));
    assert_eq!(
        received,
        events(&api, &ada, &id, 0).await,
        "every event, in order, across replicas"
    );
    let done = finished(&api, &ada, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(worker.state.runner.local_runs().is_empty() && api.state.runner.local_runs().is_empty());
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_cancel_sent_to_another_replica_stops_the_run_promptly() {
    testkit::require_postgres();
    // A 30 s lease: the periodic check (every 10 s) is too slow to explain a prompt stop.
    let worker = TestApp::spawn_with(|c| c.echo_word_delay_ms = 40).await;
    let api = TestApp::spawn_on(&worker, |c| c.execution_workers = 0).await;
    let ada = api.register("ada").await;
    let agent = echo_agent(&api, &ada, "Slow").await;
    let id = start(&api, &ada, &agent, &words(500)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for(&api, &ada, &id, |e| e["status"] == "running").await;
    assert_eq!(worker.state.runner.local_runs().len(), 1);

    let res = api
        .post_as(&ada, &format!("/api/v1/executions/{id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "cancelled");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while !worker.state.runner.local_runs().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run on the other replica did not stop"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        types(&events(&api, &ada, &id, 0).await).last(),
        Some(&"execution.cancelled")
    );
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn each_execution_is_claimed_by_exactly_one_replica() {
    testkit::require_postgres();
    let first = TestApp::spawn_with(|c| c.execution_poll_ms = 50).await;
    let second = TestApp::spawn_on(&first, |c| c.execution_poll_ms = 50).await;
    let ada = first.register("ada").await;
    let agent = echo_agent(&first, &ada, "Echo").await;
    let mut ids = Vec::new();
    for n in 0..24 {
        let app = if n % 2 == 0 { &first } else { &second };
        ids.push(
            start(app, &ada, &agent, &format!("task {n}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for (n, id) in ids.iter().enumerate() {
        let done = finished(&second, &ada, id).await;
        assert_eq!(done["output"], format!("echo: task {n}"));
        let all = events(&first, &ada, id, 0).await;
        let started = types(&all).iter().filter(|t| **t == "execution.started").count();
        assert_eq!(started, 1, "{id} ran once");
        let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, (1..=all.len() as i64).collect::<Vec<_>>());
    }
    let rows = sea_orm::ConnectionTrait::query_all_raw(
        &first.db,
        sea_orm::Statement::from_string(
            first.db.get_database_backend(),
            "SELECT DISTINCT worker_id FROM executions",
        ),
    )
    .await
    .unwrap();
    let workers: HashSet<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "worker_id").unwrap())
        .collect();
    let ours: HashSet<String> = [
        first.state.runner.worker_id().to_owned(),
        second.state.runner.worker_id().to_owned(),
    ]
    .into();
    assert!(workers.is_subset(&ours), "{workers:?}");
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn two_replicas_run_the_queued_runs_of_one_conversation_one_at_a_time_in_order() {
    testkit::require_postgres();
    // Two replicas with workers race for the runs an API-only replica queues (each queued
    // run wakes both); a conversation's runs must still run one at a time, oldest first.
    let first = TestApp::spawn_with(|c| c.echo_word_delay_ms = 20).await;
    let second = TestApp::spawn_on(&first, |c| c.echo_word_delay_ms = 20).await;
    let api = TestApp::spawn_on(&first, |c| c.execution_workers = 0).await;
    let ada = api.register("ada").await;
    let agent = echo_agent(&api, &ada, "Chatty").await;
    let res = api
        .post_as(&ada, "/api/v1/conversations", &json!({"agent_id": agent}))
        .send()
        .await
        .unwrap();
    let conversation: Value = res.json().await.unwrap();
    let conversation_id = conversation["id"].as_str().unwrap();

    let inputs: Vec<String> = (1..=6).map(|i| format!("message {i} {}", words(5))).collect();
    let mut ids = Vec::new();
    for input in &inputs {
        let body = json!({"input": input, "conversation_id": conversation_id});
        let res = super::execute(&api, &ada, &agent, body).await;
        assert_eq!(res.status(), 202);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    let mut runs = Vec::new();
    for id in &ids {
        let done = finished(&api, &ada, id).await;
        assert_eq!(done["status"], "completed", "{done}");
        runs.push(done);
    }
    for pair in runs.windows(2) {
        assert!(
            instant(&pair[1]["started_at"]) >= instant(&pair[0]["completed_at"]),
            "never two runs of the conversation at once, and in order: {} then {}",
            pair[0],
            pair[1]
        );
    }
    let page = api
        .get_ok(
            &ada,
            &format!("/api/v1/conversations/{conversation_id}/messages?limit=100"),
        )
        .await;
    let contents: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = inputs
        .iter()
        .flat_map(|input| [input.clone(), format!("echo: {input}")])
        .collect();
    assert_eq!(contents, expected, "the history is in order: user, assistant, user, …");
    assert!(first.state.runner.local_runs().is_empty() && second.state.runner.local_runs().is_empty());
}
