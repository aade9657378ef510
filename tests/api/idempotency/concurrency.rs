//! A duplicate while the first request runs (409), on one server and across replicas; a
//! server error releases the key.

use std::time::Duration;

use agentry_tests::{TestApp, TestUser, assert_problem};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{KEY, post_with_key, stored_keys};
use crate::agents::create_agent;
use crate::chat::messages;

/// How long the fake provider takes to answer: long enough for duplicates to arrive
/// while the first request waits (they are sent once its key is seen stored).
const SLOW: Duration = Duration::from_secs(3);

/// An OpenAI-compatible provider answering "slow hello" after [`SLOW`], whole or streamed.
async fn slow_provider() -> MockServer {
    let server = MockServer::start().await;
    mount_answer(&server, "slow hello", SLOW).await;
    server
}

/// Makes `server` answer `content` after `delay`, whole or streamed as asked.
async fn mount_answer(server: &MockServer, content: &str, delay: Duration) {
    let chunk = json!({"model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": "stop"}]});
    let stream = format!("data: {chunk}\n\ndata: [DONE]\n\n");
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(stream, "text/event-stream")
                .set_delay(delay),
        )
        .with_priority(2)
        .mount(server)
        .await;
    let whole = json!({"id": "c1", "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}});
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(whole).set_delay(delay))
        .with_priority(3)
        .mount(server)
        .await;
}

/// A server whose `openai` provider is `provider`, without retries.
async fn app_with(provider: &MockServer) -> TestApp {
    let uri = provider.uri();
    TestApp::spawn_with(|c| {
        c.openai_base_url = Some(uri);
        c.openai_api_key = Some("sk-test".into());
        c.llm_max_retries = 0;
    })
    .await
}

/// A conversation with an `openai` agent; its messages path.
async fn openai_conversation(app: &TestApp, user: &TestUser) -> String {
    let agent = create_agent(app, user, json!({"name": "remote", "provider": "openai", "model": "m"})).await;
    let res = app
        .post_as(user, "/api/v1/conversations", &json!({"agent_id": agent["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    format!("/api/v1/conversations/{id}/messages")
}

/// Waits until `user` holds a key in flight (the first request has claimed it).
async fn until_claimed(app: &TestApp, user: &TestUser) {
    for _ in 0..500 {
        if stored_keys(app, user).await.iter().any(|k| k.state == "in_flight") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the first request never claimed its key");
}

#[tokio::test]
async fn a_duplicate_sent_while_the_first_runs_is_a_409_then_a_replay() {
    let provider = slow_provider().await;
    let app = app_with(&provider).await;
    let ada = app.register("ada").await;
    let path = openai_conversation(&app, &ada).await;
    let body = json!({"content": "hello"});

    let first = tokio::spawn(post_with_key(&app, &ada, &path, &body, KEY).send());
    until_claimed(&app, &ada).await;
    let problem = assert_problem(post_with_key(&app, &ada, &path, &body, KEY).send().await.unwrap(), 409).await;
    assert_eq!(problem["code"], "idempotency_key_in_use", "{problem}");

    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 201);
    let reply: Value = first.json().await.unwrap();
    assert_eq!(reply["content"], "slow hello");
    let again = post_with_key(&app, &ada, &path, &body, KEY).send().await.unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), reply);

    assert_eq!(provider.received_requests().await.unwrap().len(), 1);
    let conversation_id = reply["conversation_id"].as_str().unwrap();
    assert_eq!(messages(&app, &ada, conversation_id).await.len(), 2);
}

#[tokio::test]
async fn of_duplicates_racing_on_two_replicas_exactly_one_runs() {
    let provider = slow_provider().await;
    let first = app_with(&provider).await;
    let uri = provider.uri();
    let second = TestApp::spawn_on(&first, |c| {
        c.openai_base_url = Some(uri);
        c.openai_api_key = Some("sk-test".into());
        c.llm_max_retries = 0;
    })
    .await;
    let ada = first.register("ada").await;
    let path = openai_conversation(&first, &ada).await;
    let body = json!({"content": "hello"});

    let sends = [&first, &second, &first, &second, &first, &second]
        .map(|app| post_with_key(app, &ada, &path, &body, KEY).send());
    let answers = futures_util::future::join_all(sends).await;
    let mut ran = 0;
    for answer in answers {
        let answer = answer.unwrap();
        let replayed = answer.headers().contains_key("idempotent-replayed");
        match answer.status().as_u16() {
            201 if !replayed => ran += 1,
            // A duplicate that arrived after the first finished (a slow machine) is replayed.
            201 | 409 => {}
            other => panic!("unexpected {other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(ran, 1, "exactly one request ran");
    assert_eq!(provider.received_requests().await.unwrap().len(), 1);
    assert_eq!(stored_keys(&first, &ada).await.len(), 1);
    drop(second);
}

#[tokio::test]
async fn a_server_error_releases_the_key_so_a_retry_runs() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {"message": "down"}})))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&provider)
        .await;
    mount_answer(&provider, "back", Duration::ZERO).await;
    let app = app_with(&provider).await;
    let ada = app.register("ada").await;
    let path = openai_conversation(&app, &ada).await;
    let body = json!({"content": "hello"});

    for attempt in 1..=2 {
        let res = post_with_key(&app, &ada, &path, &body, KEY).send().await.unwrap();
        assert!(res.headers().get("idempotent-replayed").is_none());
        assert_problem(res, 502).await;
        assert_eq!(
            provider.received_requests().await.unwrap().len(),
            attempt,
            "attempt {attempt} ran"
        );
        assert!(stored_keys(&app, &ada).await.is_empty(), "the key was released");
    }
    // The provider is back: the third attempt runs and its answer is kept.
    let res = post_with_key(&app, &ada, &path, &body, KEY).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["content"], "back");
    let res = post_with_key(&app, &ada, &path, &body, KEY).send().await.unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(res.json::<Value>().await.unwrap(), reply);
    assert_eq!(provider.received_requests().await.unwrap().len(), 3);
}

/// The usual retry: the client's connection dropped before the answer came. The request
/// still completes, so the retry gets its answer instead of running it again.
#[tokio::test]
async fn a_request_whose_client_left_is_recorded_and_replayed_to_the_retry() {
    let provider = slow_provider().await;
    let app = app_with(&provider).await;
    let ada = app.register("ada").await;
    let path = openai_conversation(&app, &ada).await;
    let body = json!({"content": "hello"});

    let first = tokio::spawn(post_with_key(&app, &ada, &path, &body, KEY).send());
    until_claimed(&app, &ada).await;
    first.abort();
    let _ = first.await;
    let mut recorded = false;
    for _ in 0..500 {
        if stored_keys(&app, &ada).await.iter().any(|k| k.state == "done") {
            recorded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(recorded, "the abandoned request completed and its answer was stored");
    let res = post_with_key(&app, &ada, &path, &body, KEY).send().await.unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(res.json::<Value>().await.unwrap()["content"], "slow hello");
    assert_eq!(provider.received_requests().await.unwrap().len(), 1);
}
