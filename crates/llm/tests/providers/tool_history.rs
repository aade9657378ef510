//! A history holding tool calls, as each wire format must carry it: an assistant turn with
//! text and two tool calls, then the two results. OpenAI Chat Completions: `tool_calls`
//! with arguments as JSON text, then one `role: tool` message per result; Anthropic:
//! `tool_use` blocks after the text, then ONE user turn holding both `tool_result` blocks.

use llm::{AnthropicProvider, ChatMessage, ChatRequest, OpenAiProvider, Provider, ToolCall, ToolDefinition};
use serde_json::{Value, json};
use wiremock::ResponseTemplate;

use crate::common::{
    anthropic_config, anthropic_sse, collect, only_request, openai_config, openai_sse, server_answering_at,
};

fn request(model: &str) -> ChatRequest {
    let calls = vec![
        ToolCall {
            id: "call_a".into(),
            name: "weather".into(),
            arguments: json!({"city": "Oslo"}),
        },
        ToolCall {
            id: "call_b".into(),
            name: "time".into(),
            arguments: json!({"zone": "CET"}),
        },
    ];
    ChatRequest {
        model: model.into(),
        system_prompt: Some("Be brief.".into()),
        messages: vec![
            ChatMessage::user("Weather and time in Oslo?"),
            ChatMessage {
                tool_calls: calls,
                ..ChatMessage::assistant("Let me check both.")
            },
            ChatMessage::tool_result("call_a", "12°C"),
            ChatMessage::tool_result("call_b", "10:00"),
        ],
        temperature: None,
        max_tokens: Some(100),
        tools: vec![
            ToolDefinition {
                name: "weather".into(),
                description: Some("Weather of a city".into()),
                parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
            },
            ToolDefinition {
                name: "time".into(),
                description: None,
                parameters: json!({"type": "object"}),
            },
        ],
    }
}

fn openai_expected(stream: bool) -> Value {
    let mut body = json!({
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather and time in Oslo?"},
            {"role": "assistant", "content": "Let me check both.", "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "time", "arguments": "{\"zone\":\"CET\"}"}}
            ]},
            {"role": "tool", "content": "12°C", "tool_call_id": "call_a"},
            {"role": "tool", "content": "10:00", "tool_call_id": "call_b"}
        ],
        "max_tokens": 100,
        "tools": [
            {"type": "function", "function": {"name": "weather", "description": "Weather of a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "time", "parameters": {"type": "object"}}}
        ]
    });
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": true});
    }
    body
}

fn anthropic_expected(stream: bool) -> Value {
    let mut body = json!({
        "model": "claude-test",
        "max_tokens": 100,
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather and time in Oslo?"}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Let me check both."},
                {"type": "tool_use", "id": "call_a", "name": "weather", "input": {"city": "Oslo"}},
                {"type": "tool_use", "id": "call_b", "name": "time", "input": {"zone": "CET"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_a", "content": "12°C"},
                {"type": "tool_result", "tool_use_id": "call_b", "content": "10:00"}
            ]}
        ],
        "tools": [
            {"name": "weather", "description": "Weather of a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"name": "time", "input_schema": {"type": "object"}}
        ]
    });
    if stream {
        body["stream"] = json!(true);
    }
    body
}

#[tokio::test]
async fn openai_receives_tool_calls_as_json_text_and_one_tool_message_per_result() {
    let server = server_answering_at(
        "/v1/chat/completions",
        ResponseTemplate::new(200).set_body_json(json!({
            "model": "gpt-test",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Sunny, 10:00."}}],
            "usage": {"prompt_tokens": 60, "completion_tokens": 4}
        })),
    )
    .await;
    let provider = OpenAiProvider::new(&openai_config(&server.uri())).expect("provider");
    let answer = provider.complete(request("gpt-test")).await.expect("answer");
    assert_eq!(answer.text, "Sunny, 10:00.");
    let body: Value = only_request(&server).await.body_json().expect("json body");
    assert_eq!(body, openai_expected(false));
}

#[tokio::test]
async fn openai_streams_from_the_same_history() {
    let sse = openai_sse(&[
        json!({"model": "gpt-test", "choices": [{"index": 0, "delta": {"content": "Sunny."}}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 60, "completion_tokens": 2}}),
    ]);
    let server = server_answering_at(
        "/v1/chat/completions",
        ResponseTemplate::new(200).set_body_raw(sse, "text/event-stream"),
    )
    .await;
    let provider = OpenAiProvider::new(&openai_config(&server.uri())).expect("provider");
    let collected = collect(provider.stream(request("gpt-test"))).await;
    assert_eq!(collected.done.expect("done").text, "Sunny.");
    let body: Value = only_request(&server).await.body_json().expect("json body");
    assert_eq!(body, openai_expected(true));
}

#[tokio::test]
async fn anthropic_receives_tool_use_blocks_and_the_results_in_one_user_turn() {
    let server = server_answering_at(
        "/v1/messages",
        ResponseTemplate::new(200).set_body_json(json!({
            "model": "claude-test",
            "content": [{"type": "text", "text": "Sunny, 10:00."}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 60, "output_tokens": 4}
        })),
    )
    .await;
    let provider = AnthropicProvider::new(&anthropic_config(&server.uri())).expect("provider");
    let answer = provider.complete(request("claude-test")).await.expect("answer");
    assert_eq!(answer.text, "Sunny, 10:00.");
    let body: Value = only_request(&server).await.body_json().expect("json body");
    assert_eq!(body, anthropic_expected(false));
}

#[tokio::test]
async fn anthropic_streams_from_the_same_history() {
    let sse = anthropic_sse(&[
        json!({"type": "message_start", "message": {"model": "claude-test", "usage": {"input_tokens": 60, "output_tokens": 0}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Sunny."}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        json!({"type": "message_stop"}),
    ]);
    let server = server_answering_at(
        "/v1/messages",
        ResponseTemplate::new(200).set_body_raw(sse, "text/event-stream"),
    )
    .await;
    let provider = AnthropicProvider::new(&anthropic_config(&server.uri())).expect("provider");
    let collected = collect(provider.stream(request("claude-test"))).await;
    assert_eq!(collected.done.expect("done").text, "Sunny.");
    let body: Value = only_request(&server).await.body_json().expect("json body");
    assert_eq!(body, anthropic_expected(true));
}
