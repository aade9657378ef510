//! Agentry's test kit, used only as a dev-dependency: the domain crates' service tests and
//! the black-box HTTP tests in `tests/` share it.
//!
//! - [`database`]: a fresh, migrated database per test — SQLite (in memory or a temporary
//!   file) by default, PostgreSQL (a fresh schema or database) when `TEST_DATABASE_URL` is set.
//! - [`fixtures`]: rows and request bodies tests start from, and what a validation error names.
//! - [`ScriptedProvider`]: an LLM provider that answers from a script, records what it was
//!   asked, or fails as told.
//!
//! It depends on `migration` and `llm` but on no other domain crate, so that every domain
//! crate can use it without a dependency cycle.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed set-up panics the test that asked for it"
)]

pub mod database;
pub mod fixtures;
mod provider;

pub use database::{TestDatabase, database, on_postgres, postgres_url, require_postgres};
pub use fixtures::{body, invalid_fields, user};
pub use provider::{ScriptedProvider, answer, tool_call};
