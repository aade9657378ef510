//! The offline `echo` provider.

use std::sync::Arc;
use std::time::Duration;

use llm::{ChatMessage, ChatRequest, EchoProvider, FinishReason, LlmConfig, Provider, ProviderRegistry, Usage};

use crate::common::collect;

fn request() -> ChatRequest {
    ChatRequest {
        model: String::new(),
        system_prompt: Some("be nice".into()),
        messages: vec![
            ChatMessage::user("first question"),
            ChatMessage::assistant("echo: first question"),
            ChatMessage::user("how are  you\ntoday?"),
        ],
        ..ChatRequest::default()
    }
}

#[tokio::test]
async fn complete_echoes_the_last_user_message_with_word_counts_as_usage() {
    let answer = EchoProvider::new().complete(request()).await.expect("echo never fails");

    assert_eq!(answer.text, "echo: how are  you\ntoday?");
    assert_eq!(answer.finish_reason, FinishReason::Stop);
    assert_eq!(answer.model, "echo-1");
    assert!(answer.tool_calls.is_empty());
    // prompt: "be nice" 2 + "first question" 2 + "echo: first question" 3 + 4 words = 11
    assert_eq!(
        answer.usage,
        Usage {
            prompt_tokens: 11,
            completion_tokens: 5
        }
    );
}

#[tokio::test]
async fn stream_deltas_concatenate_to_the_done_text_and_match_complete() {
    let provider: Arc<dyn Provider> = Arc::new(EchoProvider::new().with_word_delay(Duration::from_millis(1)));

    let collected = collect(provider.stream(request())).await;
    let complete = provider.complete(request()).await.expect("echo never fails");

    assert_eq!(collected.deltas, vec!["echo: ", "how ", "are  ", "you\n", "today?"]);
    let done = collected.done.expect("done");
    assert_eq!(collected.deltas.concat(), done.text);
    assert_eq!(done, complete);
    assert!(collected.error.is_none());
}

#[tokio::test]
async fn the_requested_model_is_reported_and_no_user_message_still_answers() {
    let req = ChatRequest {
        model: "echo-2".into(),
        ..ChatRequest::default()
    };

    let answer = EchoProvider::new().complete(req).await.expect("echo never fails");

    assert_eq!(answer.model, "echo-2");
    assert_eq!(answer.text, "echo: ");
    assert_eq!(
        answer.usage,
        Usage {
            prompt_tokens: 0,
            completion_tokens: 1
        }
    );
}

#[tokio::test]
async fn the_default_registry_serves_echo() {
    let registry = ProviderRegistry::from_config(&LlmConfig::default()).expect("registry");

    let provider = registry.get(registry.default_provider()).expect("echo");
    let answer = provider.complete(request()).await.expect("echo never fails");

    assert_eq!(provider.name(), "echo");
    assert!(answer.text.starts_with("echo: "));
}

/// `/call` lines, offline: the stream's `Done` carries the calls; fed their results, echo
/// reports them word by word, one line per result.
#[tokio::test]
async fn call_lines_stream_tool_calls_and_tool_results_stream_a_report() {
    let provider = EchoProvider::new();
    let mut history = vec![ChatMessage::user(
        "/call get_weather {\"city\": \"Oslo\"}\n/call get_time {\"zone\": \"CET\"}",
    )];
    let req = ChatRequest {
        messages: history.clone(),
        ..ChatRequest::default()
    };
    let collected = collect(provider.stream(req)).await;
    assert!(collected.deltas.is_empty(), "no text: {:?}", collected.deltas);
    let done = collected.done.expect("done");
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
    assert_eq!(done.text, "");
    let calls = done.tool_calls.clone();
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.name.as_str(), c.arguments.clone()))
            .collect::<Vec<_>>(),
        [
            ("get_weather", serde_json::json!({"city": "Oslo"})),
            ("get_time", serde_json::json!({"zone": "CET"}))
        ]
    );
    assert_ne!(calls[0].id, calls[1].id);

    history.push(ChatMessage {
        tool_calls: calls.clone(),
        ..ChatMessage::assistant("")
    });
    history.push(ChatMessage::tool_result(calls[0].id.clone(), "12°C"));
    history.push(ChatMessage::tool_result(calls[1].id.clone(), "10:00"));
    let req = ChatRequest {
        messages: history,
        ..ChatRequest::default()
    };
    let collected = collect(provider.stream(req)).await;
    let done = collected.done.expect("done");
    assert_eq!(
        done.text,
        "echo: get_weather returned 12°C\necho: get_time returned 10:00"
    );
    assert_eq!(collected.deltas.concat(), done.text);
    assert_eq!(collected.deltas[..4], ["echo: ", "get_weather ", "returned ", "12°C\n"]);
    assert!(done.tool_calls.is_empty());
    assert_eq!(done.finish_reason, FinishReason::Stop);
}
