//! `ConversationService`: CRUD, ownership, validation, the message log and its history.

use crate::common::{agent, body, invalid_fields, services, user};
use conversations::ConversationError as Error;
use conversations::NewMessage;
use conversations::schemas::{ConversationCreate, ConversationUpdate, MessageRole};
use kernel::PageParams;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

#[tokio::test]
async fn create_read_list_update_delete() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let helper = agent(&s, alice, json!({"name": "helper", "model": "echo-1"})).await;

    let first = s
        .conversations
        .create(alice, body(json!({"title": "First", "metadata": {"k": 1}})))
        .await
        .unwrap();
    assert_eq!(first.owner_id, alice);
    assert_eq!(first.agent_id, None);
    assert_eq!(first.metadata, json!({"k": 1}));
    assert_eq!(first.message_count, 0);
    let second = s
        .conversations
        .create(alice, body(json!({"agent_id": helper})))
        .await
        .unwrap();
    assert_eq!(second.title, None);
    assert_eq!(second.metadata, json!({}));
    assert_eq!(s.conversations.get(alice, first.id).await.unwrap(), first);

    let all = PageParams::parse(None, None).unwrap();
    let page = s.conversations.list(alice, None, &all).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].id, second.id, "newest first");
    let of_helper = s.conversations.list(alice, Some(helper), &all).await.unwrap();
    assert_eq!(of_helper.items, vec![second.clone()]);

    let update: ConversationUpdate = body(json!({"title": null, "metadata": {"a": "b"}}));
    let updated = s.conversations.update(alice, first.id, update).await.unwrap();
    assert_eq!(updated.title, None);
    assert_eq!(updated.metadata, json!({"a": "b"}));
    assert!(updated.updated_at >= first.updated_at);
    let unchanged = s
        .conversations
        .update(alice, first.id, ConversationUpdate::default())
        .await
        .unwrap();
    assert_eq!(unchanged.metadata, json!({"a": "b"}));

    s.conversations.delete(alice, first.id).await.unwrap();
    assert!(matches!(
        s.conversations.get(alice, first.id).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        s.conversations.delete(alice, first.id).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn another_owners_conversation_is_not_found() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let bob = user(&s.db, "bob").await;
    let theirs = s
        .conversations
        .create(alice, ConversationCreate::default())
        .await
        .unwrap();
    fn not_found<T>(result: Result<T, Error>) -> bool {
        matches!(result, Err(Error::NotFound))
    }
    assert!(not_found(s.conversations.get(bob, theirs.id).await));
    assert!(not_found(
        s.conversations
            .update(bob, theirs.id, ConversationUpdate::default())
            .await
    ));
    assert!(not_found(s.conversations.history(bob, theirs.id, 5).await));
    assert!(not_found(
        s.conversations
            .append_message(bob, theirs.id, NewMessage::user("hi"))
            .await
    ));
    assert!(not_found(s.conversations.delete(bob, theirs.id).await));
    let page = PageParams::parse(None, None).unwrap();
    assert_eq!(s.conversations.list(bob, None, &page).await.unwrap().total, 0);
    assert_eq!(s.conversations.get(alice, theirs.id).await.unwrap().message_count, 0);
}

#[tokio::test]
async fn bad_fields_are_named() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let bob = user(&s.db, "bob").await;
    let bobs_agent = agent(&s, bob, json!({"name": "b", "model": "echo-1"})).await;
    let keys: serde_json::Map<_, _> = (0..17).map(|i| (format!("k{i}"), json!(i))).collect();

    let too_much = body(json!({"title": "t".repeat(201), "metadata": keys}));
    let mut fields = invalid_fields(s.conversations.create(alice, too_much).await);
    fields.sort();
    assert_eq!(fields, ["metadata", "title"]);
    let foreign = body(json!({"agent_id": bobs_agent}));
    assert_eq!(
        invalid_fields(s.conversations.create(alice, foreign).await),
        ["agent_id"]
    );

    let created = s.conversations.create(alice, body(json!({}))).await.unwrap();
    let update = body(json!({"title": "é".repeat(201)}));
    assert_eq!(
        invalid_fields(s.conversations.update(alice, created.id, update).await),
        ["title"]
    );
    assert_eq!(s.conversations.get(alice, created.id).await.unwrap().title, None);
}

