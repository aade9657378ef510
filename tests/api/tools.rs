//! `/api/v1/tools`: creation, the contract's rules, unique names, PATCH, delete detaching.

mod kinds;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use serde_json::{Value, json};

pub(crate) async fn create(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app.post_as(user, "/api/v1/tools", &body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let tool: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/tools/{}", tool["id"].as_str().unwrap()));
    tool
}

pub(crate) async fn read(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let res = app.get_as(user, path).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

fn weather() -> Value {
    json!({
        "name": "get_weather",
        "description": "Current weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    })
}

#[tokio::test]
async fn create_answers_201_and_reads_back() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tool = create(&app, &alice, weather()).await;
    assert_eq!(tool["owner_id"], alice.id.to_string());
    assert_eq!(
        (&tool["name"], &tool["parameters"]),
        (&weather()["name"], &weather()["parameters"])
    );
    let path = format!("/api/v1/tools/{}", tool["id"].as_str().unwrap());
    assert_eq!(read(&app, &alice, &path).await, tool);
    let bare = create(&app, &alice, json!({"name": "x", "parameters": {"type": "object"}})).await;
    assert_eq!(bare["description"], Value::Null);
}

#[tokio::test]
async fn each_rule_is_a_422_naming_its_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let with = |key: &str, value: Value| {
        let mut body = weather();
        body[key] = value;
        body
    };
    let big = json!({"type": "object", "description": "x".repeat(16 * 1024)});
    let cases = [
        (with("name", json!("")), "name"),
        (with("name", json!("has space")), "name"),
        (with("name", json!("dot.ted")), "name"),
        (with("name", json!("n".repeat(65))), "name"),
        (with("description", json!("d".repeat(2001))), "description"),
        (with("parameters", json!([1, 2])), "parameters"),
        (with("parameters", json!("object")), "parameters"),
        (with("parameters", json!({"type": "array"})), "parameters"),
        (with("parameters", json!({"properties": {}})), "parameters"),
        (
            with("parameters", json!({"type": "object", "properties": [1]})),
            "parameters",
        ),
        (with("parameters", big), "parameters"),
        (json!({"name": "no_parameters"}), "parameters"),
    ];
    for (body, field) in cases {
        let res = app.post_as(&alice, "/api/v1/tools", &body).send().await.unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), [field], "{problem}");
    }
    assert_eq!(read(&app, &alice, "/api/v1/tools").await["total"], 0);

    let edge = json!({"type": "object", "description": "x".repeat(16 * 1024 - 40)});
    create(&app, &alice, json!({"name": "n".repeat(64), "parameters": edge})).await;
}

#[tokio::test]
async fn names_are_unique_per_owner() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    create(&app, &alice, weather()).await;
    let problem = assert_problem(
        app.post_as(&alice, "/api/v1/tools", &weather()).send().await.unwrap(),
        409,
    )
    .await;
    assert_eq!(problem["code"], "conflict");
    create(&app, &bob, weather()).await;
    let other = create(&app, &alice, json!({"name": "other", "parameters": {"type": "object"}})).await;
    let path = format!("/api/v1/tools/{}", other["id"].as_str().unwrap());
    assert_problem(
        app.patch_as(&alice, &path, &json!({"name": "get_weather"}))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert_eq!(
        read(&app, &alice, &path).await,
        other,
        "a failed rename changes nothing"
    );
    assert_eq!(read(&app, &alice, "/api/v1/tools").await["total"], 2);
}

