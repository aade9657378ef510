//! The end of a run: its [`Outcome`], and recording it under the state guard.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition};

use super::Inner;
use crate::entities::execution;
use crate::events::{Event, ExecutionCancelled, ExecutionCompleted, ExecutionFailed, FailureCode};
use crate::status::ExecutionStatus;

/// How a run ended, as far as the runner writes it down.
pub(super) enum Outcome {
    /// The agent answered; `answer` stores it in the run's conversation, if it has one.
    Completed {
        output: String,
        usage: Tokens,
        answer: Option<Box<conversations::MessageStatements>>,
    },
    /// It failed: provider error, timeout, step limit, a vanished agent.
    Failed { failure: Failure, usage: Tokens },
    /// Its cancellation token fired (a cancel request, or the parent's end).
    Cancelled { usage: Tokens },
    /// It is no longer this process's to finish (finished elsewhere, or the process stops).
    Abandoned,
    /// It waits for a person in `requires_action` (recorded already when it paused).
    Paused,
}

/// Why a run failed, and what kind of failure it was.
pub(super) struct Failure {
    /// The reason, as stored in `error`.
    pub(super) error: String,
    /// The kind, when a client can act on it.
    pub(super) code: Option<FailureCode>,
}

impl Failure {
    /// A failure of no particular kind.
    pub(super) fn plain(error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            code: None,
        }
    }
}

/// Tokens spent by one execution's own calls.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tokens {
    /// Tokens of the inputs sent.
    pub(super) prompt: i64,
    /// Tokens generated.
    pub(super) completion: i64,
}

impl Tokens {
    pub(super) fn add(&mut self, usage: llm::Usage) {
        let count = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
        self.prompt = self.prompt.saturating_add(count(usage.prompt_tokens));
        self.completion = self.completion.saturating_add(count(usage.completion_tokens));
    }
}

/// The state guard of this process's writes: running, and held by `worker`.
pub(super) fn held_by(worker: &str) -> Condition {
    Condition::all()
        .add(execution::Column::Status.eq(ExecutionStatus::Running))
        .add(execution::Column::WorkerId.eq(worker))
}

/// Records the end of a run (if this process still holds the execution) and publishes it.
#[tracing::instrument(name = "execution.finish", skip_all, fields(execution_id = %model.id))]
pub(super) async fn finish(inner: &Inner, model: &execution::Model, outcome: Outcome) {
    let usage = match &outcome {
        Outcome::Completed {
            usage, answer: Some(_), ..
        } => *usage,
        _ => return record(inner, model, outcome).await.unwrap_or(()),
    };
    // The answer could not be stored with the end (its conversation was deleted
    // meanwhile, say): the run fails instead, saying why.
    if let Err(err) = record(inner, model, outcome).await {
        let gone = match model.conversation_id {
            Some(id) => matches!(inner.conversations.find_owned(model.owner_id, id).await, Ok(None)),
            None => false,
        };
        let error = if gone {
            "the conversation no longer exists".to_owned()
        } else {
            format!("cannot append the output to the conversation: {err}")
        };
        let failed = Outcome::Failed {
            failure: Failure::plain(error),
            usage,
        };
        let _ = record(inner, model, failed).await;
    }
}

/// [`finish`]: the end written, or why it could not be (logged).
async fn record(inner: &Inner, model: &execution::Model, outcome: Outcome) -> Result<(), kernel::Error> {
    use execution::Column as C;
    let mut answer = None;
    let (event, status, usage, text) = match outcome {
        Outcome::Completed {
            output,
            usage,
            answer: stored,
        } => {
            answer = stored;
            (
                Event::ExecutionCompleted(ExecutionCompleted { output: output.clone() }),
                ExecutionStatus::Completed,
                usage,
                Some((C::Output, output)),
            )
        }
        Outcome::Failed {
            failure: Failure { error, code },
            usage,
        } => (
            Event::ExecutionFailed(ExecutionFailed {
                error: error.clone(),
                code,
            }),
            ExecutionStatus::Failed,
            usage,
            Some((C::Error, error)),
        ),
        Outcome::Cancelled { usage } => (
            Event::ExecutionCancelled(ExecutionCancelled {}),
            ExecutionStatus::Cancelled,
            usage,
            None,
        ),
        Outcome::Abandoned | Outcome::Paused => return Ok(()),
    };
    let mut changes = vec![
        (C::Status, Expr::value(status)),
        (C::CompletedAt, Expr::value(kernel::clock::now())),
        (C::PromptTokens, Expr::value(usage.prompt)),
        (C::CompletionTokens, Expr::value(usage.completion)),
    ];
    if let Some((column, value)) = text {
        changes.push((column, Expr::value(value)));
    }
    // The answer's message, `message.completed` and the end, in one transaction.
    let (before, events) = match answer.map(|answer| *answer) {
        Some(answer) => (
            vec![answer.conversation, answer.message_insert],
            vec![Event::MessageCompleted(answer.message), event],
        ),
        None => (Vec::new(), vec![event]),
    };
    match inner
        .store
        .append_after(before, model.id, held_by(&inner.worker_id), changes, events)
        .await
    {
        Ok(Some(events)) => events.into_iter().for_each(|event| inner.broker.publish(event)),
        Ok(None) => tracing::debug!(execution_id = %model.id, "execution already finished elsewhere"),
        Err(err) => {
            tracing::warn!(execution_id = %model.id, error = %err, "cannot record the end of an execution");
            return Err(err);
        }
    }
    Ok(())
}
