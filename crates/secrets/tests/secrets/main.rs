//! `secrets` service tests: writes, reads, deletes, resolution and encryption at rest.
//! SQLite in memory, or PostgreSQL with `TEST_DATABASE_URL`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod common;

mod at_rest;
mod secret_service;
