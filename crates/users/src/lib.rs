//! User accounts: the `users` table, its DTOs, [`service::UserService`], the cached
//! account [`standing`] every authenticated request checks, and (feature `http`) the
//! `/api/v1/users` routes.
//!
//! As a library, `UserService::new(db, hasher)` reads an account's standing from the
//! database each time; `with_standing_cache` adds the cache (run [`standing::relay`] next
//! to it on PostgreSQL when other processes may change accounts).

pub mod avatar;
pub mod entities;
pub mod error;
pub mod schemas;
pub mod service;
pub mod standing;
pub mod username;

#[cfg(feature = "http")]
pub mod router;

pub use avatar::AvatarService;
pub use error::UserError;
pub use service::UserService;
pub use standing::{KeyGrant, Standing, StandingCache};
