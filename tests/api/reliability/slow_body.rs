//! A client that sends its headers and then stalls inside the body gets `408` after
//! `BODY_READ_TIMEOUT_SECS` instead of holding the connection forever.

use std::time::Duration;

use agentry_tests::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn a_body_that_stalls_is_answered_408_and_the_connection_closed() {
    let app = TestApp::spawn_with(|c| c.body_read_timeout_secs = 1).await;
    let ada = app.register("ada").await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut socket = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/agents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\":",
        ada.access_token
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    // The rest of the body never comes; the server answers and closes by itself.
    let mut answer = Vec::new();
    // A safety net only: without a body timeout the server would wait forever.
    tokio::time::timeout(Duration::from_secs(30), socket.read_to_end(&mut answer))
        .await
        .expect("the server answers a stalled body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}
