//! Timestamps of response bodies, compared as instants: their RFC 3339 strings drop
//! trailing zeros of the fraction (`…21.204Z` is 204,000 µs), so comparing the strings
//! put `…21.204Z` after `…21.204061Z`.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The instant `value` (an RFC 3339 string) names; panics on anything else.
pub fn instant(value: &Value) -> DateTime<Utc> {
    let text = value.as_str().unwrap_or_else(|| panic!("not a timestamp: {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|err| panic!("not a timestamp: {text}: {err}"))
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::instant;

    #[test]
    fn a_fraction_without_its_trailing_zeros_is_the_same_instant() {
        let created = json!("2026-12-07T13:39:21.204Z");
        let started = json!("2026-12-07T13:39:21.204061Z");
        assert!(started.as_str() < created.as_str(), "as strings, the order is wrong");
        assert!(instant(&started) > instant(&created));
    }
}
