//! [`ChatService`]: a user message in, the agent's reply out — whole, or as a stream of events.

use std::sync::Arc;

use agents::AgentService;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use llm::{ChatRequest, Provider, ProviderRegistry, StreamEvent};
use uuid::Uuid;

use super::{ConversationService, NewMessage};
use crate::error::{ConversationError, Result};
use crate::schemas::Message;
use crate::schemas::rules::derived_title;

/// Where a user message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatTarget {
    /// The owner's conversation named in the path: `NotFound` when missing or someone else's.
    Conversation(Uuid),
    /// The target named in a `/chat` body: an existing conversation (`422` naming
    /// `conversation_id` when it is not the caller's) or, without one, a new conversation
    /// with `agent_id` (`422` naming `agent_id` when it is not the caller's live agent).
    Chat {
        /// The conversation to continue.
        conversation_id: Option<Uuid>,
        /// The agent of a new conversation, or the expected agent of `conversation_id`.
        agent_id: Option<Uuid>,
    },
}

/// One event of a streamed reply, in order: `Created`, `Delta`s, then `Completed` or `Failed`.
#[derive(Debug)]
pub enum ChatEvent {
    /// The user's message, stored.
    Created(Message),
    /// The next piece of the reply's text.
    Delta(String),
    /// The whole reply, stored.
    Completed(Message),
    /// The reply failed; the user's message stays stored, no reply is.
    Failed(ConversationError),
}

/// Generates replies: stores the user's message, asks the conversation's agent (or the
/// default provider and model) over the last messages, and stores the answer.
#[derive(Clone)]
pub struct ChatService {
    conversations: ConversationService,
    agents: AgentService,
    providers: ProviderRegistry,
    history_limit: u64,
}

/// A stored user message and the provider call that answers it.
struct Exchange {
    user_message: Message,
    provider: Arc<dyn Provider>,
    request: ChatRequest,
}

impl Exchange {
    /// The provider call of `settings` over `history` (oldest first, ending with `user_message`).
    fn new(user_message: Message, settings: ReplySettings, history: Vec<llm::ChatMessage>) -> Self {
        let ReplySettings { provider, mut request } = settings;
        request.messages = history;
        Self {
            user_message,
            provider,
            request,
        }
    }
}

/// What produces a conversation's replies.
struct ReplySettings {
    provider: Arc<dyn Provider>,
    request: ChatRequest,
}

impl ChatService {
    /// A service replying from the last `history_limit` messages of a conversation.
    pub fn new(
        conversations: ConversationService,
        agents: AgentService,
        providers: ProviderRegistry,
        history_limit: u64,
    ) -> Self {
        Self {
            conversations,
            agents,
            providers,
            history_limit: history_limit.max(1),
        }
    }

    /// Stores `content` as the user's message and returns the stored reply. When the
    /// provider fails (`Upstream`, `UpstreamTimeout`) the user's message stays stored.
    pub async fn reply(&self, owner_id: Uuid, target: ChatTarget, content: String) -> Result<Message> {
        let exchange = self.begin(owner_id, target, content).await?;
        let conversation_id = exchange.user_message.conversation_id;
        let answer = exchange
            .provider
            .complete(exchange.request)
            .await
            .map_err(|err| upstream_failure(conversation_id, err))?;
        self.conversations
            .append_message(owner_id, conversation_id, assistant_message(answer))
            .await
    }

