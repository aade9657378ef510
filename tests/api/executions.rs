//! `POST /api/v1/agents/{id}/execute`, `/api/v1/executions` and the WebSocket stream:
//! the background run with `echo`, its events, validation, ownership, lists and
//! conversations. Cancel, timeout and crash recovery, sub-agents, WebSockets and replicas
//! have their own modules.

mod delegation;
mod recovery;
mod replicas;
mod tools;
mod websocket;

use std::time::Duration;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use reqwest::Response;
use serde_json::{Value, json};

use crate::agents::create_agent;

/// Creates an `echo` agent named `name`; returns its id.
pub(crate) async fn echo_agent(app: &TestApp, user: &TestUser, name: &str) -> String {
    let agent = create_agent(app, user, json!({"name": name, "model": "echo-1", "provider": "echo"})).await;
    agent["id"].as_str().unwrap().to_owned()
}

/// POSTs `body` to the agent's execute route.
pub(crate) async fn execute(app: &TestApp, user: &TestUser, agent_id: &str, body: Value) -> Response {
    app.post_as(user, &format!("/api/v1/agents/{agent_id}/execute"), &body)
        .send()
        .await
        .unwrap()
}

/// Starts an execution of `input`, asserting the `202`; returns the queued execution.
pub(crate) async fn start(app: &TestApp, user: &TestUser, agent_id: &str, input: &str) -> Value {
    let res = execute(app, user, agent_id, json!({"input": input})).await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap_or_default());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let execution: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/executions/{}", execution["id"].as_str().unwrap())
    );
    execution
}

/// GETs the execution.
pub(crate) async fn read(app: &TestApp, user: &TestUser, id: &str) -> Value {
    app.get_ok(user, &format!("/api/v1/executions/{id}")).await
}

