//! Replies are runs: one active run per conversation (`if_busy`), the same rule for
//! `execute` with a `conversation_id`, and keep-alive comments on idle streams.

use agentry_tests::{TestApp, TestUser, assert_problem, instant};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{chat, conversation, messages};
use crate::executions::{echo_agent, events, execute, finished, read, wait_for};

/// A new conversation of `user` without an agent; returns its id.
async fn new_conversation(app: &TestApp, user: &TestUser) -> String {
    let res = app
        .post_as(user, "/api/v1/conversations", &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// Sends `content` as a streamed message and walks away at once; returns the run's id.
async fn send_and_leave(app: &TestApp, user: &TestUser, conversation_id: &str, content: &str) -> String {
    let path = format!("/api/v1/conversations/{conversation_id}/messages");
    let res = app
        .post_as(user, &path, &json!({"content": content, "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.headers()["x-execution-id"].to_str().unwrap().to_owned()
}

/// `(role, content)` of a conversation's messages, oldest first.
async fn history(app: &TestApp, user: &TestUser, conversation_id: &str) -> Vec<(String, String)> {
    messages(app, user, conversation_id)
        .await
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(role: &str, content: &str) -> (String, String) {
    (role.to_owned(), content.to_owned())
}

#[tokio::test]
async fn a_second_message_waits_for_the_active_run_and_the_history_stays_in_order() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 60).await;
    let ada = app.register("ada").await;
    let conversation_id = new_conversation(&app, &ada).await;
    let first = send_and_leave(&app, &ada, &conversation_id, "one two three four five six").await;

    let path = format!("/api/v1/conversations/{conversation_id}/messages");
    let res = app
        .post_as(&ada, &path, &json!({"content": "seven"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let second = res.headers()["x-execution-id"].to_str().unwrap().to_owned();
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["content"], "echo: seven");
    assert_eq!(reply["execution_id"], second.as_str());

    let first = finished(&app, &ada, &first).await;
    let second = finished(&app, &ada, &second).await;
    assert_eq!(first["status"], "completed");
    assert!(
        instant(&second["started_at"]) >= instant(&first["completed_at"]),
        "the second run started after the first ended: {first} {second}"
    );
    assert_eq!(
        history(&app, &ada, &conversation_id).await,
        [
            pair("user", "one two three four five six"),
            pair("assistant", "echo: one two three four five six"),
            pair("user", "seven"),
            pair("assistant", "echo: seven"),
        ]
    );
}

#[tokio::test]
async fn reject_answers_409_naming_the_active_run_and_stores_nothing() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 60).await;
    let ada = app.register("ada").await;
    let agent = echo_agent(&app, &ada, "helper").await;
    let conversation_id = new_conversation(&app, &ada).await;
    let active = send_and_leave(&app, &ada, &conversation_id, "one two three four five six").await;

    let path = format!("/api/v1/conversations/{conversation_id}/messages");
    for res in [
        app.post_as(&ada, &path, &json!({"content": "now", "if_busy": "reject"}))
            .send()
            .await
            .unwrap(),
        app.post_as(
            &ada,
            "/api/v1/chat/messages",
            &json!({"content": "now", "conversation_id": conversation_id, "if_busy": "reject", "stream": true}),
        )
        .send()
        .await
        .unwrap(),
        execute(
            &app,
            &ada,
            &agent,
            json!({"input": "now", "conversation_id": conversation_id, "if_busy": "reject"}),
        )
        .await,
    ] {
        let problem = assert_problem(res, 409).await;
        assert_eq!(problem["code"], "conversation_busy");
        assert_eq!(problem["active_execution_id"], active.as_str());
    }
    let bad = app
        .post_as(&ada, &path, &json!({"content": "x", "if_busy": "later"}))
        .send()
        .await
        .unwrap();
    assert_problem(bad, 422).await;

    assert_eq!(finished(&app, &ada, &active).await["status"], "completed");
    assert_eq!(
        history(&app, &ada, &conversation_id).await.len(),
        2,
        "nothing of the refused messages"
    );
    let listed = app.get_ok(&ada, "/api/v1/executions").await;
    assert_eq!(listed["total"], 1, "no run was created for them");
}

#[tokio::test]
async fn interrupt_cancels_the_active_run_then_answers() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 200).await;
    let ada = app.register("ada").await;
    let conversation_id = new_conversation(&app, &ada).await;
    let active = send_and_leave(&app, &ada, &conversation_id, "a long answer that takes its time").await;
    wait_for(&app, &ada, &active, |e| e["status"] == "running").await;

    let path = format!("/api/v1/conversations/{conversation_id}/messages");
    let res = app
        .post_as(&ada, &path, &json!({"content": "stop that", "if_busy": "interrupt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["content"], "echo: stop that");

    assert_eq!(finished(&app, &ada, &active).await["status"], "cancelled");
    assert_eq!(
        history(&app, &ada, &conversation_id).await,
        [
            pair("user", "a long answer that takes its time"),
            pair("user", "stop that"),
            pair("assistant", "echo: stop that"),
        ],
        "the cancelled run's partial reply is not stored"
    );
}

#[tokio::test]
async fn an_idle_stream_sends_keep_alive_comments() {
    let app = TestApp::spawn_with(|c| {
        c.echo_word_delay_ms = 1500;
        c.sse_keepalive_secs = 1;
    })
    .await;
    let ada = app.register("ada").await;
    let res = app
        .post_as(
            &ada,
            "/api/v1/chat/messages",
            &json!({"content": "slow", "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let execution_id = res.headers()["x-execution-id"].to_str().unwrap().to_owned();
    let mut body = res.bytes_stream();
    let mut seen = String::new();
    while !seen.contains(": keep-alive\n\n") {
        let chunk = body.next().await.expect("the stream goes on").unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
        assert!(
            !seen.contains("message.completed"),
            "a keep-alive comes before the slow reply: {seen}"
        );
    }
    drop(body);

    // The events stream of the same run keeps alive too, then ends with the terminal event.
    let res = app
        .get_as(&ada, &format!("/api/v1/executions/{execution_id}/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let text = res.text().await.unwrap();
    assert!(text.contains(": keep-alive\n\n"), "{text}");
    assert!(
        text.trim_end().ends_with('}') && text.contains("event: execution.completed"),
        "{text}"
    );
    let frames = super::parse_frames(&text);
    assert_eq!(frames.first().unwrap().event, "execution.started");
    assert_eq!(frames.first().unwrap().id, Some(1));
    assert_eq!(frames[1].event, "message.created");
}

#[tokio::test]
async fn a_finished_runs_events_stream_ends_at_once_for_a_client_that_has_them() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let reply = chat(&app, &ada, json!({"content": "hi"})).await;
    let execution_id = reply["execution_id"].as_str().unwrap().to_owned();
    let done = finished(&app, &ada, &execution_id).await;
    assert_eq!(
        done["agent_id"],
        Value::Null,
        "an agentless conversation's run has no agent"
    );
    let all = crate::executions::events(&app, &ada, &execution_id, 0).await;
    let types: Vec<&str> = all.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"execution.started"));
    assert_eq!(types[1], "message.created");
    assert_eq!(&types[types.len() - 2..], ["message.completed", "execution.completed"]);
    assert_eq!(all[types.len() - 2]["data"], reply);
    let last = all.last().unwrap()["seq"].as_i64().unwrap();

    for (after, expected) in [(last, 0), (last - 1, 1)] {
        let res = app
            .get_as(&ada, &format!("/api/v1/executions/{execution_id}/events?after={after}"))
            .header("accept", "text/event-stream")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let frames = super::parse_frames(&res.text().await.unwrap());
        assert_eq!(frames.len(), expected, "after {after}");
    }
    for bad in ["-1", "x", "9223372036854775808"] {
        let res = app
            .get_as(&ada, &format!("/api/v1/executions/{execution_id}/events"))
            .header("accept", "text/event-stream")
            .header("last-event-id", bad)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(agentry_tests::field_names(&problem), ["Last-Event-ID"], "{bad}");
    }
    let eve = app.register("eve").await;
    let res = app
        .get_as(&eve, &format!("/api/v1/executions/{execution_id}/events"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
}

#[tokio::test]
async fn a_conversation_deleted_while_its_reply_runs_fails_the_run_saying_so() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 150).await;
    let ada = app.register("ada").await;
    let conversation_id = new_conversation(&app, &ada).await;
    let run = send_and_leave(&app, &ada, &conversation_id, "one two three").await;

    let res = app
        .delete_as(&ada, &format!("/api/v1/conversations/{conversation_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    // The answer has nowhere to go: the run ends failed, without `message.completed`.
    let ended = finished(&app, &ada, &run).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(ended["error"], "the conversation no longer exists");
    let events = events(&app, &ada, &run, 0).await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(!types.contains(&"message.completed"), "{types:?}");
    assert_eq!(types.last(), Some(&"execution.failed"), "{types:?}");
    let res = app
        .get_as(&ada, &format!("/api/v1/conversations/{conversation_id}/messages"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_new_conversation_whose_reply_cannot_start_at_once_is_stored_with_its_run_queued() {
    // No worker here: the reply waits in the queue; the conversation exists meanwhile, and
    // the user message is stored when the run starts (so not yet).
    let app = TestApp::spawn_with(|c| c.execution_workers = 0).await;
    let ada = app.register("ada").await;
    let agent = echo_agent(&app, &ada, "Echo").await;
    let res = app
        .post_as(
            &ada,
            "/api/v1/chat/messages",
            &json!({"agent_id": agent, "content": "hello there", "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let run = res.headers()["x-execution-id"].to_str().unwrap().to_owned();
    drop(res);

    let execution = read(&app, &ada, &run).await;
    assert_eq!(execution["status"], "queued", "{execution}");
    let conversation_id = execution["conversation_id"].as_str().unwrap();
    let conversation = conversation(&app, &ada, conversation_id).await;
    assert_eq!(conversation["agent_id"], agent.as_str());
    assert_eq!(conversation["title"], "hello there");
    assert_eq!(conversation["message_count"], 0);
    assert!(history(&app, &ada, conversation_id).await.is_empty());
}

#[tokio::test]
async fn messages_sent_at_once_to_one_conversation_run_one_at_a_time_each_answered_after_its_own() {
    // Turns starting together are committed together (the event writer's batches): within
    // one batch the second turn of a conversation must still see the first and queue.
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 10).await;
    let ada = app.register("ada").await;
    let conversation_id = new_conversation(&app, &ada).await;
    let others: Vec<String> = futures_util::future::join_all((0..4).map(|_| new_conversation(&app, &ada))).await;
    let sends = (0..6).map(|i| {
        send_and_leave(
            &app,
            &ada,
            &conversation_id,
            ["one", "two", "three", "four", "five", "six"][i],
        )
    });
    let elsewhere = others
        .iter()
        .map(|other| send_and_leave(&app, &ada, other, "meanwhile"));
    let (runs, other_runs) = tokio::join!(
        futures_util::future::join_all(sends),
        futures_util::future::join_all(elsewhere)
    );

    let mut spans = Vec::new();
    for run in runs.iter().chain(&other_runs) {
        let run = finished(&app, &ada, run).await;
        assert_eq!(run["status"], "completed", "{run}");
        // A run claimed from the queue starts after it was created (its start time was
        // once read before waiting for a database connection).
        assert!(instant(&run["started_at"]) >= instant(&run["created_at"]), "{run}");
        if run["conversation_id"] == conversation_id.as_str() {
            spans.push((instant(&run["started_at"]), instant(&run["completed_at"])));
        }
    }
    spans.sort();
    assert_eq!(spans.len(), 6);
    for pair in spans.windows(2) {
        assert!(
            pair[1].0 >= pair[0].1,
            "two runs of one conversation overlapped: {spans:?}"
        );
    }
    let turns = history(&app, &ada, &conversation_id).await;
    assert_eq!(turns.len(), 12, "{turns:?}");
    for turn in turns.chunks(2) {
        assert_eq!(turn[0].0, "user", "{turns:?}");
        assert_eq!(turn[1], pair("assistant", &format!("echo: {}", turn[0].1)), "{turns:?}");
    }
    for other in &others {
        assert_eq!(
            history(&app, &ada, other).await,
            [pair("user", "meanwhile"), pair("assistant", "echo: meanwhile")]
        );
    }
}
