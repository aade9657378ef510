//! `GET /v1/models` and `GET /v1/models/{model}`: the caller's live agents, by id or name.

use agentry_tests::{TestApp, assert_problem};
use serde_json::Value;

use super::{agent, api_key, assert_openai_error};

#[tokio::test]
async fn models_are_the_callers_live_agents_with_an_api_key() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let writer = agent(&app, &ada, "writer").await;
    let gone = agent(&app, &ada, "gone").await;
    agent(&app, &bob, "bobs").await;
    let res = app
        .delete_as(&ada, &format!("/api/v1/agents/{gone}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let key = api_key(&app, &ada).await;
    let res = app
        .client
        .get(app.url("/v1/models"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    assert_eq!(list["object"], "list");
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    let model = &data[0];
    assert_eq!(model["id"], writer.as_str());
    assert_eq!(model["object"], "model");
    assert_eq!(model["owned_by"], ada.id.to_string());
    assert_eq!(model["name"], "writer");
    let created = model["created"].as_i64().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((now - 60..=now + 1).contains(&created), "Unix seconds: {created}");

    for name in [writer.as_str(), "writer"] {
        let one = app.get_ok(&ada, &format!("/v1/models/{name}")).await;
        assert_eq!(&one, model, "by {name}");
    }
}

#[tokio::test]
async fn an_unknown_deleted_or_foreign_model_is_a_404_naming_model() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let bobs = agent(&app, &bob, "bobs").await;
    for model in [bobs.as_str(), "bobs", "nobody", "00000000-0000-7000-8000-000000000000"] {
        let res = app.get_as(&ada, &format!("/v1/models/{model}")).send().await.unwrap();
        let body = assert_problem(res, 404).await;
        let error = assert_openai_error(&body, "not_found_error", Some("model"));
        assert_eq!(error["code"], "model_not_found");
        assert!(error["message"].as_str().unwrap().contains(model), "{error}");
    }
}

#[tokio::test]
async fn a_name_two_agents_share_is_a_422_naming_model_and_the_id_still_works() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let first = agent(&app, &ada, "twin").await;
    agent(&app, &ada, "twin").await;
    let res = app.get_as(&ada, "/v1/models/twin").send().await.unwrap();
    let body = assert_problem(res, 422).await;
    assert_openai_error(&body, "invalid_request_error", Some("model"));
    assert_eq!(
        app.get_ok(&ada, &format!("/v1/models/{first}")).await["id"],
        first.as_str()
    );
}
