//! A request body with a `Content-Encoding` is refused with `415` (the server decodes none),
//! rather than misread as plain text.

use agentry_tests::{TestApp, assert_problem};
use reqwest::Method;

#[tokio::test]
async fn a_body_with_a_content_encoding_is_a_415_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    // gzip of `{"name":"zipped","model":"echo-1"}` would be misread; any coding but identity is refused.
    for coding in ["gzip", "br", "deflate, gzip", "x-custom"] {
        let res = app
            .request(Method::POST, "/api/v1/agents")
            .bearer_auth(&ada.access_token)
            .header("content-type", "application/json")
            .header("content-encoding", coding)
            .body(r#"{"name":"plain","model":"echo-1"}"#)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 415).await;
        assert_eq!(problem["code"], "unsupported_media_type");
        assert!(
            problem["detail"].as_str().unwrap().contains("Content-Encoding"),
            "{problem}"
        );
    }
    let res = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-encoding", "gzip")
        .body("username=ada&password=password-ada")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let listed: serde_json::Value = app
        .get_as(&ada, "/api/v1/agents")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 0, "{listed}");
    let res = app
        .request(Method::POST, "/api/v1/agents")
        .bearer_auth(&ada.access_token)
        .header("content-type", "application/json")
        .header("content-encoding", "identity")
        .body(r#"{"name":"plain","model":"echo-1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "identity is no coding");
}
