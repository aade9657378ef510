//! `GET /api/v1/ws/executions/{id}`: authentication at the handshake, replay and live
//! events without gap or duplicate, `?after=` after a reconnect, and the closing code.

use std::time::Duration;

use agentry_tests::{TestApp, TestUser};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{echo_agent, events, finished, start, wait_for, words};

/// An open WebSocket to the server.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How the handshake authenticates.
pub(crate) enum Auth<'a> {
    /// `Authorization: Bearer <token>`.
    Header(&'a str),
    /// `?access_token=<token>`.
    Query(&'a str),
    /// Nothing.
    Anonymous,
}

/// Opens the execution's stream; `Err((status, body))` when the handshake is refused.
pub(crate) async fn connect(
    app: &TestApp,
    id: &str,
    after: Option<i64>,
    auth: Auth<'_>,
) -> Result<Socket, (u16, Value)> {
    let mut query = after.map(|a| format!("after={a}")).into_iter().collect::<Vec<_>>();
    if let Auth::Query(token) = auth {
        query.push(format!("access_token={token}"));
    }
    let url = app
        .url(&format!("/api/v1/ws/executions/{id}?{}", query.join("&")))
        .replacen("http://", "ws://", 1);
    let mut request = url.into_client_request().unwrap();
    if let Auth::Header(token) = auth {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(response.status(), 101);
            Ok(socket)
        }
        Err(WsError::Http(response)) => {
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert_eq!(content_type, "application/problem+json");
            let body = response
                .body()
                .as_deref()
                .map(|b| serde_json::from_slice(b).unwrap())
                .unwrap_or(Value::Null);
            Err((response.status().as_u16(), body))
        }
        Err(other) => panic!("handshake failed: {other}"),
    }
}

/// Reads text frames until the server closes (at most 20 s); returns them and the close code.
pub(crate) async fn drain(socket: &mut Socket, limit: usize) -> (Vec<Value>, Option<CloseCode>) {
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while received.len() < limit {
        let next = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("the stream stalled");
        match next {
            Some(Ok(Message::Text(text))) => received.push(serde_json::from_str(text.as_str()).unwrap()),
            Some(Ok(Message::Close(frame))) => return (received, frame.map(|f| f.code)),
            Some(Ok(_)) => {}
            Some(Err(err)) => panic!("socket error: {err}"),
            None => return (received, None),
        }
    }
    (received, None)
}

async fn slow_app() -> (TestApp, TestUser, String) {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 15).await;
    let ada = app.register("ada").await;
    let agent = echo_agent(&app, &ada, "Slow").await;
    (app, ada, agent)
}

