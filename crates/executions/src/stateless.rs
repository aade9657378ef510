//! [`StatelessRun`]: a run that answers an explicit history instead of a conversation's —
//! what the OpenAI-compatible API sends (a chat completion's `messages`, a response's input
//! items). It is stored with the execution (`executions.history`) so that any replica's
//! worker can run it, and it is never written to a conversation.

use llm::{ChatMessage, Role, ToolDefinition};

use crate::entities::execution;
use serde::{Deserialize, Serialize};

/// The history a stateless run answers, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatelessRun {
    /// Instructions sent as a system message between the agent's system prompt and the
    /// history (kept apart so that a follow-up run can leave them out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// The history after the agent's system prompt, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Functions offered besides the agent's tools: their calls are the client's to run,
    /// so the run pauses (`requires_action`, `client_tool` calls) when the model calls one.
    #[serde(default)]
    pub client_tools: Vec<ToolDefinition>,
    /// Whether the agent's own tools and sub-agents are offered. Tools that need a
    /// person's approval never are: a stateless client cannot answer an approval.
    #[serde(default = "offered")]
    pub agent_tools: bool,
    /// Overrides the agent's temperature.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Overrides the agent's answer length limit (tokens).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// The request's own settings as the API that started the run received them (the
    /// OpenAI-compatible API's `model`, `metadata`…), kept to show the run back in that
    /// API's terms; the engine never reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<serde_json::Value>,
}

fn offered() -> bool {
    true
}

impl StatelessRun {
    /// The history the model reads: the instructions, if any, then the messages.
    pub fn history(self) -> Vec<ChatMessage> {
        let mut history = Vec::with_capacity(self.messages.len() + 1);
        history.extend(self.instructions.map(ChatMessage::system));
        history.extend(self.messages);
        history
    }

    /// The execution's `input`: the text of the last user message (empty when there is none).
    pub fn input(&self) -> String {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.clone())
            .unwrap_or_default()
    }
}

/// The stateless run `model` holds, if it is one.
pub(crate) fn of(model: &execution::Model) -> Result<Option<StatelessRun>, String> {
    let Some(history) = &model.history else {
        return Ok(None);
    };
    serde_json::from_value(history.clone())
        .map(Some)
        .map_err(|err| format!("the run's history cannot be read: {err}"))
}
