//! The `openai` provider against a fake Chat Completions server.

use llm::{
    ChatMessage, ChatRequest, FinishReason, LlmError, OpenAiProvider, Provider, ToolCall, ToolDefinition, Usage,
};
use serde_json::{Value, json};
use wiremock::{MockServer, ResponseTemplate};

use crate::common::{OPENAI_KEY, collect, only_request, openai_config, openai_sse, server_answering_at};

fn weather_tool() -> ToolDefinition {
    ToolDefinition {
        name: "weather".into(),
        description: Some("Current weather of a city".into()),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "gpt-test".into(),
        system_prompt: Some("Be brief.".into()),
        messages: vec![
            ChatMessage::user("Hi"),
            ChatMessage::assistant("Hello!"),
            ChatMessage::user("Weather?"),
        ],
        temperature: Some(0.2),
        max_tokens: Some(64),
        tools: vec![weather_tool()],
    }
}

async fn server_answering(template: ResponseTemplate) -> MockServer {
    server_answering_at("/v1/chat/completions", template).await
}

fn provider(server: &MockServer) -> OpenAiProvider {
    OpenAiProvider::new(&openai_config(&server.uri())).expect("provider")
}

#[tokio::test]
async fn complete_sends_the_whole_request_and_reads_text_and_usage() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": "gpt-test-0613",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Sunny."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 21, "completion_tokens": 2, "total_tokens": 23}
    })))
    .await;

    let answer = provider(&server).complete(request()).await.expect("answer");

    assert_eq!(answer.text, "Sunny.");
    assert_eq!(answer.model, "gpt-test-0613");
    assert_eq!(answer.finish_reason, FinishReason::Stop);
    assert_eq!(
        answer.usage,
        Usage {
            prompt_tokens: 21,
            completion_tokens: 2
        }
    );
    assert!(answer.tool_calls.is_empty());

    let sent = only_request(&server).await;
    assert_eq!(
        sent.headers.get("authorization").and_then(|v| v.to_str().ok()),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert_eq!(
        sent.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let body: Value = sent.body_json().expect("json body");
    assert_eq!(
        body,
        json!({
            "model": "gpt-test",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Weather?"}
            ],
            "temperature": 0.2,
            "max_tokens": 64,
            "tools": [{"type": "function", "function": {
                "name": "weather",
                "description": "Current weather of a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}
            }}]
        })
    );
}

#[tokio::test]
async fn complete_reads_tool_calls_and_sends_tool_history_back() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(json!({
        "model": "gpt-test",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant",
            "content": null,
            "tool_calls": [{"id": "call_2", "type": "function",
                "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}}]
        }}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 9}
    })))
    .await;
    let earlier_call = ToolCall {
        id: "call_1".into(),
        name: "weather".into(),
        arguments: json!({"city": "Oslo"}),
    };
    let req = ChatRequest {
        model: "gpt-test".into(),
        messages: vec![
            ChatMessage::user("Oslo, then Rome?"),
            ChatMessage {
                tool_calls: vec![earlier_call],
                ..ChatMessage::assistant("")
            },
            ChatMessage::tool_result("call_1", "12°C"),
        ],
        tools: vec![weather_tool()],
        ..ChatRequest::default()
    };

    let answer = provider(&server).complete(req).await.expect("answer");

    assert_eq!(answer.finish_reason, FinishReason::ToolCalls);
    assert_eq!(answer.text, "");
    assert_eq!(
        answer.tool_calls,
        vec![ToolCall {
            id: "call_2".into(),
            name: "weather".into(),
            arguments: json!({"city": "Rome"})
        }]
    );
    let body: Value = only_request(&server).await.body_json().expect("json body");
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": "Oslo, then Rome?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}
            ]},
            {"role": "tool", "content": "12°C", "tool_call_id": "call_1"}
        ])
    );
    assert!(body.get("temperature").is_none() && body.get("max_tokens").is_none());
}

