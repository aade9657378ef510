//! Errors on `/v1`: problem+json with OpenAI's `error` member, for every way a request
//! fails before or outside a handler too; `/api/v1` problems stay as they were.

use agentry_tests::{TestApp, assert_problem};
use serde_json::Value;

use super::assert_openai_error;

#[tokio::test]
async fn missing_or_bad_credentials_are_authentication_errors() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/v1/models")).send().await.unwrap();
    assert_eq!(
        res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let body = assert_problem(res, 401).await;
    assert_openai_error(&body, "authentication_error", None);
    let res = app
        .client
        .get(app.url("/v1/models"))
        .bearer_auth("agk_not-a-key-at-all-0123456789abcdef")
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, 401).await;
    assert_openai_error(&body, "authentication_error", None);
}

#[tokio::test]
async fn unknown_routes_and_methods_below_v1_answer_in_the_openai_shape() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = app.get_as(&ada, "/v1/embeddings").send().await.unwrap();
    let body = assert_problem(res, 404).await;
    assert_openai_error(&body, "not_found_error", None);
    let res = app.delete_as(&ada, "/v1/models").send().await.unwrap();
    let body = assert_problem(res, 405).await;
    assert_openai_error(&body, "invalid_request_error", None);
}

#[tokio::test]
async fn problems_outside_v1_are_unchanged() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/api/v1/users/me")).send().await.unwrap();
    let body: Value = assert_problem(res, 401).await;
    assert!(body.get("error").is_none(), "{body}");
}
