//! `/api/v1/chat/messages` and `/api/v1/conversations/{id}/messages`: the chat flow with
//! `echo`, Server-Sent Events, validation, and a client leaving mid-stream (the run goes on).

mod agent_cache;
mod attachments;
mod providers;
mod runs;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use futures_util::StreamExt;
use reqwest::Response;
use serde_json::{Value, json};

use crate::agents::create_agent;

/// The events of a finished SSE answer as `(name, data)`, asserting the stream's headers
/// (the run's id among them) and that the stored events' ids follow each other.
pub(crate) async fn events(res: Response) -> Vec<(String, Value)> {
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(headers.contains_key("x-request-id"));
    assert!(uuid::Uuid::parse_str(headers["x-execution-id"].to_str().unwrap()).is_ok());
    let frames = parse_frames(&res.text().await.unwrap());
    let ids: Vec<i64> = frames.iter().filter_map(|f| f.id).collect();
    assert!(ids.windows(2).all(|w| w[1] > w[0]), "ids increase: {ids:?}");
    frames.into_iter().map(|f| (f.event, f.data)).collect()
}

/// One event of an SSE text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frame {
    /// Its `id:` line (the event's `seq`), if it has one.
    pub id: Option<i64>,
    /// Its `event:` line.
    pub event: String,
    /// Its one `data:` line, parsed.
    pub data: Value,
}

/// Splits an SSE text into events (an optional `id:` line, exactly one `event:` and one
/// `data:` line each), skipping comment lines such as `: keep-alive`.
pub(crate) fn parse_frames(text: &str) -> Vec<Frame> {
    text.split("\n\n")
        .filter_map(|block| {
            let lines: Vec<&str> = block.lines().filter(|line| !line.starts_with(':')).collect();
            if lines.is_empty() {
                return None;
            }
            let (id, rest) = match lines[0].strip_prefix("id: ") {
                Some(id) => (Some(id.parse().expect("a numeric id")), &lines[1..]),
                None => (None, &lines[..]),
            };
            assert_eq!(rest.len(), 2, "one event line and one data line: {block:?}");
            let event = rest[0].strip_prefix("event: ").expect("an event line").to_owned();
            let data = rest[1].strip_prefix("data: ").expect("a data line");
            Some(Frame {
                id,
                event,
                data: serde_json::from_str(data).expect("data is JSON"),
            })
        })
        .collect()
}

/// Asserts the canonical order (created, deltas, completed) and returns (user message,
/// concatenated deltas, assistant message).
pub(crate) fn completed_exchange(events: &[(String, Value)]) -> (Value, String, Value) {
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.first(), Some(&"message.created"), "{names:?}");
    assert_eq!(names.last(), Some(&"message.completed"), "{names:?}");
    assert!(
        names[1..names.len() - 1].iter().all(|n| *n == "message.delta"),
        "{names:?}"
    );
    assert!(names.len() > 2, "at least one delta: {names:?}");
    let deltas: String = events[1..events.len() - 1]
        .iter()
        .map(|(_, data)| data["delta"].as_str().expect("delta text"))
        .collect();
    (events[0].1.clone(), deltas, events[events.len() - 1].1.clone())
}

/// The messages of a conversation, oldest first (one page).
pub(crate) async fn messages(app: &TestApp, user: &TestUser, conversation_id: &str) -> Vec<Value> {
    let page = app
        .get_ok(
            user,
            &format!("/api/v1/conversations/{conversation_id}/messages?limit=100"),
        )
        .await;
    page["items"].as_array().unwrap().clone()
}

/// A conversation as read back.
pub(crate) async fn conversation(app: &TestApp, user: &TestUser, id: &str) -> Value {
    app.get_ok(user, &format!("/api/v1/conversations/{id}")).await
}