#[tokio::test]
async fn a_watcher_gets_stored_then_live_events_in_order_and_a_normal_close() {
    let (app, ada, agent) = slow_app().await;
    let id = start(&app, &ada, &agent, &words(40)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for(&app, &ada, &id, |e| e["status"] == "running").await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut socket = connect(&app, &id, None, Auth::Header(&ada.access_token)).await.unwrap();
    let (received, code) = drain(&mut socket, usize::MAX).await;
    assert_eq!(code, Some(CloseCode::Normal));
    let stored = events(&app, &ada, &id, 0).await;
    assert_eq!(received, stored, "every event once, in order, as stored");
    assert_eq!(received.last().unwrap()["type"], "execution.completed");
    assert_eq!(finished(&app, &ada, &id).await["status"], "completed");
}

#[tokio::test]
async fn a_reconnect_with_after_continues_where_the_client_left_off() {
    let (app, ada, agent) = slow_app().await;
    let id = start(&app, &ada, &agent, &words(40)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut first = connect(&app, &id, None, Auth::Query(&ada.access_token)).await.unwrap();
    let (head, code) = drain(&mut first, 5).await;
    assert_eq!((head.len(), code), (5, None));
    first.close(None).await.unwrap();
    let last_seen = head.last().unwrap()["seq"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut second = connect(&app, &id, Some(last_seen), Auth::Query(&ada.access_token))
        .await
        .unwrap();
    let (tail, code) = drain(&mut second, usize::MAX).await;
    assert_eq!(code, Some(CloseCode::Normal));
    let mut seen = head;
    seen.extend(tail);
    assert_eq!(seen, events(&app, &ada, &id, 0).await, "no gap, no duplicate");

    let mut late = connect(&app, &id, Some(2), Auth::Header(&ada.access_token))
        .await
        .unwrap();
    let (replayed, code) = drain(&mut late, usize::MAX).await;
    assert_eq!(
        (replayed.first().map(|e| e["seq"].clone()), code),
        (Some(Value::from(3)), Some(CloseCode::Normal))
    );
    assert_eq!(replayed, seen[2..].to_vec(), "a finished execution replays and closes");
}

#[tokio::test]
async fn the_handshake_needs_a_valid_token_and_the_callers_execution() {
    let (app, ada, agent) = slow_app().await;
    let bob = app.register("bob").await;
    let id = start(&app, &ada, &agent, "hi").await["id"].as_str().unwrap().to_owned();

    for auth in [Auth::Anonymous, Auth::Header("not-a-jwt"), Auth::Query("not-a-jwt")] {
        let (status, problem) = connect(&app, &id, None, auth).await.expect_err("refused");
        assert_eq!((status, problem["code"].as_str()), (401, Some("unauthorized")));
    }
    let (status, _) = connect(&app, &id, None, Auth::Header(&bob.access_token))
        .await
        .expect_err("refused");
    assert_eq!(status, 404, "another user's execution");
    let (status, _) = connect(&app, &id, None, Auth::Query(&bob.access_token))
        .await
        .expect_err("refused");
    assert_eq!(status, 404);
    let unknown = uuid::Uuid::now_v7().to_string();
    let (status, _) = connect(&app, &unknown, None, Auth::Header(&ada.access_token))
        .await
        .expect_err("refused");
    assert_eq!(status, 404);
    let (status, problem) = connect(&app, &id, Some(-1), Auth::Header(&ada.access_token))
        .await
        .expect_err("refused");
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("after")));

    let plain = app
        .get_as(&ada, &format!("/api/v1/ws/executions/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 400, "a plain GET is not an upgrade");
    assert!(connect(&app, &id, None, Auth::Query(&ada.access_token)).await.is_ok());
}

#[tokio::test]
async fn many_watchers_of_one_execution_each_get_the_whole_log() {
    let (app, ada, agent) = slow_app().await;
    let id = start(&app, &ada, &agent, &words(30)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut sockets = Vec::new();
    for _ in 0..20 {
        sockets.push(connect(&app, &id, None, Auth::Header(&ada.access_token)).await.unwrap());
    }
    let results = futures_util::future::join_all(sockets.iter_mut().map(|s| drain(s, usize::MAX))).await;
    let stored = events(&app, &ada, &id, 0).await;
    for (received, code) in results {
        assert_eq!(code, Some(CloseCode::Normal));
        assert_eq!(received, stored);
    }
}

#[tokio::test]
async fn a_reconnect_after_the_terminal_event_closes_at_once() {
    let (app, ada, agent) = slow_app().await;
    let id = start(&app, &ada, &agent, "hi").await["id"].as_str().unwrap().to_owned();
    finished(&app, &ada, &id).await;
    let last = events(&app, &ada, &id, 0).await.last().unwrap()["seq"]
        .as_i64()
        .unwrap();
    for after in [last, last + 10] {
        let mut socket = connect(&app, &id, Some(after), Auth::Header(&ada.access_token))
            .await
            .unwrap();
        let (received, code) = drain(&mut socket, usize::MAX).await;
        assert_eq!((received.len(), code), (0, Some(CloseCode::Normal)), "after={after}");
    }
}

#[tokio::test]
async fn a_frame_header_claiming_a_huge_length_closes_the_socket_with_1009() {
    use tokio::io::AsyncWriteExt;

    let (app, ada, agent) = slow_app().await;
    // Long enough that the run does not end (and close the socket) during the test.
    let id = start(&app, &ada, &agent, &words(2000)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut socket = connect(&app, &id, None, Auth::Header(&ada.access_token)).await.unwrap();
    // A masked binary frame announcing 2^62 bytes, then some of them.
    let mut raw = vec![0x82, 0x80 | 127];
    raw.extend_from_slice(&(1u64 << 62).to_be_bytes());
    raw.extend_from_slice(&[1, 2, 3, 4]);
    raw.extend(std::iter::repeat_n(0u8, 256 * 1024));
    let MaybeTlsStream::Plain(tcp) = socket.get_mut() else {
        panic!("a plain TCP socket");
    };
    // The server may close before it has read everything: a failed write is fine.
    let _ = tcp.write_all(&raw).await;
    let (_, code) = drain(&mut socket, usize::MAX).await;
    assert_eq!(code, Some(CloseCode::Size));

    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the server keeps serving");
    let mut again = connect(&app, &id, None, Auth::Header(&ada.access_token)).await.unwrap();
    let (head, code) = drain(&mut again, 2).await;
    assert_eq!((head.len(), code), (2, None), "another watcher is served");
}