    /// Stores `content` as the user's message and returns the reply as a stream of events.
    /// The reply is stored whole once the provider is done; dropping the stream before that
    /// cancels the provider call and stores nothing more. Errors before the user's message
    /// is stored (bad target, unknown provider) are returned instead of a stream.
    pub async fn reply_stream(
        &self,
        owner_id: Uuid,
        target: ChatTarget,
        content: String,
    ) -> Result<BoxStream<'static, ChatEvent>> {
        let Exchange {
            user_message,
            provider,
            request,
        } = self.begin(owner_id, target, content).await?;
        let conversations = self.conversations.clone();
        let conversation_id = user_message.conversation_id;
        let mut upstream = provider.stream(request);
        let events = async_stream::stream! {
            yield ChatEvent::Created(user_message);
            while let Some(event) = upstream.next().await {
                match event {
                    Ok(StreamEvent::Delta(delta)) => yield ChatEvent::Delta(delta),
                    Ok(StreamEvent::Done(answer)) => {
                        // Stored from its own task: a client leaving now cannot cut the write short.
                        let store = tokio::spawn(async move {
                            conversations
                                .append_message(owner_id, conversation_id, assistant_message(answer))
                                .await
                        });
                        yield match store.await {
                            Ok(Ok(stored)) => ChatEvent::Completed(stored),
                            Ok(Err(err)) => ChatEvent::Failed(err),
                            Err(join) => ChatEvent::Failed(ConversationError::Store(kernel::Error::Internal(join.into()))),
                        };
                        return;
                    }
                    Err(err) => {
                        yield ChatEvent::Failed(upstream_failure(conversation_id, err));
                        return;
                    }
                }
            }
            yield ChatEvent::Failed(ConversationError::NoAnswer);
        };
        Ok(events.boxed())
    }

    /// Checks the target, resolves the reply settings, stores the user's message (creating
    /// the conversation if asked) and builds the provider request over the history.
    async fn begin(&self, owner_id: Uuid, target: ChatTarget, content: String) -> Result<Exchange> {
        let (conversation, named_agent) = match target {
            ChatTarget::Conversation(id) => (self.conversations.owned(owner_id, id).await?, None),
            ChatTarget::Chat {
                conversation_id: Some(id),
                agent_id,
            } => {
                let conversation = self
                    .conversations
                    .find_owned(owner_id, id)
                    .await?
                    .ok_or(ConversationError::ConversationNotYours(id))?;
                if let Some(named) = agent_id
                    && agent_id != conversation.agent_id
                {
                    return Err(ConversationError::AgentMismatch(named));
                }
                (conversation, agent_id)
            }
            ChatTarget::Chat {
                conversation_id: None,
                agent_id,
            } => {
                let settings = match agent_id {
                    None => self.default_settings()?,
                    Some(id) => self
                        .agent_settings(owner_id, id)
                        .await?
                        .ok_or(ConversationError::AgentNotYours(id))?,
                };
                let title = derived_title(&content);
                let stored = self
                    .conversations
                    .start_with(owner_id, agent_id, title, NewMessage::user(content))
                    .await?;
                // The new message is the whole history: no need to read it back.
                let history = vec![llm::ChatMessage::user(stored.content.clone())];
                return Ok(Exchange::new(stored, settings, history));
            }
        };
        let settings = match conversation.agent_id {
            None => self.default_settings()?,
            Some(id) => match self.agent_settings(owner_id, id).await? {
                Some(settings) => settings,
                // Named in the body, the deleted agent is a bad field; otherwise the conversation is stuck.
                None if named_agent.is_some() => return Err(ConversationError::AgentNotYours(id)),
                None => return Err(ConversationError::AgentGone),
            },
        };
        let stored = self
            .conversations
            .append_message(owner_id, conversation.id, NewMessage::user(content))
            .await?;
        let history = self.conversations.recent(conversation.id, self.history_limit).await?;
        Ok(Exchange::new(stored, settings, history))
    }

    /// The registry's default provider and model, for a conversation without an agent.
    fn default_settings(&self) -> Result<ReplySettings> {
        Ok(ReplySettings {
            provider: self.providers.get(self.providers.default_provider())?,
            request: ChatRequest {
                model: self.providers.default_model().to_owned(),
                ..ChatRequest::default()
            },
        })
    }

    /// The agent's provider, model, system prompt, temperature and token limit; `None`
    /// when the agent is not the owner's live agent.
    async fn agent_settings(&self, owner_id: Uuid, agent_id: Uuid) -> Result<Option<ReplySettings>> {
        let Some(agent) = self.agents.find_owned(owner_id, agent_id).await? else {
            return Ok(None);
        };
        Ok(Some(ReplySettings {
            provider: self.providers.get(&agent.provider)?,
            request: ChatRequest {
                model: agent.model,
                system_prompt: agent.system_prompt,
                // The stored value is f64 in 0..=2; providers take f32.
                temperature: Some(agent.temperature as f32),
                max_tokens: agent.max_tokens.and_then(|t| u32::try_from(t).ok()),
                ..ChatRequest::default()
            },
        }))
    }
}

/// The stored form of a provider's answer.
fn assistant_message(answer: llm::ChatResponse) -> NewMessage {
    NewMessage {
        role: llm::Role::Assistant,
        content: answer.text,
        model: Some(answer.model),
        usage: Some(answer.usage),
    }
}

/// A provider failure as the service reports it, logged with its conversation.
fn upstream_failure(conversation_id: Uuid, err: llm::LlmError) -> ConversationError {
    tracing::warn!(%conversation_id, error = %err, "LLM reply failed");
    err.into()
}
