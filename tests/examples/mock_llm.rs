//! A minimal OpenAI-compatible LLM for benchmarks: `POST /v1/chat/completions` answers at
//! once with a fixed reply, whole (`chat.completion`) or streamed (`WORDS` chunks, then
//! `data: [DONE]`), with usage; no model runs. `just bench-openai` calls it directly and
//! through Agentry's `/v1` to measure what Agentry adds.
//!
//! env: PORT (8093)  WORDS (8)  WORKERS (1)

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

async fn completions(body: Json<Value>, words: web::Data<usize>) -> HttpResponse {
    let words = **words;
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
    println!("mock LLM on 127.0.0.1:{port}, {words} words per answer");
    HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(words))
            .route("/v1/chat/completions", web::post().to(completions))
            .route("/health", web::get().to(HttpResponse::Ok))
    })
    .workers(workers)
    .bind(("127.0.0.1", u16::try_from(port).unwrap()))?
    .run()
    .await
}
