//! Responses: a request becomes a stateless run (its input items, after the previous
//! response's input and output when it continues one); the response is read back from the
//! run's row and event log, so `GET` shows exactly what a stream showed.

use executions::StatelessRun;
use executions::entities::execution;
use kernel::FieldError;
use llm::{ChatMessage, Role, ToolCall, ToolDefinition};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::OpenAiService;
use super::answer::Step;
use super::transcript::{Transcript, response, settings_of};
use crate::error::{CompatError, Result};
use crate::schemas::chat::ToolChoiceMode;
use crate::schemas::responses::{
    InputItem, ItemContent, Response, ResponseCreate, ResponseDeleted, ResponseInput, ResponseObjectKind,
    ResponseSettings, ResponseToolChoice,
};

/// The most events read from a log at once.
const PAGE: u64 = 1000;

/// A response being answered.
#[derive(Debug, Clone)]
pub struct StartedResponse {
    /// Its run, as stored.
    pub run: execution::Model,
    /// The request's settings.
    pub settings: ResponseSettings,
    /// Whether to stream it.
    pub stream: bool,
}

impl OpenAiService {
    /// Checks the request (`422` naming every parameter at fault), resolves its model and
    /// its previous response, and starts the run answering it.
    pub async fn start_response(&self, owner_id: Uuid, request: ResponseCreate) -> Result<StartedResponse> {
        let mut errors = Vec::new();
        let input = match &request.input {
            None => {
                errors.push(FieldError::new("input", "is required"));
                Vec::new()
            }
            Some(ResponseInput::Text(text)) => vec![ChatMessage::user(text.clone())],
            Some(ResponseInput::Items(items)) => items_history(items, &mut errors),
        };
        let (client_tools, agent_tools) = tools(&request, &mut errors);
        if !errors.is_empty() {
            return Err(CompatError::Invalid(errors));
        }
        let (agent, _) = self.resolve(owner_id, &request.model).await?;
        let mut messages = match &request.previous_response_id {
            Some(previous) => self.continued(owner_id, previous).await?,
            None => Vec::new(),
        };
        messages.extend(input);
        let settings = ResponseSettings {
            model: request.model.clone(),
            instructions: request.instructions.clone(),
            previous_response_id: request.previous_response_id.clone(),
            background: request.background.unwrap_or(false),
            store: request.store.unwrap_or(true),
            tools: request
                .tools
                .iter()
                .flatten()
                .filter_map(|t| serde_json::to_value(t).ok())
                .collect(),
            tool_choice: request
                .tool_choice
                .as_ref()
                .and_then(|c| serde_json::to_value(c).ok())
                .unwrap_or_else(|| json!("auto")),
            temperature: request.temperature,
            max_output_tokens: request.max_output_tokens,
            metadata: request.metadata.clone().unwrap_or_default(),
        };
        let run = StatelessRun {
            instructions: request.instructions.clone(),
            messages,
            client_tools,
            agent_tools,
            // Validated to 0..=2 first.
            temperature: request.temperature.map(|t| t as f32),
            max_tokens: request.max_output_tokens,
            request: serde_json::to_value(&settings).ok(),
        };
        // A background response answers `queued` at once; any other is waited for.
        let execution = if settings.background {
            self.executions.start_stateless(owner_id, agent.id, run).await?
        } else {
            self.executions.run_stateless(owner_id, agent.id, run).await?
        };
        let run = self.run(owner_id, execution.id).await?;
        Ok(StartedResponse {
            run,
            settings,
            stream: request.stream.unwrap_or(false),
        })
    }

    /// The owner's run with this id ([`CompatError::UnknownResponse`] otherwise).
    pub async fn run(&self, owner_id: Uuid, id: Uuid) -> Result<execution::Model> {
        self.executions
            .find_owned(owner_id, id)
            .await?
            .ok_or_else(|| CompatError::UnknownResponse(id.to_string(), None))
    }

    /// The owner's run that response id `id` names.
    pub async fn response_run(&self, owner_id: Uuid, id: &str) -> Result<execution::Model> {
        let unknown = || CompatError::UnknownResponse(id.to_owned(), None);
        let id = Uuid::parse_str(id).map_err(|_| unknown())?;
        self.executions.find_owned(owner_id, id).await?.ok_or_else(unknown)
    }

