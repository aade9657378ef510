//! Executions from queue to end on SQLite in memory (or PostgreSQL with `TEST_DATABASE_URL`):
//! the run, its event log and feed, validation, cancellation, timeout and recovery.

use std::time::Duration;

use crate::common::{Harness, assert_status, config, harness, harness_on, types, user};
use chrono::Utc;
use executions::ExecutionError as Error;
use executions::ExecutionStatus;
use executions::events::{Event, ExecutionCompleted, ExecutionFailed};
use executions::schemas::ExecutionCreate;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use uuid::Uuid;

async fn echo_agent(h: &Harness, owner: Uuid, provider: &str) -> Uuid {
    h.agent(owner, json!({"name": "Echo", "model": "echo-1", "provider": provider}))
        .await
}

#[tokio::test]
async fn an_execution_is_queued_then_run_to_completion_with_numbered_events() {
    let h = harness(vec![], config()).await;
    let owner = user(&h.db, "alice").await;
    let agent = echo_agent(&h, owner, "echo").await;
    let queued = h.start(owner, agent, "hello big world").await;
    assert_status(&queued, ExecutionStatus::Queued);
    assert_eq!((queued.output.as_deref(), queued.started_at), (None, None));

    let done = h.finished(owner, queued.id).await;
    assert_status(&done, ExecutionStatus::Completed);
    assert_eq!(done.output.as_deref(), Some("echo: hello big world"));
    assert!(done.started_at.is_some() && done.completed_at.is_some());
    assert_eq!(done.usage.completion_tokens, 4);

    let events = h.events(owner, queued.id).await;
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=events.len() as i64).collect::<Vec<_>>());
    assert_eq!(types(&events).first(), Some(&"execution.started"));
    assert_eq!(types(&events).last(), Some(&"execution.completed"));
    let text: String = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::MessageDelta(d) => Some(d.delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "echo: hello big world");
    assert_eq!(
        events.last().unwrap().event,
        Event::ExecutionCompleted(ExecutionCompleted {
            output: "echo: hello big world".into()
        })
    );

    let later = h.executions.events(owner, queued.id, 2, 2).await.unwrap();
    assert_eq!(later.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 4]);
}

#[tokio::test]
async fn a_feed_replays_then_follows_live_and_ends_after_the_terminal_event() {
    let h = harness(vec![], config()).await;
    let owner = user(&h.db, "alice").await;
    let agent = echo_agent(&h, owner, "slow").await;
    let started = h.start(owner, agent, "one two three four five six").await;
    // Some events stored before watching, so the feed replays, then follows live.
    h.until_events(owner, started.id, 3).await;

    let mut feed = h.executions.watch(owner, started.id, 1).await.unwrap();
    let mut seen = Vec::new();
    while let Some(event) = tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .unwrap()
        .unwrap()
    {
        seen.push(event.event.clone());
    }
    let stored = h.events(owner, started.id).await;
    assert_eq!(seen, stored[1..].to_vec(), "every event after 1, once, in order");
    assert!(seen.last().unwrap().is_terminal());
    assert!(feed.next().await.unwrap().is_none());

    let mut replay = h
        .executions
        .watch(owner, started.id, stored.len() as i64 - 1)
        .await
        .unwrap();
    assert_eq!(
        replay.next().await.unwrap().map(|f| f.event.clone()).as_ref(),
        stored.last()
    );
    assert!(replay.next().await.unwrap().is_none());
}

