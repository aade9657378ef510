//! Cross-cutting conventions: request ids, timing, problem bodies, limits, media types, CORS.

use agentry_tests::{TestApp, assert_problem, field_names};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_response_has_request_id_and_process_time() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a generated UUID");
    let took: f64 = res.headers()["x-process-time"].to_str().unwrap().parse().unwrap();
    assert!(took >= 0.0);

    let res = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
    let problem = assert_problem(res, 404).await;
    assert_eq!(problem["request_id"], "trace-abc-123");
    assert_eq!(problem["instance"], "/nowhere");
}

#[tokio::test]
async fn an_unusable_client_request_id_is_replaced() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(200);
    let res = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", &long)
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], long.as_str());
}

#[tokio::test]
async fn wrong_method_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::PUT, "/api/v1/users/me").send().await.unwrap();
    let allow = res.headers()["allow"].to_str().unwrap().to_owned();
    assert_eq!(allow, "DELETE, GET, PATCH");
    let problem = assert_problem(res, 405).await;
    assert_eq!(problem["code"], "method_not_allowed");
    let res = app.request(Method::GET, "/api/v1/auth/login").send().await.unwrap();
    assert_eq!(res.headers()["allow"], "POST");
    assert_problem(res, 405).await;
}

#[tokio::test]
async fn body_over_the_limit_is_413_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|c| c.body_limit_bytes = 1024).await;
    let body = json!({"email": "big@example.com", "username": "big", "password": "password-big", "full_name": "x".repeat(2000)});
    let res = app
        .request(Method::POST, "/api/v1/auth/register")
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 413).await;
    assert_eq!(problem["code"], "payload_too_large");
    assert!(app.state.users.find_by_login("big").await.unwrap().is_none());
}

#[tokio::test]
async fn non_json_body_is_415() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::POST, "/api/v1/auth/register")
        .header("content-type", "text/plain")
        .body("email=a@b.c")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let res = app
        .request(Method::POST, "/api/v1/auth/register")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
}

#[tokio::test]
async fn malformed_json_is_422_with_an_empty_error_list() {
    let app = TestApp::spawn().await;
    for body in ["{", "not json", "[1,2", r#"{"email": "a@b.c",}"#, r#"{"a":1} trailing"#] {
        let res = app
            .request(Method::POST, "/api/v1/auth/register")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(problem["errors"], json!([]), "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains("not valid JSON"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn wrong_types_and_missing_fields_name_the_field() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"email": 5, "username": "abc", "password": "password1"}), "email"),
        (json!({"email": "a@example.com", "password": "password1"}), "username"),
        (
            json!({"email": "a@example.com", "username": "abc", "password": ["x"]}),
            "password",
        ),
        (
            json!({"email": "a@example.com", "username": "abc", "password": "password1", "full_name": 3}),
            "full_name",
        ),
        (json!([1, 2]), ""),
    ];
    for (body, field) in cases {
        let res = app
            .request(Method::POST, "/api/v1/auth/register")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), [field], "{body}: {problem}");
    }
}

#[tokio::test]
async fn every_rule_violation_is_listed_at_once() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "not-an-email", "username": "a b", "password": "short"});
    let res = app
        .request(Method::POST, "/api/v1/auth/register")
        .json(&body)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    let mut fields = field_names(&problem);
    fields.sort();
    assert_eq!(fields, ["email", "password", "username"]);
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let app = TestApp::spawn().await;
    let body = json!({"email": "x@example.com", "username": "xavier", "password": "password-x", "is_superuser": true, "id": "nope", "color": "red"});
    let res = app
        .request(Method::POST, "/api/v1/auth/register")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let stored = app.state.users.find_by_login("xavier").await.unwrap().unwrap();
    assert!(!stored.is_superuser);
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::spawn_with(|c| c.cors_allowed_origins = Some("https://app.example.com".into())).await;
    let res = app
        .request(Method::OPTIONS, "/api/v1/users/me")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example.com");

    let res = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn answers_vary_on_origin_with_or_without_one_and_expose_headers_only_to_cors_requests() {
    const VARY: &str = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
    let app = TestApp::spawn_with(|c| c.cors_allowed_origins = Some("https://app.example.com".into())).await;
    // A request without Origin (curl, a server, a same-site page): only Vary, so a cache
    // never serves this answer to a CORS request.
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["vary"], VARY);
    assert!(
        res.headers()
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-")),
        "{:?}",
        res.headers()
    );
    // Errors too (an unknown route's 404).
    let res = app.client.get(app.url("/api/v1/nowhere")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["vary"], VARY);

    // A CORS request from an allowed origin: the origin, the readable headers, the same Vary.
    let res = app
        .client
        .get(app.url("/health"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "https://app.example.com");
    let exposed = res.headers()["access-control-expose-headers"].to_str().unwrap();
    for name in ["x-request-id", "x-process-time", "location", "idempotent-replayed"] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }
    assert_eq!(res.headers()["vary"], VARY);
}
