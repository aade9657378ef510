//! NUL (`\u0000`) in any text is refused with a `422` naming the field, on both databases
//! (PostgreSQL cannot store it), and nothing is stored.

use agentry_tests::{TestApp, assert_problem, field_names};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const NUL: &str = "a\u{0}b";

async fn count(app: &TestApp, table: &str) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test]
async fn nul_in_any_body_field_is_a_422_naming_it_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let agent = app
        .post_as(&ada, "/api/v1/agents", &json!({"name": "base", "model": "echo-1"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    let agents_before = count(&app, "agents").await;
    let cases: Vec<(Method, String, Value, &str, &str)> = vec![
        (
            Method::POST,
            "/api/v1/agents".into(),
            json!({"name": NUL, "model": "echo-1"}),
            "name",
            "agents",
        ),
        (
            Method::POST,
            "/api/v1/agents".into(),
            json!({"name": "x", "model": "echo-1", "description": NUL}),
            "description",
            "agents",
        ),
        (
            Method::POST,
            "/api/v1/agents".into(),
            json!({"name": "x", "model": "echo-1", "system_prompt": NUL}),
            "system_prompt",
            "agents",
        ),
        (
            Method::POST,
            "/api/v1/agents".into(),
            json!({"name": "x", "model": "echo-1", "metadata": {"key": NUL}}),
            "metadata.key",
            "agents",
        ),
        (
            Method::POST,
            "/api/v1/agents".into(),
            json!({"name": "x", "model": "echo-1", "metadata": {NUL: 1}}),
            "metadata",
            "agents",
        ),
        (
            Method::PATCH,
            format!("/api/v1/agents/{agent_id}"),
            json!({"name": NUL}),
            "name",
            "agents",
        ),
        (
            Method::POST,
            "/api/v1/tools".into(),
            json!({"name": "t", "description": NUL, "parameters": {"type": "object"}}),
            "description",
            "tools",
        ),
        (
            Method::POST,
            "/api/v1/tools".into(),
            json!({"name": "t", "parameters": {"type": "object", "properties": {"q": {"enum": ["ok", NUL]}}}}),
            "parameters.properties.q.enum[1]",
            "tools",
        ),
        (
            Method::POST,
            "/api/v1/conversations".into(),
            json!({"title": NUL}),
            "title",
            "conversations",
        ),
        (
            Method::POST,
            "/api/v1/conversations".into(),
            json!({"metadata": {"k": [NUL]}}),
            "metadata.k[0]",
            "conversations",
        ),
        (
            Method::POST,
            "/api/v1/chat/messages".into(),
            json!({"content": NUL}),
            "content",
            "messages",
        ),
        (
            Method::POST,
            format!("/api/v1/agents/{agent_id}/execute"),
            json!({"input": NUL}),
            "input",
            "executions",
        ),
        (
            Method::PATCH,
            "/api/v1/users/me".into(),
            json!({"full_name": NUL}),
            "full_name",
            "users",
        ),
    ];
    for (method, path, body, field, table) in cases {
        let before = count(&app, table).await;
        let res = app
            .request(method.clone(), &path)
            .bearer_auth(&ada.access_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), [field], "{method} {path} {body}");
        assert_eq!(count(&app, table).await, before, "{method} {path} stored something");
    }
    assert_eq!(count(&app, "agents").await, agents_before);
    let me: Value = app
        .get_as(&ada, "/api/v1/users/me")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["full_name"], Value::Null);
}

#[tokio::test]
async fn nul_in_a_query_parameter_or_a_login_form_is_a_422_naming_it() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for path in ["/api/v1/agents?q=%00", "/api/v1/tools?q=a%00", "/api/v1/users?q=%00"] {
        let res = app.get_as(&ada, path).send().await.unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), ["q"], "{path}");
    }
    let res = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=ada%00&password=x")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(field_names(&problem), ["username"]);
    let res = app
        .request(Method::POST, "/api/v1/auth/register")
        .json(&json!({"email": "b@example.com", "username": "bob", "password": "pass\u{0}word1"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(field_names(&problem), ["password"]);
    assert_eq!(count(&app, "users").await, 1);
}
