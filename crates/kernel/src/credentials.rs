//! The password-hashing port: implemented by `auth`, used wherever a password is set.

use crate::{BoxFuture, Result};

/// Hashes and verifies passwords; implementations run the work off the async workers.
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a password that has already passed validation.
    fn hash(&self, password: String) -> BoxFuture<'_, Result<String>>;
    /// Checks a password against a stored hash; `None` spends the same time as a real
    /// check (so an unknown account cannot be told from a wrong password) and fails.
    fn verify(&self, password: String, hash: Option<String>) -> BoxFuture<'_, Result<bool>>;
}
