//! The chat flow against fake OpenAI-compatible and Anthropic servers: what reaches the
//! provider, what is stored, and how failures and timeouts surface.

use std::time::Duration;

use agentry_tests::{TestApp, TestUser, assert_problem};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{chat, completed_exchange, conversation, events, messages};
use crate::agents::create_agent;
use crate::fake_llm::{fake_provider, openai_stream, yo_ho_stream};

/// The JSON bodies the fake provider received, in order.
async fn received(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.expect("recording is on");
    requests.iter().map(|r| r.body_json().expect("a JSON body")).collect()
}

/// A server whose `openai` and `anthropic` providers talk to `server`, without retries.
async fn app_with(server: &MockServer, adjust: impl FnOnce(&mut api_server::Config)) -> TestApp {
    let uri = server.uri();
    TestApp::spawn_with(|c| {
        c.openai_base_url = Some(uri.clone());
        c.openai_api_key = Some("sk-test".into());
        c.anthropic_base_url = Some(uri);
        c.anthropic_api_key = Some("sk-ant-test".into());
        c.llm_max_retries = 0;
        adjust(c);
    })
    .await
}

/// Creates an agent of `provider` with distinctive settings; returns its id.
async fn agent_of(app: &TestApp, user: &TestUser, provider: &str) -> String {
    let body = json!({"name": "remote", "provider": provider, "model": "test-model-1", "system_prompt": "Talk like a pirate.",
                      "temperature": 0.3, "max_tokens": 256});
    create_agent(app, user, body).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn openai_receives_the_agents_settings_and_the_last_messages() {
    let whole = json!({"id": "c1", "model": "test-model-1-0613",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Arr, hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}});
    let server = fake_provider("/chat/completions", whole, yo_ho_stream()).await;
    let app = app_with(&server, |c| c.chat_history_limit = 3).await;
    let ada = app.register("ada").await;
    let agent_id = agent_of(&app, &ada, "openai").await;

    // A JSON reply is written by a run, which streams from the provider like any other.
    let first = chat(&app, &ada, json!({"content": "first", "agent_id": agent_id})).await;
    assert_eq!(first["content"], "Yo ho");
    assert_eq!(first["model"], "test-model-1-0613");
    assert_eq!(first["usage"], json!({"prompt_tokens": 20, "completion_tokens": 2}));
    let conversation_id = first["conversation_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/conversations/{conversation_id}/messages");

    let res = app
        .post_as(&ada, &path, &json!({"content": "second", "stream": true}))
        .send()
        .await
        .unwrap();
    let (_, deltas, reply) = completed_exchange(&events(res).await);
    assert_eq!(deltas, "Yo ho");
    assert_eq!(reply["content"], "Yo ho");
    assert_eq!(reply["usage"], json!({"prompt_tokens": 20, "completion_tokens": 2}));
    chat(
        &app,
        &ada,
        json!({"content": "third", "conversation_id": conversation_id}),
    )
    .await;

    let bodies = received(&server).await;
    assert_eq!(bodies.len(), 3);
    let system = json!({"role": "system", "content": "Talk like a pirate."});
    for body in &bodies {
        assert_eq!(body["model"], "test-model-1");
        assert_eq!(body["temperature"], 0.3);
        assert_eq!(body["max_tokens"], 256);
    }
    assert_eq!(
        bodies[0]["messages"],
        json!([system, {"role": "user", "content": "first"}])
    );
    assert!(bodies.iter().all(|body| body["stream"] == true), "every run streams");
    assert_eq!(
        bodies[1]["messages"],
        json!([system, {"role": "user", "content": "first"}, {"role": "assistant", "content": "Yo ho"},
               {"role": "user", "content": "second"}])
    );
    // CHAT_HISTORY_LIMIT=3: the last three messages only.
    assert_eq!(
        bodies[2]["messages"],
        json!([system, {"role": "user", "content": "second"}, {"role": "assistant", "content": "Yo ho"},
               {"role": "user", "content": "third"}])
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].headers["authorization"], "Bearer sk-test");
    assert_eq!(messages(&app, &ada, &conversation_id).await.len(), 6);
}

