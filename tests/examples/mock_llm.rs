//! A minimal OpenAI-compatible LLM for benchmarks: `POST /v1/chat/completions` answers at
//! once with a fixed reply, whole (`chat.completion`) or streamed (`WORDS` chunks, then
//! `data: [DONE]`), with usage; no model runs, but with `LATENCY_MS` each answer starts
//! that long after the request (a model's time to first token). `just bench-openai` calls it
//! directly and through Agentry's `/v1` to measure what Agentry adds.
//!
//! env: PORT (8093)  WORDS (8)  WORKERS (1)  LATENCY_MS (0)

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a command-line example: it prints where it listens and stops on failure"
)]

use actix_web::web::{self, Bytes, Json};
use actix_web::{App, HttpResponse, HttpServer};
use serde_json::{Value, json};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What every answer is like.
struct Shape {
    words: usize,
    latency: std::time::Duration,
}

async fn completions(body: Json<Value>, shape: web::Data<Shape>) -> HttpResponse {
    if !shape.latency.is_zero() {
        tokio::time::sleep(shape.latency).await;
    }
    let words = shape.words;
    let model = body["model"].as_str().unwrap_or("mock").to_owned();
    let usage = json!({"prompt_tokens": 10, "completion_tokens": words, "total_tokens": 10 + words});
    if body["stream"].as_bool() != Some(true) {
        let text = vec!["word"; words].join(" ");
        return HttpResponse::Ok().json(json!({
            "id": "chatcmpl-mock", "object": "chat.completion", "created": 0, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": usage
        }));
    }
    let mut out = String::new();
    let chunk = |delta: Value, finish: Value, usage: Value| {
        json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 0, "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": usage})
    };
    out.push_str(&format!(
        "data: {}\n\n",
        chunk(json!({"role": "assistant", "content": ""}), Value::Null, Value::Null)
    ));
    for i in 0..words {
        let piece = if i + 1 == words { "word" } else { "word " };
        out.push_str(&format!(
            "data: {}\n\n",
            chunk(json!({"content": piece}), Value::Null, Value::Null)
        ));
    }
    out.push_str(&format!("data: {}\n\n", chunk(json!({}), json!("stop"), usage)));
    out.push_str("data: [DONE]\n\n");
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .body(Bytes::from(out))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = setting("PORT", 8093);
    let words = setting("WORDS", 8);
    let workers = setting("WORKERS", 1);
    let latency = std::time::Duration::from_millis(u64::try_from(setting("LATENCY_MS", 0)).unwrap());
    println!("mock LLM on 127.0.0.1:{port}, {words} words per answer, {latency:?} before each");
    let shape = web::Data::new(Shape { words, latency });
    HttpServer::new(move || {
        App::new()
            .app_data(shape.clone())
            .route("/v1/chat/completions", web::post().to(completions))
            .route("/health", web::get().to(HttpResponse::Ok))
    })
    .workers(workers)
    .bind(("127.0.0.1", u16::try_from(port).unwrap()))?
    .run()
    .await
}
