//! Business rules of conversations: [`ConversationService`] (CRUD and the message log)
//! and [`ChatService`] (replies from the conversation's agent through the LLM providers).

mod chat;
mod conversations;
mod messages;

pub use chat::{ChatEvent, ChatService, ChatTarget};
pub use conversations::ConversationService;
pub use messages::NewMessage;

use garde::Validate;

use crate::error::{ConversationError, Result};

/// Runs a body's garde rules, listing every failing field (the same rules the HTTP
/// extractor runs, so library callers cannot skip them).
fn check<T: Validate<Context = ()>>(value: &T) -> Result<()> {
    kernel::rules::check(value).map_err(ConversationError::Invalid)
}
