//! MCP servers as tool sources (API.md v2, "MCP servers"), against a real MCP server
//! written with the official SDK and started by each test (`server`): creating a server
//! contacts it and lists its tools, header secrets reach it and never come back, bad and
//! unreachable servers are `422` naming `url`, refresh after its tools changed, agents link
//! only their owner's servers and lose a deleted one, and in a run its tools are called as
//! `<label>__<tool>` (results, `isError`, `allowed_tools`, approval, a restarted or stopped
//! server).

mod server;

use std::time::Duration;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::agents::create_agent;
use crate::executions::{events, finished, read};
use server::McpServer;

/// A server whose outbound calls may reach 127.0.0.1 (the MCP servers of these tests).
async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| c.outbound_allowlist = Some("127.0.0.1/32".into())).await
}

/// POSTs `body` to `/mcp-servers`.
async fn create(app: &TestApp, user: &TestUser, body: Value) -> reqwest::Response {
    app.post_as(user, "/api/v1/mcp-servers", &body).send().await.unwrap()
}

/// Creates a server from `body`, asserting the `201` and its `Location`; returns it.
async fn created(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = create(app, user, body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let server: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/mcp-servers/{}", server["id"].as_str().unwrap())
    );
    server
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

/// An echo agent using the MCP servers `ids`; returns its id.
async fn agent_using(app: &TestApp, user: &TestUser, ids: &[&str]) -> String {
    let agent = create_agent(
        app,
        user,
        json!({"name": "Actor", "model": "echo-1", "provider": "echo", "mcp_server_ids": ids}),
    )
    .await;
    assert_eq!(agent["mcp_server_ids"], json!(ids));
    agent["id"].as_str().unwrap().to_owned()
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

/// The `tool_call.completed` data of a finished run.
async fn results(app: &TestApp, user: &TestUser, run: &str) -> Vec<Value> {
    finished(app, user, run).await;
    events(app, user, run, 0)
        .await
        .into_iter()
        .filter(|e| e["type"] == "tool_call.completed")
        .map(|e| e["data"].clone())
        .collect()
}

/// The names of a server's listed tools.
fn tool_names(server: &Value) -> Vec<&str> {
    server["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_new_server_is_contacted_lists_its_tools_and_its_headers_are_write_only() {
    let mcp = McpServer::start().await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    put_secret(&app, &ada, "MCP_TOKEN", "tok-s3cr3t-77").await;

    let server = created(
        &app,
        &ada,
        json!({
            "label": "calc",
            "url": mcp.url(),
            "headers": {"Authorization": "Bearer {{secret:MCP_TOKEN}}", "X-Team": "blue"},
            "allowed_tools": ["add", "nope"],
        }),
    )
    .await;
    assert_eq!(tool_names(&server), ["add", "shout", "fail"]);
    assert_eq!(server["tools"][0]["description"], "the add tool");
    assert_eq!(server["tools"][0]["input_schema"]["required"], json!(["a", "b"]));
    assert_eq!(server["headers"], json!({"Authorization": "•••", "X-Team": "•••"}));
    assert_eq!(server["allowed_tools"], json!(["add", "nope"]));
    assert_eq!(server["unknown_allowed_tools"], json!(["nope"]));
    assert_eq!(server["approval"], "never");
    assert_eq!(server["owner_id"], ada.id.to_string());
    for key in ["created_at", "updated_at", "refreshed_at"] {
        assert!(server[key].is_string(), "{key} in {server}");
    }
    // The secret reached the server, filled in; no read shows it.
    assert!(
        mcp.header_values("authorization")
            .iter()
            .all(|v| v == "Bearer tok-s3cr3t-77")
    );
    assert!(!mcp.header_values("authorization").is_empty());
    assert!(mcp.header_values("x-team").iter().all(|v| v == "blue"));
    let id = server["id"].as_str().unwrap();
    let read_back = app.get_ok(&ada, &format!("/api/v1/mcp-servers/{id}")).await;
    assert_eq!(read_back, server);
    let list = app.get_ok(&ada, "/api/v1/mcp-servers").await;
    assert_eq!(list["items"], json!([server]));
    assert_eq!(list["total"], 1);
    for text in [read_back.to_string(), list.to_string()] {
        assert!(!text.contains("tok-s3cr3t-77"), "a secret leaked: {text}");
    }

    // A label is unique per owner; another user may use it, and cannot see ada's server.
    let again = create(&app, &ada, json!({"label": "calc", "url": mcp.url()})).await;
    assert_problem(again, 409).await;
    let bob = app.register("bob").await;
    created(&app, &bob, json!({"label": "calc", "url": mcp.url()})).await;
    let foreign = app
        .get_as(&bob, &format!("/api/v1/mcp-servers/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(foreign, 404).await;

    // PATCH: `•••` keeps a stored header; a new label; approval.
    let res = app
        .patch_as(
            &ada,
            &format!("/api/v1/mcp-servers/{id}"),
            &json!({"headers": {"Authorization": "•••"}, "approval": "always", "allowed_tools": null}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["headers"], json!({"Authorization": "•••"}));
    assert_eq!(
        (&patched["approval"], &patched["allowed_tools"]),
        (&json!("always"), &Value::Null)
    );
    assert_eq!(patched["unknown_allowed_tools"], json!([]));
    assert!(
        mcp.header_values("authorization")
            .iter()
            .all(|v| v == "Bearer tok-s3cr3t-77")
    );

    // A PATCH to a label in use is a 409; `•••` for a header never stored is a 422 naming it.
    let other = created(&app, &ada, json!({"label": "other", "url": mcp.url()})).await;
    let other_id = other["id"].as_str().unwrap();
    let taken = app
        .patch_as(
            &ada,
            &format!("/api/v1/mcp-servers/{other_id}"),
            &json!({"label": "calc"}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(taken, 409).await;
    let unknown = app
        .patch_as(
            &ada,
            &format!("/api/v1/mcp-servers/{other_id}"),
            &json!({"headers": {"X-New": "•••"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(unknown, 422).await), ["headers.X-New"]);

    // DELETE: 204, then 404.
    let gone = app
        .delete_as(&ada, &format!("/api/v1/mcp-servers/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let again = app
        .delete_as(&ada, &format!("/api/v1/mcp-servers/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(again, 404).await;
}

#[tokio::test]
async fn bad_fields_and_servers_that_cannot_be_reached_are_422_naming_the_field() {
    let app = spawn().await;
    let ada = app.register("ada").await;
    // Field rules: each bad field is named.
    for (body, field) in [
        (json!({"label": "Bad Label", "url": "http://127.0.0.1:1/mcp"}), "label"),
        (json!({"label": "x", "url": "ftp://example.com/mcp"}), "url"),
        (json!({"label": "x", "url": "not a url"}), "url"),
        (
            json!({"label": "x", "url": "http://127.0.0.1:1/mcp", "headers": {"Host": "evil"}}),
            "headers.Host",
        ),
        (
            json!({"label": "x", "url": "http://127.0.0.1:1/mcp", "headers": {"Accept": "x"}}),
            "headers.Accept",
        ),
        (
            json!({"label": "x", "url": "http://127.0.0.1:1/mcp", "headers": {"X-Key": "{{secret:bad name}}"}}),
            "headers.X-Key",
        ),
        (
            json!({"label": "x", "url": "http://127.0.0.1:1/mcp", "approval": "sometimes"}),
            "approval",
        ),
    ] {
        let problem = assert_problem(create(&app, &ada, body.clone()).await, 422).await;
        assert_eq!(field_names(&problem), [field], "{body}");
    }

    // Over the bounds: 33 headers, a value over 4096 bytes, too many allowed names.
    let many: serde_json::Map<String, Value> = (0..33).map(|i| (format!("X-H{i}"), json!("v"))).collect();
    for (body, field) in [
        (
            json!({"label": "x", "url": "http://127.0.0.1:1/mcp", "headers": many}),
            "headers",
        ),
        (
            json!({"label": "x", "url": "http://127.0.0.1:1/mcp", "headers": {"X-Big": "v".repeat(4097)}}),
            "headers.X-Big",
        ),
        (
            json!({"label": "x", "url": "http://127.0.0.1:1/mcp", "allowed_tools": vec!["t"; 257]}),
            "allowed_tools",
        ),
        (
            json!({"label": "x", "url": "http://127.0.0.1:1/mcp", "allowed_tools": [""]}),
            "allowed_tools[0]",
        ),
    ] {
        let problem = assert_problem(create(&app, &ada, body).await, 422).await;
        assert_eq!(field_names(&problem), [field]);
    }

    // Nothing listens: 422 naming url with the reason.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}/mcp", closed.local_addr().unwrap());
    drop(closed);
    let problem = assert_problem(create(&app, &ada, json!({"label": "x", "url": closed_url})).await, 422).await;
    assert_eq!(field_names(&problem), ["url"]);
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("could not reach"),
        "{problem}"
    );

    // Something that is no MCP server (an HTML page): 422 naming url.
    let web = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>hello</html>", "text/html"))
        .mount(&web)
        .await;
    let problem = assert_problem(
        create(&app, &ada, json!({"label": "x", "url": format!("{}/mcp", web.uri())})).await,
        422,
    )
    .await;
    assert_eq!(field_names(&problem), ["url"]);

    // A header secret that is not set: 422 naming headers, and nothing is sent.
    let mcp = McpServer::start().await;
    let problem = assert_problem(
        create(
            &app,
            &ada,
            json!({"label": "x", "url": mcp.url(), "headers": {"Authorization": "Bearer {{secret:MISSING}}"}}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(field_names(&problem), ["headers"]);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("MISSING"));
    assert!(mcp.header_values("host").is_empty(), "the server was contacted");
    assert_eq!(app.get_ok(&ada, "/api/v1/mcp-servers").await["total"], 0);
}

#[tokio::test]
async fn the_outbound_guard_refuses_an_internal_address_before_connecting() {
    // 127.0.0.2 is loopback too, but only 127.0.0.1 is allowed: nothing may connect to it.
    let refused = TcpListener::bind("127.0.0.2:0").await.unwrap();
    let url = format!("http://{}/mcp", refused.local_addr().unwrap());
    let app = spawn().await;
    let ada = app.register("ada").await;
    let problem = assert_problem(create(&app, &ada, json!({"label": "inner", "url": url})).await, 422).await;
    assert_eq!(field_names(&problem), ["url"]);
    assert!(
        problem["errors"][0]["message"].as_str().unwrap().contains("refused"),
        "{problem}"
    );
    // A host name resolving to loopback is refused too (after resolution).
    let port = refused.local_addr().unwrap().port();
    let by_name = json!({"label": "inner", "url": format!("http://localhost:{port}/mcp")});
    let problem = assert_problem(create(&app, &ada, by_name).await, 422).await;
    assert_eq!(field_names(&problem), ["url"]);
    assert!(
        problem["errors"][0]["message"].as_str().unwrap().contains("refused"),
        "{problem}"
    );
    let accepted = tokio::time::timeout(Duration::from_millis(200), refused.accept()).await;
    assert!(accepted.is_err(), "the refused address was connected to");

    // Without the allowlist, even 127.0.0.1 is refused.
    let mcp = McpServer::start().await;
    let strict = TestApp::spawn().await;
    let bob = strict.register("bob").await;
    let problem = assert_problem(
        create(&strict, &bob, json!({"label": "calc", "url": mcp.url()})).await,
        422,
    )
    .await;
    assert_eq!(field_names(&problem), ["url"]);
    assert!(mcp.header_values("host").is_empty(), "the guard let a request through");
}

#[tokio::test]
async fn a_run_calls_the_allowed_tools_as_label_tool_and_is_error_is_an_error_result() {
    let mcp = McpServer::start().await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    put_secret(&app, &ada, "MCP_TOKEN", "tok-s3cr3t-77").await;
    let server = created(
        &app,
        &ada,
        json!({
            "label": "calc",
            "url": mcp.url(),
            "headers": {"Authorization": "Bearer {{secret:MCP_TOKEN}}"},
            "allowed_tools": ["add", "fail"],
        }),
    )
    .await;
    let agent = agent_using(&app, &ada, &[server["id"].as_str().unwrap()]).await;

    let (status, reply) = chat(&app, &ada, &agent, r#"/call calc__add {"a": 2, "b": 3}"#).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["content"], "echo: calc__add returned 5");
    assert_eq!(mcp.calls(), [("add".to_owned(), json!({"a": 2, "b": 3}))]);
    let run = reply["execution_id"].as_str().unwrap();
    finished(&app, &ada, run).await;
    let log = events(&app, &ada, run, 0).await;
    let created_event = log.iter().find(|e| e["type"] == "tool_call.created").unwrap();
    assert_eq!(created_event["data"]["kind"], "mcp");
    assert_eq!(created_event["data"]["name"], "calc__add");

    // isError is an error result; a tool outside allowed_tools is not offered; the run goes on.
    let (status, reply) = chat(
        &app,
        &ada,
        &agent,
        "/call calc__fail {}\n/call calc__shout {\"text\": \"hi\"}",
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    let outcome = results(&app, &ada, reply["execution_id"].as_str().unwrap()).await;
    assert_eq!(
        (&outcome[0]["is_error"], &outcome[0]["output"]),
        (&json!(true), &json!("the tool broke"))
    );
    assert_eq!(outcome[1]["is_error"], true);
    assert!(
        outcome[1]["output"]
            .as_str()
            .unwrap()
            .contains("no tool named `calc__shout`"),
        "{}",
        outcome[1]
    );
    assert_eq!(mcp.calls().len(), 2, "shout was not called");

    // Every request of the run carried the secret; nothing a client reads holds it.
    assert!(
        mcp.header_values("authorization")
            .iter()
            .all(|v| v == "Bearer tok-s3cr3t-77")
    );
    let log = events(&app, &ada, run, 0).await;
    assert!(!serde_json::to_string(&log).unwrap().contains("tok-s3cr3t-77"));

    // Allowing every tool (null) offers shout too.
    let id = server["id"].as_str().unwrap();
    let res = app
        .patch_as(
            &ada,
            &format!("/api/v1/mcp-servers/{id}"),
            &json!({"allowed_tools": null}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, reply) = chat(&app, &ada, &agent, r#"/call calc__shout {"text": "hi"}"#).await;
    assert_eq!(reply["content"], "echo: calc__shout returned HI");
    // One session listed the tools at create; every call of the three runs used one more.
    assert_eq!(mcp.sessions_opened(), 2);
}

#[tokio::test]
async fn approval_always_waits_for_a_person_before_the_server_is_called() {
    let mcp = McpServer::start().await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    let server = created(
        &app,
        &ada,
        json!({"label": "calc", "url": mcp.url(), "approval": "always"}),
    )
    .await;
    let agent = agent_using(&app, &ada, &[server["id"].as_str().unwrap()]).await;

    let (status, paused) = chat(&app, &ada, &agent, r#"/call calc__add {"a": 1, "b": 1}"#).await;
    assert_eq!(status, 202, "{paused}");
    assert_eq!(paused["status"], "requires_action");
    let calls = paused["required_action"]["calls"].as_array().unwrap();
    assert_eq!(
        (
            &calls[0]["type"],
            &calls[0]["name"],
            &calls[0]["arguments"],
            &calls[0]["tool_id"]
        ),
        (
            &json!("approval"),
            &json!("calc__add"),
            &json!({"a": 1, "b": 1}),
            &Value::Null
        )
    );
    assert!(mcp.calls().is_empty(), "nothing runs before the decision");

    // Edited arguments run.
    let id = paused["id"].as_str().unwrap();
    let inputs = json!({"inputs": [{"type": "approval", "call_id": calls[0]["id"], "decision": "edit", "arguments": {"a": 20, "b": 22}}]});
    let res = app
        .post_as(&ada, &format!("/api/v1/executions/{id}/inputs"), &inputs)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let done = finished(&app, &ada, id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"], "echo: calc__add returned 42");
    assert_eq!(mcp.calls(), [("add".to_owned(), json!({"a": 20, "b": 22}))]);
}

#[tokio::test]
async fn refresh_lists_the_changed_tools_and_an_unreachable_change_changes_nothing() {
    let mcp = McpServer::start().await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    let server = created(&app, &ada, json!({"label": "calc", "url": mcp.url()})).await;
    let id = server["id"].as_str().unwrap();
    let agent = agent_using(&app, &ada, &[id]).await;

    mcp.set_tools(&["add", "multiply"]);
    let res = app
        .post_as(&ada, &format!("/api/v1/mcp-servers/{id}/refresh"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.unwrap();
    assert_eq!(tool_names(&refreshed), ["add", "multiply"]);
    assert!(refreshed["refreshed_at"].as_str() > server["refreshed_at"].as_str());
    let (_, reply) = chat(&app, &ada, &agent, "/call calc__multiply {}").await;
    assert_eq!(reply["content"], "echo: calc__multiply returned called multiply");

    // A server's answer holding NUL (which PostgreSQL refuses in text) is stored without it.
    mcp.set_tools(&["add", "multiply", "odd\u{0}name"]);
    let res = app
        .post_as(&ada, &format!("/api/v1/mcp-servers/{id}/refresh"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let refreshed: Value = res.json().await.unwrap();
    assert_eq!(tool_names(&refreshed), ["add", "multiply", "oddname"]);
    assert_eq!(refreshed["tools"][2]["description"], "the oddname tool");

    // A PATCH to an unreachable URL is a 422 naming url, and changes nothing.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}/mcp", closed.local_addr().unwrap());
    drop(closed);
    let res = app
        .patch_as(
            &ada,
            &format!("/api/v1/mcp-servers/{id}"),
            &json!({"url": closed_url, "label": "moved"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["url"]);
    assert_eq!(app.get_ok(&ada, &format!("/api/v1/mcp-servers/{id}")).await, refreshed);

    // A refresh of a server that went away is a 422 naming url, and keeps the last list.
    let mut mcp = mcp;
    mcp.stop().await;
    let res = app
        .post_as(&ada, &format!("/api/v1/mcp-servers/{id}/refresh"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["url"]);
    assert_eq!(
        tool_names(&app.get_ok(&ada, &format!("/api/v1/mcp-servers/{id}")).await),
        ["add", "multiply", "oddname"]
    );
}

#[tokio::test]
async fn agents_link_only_their_owners_servers_and_a_deleted_server_is_detached() {
    let mcp = McpServer::start().await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let mine = created(&app, &ada, json!({"label": "calc", "url": mcp.url()})).await;
    let theirs = created(&app, &bob, json!({"label": "calc", "url": mcp.url()})).await;
    let (mine, theirs) = (mine["id"].as_str().unwrap(), theirs["id"].as_str().unwrap());

    let res = app
        .post_as(
            &ada,
            "/api/v1/agents",
            &json!({"name": "A", "model": "echo-1", "mcp_server_ids": [mine, theirs, mine]}),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(field_names(&problem), ["mcp_server_ids[1]", "mcp_server_ids[2]"]);
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains(theirs));

    let agent = agent_using(&app, &ada, &[mine]).await;
    let res = app
        .patch_as(
            &ada,
            &format!("/api/v1/agents/{agent}"),
            &json!({"mcp_server_ids": [theirs]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["mcp_server_ids[0]"]);
    assert_eq!(
        app.get_ok(&ada, &format!("/api/v1/agents/{agent}")).await["mcp_server_ids"],
        json!([mine])
    );

    let gone = app
        .delete_as(&ada, &format!("/api/v1/mcp-servers/{mine}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    assert_eq!(
        app.get_ok(&ada, &format!("/api/v1/agents/{agent}")).await["mcp_server_ids"],
        json!([])
    );
    let (_, reply) = chat(&app, &ada, &agent, "/call calc__add {}").await;
    assert!(
        reply["content"].as_str().unwrap().contains("no tool named `calc__add`"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_restarted_server_is_reconnected_and_a_stopped_one_is_an_error_result_not_a_failed_run() {
    let mut mcp = McpServer::start().await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    let server = created(&app, &ada, json!({"label": "calc", "url": mcp.url()})).await;
    let agent = agent_using(&app, &ada, &[server["id"].as_str().unwrap()]).await;

    let (_, reply) = chat(&app, &ada, &agent, r#"/call calc__add {"a": 1, "b": 2}"#).await;
    assert_eq!(reply["content"], "echo: calc__add returned 3");
    let sessions_before = mcp.header_values("mcp-session-id");

    // The server restarts: the pooled session is unknown to it; the call still succeeds.
    mcp.restart().await;
    let (_, reply) = chat(&app, &ada, &agent, r#"/call calc__add {"a": 2, "b": 2}"#).await;
    assert_eq!(reply["content"], "echo: calc__add returned 4");
    assert!(!sessions_before.is_empty(), "the first call used a session");
    assert_eq!(mcp.sessions_opened(), 3, "create, the first call, the reconnection");

    // The server is gone: an error result, and the run completes.
    mcp.stop().await;
    let (status, reply) = chat(&app, &ada, &agent, r#"/call calc__add {"a": 3, "b": 3}"#).await;
    assert_eq!(status, 201, "{reply}");
    let run = reply["execution_id"].as_str().unwrap();
    let outcome = results(&app, &ada, run).await;
    assert_eq!(outcome[0]["is_error"], true, "{outcome:?}");
    assert!(outcome[0]["output"].as_str().unwrap().contains("calc"), "{outcome:?}");
    assert_eq!(read(&app, &ada, run).await["status"], "completed");
}

#[tokio::test]
async fn a_flooding_or_silent_server_is_an_error_result_and_the_run_goes_on() {
    let mcp = McpServer::start().await;
    mcp.set_tools(&["add", "flood", "hang"]);
    let app = TestApp::spawn_with(|c| {
        c.outbound_allowlist = Some("127.0.0.1/32".into());
        c.mcp_call_timeout_secs = 1;
    })
    .await;
    let ada = app.register("ada").await;
    let server = created(&app, &ada, json!({"label": "calc", "url": mcp.url()})).await;
    let agent = agent_using(&app, &ada, &[server["id"].as_str().unwrap()]).await;

    let started = tokio::time::Instant::now();
    let (status, reply) = chat(&app, &ada, &agent, "/call calc__flood {}\n/call calc__hang {}").await;
    assert_eq!(status, 201, "{reply}");
    let run = reply["execution_id"].as_str().unwrap();
    let outcome = results(&app, &ada, run).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the run waited for the silent server"
    );
    assert_eq!(
        (&outcome[0]["is_error"], &outcome[1]["is_error"]),
        (&json!(true), &json!(true)),
        "{outcome:?}"
    );
    assert!(
        outcome[0]["output"].as_str().unwrap().len() < 1000,
        "the flood reached the model"
    );
    assert!(
        outcome[1]["output"].as_str().unwrap().contains("within 1 s"),
        "{}",
        outcome[1]
    );
    assert_eq!(read(&app, &ada, run).await["status"], "completed");
    // The flood was asked once: an answer that is too large is not sent again.
    let floods = mcp.calls().iter().filter(|(name, _)| name == "flood").count();
    assert_eq!(floods, 1);
    // The server still serves the next call.
    let (_, reply) = chat(&app, &ada, &agent, r#"/call calc__add {"a": 1, "b": 1}"#).await;
    assert_eq!(reply["content"], "echo: calc__add returned 2");
}

#[tokio::test]
async fn openai_chat_completions_run_the_agents_mcp_tools_inside_and_never_offer_approval_ones() {
    let mcp = McpServer::start().await;
    let app = spawn().await;
    let ada = app.register("ada").await;
    let open = created(&app, &ada, json!({"label": "calc", "url": mcp.url()})).await;
    let gated = created(
        &app,
        &ada,
        json!({"label": "gated", "url": mcp.url(), "approval": "always"}),
    )
    .await;
    let agent = create_agent(
        &app,
        &ada,
        json!({"name": "mcp-user", "model": "echo-1", "provider": "echo",
               "mcp_server_ids": [open["id"], gated["id"]]}),
    )
    .await;
    let complete = |content: &str| {
        app.post_as(
            &ada,
            "/v1/chat/completions",
            &json!({"model": agent["id"], "messages": [{"role": "user", "content": content}]}),
        )
        .send()
    };

    let body: Value = complete(r#"/call calc__add {"a": 4, "b": 5}"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"], "echo: calc__add returned 9",
        "{body}"
    );
    let body: Value = complete(r#"/call gated__add {"a": 1, "b": 1}"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.contains("no tool named `gated__add`"), "{body}");
    assert_eq!(mcp.calls().len(), 1, "only the open server's tool ran");
}
