//! Load tool for streamed chat: opens `STREAMS` Server-Sent-Events replies from the `echo`
//! provider at once against a running server, and reports how many were held open together,
//! the time to the first `message.delta` (p50/p99), the time to `message.completed`, and the
//! server's CPU time and resident memory (from `/proc/SERVER_PID/stat` and `status`).
//!
//! env: BASE_URL (http://127.0.0.1:8091)  STREAMS (1000)  WORDS (20, words per message; the
//! reply streams one more)  SERVER_PID (for CPU and RSS; optional). Run the server with
//! `ECHO_WORD_DELAY_MS` so streams overlap; `just bench-chat` does all of it.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a command-line example: it prints its figures and stops on failure"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};

/// What one stream measured.
struct Sample {
    first_delta: Duration,
    completed: Duration,
}

fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Resident memory of `pid` in KiB (`VmRSS`, or `VmHWM` for the peak).
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User and system CPU time of `pid` so far, in clock ticks (`/proc/<pid>/stat`).
fn cpu_ticks(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces), from the third on.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some((fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Registers a fresh user, logs in and creates an `echo` agent; returns (token, agent id).
async fn set_up(client: &reqwest::Client, base: &str) -> anyhow::Result<(String, String)> {
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    let password = "bench-password-123";
    let res = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"email": format!("{name}@example.com"), "username": name, "password": password}))
        .send()
        .await?;
    if res.status() != 201 {
        bail!("register: {} {}", res.status(), res.text().await?);
    }
    let tokens: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    let token = tokens["access_token"].as_str().context("access_token")?.to_owned();
    let agent: Value = client
        .post(format!("{base}/api/v1/agents"))
        .bearer_auth(&token)
        .json(&json!({"name": "bench", "provider": "echo", "model": "echo-1"}))
        .send()
        .await?
        .json()
        .await?;
    Ok((token, agent["id"].as_str().context("agent id")?.to_owned()))
}

/// One streamed chat: POST, then read events until `message.completed`.
async fn one_stream(
    request: reqwest::RequestBuilder,
    open: Arc<AtomicUsize>,
    peak_open: Arc<AtomicUsize>,
) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let res = request.send().await?;
    if res.status() != 200 {
        bail!("status {}", res.status());
    }
    let now_open = open.fetch_add(1, Ordering::SeqCst) + 1;
    peak_open.fetch_max(now_open, Ordering::SeqCst);
    let mut body = res.bytes_stream();
    let mut seen = String::new();
    let mut first_delta = None;
    let outcome = loop {
        let Some(chunk) = body.next().await else {
            break Err(anyhow::anyhow!("stream ended early"));
        };
        seen.push_str(std::str::from_utf8(&chunk?)?);
        if first_delta.is_none() && seen.contains("event: message.delta") {
            first_delta = Some(started.elapsed());
        }
        if seen.contains("event: error") {
            break Err(anyhow::anyhow!("error event: {seen}"));
        }
        if seen.contains("event: message.completed") && seen.ends_with("\n\n") {
            break Ok(());
        }
    };
    open.fetch_sub(1, Ordering::SeqCst);
    outcome?;
    Ok(Sample {
        first_delta: first_delta.context("no delta")?,
        completed: started.elapsed(),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = setting("BASE_URL", "http://127.0.0.1:8091");
    let streams: usize = setting("STREAMS", "1000").parse().context("STREAMS")?;
    let words: usize = setting("WORDS", "20").parse().context("WORDS")?;
    let server_pid: Option<u32> = std::env::var("SERVER_PID").ok().and_then(|p| p.parse().ok());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(streams)
        .timeout(Duration::from_secs(300))
        .build()?;

    let (token, agent_id) = set_up(&client, &base).await?;
    let rss_idle = server_pid.and_then(|pid| memory_kib(pid, "VmRSS:"));
    let cpu_before = server_pid.and_then(cpu_ticks);

    // Samples the server's memory while the streams run, noting it when most are open.
    let open = Arc::new(AtomicUsize::new(0));
    let peak_open = Arc::new(AtomicUsize::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let rss_at_peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (open, running, rss_at_peak) = (open.clone(), running.clone(), rss_at_peak.clone());
        tokio::spawn(async move {
            let mut most = 0;
            while running.load(Ordering::SeqCst) {
                let now_open = open.load(Ordering::SeqCst);
                if let Some(kib) = server_pid.and_then(|pid| memory_kib(pid, "VmRSS:"))
                    && now_open >= most
                    && now_open > 0
                {
                    most = now_open;
                    rss_at_peak.store(kib, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let content: String = (1..=words).map(|i| format!("word{i}")).collect::<Vec<_>>().join(" ");
    let url = format!("{base}/api/v1/chat/messages");
    let started = Instant::now();
    let body = json!({"content": content, "agent_id": agent_id, "stream": true});
    let tasks: Vec<_> = (0..streams)
        .map(|_| {
            let request = client.post(&url).bearer_auth(&token).json(&body);
            tokio::spawn(one_stream(request, open.clone(), peak_open.clone()))
        })
        .collect();
    let mut samples = Vec::with_capacity(streams);
    let mut errors = Vec::new();
    for task in tasks {
        match task.await? {
            Ok(sample) => samples.push(sample),
            Err(err) => errors.push(err.to_string()),
        }
    }
    let wall = started.elapsed();
    running.store(false, Ordering::SeqCst);
    sampler.await?;

    let mut first: Vec<Duration> = samples.iter().map(|s| s.first_delta).collect();
    let mut done: Vec<Duration> = samples.iter().map(|s| s.completed).collect();
    first.sort();
    done.sort();
    let mib = |kib: Option<u64>| kib.map_or("n/a".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!(
        "streams               {streams} started, {} completed, {} failed",
        samples.len(),
        errors.len()
    );
    println!("held open at once     {}", peak_open.load(Ordering::SeqCst));
    println!("wall time             {}", ms(wall));
    println!(
        "first delta           p50 {}  p99 {}  max {}",
        ms(percentile(&first, 0.5)),
        ms(percentile(&first, 0.99)),
        ms(percentile(&first, 1.0))
    );
    println!(
        "completed             p50 {}  p99 {}  max {}",
        ms(percentile(&done, 0.5)),
        ms(percentile(&done, 0.99)),
        ms(percentile(&done, 1.0))
    );
    if let (Some((user0, sys0)), Some((user1, sys1))) = (cpu_before, server_pid.and_then(cpu_ticks)) {
        // Clock ticks of 10 ms (USER_HZ on Linux).
        println!(
            "server CPU            user {} ms  system {} ms",
            (user1 - user0) * 10,
            (sys1 - sys0) * 10
        );
    }
    println!("server RSS idle       {}", mib(rss_idle));
    println!(
        "server RSS at peak    {}",
        mib(Some(rss_at_peak.load(Ordering::SeqCst)).filter(|k| *k > 0))
    );
    println!(
        "server RSS high-water {}",
        mib(server_pid.and_then(|pid| memory_kib(pid, "VmHWM:")))
    );
    if let Some(first_error) = errors.first() {
        println!("first error           {first_error}");
    }
    Ok(())
}
