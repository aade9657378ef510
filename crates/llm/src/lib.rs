//! LLM providers behind one object-safe [`Provider`] trait: the offline [`EchoProvider`],
//! any OpenAI-compatible endpoint ([`OpenAiProvider`]) and Anthropic ([`AnthropicProvider`]).
//!
//! Build a [`ProviderRegistry`] once from an [`LlmConfig`], then look providers up by name.
//! HTTP only: no database, no routes.

mod anthropic;
mod attachment;
mod config;
mod echo;
mod error;
mod http;
mod openai;
mod provider;
mod registry;
mod retry;
mod sse;
mod tool_call;
mod types;

pub use anthropic::AnthropicProvider;
pub use attachment::Attachment;
pub use config::{DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_ANTHROPIC_VERSION, DEFAULT_OPENAI_BASE_URL, LlmConfig};
pub use echo::{ECHO_MODEL, EchoProvider};
pub use error::LlmError;
pub use openai::OpenAiProvider;
pub use provider::Provider;
pub use registry::ProviderRegistry;
pub use types::{
    ChatMessage, ChatRequest, ChatResponse, FinishReason, ParseRoleError, Role, StreamEvent, ToolCall, ToolDefinition,
    Usage,
};
