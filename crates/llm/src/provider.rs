//! The one interface every LLM backend implements.

use futures_util::stream::BoxStream;

use crate::{ChatRequest, ChatResponse, LlmError, StreamEvent};

/// An LLM backend; object-safe, shared as `Arc<dyn Provider>`.
pub trait Provider: Send + Sync + 'static {
    /// The name it is registered under (`echo`, `openai`, `anthropic`).
    fn name(&self) -> &str;

    /// Asks for a whole answer.
    fn complete(&self, req: ChatRequest) -> kernel::BoxFuture<'_, Result<ChatResponse, LlmError>>;

    /// Asks for a streamed answer: `Delta`s, then exactly one `Done` — or an error, after
    /// which nothing follows. Nothing is sent until the stream is polled.
    fn stream(&self, req: ChatRequest) -> BoxStream<'static, Result<StreamEvent, LlmError>>;
}
