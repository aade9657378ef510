//! Retries, timeouts, broken streams and secrecy of keys, through the public providers.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use llm::{
    AnthropicProvider, ChatMessage, ChatRequest, LlmConfig, LlmError, OpenAiProvider, Provider, ProviderRegistry,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{
    ANTHROPIC_KEY, OPENAI_KEY, Step, anthropic_config, chunk, closed_port, collect, openai_config, raw_server, sse_head,
};

fn request() -> ChatRequest {
    ChatRequest {
        model: "m".into(),
        messages: vec![ChatMessage::user("hi")],
        ..ChatRequest::default()
    }
}

fn ok_completion() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"message": {"content": "recovered"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1}
    }))
}

async fn requests_received(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn a_503_is_retried_and_the_retry_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": {"message": "busy"}})))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok_completion())
        .mount(&server)
        .await;

    let answer = OpenAiProvider::new(&openai_config(&server.uri()))
        .expect("provider")
        .complete(request())
        .await;

    assert_eq!(answer.expect("answer").text, "recovered");
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_byte() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let body = "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&server)
        .await;

    let provider = OpenAiProvider::new(&openai_config(&server.uri())).expect("provider");
    let collected = collect(provider.stream(request())).await;

    assert_eq!(collected.done.expect("done").text, "ok");
    assert_eq!(requests_received(&server).await, 2);
}

#[tokio::test]
async fn an_exhausted_429_is_an_upstream_error_with_the_provider_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "type": "error", "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded your rate limit"}
        })))
        .mount(&server)
        .await;

    let err = AnthropicProvider::new(&anthropic_config(&server.uri()))
        .expect("provider")
        .complete(request())
        .await
        .expect_err("fails");

    assert_eq!(
        err,
        LlmError::Upstream {
            status: Some(429),
            message: "Number of requests has exceeded your rate limit".into()
        }
    );
    assert_eq!(requests_received(&server).await, 3, "one attempt and two retries");
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let config = openai_config(&closed_port().await);

    let err = OpenAiProvider::new(&config)
        .expect("provider")
        .complete(request())
        .await
        .expect_err("fails");

    assert!(matches!(err, LlmError::Upstream { status: None, .. }), "{err:?}");
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok_completion().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let config = LlmConfig {
        request_timeout: Duration::from_millis(200),
        ..openai_config(&server.uri())
    };
    let provider = OpenAiProvider::new(&config).expect("provider");

    let started = Instant::now();
    let err = provider.complete(request()).await.expect_err("times out");
    assert_eq!(err, LlmError::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2), "timeouts are not retried");
    let mapped: kernel::Error = err.into();
    assert_eq!(mapped.status(), 504);

    let collected = collect(provider.stream(request())).await;
    assert_eq!(collected.error, Some(LlmError::Timeout));
    assert!(collected.done.is_none());
}

#[tokio::test]
async fn a_stream_that_stalls_between_chunks_times_out_without_a_retry() {
    let (base, connections) = raw_server(vec![
        sse_head(),
        chunk("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"),
        Step::Sleep(Duration::from_secs(5)),
    ])
    .await;
    let config = LlmConfig {
        request_timeout: Duration::from_millis(300),
        ..openai_config(&base)
    };

    let collected = collect(OpenAiProvider::new(&config).expect("provider").stream(request())).await;

    assert_eq!(collected.deltas, vec!["Hel"]);
    assert_eq!(collected.error, Some(LlmError::Timeout));
    assert!(collected.done.is_none());
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_cut_mid_stream_is_a_protocol_error_without_a_retry() {
    let (base, connections) = raw_server(vec![
        sse_head(),
        chunk("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\"}}\n\n"),
        chunk("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hal\"}}\n\n"),
        Step::Send(b"40\r\nevent: content_block_delta\ndata: {\"type\":\"con".to_vec()),
    ])
    .await;

    let collected = collect(
        AnthropicProvider::new(&anthropic_config(&base))
            .expect("provider")
            .stream(request()),
    )
    .await;

    assert_eq!(collected.deltas, vec!["Hal"]);
    assert!(collected.done.is_none());
    assert!(
        matches!(collected.error, Some(LlmError::Protocol(_))),
        "{:?}",
        collected.error
    );
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn keys_never_appear_in_errors() {
    let server = MockServer::start().await;
    let echoed = |key: &str| {
        ResponseTemplate::new(401)
            .set_body_json(json!({"error": {"message": format!("Incorrect API key provided: {key}")}}))
    };
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(echoed(OPENAI_KEY))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(echoed(ANTHROPIC_KEY))
        .mount(&server)
        .await;
    let config = LlmConfig {
        anthropic_base_url: Some(server.uri()),
        anthropic_api_key: Some(ANTHROPIC_KEY.into()),
        ..openai_config(&server.uri())
    };
    let registry = ProviderRegistry::from_config(&config).expect("registry");

    for name in ["openai", "anthropic"] {
        let provider = registry.get(name).expect("configured");
        let errors = [
            provider.complete(request()).await.expect_err("401"),
            collect(provider.stream(request())).await.error.expect("401"),
        ];
        for err in errors {
            assert!(matches!(err, LlmError::Upstream { status: Some(401), .. }), "{err:?}");
            let kernel_error: kernel::Error = err.clone().into();
            for text in [
                err.to_string(),
                format!("{err:?}"),
                kernel_error.to_string(),
                kernel_error.public_detail(),
            ] {
                assert!(
                    !text.contains(OPENAI_KEY) && !text.contains(ANTHROPIC_KEY),
                    "{name}: {text}"
                );
                assert!(text.contains("Incorrect API key provided"), "{name}: {text}");
            }
        }
    }
    assert!(!format!("{config:?}").contains(OPENAI_KEY));
    let openai = OpenAiProvider::new(&config).expect("provider");
    let anthropic = AnthropicProvider::new(&config).expect("provider");
    assert!(!format!("{openai:?}").contains(OPENAI_KEY));
    assert!(!format!("{anthropic:?}").contains(ANTHROPIC_KEY));
    assert!(!format!("{registry:?}").contains(OPENAI_KEY));
}

#[tokio::test]
async fn the_registry_hands_out_working_providers() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ok_completion())
        .mount(&server)
        .await;
    let registry = ProviderRegistry::from_config(&openai_config(&server.uri())).expect("registry");

    assert_eq!(registry.names(), vec!["echo", "openai"]);
    assert_eq!(registry.default_provider(), "openai");
    let provider = registry.get(registry.default_provider()).expect("default exists");
    assert_eq!(provider.name(), "openai");
    assert_eq!(provider.complete(request()).await.expect("answer").text, "recovered");
    assert_eq!(
        registry.get("nope").err(),
        Some(LlmError::UnknownProvider("nope".into()))
    );
}
