//! Ending a run early: cancel (here and promptly), the time limit, and the recovery of
//! executions a crashed process left `running`.

use std::time::Duration;

use agentry_tests::TestApp;
use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use super::{echo_agent, events, finished, read, start, types, wait_for, words};

#[tokio::test]
async fn cancel_stops_a_running_execution_and_a_second_cancel_changes_nothing() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 40).await;
    let ada = app.register("ada").await;
    let agent = echo_agent(&app, &ada, "Slow").await;
    let id = start(&app, &ada, &agent, &words(300)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for(&app, &ada, &id, |e| e["status"] == "running").await;
    while !types(&events(&app, &ada, &id, 0).await).contains(&"message.delta") {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let res = app
        .post_as(&ada, &format!("/api/v1/executions/{id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["completed_at"].is_string());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let all = events(&app, &ada, &id, 0).await;
    assert_eq!(
        types(&all).last(),
        Some(&"execution.cancelled"),
        "nothing after the cancel"
    );
    assert!(types(&all).contains(&"message.delta"));

    let again = app
        .post_as(&ada, &format!("/api/v1/executions/{id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), cancelled);
    assert_eq!(events(&app, &ada, &id, 0).await, all);
}

#[tokio::test]
async fn an_execution_over_its_time_limit_fails_cleanly() {
    let app = TestApp::spawn_with(|c| {
        c.echo_word_delay_ms = 50;
        c.execution_timeout_secs = 1;
    })
    .await;
    let ada = app.register("ada").await;
    let agent = echo_agent(&app, &ada, "Slow").await;
    let id = start(&app, &ada, &agent, &words(100)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = finished(&app, &ada, &id).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"], "the execution timed out after 1 s");
    let last = events(&app, &ada, &id, 0).await.pop().unwrap();
    assert_eq!(
        (last["type"].as_str(), &last["data"]),
        (Some("execution.failed"), &json!({"error": failed["error"]}))
    );
}

/// Marks the execution as `running` under a process that died, its lease long expired.
pub(crate) async fn orphan(app: &TestApp, id: &str) {
    let backend = app.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE executions SET status = 'running', worker_id = 'dead-process', lease_expires_at = $1, \
             started_at = $1, last_seq = 2 WHERE id = $2"
        }
        _ => {
            "UPDATE executions SET status = 'running', worker_id = 'dead-process', lease_expires_at = ?1, \
             started_at = ?1, last_seq = 2 WHERE id = ?2"
        }
    };
    let expired = Utc::now() - chrono::Duration::minutes(5);
    let id = uuid::Uuid::parse_str(id).unwrap();
    app.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [expired.into(), id.into()],
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn executions_left_running_by_a_dead_process_are_failed_as_interrupted_at_start_up() {
    // The first server runs nothing and sweeps only at its own start (a one-hour lease).
    let first = TestApp::spawn_with(|c| {
        c.execution_workers = 0;
        c.execution_lease_secs = 3600;
    })
    .await;
    let ada = first.register("ada").await;
    let agent = echo_agent(&first, &ada, "Echo").await;
    let id = start(&first, &ada, &agent, "lost").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    orphan(&first, &id).await;
    let queued = start(&first, &ada, &agent, "waiting").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(read(&first, &ada, &id).await["status"], "running");

    let second = TestApp::spawn_on(&first, |_| {}).await;
    let failed = finished(&second, &ada, &id).await;
    assert_eq!(
        (failed["status"].as_str(), failed["error"].as_str()),
        (Some("failed"), Some("interrupted"))
    );
    let all = events(&second, &ada, &id, 0).await;
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0]["seq"].as_i64(), all[0]["type"].as_str()),
        (Some(3), Some("execution.failed"))
    );
    assert_eq!(all[0]["data"], json!({"error": "interrupted", "code": "interrupted"}));
    let picked_up = finished(&second, &ada, &queued).await;
    assert_eq!(
        picked_up["output"], "echo: waiting",
        "the queued one is run by the new process"
    );
}
