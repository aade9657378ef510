//! A response read from its run's events: the text and the client's calls so far, the
//! response object built from them, and the typed stream events OpenAI sends for them,
//! numbered so that every replay of the same log numbers them alike.

use executions::ExecutionStatus;
use executions::actions::PendingCall;
use executions::entities::execution;
use executions::{Event, StatelessRun};
use serde_json::{Map, Value, json};

use super::answer::{Step, arguments_text};
use crate::schemas::responses::{
    OutputItem, OutputText, Response, ResponseError, ResponseObjectKind, ResponseSettings, ResponseStatus,
    ResponseStreamEvent,
};

/// What a run said so far, as a response.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// The text of every model turn, in order.
    pub text: String,
    /// The calls the client must run (when the run paused).
    pub calls: Vec<PendingCall>,
}

impl Transcript {
    /// Takes in one event.
    pub fn read(&mut self, event: &Event) {
        match Step::of(event) {
            Step::Text(delta) => self.text.push_str(&delta),
            Step::Calls(calls) => self.calls = calls,
            Step::Done | Step::Failed(_) | Step::Skip => {}
        }
    }

    /// The output items: the message (if there is text), then the calls.
    pub fn output(&self, id: &str, done: bool) -> Vec<OutputItem> {
        let status = if done { "completed" } else { "in_progress" };
        let mut output = Vec::with_capacity(self.calls.len() + 1);
        if !self.text.is_empty() {
            output.push(message_item(id, status, self.text.clone()));
        }
        output.extend(self.calls.iter().map(|call| call_item(call, "completed")));
        output
    }
}

/// The id of a response's message item.
fn message_id(id: &str) -> String {
    format!("msg_{}", id.replace('-', ""))
}

fn message_item(id: &str, status: &str, text: String) -> OutputItem {
    OutputItem::Message {
        id: message_id(id),
        status: status.into(),
        role: "assistant".into(),
        content: if text.is_empty() && status != "completed" {
            Vec::new()
        } else {
            vec![OutputText::new(text)]
        },
    }
}

fn call_item(call: &PendingCall, status: &str) -> OutputItem {
    OutputItem::FunctionCall {
        id: format!("fc_{}", call.id),
        call_id: call.id.clone(),
        name: call.name.clone(),
        arguments: if status == "completed" {
            arguments_text(&call.arguments)
        } else {
            String::new()
        },
        status: status.into(),
    }
}

/// The settings a response run was started with (defaults for other executions).
pub fn settings_of(model: &execution::Model) -> ResponseSettings {
    let run: Option<StatelessRun> = model
        .history
        .clone()
        .and_then(|history| serde_json::from_value(history).ok());
    run.and_then(|run| run.request)
        .and_then(|request| serde_json::from_value(request).ok())
        .unwrap_or_else(|| ResponseSettings {
            model: model.agent_id.map(|id| id.to_string()).unwrap_or_default(),
            tool_choice: json!("auto"),
            store: true,
            ..ResponseSettings::default()
        })
}

/// The response of a run in `status` with `transcript` so far.
pub fn response(model: &execution::Model, settings: &ResponseSettings, transcript: &Transcript) -> Response {
    let id = model.id.to_string();
    let status = match model.status {
        ExecutionStatus::Queued => ResponseStatus::Queued,
        ExecutionStatus::Running => ResponseStatus::InProgress,
        ExecutionStatus::Completed | ExecutionStatus::RequiresAction | ExecutionStatus::Expired => {
            ResponseStatus::Completed
        }
        ExecutionStatus::Failed => ResponseStatus::Failed,
        ExecutionStatus::Cancelled => ResponseStatus::Cancelled,
    };
    let stopped = !matches!(status, ResponseStatus::Queued | ResponseStatus::InProgress);
    let error = (status == ResponseStatus::Failed).then(|| ResponseError {
        code: "server_error".into(),
        message: model.error.clone().unwrap_or_else(|| "the run failed".into()),
    });
    let tokens = |t: i64| u64::try_from(t).unwrap_or(0);
    let usage = stopped.then(|| {
        llm::Usage {
            prompt_tokens: tokens(model.prompt_tokens),
            completion_tokens: tokens(model.completion_tokens),
        }
        .into()
    });
    Response {
        output: transcript.output(&id, stopped),
        completed_at: model.completed_at.filter(|_| stopped).map(crate::schemas::unix_seconds),
        status,
        error,
        usage,
        ..snapshot(model, settings, ResponseStatus::Queued)
    }
}

/// The response as it stood before any output: the same on every replay.
fn snapshot(model: &execution::Model, settings: &ResponseSettings, status: ResponseStatus) -> Response {
    Response {
        id: model.id.to_string(),
        object: ResponseObjectKind::Response,
        created_at: crate::schemas::unix_seconds(model.created_at),
        completed_at: None,
        status,
        background: settings.background,
        error: None,
        incomplete_details: None,
        instructions: settings.instructions.clone(),
        max_output_tokens: settings.max_output_tokens,
        metadata: settings.metadata.clone(),
        model: settings.model.clone(),
        output: Vec::new(),
        parallel_tool_calls: true,
        previous_response_id: settings.previous_response_id.clone(),
        store: settings.store,
        temperature: settings.temperature,
        tool_choice: settings.tool_choice.clone(),
        tools: settings.tools.clone(),
        top_p: None,
        truncation: "disabled".into(),
        usage: None,
    }
}

