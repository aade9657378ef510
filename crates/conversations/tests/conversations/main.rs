//! `conversations` service tests: conversations, the message log and chat replies.
//! SQLite in memory, or PostgreSQL with `TEST_DATABASE_URL`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod common;

mod conversation_service;
mod tool_messages;
