//! [`RunnableTool`]: a tool as a run uses it.

use serde_json::Value;
use uuid::Uuid;

use crate::entities::tool;
use crate::schemas::{HttpSpec, ToolApproval, ToolKind};

/// A tool of an agent as a run uses it: what the model is offered, who runs it, whether a
/// person approves each call, and (for `http` tools) the call with its real header values.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnableTool {
    /// The tool's id.
    pub id: Uuid,
    /// The function name the model calls.
    pub name: String,
    /// What it does, for the model.
    pub description: Option<String>,
    /// JSON Schema (draft 2020-12) of its arguments; see [`crate::arguments::check`].
    pub parameters: Value,
    /// Who runs it.
    pub kind: ToolKind,
    /// Whether each call waits for a person.
    pub approval: ToolApproval,
    /// The HTTP call of an `http` tool, unmasked (header values may hold
    /// `{{secret:NAME}}` references, resolved at call time); `None` for a client tool.
    pub http: Option<HttpSpec>,
}

impl From<tool::Model> for RunnableTool {
    fn from(m: tool::Model) -> Self {
        Self {
            http: m.http_spec(),
            id: m.id,
            name: m.name,
            description: m.description,
            parameters: m.parameters,
            kind: m.kind.into(),
            approval: m.approval.into(),
        }
    }
}
