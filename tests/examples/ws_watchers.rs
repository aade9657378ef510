//! Load tool for the execution WebSocket: starts one long `echo` execution on a running
//! server, opens `WATCHERS` WebSockets on it (`access_token` in the query), and reports how
//! many connected and saw the whole log closing with 1000, the latency from an event being
//! stored (its `created_at`) to it arriving at a watcher (p50/p99/max, live events only),
//! and the server's resident memory before and with every watcher connected (from
//! `/proc/SERVER_PID/status`).
//!
//! env: BASE_URL (http://127.0.0.1:8092)  WATCHERS (5000)  WORDS (150, words of the input;
//! the run streams one more)  CONNECT_CONCURRENCY (250)  SERVER_PID (for RSS; optional).
//! Run the server with `ECHO_WORD_DELAY_MS` so the run outlasts the connecting;
//! `just bench-ws` does all of it.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a command-line example: it prints its figures and stops on failure"
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// What one watcher saw.
#[derive(Default)]
struct Watch {
    connected: bool,
    events: usize,
    last_seq: i64,
    normal_close: bool,
    /// Store-to-socket latency of each event that happened after the watcher connected.
    live: Vec<Duration>,
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// `VmRSS` (or another `/proc/<pid>/status` field) of `pid`, in KiB.
fn memory_kib(pid: Option<u32>, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A fresh user and `echo` agent; returns (access token, agent id).
async fn set_up(client: &reqwest::Client, base: &str) -> anyhow::Result<(String, String)> {
    let name = format!("ws_{}", uuid::Uuid::new_v4().simple());
    let password = "bench-password-123";
    let register = json!({"email": format!("{name}@example.com"), "username": name, "password": password});
    let res = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&register)
        .send()
        .await?;
    if res.status() != 201 {
        bail!("register: {} {}", res.status(), res.text().await?);
    }
    let login = json!({"username": name, "password": password});
    let tokens: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&login)
        .send()
        .await?
        .json()
        .await?;
    let token = tokens["access_token"].as_str().context("access_token")?.to_owned();
    let agent = json!({"name": "Bench echo", "provider": "echo", "model": "echo-1"});
    let res = client
        .post(format!("{base}/api/v1/agents"))
        .bearer_auth(&token)
        .json(&agent)
        .send()
        .await?;
    let agent: Value = res.json().await?;
    Ok((token, agent["id"].as_str().context("agent id")?.to_owned()))
}

/// Watches the execution until the server closes the socket; `permit` is held only while
/// the handshake is in flight.
async fn watch(url: String, permit: OwnedSemaphorePermit) -> Watch {
    let mut seen = Watch::default();
    let handshake = tokio_tungstenite::connect_async(url.as_str()).await;
    drop(permit);
    let Ok((mut socket, _)) = handshake else { return seen };
    seen.connected = true;
    let since: DateTime<Utc> = Utc::now();
    while let Some(Ok(message)) = socket.next().await {
        match message {
            Message::Text(text) => {
                let arrived = Utc::now();
                let Ok(event) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                seen.events += 1;
                seen.last_seq = event["seq"].as_i64().unwrap_or_default();
                let stored = event["created_at"]
                    .as_str()
                    .and_then(|t| t.parse::<DateTime<Utc>>().ok());
                if let Some(stored) = stored.filter(|s| *s > since) {
                    seen.live.push((arrived - stored).to_std().unwrap_or_default());
                }
            }
            Message::Close(frame) => {
                seen.normal_close = frame.is_some_and(|f| f.code == CloseCode::Normal);
                break;
            }
            _ => {}
        }
    }
    seen
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = setting("BASE_URL", "http://127.0.0.1:8092");
    let watchers: usize = setting("WATCHERS", "5000").parse()?;
    let words: usize = setting("WORDS", "150").parse()?;
    let concurrency: usize = setting("CONNECT_CONCURRENCY", "250").parse()?;
    let pid: Option<u32> = std::env::var("SERVER_PID").ok().and_then(|p| p.parse().ok());
    let client = reqwest::Client::new();
    let (token, agent) = set_up(&client, &base).await?;
    let idle_rss = memory_kib(pid, "VmRSS:");

    let input = vec!["word"; words].join(" ");
    let res = client
        .post(format!("{base}/api/v1/agents/{agent}/execute"))
        .bearer_auth(&token)
        .json(&json!({"input": input}))
        .send()
        .await?;
    if res.status() != 202 {
        bail!("execute: {} {}", res.status(), res.text().await?);
    }
    let execution: Value = res.json().await?;
    let id = execution["id"].as_str().context("execution id")?.to_owned();
    let url = format!(
        "{}/api/v1/ws/executions/{id}?access_token={token}",
        base.replacen("http://", "ws://", 1)
    );

    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(watchers);
    for _ in 0..watchers {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        tasks.push(tokio::spawn(watch(url.clone(), permit)));
    }
    // Every handshake has ended once all permits are back.
    let all = u32::try_from(concurrency.max(1))?;
    drop(gate.acquire_many(all).await?);
    let connect_time = started.elapsed();
    let held_rss = memory_kib(pid, "VmRSS:");

    let mut results = Vec::with_capacity(watchers);
    for task in tasks {
        results.push(task.await?);
    }
    let peak_rss = memory_kib(pid, "VmHWM:");
    let final_state: Value = client
        .get(format!("{base}/api/v1/executions/{id}"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let events: Value = client
        .get(format!("{base}/api/v1/executions/{id}/events?limit=1000"))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let total = events["items"].as_array().map_or(0, Vec::len);

    let connected = results.iter().filter(|w| w.connected).count();
    let complete = results
        .iter()
        .filter(|w| w.events == total && w.last_seq == total as i64)
        .count();
    let closed = results.iter().filter(|w| w.normal_close).count();
    let mut live: Vec<Duration> = results.iter().flat_map(|w| w.live.iter().copied()).collect();
    live.sort();
    println!(
        "execution {id}: {} after {:.1} s, {total} events",
        final_state["status"],
        started.elapsed().as_secs_f64()
    );
    println!(
        "watchers: {watchers} opened in {:.1} s; {connected} connected, {complete} saw every event, {closed} closed with 1000",
        connect_time.as_secs_f64()
    );
    println!(
        "store-to-socket latency over {} live deliveries: p50 {}, p99 {}, max {}",
        live.len(),
        ms(percentile(&live, 0.50)),
        ms(percentile(&live, 0.99)),
        ms(live.last().copied().unwrap_or_default())
    );
    if let (Some(idle), Some(held)) = (idle_rss, held_rss) {
        let per_watcher = (held.saturating_sub(idle) as f64) / connected.max(1) as f64;
        println!(
            "server RSS: {:.1} MiB idle, {:.1} MiB with the watchers ({per_watcher:.1} KiB each), peak {:.1} MiB",
            idle as f64 / 1024.0,
            held as f64 / 1024.0,
            peak_rss.unwrap_or(held) as f64 / 1024.0
        );
    }
    if connected < watchers || complete < connected {
        bail!(
            "{} watchers failed to connect, {} missed events",
            watchers - connected,
            connected - complete
        );
    }
    Ok(())
}
