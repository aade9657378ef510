//! Idempotent `POST`s: the stored first answer to each `Idempotency-Key` of a user, so a
//! retried request is answered again without being handled again.
//!
//! It lives in the kernel because it belongs to no domain: like pagination it is a
//! convention of the whole API, applied by one middleware in `api-server` (which holds no
//! SQL) to every authenticated `POST`. See `docs/api-guide.md`, "Idempotent requests".

pub mod entity;
mod replay;
mod store;

pub use replay::StreamReplay;

use crate::{Error, FieldError};
pub use store::{Claim, IdempotencyStore, Recorded};

/// The request header that carries the key.
pub const HEADER: &str = "Idempotency-Key";

/// The longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 255;

/// The `409` answered while the first request with the key is still being handled.
pub fn in_use() -> Error {
    Error::coded(
        409,
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being handled; retry once it has finished",
        [],
    )
}

/// The `422` answered to a key first sent with another method, path or body; like every
/// `422` it names the failing field, the header.
pub fn reused() -> Error {
    let errors = vec![FieldError::new(
        HEADER,
        "was first sent with a different method, path or body",
    )];
    Error::coded(
        422,
        "idempotency_key_reused",
        "this Idempotency-Key was already used for a different request",
        [("errors", serde_json::to_value(errors).unwrap_or_default())],
    )
}

/// Whether `key` is an acceptable key: 1..=[`MAX_KEY_LEN`] visible ASCII characters.
pub fn is_valid_key(key: &[u8]) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.iter().all(u8::is_ascii_graphic)
}

/// The fingerprint of a request: hex SHA-256 over its method, path (with query) and body.
/// A key sent again with another fingerprint is refused.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    // Lengths first, so no two different triples hash the same bytes.
    for part in [method.as_bytes(), path_and_query.as_bytes(), body] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    format!("{:x}", hash.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(is_valid_key(b"a"));
        assert!(is_valid_key("k".repeat(MAX_KEY_LEN).as_bytes()));
        assert!(is_valid_key(b"order-42:retry_1/~!"));
        assert!(!is_valid_key(b""));
        assert!(!is_valid_key("k".repeat(MAX_KEY_LEN + 1).as_bytes()));
        assert!(!is_valid_key(b"with space"));
        assert!(!is_valid_key(b"tab\t"));
        assert!(!is_valid_key("caf\u{e9}".as_bytes()));
    }

    #[test]
    fn the_fingerprint_covers_method_path_and_body() {
        let base = fingerprint("POST", "/api/v1/agents", b"{}");
        assert_eq!(base.len(), 64);
        assert_eq!(base, fingerprint("POST", "/api/v1/agents", b"{}"));
        assert_ne!(base, fingerprint("PUT", "/api/v1/agents", b"{}"));
        assert_ne!(base, fingerprint("POST", "/api/v1/tools", b"{}"));
        assert_ne!(base, fingerprint("POST", "/api/v1/agents", b"{ }"));
        // Moving bytes between parts changes it too.
        assert_ne!(fingerprint("POST", "/a", b"b"), fingerprint("POST", "/ab", b""));
    }
}
