//! What is sent, and how answers, stalls, errors and floods come back.

use std::time::{Duration, Instant};

use outbound::http_tool::{prepare, result_text, secret_names};
use outbound::{OutboundClient, OutboundError, OutboundPolicy, OutboundRequest};
use serde_json::{Map, Value, json};

use crate::server::{Reply, TestServer};

/// A client allowed to reach the test servers on 127.0.0.1 only.
fn client() -> OutboundClient {
    OutboundClient::new(OutboundPolicy::parse("127.0.0.1/32").expect("allowlist")).expect("client")
}

fn arguments(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("an object"),
    }
}

fn get(server: &TestServer, timeout: Duration, max_response_bytes: usize) -> OutboundRequest {
    OutboundRequest {
        method: reqwest::Method::GET,
        url: server.url("/"),
        headers: Vec::new(),
        json_body: None,
        timeout,
        max_response_bytes,
    }
}

#[tokio::test]
async fn a_post_tool_call_sends_the_encoded_path_the_json_body_and_the_secret_header() {
    let server = TestServer::start("127.0.0.1", Reply::ok("created")).await;
    let headers = vec![
        ("Authorization".to_owned(), "Bearer {{secret:API_TOKEN}}".to_owned()),
        ("X-Team".to_owned(), "blue".to_owned()),
    ];
    assert_eq!(secret_names(&headers), ["API_TOKEN"]);
    let secrets = |name: &str| (name == "API_TOKEN").then(|| "s3cr3t-value".to_owned());
    let template = format!("http://{}/projects/{{project}}/items", server.addr);
    let args = arguments(json!({"project": "a b/c", "title": "Buy milk", "priority": 2}));
    let request = prepare(
        "POST",
        &template,
        &headers,
        &args,
        &secrets,
        Duration::from_secs(5),
        1024,
    )
    .expect("prepared");

    let outcome = client().send(request).await;

    assert_eq!(result_text(&outcome), ("created".to_owned(), false));
    let received = server.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/projects/a%20b%2Fc/items");
    assert_eq!(request.header("authorization"), Some("Bearer s3cr3t-value"));
    assert_eq!(request.header("x-team"), Some("blue"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
    assert_eq!(body, json!({"title": "Buy milk", "priority": 2}));
}

#[tokio::test]
async fn a_get_tool_call_sends_the_other_arguments_as_the_query() {
    let server = TestServer::start("127.0.0.1", Reply::ok(r#"{"temp":21}"#)).await;
    let template = format!("http://{}/weather/{{city}}", server.addr);
    let args = arguments(json!({"city": "São Paulo", "days": 3, "units": "metric & more"}));
    let request = prepare("GET", &template, &[], &args, &|_| None, Duration::from_secs(5), 1024).expect("prepared");

    let outcome = client().send(request).await;

    assert_eq!(result_text(&outcome), (r#"{"temp":21}"#.to_owned(), false));
    let received = server.received();
    assert_eq!(received[0].method, "GET");
    let (path, query) = received[0].target.split_once('?').expect("a query");
    assert_eq!(path, "/weather/S%C3%A3o%20Paulo");
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("days".to_owned(), "3".to_owned()),
            ("units".to_owned(), "metric & more".to_owned())
        ]
    );
    assert!(received[0].body.is_empty());
}

#[tokio::test]
async fn a_slow_endpoint_times_out_at_the_timeout() {
    let server = TestServer::start("127.0.0.1", Reply::Stall(Duration::from_secs(30))).await;
    let started = Instant::now();

    let outcome = client().send(get(&server, Duration::from_millis(300), 1024)).await;

    assert!(matches!(outcome, Err(OutboundError::Timeout(limit)) if limit == Duration::from_millis(300)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(result_text(&outcome), ("timed out after 300 ms".to_owned(), true));
}

#[tokio::test]
async fn the_timeout_covers_the_body() {
    let server = TestServer::start("127.0.0.1", Reply::Trickle).await;
    let started = Instant::now();

    let outcome = client().send(get(&server, Duration::from_millis(350), 1024)).await;

    assert!(matches!(outcome, Err(OutboundError::Timeout(_))), "{outcome:?}");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_non_2xx_status_is_an_error_text_with_the_status_and_body() {
    let server = TestServer::start("127.0.0.1", Reply::status(404, "no such city")).await;

    let outcome = client().send(get(&server, Duration::from_secs(5), 1024)).await;

    let response = outcome.as_ref().expect("an answer");
    assert_eq!(response.status, 404);
    assert_eq!(response.body, "no such city");
    assert_eq!(
        result_text(&outcome),
        (
            "the endpoint answered HTTP 404 Not Found: no such city".to_owned(),
            true
        )
    );
}

#[tokio::test]
async fn an_oversize_body_is_cut_and_the_rest_never_read() {
    const FIFTY_MB: usize = 50 * 1024 * 1024;
    let server = TestServer::start("127.0.0.1", Reply::Flood { bytes: FIFTY_MB }).await;

    let response = client()
        .send(get(&server, Duration::from_secs(10), 1000))
        .await
        .expect("an answer");

    assert_eq!(response.status, 200);
    assert!(response.truncated);
    assert_eq!(response.body, "a".repeat(1000));
    let written = server.flood_written().await;
    assert!(
        written < FIFTY_MB / 2,
        "the server could write {written} bytes: the client kept reading (socket buffers hold a few MB)"
    );
}

#[tokio::test]
async fn a_body_of_exactly_the_cap_is_whole() {
    let server = TestServer::start("127.0.0.1", Reply::ok("0123456789")).await;

    let response = client()
        .send(get(&server, Duration::from_secs(5), 10))
        .await
        .expect("an answer");

    assert_eq!(response.body, "0123456789");
    assert!(!response.truncated);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let target = TestServer::start("127.0.0.1", Reply::ok("secret page")).await;
    let redirect = TestServer::start(
        "127.0.0.1",
        Reply::Fixed {
            status: 302,
            headers: vec![("location", target.url("/inside").to_string())],
            body: Vec::new(),
        },
    )
    .await;

    let outcome = client().send(get(&redirect, Duration::from_secs(5), 1024)).await;

    assert_eq!(outcome.as_ref().expect("an answer").status, 302);
    assert_eq!(
        result_text(&outcome),
        ("the endpoint answered HTTP 302 Found".to_owned(), true)
    );
    assert_eq!(redirect.received().len(), 1);
    assert_eq!(target.connections(), 0, "the redirect target was contacted");
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let request = OutboundRequest {
        method: reqwest::Method::GET,
        url: url::Url::parse(&format!("http://{addr}/")).expect("url"),
        headers: vec![("Authorization".to_owned(), "Bearer hunter2".to_owned())],
        json_body: None,
        timeout: Duration::from_secs(5),
        max_response_bytes: 1024,
    };

    let outcome = client().send(request).await;

    assert!(matches!(outcome, Err(OutboundError::Connect(_))), "{outcome:?}");
    let (text, is_error) = result_text(&outcome);
    assert!(is_error && text.starts_with("could not connect"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
