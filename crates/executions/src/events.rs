//! The events of an execution: [`Event`], one variant per event type, and the stored
//! [`ExecutionEvent`] that carries one. Code, the OpenAPI document and generated clients
//! share this one definition: a new event type is a new variant of [`Event`].
//!
//! On the wire an event is `{seq, execution_id, type, data, created_at}`; the table keeps
//! `type` and `data` in two columns, and a row is read back into an [`Event`].

use chrono::{DateTime, Utc};
use conversations::schemas::{Message, MessageDelta};
use kernel::tagged::{self, Schemas, Variant};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::actions::RequiredAction;
use crate::entities::execution_event;
use crate::status::ExecutionStatus;

kernel::tagged_union! {
    /// What happened in an execution: the `type` and `data` members of an [`ExecutionEvent`].
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub enum Event: tag = "type", content = "data", schema_prefix = "" {
        /// A worker claimed the execution (always `seq` 1).
        ExecutionStarted(ExecutionStarted) = "execution.started",
        /// The run's user message (its input), stored in its conversation (runs of a
        /// conversation only; right after `execution.started`).
        MessageCreated(Message) = "message.created",
        /// A piece of the model's text; the pieces of one answer concatenate to it.
        MessageDelta(MessageDelta) = "message.delta",
        /// The agent delegated a task to a sub-agent, run as a child execution.
        SubagentStarted(SubagentStarted) = "subagent.started",
        /// A sub-agent's child execution ended.
        SubagentCompleted(SubagentCompleted) = "subagent.completed",
        /// The model called a tool (one event per call of a model turn, before any runs).
        ToolCallCreated(ToolCallCreated) = "tool_call.created",
        /// A tool call has its result (given to the model on its next turn).
        ToolCallCompleted(ToolCallCompleted) = "tool_call.completed",
        /// The run paused: calls of its last model turn wait for a person (it holds no
        /// worker meanwhile); answered with `POST /executions/{id}/inputs`.
        ExecutionRequiresAction(ExecutionRequiresAction) = "execution.requires_action",
        /// The answers to the pending calls arrived; the run is queued to go on.
        ExecutionInputReceived(ExecutionInputReceived) = "execution.input_received",
        /// Nobody answered the pending calls in time (terminal).
        ExecutionExpired(ExecutionExpired) = "execution.expired",
        /// The assistant's reply, stored in the run's conversation (runs of a conversation
        /// only; right before `execution.completed`).
        MessageCompleted(Message) = "message.completed",
        /// The execution finished with an output (terminal).
        ExecutionCompleted(ExecutionCompleted) = "execution.completed",
        /// The execution failed (terminal).
        ExecutionFailed(ExecutionFailed) = "execution.failed",
        /// The execution was cancelled (terminal).
        ExecutionCancelled(ExecutionCancelled) = "execution.cancelled",
    }
}

/// The data of `execution.started`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionStarted {
    /// The agent that runs; `null` for a conversation without an agent (the default
    /// provider and model answer).
    pub agent_id: Option<Uuid>,
    /// Delegation depth, 0 for a top-level run.
    pub depth: u32,
}

/// The data of `subagent.started`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubagentStarted {
    /// The sub-agent.
    pub agent_id: Uuid,
    /// Its child execution, whose own events tell its progress.
    pub execution_id: Uuid,
}

/// The data of `subagent.completed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubagentCompleted {
    /// The sub-agent.
    pub agent_id: Uuid,
    /// Its child execution.
    pub execution_id: Uuid,
    /// How the child execution ended: `completed`, `failed` or `cancelled`.
    pub status: ExecutionStatus,
}

/// The data of `execution.completed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionCompleted {
    /// The agent's final answer.
    pub output: String,
}

/// The data of `execution.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionFailed {
    /// Why it failed (`interrupted` when its server stopped under it).
    pub error: String,
    /// What kind of failure: the provider failed (`upstream_error`), did not answer in
    /// time (`upstream_timeout`), the server stopped under the run (`interrupted`);
    /// absent for other failures (step or time limit, a vanished agent or conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<FailureCode>,
}

/// The kind of an `execution.failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// The LLM provider answered with an error (a reply waiting for it gets `502`).
    UpstreamError,
    /// The LLM provider did not answer in time (a reply waiting for it gets `504`).
    UpstreamTimeout,
    /// The server running it stopped (a reply waiting for it gets `503`).
    Interrupted,
}

/// The data of `execution.cancelled`: an empty object.
// `deny_unknown_fields` makes the schema say `additionalProperties: false` (always empty);
// a bare `{"type": "object"}` says nothing of its keys, which generators type as nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionCancelled {}

