//! User accounts: the `users` table, its DTOs, [`service::UserService`] and (feature `http`)
//! the `/api/v1/users` routes.

pub mod entities;
pub mod schemas;
pub mod service;
pub mod standing;

#[cfg(feature = "http")]
pub mod router;

pub use service::UserService;
pub use standing::{Standing, StandingCache};
