//! When to try a provider call again, and how long to wait first.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// A wait longer than this (asked for by `Retry-After`, or from backoff) is not worth it:
/// the error goes back to the caller instead.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(20);

/// Bounded retries with exponential backoff.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Extra attempts after the first.
    pub(crate) max_retries: u32,
    /// The wait before the first retry; doubled for each further one.
    pub(crate) base_delay: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0-based), or `None` when no retry is left or the
    /// wait would be too long. A server's `Retry-After` wins over the backoff.
    pub(crate) fn delay_before(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let backoff = self.base_delay.saturating_mul(2u32.saturating_pow(retry));
        let delay = retry_after.unwrap_or(backoff);
        (delay <= MAX_RETRY_DELAY).then_some(delay)
    }
}

/// Statuses that say "try again later": rate limiting and server-side failures.
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The `Retry-After` of a response, when given in seconds.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    let seconds = value.trim().parse::<f64>().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    const POLICY: RetryPolicy = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(100),
    };

    #[test]
    fn backoff_doubles_and_stops_after_the_budget() {
        assert_eq!(POLICY.delay_before(0, None), Some(Duration::from_millis(100)));
        assert_eq!(POLICY.delay_before(1, None), Some(Duration::from_millis(200)));
        assert_eq!(POLICY.delay_before(2, None), Some(Duration::from_millis(400)));
        assert_eq!(POLICY.delay_before(3, None), None);
    }

    #[test]
    fn retry_after_wins_unless_too_long() {
        assert_eq!(
            POLICY.delay_before(0, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(POLICY.delay_before(0, Some(Duration::from_secs(120))), None);
    }

    #[test]
    fn retryable_statuses_and_header_parsing() {
        assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(is_retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!is_retryable(StatusCode::UNAUTHORIZED));
        assert!(!is_retryable(StatusCode::BAD_REQUEST));

        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&headers), None);
    }
}
