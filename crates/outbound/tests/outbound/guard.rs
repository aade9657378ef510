//! The guard: internal addresses refused before any connection unless allowlisted.

use std::time::Duration;

use outbound::http_tool::result_text;
use outbound::{OutboundClient, OutboundError, OutboundPolicy, OutboundRequest};

use crate::server::{Reply, TestServer};

fn client(allowlist: &str) -> OutboundClient {
    OutboundClient::new(OutboundPolicy::parse(allowlist).expect("allowlist")).expect("client")
}

fn get(url: &str) -> OutboundRequest {
    OutboundRequest {
        method: reqwest::Method::GET,
        url: url::Url::parse(url).expect("url"),
        headers: Vec::new(),
        json_body: None,
        timeout: Duration::from_secs(5),
        max_response_bytes: 1024,
    }
}

fn refused_host(outcome: &Result<outbound::OutboundResponse, OutboundError>) -> &str {
    match outcome {
        Err(OutboundError::Refused { host }) => host,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn only_the_allowlisted_loopback_address_is_reached() {
    let allowed = TestServer::start("127.0.0.1", Reply::ok("one")).await;
    let other = TestServer::start("127.0.0.2", Reply::ok("two")).await;
    let client = client("127.0.0.1/32");

    let outcome = client.send(get(allowed.url("/").as_str())).await;
    assert_eq!(result_text(&outcome), ("one".to_owned(), false));

    let outcome = client.send(get(other.url("/").as_str())).await;
    assert_eq!(refused_host(&outcome), "127.0.0.2");
    assert_eq!(
        result_text(&outcome),
        ("refused: 127.0.0.2 is an internal address".to_owned(), true)
    );
    assert_eq!(other.connections(), 0);
}

#[tokio::test]
async fn the_default_policy_refuses_loopback_literals_in_every_spelling() {
    let server = TestServer::start("127.0.0.1", Reply::ok("one")).await;
    let port = server.addr.port();
    let client = client("");

    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
    ] {
        let outcome = client.send(get(&url)).await;
        assert!(
            matches!(outcome, Err(OutboundError::Refused { .. })),
            "{url}: {outcome:?}"
        );
    }
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn metadata_and_private_literals_are_refused_without_a_connection() {
    let client = client("");
    for (url, host) in [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://10.0.0.1/", "10.0.0.1"),
        ("https://[fd00::1]/", "[fd00::1]"),
        ("http://[::1]:9/", "[::1]"),
        ("http://0.0.0.0:9/", "0.0.0.0"),
    ] {
        let outcome = client.send(get(url)).await;
        assert_eq!(refused_host(&outcome), host, "{url}");
    }
}

#[tokio::test]
async fn localhost_is_refused_unless_allowlisted() {
    let server = TestServer::start("127.0.0.1", Reply::ok("hello")).await;
    let url = format!("http://localhost:{}/", server.addr.port());

    let outcome = client("").send(get(&url)).await;
    assert_eq!(refused_host(&outcome), "localhost");
    assert_eq!(server.connections(), 0);

    let outcome = client("localhost").send(get(&url)).await;
    assert_eq!(result_text(&outcome), ("hello".to_owned(), false));

    // By address: localhost's 127.0.0.1 is allowed, its ::1 (if any) is dropped.
    let outcome = client("127.0.0.1/32").send(get(&url)).await;
    assert_eq!(result_text(&outcome), ("hello".to_owned(), false));
}

#[tokio::test]
async fn only_http_and_https_are_called() {
    let outcome = client("").send(get("ftp://example.com/file")).await;
    assert!(matches!(outcome, Err(OutboundError::InvalidUrl(_))), "{outcome:?}");
}
