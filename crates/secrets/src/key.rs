//! [`SecretsKey`]: the AES-256 key every secret is encrypted under, read from `SECRETS_KEY`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// Length of the key in bytes (AES-256).
const KEY_BYTES: usize = 32;

/// The fixed key of development set-ups without `SECRETS_KEY`: public, so secrets written
/// under it are not protected at all. Production refuses it.
const DEVELOPMENT_KEY: &[u8; KEY_BYTES] = b"agentry-insecure-development-key";

/// The 32-byte key secrets are encrypted under. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretsKey([u8; KEY_BYTES]);

impl SecretsKey {
    /// Reads a key written as 64 hexadecimal characters or as base64 (standard or URL-safe
    /// alphabet, padded or not) of exactly 32 bytes. Surrounding whitespace is ignored. The
    /// error says what is wrong without repeating the text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("is empty; {}", Self::ADVICE));
        }
        let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            decode_hex(text)
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .ok_or_else(|| format!("is neither 64 hexadecimal characters nor base64; {}", Self::ADVICE))?
        };
        let key: [u8; KEY_BYTES] = bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| format!("decodes to {} bytes, not {KEY_BYTES}; {}", bytes.len(), Self::ADVICE))?;
        Ok(Self(key))
    }

    /// The fixed, public development key: for local use only (production refuses it).
    pub fn development() -> Self {
        Self(*DEVELOPMENT_KEY)
    }

    /// Whether this is the public [`development`](Self::development) key.
    pub fn is_development(&self) -> bool {
        self.0 == *DEVELOPMENT_KEY
    }

    /// How to make a good key, for error messages.
    pub const ADVICE: &'static str =
        "use 32 random bytes as 64 hex characters (`openssl rand -hex 32`) or base64 (`openssl rand -base64 32`)";

    /// The raw key, for the cipher.
    pub(crate) fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey(<redacted>)")
    }
}

/// Decodes an even-length string of hexadecimal digits (checked by the caller).
fn decode_hex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks(2)
        .map(|pair| (nibble(pair[0]) << 4) | nibble(pair[1]))
        .collect()
}

fn nibble(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn counting() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    #[test]
    fn hex_keys_parse_in_either_case() {
        assert_eq!(SecretsKey::parse(HEX).unwrap().0, counting());
        assert_eq!(SecretsKey::parse(&HEX.to_uppercase()).unwrap().0, counting());
        assert_eq!(SecretsKey::parse(&format!(" {HEX}\n")).unwrap().0, counting());
    }

    #[test]
    fn base64_keys_parse_in_every_alphabet() {
        let bytes = [0xfb_u8; 32];
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            let text = engine.encode(bytes);
            assert_eq!(SecretsKey::parse(&text).unwrap().0, bytes, "{text}");
        }
    }

    #[test]
    fn wrong_lengths_and_garbage_are_refused_without_echoing_the_text() {
        for bad in [
            "",
            "   ",
            &HEX[..62],
            &format!("{HEX}00"),
            &STANDARD.encode([1_u8; 16]),
            &STANDARD.encode([1_u8; 33]),
            "not a key at all!",
        ] {
            let err = SecretsKey::parse(bad).unwrap_err();
            assert!(err.contains("openssl rand"), "{bad:?}: {err}");
            if bad.trim().len() > 3 {
                assert!(!err.contains(bad.trim()), "the error repeats the key: {err}");
            }
        }
        let err = SecretsKey::parse(&STANDARD.encode([1_u8; 16])).unwrap_err();
        assert!(err.contains("16 bytes"), "{err}");
    }

    #[test]
    fn the_development_key_is_recognised_and_debug_is_redacted() {
        assert!(SecretsKey::development().is_development());
        let key = SecretsKey::parse(HEX).unwrap();
        assert!(!key.is_development());
        let shown = format!("{key:?} {:?}", SecretsKey::development());
        assert!(!shown.contains("01") && !shown.contains("insecure"), "{shown}");
    }
}
