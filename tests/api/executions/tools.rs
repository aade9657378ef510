//! Tools that run (API.md v2, "Tools that run"), driven offline by echo's `/call` lines:
//! HTTP tools against a real HTTP endpoint started here (the request it receives, the
//! secret header, a refused address), client tools and every approval decision through
//! `requires_action` and `POST /executions/{id}/inputs`, answers applied exactly once,
//! expiry, the exact history stored in the conversation, and the events in order.

use std::time::Duration;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{events, finished, read, types, wait_for};
use crate::agents::create_agent;

/// A server whose HTTP tools may call loopback 127.0.0.1 (the endpoints of these tests).
async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| c.outbound_allowlist = Some("127.0.0.1/32".into())).await
}

/// Creates a tool from `body`; returns its id.
async fn tool(app: &TestApp, user: &TestUser, body: Value) -> String {
    let res = app.post_as(user, "/api/v1/tools", &body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// An echo agent offered `tool_ids`; returns its id.
async fn agent_with(app: &TestApp, user: &TestUser, tool_ids: &[&str]) -> String {
    let agent = create_agent(
        app,
        user,
        json!({"name": "Actor", "model": "echo-1", "provider": "echo", "tool_ids": tool_ids}),
    )
    .await;
    agent["id"].as_str().unwrap().to_owned()
}

/// Stores secret `name`.
async fn put_secret(app: &TestApp, user: &TestUser, name: &str, value: &str) {
    let res = app
        .request(reqwest::Method::PUT, &format!("/api/v1/secrets/{name}"))
        .bearer_auth(&user.access_token)
        .json(&json!({ "value": value }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204, "{}", res.text().await.unwrap_or_default());
}

/// Sends a chat message to a new conversation of `agent`; returns the status and body.
async fn chat(app: &TestApp, user: &TestUser, agent: &str, content: &str) -> (u16, Value) {
    let res = app
        .post_as(
            user,
            "/api/v1/chat/messages",
            &json!({"content": content, "agent_id": agent}),
        )
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// The messages of a conversation, oldest first.
async fn messages(app: &TestApp, user: &TestUser, conversation: &str) -> Vec<Value> {
    app.get_ok(
        user,
        &format!("/api/v1/conversations/{conversation}/messages?limit=100"),
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// POSTs `inputs` to the execution.
async fn submit(app: &TestApp, user: &TestUser, id: &str, inputs: Value) -> reqwest::Response {
    app.post_as(
        user,
        &format!("/api/v1/executions/{id}/inputs"),
        &json!({ "inputs": inputs }),
    )
    .send()
    .await
    .unwrap()
}

/// An HTTP tool `name` calling `url` with `method`, `approval`, taking `parameters`.
fn http_tool(name: &str, method: &str, url: &str, approval: &str, parameters: Value) -> Value {
    json!({
        "name": name,
        "description": "test tool",
        "parameters": parameters,
        "kind": "http",
        "approval": approval,
        "http": {"method": method, "url": url, "headers": {"Authorization": "Bearer {{secret:SERVICE_TOKEN}}"}, "timeout_ms": 2000},
    })
}

fn note_parameters() -> Value {
    json!({
        "type": "object",
        "properties": {"id": {"type": "string"}, "note": {"type": "string"}},
        "required": ["id", "note"],
    })
}

#[tokio::test]
async fn an_http_tool_sends_the_request_with_the_secret_and_the_model_gets_the_answer() {
    let endpoint = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/items/a%20b"))
        .and(header("authorization", "Bearer s3cr3t-value-42"))
        .and(body_json(json!({"note": "hi"})))
        .respond_with(ResponseTemplate::new(200).set_body_string("stored a b"))
        .expect(1)
        .mount(&endpoint)
        .await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    put_secret(&app, &ada, "SERVICE_TOKEN", "s3cr3t-value-42").await;
    let url = format!("{}/items/{{id}}", endpoint.uri());
    let tool_id = tool(
        &app,
        &ada,
        http_tool("save_note", "POST", &url, "never", note_parameters()),
    )
    .await;
    let agent = agent_with(&app, &ada, &[&tool_id]).await;

    let (status, reply) = chat(&app, &ada, &agent, r#"/call save_note {"id": "a b", "note": "hi"}"#).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["content"], "echo: save_note returned stored a b");

    // The history is exact: user, assistant with the call, the tool's result, the answer.
    let conversation = reply["conversation_id"].as_str().unwrap();
    let stored = messages(&app, &ada, conversation).await;
    let roles: Vec<&str> = stored.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "tool", "assistant"]);
    let call = &stored[1]["tool_calls"][0];
    assert_eq!(
        (&call["name"], &call["arguments"]),
        (&json!("save_note"), &json!({"id": "a b", "note": "hi"}))
    );
    assert_eq!(stored[2]["tool_call_id"], call["id"]);
    assert_eq!(stored[2]["content"], "stored a b");

    // The events tell the call, in order, and no secret is anywhere a client can read.
    let run = reply["execution_id"].as_str().unwrap();
    // The reply answers at `message.completed`; the run's last write follows it.
    finished(&app, &ada, run).await;
    let log = events(&app, &ada, run, 0).await;
    let kinds: Vec<&str> = types(&log).into_iter().filter(|t| *t != "message.delta").collect();
    assert_eq!(
        kinds,
        [
            "execution.started",
            "message.created",
            "tool_call.created",
            "tool_call.completed",
            "message.completed",
            "execution.completed"
        ]
    );
    let created = log.iter().find(|e| e["type"] == "tool_call.created").unwrap();
    assert_eq!(created["data"]["kind"], "http");
    let completed = log.iter().find(|e| e["type"] == "tool_call.completed").unwrap();
    assert_eq!(
        (&completed["data"]["is_error"], &completed["data"]["output"]),
        (&json!(false), &json!("stored a b"))
    );
    let tool_read = app.get_ok(&ada, &format!("/api/v1/tools/{tool_id}")).await;
    assert_eq!(tool_read["http"]["headers"]["Authorization"], "•••");
    for text in [
        serde_json::to_string(&log).unwrap(),
        serde_json::to_string(&stored).unwrap(),
        tool_read.to_string(),
        app.get_ok(&ada, "/api/v1/secrets").await.to_string(),
    ] {
        assert!(!text.contains("s3cr3t-value-42"), "a secret leaked: {text}");
    }
}

#[tokio::test]
async fn an_internal_address_is_refused_before_connecting_and_a_failing_endpoint_is_an_error_result() {
    // 127.0.0.2 is loopback too, but only 127.0.0.1 is allowed: nothing may connect to it.
    let refused = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let refused_url = format!("http://{}/secret", refused.local_addr().unwrap());
    let endpoint = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/broken"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down for maintenance"))
        .mount(&endpoint)
        .await;
    Mock::given(method("GET"))
        .and(path("/moved"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", format!("{}/broken", endpoint.uri())))
        .mount(&endpoint)
        .await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    put_secret(&app, &ada, "SERVICE_TOKEN", "t").await;
    let empty = json!({"type": "object", "properties": {}});
    let internal = tool(
        &app,
        &ada,
        http_tool("internal", "GET", &refused_url, "never", empty.clone()),
    )
    .await;
    let broken_url = format!("{}/broken", endpoint.uri());
    let broken = tool(
        &app,
        &ada,
        http_tool("broken", "GET", &broken_url, "never", empty.clone()),
    )
    .await;
    let moved_url = format!("{}/moved", endpoint.uri());
    let moved = tool(&app, &ada, http_tool("moved", "GET", &moved_url, "never", empty)).await;
    let agent = agent_with(&app, &ada, &[&internal, &broken, &moved]).await;

    let (status, reply) = chat(&app, &ada, &agent, "/call internal {}\n/call broken {}\n/call moved {}").await;
    assert_eq!(status, 201, "{reply}");
    let run = reply["execution_id"].as_str().unwrap();
    finished(&app, &ada, run).await;
    let log = events(&app, &ada, run, 0).await;
    let results: Vec<&Value> = log
        .iter()
        .filter(|e| e["type"] == "tool_call.completed")
        .map(|e| &e["data"])
        .collect();
    assert_eq!(results.len(), 3, "{log:?}");
    assert!(results.iter().all(|r| r["is_error"] == true), "{results:?}");
    assert!(
        results[0]["output"].as_str().unwrap().contains("refused"),
        "{}",
        results[0]
    );
    assert!(results[1]["output"].as_str().unwrap().contains("503"), "{}", results[1]);
    assert!(results[2]["output"].as_str().unwrap().contains("302"), "{}", results[2]);
    // The redirect was not followed: /broken was asked once (by `broken`), not twice.
    let asked: Vec<String> = endpoint
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(asked.iter().filter(|p| *p == "/broken").count(), 1, "{asked:?}");
    // Nothing connected to the refused address.
    let accepted = tokio::time::timeout(Duration::from_millis(200), refused.accept()).await;
    assert!(accepted.is_err(), "the refused address was connected to");
    // The run went on: the model got the three error results.
    assert_eq!(read(&app, &ada, run).await["status"], "completed");
}

#[tokio::test]
async fn a_client_tool_pauses_the_run_without_a_worker_and_its_output_resumes_it_exactly_once() {
    let app = TestApp::spawn_with(|c| c.execution_workers = 1).await;
    let ada = app.register("ada").await;
    let location = tool(
        &app,
        &ada,
        json!({"name": "get_location", "parameters": {"type": "object", "properties": {"precise": {"type": "boolean"}}}}),
    )
    .await;
    let agent = agent_with(&app, &ada, &[&location]).await;

    let (status, paused) = chat(&app, &ada, &agent, r#"/call get_location {"precise": true}"#).await;
    assert_eq!(status, 202, "{paused}");
    assert_eq!(paused["status"], "requires_action");
    let id = paused["id"].as_str().unwrap().to_owned();
    let calls = paused["required_action"]["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (
            &calls[0]["type"],
            &calls[0]["name"],
            &calls[0]["arguments"],
            &calls[0]["tool_id"]
        ),
        (
            &json!("client_tool"),
            &json!("get_location"),
            &json!({"precise": true}),
            &json!(location)
        )
    );
    let call_id = calls[0]["id"].as_str().unwrap().to_owned();
    assert!(paused["required_action"]["expires_at"].is_string());

    // It waits without holding the only worker: another run completes meanwhile.
    let other = agent_with(&app, &ada, &[]).await;
    let (status, reply) = chat(&app, &ada, &other, "still served").await;
    assert_eq!((status, reply["content"].clone()), (201, json!("echo: still served")));
    let waiting = app.get_ok(&ada, "/api/v1/executions?status=requires_action").await;
    let ids: Vec<&str> = waiting["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);

    // Bad answers are refused naming the input, and change nothing.
    let bad = submit(
        &app,
        &ada,
        &id,
        json!([{"type": "tool_output", "call_id": "nope", "output": "x"}]),
    )
    .await;
    assert_eq!(field_names(&assert_problem(bad, 422).await), ["inputs[0].call_id"]);
    let twice = json!([
        {"type": "tool_output", "call_id": call_id, "output": "x"},
        {"type": "tool_output", "call_id": call_id, "output": "y"},
    ]);
    assert_eq!(
        field_names(&assert_problem(submit(&app, &ada, &id, twice).await, 422).await),
        ["inputs[1].call_id"]
    );
    let wrong = json!([{"type": "approval", "call_id": call_id, "decision": "approve"}]);
    assert_eq!(
        field_names(&assert_problem(submit(&app, &ada, &id, wrong).await, 422).await),
        ["inputs[0].type"]
    );
    assert_eq!(read(&app, &ada, &id).await["status"], "requires_action");

    // Two submissions at once: one applies, the other is told it is no longer waiting.
    let answer = json!([{"type": "tool_output", "call_id": call_id, "output": {"city": "Paris"}}]);
    let (first, second) = tokio::join!(
        submit(&app, &ada, &id, answer.clone()),
        submit(&app, &ada, &id, answer.clone())
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let loser = if first.status() == 409 { first } else { second };
    assert_eq!(assert_problem(loser, 409).await["code"], "not_awaiting_input");

    let done = finished(&app, &ada, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output"], r#"echo: get_location returned {"city":"Paris"}"#);
    assert!(done["required_action"].is_null());
    let log = events(&app, &ada, &id, 0).await;
    let kinds: Vec<&str> = types(&log).into_iter().filter(|t| *t != "message.delta").collect();
    assert_eq!(
        kinds,
        [
            "execution.started",
            "message.created",
            "tool_call.created",
            "execution.requires_action",
            "execution.input_received",
            "tool_call.completed",
            "message.completed",
            "execution.completed"
        ]
    );
    let seqs: Vec<i64> = log.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=i64::try_from(log.len()).unwrap()).collect::<Vec<_>>());
    // Answering again is a 409.
    let late = submit(&app, &ada, &id, answer).await;
    assert_eq!(assert_problem(late, 409).await["code"], "not_awaiting_input");
}

/// Pauses a chat run calling the approval tool `name` with `arguments`; returns (execution id, call id).
async fn paused_call(app: &TestApp, user: &TestUser, agent: &str, name: &str, arguments: Value) -> (String, String) {
    let (status, paused) = chat(app, user, agent, &format!("/call {name} {arguments}")).await;
    assert_eq!(status, 202, "{paused}");
    let call = &paused["required_action"]["calls"][0];
    assert_eq!(call["type"], "approval");
    (
        paused["id"].as_str().unwrap().to_owned(),
        call["id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn each_approval_decision_behaves_as_the_contract_says() {
    let endpoint = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string("done"))
        .mount(&endpoint)
        .await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    put_secret(&app, &ada, "SERVICE_TOKEN", "t").await;
    let url = format!("{}/notes/{{id}}", endpoint.uri());
    let guarded = tool(
        &app,
        &ada,
        http_tool("post_note", "POST", &url, "always", note_parameters()),
    )
    .await;
    let agent = agent_with(&app, &ada, &[&guarded]).await;
    let asked = |id: &'static str| json!({"id": id, "note": "original"});
    let hits = || async {
        endpoint
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| (r.url.path().to_owned(), String::from_utf8_lossy(&r.body).into_owned()))
            .collect::<Vec<_>>()
    };

    // approve: runs as asked.
    let (id, call) = paused_call(&app, &ada, &agent, "post_note", asked("1")).await;
    assert!(hits().await.is_empty(), "nothing runs before the decision");
    let res = submit(
        &app,
        &ada,
        &id,
        json!([{"type": "approval", "call_id": call, "decision": "approve"}]),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        finished(&app, &ada, &id).await["output"],
        "echo: post_note returned done"
    );
    assert_eq!(
        hits().await,
        [("/notes/1".to_owned(), r#"{"note":"original"}"#.to_owned())]
    );

    // deny: never runs; the model hears why.
    let (id, call) = paused_call(&app, &ada, &agent, "post_note", asked("2")).await;
    let deny = json!([{"type": "approval", "call_id": call, "decision": "deny", "reason": "not today"}]);
    assert_eq!(submit(&app, &ada, &id, deny).await.status(), 200);
    let output = finished(&app, &ada, &id).await["output"].as_str().unwrap().to_owned();
    assert!(output.contains("denied") && output.contains("not today"), "{output}");

    // edit: the arguments are checked against the tool's parameters, then it runs with them.
    let (id, call) = paused_call(&app, &ada, &agent, "post_note", asked("3")).await;
    let invalid = json!([{"type": "approval", "call_id": call, "decision": "edit", "arguments": {"id": 3}}]);
    let problem = assert_problem(submit(&app, &ada, &id, invalid).await, 422).await;
    assert_eq!(field_names(&problem), ["inputs[0].arguments"]);
    let edit =
        json!([{"type": "approval", "call_id": call, "decision": "edit", "arguments": {"id": "3", "note": "edited"}}]);
    assert_eq!(submit(&app, &ada, &id, edit).await.status(), 200);
    assert_eq!(finished(&app, &ada, &id).await["status"], "completed");

    // respond: skipped; the model gets the given output.
    let (id, call) = paused_call(&app, &ada, &agent, "post_note", asked("4")).await;
    let respond = json!([{"type": "approval", "call_id": call, "decision": "respond", "output": "already noted"}]);
    assert_eq!(submit(&app, &ada, &id, respond).await.status(), 200);
    assert_eq!(
        finished(&app, &ada, &id).await["output"],
        "echo: post_note returned already noted"
    );

    assert_eq!(
        hits().await,
        [
            ("/notes/1".to_owned(), r#"{"note":"original"}"#.to_owned()),
            ("/notes/3".to_owned(), r#"{"note":"edited"}"#.to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_unanswered_run_expires_and_its_call_is_closed_in_the_history() {
    let app = TestApp::spawn_with(|c| {
        c.execution_action_timeout_secs = 1;
        c.execution_lease_secs = 1;
    })
    .await;
    let ada = app.register("ada").await;
    let ask = tool(
        &app,
        &ada,
        json!({"name": "ask_human", "parameters": {"type": "object"}}),
    )
    .await;
    let agent = agent_with(&app, &ada, &[&ask]).await;
    let (status, paused) = chat(&app, &ada, &agent, "/call ask_human {}").await;
    assert_eq!(status, 202, "{paused}");
    let id = paused["id"].as_str().unwrap();
    let expired = wait_for(&app, &ada, id, |e| e["status"] == "expired").await;
    assert!(
        expired["required_action"].is_null() && expired["completed_at"].is_string(),
        "{expired}"
    );
    let log = events(&app, &ada, id, 0).await;
    assert_eq!(types(&log).last(), Some(&"execution.expired"));
    let answer = json!([{"type": "tool_output", "call_id": "any", "output": "late"}]);
    assert_eq!(
        assert_problem(submit(&app, &ada, id, answer).await, 409).await["code"],
        "not_awaiting_input"
    );

    // The call got a result, so the conversation goes on with a valid history.
    let conversation = paused["conversation_id"].as_str().unwrap();
    let next = app
        .post_as(
            &ada,
            "/api/v1/chat/messages",
            &json!({"content": "hello again", "conversation_id": conversation}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 201);
    let roles: Vec<String> = messages(&app, &ada, conversation)
        .await
        .iter()
        .map(|m| m["role"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool", "user", "assistant"]);
}

#[tokio::test]
async fn a_chat_stream_ends_with_the_pause_and_a_cancel_closes_the_waiting_calls() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let ask = tool(
        &app,
        &ada,
        json!({"name": "ask_human", "parameters": {"type": "object"}}),
    )
    .await;
    let agent = agent_with(&app, &ada, &[&ask]).await;
    let res = app
        .post_as(
            &ada,
            "/api/v1/chat/messages",
            &json!({"content": "/call ask_human {}\n/call nothing_like_it {}", "agent_id": agent, "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = res.headers()["x-execution-id"].to_str().unwrap().to_owned();
    let body = res.text().await.unwrap();
    let names: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(
        names,
        [
            "message.created",
            "tool_call.created",
            "tool_call.created",
            "execution.requires_action"
        ],
        "{body}"
    );
    // Only the call that needs a person waits; the unknown tool's error result comes with the others.
    let execution = read(&app, &ada, &id).await;
    let calls = execution["required_action"]["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["name"], "ask_human");

    let cancelled = app
        .post_as(&ada, &format!("/api/v1/executions/{id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), 200);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["required_action"].is_null());
    let conversation = execution["conversation_id"].as_str().unwrap();
    let stored = messages(&app, &ada, conversation).await;
    let tool_results: Vec<&Value> = stored.iter().filter(|m| m["role"] == "tool").collect();
    assert_eq!(tool_results.len(), 2, "{stored:?}");
    assert!(tool_results.iter().all(|m| m["content"] == "error: cancelled"));
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_paused_run_outlives_its_server_and_is_resumed_by_another_replica() {
    testkit::require_postgres();
    let first = TestApp::spawn().await;
    let ada = first.register("ada").await;
    let ask = tool(
        &first,
        &ada,
        json!({"name": "ask_human", "parameters": {"type": "object"}}),
    )
    .await;
    let agent = agent_with(&first, &ada, &[&ask]).await;
    let (status, paused) = chat(&first, &ada, &agent, "/call ask_human {}").await;
    assert_eq!(status, 202, "{paused}");
    let id = paused["id"].as_str().unwrap().to_owned();
    let call = paused["required_action"]["calls"][0]["id"].as_str().unwrap().to_owned();
    // The server that ran it stops (it could be restarting); the pause is only a row.
    first.state.runner.stop();

    let second = TestApp::spawn_on(&first, |_| {}).await;
    let answer = json!([{"type": "tool_output", "call_id": call, "output": "from the other replica"}]);
    let res = submit(&second, &ada, &id, answer).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let done = finished(&second, &ada, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output"], "echo: ask_human returned from the other replica");
    drop(second);
}

#[tokio::test]
async fn bad_inputs_are_422s_naming_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let ask = tool(
        &app,
        &ada,
        json!({"name": "ask_human", "parameters": {"type": "object"}}),
    )
    .await;
    let agent = agent_with(&app, &ada, &[&ask]).await;
    let (status, paused) = chat(&app, &ada, &agent, "/call ask_human {}").await;
    assert_eq!(status, 202, "{paused}");
    let id = paused["id"].as_str().unwrap();
    let call = paused["required_action"]["calls"][0]["id"].as_str().unwrap();
    let cases = [
        (
            json!([{"type": "tool_output", "call_id": "a\u{0}b", "output": "x"}]),
            "inputs[0].call_id",
        ),
        (
            json!([{"type": "tool_output", "call_id": "c".repeat(300), "output": "x"}]),
            "inputs[0].call_id",
        ),
        (json!([{"type": "tool_output", "call_id": call}]), "inputs[0].output"),
        (
            json!([{"type": "approval", "call_id": call, "decision": "deny", "reason": "r".repeat(2001)}]),
            "inputs[0].reason",
        ),
        (json!([]), "inputs"),
    ];
    for (inputs, field) in cases {
        let problem = assert_problem(submit(&app, &ada, id, inputs.clone()).await, 422).await;
        assert!(field_names(&problem).contains(&field.to_owned()), "{inputs}: {problem}");
    }
    let unknown = app
        .post_as(
            &ada,
            &format!("/api/v1/executions/{id}/inputs"),
            &json!({"inputs": [], "extra": 1}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
    // Nothing was applied: still waiting for the same call, and no input recorded.
    let still = read(&app, &ada, id).await;
    assert_eq!(
        (&still["status"], &still["required_action"]),
        (&json!("requires_action"), &paused["required_action"])
    );
    assert!(!types(&events(&app, &ada, id, 0).await).contains(&"execution.input_received"));
}
