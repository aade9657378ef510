//! Chat completions: a request becomes a stateless run of the agent (its history is the
//! request's `messages`), and the run's events become the `chat.completion`.

use executions::schemas::Execution;
use executions::{ExecutionService, StatelessRun};
use uuid::Uuid;

use super::OpenAiService;
use super::answer::{Step, arguments_text};
use super::translate::{ChatPlan, chat_plan};
use crate::error::{CompatError, Result};
use crate::schemas::chat::{ChatCompletionCreate, FunctionCall, FunctionType};
use crate::schemas::completion::{
    AssistantMessage, AssistantRole, ChatCompletion, Choice, CompletionObject, CompletionUsage, FinishReason,
    ToolCallOut, completion_id,
};

/// A chat completion being answered: its run and how to answer.
#[derive(Debug, Clone)]
pub struct StartedChat {
    /// The run answering it (its id is in the completion's id).
    pub execution: Execution,
    /// The request in the engine's terms.
    pub plan: ChatPlan,
    /// The `model` of the request, echoed in the answer.
    pub model: String,
}

impl OpenAiService {
    /// Checks the request (`422` naming every parameter at fault), resolves its model and
    /// starts the run answering it.
    pub async fn start_chat(&self, owner_id: Uuid, request: ChatCompletionCreate) -> Result<StartedChat> {
        let plan = chat_plan(&request).map_err(CompatError::Invalid)?;
        let agent = self.resolve(owner_id, &request.model).await?;
        let run = StatelessRun {
            instructions: None,
            messages: plan.messages.clone(),
            client_tools: plan.client_tools.clone(),
            agent_tools: plan.agent_tools,
            temperature: plan.temperature,
            max_tokens: plan.max_tokens,
            request: None,
        };
        let execution = self.executions.run_stateless(owner_id, agent.id, run).await?;
        Ok(StartedChat {
            execution,
            plan,
            model: request.model,
        })
    }

    /// Waits for the run of `chat` to answer: its text, or the calls for the client to run.
    pub async fn chat_completion(&self, owner_id: Uuid, chat: &StartedChat) -> Result<ChatCompletion> {
        let id = chat.execution.id;
        let mut feed = self.executions.follow(&chat.execution);
        let mut text = String::new();
        let mut calls = Vec::new();
        while let Some(frame) = feed.next().await? {
            match Step::of(&frame.event.event) {
                Step::Text(delta) => text.push_str(&delta),
                Step::Calls(pending) => {
                    calls = pending;
                    break;
                }
                Step::Done => break,
                Step::Failed(err) => return Err(err.into()),
                Step::Skip => {}
            }
        }
        let usage = usage_of(&self.executions, owner_id, id).await?;
        let (finish_reason, tool_calls) = if calls.is_empty() {
            (FinishReason::Stop, None)
        } else {
            let out = calls
                .into_iter()
                .map(|call| ToolCallOut {
                    id: call.id,
                    kind: FunctionType::Function,
                    function: FunctionCall {
                        name: call.name,
                        arguments: arguments_text(&call.arguments),
                    },
                })
                .collect();
            (FinishReason::ToolCalls, Some(out))
        };
        Ok(ChatCompletion {
            id: completion_id(id),
            object: CompletionObject::ChatCompletion,
            created: crate::schemas::unix_seconds(chat.execution.created_at),
            model: chat.model.clone(),
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage {
                    role: AssistantRole::Assistant,
                    content: (!text.is_empty() || tool_calls.is_none()).then_some(text),
                    refusal: None,
                    tool_calls,
                },
                logprobs: None,
                finish_reason,
            }],
            usage,
            system_fingerprint: None,
        })
    }
}

/// The tokens the run spent, as read once it stopped.
pub async fn usage_of(executions: &ExecutionService, owner_id: Uuid, id: Uuid) -> Result<CompletionUsage> {
    Ok(executions.get(owner_id, id).await?.usage.into())
}