#[tokio::test]
async fn patch_changes_only_what_is_present_and_null_clears_the_description() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tool = create(&app, &alice, weather()).await;
    let path = format!("/api/v1/tools/{}", tool["id"].as_str().unwrap());
    let params = json!({"type": "object", "properties": {"q": {"type": "string"}}});
    let res = app
        .patch_as(
            &alice,
            &path,
            &json!({"parameters": params, "owner_id": uuid::Uuid::now_v7()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(
        (&updated["parameters"], &updated["name"], &updated["description"]),
        (&params, &tool["name"], &tool["description"])
    );
    assert_eq!(
        (&updated["owner_id"], &updated["created_at"]),
        (&tool["owner_id"], &tool["created_at"])
    );
    let cleared: Value = app
        .patch_as(&alice, &path, &json!({"description": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["description"], Value::Null);
    for (patch, field) in [
        (json!({"name": null}), "name"),
        (json!({"parameters": null}), "parameters"),
        (json!({"parameters": {"type": "string"}}), "parameters"),
        (json!({"name": "bad name"}), "name"),
    ] {
        let problem = assert_problem(app.patch_as(&alice, &path, &patch).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), [field], "{patch}");
    }
    assert_eq!(read(&app, &alice, &path).await, cleared);
}

#[tokio::test]
async fn deleting_a_tool_detaches_it_from_agents() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let first = create(&app, &alice, weather()).await;
    let second = create(
        &app,
        &alice,
        json!({"name": "search", "parameters": {"type": "object"}}),
    )
    .await;
    let body = json!({"name": "agent", "model": "m", "tool_ids": [first["id"], second["id"]]});
    let res = app.post_as(&alice, "/api/v1/agents", &body).send().await.unwrap();
    let agent: Value = res.json().await.unwrap();
    let agent_path = format!("/api/v1/agents/{}", agent["id"].as_str().unwrap());
    let tool_path = format!("/api/v1/tools/{}", first["id"].as_str().unwrap());

    let res = app.delete_as(&alice, &tool_path).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_problem(app.get_as(&alice, &tool_path).send().await.unwrap(), 404).await;
    assert_problem(app.delete_as(&alice, &tool_path).send().await.unwrap(), 404).await;
    assert_eq!(read(&app, &alice, &agent_path).await["tool_ids"], json!([second["id"]]));
    assert_eq!(read(&app, &alice, "/api/v1/tools").await["total"], 1);

    use ::agents::entities::agent_tool;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let id = uuid::Uuid::parse_str(first["id"].as_str().unwrap()).unwrap();
    let links = agent_tool::Entity::find()
        .filter(agent_tool::Column::ToolId.eq(id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(links, 0, "no link row is left behind");
    let res = app
        .patch_as(&alice, &agent_path, &json!({"tool_ids": [first["id"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["tool_ids[0]"]);
}

#[tokio::test]
async fn list_pages_newest_first_and_filters_by_name() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut ids = Vec::new();
    for i in 0..25 {
        let tool = create(
            &app,
            &alice,
            json!({"name": format!("tool_{i:02}"), "parameters": {"type": "object"}}),
        )
        .await;
        ids.push(tool["id"].clone());
    }
    ids.reverse();
    let first = read(&app, &alice, "/api/v1/tools").await;
    let next = format!("/api/v1/tools?cursor={}", first["next_cursor"].as_str().unwrap());
    let second = read(&app, &alice, &next).await;
    assert_eq!(
        (first["total"].as_u64(), second["next_cursor"].clone()),
        (Some(25), Value::Null)
    );
    let seen: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap().iter().map(|t| t["id"].clone()))
        .collect();
    assert_eq!(seen, ids);
    assert_eq!(read(&app, &alice, "/api/v1/tools?q=TOOL_1").await["total"], 10);
}

/// Each entry of `parameters.properties` is a JSON Schema object, as the OpenAPI document
/// says (found by schemathesis: `[null, null]` was accepted and served back).
#[tokio::test]
async fn a_parameter_property_that_is_not_an_object_is_a_422() {
    let app = agentry_tests::TestApp::spawn().await;
    let ada = app.register("ada").await;
    let body = serde_json::json!({"name": "t", "parameters": {"type": "object", "properties": {"x": [null, null]}}});
    let res = app.post_as(&ada, "/api/v1/tools", &body).send().await.unwrap();
    let problem = agentry_tests::assert_problem(res, 422).await;
    assert_eq!(agentry_tests::field_names(&problem), ["parameters"]);
}