#[tokio::test]
async fn appended_messages_count_and_make_the_history() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let conversation = s.conversations.create(alice, body(json!({}))).await.unwrap();
    for i in 0..5 {
        s.conversations
            .append_message(alice, conversation.id, NewMessage::user(format!("q{i}")))
            .await
            .unwrap();
        let answer = NewMessage {
            role: llm::Role::Assistant,
            content: format!("a{i}"),
            model: Some("m".into()),
            usage: Some(llm::Usage {
                prompt_tokens: 3,
                completion_tokens: 4,
            }),
            execution_id: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            attachments: Vec::new(),
        };
        let stored = s
            .conversations
            .append_message(alice, conversation.id, answer)
            .await
            .unwrap();
        assert_eq!(stored.role, MessageRole::Assistant);
        assert_eq!(stored.usage.unwrap().completion_tokens, 4);
    }
    let read = s.conversations.get(alice, conversation.id).await.unwrap();
    assert_eq!(read.message_count, 10);
    assert!(read.updated_at > conversation.updated_at);

    let history = s.conversations.history(alice, conversation.id, 3).await.unwrap();
    let texts: Vec<_> = history.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts, ["a3", "q4", "a4"], "the last three, oldest first");
    assert_eq!(history[1].role, llm::Role::User);
    assert_eq!(history[2].role, llm::Role::Assistant);
}

#[tokio::test]
async fn messages_page_oldest_first_or_newest_first() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let conversation = s.conversations.create(alice, body(json!({}))).await.unwrap();
    for i in 0..5 {
        s.conversations
            .append_message(alice, conversation.id, NewMessage::user(format!("m{i}")))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut params = PageParams::parse(Some(2), None).unwrap().oldest_first();
    loop {
        let page = s.conversations.messages(alice, conversation.id, &params).await.unwrap();
        assert_eq!(page.total, 5);
        seen.extend(page.items.into_iter().map(|m| m.content));
        let Some(next) = page.next_cursor else { break };
        params = PageParams::parse(Some(2), Some(&next)).unwrap().oldest_first();
    }
    assert_eq!(seen, ["m0", "m1", "m2", "m3", "m4"]);

    let newest = PageParams::parse(Some(2), None).unwrap();
    let page = s.conversations.messages(alice, conversation.id, &newest).await.unwrap();
    let texts: Vec<_> = page.items.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(texts, ["m4", "m3"]);
}

#[tokio::test]
async fn deleting_a_conversation_deletes_its_messages() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let kept = s.conversations.create(alice, body(json!({}))).await.unwrap();
    let gone = s.conversations.create(alice, body(json!({}))).await.unwrap();
    for id in [kept.id, gone.id] {
        s.conversations
            .append_message(alice, id, NewMessage::user("hello"))
            .await
            .unwrap();
    }
    s.conversations.delete(alice, gone.id).await.unwrap();
    let left = conversations::entities::message::Entity::find()
        .all(&s.db)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].conversation_id, kept.id);
}

#[tokio::test]
async fn a_deleted_agent_leaves_its_conversations_readable() {
    let s = services().await;
    let alice = user(&s.db, "alice").await;
    let helper = agent(&s, alice, json!({"name": "helper", "model": "echo-1"})).await;
    let conversation = s
        .conversations
        .create(alice, body(json!({"agent_id": helper})))
        .await
        .unwrap();
    s.conversations
        .append_message(alice, conversation.id, NewMessage::user("hi"))
        .await
        .unwrap();
    s.agents.delete(alice, helper).await.unwrap();

    let read = s.conversations.get(alice, conversation.id).await.unwrap();
    assert_eq!(read.agent_id, Some(helper));
    let page = PageParams::parse(None, None).unwrap().oldest_first();
    let messages = s.conversations.messages(alice, conversation.id, &page).await.unwrap();
    assert_eq!(messages.total, 1);
    let count = conversations::entities::conversation::Entity::find()
        .count(&s.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
