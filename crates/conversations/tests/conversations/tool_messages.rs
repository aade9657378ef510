//! Tool calls in the message log: an assistant message's `tool_calls` and a tool message's
//! `tool_call_id` are stored, read back as messages and rebuilt into the model's history,
//! whose window never opens on orphaned tool results.

use crate::common::{body, services, user};
use conversations::NewMessage;
use conversations::schemas::{MessageRole, MessageToolCall};
use kernel::PageParams;
use llm::{Role, ToolCall};
use serde_json::json;

fn call(id: &str, name: &str, arguments: serde_json::Value) -> ToolCall {
    ToolCall {
        id: id.into(),
        name: name.into(),
        arguments,
    }
}

#[tokio::test]
async fn tool_calls_and_results_round_trip_through_messages_and_history() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let conversation = s.conversations.create(alice, body(json!({}))).await.unwrap();
    let calls = vec![
        call("call_1", "get_weather", json!({"city": "Paris"})),
        call("call_2", "get_time", json!({"zone": "CET"})),
    ];
    let usage = llm::Usage {
        prompt_tokens: 7,
        completion_tokens: 2,
    };
    let log = [
        NewMessage::user("weather and time?"),
        NewMessage::assistant_calls("Let me look.", calls.clone(), Some("echo-1".into()), Some(usage)),
        NewMessage::tool_result("call_1".into(), "sunny".into()),
        NewMessage::tool_result("call_2".into(), "10:00".into()),
        NewMessage::assistant_calls("Sunny, 10:00.", Vec::new(), Some("echo-1".into()), None),
    ];
    let mut stored = Vec::new();
    for message in log {
        stored.push(
            s.conversations
                .append_message(alice, conversation.id, message)
                .await
                .unwrap(),
        );
    }
    assert_eq!(stored[1].role, MessageRole::Assistant);
    assert_eq!(
        stored[1].tool_calls,
        Some(vec![
            MessageToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
            },
            MessageToolCall {
                id: "call_2".into(),
                name: "get_time".into(),
                arguments: json!({"zone": "CET"}),
            },
        ])
    );
    assert_eq!(stored[1].usage, Some(usage));
    assert_eq!(stored[2].role, MessageRole::Tool);
    assert_eq!(stored[2].tool_call_id.as_deref(), Some("call_1"));

    // What GET /conversations/{id}/messages serves, as JSON.
    let page = PageParams::parse(None, None).unwrap().oldest_first();
    let read = s.conversations.messages(alice, conversation.id, &page).await.unwrap();
    assert_eq!(read.items, stored, "a read gives back what was stored");
    let wire: Vec<_> = read.items.iter().map(|m| serde_json::to_value(m).unwrap()).collect();
    assert_eq!(wire[0]["tool_calls"], json!(null));
    assert_eq!(wire[0]["tool_call_id"], json!(null));
    assert_eq!(
        wire[1]["tool_calls"],
        json!([
            {"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}},
            {"id": "call_2", "name": "get_time", "arguments": {"zone": "CET"}},
        ])
    );
    assert_eq!(wire[3]["tool_call_id"], json!("call_2"));
    assert_eq!(wire[4]["tool_calls"], json!(null), "no calls is null, not []");

    let history = s.conversations.recent(conversation.id, 20).await.unwrap();
    assert_eq!(history.len(), 5);
    assert_eq!(history[1].role, Role::Assistant);
    assert_eq!(history[1].content, "Let me look.");
    assert_eq!(history[1].tool_calls, calls);
    assert_eq!(history[2], llm::ChatMessage::tool_result("call_1", "sunny"));
    assert_eq!(history[3], llm::ChatMessage::tool_result("call_2", "10:00"));
    assert_eq!(history[4], llm::ChatMessage::assistant("Sunny, 10:00."));
}

#[tokio::test]
async fn the_history_window_never_opens_on_tool_results() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let conversation = s.conversations.create(alice, body(json!({}))).await.unwrap();
    let log = [
        NewMessage::user("go"),
        NewMessage::assistant_calls(
            "",
            vec![call("a", "f", json!({})), call("b", "g", json!({}))],
            None,
            None,
        ),
        NewMessage::tool_result("a".into(), "1".into()),
        NewMessage::tool_result("b".into(), "2".into()),
        NewMessage::assistant_calls("done", Vec::new(), None, None),
        NewMessage::user("again"),
    ];
    for message in log {
        s.conversations
            .append_message(alice, conversation.id, message)
            .await
            .unwrap();
    }
    // The last four begin with the second tool result, whose call is outside the window.
    let history = s.conversations.history(alice, conversation.id, 4).await.unwrap();
    let roles: Vec<_> = history.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Assistant, Role::User]);
    // Five begin at the assistant message that made the calls: all kept.
    let history = s.conversations.history(alice, conversation.id, 5).await.unwrap();
    assert_eq!(history.len(), 5);
    assert_eq!(history[0].tool_calls.len(), 2);
    assert_eq!(history[0].content, "");
}

#[tokio::test]
async fn arguments_that_are_not_an_object_reach_the_model_unchanged_and_read_as_an_empty_object() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let conversation = s.conversations.create(alice, body(json!({}))).await.unwrap();
    let broken = call("c", "f", json!("{oops"));
    let stored = s
        .conversations
        .append_message(
            alice,
            conversation.id,
            NewMessage::assistant_calls("", vec![broken.clone()], None, None),
        )
        .await
        .unwrap();
    assert_eq!(stored.tool_calls.unwrap()[0].arguments, json!({}));
    let history = s.conversations.recent(conversation.id, 20).await.unwrap();
    assert_eq!(history[0].tool_calls, vec![broken]);
}
