//! A fake LLM provider over real HTTP (wiremock) for the tests that check what reaches a
//! provider and what comes back from it.

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fake provider answering `route` with `stream` when the request asks to stream, or
/// with `whole` JSON otherwise.
pub async fn fake_provider(route: &str, whole: Value, stream: String) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(ResponseTemplate::new(200).set_body_raw(stream, "text/event-stream"))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(whole))
        .mount(&server)
        .await;
    server
}

/// An OpenAI Chat Completions stream of `chunks`: a `data:` line each, then `data: [DONE]`.
pub fn openai_stream(chunks: &[Value]) -> String {
    chunks
        .iter()
        .map(|chunk| format!("data: {chunk}\n\n"))
        .chain(["data: [DONE]\n\n".to_owned()])
        .collect()
}

/// The streamed OpenAI answer "Yo ho" from model `test-model-1-0613`, 20 prompt and 2
/// completion tokens.
pub fn yo_ho_stream() -> String {
    openai_stream(&[
        json!({"model": "test-model-1-0613", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": "Yo "}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": "ho"}, "finish_reason": "stop"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22}}),
    ])
}
