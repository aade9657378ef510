//! [`PausedTurn`]: what a run that stopped for a person needs to go on — the history up to
//! the model turn whose calls wait, each call's plan, and the answers once they arrive.
//! Stored in `executions.paused_turn` (never on the wire); the public half is the
//! execution's `required_action`.

use std::collections::BTreeMap;

use kernel::FieldError;
use llm::{ChatMessage, ToolCall};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::actions::{ActionInput, ActionInputType, Decision, PendingCall, PendingCallType, output_text};

/// A model turn stopped before any of its calls ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PausedTurn {
    /// The history sent to the model, ending with the assistant message that made the calls.
    pub(crate) messages: Vec<ChatMessage>,
    /// Every call of the turn, in the model's order.
    pub(crate) calls: Vec<PlannedCall>,
    /// Provider calls made so far.
    pub(crate) steps: u32,
    /// The answers of the calls that waited for a person, by call id (once they arrived).
    #[serde(default)]
    pub(crate) answers: BTreeMap<String, Answer>,
}

/// One call of a model turn and how it is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlannedCall {
    /// The call as the model made it.
    pub(crate) call: ToolCall,
    /// How it is answered.
    pub(crate) plan: Plan,
}

/// How a call is answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "plan", rename_all = "snake_case")]
pub(crate) enum Plan {
    /// Already decided without running anything (no such tool, invalid arguments).
    Settled {
        /// The result given to the model.
        output: String,
        /// Whether it is an error.
        is_error: bool,
    },
    /// The server runs it (an HTTP tool, a sub-agent).
    Run,
    /// A person answers it (a client tool's output, or an approval).
    Person {
        /// Which kind of answer it needs.
        kind: PendingCallType,
        /// The tool called.
        tool_id: Option<Uuid>,
        /// The tool's argument schema, to check edited arguments against.
        parameters: Value,
    },
}

/// A person's answer to a call, as the run applies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub(crate) enum Answer {
    /// Give the model this result without running the call.
    Output {
        /// The result.
        output: String,
        /// Whether it is an error.
        is_error: bool,
    },
    /// Run the call with these arguments.
    Run {
        /// The arguments (the model's, or a person's edit).
        arguments: Value,
    },
}

impl PausedTurn {
    /// The calls waiting for a person, as `required_action.calls` lists them.
    pub(crate) fn pending(&self) -> Vec<PendingCall> {
        self.calls
            .iter()
            .filter_map(|planned| match &planned.plan {
                Plan::Person { kind, tool_id, .. } => Some(PendingCall {
                    id: planned.call.id.clone(),
                    kind: *kind,
                    tool_id: *tool_id,
                    name: planned.call.name.clone(),
                    arguments: planned.call.arguments.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// Records `inputs` as the answers of every pending call: each pending call answered
    /// exactly once, by an input of its kind, with the fields its decision needs. Edited
    /// arguments are checked with `check` (a tool's `parameters`, the arguments). Returns
    /// the answered call ids in the submission's order; a `422` naming the field otherwise.
    pub(crate) fn answer(
        &mut self,
        inputs: Vec<ActionInput>,
        check: impl Fn(&Value, &Value) -> Result<(), String>,
    ) -> Result<Vec<String>, Vec<FieldError>> {
        let mut answers = BTreeMap::new();
        let mut errors = Vec::new();
        let mut order = Vec::with_capacity(inputs.len());
        for (index, input) in inputs.into_iter().enumerate() {
            let field = |name: &str| format!("inputs[{index}].{name}");
            let call_id = input.call_id.clone();
            let Some((planned, kind, parameters)) = self.calls.iter().find_map(|p| match &p.plan {
                Plan::Person { kind, parameters, .. } if p.call.id == call_id => Some((p, *kind, parameters)),
                _ => None,
            }) else {
                errors.push(FieldError::new(
                    field("call_id"),
                    format!("`{call_id}` is not a pending call of this execution"),
                ));
                continue;
            };
            if answers.contains_key(&call_id) {
                errors.push(FieldError::new(
                    field("call_id"),
                    format!("`{call_id}` is answered twice"),
                ));
                continue;
            }
            let answer = match (kind, input.kind) {
                (PendingCallType::ClientTool, ActionInputType::ToolOutput) => {
                    let Some(output) = input.output else {
                        errors.push(FieldError::new(
                            field("output"),
                            "`tool_output` needs the tool's output",
                        ));
                        continue;
                    };
                    Answer::Output {
                        output: output_text(&output),
                        is_error: input.is_error,
                    }
                }
                (PendingCallType::Approval, ActionInputType::Approval) => match input.decision {
                    None => {
                        errors.push(FieldError::new(
                            field("decision"),
                            "`approval` needs a decision: approve, deny, edit or respond",
                        ));
                        continue;
                    }
                    Some(Decision::Approve) => Answer::Run {
                        arguments: planned.call.arguments.clone(),
                    },
                    Some(Decision::Deny) => Answer::Output {
                        output: match input.reason {
                            Some(reason) => format!("error: a person denied this call: {reason}"),
                            None => "error: a person denied this call".to_owned(),
                        },
                        is_error: true,
                    },
                    Some(Decision::Edit) => {
                        let Some(arguments) = input.arguments else {
                            errors.push(FieldError::new(
                                field("arguments"),
                                "`edit` needs the arguments to run the call with",
                            ));
                            continue;
                        };
                        let arguments = Value::Object(arguments);
                        if let Err(problem) = check(parameters, &arguments) {
                            errors.push(FieldError::new(
                                field("arguments"),
                                format!("the arguments do not match the tool's parameters: {problem}"),
                            ));
                            continue;
                        }
                        Answer::Run { arguments }
                    }
                    Some(Decision::Respond) => {
                        let Some(output) = input.output else {
                            errors.push(FieldError::new(
                                field("output"),
                                "`respond` needs the output to give the model",
                            ));
                            continue;
                        };
                        Answer::Output {
                            output: output_text(&output),
                            is_error: false,
                        }
                    }
                },
                (PendingCallType::ClientTool, ActionInputType::Approval) => {
                    errors.push(FieldError::new(
                        field("type"),
                        format!("`{call_id}` is a client tool call: answer it with `tool_output`"),
                    ));
                    continue;
                }
                (PendingCallType::Approval, ActionInputType::ToolOutput) => {
                    errors.push(FieldError::new(
                        field("type"),
                        format!("`{call_id}` waits for an approval: answer it with `approval`"),
                    ));
                    continue;
                }
            };
            order.push(call_id.clone());
            answers.insert(call_id, answer);
        }
        let missing: Vec<String> = self
            .pending()
            .into_iter()
            .map(|call| call.id)
            .filter(|id| !answers.contains_key(id))
            .collect();
        if errors.is_empty() && !missing.is_empty() {
            errors.push(FieldError::new(
                "inputs",
                format!(
                    "every pending call must be answered at once; missing: {}",
                    missing.join(", ")
                ),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        self.answers = answers;
        Ok(order)
    }
}