/// What answers a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallKind {
    /// The caller's own program (the run waits in `requires_action`).
    Client,
    /// An HTTP endpoint the server calls.
    Http,
    /// A tool of an MCP server.
    Mcp,
    /// A sub-agent, run as a child execution.
    Subagent,
}

/// The data of `tool_call.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolCallCreated {
    /// The call's id (its `tool_call.completed` and any input answering it carry it).
    pub call_id: String,
    /// The tool's name, as the model called it.
    pub name: String,
    /// What answers it; `null` when no tool of that name is offered (the model gets an error result).
    pub kind: Option<ToolCallKind>,
    /// The arguments the model chose, a JSON object (`{}` when the model sent arguments that
    /// were not a JSON object; it is told so in the call's result).
    #[schema(schema_with = conversations::schemas::arguments_schema)]
    pub arguments: Value,
}

/// The data of `tool_call.completed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ToolCallCompleted {
    /// The call answered.
    pub call_id: String,
    /// The tool's name.
    pub name: String,
    /// Whether the result is an error (invalid arguments, a failed or refused call, a denial…).
    pub is_error: bool,
    /// The result given to the model.
    pub output: String,
}

/// The data of `execution.requires_action`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionRequiresAction {
    /// What the run waits for (also the execution's `required_action`).
    pub required_action: RequiredAction,
}

/// The data of `execution.input_received`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExecutionInputReceived {
    /// The calls answered, in the order of the submission.
    pub call_ids: Vec<String>,
}

/// The data of `execution.expired`: an empty object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionExpired {}

impl Event {
    /// Whether this is the last event of its execution.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::ExecutionCompleted(_)
                | Self::ExecutionFailed(_)
                | Self::ExecutionCancelled(_)
                | Self::ExecutionExpired(_)
        )
    }

    /// The event stored as `event_type` and `data`.
    pub(crate) fn from_columns(event_type: String, data: Value) -> serde_json::Result<Self> {
        let members = serde_json::Map::from_iter([
            ("type".to_owned(), Value::String(event_type)),
            ("data".to_owned(), data),
        ]);
        serde_json::from_value(Value::Object(members))
    }
}

/// One stored step of an execution: `{seq, execution_id, type, data, created_at}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionEvent {
    /// Position in the execution's log: 1, 2, 3…
    pub seq: i64,
    /// The execution it belongs to.
    pub execution_id: Uuid,
    /// Its `type` and `data`.
    #[serde(flatten)]
    pub event: Event,
    /// When it was stored (RFC 3339, UTC, microseconds).
    pub created_at: DateTime<Utc>,
}

impl ExecutionEvent {
    /// Whether this is the last event of its execution.
    pub fn is_terminal(&self) -> bool {
        self.event.is_terminal()
    }
}

impl TryFrom<execution_event::Model> for ExecutionEvent {
    type Error = kernel::Error;

    fn try_from(m: execution_event::Model) -> Result<Self, Self::Error> {
        let event = Event::from_columns(m.event_type, m.data).map_err(|err| {
            kernel::Error::Internal(anyhow::anyhow!(
                "event {} of execution {} is unreadable: {err}",
                m.seq,
                m.execution_id
            ))
        })?;
        Ok(Self {
            seq: m.seq,
            execution_id: m.execution_id,
            event,
            created_at: m.created_at,
        })
    }
}

impl PartialSchema for ExecutionEvent {
    fn schema() -> RefOr<Schema> {
        tagged::union_schema(
            "type",
            &Event::variants(),
            "One stored step of an execution, `{seq, execution_id, type, data, created_at}`; \
             `type` tells the shape of `data`. The terminal event (`execution.completed`, \
             `execution.failed`, `execution.cancelled` or `execution.expired`) is the last one.",
        )
    }
}

impl ToSchema for ExecutionEvent {
    fn schemas(schemas: &mut Schemas) {
        tagged::register_variants(schemas, &Event::variants(), variant_schema);
    }
}

/// One event of the `GET /executions/{id}/events` Server-Sent Events stream, as OpenAPI 3.2
/// models `text/event-stream` items: `id` (the `seq`), `event` (the `type`) and `data`, a
/// string holding the whole [`ExecutionEvent`] as JSON.
pub struct ExecutionEventFrame;

impl PartialSchema for ExecutionEventFrame {
    fn schema() -> RefOr<Schema> {
        let types: Vec<&str> = Event::variants().iter().map(|v| v.tag).collect();
        ObjectBuilder::new()
            .description(Some(
                "One event of an execution's event stream (Server-Sent Events): `id: <seq>`, \
                 `event: <type>`, and `data:` holding the whole ExecutionEvent as JSON.",
            ))
            .property("id", crate::chat_stream::sse_id())
            .property(
                "event",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(types))
                    .description(Some("The event's `type`.")),
            )
            .property(
                "data",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .content_media_type("application/json")
                    .content_schema(Some(utoipa::openapi::Ref::from_schema_name("ExecutionEvent")))
                    .description(Some("The whole event, on one line.")),
            )
            .required("id")
            .required("event")
            .required("data")
            .into()
    }
}

