//! `/api/v1/agents`: creation, the contract's rules, PATCH semantics, links, soft delete.

mod lane;
mod ownership;
mod pagination;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use reqwest::Method;
use serde_json::{Value, json};

/// Creates an agent, asserting `201` and the `Location` header; returns the body.
pub(crate) async fn create_agent(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app.post_as(user, "/api/v1/agents", &body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let agent: Value = res.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/agents/{}", agent["id"].as_str().unwrap()));
    agent
}

/// Creates a tool; returns its id.
pub(crate) async fn create_tool(app: &TestApp, user: &TestUser, name: &str) -> String {
    let body = json!({"name": name, "parameters": {"type": "object", "properties": {}}});
    let res = app.post_as(user, "/api/v1/tools", &body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

/// PATCHes agent `id` with `body` as `user`, asserting `200`.
pub(crate) async fn patch_agent(app: &TestApp, user: &TestUser, id: &str, body: Value) {
    let res = app
        .patch_as(user, &format!("/api/v1/agents/{id}"), &body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
}

/// GETs `path` as `user`, asserting `200`.
pub(crate) async fn read(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let res = app.get_as(user, path).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// The number of the caller's agents as the list reports it.
pub(crate) async fn total(app: &TestApp, user: &TestUser) -> u64 {
    read(app, user, "/api/v1/agents").await["total"].as_u64().unwrap()
}

#[tokio::test]
async fn create_answers_201_with_defaults_and_reads_back() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let agent = create_agent(&app, &alice, json!({"name": "Researcher", "model": "echo-1"})).await;
    assert_eq!(agent["owner_id"], alice.id.to_string());
    assert_eq!(
        (&agent["provider"], &agent["temperature"], &agent["metadata"]),
        (&json!("echo"), &json!(0.7), &json!({}))
    );
    for absent in ["description", "system_prompt", "max_tokens"] {
        assert_eq!(agent[absent], Value::Null, "{absent}");
    }
    assert_eq!((&agent["tool_ids"], &agent["subagent_ids"]), (&json!([]), &json!([])));
    assert_eq!(agent["created_at"], agent["updated_at"]);
    let path = format!("/api/v1/agents/{}", agent["id"].as_str().unwrap());
    assert_eq!(read(&app, &alice, &path).await, agent);
}

#[tokio::test]
async fn every_field_is_stored_and_fields_a_client_may_not_set_are_ignored() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let body = json!({
        "name": "Ünïcode name", "description": "d", "provider": "echo", "model": "org/model-1.5:latest_x",
        "system_prompt": "be brief", "temperature": 1.25, "max_tokens": 512, "metadata": {"team": "a", "n": 1},
        "id": "00000000-0000-0000-0000-000000000000", "owner_id": "00000000-0000-0000-0000-000000000000",
        "created_at": "2000-01-01T00:00:00Z", "deleted_at": "2000-01-01T00:00:00Z", "color": "red",
    });
    let agent = create_agent(&app, &alice, body).await;
    assert_ne!(agent["id"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(agent["owner_id"], alice.id.to_string());
    assert_ne!(agent["created_at"], "2000-01-01T00:00:00Z");
    assert_eq!(
        (&agent["temperature"], &agent["max_tokens"]),
        (&json!(1.25), &json!(512))
    );
    assert_eq!(agent["metadata"], json!({"team": "a", "n": 1}));
    let path = format!("/api/v1/agents/{}", agent["id"].as_str().unwrap());
    assert_eq!(read(&app, &alice, &path).await, agent);
}

#[tokio::test]
async fn each_rule_is_a_422_naming_its_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let with = |key: &str, value: Value| {
        let mut body = json!({"name": "ok", "model": "m"});
        body[key] = value;
        body
    };
    let many_keys: serde_json::Map<String, Value> = (0..17).map(|i| (format!("k{i}"), json!(i))).collect();
    let cases = [
        (with("name", json!("")), "name"),
        (with("name", json!(" leading")), "name"),
        (with("name", json!("trailing\n")), "name"),
        (with("name", json!("n".repeat(101))), "name"),
        (with("name", json!(12)), "name"),
        (json!({"model": "m"}), "name"),
        (json!({"name": "ok"}), "model"),
        (with("model", json!("")), "model"),
        (with("model", json!("has space")), "model"),
        (with("model", json!("m".repeat(101))), "model"),
        (with("description", json!("d".repeat(2001))), "description"),
        (with("system_prompt", json!("s".repeat(32001))), "system_prompt"),
        (with("temperature", json!(-0.1)), "temperature"),
        (with("temperature", json!(2.01)), "temperature"),
        (with("temperature", json!("hot")), "temperature"),
        (with("max_tokens", json!(0)), "max_tokens"),
        (with("max_tokens", json!(200_001)), "max_tokens"),
        (with("metadata", json!([1])), "metadata"),
        (with("metadata", json!("text")), "metadata"),
        (with("metadata", Value::Object(many_keys)), "metadata"),
        (with("provider", json!("nope")), "provider"),
        (with("provider", json!("")), "provider"),
        (with("tool_ids", json!(["not-a-uuid"])), "tool_ids[0]"),
        (with("subagent_ids", json!([uuid::Uuid::now_v7()])), "subagent_ids[0]"),
    ];
    for (body, field) in cases {
        let res = app.post_as(&alice, "/api/v1/agents", &body).send().await.unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), [field], "{body}: {problem}");
        assert_eq!(problem["code"], "validation_failed");
    }
    assert_eq!(total(&app, &alice).await, 0, "no failed request stored anything");
}

#[tokio::test]
async fn every_failing_field_is_listed_at_once_and_limits_are_inclusive() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bad = json!({"name": " x", "model": "a b", "temperature": 3, "max_tokens": 0, "description": "d".repeat(2001)});
    let problem = assert_problem(app.post_as(&alice, "/api/v1/agents", &bad).send().await.unwrap(), 422).await;
    let mut fields = field_names(&problem);
    fields.sort();
    assert_eq!(fields, ["description", "max_tokens", "model", "name", "temperature"]);

    let keys: serde_json::Map<String, Value> = (0..16).map(|i| (format!("k{i}"), json!(i))).collect();
    let edge = json!({
        "name": "n".repeat(100), "model": "m".repeat(100), "temperature": 2, "max_tokens": 200_000,
        "description": "é".repeat(2000), "system_prompt": "s".repeat(32000), "metadata": keys,
    });
    let agent = create_agent(&app, &alice, edge).await;
    assert_eq!(
        (&agent["temperature"], &agent["max_tokens"]),
        (&json!(2.0), &json!(200_000))
    );
    let zero = create_agent(
        &app,
        &alice,
        json!({"name": "a b", "model": "m", "temperature": 0, "metadata": null}),
    )
    .await;
    assert_eq!((&zero["temperature"], &zero["metadata"]), (&json!(0.0), &json!({})));
}

#[tokio::test]
async fn body_limits_and_media_types_are_problems() {
    let app = TestApp::spawn_with(|c| c.body_limit_bytes = 4096).await;
    let alice = app.register("alice").await;
    let big = json!({"name": "big", "model": "m", "system_prompt": "s".repeat(5000)});
    assert_problem(app.post_as(&alice, "/api/v1/agents", &big).send().await.unwrap(), 413).await;
    let text = app
        .request(Method::POST, "/api/v1/agents")
        .bearer_auth(&alice.access_token);
    assert_problem(
        text.header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap(),
        415,
    )
    .await;
    let broken = app
        .request(Method::POST, "/api/v1/agents")
        .bearer_auth(&alice.access_token);
    let res = broken
        .header("content-type", "application/json")
        .body("{\"name\":")
        .send()
        .await
        .unwrap();
    assert_eq!(assert_problem(res, 422).await["errors"], json!([]));
    assert_eq!(total(&app, &alice).await, 0);
}

#[tokio::test]
async fn patch_changes_only_what_is_present_and_null_clears() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tool = create_tool(&app, &alice, "search").await;
    let full = json!({
        "name": "full", "model": "m", "description": "d", "system_prompt": "p", "max_tokens": 10,
        "temperature": 1.5, "metadata": {"k": "v"}, "tool_ids": [tool],
    });
    let agent = create_agent(&app, &alice, full).await;
    let path = format!("/api/v1/agents/{}", agent["id"].as_str().unwrap());

    let res = app
        .patch_as(
            &alice,
            &path,
            &json!({"name": "renamed", "owner_id": uuid::Uuid::now_v7()}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(renamed["name"], "renamed");
    for same in [
        "description",
        "system_prompt",
        "max_tokens",
        "temperature",
        "metadata",
        "tool_ids",
        "owner_id",
        "created_at",
    ] {
        assert_eq!(renamed[same], agent[same], "{same}");
    }
    assert!(renamed["updated_at"].as_str() > agent["updated_at"].as_str());

    let clear =
        json!({"description": null, "system_prompt": null, "max_tokens": null, "tool_ids": null, "metadata": null});
    let cleared: Value = app
        .patch_as(&alice, &path, &clear)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for gone in ["description", "system_prompt", "max_tokens"] {
        assert_eq!(cleared[gone], Value::Null, "{gone}");
    }
    assert_eq!(
        (&cleared["tool_ids"], &cleared["metadata"], &cleared["temperature"]),
        (&json!([]), &json!({}), &json!(1.5))
    );
    assert_eq!(read(&app, &alice, &path).await, cleared);

    for field in ["name", "model", "provider", "temperature"] {
        let res = app
            .patch_as(&alice, &path, &json!({ field: null }))
            .send()
            .await
            .unwrap();
        assert_eq!(field_names(&assert_problem(res, 422).await), [field]);
    }
    let bad = json!({"name": "ok", "temperature": 9});
    let problem = assert_problem(app.patch_as(&alice, &path, &bad).send().await.unwrap(), 422).await;
    assert_eq!(field_names(&problem), ["temperature"]);
    assert_eq!(
        read(&app, &alice, &path).await,
        cleared,
        "a failed PATCH changes nothing"
    );
}

#[tokio::test]
async fn links_are_checked_ordered_and_never_half_written() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (t1, t2) = (
        create_tool(&app, &alice, "one").await,
        create_tool(&app, &alice, "two").await,
    );
    let sub = create_agent(&app, &alice, json!({"name": "sub", "model": "m"})).await;
    let body = json!({"name": "main", "model": "m", "tool_ids": [t2, t1], "subagent_ids": [sub["id"]]});
    let main = create_agent(&app, &alice, body).await;
    assert_eq!(
        (&main["tool_ids"], &main["subagent_ids"]),
        (&json!([t2, t1]), &json!([sub["id"]]))
    );
    let path = format!("/api/v1/agents/{}", main["id"].as_str().unwrap());
    assert_eq!(read(&app, &alice, &path).await, main);

    let unknown = uuid::Uuid::now_v7().to_string();
    let cases = [
        (json!({"tool_ids": [t1, unknown]}), "tool_ids[1]"),
        (json!({"tool_ids": [t1, t1]}), "tool_ids[1]"),
        (json!({"subagent_ids": [main["id"]]}), "subagent_ids[0]"),
        (json!({"subagent_ids": [sub["id"], unknown]}), "subagent_ids[1]"),
        (
            json!({"name": "x", "tool_ids": [t2], "subagent_ids": [unknown]}),
            "subagent_ids[0]",
        ),
    ];
    for (patch, field) in cases {
        let problem = assert_problem(app.patch_as(&alice, &path, &patch).send().await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), [field], "{patch}");
        assert!(problem["detail"].as_str().unwrap().starts_with(field), "{problem}");
    }
    assert_eq!(read(&app, &alice, &path).await, main, "failed PATCHes changed nothing");

    // sub -> main would close main -> sub.
    let sub_path = format!("/api/v1/agents/{}", sub["id"].as_str().unwrap());
    let res = app
        .patch_as(&alice, &sub_path, &json!({"subagent_ids": [main["id"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["subagent_ids[0]"]);
    assert_eq!(read(&app, &alice, &sub_path).await["subagent_ids"], json!([]));
}

#[tokio::test]
async fn soft_deleted_agents_vanish_from_every_read_and_link() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let sub = create_agent(&app, &alice, json!({"name": "sub", "model": "m"})).await;
    let other = create_agent(&app, &alice, json!({"name": "other", "model": "m"})).await;
    let main = create_agent(
        &app,
        &alice,
        json!({"name": "main", "model": "m", "subagent_ids": [sub["id"], other["id"]]}),
    )
    .await;
    let sub_path = format!("/api/v1/agents/{}", sub["id"].as_str().unwrap());
    let main_path = format!("/api/v1/agents/{}", main["id"].as_str().unwrap());

    let res = app.delete_as(&alice, &sub_path).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty());
    assert_problem(app.get_as(&alice, &sub_path).send().await.unwrap(), 404).await;
    assert_problem(
        app.patch_as(&alice, &sub_path, &json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_problem(app.delete_as(&alice, &sub_path).send().await.unwrap(), 404).await;
    let list = read(&app, &alice, "/api/v1/agents").await;
    assert_eq!(list["total"], 2);
    assert!(list["items"].as_array().unwrap().iter().all(|a| a["id"] != sub["id"]));
    let listed_main = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == main["id"])
        .cloned()
        .unwrap();
    assert_eq!(listed_main["subagent_ids"], json!([other["id"]]));
    assert_eq!(
        read(&app, &alice, &main_path).await["subagent_ids"],
        json!([other["id"]])
    );

    let relink = json!({"subagent_ids": [other["id"], sub["id"]]});
    let res = app.patch_as(&alice, &main_path, &relink).send().await.unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["subagent_ids[1]"]);
    let create = json!({"name": "n", "model": "m", "subagent_ids": [sub["id"]]});
    let res = app.post_as(&alice, "/api/v1/agents", &create).send().await.unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["subagent_ids[0]"]);

    // The row is kept (soft delete), only hidden.
    use ::agents::entities::agent;
    use sea_orm::EntityTrait;
    let id = uuid::Uuid::parse_str(sub["id"].as_str().unwrap()).unwrap();
    let stored = agent::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("the row stays");
    assert!(stored.deleted_at.is_some());
}

#[tokio::test]
async fn unknown_ids_in_the_path_are_404() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let missing = format!("/api/v1/agents/{}", uuid::Uuid::now_v7());
    assert_problem(app.get_as(&alice, &missing).send().await.unwrap(), 404).await;
    assert_problem(app.patch_as(&alice, &missing, &json!({})).send().await.unwrap(), 404).await;
    assert_problem(app.delete_as(&alice, &missing).send().await.unwrap(), 404).await;
    assert_problem(
        app.get_as(&alice, "/api/v1/agents/not-a-uuid").send().await.unwrap(),
        404,
    )
    .await;
}
