//! `/api/v1/conversations`: CRUD, ownership, validation, message pages, deletion.

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use conversations::entities::{conversation, message};
use reqwest::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::agents::create_agent;
use crate::chat::{chat, messages};

/// Creates a conversation, asserting `201` and the `Location` header; returns the body.
async fn create(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app.post_as(user, "/api/v1/conversations", &body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/conversations/{}", created["id"].as_str().unwrap())
    );
    created
}

/// GETs `path` as `user`, asserting `200`.
async fn read(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let res = app.get_as(user, path).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn create_read_list_update_delete() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let agent = create_agent(&app, &ada, json!({"name": "helper", "model": "echo-1"})).await;

    let plain = create(&app, &ada, json!({})).await;
    assert_eq!(plain["title"], Value::Null);
    assert_eq!(plain["agent_id"], Value::Null);
    assert_eq!(plain["metadata"], json!({}));
    assert_eq!(plain["message_count"], 0);
    assert_eq!(plain["owner_id"], ada.id.to_string());
    let body = json!({"agent_id": agent["id"], "title": "Trip", "metadata": {"topic": "travel"}, "id": "ignored", "owner_id": "ignored"});
    let bound = create(&app, &ada, body).await;
    assert_eq!(bound["agent_id"], agent["id"]);
    assert_eq!(bound["title"], "Trip");
    assert_eq!(bound["metadata"], json!({"topic": "travel"}));
    let id = bound["id"].as_str().unwrap();
    assert_eq!(read(&app, &ada, &format!("/api/v1/conversations/{id}")).await, bound);

    let page = read(&app, &ada, "/api/v1/conversations").await;
    assert_eq!(page["total"], 2);
    assert_eq!(page["items"], json!([bound, plain]), "newest first");
    let agent_id = agent["id"].as_str().unwrap();
    let filtered = read(&app, &ada, &format!("/api/v1/conversations?agent_id={agent_id}")).await;
    assert_eq!(filtered["items"], json!([bound]));
    let first = read(&app, &ada, "/api/v1/conversations?limit=1").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = read(&app, &ada, &format!("/api/v1/conversations?limit=1&cursor={cursor}")).await;
    assert_eq!(second["items"], json!([plain]));
    assert_eq!(second["next_cursor"], Value::Null);

    let path = format!("/api/v1/conversations/{id}");
    let res = app
        .patch_as(&ada, &path, &json!({"title": "Lisbon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(renamed["title"], "Lisbon");
    assert_eq!(renamed["metadata"], json!({"topic": "travel"}), "absent = unchanged");
    let res = app
        .patch_as(&ada, &path, &json!({"title": null, "metadata": null}))
        .send()
        .await
        .unwrap();
    let cleared: Value = res.json().await.unwrap();
    assert_eq!(
        (cleared["title"].clone(), cleared["metadata"].clone()),
        (Value::Null, json!({}))
    );
    assert_eq!(read(&app, &ada, &path).await, cleared);

    let res = app.delete_as(&ada, &path).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get_as(&ada, &path).send().await.unwrap(), 404).await;
    assert_problem(app.delete_as(&ada, &path).send().await.unwrap(), 404).await;
    assert_eq!(read(&app, &ada, "/api/v1/conversations").await["total"], 1);
}

#[tokio::test]
async fn another_users_conversation_is_404_everywhere() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let eve = app.register("eve").await;
    let reply = chat(&app, &ada, json!({"content": "private"})).await;
    let id = reply["conversation_id"].as_str().unwrap();
    let path = format!("/api/v1/conversations/{id}");

    assert_problem(app.get_as(&eve, &path).send().await.unwrap(), 404).await;
    assert_problem(
        app.patch_as(&eve, &path, &json!({"title": "mine now"}))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_problem(app.delete_as(&eve, &path).send().await.unwrap(), 404).await;
    assert_problem(app.get_as(&eve, &format!("{path}/messages")).send().await.unwrap(), 404).await;
    assert_eq!(read(&app, &eve, "/api/v1/conversations").await["total"], 0);
    let unknown = format!("/api/v1/conversations/{}", uuid::Uuid::now_v7());
    assert_problem(app.get_as(&ada, &unknown).send().await.unwrap(), 404).await;
    assert_problem(
        app.get_as(&ada, "/api/v1/conversations/not-a-uuid")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_problem(app.request(Method::GET, &path).send().await.unwrap(), 401).await;

    let unchanged = read(&app, &ada, &path).await;
    assert_eq!(unchanged["title"], "private");
    assert_eq!(unchanged["message_count"], 2);
}

#[tokio::test]
async fn bad_fields_are_422_naming_each_and_store_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let bobs_agent = create_agent(&app, &bob, json!({"name": "b", "model": "echo-1"})).await;
    let keys: serde_json::Map<String, Value> = (0..17).map(|i| (format!("k{i}"), json!(i))).collect();

    let cases = [
        (json!({"title": "t".repeat(201)}), vec!["title"]),
        (json!({"metadata": keys}), vec!["metadata"]),
        (json!({"metadata": [1, 2]}), vec!["metadata"]),
        (json!({"agent_id": bobs_agent["id"]}), vec!["agent_id"]),
        (json!({"agent_id": "nope"}), vec!["agent_id"]),
        (
            json!({"title": "ü".repeat(201), "metadata": keys}),
            vec!["metadata", "title"],
        ),
    ];
    for (body, fields) in cases {
        let res = app.post_as(&ada, "/api/v1/conversations", &body).send().await.unwrap();
        let problem = assert_problem(res, 422).await;
        let mut named = field_names(&problem);
        named.sort();
        assert_eq!(named, fields, "{body}");
    }
    let res = app
        .post_as(&ada, "/api/v1/conversations", &json!({"agent_id": bobs_agent["id"]}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    let bobs_agent_id = bobs_agent["id"].as_str().unwrap();
    assert_eq!(
        problem["errors"][0]["message"],
        format!("{bobs_agent_id} is not one of your agents"),
        "the message names the offending id"
    );
    assert_eq!(read(&app, &ada, "/api/v1/conversations").await["total"], 0);

    let created = create(&app, &ada, json!({"title": "keep"})).await;
    let path = format!("/api/v1/conversations/{}", created["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"title": "t".repeat(201)}), "title"),
        (json!({"metadata": keys}), "metadata"),
    ] {
        let problem = assert_problem(app.patch_as(&ada, &path, &body).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), [field]);
    }
    assert_eq!(read(&app, &ada, &path).await, created);

    for (query, field) in [
        ("/api/v1/conversations?agent_id=nope", "agent_id"),
        ("/api/v1/conversations?limit=0", "limit"),
        ("/api/v1/conversations?cursor=garbage", "cursor"),
        (&format!("{path}/messages?order=sideways"), "order"),
        (&format!("{path}/messages?limit=101"), "limit"),
    ] {
        let problem = assert_problem(app.get_as(&ada, query).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), [field], "{query}");
    }
    let res = app
        .request(Method::POST, "/api/v1/conversations")
        .bearer_auth(&ada.access_token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
}

#[tokio::test]
async fn messages_page_oldest_first_unless_desc() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let first = chat(&app, &ada, json!({"content": "m0"})).await;
    let id = first["conversation_id"].as_str().unwrap().to_owned();
    for i in 1..3 {
        chat(&app, &ada, json!({"content": format!("m{i}"), "conversation_id": id})).await;
    }
    let all = messages(&app, &ada, &id).await;
    let texts: Vec<&str> = all.iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(texts, ["m0", "echo: m0", "m1", "echo: m1", "m2", "echo: m2"]);

    let mut seen = Vec::new();
    let mut path = format!("/api/v1/conversations/{id}/messages?limit=4");
    loop {
        let page = read(&app, &ada, &path).await;
        assert_eq!(page["total"], 6);
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        path = format!("/api/v1/conversations/{id}/messages?limit=4&cursor={cursor}");
    }
    assert_eq!(seen, all);

    let newest = read(
        &app,
        &ada,
        &format!("/api/v1/conversations/{id}/messages?order=desc&limit=2"),
    )
    .await;
    assert_eq!(newest["items"], json!([all[5], all[4]]));
    let cursor = newest["next_cursor"].as_str().unwrap();
    let next = read(
        &app,
        &ada,
        &format!("/api/v1/conversations/{id}/messages?order=desc&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(next["items"], json!([all[3], all[2]]));
}

#[tokio::test]
async fn deleting_a_conversation_deletes_its_messages() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let kept = chat(&app, &ada, json!({"content": "keep me"})).await;
    let gone = chat(&app, &ada, json!({"content": "forget me"})).await;
    let gone_id: uuid::Uuid = gone["conversation_id"].as_str().unwrap().parse().unwrap();
    let res = app
        .delete_as(&ada, &format!("/api/v1/conversations/{gone_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let orphans = message::Entity::find()
        .filter(message::Column::ConversationId.eq(gone_id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(orphans, 0);
    assert_eq!(message::Entity::find().count(&app.db).await.unwrap(), 2);
    assert_eq!(conversation::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(
        messages(&app, &ada, kept["conversation_id"].as_str().unwrap())
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn deleting_the_account_deletes_its_conversations_and_messages() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    chat(&app, &ada, json!({"content": "bye"})).await;
    chat(&app, &bob, json!({"content": "still here"})).await;
    let res = app.delete_as(&ada, "/api/v1/users/me").send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(conversation::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(message::Entity::find().count(&app.db).await.unwrap(), 2);
}

/// An assistant message's `tool_calls` and a tool message's `tool_call_id`, as a run stores
/// them, are served by `GET /conversations/{id}/messages`; other messages show `null`.
#[tokio::test]
async fn stored_tool_calls_and_results_are_served_with_the_messages() {
    use conversations::NewMessage;
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let created = create(&app, &alice, json!({})).await;
    let id = uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
    let call = llm::ToolCall {
        id: "call_1".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Oslo"}),
    };
    for message in [
        NewMessage::user("/call get_weather {\"city\": \"Oslo\"}"),
        NewMessage::assistant_calls("", vec![call], Some("echo-1".into()), None),
        NewMessage::tool_result("call_1".into(), "12°C".into()),
    ] {
        app.state
            .conversations
            .append_message(alice.id, id, message)
            .await
            .unwrap();
    }
    let page = read(&app, &alice, &format!("/api/v1/conversations/{id}/messages")).await;
    let shown: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].clone(), m["tool_calls"].clone(), m["tool_call_id"].clone()))
        .collect();
    assert_eq!(
        shown,
        [
            (json!("user"), Value::Null, Value::Null),
            (
                json!("assistant"),
                json!([{"id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}]),
                Value::Null
            ),
            (json!("tool"), Value::Null, json!("call_1")),
        ]
    );
}
