//! Prints the milliseconds one bcrypt hash takes at `BCRYPT_COST` (default 12) with the
//! server's implementation — the unit of login capacity (`cores × 1000 / ms` logins/s).
//!
//! `cargo run --release -p auth --example bcrypt_time`

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a command-line example: it prints its figures and stops on failure"
)]

use std::time::Instant;

fn main() {
    let cost = std::env::var("BCRYPT_COST")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(12);
    let rounds = 5;
    let started = Instant::now();
    for _ in 0..rounds {
        let _ = bcrypt::hash("bench-password-123", cost);
    }
    println!("{:.1}", started.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds));
}