#[tokio::test]
async fn anthropic_receives_the_agents_settings_and_the_history() {
    let whole = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "test-model-1-20250101",
        "content": [{"type": "text", "text": "Ahoy"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 9, "output_tokens": 1}});
    let stream = [
        json!({"type": "message_start", "message": {"model": "test-model-1-20250101", "usage": {"input_tokens": 15, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Land "}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ho!"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
        json!({"type": "message_stop"}),
    ]
    .iter()
    .map(|event| format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap()))
    .collect();
    let server = fake_provider("/v1/messages", whole, stream).await;
    let app = app_with(&server, |_| {}).await;
    let ada = app.register("ada").await;
    let agent_id = agent_of(&app, &ada, "anthropic").await;

    let first = chat(&app, &ada, json!({"content": "first", "agent_id": agent_id})).await;
    assert_eq!(first["content"], "Land ho!");
    assert_eq!(first["model"], "test-model-1-20250101");
    let conversation_id = first["conversation_id"].as_str().unwrap().to_owned();
    let body = json!({"content": "second", "conversation_id": conversation_id});
    let res = app
        .post_as(&ada, "/api/v1/chat/messages", &body)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let (_, deltas, reply) = completed_exchange(&events(res).await);
    assert_eq!(deltas, "Land ho!");
    assert_eq!(reply["content"], "Land ho!");
    assert_eq!(reply["usage"], json!({"prompt_tokens": 15, "completion_tokens": 3}));

    let bodies = received(&server).await;
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_eq!(body["model"], "test-model-1");
        assert_eq!(body["system"], "Talk like a pirate.");
        assert_eq!(body["temperature"], 0.3);
        assert_eq!(body["max_tokens"], 256);
    }
    let text = |t: &str| json!([{"type": "text", "text": t}]);
    assert_eq!(
        bodies[0]["messages"],
        json!([{"role": "user", "content": text("first")}])
    );
    assert_eq!(
        bodies[1]["messages"],
        json!([{"role": "user", "content": text("first")}, {"role": "assistant", "content": text("Land ho!")},
               {"role": "user", "content": text("second")}])
    );
    assert!(bodies.iter().all(|body| body["stream"] == true), "every run streams");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].headers["x-api-key"], "sk-ant-test");
    assert_eq!(messages(&app, &ada, &conversation_id).await.len(), 4);
}

/// Posts `content` to the conversation whole and streamed; both must fail with `status`.
async fn assert_reply_fails(app: &TestApp, user: &TestUser, conversation_id: &str, status: u16) {
    let path = format!("/api/v1/conversations/{conversation_id}/messages");
    let res = app
        .post_as(user, &path, &json!({"content": "whole"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, status).await;
    let code = if status == 504 {
        "upstream_timeout"
    } else {
        "upstream_error"
    };
    assert_eq!(problem["code"], code);
    assert!(!problem["detail"].as_str().unwrap().contains("sk-test"), "{problem}");

    let res = app
        .post_as(user, &path, &json!({"content": "streamed", "stream": true}))
        .send()
        .await
        .unwrap();
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let all = events(res).await;
    let names: Vec<&str> = all.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["message.created", "error"]);
    let problem = &all[1].1;
    assert_eq!(problem["status"], status);
    assert_eq!(problem["code"], code);
    assert_eq!(problem["request_id"], request_id.as_str());
    assert_eq!(problem["instance"], path.as_str());

    // Both user messages stay stored; no reply is.
    let stored = messages(app, user, conversation_id).await;
    let texts: Vec<(&str, &str)> = stored
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(texts, [("user", "whole"), ("user", "streamed")]);
    assert_eq!(conversation(app, user, conversation_id).await["message_count"], 2);
}

/// Creates a conversation with an `openai` agent; returns its id.
async fn openai_conversation(app: &TestApp, user: &TestUser) -> String {
    let agent_id = agent_of(app, user, "openai").await;
    let res = app
        .post_as(user, "/api/v1/conversations", &json!({"agent_id": agent_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_provider_error_is_a_502_and_keeps_the_users_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(header("authorization", "Bearer sk-test"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "the model is on fire"}})))
        .mount(&server)
        .await;
    let app = app_with(&server, |_| {}).await;
    let ada = app.register("ada").await;
    let conversation_id = openai_conversation(&app, &ada).await;
    assert_reply_fails(&app, &ada, &conversation_id, 502).await;
}

#[tokio::test]
async fn a_provider_timeout_is_a_504_and_keeps_the_users_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({}))
                .set_delay(Duration::from_secs(4)),
        )
        .mount(&server)
        .await;
    let app = app_with(&server, |c| c.llm_timeout_secs = 1).await;
    let ada = app.register("ada").await;
    let conversation_id = openai_conversation(&app, &ada).await;
    assert_reply_fails(&app, &ada, &conversation_id, 504).await;
}