impl ToSchema for ExecutionEventFrame {
    fn schemas(schemas: &mut Schemas) {
        schemas.push(("ExecutionEvent".into(), ExecutionEvent::schema()));
        ExecutionEvent::schemas(schemas);
    }
}

/// The schema of one type of event: the members every event has, with its own `type` and `data`.
fn variant_schema(variant: &Variant) -> RefOr<Schema> {
    let uuid = |description: &str| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .description(Some(description))
    };
    ObjectBuilder::new()
        .description(Some(format!("An execution event of type `{}`.", variant.tag)))
        .property(
            "seq",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(1))
                .description(Some("Position in the execution's log: 1, 2, 3…")),
        )
        .property("execution_id", uuid("The execution it belongs to."))
        .property("type", tagged::tag_schema(variant.tag))
        .property("data", variant.content_ref())
        .property(
            "created_at",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some("When it was stored (RFC 3339, UTC, microseconds).")),
        )
        .required("seq")
        .required("execution_id")
        .required("type")
        .required("data")
        .required("created_at")
        .into()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stored(event: Event) -> ExecutionEvent {
        ExecutionEvent {
            seq: 3,
            execution_id: Uuid::nil(),
            event,
            created_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn the_wire_shape_is_seq_execution_id_type_data_created_at() {
        let delta = stored(Event::MessageDelta(MessageDelta { delta: "hi".into() }));
        let text = serde_json::to_string(&delta).unwrap();
        assert_eq!(
            text,
            r#"{"seq":3,"execution_id":"00000000-0000-0000-0000-000000000000","type":"message.delta","data":{"delta":"hi"},"created_at":"2027-01-15T08:00:00Z"}"#
        );
        assert_eq!(serde_json::from_str::<ExecutionEvent>(&text).unwrap(), delta);
        let cancelled = serde_json::to_value(stored(Event::ExecutionCancelled(ExecutionCancelled {}))).unwrap();
        assert_eq!(
            (&cancelled["type"], &cancelled["data"]),
            (&json!("execution.cancelled"), &json!({}))
        );
    }

    #[test]
    fn rows_written_before_the_enum_read_back() {
        let rows = [
            ("execution.started", json!({"agent_id": Uuid::nil(), "depth": 0})),
            ("message.delta", json!({"delta": "echo: "})),
            (
                "subagent.started",
                json!({"agent_id": Uuid::nil(), "execution_id": Uuid::nil()}),
            ),
            (
                "subagent.completed",
                json!({"agent_id": Uuid::nil(), "execution_id": Uuid::nil(), "status": "failed"}),
            ),
            ("execution.completed", json!({"output": "done"})),
            ("execution.failed", json!({"error": "interrupted"})),
            ("execution.cancelled", json!({})),
        ];
        for (event_type, data) in rows {
            let event = Event::from_columns(event_type.into(), data.clone()).unwrap();
            assert_eq!((event.tag(), event.content_value().unwrap()), (event_type, data));
        }
        assert!(Event::from_columns("message.delta".into(), json!({})).is_err());
        assert!(Event::from_columns("no.such".into(), json!({})).is_err());
    }

    #[test]
    fn the_schema_is_a_discriminated_union_of_named_event_schemas() {
        let union = serde_json::to_value(ExecutionEvent::schema()).unwrap();
        assert_eq!(union["discriminator"]["propertyName"], "type");
        assert_eq!(union["oneOf"].as_array().unwrap().len(), Event::variants().len());
        assert_eq!(
            union["discriminator"]["mapping"]["message.delta"],
            "#/components/schemas/MessageDeltaEvent"
        );
        let mut schemas = Schemas::new();
        ExecutionEvent::schemas(&mut schemas);
        let (_, delta) = schemas.iter().find(|(name, _)| name == "MessageDeltaEvent").unwrap();
        let delta = serde_json::to_value(delta).unwrap();
        assert_eq!(delta["properties"]["type"]["enum"], json!(["message.delta"]));
        assert_eq!(delta["properties"]["data"]["$ref"], "#/components/schemas/MessageDelta");
        assert_eq!(
            delta["required"],
            json!(["seq", "execution_id", "type", "data", "created_at"])
        );
        assert!(schemas.iter().any(|(name, _)| name == "SubagentCompleted"));
    }
}