/// POSTs a chat message, asserting `201`; returns the assistant's message.
pub(crate) async fn chat(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app.post_as(user, "/api/v1/chat/messages", &body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_whole_chat_flow_with_echo() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let agent = create_agent(
        &app,
        &ada,
        json!({"name": "helper", "model": "echo-1", "system_prompt": "Be kind."}),
    )
    .await;
    let agent_id = agent["id"].as_str().unwrap();

    let content = "Plan a three-day trip to Lisbon with museums, food and a day at the beach, please.";
    let reply = chat(&app, &ada, json!({"content": content, "agent_id": agent_id})).await;
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["content"], format!("echo: {content}"));
    assert_eq!(reply["model"], "echo-1");
    assert!(reply["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert!(reply["usage"]["completion_tokens"].as_u64().unwrap() > 0);

    let conversation_id = reply["conversation_id"].as_str().unwrap().to_owned();
    let created = conversation(&app, &ada, &conversation_id).await;
    assert_eq!(created["title"], content.chars().take(50).collect::<String>());
    assert_eq!(created["agent_id"], agent_id);
    assert_eq!(created["owner_id"], ada.id.to_string());
    assert_eq!(created["message_count"], 2);

    let path = format!("/api/v1/conversations/{conversation_id}/messages");
    let res = app
        .post_as(&ada, &path, &json!({"content": "And on day four?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let second: Value = res.json().await.unwrap();
    assert_eq!(second["content"], "echo: And on day four?");
    assert_eq!(second["conversation_id"], conversation_id.as_str());

    let continued = chat(
        &app,
        &ada,
        json!({"content": "Thanks!", "conversation_id": conversation_id}),
    )
    .await;
    assert_eq!(continued["conversation_id"], conversation_id.as_str());

    let stored = messages(&app, &ada, &conversation_id).await;
    let roles: Vec<&str> = stored.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant", "user", "assistant"]);
    assert_eq!(stored[0]["content"], content);
    assert_eq!(stored[0]["usage"], Value::Null);
    assert_eq!(stored[0]["model"], Value::Null);
    assert_eq!(stored[5], continued);
    let after = conversation(&app, &ada, &conversation_id).await;
    assert_eq!(after["message_count"], 6);
    assert!(after["updated_at"].as_str().unwrap() > created["updated_at"].as_str().unwrap());

    // Without an agent, the default provider and model answer.
    let plain = chat(&app, &ada, json!({"content": "hi"})).await;
    assert_eq!(plain["model"], "echo-1");
    assert_eq!(
        conversation(&app, &ada, plain["conversation_id"].as_str().unwrap()).await["agent_id"],
        Value::Null
    );
}

#[tokio::test]
async fn a_streamed_reply_sends_the_events_in_order_and_stores_the_deltas() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;

    // "stream": true in the body.
    let res = app
        .post_as(
            &ada,
            "/api/v1/chat/messages",
            &json!({"content": "stream  this\nplease", "stream": true}),
        )
        .send()
        .await
        .unwrap();
    let (user_message, deltas, reply) = completed_exchange(&events(res).await);
    assert_eq!(user_message["role"], "user");
    assert_eq!(user_message["content"], "stream  this\nplease");
    assert_eq!(deltas, "echo: stream  this\nplease");
    assert_eq!(reply["content"], deltas);
    let conversation_id = reply["conversation_id"].as_str().unwrap().to_owned();
    let stored = messages(&app, &ada, &conversation_id).await;
    assert_eq!(stored, [user_message, reply]);

    // `Accept: text/event-stream` on the conversation route.
    let res = app
        .post_as(
            &ada,
            &format!("/api/v1/conversations/{conversation_id}/messages"),
            &json!({"content": "again"}),
        )
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let all = events(res).await;
    let (user_message, deltas, reply) = completed_exchange(&all);
    assert_eq!(all.len(), 2 + 2, "`echo: ` and `again`");
    assert_eq!(deltas, "echo: again");
    let stored = messages(&app, &ada, &conversation_id).await;
    assert_eq!(stored[2..], [user_message, reply]);
    assert_eq!(conversation(&app, &ada, &conversation_id).await["message_count"], 4);
}

#[tokio::test]
async fn bad_messages_are_422_naming_the_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let bobs_agent = create_agent(&app, &bob, json!({"name": "b", "model": "echo-1"})).await;
    let bobs_chat = chat(&app, &bob, json!({"content": "mine"})).await;
    let mine = create_agent(&app, &ada, json!({"name": "mine", "model": "echo-1"})).await;
    let other = create_agent(&app, &ada, json!({"name": "other", "model": "echo-1"})).await;
    let my_chat = chat(&app, &ada, json!({"content": "hello", "agent_id": mine["id"]})).await;
    let my_conversation = my_chat["conversation_id"].as_str().unwrap();

    let cases = [
        (json!({"content": ""}), "content"),
        (json!({"content": "x".repeat(100_001)}), "content"),
        (json!({}), "content"),
        (json!({"content": 42}), "content"),
        (json!({"content": "hi", "stream": "yes"}), "stream"),
        (json!({"content": "hi", "agent_id": bobs_agent["id"]}), "agent_id"),
        (json!({"content": "hi", "agent_id": "not-a-uuid"}), "agent_id"),
        (json!({"content": "hi", "agent_id": uuid::Uuid::now_v7()}), "agent_id"),
        (
            json!({"content": "hi", "conversation_id": bobs_chat["conversation_id"]}),
            "conversation_id",
        ),
        (
            json!({"content": "hi", "conversation_id": uuid::Uuid::now_v7(), "stream": true}),
            "conversation_id",
        ),
        (
            json!({"content": "hi", "conversation_id": my_conversation, "agent_id": other["id"]}),
            "agent_id",
        ),
    ];
    for (body, field) in cases {
        let res = app.post_as(&ada, "/api/v1/chat/messages", &body).send().await.unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), [field], "{body}");
        if let Some(id) = body[field].as_str().filter(|id| uuid::Uuid::parse_str(id).is_ok()) {
            let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(message.contains(id), "the message names the offending id: {problem}");
        }
    }
    let path = format!("/api/v1/conversations/{my_conversation}/messages");
    for body in [json!({"content": ""}), json!({"content": "é".repeat(100_001)})] {
        let problem = assert_problem(app.post_as(&ada, &path, &body).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), ["content"]);
    }
    let res = app
        .request(reqwest::Method::POST, &path)
        .bearer_auth(&ada.access_token)
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;

    // Nothing was stored: still one conversation of ada's with its two messages, and bob's untouched.
    let list: Value = app
        .get_as(&ada, "/api/v1/conversations")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(messages(&app, &ada, my_conversation).await.len(), 2);
    assert_eq!(
        messages(&app, &bob, bobs_chat["conversation_id"].as_str().unwrap())
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn messages_need_a_login_and_an_own_conversation() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let reply = chat(&app, &ada, json!({"content": "secret"})).await;
    let path = format!(
        "/api/v1/conversations/{}/messages",
        reply["conversation_id"].as_str().unwrap()
    );

    let res = app
        .request(reqwest::Method::POST, "/api/v1/chat/messages")
        .json(&json!({"content": "x"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
    let res = app.request(reqwest::Method::GET, &path).send().await.unwrap();
    assert_problem(res, 401).await;

    assert_problem(app.get_as(&eve, &path).send().await.unwrap(), 404).await;
    let body = json!({"content": "let me in", "stream": true});
    assert_problem(app.post_as(&eve, &path, &body).send().await.unwrap(), 404).await;
    let unknown = format!("/api/v1/conversations/{}/messages", uuid::Uuid::now_v7());
    assert_problem(app.post_as(&ada, &unknown, &body).send().await.unwrap(), 404).await;
    assert_eq!(
        messages(&app, &ada, reply["conversation_id"].as_str().unwrap())
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn a_client_leaving_mid_stream_gets_the_reply_stored_and_resumes_without_gap_or_duplicate() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 40).await;
    let ada = app.register("ada").await;
    let content = (1..=40).map(|i| format!("word{i}")).collect::<Vec<_>>().join(" ");
    let res = app
        .post_as(
            &ada,
            "/api/v1/chat/messages",
            &json!({"content": content, "stream": true}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let execution_id = res.headers()["x-execution-id"].to_str().unwrap().to_owned();
    let mut body = res.bytes_stream();
    let mut seen = String::new();
    while seen.matches("event: message.delta").count() < 3 {
        let chunk = body.next().await.expect("the stream goes on").unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    drop(body);
    // Only whole events count: the last block may have been cut.
    let complete = &seen[..seen.rfind("\n\n").unwrap() + 2];
    let before = parse_frames(complete);
    let created = &before[0];
    assert_eq!(created.event, "message.created");
    let conversation_id = created.data["conversation_id"].as_str().unwrap().to_owned();
    let last_seen = before.last().unwrap().id.unwrap();

    // The run goes on without its client and stores the whole reply.
    let done = crate::executions::finished(&app, &ada, &execution_id).await;
    assert_eq!(done["status"], "completed");
    let expected = format!("echo: {content}");
    let stored = messages(&app, &ada, &conversation_id).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0], created.data);
    assert_eq!(stored[1]["content"], expected.as_str());
    assert_eq!(stored[1]["execution_id"], execution_id.as_str());
    assert_eq!(stored[0]["execution_id"], execution_id.as_str());

    // Resuming from the last id seen gives exactly the rest.
    let res = app
        .get_as(&ada, &format!("/api/v1/executions/{execution_id}/events"))
        .header("accept", "text/event-stream")
        .header("last-event-id", last_seen.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let after = parse_frames(&res.text().await.unwrap());
    let ids: Vec<i64> = after.iter().map(|f| f.id.unwrap()).collect();
    assert_eq!(
        ids,
        (last_seen + 1..=last_seen + ids.len() as i64).collect::<Vec<_>>(),
        "no gap"
    );
    assert_eq!(after.last().unwrap().event, "execution.completed");
    for frame in &after {
        assert_eq!(frame.data["seq"], frame.id.unwrap(), "data is the whole event");
        assert_eq!(frame.data["type"], frame.event.as_str());
    }
    let delta_of = |f: &Frame, d: &Value| {
        d["delta"]
            .as_str()
            .map(str::to_owned)
            .filter(|_| f.event == "message.delta")
    };
    let mut text: String = before.iter().filter_map(|f| delta_of(f, &f.data)).collect();
    text.extend(after.iter().filter_map(|f| delta_of(f, &f.data["data"])));
    assert_eq!(
        text, expected,
        "the deltas before and after concatenate to the reply exactly once"
    );
    let completed = after.iter().find(|f| f.event == "message.completed").unwrap();
    assert_eq!(completed.data["data"], stored[1]);
}

#[tokio::test]
async fn a_deleted_agents_conversation_stays_readable_but_gets_no_replies() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let agent = create_agent(&app, &ada, json!({"name": "gone", "model": "echo-1"})).await;
    let agent_id = agent["id"].as_str().unwrap();
    let reply = chat(&app, &ada, json!({"content": "hi", "agent_id": agent_id})).await;
    let conversation_id = reply["conversation_id"].as_str().unwrap();
    let res = app
        .delete_as(&ada, &format!("/api/v1/agents/{agent_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let read = conversation(&app, &ada, conversation_id).await;
    assert_eq!(read["agent_id"], agent_id);
    assert_eq!(messages(&app, &ada, conversation_id).await.len(), 2);
    let listed: Value = app
        .get_as(&ada, &format!("/api/v1/conversations?agent_id={agent_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1);

    let path = format!("/api/v1/conversations/{conversation_id}/messages");
    let problem = assert_problem(
        app.post_as(&ada, &path, &json!({"content": "still there?"}))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("agent"), "{problem}");
    let body = json!({"content": "new one", "agent_id": agent_id});
    let problem = assert_problem(
        app.post_as(&ada, "/api/v1/chat/messages", &body).send().await.unwrap(),
        422,
    )
    .await;
    assert_eq!(field_names(&problem), ["agent_id"]);
    assert_eq!(messages(&app, &ada, conversation_id).await.len(), 2);
}
