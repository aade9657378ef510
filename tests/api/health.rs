//! `/health`, `/health/ready`, `/metrics`, `/docs/`.

use agentry_tests::TestApp;
use serde_json::Value;

#[tokio::test]
async fn liveness_answers_with_version() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn readiness_reports_the_database() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok", "database": "ok"}));

    // The server shares this pool: closing it is the database going away.
    app.state.db.close_by_ref().await.unwrap();
    let res = app.client.get(app.url("/health/ready")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["database"], "unavailable");
}

#[tokio::test]
async fn a_closed_database_is_a_503_problem_not_a_500() {
    let app = TestApp::spawn().await;
    let user = app.register("dora").await;
    app.state.db.close_by_ref().await.unwrap();
    let res = app.get_as(&user, "/api/v1/users/me").send().await.unwrap();
    let problem = agentry_tests::assert_problem(res, 503).await;
    assert_eq!(problem["code"], "service_unavailable");
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = TestApp::spawn().await;
    let user = app.register("mia").await;
    // Counted three times (the later ones into the series a worker keeps).
    for _ in 0..3 {
        app.get_as(&user, "/api/v1/users/me").send().await.unwrap();
    }
    app.client
        .get(app.url(&format!("/api/v1/users/{}", user.id)))
        .send()
        .await
        .unwrap();
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("agentry_http_requests_total"), "{text}");
    assert!(
        text.contains(r#"agentry_http_requests_total{endpoint="/api/v1/users/me",method="GET",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"agentry_http_requests_duration_seconds_count{endpoint="/api/v1/users/me",method="GET",status="200"} 3"#
        ),
        "{text}"
    );
    // Ids never become label values: the route pattern is used.
    assert!(text.contains(r#"endpoint="/api/v1/users/{user_id}""#), "{text}");
    assert!(!text.contains(&user.id.to_string()));
}

#[tokio::test]
async fn swagger_ui_is_served_from_vendored_assets() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let res = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("/openapi.json"));
}

#[tokio::test]
async fn the_execution_viewer_example_is_served_from_the_api_origin() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(app.url("/examples/execution-viewer.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = res.text().await.unwrap();
    assert!(
        html.contains("new WebSocket"),
        "the page follows executions over the WebSocket"
    );
    // Without an icon of its own the browser asks for `/favicon.ico`, a 404 in its console.
    assert!(
        html.contains(r#"<link rel="icon" href="data:,">"#),
        "the page names its icon"
    );
}
