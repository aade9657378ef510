//! `auth` service tests, over a bare database connection (SQLite in memory, or a fresh
//! schema on the PostgreSQL server of `TEST_DATABASE_URL`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod common;

mod api_keys;