/// Polls the execution (up to 15 s) until `done` holds; returns it.
pub(crate) async fn wait_for(app: &TestApp, user: &TestUser, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let execution = read(app, user, id).await;
        if done(&execution) {
            return execution;
        }
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting: {execution}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the execution has ended; returns it.
pub(crate) async fn finished(app: &TestApp, user: &TestUser, id: &str) -> Value {
    wait_for(app, user, id, |e| {
        ["completed", "failed", "cancelled", "expired"].contains(&e["status"].as_str().unwrap_or(""))
    })
    .await
}

/// The stored events after `after`, over HTTP.
pub(crate) async fn events(app: &TestApp, user: &TestUser, id: &str, after: i64) -> Vec<Value> {
    let res = app
        .get_as(user, &format!("/api/v1/executions/{id}/events?after={after}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

/// The `type` of every event.
pub(crate) fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

/// `n` words, for a run that streams long enough to watch or cancel.
pub(crate) fn words(n: usize) -> String {
    vec!["word"; n].join(" ")
}

#[tokio::test]
async fn execute_answers_202_at_once_then_runs_to_completion_in_the_background() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let agent = echo_agent(&app, &ada, "Echo").await;
    let queued = start(&app, &ada, &agent, "hello there").await;
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["agent_id"], agent.as_str());
    assert_eq!(queued["owner_id"], ada.id.to_string());
    assert_eq!(
        (&queued["output"], &queued["error"], &queued["conversation_id"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );
    assert_eq!(queued["usage"], json!({"prompt_tokens": 0, "completion_tokens": 0}));
    for key in ["id", "input", "created_at", "started_at", "completed_at"] {
        assert!(queued.get(key).is_some(), "{key} in {queued}");
    }

    let id = queued["id"].as_str().unwrap();
    let done = finished(&app, &ada, id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"], "echo: hello there");
    assert_eq!(done["usage"]["completion_tokens"], 3);
    assert!(done["started_at"].is_string() && done["completed_at"].is_string());

    let all = events(&app, &ada, id, 0).await;
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=all.len() as i64).collect::<Vec<_>>());
    assert_eq!(
        types(&all),
        [
            "execution.started",
            "message.delta",
            "message.delta",
            "message.delta",
            "execution.completed"
        ]
    );
    assert_eq!(all[1]["data"], json!({"delta": "echo: "}));
    assert_eq!(all[4]["data"], json!({"output": "echo: hello there"}));
    assert_eq!(all[0]["execution_id"], id);
    assert_eq!(events(&app, &ada, id, 3).await, all[3..].to_vec());
    let page = app
        .get_as(&ada, &format!("/api/v1/executions/{id}/events?after=1&limit=2"))
        .send()
        .await
        .unwrap();
    let page: Value = page.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().as_slice(), &all[1..3]);
}

#[tokio::test]
async fn input_and_conversation_are_validated_and_the_agent_must_be_the_callers() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.register("ada").await, app.register("bob").await);
    let agent = echo_agent(&app, &ada, "Echo").await;
    for body in [
        json!({"input": ""}),
        json!({}),
        json!({"input": "x".repeat(100_001)}),
        json!({"input": 5}),
    ] {
        let problem = assert_problem(execute(&app, &ada, &agent, body.clone()).await, 422).await;
        assert_eq!(field_names(&problem), ["input"], "{body}");
    }
    let unknown_id = uuid::Uuid::now_v7();
    let unknown = json!({"input": "hi", "conversation_id": unknown_id});
    let problem = assert_problem(execute(&app, &ada, &agent, unknown).await, 422).await;
    assert_eq!(field_names(&problem), ["conversation_id"]);
    assert_eq!(
        problem["errors"][0]["message"],
        format!("{unknown_id} is not one of your conversations"),
        "the message names the offending id"
    );
    let res = app
        .post_as(&bob, "/api/v1/conversations", &json!({"title": "bob's"}))
        .send()
        .await
        .unwrap();
    let bobs: Value = res.json().await.unwrap();
    let foreign = json!({"input": "hi", "conversation_id": bobs["id"]});
    let problem = assert_problem(execute(&app, &ada, &agent, foreign).await, 422).await;
    assert_eq!(field_names(&problem), ["conversation_id"]);

    assert_problem(execute(&app, &bob, &agent, json!({"input": "hi"})).await, 404).await;
    assert_problem(
        execute(&app, &ada, &uuid::Uuid::now_v7().to_string(), json!({"input": "hi"})).await,
        404,
    )
    .await;
    assert_problem(execute(&app, &ada, "not-a-uuid", json!({"input": "hi"})).await, 404).await;
    let res = app
        .delete_as(&ada, &format!("/api/v1/agents/{agent}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(execute(&app, &ada, &agent, json!({"input": "hi"})).await, 404).await;
    let anonymous = app.request(reqwest::Method::POST, &format!("/api/v1/agents/{agent}/execute"));
    assert_problem(anonymous.json(&json!({"input": "hi"})).send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn another_users_execution_is_a_404_everywhere_and_absent_from_their_list() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.register("ada").await, app.register("bob").await);
    let agent = echo_agent(&app, &ada, "Echo").await;
    let id = start(&app, &ada, &agent, "private").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/api/v1/executions/{id}"),
        format!("/api/v1/executions/{id}/events"),
    ] {
        assert_problem(app.get_as(&bob, &path).send().await.unwrap(), 404).await;
    }
    let cancel = app.post_as(&bob, &format!("/api/v1/executions/{id}/cancel"), &json!({}));
    assert_problem(cancel.send().await.unwrap(), 404).await;
    let list: Value = app
        .get_as(&bob, "/api/v1/executions")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (list["total"].as_u64(), list["items"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
    assert_problem(
        app.request(reqwest::Method::GET, "/api/v1/executions")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[tokio::test]
async fn the_list_filters_by_agent_and_status_and_pages_newest_first() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (one, two) = (echo_agent(&app, &ada, "One").await, echo_agent(&app, &ada, "Two").await);
    let mut ids = Vec::new();
    for agent in [&one, &two, &one] {
        let id = start(&app, &ada, agent, "hi").await["id"].as_str().unwrap().to_owned();
        finished(&app, &ada, &id).await;
        ids.push(id);
    }
    let list = |query: String| {
        let app = &app;
        let ada = &ada;
        async move {
            let res = app
                .get_as(ada, &format!("/api/v1/executions{query}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Value>().await.unwrap()
        }
    };
    let page = list("?limit=2".into()).await;
    let first: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        (first, page["total"].as_u64()),
        (vec![ids[2].as_str(), ids[1].as_str()], Some(3))
    );
    let rest = list(format!("?limit=2&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!(
        (rest["items"][0]["id"].as_str(), &rest["next_cursor"]),
        (Some(ids[0].as_str()), &Value::Null)
    );
    assert_eq!(list(format!("?agent_id={one}")).await["total"], 2);
    assert_eq!(list("?status=completed".into()).await["total"], 3);
    assert_eq!(list("?status=running".into()).await["total"], 0);
    let bad = app
        .get_as(&ada, "/api/v1/executions?status=sleeping")
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(bad, 422).await), ["status"]);
    let bad = app.get_as(&ada, "/api/v1/executions?cursor=nope").send().await.unwrap();
    assert_eq!(field_names(&assert_problem(bad, 422).await), ["cursor"]);
}

#[tokio::test]
async fn a_conversation_gives_context_and_receives_the_input_and_the_output() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let agent = echo_agent(&app, &ada, "Echo").await;
    let res = app
        .post_as(&ada, "/api/v1/conversations", &json!({"title": "notes"}))
        .send()
        .await
        .unwrap();
    let conversation: Value = res.json().await.unwrap();
    let body = json!({"input": "remember me", "conversation_id": conversation["id"]});
    let res = execute(&app, &ada, &agent, body).await;
    assert_eq!(res.status(), 202);
    let queued: Value = res.json().await.unwrap();
    assert_eq!(queued["conversation_id"], conversation["id"]);
    finished(&app, &ada, queued["id"].as_str().unwrap()).await;
    let path = format!(
        "/api/v1/conversations/{}/messages",
        conversation["id"].as_str().unwrap()
    );
    let messages: Value = app.get_as(&ada, &path).send().await.unwrap().json().await.unwrap();
    let stored: Vec<(&str, &str)> = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(stored, [("user", "remember me"), ("assistant", "echo: remember me")]);
}
