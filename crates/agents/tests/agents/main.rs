//! `agents` service tests: agents, tools and their links, and the crate used as a library
//! (passes with `--no-default-features`). SQLite in memory, or PostgreSQL with `TEST_DATABASE_URL`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod common;

mod agent_service;
mod library;
mod tool_service;
