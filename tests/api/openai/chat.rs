//! `POST /v1/chat/completions` on the offline echo provider: the request's messages are
//! the history, the answer is OpenAI's `chat.completion` (or its chunks), client tools come
//! back as `tool_calls`, the agent's server-side tools run inside, and bad input is a 4xx
//! naming the parameter.

use agentry_tests::{TestApp, TestUser, assert_problem};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{agent, assert_openai_error};
use crate::fake_llm::{fake_provider, yo_ho_stream};

const COMPLETIONS: &str = "/v1/chat/completions";

/// POSTs a chat completion `body` as `user`.
async fn complete(app: &TestApp, user: &TestUser, body: Value) -> reqwest::Response {
    app.post_as(user, COMPLETIONS, &body).send().await.unwrap()
}

/// The JSON of every `data:` line of a stream, and whether it ended with `data: [DONE]`.
async fn stream_lines(res: reqwest::Response) -> (Vec<Value>, bool) {
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let text = res.text().await.unwrap();
    let data: Vec<&str> = text
        .split("\n\n")
        .filter_map(|frame| frame.strip_prefix("data: "))
        .collect();
    let done = data.last() == Some(&"[DONE]");
    let chunks = data
        .iter()
        .filter(|d| **d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    (chunks, done)
}

/// Creates a tool for `user` from `body`; its id.
async fn tool(app: &TestApp, user: &TestUser, body: Value) -> String {
    let res = app.post_as(user, "/api/v1/tools", &body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

fn weather_tool() -> Value {
    json!({"type": "function", "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    }})
}

/// The hex of a completion id (`chatcmpl-` and 32 hex digits), checked.
fn completion_hex(body: &Value) -> String {
    let id = body["id"].as_str().unwrap();
    let hex = id.strip_prefix("chatcmpl-").unwrap_or_else(|| panic!("{body}"));
    assert!(hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()), "{body}");
    hex.to_owned()
}

#[tokio::test]
async fn a_completion_answers_the_history_and_leaves_no_conversation() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let id = agent(&app, &ada, "writer").await;
    let request = json!({"model": "writer", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "question"}]}
    ], "temperature": 0.2, "max_completion_tokens": 50});
    let check = |body: &Value| {
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["model"], "writer");
        let now = chrono::Utc::now().timestamp();
        assert!(
            (now - 60..=now + 1).contains(&body["created"].as_i64().unwrap()),
            "{body}"
        );
        assert_eq!(
            body["choices"],
            json!([{
                "index": 0,
                "message": {"role": "assistant", "content": "echo: second\nquestion", "refusal": null},
                "logprobs": null,
                "finish_reason": "stop"
            }])
        );
        // Echo counts words: the history's 2 + 2 + 2 + 2 and the answer's 3.
        assert_eq!(
            body["usage"],
            json!({"prompt_tokens": 8, "completion_tokens": 3, "total_tokens": 11})
        );
    };

    // Without `store`, an agent without tools answers straight from its provider: no run.
    let res = complete(&app, &ada, request.clone()).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-execution-id").is_none(), "no run behind it");
    let body: Value = res.json().await.unwrap();
    check(&body);
    let first = completion_hex(&body);
    assert_eq!(app.get_ok(&ada, "/api/v1/executions").await["total"], 0);
    let again: Value = complete(&app, &ada, request.clone()).await.json().await.unwrap();
    check(&again);
    assert_ne!(completion_hex(&again), first, "each answer has its own id");

    // With `store: true` the answer is a run, kept under /api/v1/executions.
    let mut stored = request;
    stored["store"] = json!(true);
    let res = complete(&app, &ada, stored).await;
    assert_eq!(res.status(), 200);
    let execution = res.headers()["x-execution-id"].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    check(&body);
    assert_eq!(completion_hex(&body), execution.replace('-', ""));
    let run = app.get_ok(&ada, &format!("/api/v1/executions/{execution}")).await;
    assert_eq!(
        (
            &run["status"],
            &run["agent_id"],
            &run["conversation_id"],
            &run["output"]
        ),
        (
            &json!("completed"),
            &json!(id),
            &Value::Null,
            &json!("echo: second\nquestion")
        )
    );
    assert_eq!(app.get_ok(&ada, "/api/v1/executions").await["total"], 1);
    assert_eq!(app.get_ok(&ada, "/api/v1/conversations").await["total"], 0);
}

