//! The `Range` and `If-None-Match` request headers of a download.

use std::ops::Range;

/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Wanted {
    /// The whole file (no header, several ranges, or a header that does not parse, which
    /// RFC 9110 says to ignore).
    All,
    /// One satisfiable range, end exclusive.
    Part(Range<u64>),
    /// A well-formed single range that does not overlap the file (`416`).
    Unsatisfiable,
}

/// Reads a `Range` header value (`bytes=a-b`, `bytes=a-`, `bytes=-n`) against `size`.
pub fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(0)) => Wanted::Unsatisfiable,
        (true, _, Some(n)) => Wanted::Part(size.saturating_sub(n)..size),
        (false, Some(start), _) if start >= size => Wanted::Unsatisfiable,
        (false, Some(start), None) if last.trim().is_empty() => Wanted::Part(start..size),
        (false, Some(start), Some(end)) if end >= start => Wanted::Part(start..end.saturating_add(1).min(size)),
        _ => Wanted::All,
    }
}

/// Whether an `If-None-Match` header value matches the strong `etag` (weak comparison,
/// as RFC 9110 asks for this header).
pub fn none_match(header: Option<&str>, etag: &str) -> bool {
    let Some(header) = header else {
        return false;
    };
    header.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(wanted(None, 10), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-3"), 10), Wanted::Part(0..4));
        assert_eq!(wanted(Some("bytes=5-"), 10), Wanted::Part(5..10));
        assert_eq!(wanted(Some("bytes=-3"), 10), Wanted::Part(7..10));
        assert_eq!(wanted(Some("bytes=-30"), 10), Wanted::Part(0..10));
        assert_eq!(wanted(Some("bytes=8-100"), 10), Wanted::Part(8..10));
        assert_eq!(wanted(Some("bytes=10-12"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=4-2"), 10), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-1,4-5"), 10), Wanted::All);
        assert_eq!(wanted(Some("items=0-1"), 10), Wanted::All);
        assert_eq!(wanted(Some("bytes=x-1"), 10), Wanted::All);
    }

    #[test]
    fn etags() {
        let etag = "\"abc\"";
        assert!(none_match(Some("\"abc\""), etag));
        assert!(none_match(Some("\"x\", W/\"abc\""), etag));
        assert!(none_match(Some("*"), etag));
        assert!(!none_match(Some("\"abd\""), etag));
        assert!(!none_match(None, etag));
    }
}
