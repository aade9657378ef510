//! Configurable AI agents and the tools they may call: the `agents`, `tools` and link
//! tables, their DTOs, [`AgentService`], [`ToolService`] and (feature `http`) the
//! `/api/v1/agents` and `/api/v1/tools` routes.

pub mod entities;
pub mod error;
pub mod schemas;
pub mod service;

#[cfg(feature = "http")]
pub mod router;

pub use error::AgentError;
pub use service::{AgentService, ProviderNames, ToolService};
