//! Users' files: uploads streamed to an object store (local disk or S3-compatible), their
//! type detected from the content's magic bytes and checked against an allow-list per
//! [`Purpose`], under a size cap and a per-user quota.
//!
//! [`FilesService`] uploads, lists, reads, serves (ranges) and deletes files; other crates
//! use it as a library to read a user's file ([`FilesService::get_owned`],
//! [`FilesService::read_bytes`]) or store new bytes ([`FilesService::store_bytes`]);
//! (feature `http`) the `/api/v1/files` routes.

pub mod entities;
pub mod error;
pub mod kinds;
pub mod schemas;
pub mod service;
pub mod store;
pub mod text;
mod upload;

#[cfg(feature = "http")]
pub mod router;

pub use error::FileError;
pub use schemas::{File, Purpose};
pub use service::{Content, FileLimits, FilesService, Received};
pub use store::{FileStore, StoreConfigError};
