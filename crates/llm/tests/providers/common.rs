//! Shared helpers of the provider tests: configs pointing at fake servers, stream collection,
//! SSE bodies, and a raw TCP server for failures wiremock cannot stage (stalls, cut bodies).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use llm::{ChatResponse, LlmConfig, LlmError, StreamEvent};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A fake server answering every `POST endpoint` with `template`.
pub async fn server_answering_at(endpoint: &str, template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(endpoint))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// The OpenAI key the tests configure.
pub const OPENAI_KEY: &str = "sk-test-openai-5f1c9a";
/// The Anthropic key the tests configure.
pub const ANTHROPIC_KEY: &str = "sk-ant-test-77d2e0";

/// Fast limits, so failure tests finish quickly.
pub fn fast_config() -> LlmConfig {
    LlmConfig {
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        max_retries: 2,
        retry_base_delay: Duration::from_millis(10),
        ..LlmConfig::default()
    }
}

/// A config whose `openai` provider talks to `base` (`…/v1` appended).
pub fn openai_config(base: &str) -> LlmConfig {
    LlmConfig {
        openai_base_url: Some(format!("{base}/v1")),
        openai_api_key: Some(OPENAI_KEY.into()),
        ..fast_config()
    }
}

/// A config whose `anthropic` provider talks to `base`.
pub fn anthropic_config(base: &str) -> LlmConfig {
    LlmConfig {
        anthropic_base_url: Some(base.to_owned()),
        anthropic_api_key: Some(ANTHROPIC_KEY.into()),
        ..fast_config()
    }
}

/// Everything a stream produced.
#[derive(Debug, Default)]
pub struct Collected {
    /// The text deltas, in order.
    pub deltas: Vec<String>,
    /// The `Done` answer, if one came.
    pub done: Option<ChatResponse>,
    /// The error that ended the stream, if any.
    pub error: Option<LlmError>,
    /// Items after `Done` or after an error (must stay 0).
    pub trailing: usize,
}

/// Drains a provider stream.
pub async fn collect(mut stream: BoxStream<'static, Result<StreamEvent, LlmError>>) -> Collected {
    let mut collected = Collected::default();
    while let Some(item) = stream.next().await {
        if collected.done.is_some() || collected.error.is_some() {
            collected.trailing += 1;
            continue;
        }
        match item {
            Ok(StreamEvent::Delta(text)) => collected.deltas.push(text),
            Ok(StreamEvent::Done(response)) => collected.done = Some(response),
            Err(err) => collected.error = Some(err),
        }
    }
    collected
}

/// An SSE body of unnamed `data:` events.
pub fn openai_sse(chunks: &[Value]) -> String {
    let mut body: String = chunks.iter().map(|chunk| format!("data: {chunk}\n\n")).collect();
    body.push_str("data: [DONE]\n\n");
    body
}

/// An SSE body of named events, the name taken from each event's `type`.
pub fn anthropic_sse(events: &[Value]) -> String {
    events
        .iter()
        .map(|event| {
            format!(
                "event: {}\ndata: {event}\n\n",
                event["type"].as_str().unwrap_or("unknown")
            )
        })
        .collect()
}

/// The body of the one request a mock server received.
pub async fn only_request(server: &MockServer) -> wiremock::Request {
    let mut requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "expected exactly one request");
    requests.remove(0)
}

/// One step of a raw server's answer.
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Wait.
    Sleep(Duration),
}

/// The head of a chunked SSE answer.
pub fn sse_head() -> Step {
    Step::Send(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n".to_vec())
}

/// One HTTP/1.1 chunk holding `data`.
pub fn chunk(data: &str) -> Step {
    Step::Send(format!("{:x}\r\n{data}\r\n", data.len()).into_bytes())
}

/// A TCP server that answers every connection with `steps` and then closes it (no final
/// chunk, so a chunked body ends abruptly). Returns its base URL and a connection counter.
pub async fn raw_server(steps: Vec<Step>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let steps = Arc::new(steps);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let steps = Arc::clone(&steps);
            tokio::spawn(async move {
                read_request(&mut socket).await;
                for step in steps.iter() {
                    match step {
                        Step::Send(bytes) => {
                            if socket.write_all(bytes).await.is_err() {
                                return;
                            }
                            let _ = socket.flush().await;
                        }
                        Step::Sleep(duration) => tokio::time::sleep(*duration).await,
                    }
                }
            });
        }
    });
    (format!("http://{address}"), connections)
}

/// Reads a request head and its `content-length` body.
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let Ok(read) = socket.read(&mut buffer).await else {
            return;
        };
        if read == 0 {
            return;
        }
        received.extend_from_slice(&buffer[..read]);
        let Some(head_end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if received.len() >= head_end + 4 + length {
            return;
        }
    }
}

/// A local address nothing listens on.
pub async fn closed_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{address}")
}
