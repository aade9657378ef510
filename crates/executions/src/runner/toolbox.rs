//! [`Toolbox`]: every function a run offers its model — the agent's own tools, the tools of
//! its MCP servers (`<label>__<tool>`) and its sub-agents — and the plan of each call the
//! model makes (run it, ask a person, or answer at once when the call cannot run).

use agents::{RunnableTool, ToolApproval, ToolKind};
use llm::{ToolCall, ToolDefinition};
use mcp::McpFunction;
use serde_json::{Value, json};

use super::paused::Plan;
use super::tools::SubagentTools;
use crate::actions::PendingCallType;
use crate::events::ToolCallKind;
use crate::stateless::StatelessRun;

/// What answers a call of the model.
pub(crate) enum Target<'a> {
    /// One of the agent's tools.
    Tool(&'a RunnableTool),
    /// A tool of one of its MCP servers.
    Mcp(&'a McpFunction),
    /// One of its sub-agents.
    Subagent(&'a agents::schemas::Agent),
}

/// The functions offered to the model in one run.
pub(crate) struct Toolbox {
    tools: Vec<RunnableTool>,
    mcp: Vec<McpFunction>,
    subagents: SubagentTools,
    /// Whether this run is a sub-agent's: it cannot wait for a person (its parent's run
    /// holds a worker), so calls that need one are answered with an error.
    nested: bool,
}

impl Toolbox {
    /// The agent's tools, MCP tools and sub-agents (on a name clash the agent's tool wins,
    /// then the MCP tool, then the sub-agent's `ask_…`).
    pub(crate) fn new(tools: Vec<RunnableTool>, mcp: Vec<McpFunction>, subagents: SubagentTools, nested: bool) -> Self {
        Self {
            tools,
            mcp,
            subagents,
            nested,
        }
    }

    /// The toolbox of a stateless run: without the agent's (and its MCP servers') tools and
    /// sub-agents unless
    /// `run.agent_tools`, never the tools that need a person's approval (a stateless client
    /// cannot answer one), and with the run's client tools (an agent's tool of the same
    /// name wins).
    pub(crate) fn stateless(mut self, run: &StatelessRun) -> Self {
        if run.agent_tools {
            self.tools.retain(|tool| tool.approval == ToolApproval::Never);
            self.mcp.retain(|function| !function.needs_approval);
        } else {
            self.tools.clear();
            self.mcp.clear();
            self.subagents = SubagentTools::new(Vec::new());
        }
        for definition in &run.client_tools {
            if self.tools.iter().any(|tool| tool.name == definition.name) {
                continue;
            }
            self.tools.push(RunnableTool {
                id: uuid::Uuid::nil(),
                name: definition.name.clone(),
                description: definition.description.clone(),
                parameters: definition.parameters.clone(),
                kind: ToolKind::Client,
                approval: ToolApproval::Never,
                http: None,
            });
        }
        self
    }

    /// The function definitions sent to the model.
    pub(crate) fn definitions(&self) -> Vec<ToolDefinition> {
        let mut definitions: Vec<ToolDefinition> = self
            .tools
            .iter()
            .map(|tool| ToolDefinition {
                name: tool.name.clone(),
                description: tool.description.clone(),
                parameters: tool.parameters.clone(),
            })
            .collect();
        for function in &self.mcp {
            if !definitions.iter().any(|d| d.name == function.name) {
                definitions.push(ToolDefinition {
                    name: function.name.clone(),
                    description: function.description.clone(),
                    parameters: function.parameters.clone(),
                });
            }
        }
        let subagents: Vec<ToolDefinition> = self
            .subagents
            .definitions()
            .into_iter()
            .filter(|d| !definitions.iter().any(|t| t.name == d.name))
            .collect();
        definitions.extend(subagents);
        definitions
    }

    /// What answers a call named `name`.
    pub(crate) fn target(&self, name: &str) -> Option<Target<'_>> {
        if let Some(tool) = self.tools.iter().find(|t| t.name == name) {
            return Some(Target::Tool(tool));
        }
        if let Some(function) = self.mcp.iter().find(|f| f.name == name) {
            return Some(Target::Mcp(function));
        }
        self.subagents.find(name).map(Target::Subagent)
    }

    /// How a call is answered, and the kind it is reported as in `tool_call.created`.
    pub(crate) fn plan(&self, call: &ToolCall) -> (Option<ToolCallKind>, Plan) {
        let settled = |output: String| Plan::Settled { output, is_error: true };
        let Some(target) = self.target(&call.name) else {
            return (None, settled(format!("error: there is no tool named `{}`", call.name)));
        };
        if !call.arguments.is_object() {
            let kind = Some(kind_of(&target));
            return (
                kind,
                settled("error: the arguments are not a JSON object; call the tool again with a JSON object".into()),
            );
        }
        let tool = match target {
            Target::Subagent(_) => return (Some(ToolCallKind::Subagent), Plan::Run),
            // The server checks the arguments against its own schema (of any draft).
            Target::Mcp(function) if function.needs_approval => {
                let parameters = json!({"type": "object"});
                return (
                    Some(ToolCallKind::Mcp),
                    self.person(call, PendingCallType::Approval, None, parameters),
                );
            }
            Target::Mcp(_) => return (Some(ToolCallKind::Mcp), Plan::Run),
            Target::Tool(tool) => tool,
        };
        let kind = Some(kind_of(&target));
        if let Err(problem) = agents::arguments::check(&tool.parameters, &call.arguments) {
            return (kind, settled(format!("error: invalid arguments: {problem}")));
        }
        let person = match (tool.kind, tool.approval) {
            (ToolKind::Client, _) => Some(PendingCallType::ClientTool),
            (_, ToolApproval::Always) => Some(PendingCallType::Approval),
            (ToolKind::Http, ToolApproval::Never) => None,
        };
        match person {
            None => (kind, Plan::Run),
            // A stateless run's own client tools are no stored tool.
            Some(person) => (
                kind,
                self.person(
                    call,
                    person,
                    Some(tool.id).filter(|id| !id.is_nil()),
                    tool.parameters.clone(),
                ),
            ),
        }
    }

    /// The plan of a call that needs a person: wait for one, or (in a sub-agent's run,
    /// which cannot wait) an error result at once.
    fn person(&self, call: &ToolCall, kind: PendingCallType, tool_id: Option<uuid::Uuid>, parameters: Value) -> Plan {
        if self.nested {
            return Plan::Settled {
                output: format!(
                    "error: `{}` needs a person (a client tool or an approval), which a sub-agent cannot wait for",
                    call.name
                ),
                is_error: true,
            };
        }
        Plan::Person {
            kind,
            tool_id,
            parameters,
        }
    }
}

/// The kind of `tool_call.created` for a target.
fn kind_of(target: &Target<'_>) -> ToolCallKind {
    match target {
        Target::Subagent(_) => ToolCallKind::Subagent,
        Target::Mcp(_) => ToolCallKind::Mcp,
        Target::Tool(tool) => match tool.kind {
            ToolKind::Client => ToolCallKind::Client,
            ToolKind::Http => ToolCallKind::Http,
        },
    }
}

/// The arguments as an object (a call's arguments are checked to be one before it runs).
pub(crate) fn arguments_map(arguments: &Value) -> serde_json::Map<String, Value> {
    arguments.as_object().cloned().unwrap_or_default()
}

/// The arguments as the wire shows them: the object, or `{}` when they are not one.
pub(crate) fn as_object(arguments: &Value) -> Value {
    Value::Object(arguments_map(arguments))
}
