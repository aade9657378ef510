//! Runs that wait for a person: the public [`RequiredAction`] of a `requires_action`
//! execution, and the [`ActionInputs`] that answer it (`POST /executions/{id}/inputs`).

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

/// The most inputs one submission carries (a model turn's calls are bounded the same way).
pub const INPUTS_MAX: usize = 128;

/// What a paused run waits for: the calls of its last model turn that need a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RequiredAction {
    /// When the run ends `expired` if nobody answers (`EXECUTION_ACTION_TIMEOUT_SECS` after it paused).
    pub expires_at: DateTime<Utc>,
    /// Every call to answer, in the model's order; one submission answers them all.
    pub calls: Vec<PendingCall>,
}

/// One call waiting for a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingCall {
    /// The call's id (answer it with this `call_id`).
    pub id: String,
    /// `client_tool`: the caller's program runs the tool and sends its output;
    /// `approval`: a person approves, denies, edits or answers the call.
    #[serde(rename = "type")]
    pub kind: PendingCallType,
    /// The tool called.
    pub tool_id: Option<Uuid>,
    /// The tool's name, as the model called it.
    pub name: String,
    /// The arguments the model chose (a JSON object).
    #[schema(schema_with = conversations::schemas::arguments_schema)]
    pub arguments: Value,
}

/// What a person does for a pending call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PendingCallType {
    /// Run the client tool and send its output (`tool_output` input).
    ClientTool,
    /// Decide on the call (`approval` input).
    Approval,
}

/// The answers to every pending call of a `requires_action` execution, applied at once.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInputs {
    /// One input per pending call, each `call_id` exactly once.
    #[garde(length(min = 1, max = INPUTS_MAX), dive)]
    #[schema(min_items = 1, max_items = 128)]
    pub inputs: Vec<ActionInput>,
}

/// The answer to one pending call: `tool_output` (a client tool's output: `output`,
/// `is_error`) or `approval` (a person's `decision`, with `arguments` for `edit`, `output`
/// for `respond`, `reason` for `deny`). One flat object rather than a union, so that every
/// client generator handles it; the fields a type needs are checked (`422` naming them).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// `tool_output` for a `client_tool` call, `approval` for an `approval` call.
    #[serde(rename = "type")]
    #[garde(skip)]
    pub kind: ActionInputType,
    /// The pending call answered.
    #[garde(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub call_id: String,
    /// `tool_output`: the tool's result (required); `approval` with `respond`: the result given
    /// to the model (required). A string, or any JSON (given to the model as JSON text).
    #[serde(default)]
    #[garde(skip)]
    pub output: Option<Value>,
    /// `tool_output`: whether the output is an error (the model is told so).
    #[serde(default)]
    #[garde(skip)]
    pub is_error: bool,
    /// `approval`: `approve` runs the call as asked, `deny` gives the model an error result
    /// with `reason`, `edit` runs it with `arguments`, `respond` skips it and gives the model `output`.
    #[serde(default)]
    #[garde(skip)]
    pub decision: Option<Decision>,
    /// `approval` with `edit`: the arguments to run the call with (checked against the tool's `parameters`).
    #[serde(default)]
    #[garde(skip)]
    #[schema(schema_with = conversations::schemas::arguments_schema)]
    pub arguments: Option<Map<String, Value>>,
    /// `approval` with `deny`: why, told to the model.
    #[serde(default)]
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// What an input answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionInputType {
    /// The output of a client tool the caller ran.
    ToolOutput,
    /// A person's decision on a call that needs approval.
    Approval,
}

/// A person's decision on a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Run the call as the model asked.
    Approve,
    /// Do not run it; the model gets an error result with the reason.
    Deny,
    /// Run it with other arguments.
    Edit,
    /// Do not run it; the model gets `output` as its result.
    Respond,
}

/// A tool result given as JSON: a string as it is, anything else as JSON text.
pub(crate) fn output_text(output: &Value) -> String {
    match output {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
