//! The `anthropic` provider against a fake Messages API server.

use llm::{
    AnthropicProvider, ChatMessage, ChatRequest, FinishReason, LlmError, Provider, ToolCall, ToolDefinition, Usage,
};
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

use crate::common::{ANTHROPIC_KEY, anthropic_config, anthropic_sse, collect, only_request, server_answering_at};

fn lookup_tool() -> ToolDefinition {
    ToolDefinition {
        name: "lookup".into(),
        description: None,
        parameters: json!({"type": "object", "properties": {"q": {"type": "string"}}}),
    }
}

async fn server_answering(template: ResponseTemplate) -> MockServer {
    server_answering_at("/v1/messages", template).await
}

fn provider(server: &MockServer) -> AnthropicProvider {
    AnthropicProvider::new(&anthropic_config(&server.uri())).expect("provider")
}

#[tokio::test]
async fn complete_sends_headers_system_history_and_default_max_tokens() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test-20250101",
        "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 30, "output_tokens": 4, "cache_read_input_tokens": 10}
    })))
    .await;
    let req = ChatRequest {
        model: "claude-test".into(),
        system_prompt: Some("You are terse.".into()),
        messages: vec![
            ChatMessage::system("Answer in English."),
            ChatMessage::user("Hello"),
            ChatMessage::assistant("Hi."),
            ChatMessage::user("Again"),
        ],
        temperature: Some(0.5),
        max_tokens: None,
        tools: vec![lookup_tool()],
    };

    let answer = provider(&server).complete(req).await.expect("answer");

    assert_eq!(answer.text, "Hi there");
    assert_eq!(answer.model, "claude-test-20250101");
    assert_eq!(answer.finish_reason, FinishReason::Stop);
    assert_eq!(
        answer.usage,
        Usage {
            prompt_tokens: 40,
            completion_tokens: 4
        }
    );

    let sent = only_request(&server).await;
    let header = |name: &str| sent.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(header("x-api-key").as_deref(), Some(ANTHROPIC_KEY));
    assert_eq!(header("anthropic-version").as_deref(), Some("2023-06-01"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("authorization"), None);
    let body: Value = sent.body_json().expect("json body");
    assert_eq!(
        body,
        json!({
            "model": "claude-test",
            "max_tokens": 1024,
            "system": "You are terse.\n\nAnswer in English.",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "Hello"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "Hi."}]},
                {"role": "user", "content": [{"type": "text", "text": "Again"}]}
            ],
            "temperature": 0.5,
            "tools": [{"name": "lookup", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]
        })
    );
}

#[tokio::test]
async fn complete_reads_tool_use_and_sends_tool_results_as_user_turns() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(json!({
        "model": "claude-test",
        "content": [
            {"type": "text", "text": "Looking it up."},
            {"type": "tool_use", "id": "toolu_2", "name": "lookup", "input": {"q": "rust"}}
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 50, "output_tokens": 12}
    })))
    .await;
    let earlier = ToolCall {
        id: "toolu_1".into(),
        name: "lookup".into(),
        arguments: json!({"q": "ferris"}),
    };
    let req = ChatRequest {
        model: "claude-test".into(),
        messages: vec![
            ChatMessage::user("Who is ferris?"),
            ChatMessage {
                tool_calls: vec![earlier],
                ..ChatMessage::assistant("")
            },
            ChatMessage::tool_result("toolu_1", "a crab"),
            ChatMessage::user("And rust?"),
        ],
        max_tokens: Some(256),
        tools: vec![lookup_tool()],
        ..ChatRequest::default()
    };

    let answer = provider(&server).complete(req).await.expect("answer");

    assert_eq!(answer.text, "Looking it up.");
    assert_eq!(answer.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        answer.tool_calls,
        vec![ToolCall {
            id: "toolu_2".into(),
            name: "lookup".into(),
            arguments: json!({"q": "rust"})
        }]
    );
    let body: Value = only_request(&server).await.body_json().expect("json body");
    assert_eq!(body["max_tokens"], json!(256));
    assert!(body.get("system").is_none());
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "Who is ferris?"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "ferris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a crab"},
                {"type": "text", "text": "And rust?"}
            ]}
        ])
    );
}

