//! Conversations with agents: the `conversations` and `messages` tables, their DTOs,
//! [`ConversationService`] (CRUD and the message log), [`ChatService`] (replies from the
//! conversation's agent through the `llm` providers, whole or streamed) and (feature
//! `http`) the `/api/v1/conversations` and `/api/v1/chat` routes with Server-Sent Events.

pub mod entities;
pub mod error;
pub mod schemas;
pub mod service;

#[cfg(feature = "http")]
pub mod router;

pub use error::ConversationError;
pub use service::{ConversationService, NewMessage};