/// An answer with neither text nor a tool call is a `502` from either provider, whole or
/// streamed, and no empty assistant message is stored.
#[tokio::test]
async fn an_empty_answer_is_a_502_from_either_provider_and_stores_no_reply() {
    let openai_stream =
        openai_stream(&[json!({"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": "stop"}]})]);
    let anthropic_stream = [
        json!({"type": "message_start", "message": {"model": "test-model-1", "usage": {"input_tokens": 3}}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 0}}),
        json!({"type": "message_stop"}),
    ]
    .iter()
    .map(|event| format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap()))
    .collect();
    let cases = [
        (
            "openai",
            "/chat/completions",
            json!({"choices": [{"index": 0, "message": {"role": "assistant"}, "finish_reason": "stop"}]}),
            openai_stream,
        ),
        (
            "anthropic",
            "/v1/messages",
            json!({"type": "message", "role": "assistant", "model": "test-model-1", "content": [],
                   "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 0}}),
            anthropic_stream,
        ),
    ];
    for (provider, route, whole, stream) in cases {
        let server = fake_provider(route, whole, stream).await;
        let app = app_with(&server, |_| {}).await;
        let ada = app.register("ada").await;
        let agent_id = agent_of(&app, &ada, provider).await;
        let res = app
            .post_as(&ada, "/api/v1/conversations", &json!({"agent_id": agent_id}))
            .send()
            .await
            .unwrap();
        let conversation_id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        assert_reply_fails(&app, &ada, &conversation_id, 502).await;
    }
}

#[tokio::test]
async fn images_and_documents_reach_openai_and_anthropic_in_their_own_formats() {
    use agentry_tests::samples::{self, PNG};
    use base64::Engine as _;

    let server = MockServer::start().await;
    let openai_stream = openai_stream(&[
        json!({"model": "m", "choices": [{"index": 0, "delta": {"content": "A cat"}, "finish_reason": "stop"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}),
    ]);
    let anthropic_stream: String = [
        json!({"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "A cat"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        json!({"type": "message_stop"}),
    ]
    .iter()
    .map(|event| format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap()))
    .collect();
    for (route, stream) in [("/chat/completions", openai_stream), ("/v1/messages", anthropic_stream)] {
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_raw(stream, "text/event-stream"))
            .mount(&server)
            .await;
    }
    let app = app_with(&server, |_| {}).await;
    let ada = app.register("ada").await;
    let png = crate::files::upload_ok(&app, &ada, "cat.png", PNG, "attachment").await;
    let pdf = crate::files::upload_ok(&app, &ada, "report.pdf", samples::PDF, "attachment").await;
    let wav = crate::files::upload_ok(&app, &ada, "hum.wav", &samples::wav(800), "attachment").await;
    let attachments = json!([png["id"], pdf["id"], wav["id"]]);
    for provider in ["openai", "anthropic"] {
        let agent_id = agent_of(&app, &ada, provider).await;
        let body = json!({"content": "What is this?", "agent_id": agent_id, "attachments": attachments});
        let reply = chat(&app, &ada, body).await;
        assert_eq!(reply["content"], "A cat");
    }

    let image = base64::engine::general_purpose::STANDARD.encode(PNG);
    let document = format!("<file name=\"report.pdf\">\n{}\n</file>", samples::PDF_TEXT);
    let bodies = received(&server).await;
    assert_eq!(bodies.len(), 2);
    // OpenAI: one user message whose content is parts: the text, the image as a data URL,
    // the PDF's text; the audio is not sent.
    assert_eq!(
        bodies[0]["messages"][1],
        json!({"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{image}")}},
            {"type": "text", "text": document},
        ]})
    );
    // Anthropic: the image as a base64 image block first, then the document, then the text.
    assert_eq!(
        bodies[1]["messages"][0],
        json!({"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": image}},
            {"type": "text", "text": document},
            {"type": "text", "text": "What is this?"},
        ]})
    );
}
