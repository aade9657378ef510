//! Agentry's shared kernel: the pieces every domain crate speaks.
//!
//! It knows no domain. It defines the one [`Error`] type (rendered as RFC 9457
//! problem+json), the [`Valid`] extractor, keyset [`Page`]s, the [`Principal`] and the
//! ports ([`TokenVerifier`], [`PasswordHasher`]) that the `auth` crate implements.

pub mod binary;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod flights;
pub mod idempotency;
pub mod ids;
pub mod invalidation;
pub mod lane;
pub mod nullable;
pub mod openapi;
pub mod page;
pub mod principal;
pub mod problem;
pub mod routes;
pub mod rules;
pub mod search;
pub mod shutdown;
pub mod statements;
pub mod tagged;
pub mod write_gate;

#[cfg(feature = "http")]
pub mod context;
#[cfg(feature = "http")]
pub mod extract;
#[cfg(feature = "http")]
pub mod passthrough;
#[cfg(feature = "http")]
mod response;

pub use credentials::PasswordHasher;
pub use error::{Error, FieldError, Result};
pub use page::{Cursor, Page, PageParams};
pub use principal::{Principal, TokenKind, TokenVerifier};
pub use problem::Problem;
pub use shutdown::Shutdown;

#[cfg(feature = "http")]
pub use extract::Valid;

/// A boxed, sendable future, the return type of the kernel's object-safe async ports.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