#[tokio::test]
async fn a_streamed_completion_sends_openai_chunks_then_done() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let body = json!({"model": "writer", "stream": true, "messages": [{"role": "user", "content": "one two three"}]});
    let mut stored = body.clone();
    stored["store"] = json!(true);
    for (request, is_run) in [(body.clone(), false), (stored, true)] {
        let res = complete(&app, &ada, request).await;
        assert_eq!(res.headers().get("x-execution-id").is_some(), is_run);
        let (chunks, done) = stream_lines(res).await;
        assert!(done, "ends with [DONE]");
        assert!(chunks.len() >= 5, "{chunks:?}");
        let id = chunks[0]["id"].as_str().unwrap();
        assert!(id.starts_with("chatcmpl-"));
        for chunk in &chunks {
            assert_eq!(chunk["id"], id);
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["model"], "writer");
            assert!(chunk.get("usage").is_none(), "no usage unless asked: {chunk}");
        }
        assert_eq!(
            chunks[0]["choices"][0]["delta"],
            json!({"role": "assistant", "content": ""})
        );
        let text: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
            .collect();
        assert_eq!(text, "echo: one two three");
        let last = chunks.last().unwrap();
        assert_eq!(
            last["choices"][0],
            json!({"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"})
        );
        // The echo provider streams word by word: more than one content chunk.
        assert!(
            chunks
                .iter()
                .filter(|c| c["choices"][0]["delta"]["content"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()))
                .count()
                > 1,
            "{chunks:?}"
        );
    }
    assert_eq!(
        app.get_ok(&ada, "/api/v1/executions").await["total"],
        1,
        "only the stored one"
    );

    let mut with_usage = body;
    with_usage["stream_options"] = json!({"include_usage": true});
    let mut stored = with_usage.clone();
    stored["store"] = json!(true);
    for request in [with_usage, stored] {
        let (chunks, done) = stream_lines(complete(&app, &ada, request).await).await;
        assert!(done);
        let (usage, rest) = chunks.split_last().unwrap();
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(
            usage["usage"],
            json!({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})
        );
        assert!(
            rest.iter().all(|c| c["usage"].is_null() && c.get("usage").is_some()),
            "{rest:?}"
        );
    }
}