    /// The response as it stands now.
    pub async fn response(&self, owner_id: Uuid, id: &str) -> Result<Response> {
        let run = self.response_run(owner_id, id).await?;
        self.view(owner_id, run).await
    }

    /// The response of `run`, read from its log.
    async fn view(&self, owner_id: Uuid, run: execution::Model) -> Result<Response> {
        let transcript = self.transcript(owner_id, run.id).await?;
        Ok(response(&run, &settings_of(&run), &transcript))
    }

    /// Waits until the run answers, pauses for the client's calls or ends; then the response.
    pub async fn finished_response(&self, owner_id: Uuid, id: Uuid) -> Result<Response> {
        let mut feed = self.executions.watch(owner_id, id, 0).await?;
        while let Some(frame) = feed.next().await? {
            if matches!(
                Step::of(&frame.event.event),
                Step::Calls(_) | Step::Done | Step::Failed(_)
            ) {
                break;
            }
        }
        let run = self.run(owner_id, id).await?;
        self.view(owner_id, run).await
    }

    /// Cancels the response (if it is still going) and shows it.
    pub async fn cancel_response(&self, owner_id: Uuid, id: &str) -> Result<Response> {
        let run = self.response_run(owner_id, id).await?;
        self.executions.cancel(owner_id, run.id).await?;
        let run = self.run(owner_id, run.id).await?;
        self.view(owner_id, run).await
    }

    /// Deletes the response (its run and events).
    pub async fn delete_response(&self, owner_id: Uuid, id: &str) -> Result<ResponseDeleted> {
        let run = self.response_run(owner_id, id).await?;
        self.executions.delete(owner_id, run.id).await?;
        Ok(ResponseDeleted {
            id: run.id.to_string(),
            object: ResponseObjectKind::Response,
            deleted: true,
        })
    }

    /// Everything the run said so far.
    async fn transcript(&self, owner_id: Uuid, id: Uuid) -> Result<Transcript> {
        let mut transcript = Transcript::default();
        let mut after = 0;
        loop {
            let events = self.executions.events(owner_id, id, after, PAGE).await?;
            for event in &events {
                transcript.read(&event.event);
                after = event.seq;
            }
            if (events.len() as u64) < PAGE {
                return Ok(transcript);
            }
        }
    }

    /// The history a follow-up of response `previous` starts with: its input (without its
    /// instructions) and its output.
    async fn continued(&self, owner_id: Uuid, previous: &str) -> Result<Vec<ChatMessage>> {
        let unknown = || CompatError::UnknownResponse(previous.to_owned(), Some("previous_response_id"));
        let id = Uuid::parse_str(previous).map_err(|_| unknown())?;
        let run = self.executions.find_owned(owner_id, id).await?.ok_or_else(unknown)?;
        let mut messages = match run
            .history
            .clone()
            .and_then(|h| serde_json::from_value::<StatelessRun>(h).ok())
        {
            Some(stateless) => stateless.messages,
            None => vec![ChatMessage::user(run.input.clone())],
        };
        let transcript = self.transcript(owner_id, id).await?;
        if !transcript.text.is_empty() || !transcript.calls.is_empty() {
            messages.push(ChatMessage {
                role: Role::Assistant,
                content: transcript.text,
                tool_calls: transcript
                    .calls
                    .into_iter()
                    .map(|call| ToolCall {
                        id: call.id,
                        name: call.name,
                        arguments: call.arguments,
                    })
                    .collect(),
                tool_call_id: None,
                attachments: Vec::new(),
            });
        }
        Ok(messages)
    }
}

