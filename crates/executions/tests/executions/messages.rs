//! Messages as a library call: `ExecutionService::send` starts the run that stores the user
//! message and writes the reply, `reply` waits for it; bad targets are refused before
//! anything is stored.

use conversations::ConversationService;
use conversations::schemas::{ConversationCreate, IfBusy};
use executions::schemas::Event;
use executions::{ExecutionError, MessageTarget, Reply};
use kernel::PageParams;
use llm::Role;
use serde_json::json;
use uuid::Uuid;

use crate::common::{config, harness, user};

fn new_conversation(agent_id: Option<Uuid>) -> ConversationCreate {
    testkit::body(json!({ "agent_id": agent_id }))
}

async fn history(conversations: &ConversationService, id: Uuid) -> Vec<(Role, String)> {
    conversations
        .recent(id, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.role, m.content))
        .collect()
}

#[tokio::test]
async fn a_message_is_answered_by_a_run_that_stores_both_messages_with_its_id() {
    let h = harness(vec![], config()).await;
    let alice = user(&h.db, "alice").await;
    let agent = h.agent(alice, json!({"name": "helper", "model": "echo-1"})).await;
    let target = MessageTarget::Chat {
        conversation_id: None,
        agent_id: Some(agent),
    };
    let run = h
        .executions
        .send(alice, target, "hello there".into(), IfBusy::Enqueue)
        .await
        .unwrap();
    let Reply::Message(reply) = h.executions.reply(alice, run.id).await.unwrap() else {
        panic!("a plain message is answered with a message");
    };
    assert_eq!(reply.content, "echo: hello there");
    assert_eq!(reply.execution_id, Some(run.id));
    let conversation = h.conversations.get(alice, reply.conversation_id).await.unwrap();
    assert_eq!(conversation.title.as_deref(), Some("hello there"));
    assert_eq!(conversation.message_count, 2);
    assert_eq!(
        history(&h.conversations, conversation.id).await,
        [
            (Role::User, "hello there".into()),
            (Role::Assistant, "echo: hello there".into())
        ]
    );
    h.finished(alice, run.id).await;
    let events = h.events(alice, run.id).await;
    let Event::MessageCreated(created) = &events[1].event else {
        panic!("message.created follows execution.started: {events:?}");
    };
    assert_eq!(
        (created.content.as_str(), created.execution_id),
        ("hello there", Some(run.id))
    );
    assert_eq!(events[events.len() - 2].event, Event::MessageCompleted(reply));

    // Without an agent, the default provider and model answer, through a run with no agent.
    let plain = MessageTarget::Chat {
        conversation_id: None,
        agent_id: None,
    };
    let run = h
        .executions
        .send(alice, plain, "hi".into(), IfBusy::Enqueue)
        .await
        .unwrap();
    assert_eq!(run.agent_id, None);
    let Reply::Message(reply) = h.executions.reply(alice, run.id).await.unwrap() else {
        panic!("a plain message is answered with a message");
    };
    assert_eq!(reply.model.as_deref(), Some("echo-1"));
}

#[tokio::test]
async fn bad_targets_are_refused_before_anything_is_stored() {
    let h = harness(vec![], config()).await;
    let alice = user(&h.db, "alice").await;
    let bob = user(&h.db, "bob").await;
    let mine = h.agent(alice, json!({"name": "mine", "model": "echo-1"})).await;
    let other = h.agent(alice, json!({"name": "other", "model": "echo-1"})).await;
    let bobs = h.agent(bob, json!({"name": "bobs", "model": "echo-1"})).await;
    let bobs_conversation = h.conversations.create(bob, new_conversation(None)).await.unwrap();
    let conversation = h
        .conversations
        .create(alice, new_conversation(Some(mine)))
        .await
        .unwrap();

    let chat = |conversation_id, agent_id| MessageTarget::Chat {
        conversation_id,
        agent_id,
    };
    let cases = [
        (chat(Some(bobs_conversation.id), None), "conversation_id"),
        (chat(Some(Uuid::now_v7()), None), "conversation_id"),
        (chat(None, Some(bobs)), "agent_id"),
        (chat(None, Some(Uuid::now_v7())), "agent_id"),
        (chat(Some(conversation.id), Some(other)), "agent_id"),
    ];
    for (target, field) in cases {
        let sent = h.executions.send(alice, target, "x".into(), IfBusy::Enqueue).await;
        assert_eq!(testkit::invalid_fields(sent), [field]);
    }
    let theirs = MessageTarget::Conversation(bobs_conversation.id);
    let sent = h.executions.send(alice, theirs, "x".into(), IfBusy::Enqueue).await;
    assert!(matches!(sent, Err(ExecutionError::ConversationNotFound)), "{sent:?}");

    // A deleted agent's conversation gets no reply; naming that agent is a bad field.
    h.agents.delete(alice, mine).await.unwrap();
    let sent = h
        .executions
        .send(
            alice,
            MessageTarget::Conversation(conversation.id),
            "x".into(),
            IfBusy::Enqueue,
        )
        .await;
    assert!(matches!(sent, Err(ExecutionError::AgentGone)), "{sent:?}");
    let named = chat(Some(conversation.id), Some(mine));
    let sent = h.executions.send(alice, named, "x".into(), IfBusy::Enqueue).await;
    assert_eq!(testkit::invalid_fields(sent), ["agent_id"]);

    let page = PageParams::parse(None, None).unwrap();
    assert_eq!(h.conversations.list(alice, None, &page).await.unwrap().total, 1);
    assert!(history(&h.conversations, conversation.id).await.is_empty());
    let runs = h.executions.list(alice, Default::default(), &page).await.unwrap();
    assert_eq!(runs.total, 0, "no run was created");
}