#[tokio::test]
async fn stream_yields_text_deltas_and_assembles_tool_use_and_usage() {
    let body = anthropic_sse(&[
        json!({"type": "message_start", "message": {"id": "msg_1", "model": "claude-test",
            "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me "}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "look."}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "tool_use", "id": "toolu_9", "name": "lookup", "input": {}}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": ""}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"q\": \"cra"}}),
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "bs\"}"}}),
        json!({"type": "content_block_stop", "index": 1}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
            "usage": {"output_tokens": 31}}),
        json!({"type": "message_stop"}),
    ]);
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;
    let req = ChatRequest {
        model: "claude-test".into(),
        messages: vec![ChatMessage::user("crabs?")],
        ..ChatRequest::default()
    };

    let collected = collect(provider(&server).stream(req)).await;

    assert!(collected.error.is_none(), "{:?}", collected.error);
    assert_eq!(collected.deltas, vec!["Let me ", "look."]);
    let done = collected.done.expect("done");
    assert_eq!(done.text, "Let me look.");
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        done.usage,
        Usage {
            prompt_tokens: 25,
            completion_tokens: 31
        }
    );
    assert_eq!(
        done.tool_calls,
        vec![ToolCall {
            id: "toolu_9".into(),
            name: "lookup".into(),
            arguments: json!({"q": "crabs"})
        }]
    );
    let sent: Value = only_request(&server).await.body_json().expect("json body");
    assert_eq!(sent["stream"], json!(true));
}

#[tokio::test]
async fn a_stream_ending_before_message_stop_is_a_protocol_error() {
    let body = anthropic_sse(&[
        json!({"type": "message_start", "message": {"model": "claude-test", "usage": {"input_tokens": 3}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hal"}}),
    ]);
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;
    let req = ChatRequest {
        model: "claude-test".into(),
        messages: vec![ChatMessage::user("hi")],
        ..ChatRequest::default()
    };

    let collected = collect(provider(&server).stream(req)).await;

    assert_eq!(collected.deltas, vec!["Hal"]);
    assert!(collected.done.is_none());
    assert!(
        matches!(collected.error, Some(LlmError::Protocol(_))),
        "{:?}",
        collected.error
    );
}

#[tokio::test]
async fn an_error_event_mid_stream_is_an_upstream_error() {
    let body = anthropic_sse(&[
        json!({"type": "message_start", "message": {"model": "claude-test", "usage": {"input_tokens": 3}}}),
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    ]);
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;
    let req = ChatRequest {
        model: "claude-test".into(),
        messages: vec![ChatMessage::user("hi")],
        ..ChatRequest::default()
    };

    let collected = collect(provider(&server).stream(req)).await;

    assert!(collected.done.is_none());
    assert_eq!(
        collected.error,
        Some(LlmError::Upstream {
            status: None,
            message: "Overloaded".into()
        })
    );
    assert_eq!(collected.trailing, 0);
}

#[tokio::test]
async fn a_configured_version_reaches_the_provider() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(json!({
        "content": [{"type": "text", "text": "ok"}], "stop_reason": "max_tokens", "usage": {"input_tokens": 1, "output_tokens": 1}
    })))
    .await;
    let config = llm::LlmConfig {
        anthropic_version: "2099-01-01".into(),
        ..anthropic_config(&server.uri())
    };
    let req = ChatRequest {
        model: "claude-test".into(),
        messages: vec![ChatMessage::user("hi")],
        ..ChatRequest::default()
    };

    let answer = AnthropicProvider::new(&config)
        .expect("provider")
        .complete(req)
        .await
        .expect("answer");

    assert_eq!(answer.finish_reason, FinishReason::Length);
    let sent = only_request(&server).await;
    assert_eq!(
        sent.headers.get("anthropic-version").and_then(|v| v.to_str().ok()),
        Some("2099-01-01")
    );
}

/// An empty answer with no tool call is an upstream failure, never an empty message.
#[tokio::test]
async fn an_answer_with_empty_content_is_a_protocol_error() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": [], "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 0}
    })))
    .await;
    let req = ChatRequest {
        model: "claude-test".into(),
        messages: vec![ChatMessage::user("hi")],
        ..ChatRequest::default()
    };

    let err = provider(&server).complete(req).await.unwrap_err();

    assert!(matches!(err, LlmError::Protocol(_)), "{err:?}");
    assert_eq!(kernel::Error::from(err).status(), 502);
}

#[tokio::test]
async fn a_stream_with_no_content_block_is_a_protocol_error() {
    let body = anthropic_sse(&[
        json!({"type": "message_start", "message": {"model": "claude-test", "usage": {"input_tokens": 3}}}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 0}}),
        json!({"type": "message_stop"}),
    ]);
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;
    let req = ChatRequest {
        model: "claude-test".into(),
        messages: vec![ChatMessage::user("hi")],
        ..ChatRequest::default()
    };

    let collected = collect(provider(&server).stream(req)).await;

    assert!(collected.done.is_none(), "{:?}", collected.done);
    assert!(
        matches!(collected.error, Some(LlmError::Protocol(_))),
        "{:?}",
        collected.error
    );
}