/// How the events of a run end a response's stream.
#[derive(Debug)]
pub enum Ending {
    /// With `response.completed` (the run answered or paused for the client's calls).
    Completed,
    /// With `response.failed`.
    Failed,
    /// With an `error` event (cancelled, expired…).
    Error(kernel::Error),
}

/// The typed stream events of one response, numbered from 0.
pub struct EventStream {
    id: String,
    next: i64,
    message_open: bool,
    text: String,
    output_index: usize,
}

impl EventStream {
    /// The stream of response `id`.
    pub fn new(id: String) -> Self {
        Self {
            id,
            next: 0,
            message_open: false,
            text: String::new(),
            output_index: 0,
        }
    }

    fn event(&mut self, kind: &str, members: Value) -> ResponseStreamEvent {
        let sequence_number = self.next;
        self.next += 1;
        ResponseStreamEvent {
            kind: kind.to_owned(),
            sequence_number,
            members: members.as_object().cloned().unwrap_or_else(Map::new),
        }
    }

    /// The first event: `response.created` with the response as it stood before any output.
    pub fn created(&mut self, model: &execution::Model, settings: &ResponseSettings) -> ResponseStreamEvent {
        let response = snapshot(model, settings, ResponseStatus::Queued);
        self.event("response.created", json!({ "response": response }))
    }

    /// The events of one run event, and whether (and how) the stream ends with it.
    pub fn on(
        &mut self,
        event: &Event,
        model: &execution::Model,
        settings: &ResponseSettings,
    ) -> (Vec<ResponseStreamEvent>, Option<Ending>) {
        let mut out = Vec::new();
        if let Event::ExecutionStarted(_) = event {
            let response = snapshot(model, settings, ResponseStatus::InProgress);
            out.push(self.event("response.in_progress", json!({ "response": response })));
            return (out, None);
        }
        match Step::of(event) {
            Step::Text(delta) => {
                self.open_message(&mut out);
                self.text.push_str(&delta);
                let item_id = message_id(&self.id);
                let index = self.output_index;
                out.push(self.event(
                    "response.output_text.delta",
                    json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": delta, "logprobs": []}),
                ));
                (out, None)
            }
            Step::Calls(calls) => {
                self.close_message(&mut out);
                for call in &calls {
                    let index = self.output_index;
                    let item_id = format!("fc_{}", call.id);
                    let arguments = arguments_text(&call.arguments);
                    out.push(self.event(
                        "response.output_item.added",
                        json!({"output_index": index, "item": call_item(call, "in_progress")}),
                    ));
                    out.push(self.event(
                        "response.function_call_arguments.delta",
                        json!({"item_id": item_id, "output_index": index, "delta": arguments}),
                    ));
                    out.push(self.event(
                        "response.function_call_arguments.done",
                        json!({"item_id": item_id, "output_index": index, "name": call.name, "arguments": arguments}),
                    ));
                    out.push(self.event(
                        "response.output_item.done",
                        json!({"output_index": index, "item": call_item(call, "completed")}),
                    ));
                    self.output_index += 1;
                }
                (out, Some(Ending::Completed))
            }
            Step::Done => {
                self.close_message(&mut out);
                (out, Some(Ending::Completed))
            }
            Step::Failed(err) => {
                let ending = match event {
                    Event::ExecutionFailed(_) => Ending::Failed,
                    _ => Ending::Error(err),
                };
                (out, Some(ending))
            }
            Step::Skip => (out, None),
        }
    }

    /// The last event: `response.completed` or `response.failed` with the final response,
    /// or an `error` event.
    pub fn end(&mut self, ending: &Ending, response: Option<&Response>, error: Option<Value>) -> ResponseStreamEvent {
        match (ending, response) {
            (Ending::Completed, Some(response)) => self.event("response.completed", json!({ "response": response })),
            (Ending::Failed, Some(response)) => self.event("response.failed", json!({ "response": response })),
            _ => self.error(error.unwrap_or_else(|| json!({"message": "the response ended without an answer"}))),
        }
    }

    /// An `error` event with OpenAI's error members (`code`, `message`, `param`).
    pub fn error(&mut self, error: Value) -> ResponseStreamEvent {
        self.event("error", error)
    }

    fn open_message(&mut self, out: &mut Vec<ResponseStreamEvent>) {
        if self.message_open {
            return;
        }
        self.message_open = true;
        let index = self.output_index;
        let item = message_item(&self.id, "in_progress", String::new());
        out.push(self.event(
            "response.output_item.added",
            json!({"output_index": index, "item": item}),
        ));
        out.push(self.event(
            "response.content_part.added",
            json!({"item_id": message_id(&self.id), "output_index": index, "content_index": 0,
                   "part": OutputText::new(String::new())}),
        ));
    }

    fn close_message(&mut self, out: &mut Vec<ResponseStreamEvent>) {
        if !self.message_open {
            return;
        }
        self.message_open = false;
        let index = self.output_index;
        let item_id = message_id(&self.id);
        let text = std::mem::take(&mut self.text);
        out.push(self.event(
            "response.output_text.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "text": text, "logprobs": []}),
        ));
        out.push(self.event(
            "response.content_part.done",
            json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": OutputText::new(text.clone())}),
        ));
        out.push(self.event(
            "response.output_item.done",
            json!({"output_index": index, "item": message_item(&self.id, "completed", text)}),
        ));
        self.output_index += 1;
    }
}
