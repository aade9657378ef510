//! A chat turn naming its agent reads it from memory (`AgentService::find_flagged_cached`,
//! the model cache of `/v1`): every change to the agent shows at the next turn — made
//! through the API, on another replica, or by hand in the database (PostgreSQL; on SQLite
//! that test is reported as ignored).

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::chat;
use crate::agents::patch_agent;
use crate::tokens::replicas::until_listening;

async fn create_agent(app: &TestApp, user: &TestUser, model: &str) -> String {
    let res = app
        .post_as(user, "/api/v1/agents", &json!({"name": "writer", "model": model}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let agent: Value = res.json().await.unwrap();
    agent["id"].as_str().unwrap().to_owned()
}

/// The model a new chat with agent `id` is answered by.
async fn answered_by(app: &TestApp, user: &TestUser, id: &str) -> Value {
    chat(app, user, json!({"content": "hi", "agent_id": id})).await["model"].clone()
}

#[tokio::test]
async fn a_chat_turn_answers_with_its_agent_as_it_is_now() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let id = create_agent(&app, &ada, "echo-1").await;
    // Kept by the first turn; each change is seen by the next one.
    assert_eq!(answered_by(&app, &ada, &id).await, "echo-1");
    assert_eq!(answered_by(&app, &ada, &id).await, "echo-1");
    patch_agent(&app, &ada, &id, json!({"model": "echo-2"})).await;
    assert_eq!(answered_by(&app, &ada, &id).await, "echo-2");

    // Someone else's agent is not found through another owner's cache entry.
    let bob = app.register("bob").await;
    let res = app
        .post_as(&bob, "/api/v1/chat/messages", &json!({"content": "hi", "agent_id": id}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(field_names(&problem), ["agent_id"], "{problem}");

    // Deleted: a turn naming it is refused, and stores nothing.
    let res = app
        .delete_as(&ada, &format!("/api/v1/agents/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = app
        .post_as(&ada, "/api/v1/chat/messages", &json!({"content": "hi", "agent_id": id}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(field_names(&problem), ["agent_id"], "{problem}");
    let conversations = app.get_ok(&ada, "/api/v1/conversations").await;
    assert_eq!(conversations["total"], 3, "{conversations}");
}

/// Polls until a new chat with agent `id` on `app` is answered by `model` (at most 10 s).
async fn until_answered_by(app: &TestApp, user: &TestUser, id: &str, model: &str) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while answered_by(app, user, id).await != model {
        assert!(tokio::time::Instant::now() < deadline, "still not answered by {model}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_change_on_one_replica_or_by_hand_reaches_the_chat_turns_of_another() {
    testkit::require_postgres();
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(&first, |_| {}).await;
    until_listening(&second).await;
    let ada = first.register("ada").await;
    let id = create_agent(&first, &ada, "echo-1").await;
    assert_eq!(answered_by(&second, &ada, &id).await, "echo-1");

    patch_agent(&first, &ada, &id, json!({"model": "echo-2"})).await;
    until_answered_by(&second, &ada, &id, "echo-2").await;

    let by_hand = format!("UPDATE agents SET model = 'echo-3' WHERE id = '{id}'");
    first.db.execute_unprepared(&by_hand).await.unwrap();
    until_answered_by(&second, &ada, &id, "echo-3").await;

    let gone = format!("UPDATE agents SET deleted_at = now() WHERE id = '{id}'");
    first.db.execute_unprepared(&gone).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let res = second
            .post_as(&ada, "/api/v1/chat/messages", &json!({"content": "hi", "agent_id": id}))
            .send()
            .await
            .unwrap();
        if res.status() == 422 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the deleted agent still answers"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
