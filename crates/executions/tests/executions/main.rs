//! `executions` service tests: runs from queue to end, their event log, sub-agents.
//! SQLite in memory, or PostgreSQL with `TEST_DATABASE_URL`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod common;

mod delegation;
mod lifecycle;
mod messages;
