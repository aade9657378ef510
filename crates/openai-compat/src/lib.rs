//! The OpenAI-compatible API (`/v1`), so that the official OpenAI SDKs and the tools built
//! on them talk to Agentry agents: each of the caller's live agents is a model, and every
//! answer is a run of the executions engine. This crate only translates formats: its
//! [`OpenAiService`] calls the agents and executions services, its `schemas` are OpenAI's
//! published shapes, and (feature `http`) its router serves them under `/v1` with errors in
//! the shape the SDKs read.

pub mod error;
pub mod schemas;
pub mod service;

#[cfg(feature = "http")]
pub mod router;

pub use error::CompatError;
pub use service::OpenAiService;
