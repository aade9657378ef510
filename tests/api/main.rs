//! Black-box HTTP tests of the composed server. Each test starts its own server over a
//! fresh database: SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod agents;
mod api_keys;
mod auth;
mod chat;
mod conventions;
mod conversations;
mod executions;
mod fake_llm;
mod files;
mod health;
mod idempotency;
mod mcp;
mod openai;
mod openapi;
mod reliability;
mod secrets;
mod speech;
mod tokens;
mod tools;
mod users;
