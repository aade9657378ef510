//! Configurable AI agents and the tools they may call: the `agents`, `tools` and link
//! tables, their DTOs, [`AgentService`], [`ToolService`] and (feature `http`) the
//! `/api/v1/agents` and `/api/v1/tools` routes; [`AgentService::runnable_tools`] and
//! [`arguments::check`] serve the run engine.

pub mod arguments;
pub mod cache;
pub mod entities;
pub mod error;
pub mod schemas;
pub mod service;

#[cfg(feature = "http")]
pub mod router;

pub use cache::{ModelCache, ModelMatch};
pub use error::AgentError;
pub use schemas::{HttpMethod, HttpSpec, ToolApproval, ToolKind};
pub use service::{AgentService, ProviderNames, RunnableTool, ToolService};
