//! Sub-agents offered to the model as tools.
//!
//! Each live sub-agent becomes one function, `ask_<name in snake case>` (with the end of
//! the agent's id appended when two names collide), taking `{"input": "<task>"}`.

use std::collections::HashSet;

use agents::schemas::Agent;
use llm::ToolDefinition;
use serde_json::{Value, json};

/// The longest function name providers accept.
const NAME_MAX: usize = 64;

/// The sub-agents of one agent, by tool name.
pub(crate) struct SubagentTools {
    entries: Vec<(String, Agent)>,
}

impl SubagentTools {
    /// Names every sub-agent, in the agent's order.
    pub(crate) fn new(subagents: Vec<Agent>) -> Self {
        let mut taken = HashSet::new();
        let entries = subagents
            .into_iter()
            .map(|agent| {
                let mut name = tool_name(&agent.name);
                if taken.contains(&name) {
                    let id = agent.id.simple().to_string();
                    name = format!("{}_{}", truncate(&name, NAME_MAX - 9), &id[id.len() - 8..]);
                }
                taken.insert(name.clone());
                (name, agent)
            })
            .collect();
        Self { entries }
    }

    /// The function definitions sent to the model.
    pub(crate) fn definitions(&self) -> Vec<ToolDefinition> {
        self.entries
            .iter()
            .map(|(name, agent)| ToolDefinition {
                name: name.clone(),
                description: Some(match &agent.description {
                    Some(about) => format!("Delegate a task to the agent \"{}\": {about}", agent.name),
                    None => format!("Delegate a task to the agent \"{}\".", agent.name),
                }),
                parameters: json!({
                    "type": "object",
                    "properties": {"input": {"type": "string", "description": "The task for the agent"}},
                    "required": ["input"],
                }),
            })
            .collect()
    }

    /// The sub-agent behind tool `name`.
    pub(crate) fn find(&self, name: &str) -> Option<&Agent> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, agent)| agent)
    }
}

/// `ask_` and the name in lower snake case, within the providers' `^[A-Za-z0-9_-]{1,64}$`.
pub(crate) fn tool_name(agent_name: &str) -> String {
    let mut slug = String::new();
    for c in agent_name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let slug = slug.trim_matches('_');
    let slug = if slug.is_empty() { "agent" } else { slug };
    truncate(&format!("ask_{slug}"), NAME_MAX).to_owned()
}

fn truncate(text: &str, max: usize) -> &str {
    // Tool names are ASCII, so byte and char boundaries agree.
    &text[..text.len().min(max)]
}

/// The task a tool call hands to the sub-agent: its `input` argument, or the raw arguments.
pub(crate) fn call_input(arguments: &Value) -> String {
    match arguments {
        Value::Object(map) => match map.get("input") {
            Some(Value::String(input)) => input.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        Value::String(raw) => raw.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(name: &str) -> Agent {
        serde_json::from_value(json!({
            "id": uuid::Uuid::now_v7(), "owner_id": uuid::Uuid::now_v7(), "name": name,
            "description": null, "provider": "echo", "model": "echo-1", "system_prompt": null,
            "temperature": 0.7, "max_tokens": null, "tool_ids": [], "subagent_ids": [],
            "metadata": {}, "created_at": "2026-11-21T10:00:00Z", "updated_at": "2026-11-21T10:00:00Z"
        }))
        .expect("an agent")
    }

    #[test]
    fn names_are_valid_function_names() {
        assert_eq!(tool_name("Researcher"), "ask_researcher");
        assert_eq!(tool_name("Web  Search (beta)!"), "ask_web_search_beta");
        assert_eq!(tool_name("Übersetzer"), "ask_bersetzer");
        assert_eq!(tool_name("***"), "ask_agent");
        assert_eq!(tool_name(&"x".repeat(100)).len(), 64);
    }

    #[test]
    fn colliding_names_get_the_id_suffix() {
        let tools = SubagentTools::new(vec![agent("Writer"), agent("writer")]);
        let names: Vec<String> = tools.definitions().into_iter().map(|d| d.name).collect();
        assert_eq!(names[0], "ask_writer");
        assert!(names[1].starts_with("ask_writer_") && names[1].len() == "ask_writer_".len() + 8);
        assert_eq!(tools.find(&names[1]).map(|a| a.name.as_str()), Some("writer"));
        assert_eq!(tools.definitions()[0].parameters["required"], json!(["input"]));
    }

    #[test]
    fn inputs_come_from_the_arguments() {
        assert_eq!(call_input(&json!({"input": "go"})), "go");
        assert_eq!(call_input(&json!("{broken")), "{broken");
        assert_eq!(call_input(&json!({})), "");
    }
}
