//! Model names are resolved from memory (`agents::cache`): every change to an agent or its
//! links shows at the next request — made through the API, on another replica, or by hand
//! in the database (PostgreSQL; on SQLite those tests are reported as ignored).

use agentry_tests::{TestApp, TestUser};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::agent;
use crate::agents::{create_tool, patch_agent};
use crate::tokens::replicas::{until_listening, until_status};

const COMPLETIONS: &str = "/v1/chat/completions";

/// Whether `model`'s answer to a plain question is a stored run (`X-Execution-Id`): it is
/// when the agent has tools, and is answered straight from the provider when it has none.
async fn answered_by_a_run(app: &TestApp, user: &TestUser, model: &str) -> bool {
    let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
    let res = app.post_as(user, COMPLETIONS, &body).send().await.unwrap();
    assert_eq!(res.status(), 200, "{model}");
    let run = res.headers().contains_key("x-execution-id");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["choices"][0]["message"]["content"], "echo: hi", "{body}");
    run
}

async fn status_of(app: &TestApp, user: &TestUser, model: &str) -> u16 {
    app.get_as(user, &format!("/v1/models/{model}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_model_name_follows_its_agents_changes_at_once() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let id = agent(&app, &ada, "writer").await;
    // Both names resolved (and kept) before each change.
    assert_eq!(app.get_ok(&ada, &format!("/v1/models/{id}")).await["name"], "writer");
    assert!(!answered_by_a_run(&app, &ada, "writer").await);

    // Renamed: the old name is unknown, the new one and the id show the new name.
    patch_agent(&app, &ada, &id, json!({"name": "editor"})).await;
    assert_eq!(status_of(&app, &ada, "writer").await, 404);
    assert_eq!(app.get_ok(&ada, &format!("/v1/models/{id}")).await["name"], "editor");
    assert_eq!(app.get_ok(&ada, "/v1/models/editor").await["id"], id.as_str());

    // A second agent of that name makes it ambiguous; deleting it makes it one again.
    let twin = agent(&app, &ada, "editor").await;
    assert_eq!(status_of(&app, &ada, "editor").await, 422);
    let res = app
        .delete_as(&ada, &format!("/api/v1/agents/{twin}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get_ok(&ada, "/v1/models/editor").await["id"], id.as_str());

    // A tool linked: the agent's answers become runs; unlinked: straight answers again.
    let tool = create_tool(&app, &ada, "lookup").await;
    patch_agent(&app, &ada, &id, json!({"tool_ids": [tool]})).await;
    assert!(answered_by_a_run(&app, &ada, "editor").await, "tools may run: a run");
    patch_agent(&app, &ada, &id, json!({"tool_ids": []})).await;
    assert!(!answered_by_a_run(&app, &ada, "editor").await);

    // Deleted: unknown by name and by id.
    let res = app
        .delete_as(&ada, &format!("/api/v1/agents/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(status_of(&app, &ada, "editor").await, 404);
    assert_eq!(status_of(&app, &ada, &id).await, 404);
}

/// Polls `model`'s answer on `app` until it is (or is not) a run (at most 10 s).
async fn until_run(app: &TestApp, user: &TestUser, model: &str, run: bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while answered_by_a_run(app, user, model).await != run {
        assert!(tokio::time::Instant::now() < deadline, "{model}: still not run = {run}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_change_on_one_replica_or_by_hand_reaches_the_model_names_of_another() {
    testkit::require_postgres();
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(&first, |_| {}).await;
    until_listening(&second).await;
    let ada = first.register("ada").await;
    let id = agent(&first, &ada, "writer").await;
    assert_eq!(status_of(&second, &ada, "writer").await, 200);
    assert!(!answered_by_a_run(&second, &ada, "writer").await);

    // Renamed on the first replica: the second forgets the old name.
    patch_agent(&first, &ada, &id, json!({"name": "editor"})).await;
    until_status(&second, &ada, "/v1/models/writer", 404).await;
    assert_eq!(second.get_ok(&ada, "/v1/models/editor").await["id"], id.as_str());

    // A tool linked by hand in the database: the link table's trigger announces it.
    let tool = create_tool(&first, &ada, "lookup").await;
    let link = format!("INSERT INTO agent_tools (agent_id, tool_id, position) VALUES ('{id}', '{tool}', 0)");
    first.db.execute_unprepared(&link).await.unwrap();
    until_run(&second, &ada, "editor", true).await;
    // The tool deleted (its link with it, by cascade): straight answers again.
    let res = first
        .delete_as(&ada, &format!("/api/v1/tools/{tool}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    until_run(&second, &ada, "editor", false).await;

    // Deleted by hand: unknown on the second replica, by name and by id.
    let gone = format!("UPDATE agents SET deleted_at = now() WHERE id = '{id}'");
    first.db.execute_unprepared(&gone).await.unwrap();
    until_status(&second, &ada, "/v1/models/editor", 404).await;
    assert_eq!(status_of(&second, &ada, &id).await, 404);
}
