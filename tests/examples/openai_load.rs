//! Load tool for the OpenAI-compatible API: the same chat completion sent by `CONNECTIONS`
//! clients for `DURATION` seconds straight to a mock LLM (`mock_llm`) and through Agentry's
//! `/v1/chat/completions` with an agent on that mock, whole and streamed; prints requests per
//! second, p50 and p99 of each, the latency Agentry adds and the throughput ratio.
//!
//! env: MOCK_URL (http://127.0.0.1:8093)  AGENTRY_URL (http://127.0.0.1:8092)  API_KEY (agk_…)
//!      MODEL (the agent's name or id)  CONNECTIONS (32)  DURATION (10)  WARMUP (2)

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a command-line example: it prints its figures and stops on failure"
)]

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};

fn setting(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// What one run measured.
struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// `connections` clients sending `body` to `url` for `duration`.
async fn run(
    url: &str,
    key: Option<&str>,
    body: &Value,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Run> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build()?;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (client, url, key, body) = (client.clone(), url.to_owned(), key.map(str::to_owned), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while started.elapsed() < duration {
                let sent = Instant::now();
                let mut request = client.post(&url).json(&body);
                if let Some(key) = &key {
                    request = request.bearer_auth(key);
                }
                let res = request.send().await?;
                let status = res.status();
                let text = res.text().await?;
                if !status.is_success() {
                    bail!("{url}: {status} {text}");
                }
                samples.push(sent.elapsed());
            }
            Ok::<_, anyhow::Error>(samples)
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    let elapsed = started.elapsed();
    samples.sort_unstable();
    Ok(Run {
        per_second: samples.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&samples, 0.50),
        p99: percentile(&samples, 0.99),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mock = setting("MOCK_URL", "http://127.0.0.1:8093");
    let agentry = setting("AGENTRY_URL", "http://127.0.0.1:8092");
    let key = setting("API_KEY", "");
    let model = setting("MODEL", "bench");
    let connections: usize = setting("CONNECTIONS", "32").parse()?;
    let duration = Duration::from_secs(setting("DURATION", "10").parse()?);
    let warmup = Duration::from_secs(setting("WARMUP", "2").parse()?);
    println!("{connections} connections, {} s per run\n", duration.as_secs());
    println!("| mode | path | req/s | p50 ms | p99 ms |");
    println!("|---|---|---:|---:|---:|");
    let mut summary = Vec::new();
    for stream in [false, true] {
        let messages = json!([{"role": "user", "content": "benchmark the gateway"}]);
        let direct_body = json!({"model": "mock-1", "messages": messages, "stream": stream});
        let agentry_body = json!({"model": model, "messages": messages, "stream": stream});
        let direct_url = format!("{mock}/v1/chat/completions");
        let agentry_url = format!("{agentry}/v1/chat/completions");
        run(&direct_url, None, &direct_body, connections, warmup).await?;
        let direct = run(&direct_url, None, &direct_body, connections, duration).await?;
        run(&agentry_url, Some(&key), &agentry_body, connections, warmup).await?;
        let through = run(&agentry_url, Some(&key), &agentry_body, connections, duration).await?;
        let mode = if stream { "stream" } else { "whole" };
        for (path, r) in [("mock directly", &direct), ("through /v1", &through)] {
            println!(
                "| {mode} | {path} | {:.0} | {:.2} | {:.2} |",
                r.per_second,
                ms(r.p50),
                ms(r.p99)
            );
        }
        summary.push((mode, direct, through));
    }
    println!("\n| mode | added p50 ms | added p99 ms | throughput through /v1 |");
    println!("|---|---:|---:|---:|");
    for (mode, direct, through) in summary {
        println!(
            "| {mode} | {:.2} | {:.2} | {:.0} % |",
            ms(through.p50) - ms(direct.p50),
            ms(through.p99) - ms(direct.p99),
            100.0 * through.per_second / direct.per_second.max(f64::MIN_POSITIVE)
        );
    }
    Ok(())
}
