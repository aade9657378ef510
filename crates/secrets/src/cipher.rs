//! Sealing and opening one secret value: AES-256-GCM with a random 96-bit nonce per write,
//! and associated data binding the ciphertext to its owner and name, so a ciphertext copied
//! to another row (another user, another name) does not open.

use aes_gcm::aead::{Aead, Generate, KeyInit, Nonce, Payload};
use aes_gcm::{Aes256Gcm, Key};
use uuid::Uuid;

use crate::SecretsKey;

/// Names the format of the associated data, so a later scheme cannot be confused with this one.
const AAD_DOMAIN: &[u8] = b"agentry.secret.v1";

/// An encrypted value as stored: the nonce and the ciphertext followed by its 16-byte tag.
pub(crate) struct Sealed {
    /// The random nonce of this write.
    pub nonce: Vec<u8>,
    /// Ciphertext and tag.
    pub ciphertext: Vec<u8>,
}

/// Why a value could not be sealed or opened. It never holds the value.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CipherError {
    /// The operating system gave no random bytes for the nonce.
    #[error("no randomness for a nonce: {0}")]
    NoRandomness(String),
    /// The tag does not match: another key, another row, or altered bytes.
    #[error("the ciphertext does not open with this key for this owner and name")]
    Unopenable,
}

/// The AES-256-GCM cipher under one key.
#[derive(Clone)]
pub(crate) struct SecretCipher(Aes256Gcm);

impl SecretCipher {
    /// The cipher of `key`.
    pub fn new(key: &SecretsKey) -> Self {
        Self(Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.bytes())))
    }

    /// Encrypts `value` for the secret `name` of `owner_id` under a fresh random nonce.
    pub fn seal(&self, owner_id: Uuid, name: &str, value: &str) -> Result<Sealed, CipherError> {
        let nonce = Nonce::<Aes256Gcm>::try_generate().map_err(|e| CipherError::NoRandomness(e.to_string()))?;
        let aad = associated_data(owner_id, name);
        let ciphertext = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            // Encryption fails only for inputs of gigabytes; a value is at most 8 KiB.
            .map_err(|_| CipherError::Unopenable)?;
        Ok(Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Decrypts a stored value of the secret `name` of `owner_id`.
    pub fn open(&self, owner_id: Uuid, name: &str, nonce: &[u8], ciphertext: &[u8]) -> Result<String, CipherError> {
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| CipherError::Unopenable)?;
        let aad = associated_data(owner_id, name);
        let plain = self
            .0
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| CipherError::Unopenable)?;
        String::from_utf8(plain).map_err(|_| CipherError::Unopenable)
    }
}

/// `agentry.secret.v1 ‖ 0 ‖ owner id (16 bytes) ‖ name`: unambiguous, as the domain has no
/// NUL and the id a fixed length.
fn associated_data(owner_id: Uuid, name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + 1 + 16 + name.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.push(0);
    aad.extend_from_slice(owner_id.as_bytes());
    aad.extend_from_slice(name.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 96 bits, GCM's native nonce size.
    const NONCE_BYTES: usize = 12;

    #[test]
    fn a_sealed_value_opens_only_for_its_key_owner_and_name() {
        let cipher = SecretCipher::new(&SecretsKey::development());
        let owner = Uuid::now_v7();
        let sealed = cipher.seal(owner, "TOKEN", "s3cr3t-value").unwrap();
        assert_eq!(sealed.nonce.len(), NONCE_BYTES);
        assert_eq!(sealed.ciphertext.len(), "s3cr3t-value".len() + 16);
        let open = |owner, name: &str| cipher.open(owner, name, &sealed.nonce, &sealed.ciphertext);
        assert_eq!(open(owner, "TOKEN").unwrap(), "s3cr3t-value");
        assert!(matches!(open(owner, "OTHER"), Err(CipherError::Unopenable)));
        assert!(matches!(open(Uuid::now_v7(), "TOKEN"), Err(CipherError::Unopenable)));
        let other_key = SecretCipher::new(&SecretsKey::parse(&"ab".repeat(32)).unwrap());
        assert!(matches!(
            other_key.open(owner, "TOKEN", &sealed.nonce, &sealed.ciphertext),
            Err(CipherError::Unopenable)
        ));
        assert!(matches!(
            cipher.open(owner, "TOKEN", &sealed.nonce[..8], &sealed.ciphertext),
            Err(CipherError::Unopenable)
        ));
    }

    #[test]
    fn every_write_has_its_own_nonce() {
        let cipher = SecretCipher::new(&SecretsKey::development());
        let owner = Uuid::now_v7();
        let a = cipher.seal(owner, "A", "same").unwrap();
        let b = cipher.seal(owner, "A", "same").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
    }
}
