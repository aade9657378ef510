//! Black-box tests of the providers against local fake servers speaking each wire format.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod anthropic;
mod common;
mod echo;
mod openai;
mod resilience;
mod tool_history;
