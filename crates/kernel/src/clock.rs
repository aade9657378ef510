//! Time as the service stores it.

use chrono::{DateTime, SubsecRound, Utc};

/// The current time, truncated to microseconds.
///
/// PostgreSQL keeps microseconds; truncating here makes a value read back equal to the
/// value written on every database, which keeps keyset cursors exact.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