#[tokio::test]
async fn bad_requests_name_their_field_and_foreign_ids_are_hidden() {
    let h = harness(vec![], config()).await;
    let (alice, bob) = (user(&h.db, "alice").await, user(&h.db, "bob").await);
    let agent = echo_agent(&h, alice, "echo").await;
    let request = |body| serde_json::from_value::<ExecutionCreate>(body).unwrap();

    let empty = h.executions.start(alice, agent, request(json!({"input": ""}))).await;
    assert!(
        matches!(empty, Err(Error::Invalid(ref e)) if e[0].field == "input"),
        "{empty:?}"
    );
    let long = h
        .executions
        .start(alice, agent, request(json!({"input": "x".repeat(100_001)})))
        .await;
    assert!(
        matches!(long, Err(Error::Invalid(ref e)) if e[0].field == "input"),
        "{long:?}"
    );
    let stranger_id = Uuid::now_v7();
    let stranger = request(json!({"input": "hi", "conversation_id": stranger_id}));
    let unknown = h.executions.start(alice, agent, stranger).await;
    assert!(
        matches!(unknown, Err(Error::ConversationNotYours(id)) if id == stranger_id),
        "{unknown:?}"
    );
    let foreign_agent = h.executions.start(bob, agent, request(json!({"input": "hi"}))).await;
    assert!(matches!(foreign_agent, Err(Error::AgentNotFound)), "{foreign_agent:?}");

    let mine = h.start(alice, agent, "hi").await;
    assert!(matches!(h.executions.get(bob, mine.id).await, Err(Error::NotFound)));
    assert!(matches!(h.executions.cancel(bob, mine.id).await, Err(Error::NotFound)));
    assert!(matches!(
        h.executions.watch(bob, mine.id, 0).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        h.executions.events(bob, mine.id, 0, 10).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn cancel_stops_a_running_execution_and_leaves_a_finished_one_alone() {
    let h = harness(vec![], config()).await;
    let owner = user(&h.db, "alice").await;
    let agent = echo_agent(&h, owner, "slow").await;
    let words = vec!["word"; 200].join(" ");
    let running = h.start(owner, agent, &words).await;
    // Mid-reply: some deltas are stored.
    h.until_events(owner, running.id, 3).await;

    let cancelled = h.executions.cancel(owner, running.id).await.unwrap();
    assert_status(&cancelled, ExecutionStatus::Cancelled);
    assert!(cancelled.completed_at.is_some());
    h.until_released(running.id).await;
    let events = h.events(owner, running.id).await;
    assert_eq!(
        types(&events).last(),
        Some(&"execution.cancelled"),
        "nothing after the cancel: {:?}",
        types(&events)
    );
    assert_eq!(
        h.executions.cancel(owner, running.id).await.unwrap(),
        cancelled,
        "a second cancel changes nothing"
    );

    let quick = h.start(owner, echo_agent(&h, owner, "echo").await, "hi").await;
    let done = h.finished(owner, quick.id).await;
    assert_eq!(h.executions.cancel(owner, quick.id).await.unwrap(), done);
}

#[tokio::test]
async fn a_queued_execution_cancelled_before_any_worker_never_runs() {
    let h = harness_on(crate::common::database().await, vec![], config());
    let owner = user(&h.db, "alice").await;
    let agent = echo_agent(&h, owner, "echo").await;
    let queued = h.start(owner, agent, "hi").await;
    h.executions.cancel(owner, queued.id).await.unwrap();
    h.runner.start();
    // Claims go oldest first: once a later execution has finished, the runner has passed
    // the cancelled one by.
    let later = h.start(owner, agent, "later").await;
    h.finished(owner, later.id).await;
    h.until_released(queued.id).await;
    let events = h.events(owner, queued.id).await;
    assert_eq!(types(&events), vec!["execution.cancelled"]);
}

#[tokio::test]
async fn an_execution_over_its_time_limit_fails() {
    let limited = executions::RunnerConfig {
        timeout: Duration::from_millis(300),
        ..config()
    };
    let h = harness(vec![], limited).await;
    let owner = user(&h.db, "alice").await;
    let agent = echo_agent(&h, owner, "slow").await;
    let slow = h.start(owner, agent, &vec!["word"; 100].join(" ")).await;
    let failed = h.finished(owner, slow.id).await;
    assert_status(&failed, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("the execution timed out after 0 s"));
    let events = h.events(owner, slow.id).await;
    assert_eq!(
        events.last().unwrap().event,
        Event::ExecutionFailed(ExecutionFailed {
            error: "the execution timed out after 0 s".into(),
            code: None,
        })
    );
}

#[tokio::test]
async fn running_executions_of_a_dead_process_are_failed_as_interrupted_at_start_up() {
    let h = harness_on(crate::common::database().await, vec![], config());
    let owner = user(&h.db, "alice").await;
    let agent = echo_agent(&h, owner, "echo").await;
    let orphan = h.start(owner, agent, "left behind").await;
    let expired = Utc::now() - chrono::Duration::seconds(60);
    let backend = h.db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "UPDATE executions SET status = 'running', worker_id = 'dead', lease_expires_at = $1, last_seq = 3 WHERE id = $2"
        }
        _ => {
            "UPDATE executions SET status = 'running', worker_id = 'dead', lease_expires_at = ?, last_seq = 3 WHERE id = ?"
        }
    };
    h.db.execute_raw(Statement::from_sql_and_values(
        backend,
        sql,
        [expired.into(), orphan.id.into()],
    ))
    .await
    .unwrap();

    h.runner.start();
    let failed = h.finished(owner, orphan.id).await;
    assert_status(&failed, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("interrupted"));
    let events = h.events(owner, orphan.id).await;
    assert_eq!(events[0].seq, 4);
    assert_eq!(
        events[0].event,
        Event::ExecutionFailed(ExecutionFailed {
            error: "interrupted".into(),
            code: Some(executions::events::FailureCode::Interrupted),
        })
    );
}

#[tokio::test]
async fn a_graceful_shutdown_fails_what_did_not_finish_in_time() {
    let h = harness(vec![], config()).await;
    let owner = user(&h.db, "alice").await;
    let agent = echo_agent(&h, owner, "slow").await;
    let long = h.start(owner, agent, &vec!["word"; 200].join(" ")).await;
    h.until(owner, long.id, |e| e.status == ExecutionStatus::Running).await;
    h.runner.shutdown(Duration::from_millis(100)).await;
    let failed = h.executions.get(owner, long.id).await.unwrap();
    assert_status(&failed, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("interrupted"));
    let events = h.events(owner, long.id).await;
    assert_eq!(types(&events).last(), Some(&"execution.failed"));
}

#[tokio::test]
async fn lists_filter_by_agent_and_status_newest_first() {
    let h = harness(vec![], config()).await;
    let owner = user(&h.db, "alice").await;
    let (a, b) = (echo_agent(&h, owner, "echo").await, echo_agent(&h, owner, "echo").await);
    let first = h.start(owner, a, "one").await;
    let second = h.start(owner, b, "two").await;
    h.finished(owner, first.id).await;
    h.finished(owner, second.id).await;
    let all = h
        .executions
        .list(
            owner,
            Default::default(),
            &kernel::PageParams::parse(None, None).unwrap(),
        )
        .await;
    let ids: Vec<Uuid> = all.unwrap().items.into_iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![second.id, first.id]);
    let filter = executions::service::ListFilter {
        agent_id: Some(a),
        status: Some(ExecutionStatus::Completed),
    };
    let only_a = h
        .executions
        .list(owner, filter, &kernel::PageParams::parse(Some(1), None).unwrap())
        .await
        .unwrap();
    assert_eq!(
        (only_a.total, only_a.items[0].id, only_a.next_cursor),
        (1, first.id, None)
    );
    let none = executions::service::ListFilter {
        status: Some(ExecutionStatus::Failed),
        ..Default::default()
    };
    assert_eq!(
        h.executions.list(owner, none, &Default::default()).await.unwrap().total,
        0
    );
}

#[tokio::test]
async fn a_watcher_falling_behind_the_buffer_catches_up_from_the_store() {
    let tiny = executions::RunnerConfig {
        fanout_capacity: 1,
        ..config()
    };
    let h = harness(vec![], tiny).await;
    let owner = user(&h.db, "alice").await;
    let agent = echo_agent(&h, owner, "slow").await;
    let started = h.start(owner, agent, &vec!["word"; 30].join(" ")).await;
    let mut feed = h.executions.watch(owner, started.id, 0).await.unwrap();
    let mut seen = Vec::new();
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .unwrap()
        .unwrap()
    {
        // Slower than the run: the one-slot buffer overflows again and again.
        tokio::time::sleep(Duration::from_millis(120)).await;
        seen.push(frame.event.clone());
    }
    assert_eq!(seen, h.events(owner, started.id).await, "every event once, in order");
}