#[tokio::test]
async fn stream_yields_deltas_then_done_with_usage() {
    let body = openai_sse(&[
        json!({"model": "gpt-test", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": "Hel"}}]}),
        json!({"choices": [{"index": 0, "delta": {"content": "lo there"}}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}),
    ]);
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let collected = collect(provider(&server).stream(request())).await;

    assert!(collected.error.is_none(), "{:?}", collected.error);
    assert_eq!(collected.deltas, vec!["Hel", "lo there"]);
    let done = collected.done.expect("done");
    assert_eq!(done.text, "Hello there");
    assert_eq!(done.finish_reason, FinishReason::Length);
    assert_eq!(
        done.usage,
        Usage {
            prompt_tokens: 5,
            completion_tokens: 3
        }
    );
    assert_eq!(done.model, "gpt-test");
    assert_eq!(collected.trailing, 0);

    let sent: Value = only_request(&server).await.body_json().expect("json body");
    assert_eq!(sent["stream"], json!(true));
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    assert_eq!(sent["messages"][0], json!({"role": "system", "content": "Be brief."}));
}

#[tokio::test]
async fn stream_assembles_tool_call_argument_fragments() {
    let call = |index: u32, function: Value, id: Option<&str>| {
        let mut delta = json!({"index": index, "function": function});
        if let Some(id) = id {
            delta["id"] = json!(id);
            delta["type"] = json!("function");
        }
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [delta]}}]})
    };
    let body = openai_sse(&[
        call(0, json!({"name": "weather", "arguments": ""}), Some("call_a")),
        call(0, json!({"arguments": "{\"ci"}), None),
        call(1, json!({"name": "weather", "arguments": "{\"city\":"}), Some("call_b")),
        call(0, json!({"arguments": "ty\":\"Oslo\"}"}), None),
        call(1, json!({"arguments": "\"Rome\"}"}), None),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 30, "completion_tokens": 25}}),
    ]);
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let collected = collect(provider(&server).stream(request())).await;

    assert!(collected.deltas.is_empty());
    let done = collected.done.expect("done");
    assert_eq!(done.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        done.usage,
        Usage {
            prompt_tokens: 30,
            completion_tokens: 25
        }
    );
    assert_eq!(
        done.tool_calls,
        vec![
            ToolCall {
                id: "call_a".into(),
                name: "weather".into(),
                arguments: json!({"city": "Oslo"})
            },
            ToolCall {
                id: "call_b".into(),
                name: "weather".into(),
                arguments: json!({"city": "Rome"})
            },
        ]
    );
}

#[tokio::test]
async fn a_stream_ending_before_done_is_a_protocol_error() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hal\"}}]}\n\n";
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let collected = collect(provider(&server).stream(request())).await;

    assert_eq!(collected.deltas, vec!["Hal"]);
    assert!(collected.done.is_none());
    assert!(
        matches!(collected.error, Some(LlmError::Protocol(_))),
        "{:?}",
        collected.error
    );
}

#[tokio::test]
async fn a_malformed_chunk_is_a_protocol_error() {
    let body =
        "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: {\"choices\": [oops\n\ndata: [DONE]\n\n";
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let collected = collect(provider(&server).stream(request())).await;

    assert_eq!(collected.deltas, vec!["ok"]);
    assert!(collected.done.is_none());
    assert!(
        matches!(collected.error, Some(LlmError::Protocol(_))),
        "{:?}",
        collected.error
    );
    assert_eq!(collected.trailing, 0);
}

#[tokio::test]
async fn a_client_error_carries_the_provider_message_and_is_not_retried() {
    let server = server_answering(ResponseTemplate::new(400).set_body_json(json!({
        "error": {"message": "model `nope` does not exist", "type": "invalid_request_error"}
    })))
    .await;

    let err = provider(&server).complete(request()).await.expect_err("fails");

    assert_eq!(
        err,
        LlmError::Upstream {
            status: Some(400),
            message: "model `nope` does not exist".into()
        }
    );
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
    let mapped: kernel::Error = err.into();
    assert_eq!(mapped.status(), 502);
    assert!(mapped.to_string().contains("model `nope` does not exist"));
}

#[tokio::test]
async fn a_local_server_needs_no_key() {
    let server = server_answering(ResponseTemplate::new(200).set_body_json(json!({
        "choices": [{"message": {"content": "hi"}, "finish_reason": "stop"}]
    })))
    .await;
    let config = llm::LlmConfig {
        openai_api_key: None,
        ..openai_config(&server.uri())
    };

    let answer = OpenAiProvider::new(&config)
        .expect("provider")
        .complete(request())
        .await
        .expect("answer");

    assert_eq!(answer.text, "hi");
    assert_eq!(answer.model, "gpt-test", "falls back to the requested model");
    assert_eq!(answer.usage, Usage::default());
    assert!(only_request(&server).await.headers.get("authorization").is_none());
}

/// An empty answer with no tool call is an upstream failure, never an empty message.
#[tokio::test]
async fn an_answer_without_content_or_tool_calls_is_a_protocol_error() {
    for answer in [
        json!({"choices": [{"message": {"role": "assistant"}, "finish_reason": "stop"}]}),
        json!({"choices": [{"message": {"role": "assistant", "content": ""}, "finish_reason": "stop"}]}),
        json!({"choices": []}),
    ] {
        let server = server_answering(ResponseTemplate::new(200).set_body_json(answer.clone())).await;
        let err = provider(&server).complete(request()).await.unwrap_err();
        assert!(matches!(err, LlmError::Protocol(_)), "{answer}: {err:?}");
        assert_eq!(kernel::Error::from(err).status(), 502);
    }
}

#[tokio::test]
async fn a_stream_without_content_or_tool_calls_is_a_protocol_error() {
    let body = openai_sse(&[
        json!({"model": "gpt-test", "choices": [{"index": 0, "delta": {"role": "assistant"}}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ]);
    let server = server_answering(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")).await;

    let collected = collect(provider(&server).stream(request())).await;

    assert!(collected.done.is_none(), "{:?}", collected.done);
    assert!(
        matches!(collected.error, Some(LlmError::Protocol(_))),
        "{:?}",
        collected.error
    );
}