/// Input items in the engine's terms; items that cannot be read are errors naming them.
fn items_history(items: &[InputItem], errors: &mut Vec<FieldError>) -> Vec<ChatMessage> {
    if items.len() > crate::schemas::responses::ITEMS_MAX {
        errors.push(FieldError::new("input", "at most 1000 items"));
        return Vec::new();
    }
    let mut messages: Vec<ChatMessage> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("input[{i}]");
        let kind = item
            .kind
            .as_deref()
            .unwrap_or(if item.role.is_some() { "message" } else { "" });
        match kind {
            "message" => {
                let text = item
                    .content
                    .as_ref()
                    .map(|c| content_text(c, &format!("{at}.content"), errors))
                    .unwrap_or_default();
                let message = match item.role.as_deref() {
                    Some("user") => ChatMessage::user(text),
                    Some("assistant") => ChatMessage::assistant(text),
                    Some("system" | "developer") => ChatMessage::system(text),
                    _ => {
                        errors.push(FieldError::new(
                            format!("{at}.role"),
                            "must be user, assistant, system or developer",
                        ));
                        continue;
                    }
                };
                messages.push(message);
            }
            "function_call" => {
                let (Some(call_id), Some(name)) = (&item.call_id, &item.name) else {
                    errors.push(FieldError::new(at, "a function_call needs call_id and name"));
                    continue;
                };
                let raw = item.arguments.clone().unwrap_or_default();
                let arguments = if raw.trim().is_empty() {
                    Value::Object(Map::new())
                } else {
                    serde_json::from_str(&raw).unwrap_or(Value::String(raw))
                };
                let call = ToolCall {
                    id: call_id.clone(),
                    name: name.clone(),
                    arguments,
                };
                match messages.last_mut() {
                    Some(last) if last.role == Role::Assistant => last.tool_calls.push(call),
                    _ => messages.push(ChatMessage {
                        tool_calls: vec![call],
                        ..ChatMessage::assistant("")
                    }),
                }
            }
            "function_call_output" => {
                let Some(call_id) = &item.call_id else {
                    errors.push(FieldError::new(format!("{at}.call_id"), "is required"));
                    continue;
                };
                let output = item
                    .output
                    .as_ref()
                    .map(|c| content_text(c, &format!("{at}.output"), errors))
                    .unwrap_or_default();
                messages.push(ChatMessage::tool_result(call_id.clone(), output));
            }
            "" => errors.push(FieldError::new(
                format!("{at}.type"),
                "is required (or a message's role)",
            )),
            other => errors.push(FieldError::new(
                format!("{at}.type"),
                format!("`{other}` items are not supported: only message, function_call and function_call_output"),
            )),
        }
    }
    messages
}

/// An item's text: the string, or its text parts joined with newlines.
fn content_text(content: &ItemContent, at: &str, errors: &mut Vec<FieldError>) -> String {
    match content {
        ItemContent::Text(text) => text.clone(),
        ItemContent::Parts(parts) => {
            let mut texts = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                match (part.kind.as_str(), &part.text) {
                    ("input_text" | "output_text" | "text", Some(text)) => texts.push(text.as_str()),
                    ("input_text" | "output_text" | "text", None) => {
                        errors.push(FieldError::new(format!("{at}[{j}].text"), "is required"));
                    }
                    (other, _) => errors.push(FieldError::new(
                        format!("{at}[{j}].type"),
                        format!("`{other}` parts are not supported: only text"),
                    )),
                }
            }
            texts.join("\n")
        }
    }
}

/// The request's functions offered, and whether the agent's tools are too.
fn tools(request: &ResponseCreate, errors: &mut Vec<FieldError>) -> (Vec<ToolDefinition>, bool) {
    let mut definitions = Vec::new();
    for (i, tool) in request.tools.iter().flatten().enumerate() {
        if tool.kind != "function" {
            errors.push(FieldError::new(
                format!("tools[{i}].type"),
                format!("`{}` tools are not supported: only function", tool.kind),
            ));
            continue;
        }
        let name = tool.name.clone().unwrap_or_default();
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            errors.push(FieldError::new(
                format!("tools[{i}].name"),
                "must match ^[A-Za-z0-9_-]{1,64}$",
            ));
            continue;
        }
        definitions.push(ToolDefinition {
            name,
            description: tool.description.clone(),
            parameters: tool
                .parameters
                .clone()
                .map(Value::Object)
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        });
    }
    match &request.tool_choice {
        None | Some(ResponseToolChoice::Mode(ToolChoiceMode::Auto | ToolChoiceMode::Required)) => (definitions, true),
        Some(ResponseToolChoice::Mode(ToolChoiceMode::None)) => (Vec::new(), false),
        Some(ResponseToolChoice::Named(named)) => {
            let chosen: Vec<ToolDefinition> = definitions.into_iter().filter(|d| d.name == named.name).collect();
            if chosen.is_empty() {
                errors.push(FieldError::new(
                    "tool_choice.name",
                    format!("`{}` is not one of `tools`", named.name),
                ));
            }
            (chosen, false)
        }
    }
}
