//! Business rules of conversations: [`ConversationService`] (CRUD and the message log).
//! Replies are written by runs (the `executions` crate), through the message log.

mod attachments;
mod conversations;
mod messages;
mod written_with;

pub use attachments::DOCUMENT_MAX_CHARS;
pub use conversations::ConversationService;
pub use messages::NewMessage;
pub use written_with::{MessageStatements, TurnConversation};

use garde::Validate;

use crate::error::{ConversationError, Result};

/// Runs a body's garde rules, listing every failing field (the same rules the HTTP
/// extractor runs, so library callers cannot skip them).
fn check<T: Validate<Context = ()>>(value: &T) -> Result<()> {
    kernel::rules::check(value).map_err(ConversationError::Invalid)
}
