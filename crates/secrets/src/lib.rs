//! Per-user secrets: named values (API tokens, passwords) that tools use at call time
//! (`{{secret:NAME}}`) and that no response, log, event or error ever shows.
//!
//! The `secrets` table holds each value encrypted with AES-256-GCM under the operator's
//! [`SecretsKey`] (`SECRETS_KEY`), a random nonce per write and associated data that binds
//! the ciphertext to its owner and name. [`SecretService`] writes, lists, deletes and (for
//! the run engine) resolves them; (feature `http`) the `/api/v1/secrets` routes.

mod cipher;
pub mod entities;
pub mod error;
mod key;
pub mod schemas;
pub mod service;
mod value;

#[cfg(feature = "http")]
pub mod router;

pub use error::SecretError;
pub use key::SecretsKey;
pub use schemas::SecretInfo;
pub use service::SecretService;
pub use value::SecretValue;
