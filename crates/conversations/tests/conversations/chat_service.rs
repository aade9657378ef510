//! `ChatService`: replies from the agent's settings, whole or streamed, failures and cancellation.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{ScriptedProvider, agent, body, invalid_fields, services, user};
use conversations::ConversationError as Error;
use conversations::entities::message;
use conversations::schemas::MessageRole;
use conversations::{ChatEvent, ChatTarget, NewMessage};
use futures_util::StreamExt;
use llm::{EchoProvider, LlmError, Provider};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

/// The stored roles and texts of a conversation, oldest first.
async fn stored(db: &DatabaseConnection, conversation_id: Uuid) -> Vec<(String, String)> {
    message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .order_by_asc(message::Column::CreatedAt)
        .order_by_asc(message::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (llm::Role::from(m.role).to_string(), m.content))
        .collect()
}

#[tokio::test]
async fn a_reply_is_stored_after_the_users_message() {
    let s = services(vec![], 20).await;
    let alice = user(&s.db, "alice").await;
    let target = ChatTarget::Chat {
        conversation_id: None,
        agent_id: None,
    };
    let reply = s
        .chat
        .reply(
            alice,
            target,
            "  Hello there, how are you doing on this fine day today?".into(),
        )
        .await
        .unwrap();
    assert_eq!(reply.role, MessageRole::Assistant);
    assert_eq!(
        reply.content,
        "echo:   Hello there, how are you doing on this fine day today?"
    );
    assert_eq!(reply.model.as_deref(), Some("echo-1"));
    assert!(reply.usage.unwrap().completion_tokens > 0);

    let conversation = s.conversations.get(alice, reply.conversation_id).await.unwrap();
    assert_eq!(conversation.message_count, 2);
    assert_eq!(
        conversation.title.as_deref(),
        Some("Hello there, how are you doing on this fine day to")
    );
    let texts = stored(&s.db, reply.conversation_id).await;
    assert_eq!(texts[0].0, "user");
    assert_eq!(texts[1], ("assistant".into(), reply.content.clone()));

    let again = s
        .chat
        .reply(alice, ChatTarget::Conversation(conversation.id), "second".into())
        .await
        .unwrap();
    assert_eq!(again.content, "echo: second");
    assert_eq!(stored(&s.db, conversation.id).await.len(), 4);
}

#[tokio::test]
async fn the_agents_settings_and_the_last_messages_reach_the_provider() {
    let scripted = ScriptedProvider::echoing(Duration::from_millis(1));
    let s = services(vec![("scripted", scripted.clone() as Arc<dyn Provider>)], 3).await;
    let alice = user(&s.db, "alice").await;
    let poet = agent(
        &s,
        alice,
        json!({"name": "poet", "provider": "scripted", "model": "verse-2", "system_prompt": "Rhyme.",
               "temperature": 1.25, "max_tokens": 77}),
    )
    .await;
    let conversation = s
        .conversations
        .create(alice, body(json!({"agent_id": poet})))
        .await
        .unwrap();
    for text in ["one", "two"] {
        s.chat
            .reply(alice, ChatTarget::Conversation(conversation.id), text.into())
            .await
            .unwrap();
    }
    let requests = scripted.requests();
    assert_eq!(requests.len(), 2);
    let last = &requests[1];
    assert_eq!(last.model, "verse-2");
    assert_eq!(last.system_prompt.as_deref(), Some("Rhyme."));
    assert_eq!(last.temperature, Some(1.25));
    assert_eq!(last.max_tokens, Some(77));
    let history: Vec<_> = last.messages.iter().map(|m| (m.role, m.content.as_str())).collect();
    assert_eq!(
        history,
        [
            (llm::Role::User, "one"),
            (llm::Role::Assistant, "echo: one"),
            (llm::Role::User, "two"),
        ],
        "the last three messages, oldest first, ending with the new one"
    );
}

#[tokio::test]
async fn without_an_agent_the_default_provider_and_model_answer() {
    let s = services(vec![], 20).await;
    let alice = user(&s.db, "alice").await;
    let conversation = s.conversations.create(alice, body(json!({}))).await.unwrap();
    let reply = s
        .chat
        .reply(alice, ChatTarget::Conversation(conversation.id), "hi".into())
        .await
        .unwrap();
    assert_eq!(reply.model.as_deref(), Some("echo-1"));
}

