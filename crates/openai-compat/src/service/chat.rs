//! Chat completions: a request becomes a stateless answer of the agent (its history is the
//! request's `messages`) — a run of the executions engine, or the provider's answer stored
//! nowhere when it needs only the model and `store` is not asked for — and the answer's
//! steps become the `chat.completion`.

use chrono::{DateTime, Utc};
use executions::schemas::Execution;
use executions::{DirectAnswer, DirectStep, EventFeed, ExecutionService, StatelessAnswer, StatelessRun};
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

/// Where a chat completion's answer comes from.
enum Source {
    /// A run: its events, replayed from the log then live.
    Run { execution: Box<Execution>, feed: EventFeed },
    /// The provider, stored nowhere.
    Direct(DirectAnswer),
}

/// A chat completion being answered: where its answer comes from and how to answer.
pub struct StartedChat {
    source: Source,
    /// The request in the engine's terms.
    pub plan: ChatPlan,
    /// The `model` of the request, echoed in the answer.
    pub model: String,
}

impl StartedChat {
    /// The run answering it, when it is one (`X-Execution-Id`).
    pub fn execution_id(&self) -> Option<Uuid> {
        match &self.source {
            Source::Run { execution, .. } => Some(execution.id),
            Source::Direct(_) => None,
        }
    }

    /// The completion's id: `chatcmpl-` and the run's (or the direct answer's) id.
    pub fn id(&self) -> String {
        completion_id(match &self.source {
            Source::Run { execution, .. } => execution.id,
            Source::Direct(answer) => answer.id(),
        })
    }

    /// When it was asked, in Unix seconds.
    pub fn created(&self) -> i64 {
        let at: DateTime<Utc> = match &self.source {
            Source::Run { execution, .. } => execution.created_at,
            Source::Direct(answer) => answer.created_at(),
        };
        crate::schemas::unix_seconds(at)
    }

    /// The answer's next step: text, the client's calls, the end, or the failure (the
    /// last three end it); [`Step::Skip`] for what the client does not see.
    pub async fn next(&mut self) -> Step {
        match &mut self.source {
            Source::Run { feed, .. } => match feed.next().await {
                Ok(Some(frame)) => Step::of(&frame.event.event),
                Ok(None) => Step::Failed(kernel::Error::Internal(anyhow::anyhow!(
                    "the run's events ended without an answer"
                ))),
                Err(err) => Step::Failed(err),
            },
            Source::Direct(answer) => match answer.next().await {
                Ok(Some(DirectStep::Text(text))) => Step::Text(text),
                Ok(Some(DirectStep::Calls(calls))) => Step::Calls(calls),
                Ok(Some(DirectStep::Done)) => Step::Done,
                Ok(None) => Step::Failed(kernel::Error::Internal(anyhow::anyhow!(
                    "the answer ended without its last step"
                ))),
                Err(err) => Step::Failed(err),
            },
        }
    }

    /// The tokens the answer spent, once it ended: the run's as stored, or as the provider
    /// reported them.
    pub async fn usage(&self, executions: &ExecutionService, owner_id: Uuid) -> Result<CompletionUsage> {
        match &self.source {
            Source::Run { execution, .. } => Ok(executions.get(owner_id, execution.id).await?.usage.into()),
            Source::Direct(answer) => Ok(answer.usage().into()),
        }
    }
}

impl OpenAiService {
    /// Checks the request (`422` naming every parameter at fault), resolves its model and
    /// starts the answer.
    pub async fn start_chat(&self, owner_id: Uuid, request: ChatCompletionCreate) -> Result<StartedChat> {
        let plan = chat_plan(&request).map_err(CompatError::Invalid)?;
        let (agent, linked) = self.resolve(owner_id, &request.model).await?;
        let run = StatelessRun {
            instructions: None,
            messages: plan.messages.clone(),
            client_tools: plan.client_tools.clone(),
            agent_tools: plan.agent_tools,
            temperature: plan.temperature,
            max_tokens: plan.max_tokens,
            request: None,
        };
        let source = match self
            .executions
            .answer_stateless(owner_id, agent, linked, run, plan.store, plan.stream)
            .await?
        {
            StatelessAnswer::Run(execution) => Source::Run {
                feed: self.executions.follow(&execution),
                execution: Box::new(execution),
            },
            StatelessAnswer::Direct(answer) => Source::Direct(answer),
        };
        Ok(StartedChat {
            source,
            plan,
            model: request.model,
        })
    }

    /// Waits for the answer of `chat`: its text, or the calls for the client to run.
    pub async fn chat_completion(&self, owner_id: Uuid, mut chat: StartedChat) -> Result<ChatCompletion> {
        let mut text = String::new();
        let mut calls = Vec::new();
        loop {
            match chat.next().await {
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
        let usage = chat.usage(&self.executions, owner_id).await?;
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
            id: chat.id(),
            object: CompletionObject::ChatCompletion,
            created: chat.created(),
            model: chat.model,
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
