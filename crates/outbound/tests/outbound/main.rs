//! The outbound client against real HTTP servers on loopback addresses (never anything else).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

mod guard;
mod send;
mod server;
