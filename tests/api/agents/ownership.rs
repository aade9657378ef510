//! The cross-owner matrix: another user's agents and tools are `404` in the path and
//! `422` as link targets; and every route needs a login.

use agentry_tests::{TestApp, assert_problem, field_names};
use reqwest::Method;
use serde_json::json;

use super::{create_agent, create_tool, read};

#[tokio::test]
async fn another_users_agent_and_tool_are_404_on_every_route() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let tool = create_tool(&app, &alice, "search").await;
    let agent = create_agent(&app, &alice, json!({"name": "mine", "model": "m", "tool_ids": [tool]})).await;
    let agent_path = format!("/api/v1/agents/{}", agent["id"].as_str().unwrap());
    let tool_path = format!("/api/v1/tools/{tool}");

    for path in [&agent_path, &tool_path] {
        let problem = assert_problem(app.get_as(&bob, path).send().await.unwrap(), 404).await;
        assert_eq!(problem["code"], "not_found");
        assert_problem(
            app.patch_as(&bob, path, &json!({"name": "stolen"}))
                .send()
                .await
                .unwrap(),
            404,
        )
        .await;
        assert_problem(app.delete_as(&bob, path).send().await.unwrap(), 404).await;
    }
    assert_eq!(
        read(&app, &alice, &agent_path).await,
        agent,
        "alice's agent is untouched"
    );
    assert_eq!(
        read(&app, &alice, &tool_path).await["name"],
        "search",
        "alice's tool is untouched"
    );
    for list in ["/api/v1/agents", "/api/v1/tools"] {
        assert_eq!(read(&app, &bob, list).await["total"], 0, "{list}");
        assert_eq!(read(&app, &alice, list).await["total"], 1, "{list}");
    }
}

#[tokio::test]
async fn another_users_agent_and_tool_are_422_as_link_targets() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let alices_tool = create_tool(&app, &alice, "search").await;
    let alices_agent = create_agent(&app, &alice, json!({"name": "a", "model": "m"})).await;
    let bobs_tool = create_tool(&app, &bob, "search").await;
    let bobs_agent = create_agent(&app, &bob, json!({"name": "b", "model": "m"})).await;
    let bobs_path = format!("/api/v1/agents/{}", bobs_agent["id"].as_str().unwrap());

    let create =
        json!({"name": "n", "model": "m", "tool_ids": [bobs_tool, alices_tool], "subagent_ids": [alices_agent["id"]]});
    let problem = assert_problem(app.post_as(&bob, "/api/v1/agents", &create).send().await.unwrap(), 422).await;
    assert_eq!(field_names(&problem), ["tool_ids[1]", "subagent_ids[0]"]);
    let message = |i: usize| problem["errors"][i]["message"].as_str().unwrap_or_default().to_owned();
    let (tool_id, agent_id) = (&alices_tool, alices_agent["id"].as_str().unwrap());
    assert_eq!(message(0), format!("{tool_id} is not one of your tools"));
    assert_eq!(message(1), format!("{agent_id} is not one of your agents"));
    let patch = json!({"tool_ids": [alices_tool]});
    let problem = assert_problem(app.patch_as(&bob, &bobs_path, &patch).send().await.unwrap(), 422).await;
    assert_eq!(field_names(&problem), ["tool_ids[0]"]);
    let patch = json!({"subagent_ids": [alices_agent["id"]]});
    let problem = assert_problem(app.patch_as(&bob, &bobs_path, &patch).send().await.unwrap(), 422).await;
    assert_eq!(field_names(&problem), ["subagent_ids[0]"]);
    assert_eq!(read(&app, &bob, &bobs_path).await, bobs_agent, "nothing was linked");
    assert_eq!(read(&app, &bob, "/api/v1/agents").await["total"], 1);
}

#[tokio::test]
async fn every_route_needs_a_valid_login() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7();
    let routes = [
        (Method::POST, "/api/v1/agents".to_owned()),
        (Method::GET, "/api/v1/agents".to_owned()),
        (Method::GET, format!("/api/v1/agents/{id}")),
        (Method::PATCH, format!("/api/v1/agents/{id}")),
        (Method::DELETE, format!("/api/v1/agents/{id}")),
        (Method::POST, "/api/v1/tools".to_owned()),
        (Method::GET, "/api/v1/tools".to_owned()),
        (Method::GET, format!("/api/v1/tools/{id}")),
        (Method::PATCH, format!("/api/v1/tools/{id}")),
        (Method::DELETE, format!("/api/v1/tools/{id}")),
    ];
    for (method, path) in routes {
        for token in [None, Some("not-a-jwt")] {
            let mut req = app
                .request(method.clone(), &path)
                .json(&json!({"name": "x", "model": "m"}));
            if let Some(token) = token {
                req = req.bearer_auth(token);
            }
            let res = req.send().await.unwrap();
            assert_eq!(
                res.headers().get("www-authenticate").map(|v| v.to_str().unwrap()),
                Some("Bearer"),
                "{method} {path}"
            );
            assert_problem(res, 401).await;
        }
    }
}
