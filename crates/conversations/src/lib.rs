//! Conversations with agents: the `conversations` and `messages` tables, their DTOs (the
//! message bodies and the chat stream's events included), [`ConversationService`] (CRUD and
//! the message log) and (feature `http`) the `/api/v1/conversations` routes. Replies are
//! written by runs: the `executions` crate sends messages and streams them.

pub mod entities;
pub mod error;
pub mod schemas;
pub mod service;

#[cfg(feature = "http")]
pub mod router;

pub use error::ConversationError;
pub use service::{ConversationService, MessageStatements, NewMessage, TurnConversation};
