//! What the events of a run say to an OpenAI client: text, the calls its program must run,
//! the end, or the failure. Chat completions and responses, whole or streamed, read a run's
//! event log through [`Step::of`].

use executions::actions::{PendingCall, PendingCallType};
use executions::events::ExecutionFailed;
use executions::{Event, ExecutionError};

/// One event of a run, as an OpenAI answer sees it.
#[derive(Debug)]
pub enum Step {
    /// More of the answer's text.
    Text(String),
    /// The run paused: these calls are for the client to run (the answer ends with them).
    Calls(Vec<PendingCall>),
    /// The run answered (the answer ends).
    Done,
    /// The run ended without an answer.
    Failed(kernel::Error),
    /// Nothing the client sees (lifecycle, server-side tool calls…).
    Skip,
}

impl Step {
    /// The step of `event`.
    pub fn of(event: &Event) -> Self {
        match event {
            Event::MessageDelta(delta) => Self::Text(delta.delta.clone()),
            Event::ExecutionRequiresAction(paused) => Self::Calls(
                paused
                    .required_action
                    .calls
                    .iter()
                    .filter(|call| call.kind == PendingCallType::ClientTool)
                    .cloned()
                    .collect(),
            ),
            Event::ExecutionCompleted(_) => Self::Done,
            Event::ExecutionFailed(ExecutionFailed { error, code }) => Self::Failed(
                ExecutionError::RunFailed {
                    error: error.clone(),
                    code: *code,
                }
                .into(),
            ),
            Event::ExecutionCancelled(_) => Self::Failed(ExecutionError::RunCancelled.into()),
            Event::ExecutionExpired(_) => Self::Failed(ExecutionError::RunExpired.into()),
            _ => Self::Skip,
        }
    }
}

/// A call's arguments as the JSON text OpenAI sends (a string holding broken JSON as it was).
pub fn arguments_text(arguments: &serde_json::Value) -> String {
    match arguments {
        serde_json::Value::String(raw) => raw.clone(),
        other => other.to_string(),
    }
}