#[tokio::test]
async fn a_provider_failure_keeps_the_users_message_only() {
    for (failure, status) in [
        (
            LlmError::Upstream {
                status: Some(500),
                message: "boom".into(),
            },
            502,
        ),
        (LlmError::Timeout, 504),
    ] {
        let failing = ScriptedProvider::failing(failure);
        let s = services(vec![("failing", failing as Arc<dyn Provider>)], 20).await;
        let alice = user(&s.db, "alice").await;
        let broken = agent(&s, alice, json!({"name": "b", "provider": "failing", "model": "m"})).await;
        let conversation = s
            .conversations
            .create(alice, body(json!({"agent_id": broken})))
            .await
            .unwrap();
        let err = s
            .chat
            .reply(alice, ChatTarget::Conversation(conversation.id), "hi".into())
            .await
            .unwrap_err();
        assert_eq!(kernel::Error::from(err).status(), status);
        assert_eq!(stored(&s.db, conversation.id).await, [("user".into(), "hi".into())]);

        let events: Vec<_> = s
            .chat
            .reply_stream(alice, ChatTarget::Conversation(conversation.id), "again".into())
            .await
            .unwrap()
            .collect()
            .await;
        assert!(matches!(events[0], ChatEvent::Created(_)));
        assert!(matches!(events[1], ChatEvent::Delta(_)));
        match &events[2] {
            ChatEvent::Failed(Error::Provider(failure)) => {
                assert_eq!(kernel::Error::from(failure.clone()).status(), status)
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        assert_eq!(events.len(), 3);
        let roles: Vec<_> = stored(&s.db, conversation.id).await.into_iter().map(|m| m.0).collect();
        assert_eq!(roles, ["user", "user"]);
        assert_eq!(
            s.conversations.get(alice, conversation.id).await.unwrap().message_count,
            2
        );
    }
}

#[tokio::test]
async fn a_stream_sends_created_deltas_completed_and_stores_the_whole_reply() {
    let s = services(vec![], 20).await;
    let alice = user(&s.db, "alice").await;
    let target = ChatTarget::Chat {
        conversation_id: None,
        agent_id: None,
    };
    let events: Vec<_> = s
        .chat
        .reply_stream(alice, target, "stream  me please".into())
        .await
        .unwrap()
        .collect()
        .await;
    let ChatEvent::Created(user_message) = &events[0] else {
        panic!("first event: {:?}", events[0])
    };
    assert_eq!(user_message.content, "stream  me please");
    let ChatEvent::Completed(reply) = events.last().unwrap() else {
        panic!("last event: {:?}", events.last())
    };
    let deltas: String = events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Delta(d) => Some(d.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 2 + 4, "one delta per word");
    assert_eq!(deltas, reply.content);
    assert_eq!(reply.content, "echo: stream  me please");
    let texts = stored(&s.db, user_message.conversation_id).await;
    assert_eq!(texts[1], ("assistant".into(), reply.content.clone()));
}

#[tokio::test]
async fn dropping_the_stream_stores_no_reply() {
    let slow = EchoProvider::new().with_word_delay(Duration::from_millis(20));
    let s = services(vec![("slow", Arc::new(slow) as Arc<dyn Provider>)], 20).await;
    let alice = user(&s.db, "alice").await;
    let slowpoke = agent(&s, alice, json!({"name": "s", "provider": "slow", "model": "m"})).await;
    let target = ChatTarget::Chat {
        conversation_id: None,
        agent_id: Some(slowpoke),
    };
    let mut events = s
        .chat
        .reply_stream(alice, target, "a b c d e f g h i j".into())
        .await
        .unwrap();
    let Some(ChatEvent::Created(user_message)) = events.next().await else {
        panic!("no created event")
    };
    assert!(matches!(events.next().await, Some(ChatEvent::Delta(_))));
    drop(events);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let texts = stored(&s.db, user_message.conversation_id).await;
    assert_eq!(texts, [("user".into(), "a b c d e f g h i j".into())]);
    let conversation = s.conversations.get(alice, user_message.conversation_id).await.unwrap();
    assert_eq!(conversation.message_count, 1);
}

#[tokio::test]
async fn chat_targets_are_checked_before_anything_is_stored() {
    let s = services(vec![], 20).await;
    let alice = user(&s.db, "alice").await;
    let bob = user(&s.db, "bob").await;
    let mine = agent(&s, alice, json!({"name": "mine", "model": "echo-1"})).await;
    let other = agent(&s, alice, json!({"name": "other", "model": "echo-1"})).await;
    let bobs = agent(&s, bob, json!({"name": "bobs", "model": "echo-1"})).await;
    let bobs_conversation = s.conversations.create(bob, body(json!({}))).await.unwrap();
    let conversation = s
        .conversations
        .create(alice, body(json!({"agent_id": mine})))
        .await
        .unwrap();

    let chat = |conversation_id, agent_id| ChatTarget::Chat {
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
        assert_eq!(invalid_fields(s.chat.reply(alice, target, "x".into()).await), [field]);
        assert_eq!(
            invalid_fields(s.chat.reply_stream(alice, target, "x".into()).await.map(|_| ())),
            [field]
        );
    }
    assert!(matches!(
        s.chat
            .reply(alice, ChatTarget::Conversation(bobs_conversation.id), "x".into())
            .await,
        Err(Error::NotFound)
    ));
    let page = kernel::PageParams::parse(None, None).unwrap();
    assert_eq!(s.conversations.list(alice, None, &page).await.unwrap().total, 1);
    assert_eq!(message::Entity::find().all(&s.db).await.unwrap().len(), 0);

    let matching = chat(Some(conversation.id), Some(mine));
    assert_eq!(
        s.chat.reply(alice, matching, "ok".into()).await.unwrap().content,
        "echo: ok"
    );
}

#[tokio::test]
async fn a_conversation_whose_agent_was_deleted_cannot_get_replies() {
    let s = services(vec![], 20).await;
    let alice = user(&s.db, "alice").await;
    let helper = agent(&s, alice, json!({"name": "helper", "model": "echo-1"})).await;
    let conversation = s
        .conversations
        .create(alice, body(json!({"agent_id": helper})))
        .await
        .unwrap();
    s.agents.delete(alice, helper).await.unwrap();
    let err = s
        .chat
        .reply(alice, ChatTarget::Conversation(conversation.id), "hi".into())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::AgentGone), "{err:?}");
    let named = ChatTarget::Chat {
        conversation_id: Some(conversation.id),
        agent_id: Some(helper),
    };
    assert_eq!(
        invalid_fields(s.chat.reply(alice, named, "hi".into()).await),
        ["agent_id"]
    );
    assert!(stored(&s.db, conversation.id).await.is_empty());
    // The conversation's log stays usable as a library.
    s.conversations
        .append_message(alice, conversation.id, NewMessage::user("still here"))
        .await
        .unwrap();
}