#[tokio::test]
async fn a_client_tool_call_comes_back_as_tool_calls_and_its_result_goes_back_in_the_history() {
    // A short lease: the sweep that ends paused stateless runs comes every third of it.
    let app = TestApp::spawn_with(|c| c.execution_lease_secs = 1).await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let ask = json!({"role": "user", "content": r#"/call get_weather {"city": "Paris"}"#});
    let res = complete(
        &app,
        &ada,
        json!({"model": "writer", "messages": [ask], "tools": [weather_tool()]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    // Answered straight from the provider: nothing is left waiting for the tool's output.
    assert_eq!(app.get_ok(&ada, "/api/v1/executions").await["total"], 0);
    let stored: Value = complete(
        &app,
        &ada,
        json!({"model": "writer", "messages": [ask], "tools": [weather_tool()], "store": true}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(stored["choices"][0]["finish_reason"], "tool_calls", "{stored}");
    assert_eq!(
        stored["choices"][0]["message"]["tool_calls"][0]["function"],
        body["choices"][0]["message"]["tool_calls"][0]["function"]
    );
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls", "{body}");
    let calls = choice["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    let arguments: Value = serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"city": "Paris"}));
    assert!(choice["message"]["content"].is_null(), "{body}");

    let answered = complete(
        &app,
        &ada,
        json!({"model": "writer", "tools": [weather_tool()], "messages": [
            ask,
            {"role": "assistant", "content": null, "tool_calls": calls},
            {"role": "tool", "tool_call_id": calls[0]["id"], "content": "sunny"}
        ]}),
    )
    .await;
    let body: Value = answered.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "echo: get_weather returned sunny"
    );
    // The stored run that returned the tool calls is not left waiting for inputs nobody
    // will send (the client answered with a new request): it ends `expired` at the next sweep.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let waiting = app.get_ok(&ada, "/api/v1/executions?status=requires_action").await;
        if waiting["items"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still waiting: {waiting}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let expired = app.get_ok(&ada, "/api/v1/executions?status=expired").await;
    assert_eq!(expired["items"].as_array().unwrap().len(), 1, "{expired}");

    let streamed = json!({"model": "writer", "stream": true, "tools": [weather_tool()], "messages": [ask]});
    let (chunks, done) = stream_lines(complete(&app, &ada, streamed).await).await;
    assert!(done);
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .collect();
    assert_eq!(calls.len(), 1, "{chunks:?}");
    assert_eq!(
        (calls[0]["index"].as_u64(), &calls[0]["function"]["name"]),
        (Some(0), &json!("get_weather"))
    );
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn the_agents_client_tools_come_back_its_http_tools_run_inside_and_approval_tools_are_not_offered() {
    let endpoint = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/time"))
        .respond_with(ResponseTemplate::new(200).set_body_string("noon"))
        .expect(1)
        .mount(&endpoint)
        .await;
    let app = TestApp::spawn_with(|c| c.outbound_allowlist = Some("127.0.0.1/32".into())).await;
    let ada = app.register("ada").await;
    let parameters = json!({"type": "object", "properties": {}});
    let client = tool(
        &app,
        &ada,
        json!({"name": "pick_file", "parameters": parameters, "kind": "client"}),
    )
    .await;
    let http = tool(
        &app,
        &ada,
        json!({"name": "clock", "parameters": parameters, "kind": "http",
               "http": {"method": "GET", "url": format!("{}/time", endpoint.uri())}}),
    )
    .await;
    let gated = tool(
        &app,
        &ada,
        json!({"name": "delete_all", "parameters": parameters, "kind": "client", "approval": "always"}),
    )
    .await;
    let res = app
        .post_as(
            &ada,
            "/api/v1/agents",
            &json!({"name": "tooled", "model": "echo-1", "provider": "echo", "tool_ids": [client, http, gated]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let say = |content: &str| json!({"model": "tooled", "messages": [{"role": "user", "content": content}]});

    let body: Value = complete(&app, &ada, say("/call pick_file {}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls", "{body}");
    assert_eq!(
        body["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "pick_file"
    );

    let body: Value = complete(&app, &ada, say("/call clock {}")).await.json().await.unwrap();
    assert_eq!(
        body["choices"][0]["message"]["content"], "echo: clock returned noon",
        "{body}"
    );

    let body: Value = complete(&app, &ada, say("/call delete_all {}"))
        .await
        .json()
        .await
        .unwrap();
    let content = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(content.contains("no tool named `delete_all`"), "{body}");
}

#[tokio::test]
async fn bad_input_is_a_4xx_naming_the_param_never_a_500() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    agent(&app, &ada, "twin").await;
    agent(&app, &ada, "twin").await;
    let hi = json!([{"role": "user", "content": "hi"}]);
    let cases = [
        (json!({"model": "nobody", "messages": hi}), 404, Some("model")),
        (json!({"model": "twin", "messages": hi}), 422, Some("model")),
        (json!({"model": "writer", "messages": []}), 422, Some("messages")),
        (json!({"model": "writer"}), 422, Some("messages")),
        (
            json!({"model": "writer", "messages": [{"content": "no role"}]}),
            422,
            Some("messages[0]"),
        ),
        (
            json!({"model": "writer", "messages": [{"role": "wizard", "content": "x"}]}),
            422,
            Some("messages[0]"),
        ),
        (
            json!({"model": "writer", "messages": [{"role": "user", "content": 42}]}),
            422,
            Some("messages[0]"),
        ),
        (
            json!({"model": "writer", "messages": [{"role": "tool", "content": "x"}]}),
            422,
            Some("messages[0]"),
        ),
        (
            json!({"model": "writer", "messages": [{"role": "assistant", "content": null}]}),
            422,
            Some("messages[0].content"),
        ),
        (json!({"model": "writer", "messages": hi, "n": 2}), 422, Some("n")),
        (
            json!({"model": "writer", "messages": hi, "logprobs": true}),
            422,
            Some("logprobs"),
        ),
        (
            json!({"model": "writer", "messages": hi, "audio": {"voice": "alloy", "format": "wav"}}),
            422,
            Some("audio"),
        ),
        (
            json!({"model": "writer", "messages": hi, "temperature": 3}),
            422,
            Some("temperature"),
        ),
        (
            json!({"model": "writer", "messages": hi, "response_format": {"type": "json_object"}}),
            422,
            Some("response_format"),
        ),
        (
            json!({"model": "writer", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}),
            422,
            Some("messages[0].content[0].type"),
        ),
        (
            json!({"model": "writer", "messages": hi, "tools": [{"type": "function", "function": {"name": "a b"}}]}),
            422,
            Some("tools[0].function.name"),
        ),
        (
            json!({"model": "writer", "messages": hi, "tool_choice": "sometimes"}),
            422,
            Some("tool_choice"),
        ),
        (
            json!({"model": "writer", "messages": hi, "store": "yes"}),
            422,
            Some("store"),
        ),
        (
            json!({"model": "writer", "messages": hi, "store": 1}),
            422,
            Some("store"),
        ),
    ];
    for (body, status, param) in cases {
        let res = complete(&app, &ada, body.clone()).await;
        let problem = assert_problem(res, status).await;
        let error = &problem["error"];
        let named = error["param"].as_str();
        assert!(
            match param {
                Some(p) => named.is_some_and(|n| n.starts_with(p)),
                None => named.is_none(),
            },
            "{body}: {problem}"
        );
        let kind = if status == 404 {
            "not_found_error"
        } else {
            "invalid_request_error"
        };
        assert_eq!(error["type"], kind, "{body}");
    }
    let res = app
        .request(reqwest::Method::POST, COMPLETIONS)
        .bearer_auth(&ada.access_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    assert_openai_error(&problem, "invalid_request_error", None);
    // Nothing of a refused request is stored.
    assert_eq!(app.get_ok(&ada, "/api/v1/executions").await["total"], 0);
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_replays_the_completion() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let body = json!({"model": "writer", "messages": [{"role": "user", "content": "once"}], "store": true});
    let send = || {
        app.post_as(&ada, COMPLETIONS, &body)
            .header("Idempotency-Key", "completion-1")
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let runs = app.get_ok(&ada, "/api/v1/executions").await;
    assert_eq!(runs["total"], 1, "one run for both requests");

    // An answer stored nowhere is replayed too: the same id, not a second answer.
    let direct = json!({"model": "writer", "messages": [{"role": "user", "content": "twice"}]});
    let send = || {
        app.post_as(&ada, COMPLETIONS, &direct)
            .header("Idempotency-Key", "completion-2")
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.get_ok(&ada, "/api/v1/executions").await["total"], 1);
}

#[tokio::test]
async fn a_cancelled_run_is_a_409_the_sdks_do_not_retry() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 100).await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let words = vec!["slow"; 40].join(" ");
    let request = app
        .post_as(
            &ada,
            COMPLETIONS,
            &json!({"model": "writer", "messages": [{"role": "user", "content": words}], "store": true}),
        )
        .send();
    let waiting = tokio::spawn(request);
    let mut cancelled = false;
    for _ in 0..100 {
        let runs = app.get_ok(&ada, "/api/v1/executions?status=running").await;
        if let Some(id) = runs["items"][0]["id"].as_str() {
            let res = app
                .post_as(&ada, &format!("/api/v1/executions/{id}/cancel"), &json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            cancelled = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(cancelled, "the run was seen running");
    let res = waiting.await.unwrap().unwrap();
    assert_eq!(
        res.headers().get("x-should-retry").and_then(|v| v.to_str().ok()),
        Some("false")
    );
    let problem = assert_problem(res, 409).await;
    assert_openai_error(&problem, "conflict_error", None);
}

#[tokio::test]
async fn a_run_ending_without_an_answer_ends_the_stream_with_an_error_line() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 100).await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let words = vec!["slow"; 40].join(" ");
    let res = complete(
        &app,
        &ada,
        json!({"model": "writer", "stream": true, "store": true, "messages": [{"role": "user", "content": words}]}),
    )
    .await;
    let id = res.headers()["x-execution-id"].to_str().unwrap().to_owned();
    let cancel = app
        .post_as(&ada, &format!("/api/v1/executions/{id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    let (chunks, done) = stream_lines(res).await;
    assert!(!done, "no [DONE] after an error");
    let last = chunks.last().unwrap();
    assert_eq!(last["error"]["type"], "conflict_error", "{chunks:?}");
    assert!(last["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// A server whose `openai` provider is `server` (no retries, a 1 s provider timeout), with
/// an agent `remote` on it: distinctive settings, no tools.
async fn remote_agent(server: &MockServer) -> (TestApp, TestUser) {
    let uri = server.uri();
    let app = TestApp::spawn_with(|c| {
        c.openai_base_url = Some(uri);
        c.openai_api_key = Some("sk-test".into());
        c.llm_max_retries = 0;
        c.llm_timeout_secs = 1;
    })
    .await;
    let ada = app.register("ada").await;
    let res = app
        .post_as(
            &ada,
            "/api/v1/agents",
            &json!({"name": "remote", "provider": "openai", "model": "test-model-1",
                    "system_prompt": "Talk like a pirate.", "temperature": 0.3, "max_tokens": 256}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    (app, ada)
}

#[tokio::test]
async fn an_answer_stored_nowhere_asks_the_provider_with_the_agents_settings_and_relays_its_answer() {
    let whole = json!({"id": "c1", "model": "test-model-1-0613",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_9", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
            "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}});
    let server = fake_provider("/chat/completions", whole, yo_ho_stream()).await;
    let (app, ada) = remote_agent(&server).await;
    let messages = json!([{"role": "user", "content": "weather?"}]);

    // Whole: the provider is asked for a whole answer; its tool call comes back as is.
    let res = complete(
        &app,
        &ada,
        json!({"model": "remote", "messages": messages, "tools": [weather_tool()], "temperature": 0.7}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("x-execution-id").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls", "{body}");
    assert_eq!(
        body["choices"][0]["message"]["tool_calls"],
        json!([{"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}])
    );
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15})
    );

    // Streamed: the provider's deltas relayed, its usage in the last chunk.
    let res = complete(
        &app,
        &ada,
        json!({"model": "remote", "messages": messages, "stream": true, "stream_options": {"include_usage": true}}),
    )
    .await;
    let (chunks, done) = stream_lines(res).await;
    assert!(done);
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Yo ho");
    assert_eq!(
        chunks.last().unwrap()["usage"],
        json!({"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22})
    );

    // What the provider was asked: the agent's model, prompt and token limit, the request's
    // temperature (else the agent's), history and tools.
    let bodies: Vec<Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    for (body, temperature) in bodies.iter().zip([0.7, 0.3]) {
        assert_eq!(body["model"], "test-model-1");
        assert_eq!(body["max_tokens"], 256);
        let sent = body["temperature"].as_f64().unwrap();
        assert!((sent - temperature).abs() < 1e-6, "{body}");
        assert_eq!(
            body["messages"],
            json!([{"role": "system", "content": "Talk like a pirate."}, {"role": "user", "content": "weather?"}])
        );
    }
    assert_eq!(bodies[0]["tools"][0]["function"]["name"], "get_weather");
    assert_ne!(bodies[0]["stream"], true, "a whole answer is asked whole");
    assert_eq!(bodies[1]["stream"], true);
    assert_eq!(app.get_ok(&ada, "/api/v1/executions").await["total"], 0);
}

#[tokio::test]
async fn a_provider_failure_of_an_answer_stored_nowhere_is_a_gateway_error_whole_or_streamed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(wiremock::matchers::body_string_contains("slow"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({}))
                .set_delay(std::time::Duration::from_secs(4)),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "the model is on fire"}})))
        .mount(&server)
        .await;
    let (app, ada) = remote_agent(&server).await;
    let say = |content: &str, stream: bool| json!({"model": "remote", "stream": stream, "messages": [{"role": "user", "content": content}]});

    let problem = assert_problem(complete(&app, &ada, say("hi", false)).await, 502).await;
    let error = assert_openai_error(&problem, "server_error", None);
    assert!(
        error["message"].as_str().unwrap().contains("the model is on fire"),
        "{problem}"
    );
    assert_problem(complete(&app, &ada, say("slow", false)).await, 504).await;

    for content in ["hi", "slow"] {
        let (chunks, done) = stream_lines(complete(&app, &ada, say(content, true)).await).await;
        assert!(!done, "no [DONE] after an error");
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let last = chunks.last().unwrap();
        assert_eq!(last["error"]["type"], "server_error", "{chunks:?}");
        assert!(last["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(app.get_ok(&ada, "/api/v1/executions").await["total"], 0);
}
