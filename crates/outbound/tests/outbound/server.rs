//! A tiny HTTP/1.1 server on a loopback address that records what it receives and answers
//! as told: enough control to stall, flood or redirect.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How the server answers every request.
#[derive(Clone)]
pub enum Reply {
    /// A complete response.
    Fixed {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    },
    /// Nothing for this long, then 200 "late".
    Stall(Duration),
    /// The head at once, then one body byte per 100 ms (100 bytes announced: 10 s).
    Trickle,
    /// 200 announcing `bytes`, then as many as the client takes, 64 KiB at a time.
    Flood { bytes: usize },
}

impl Reply {
    pub fn ok(body: &str) -> Self {
        Self::status(200, body)
    }

    pub fn status(status: u16, body: &str) -> Self {
        Self::Fixed {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }
}

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A running server; it stops with the test's runtime.
pub struct TestServer {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Bytes of body written by each finished flood, in order.
    flood_done: tokio::sync::Mutex<mpsc::UnboundedReceiver<usize>>,
}

impl TestServer {
    /// Serves on `ip` (a loopback address) on a free port.
    pub async fn start(ip: &str, reply: Reply) -> Self {
        let listener = TcpListener::bind((ip, 0)).await.expect("bind a loopback address");
        let addr = listener.local_addr().expect("local address");
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (flood_tx, flood_rx) = mpsc::unbounded_channel();
        let (count, log) = (Arc::clone(&connections), Arc::clone(&received));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (log, reply, flood_tx) = (Arc::clone(&log), reply.clone(), flood_tx.clone());
                tokio::spawn(async move { serve(stream, reply, log, flood_tx).await });
            }
        });
        Self {
            addr,
            connections,
            received,
            flood_done: tokio::sync::Mutex::new(flood_rx),
        }
    }

    /// `http://ADDR` followed by `path`.
    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.addr)).expect("a URL")
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Requests read so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits for a flood to end (the client hung up) and returns the body bytes it wrote.
    pub async fn flood_written(&self) -> usize {
        let mut done = self.flood_done.lock().await;
        tokio::time::timeout(Duration::from_secs(10), done.recv())
            .await
            .expect("the flood ends once the client hangs up")
            .expect("a flood result")
    }
}

async fn serve(
    stream: TcpStream,
    reply: Reply,
    log: Arc<Mutex<Vec<Received>>>,
    flood_tx: mpsc::UnboundedSender<usize>,
) {
    let mut reader = BufReader::new(stream);
    let Some(request) = read_request(&mut reader).await else {
        return;
    };
    log.lock().expect("lock").push(request);
    let mut stream = reader.into_inner();
    match reply {
        Reply::Fixed { status, headers, body } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(&body).await;
        }
        Reply::Stall(delay) => {
            tokio::time::sleep(delay).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nlate")
                .await;
        }
        Reply::Trickle => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\nconnection: close\r\n\r\n")
                .await;
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if stream.write_all(b"x").await.is_err() {
                    return;
                }
            }
        }
        Reply::Flood { bytes } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {bytes}\r\nconnection: close\r\n\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            let chunk = vec![b'a'; 64 * 1024];
            let mut written = 0;
            while written < bytes {
                let n = chunk.len().min(bytes - written);
                if stream.write_all(&chunk[..n]).await.is_err() {
                    break;
                }
                written += n;
            }
            let _ = flood_tx.send(written);
        }
    }
    let _ = stream.shutdown().await;
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    reader.read_line(&mut line).await.ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(Received {
        method,
        target,
        headers,
        body,
    })
}
