//! [`ChatStreamEvent`]: the events of a streamed reply, as the Server-Sent Events stream
//! sends them and as the OpenAPI document describes them.

use kernel::Problem;
use kernel::tagged::{self, Schemas, Variant};
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use conversations::schemas::{Message, MessageDelta};

use crate::events::{ExecutionRequiresAction, ToolCallCompleted, ToolCallCreated};

kernel::tagged_union! {
    /// One event of a streamed reply: an `event: <name>` line, then a `data:` line holding
    /// the JSON of its data.
    #[derive(Debug, Clone, Serialize)]
    pub enum ChatStreamEvent: tag = "event", content = "data", schema_prefix = "Chat" {
        /// The user's message, stored (always first).
        MessageCreated(Message) = "message.created",
        /// A piece of the reply's text; the pieces concatenate to it.
        MessageDelta(MessageDelta) = "message.delta",
        /// The model called a tool (one event per call, before any of them runs).
        ToolCallCreated(ToolCallCreated) = "tool_call.created",
        /// A tool call has its result.
        ToolCallCompleted(ToolCallCompleted) = "tool_call.completed",
        /// The run paused for a person (a client tool or an approval); last. Answer with
        /// `POST /executions/{id}/inputs` (the id is in `X-Execution-Id`), then follow the
        /// run on its events stream.
        RequiresAction(ExecutionRequiresAction) = "execution.requires_action",
        /// The assistant's reply, stored (last, on success).
        MessageCompleted(Message) = "message.completed",
        /// The reply failed: a problem (`502` provider failure, `504` timeout); last.
        Error(Problem) = "error",
    }
}

impl PartialSchema for ChatStreamEvent {
    fn schema() -> RefOr<Schema> {
        tagged::union_schema(
            "event",
            &Self::variants(),
            "One event of a streamed reply (Server-Sent Events): `event` is the `event:` line, \
             `data` the JSON object on the `data:` line. In order: `message.created`, \
             `message.delta`… (with `tool_call.created`/`tool_call.completed` around tool calls), \
             then `message.completed`, `execution.requires_action` or `error`; the stream then ends.",
        )
    }
}

impl ToSchema for ChatStreamEvent {
    fn schemas(schemas: &mut Schemas) {
        tagged::register_variants(schemas, &Self::variants(), variant_schema);
    }
}

/// The schema of one event type, as an SSE event (OpenAPI 3.2's model of `text/event-stream`
/// items): its `event` name, its `id`, and `data`, a string holding JSON whose schema is
/// `contentSchema`.
fn variant_schema(variant: &Variant) -> RefOr<Schema> {
    ObjectBuilder::new()
        .description(Some(format!(
            "The `{}` event of a streamed reply: `id: <seq>`, `event: {}`, then `data:` holding JSON (`contentSchema`).",
            variant.tag, variant.tag
        )))
        .property("event", tagged::tag_schema(variant.tag))
        .property("id", sse_id())
        .property(
            "data",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/json")
                .content_schema(Some(variant.content_ref()))
                .description(Some("The event's JSON, on one line.")),
        )
        .required("event")
        .required("data")
        .into()
}

/// The `id:` line of an event: its `seq` in the run's event log (absent on an `error` sent
/// before anything was stored); a reconnecting client sends it back as `Last-Event-ID`.
pub fn sse_id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9]+$"))
        .description(Some(
            "The `id:` line: the event's `seq` in its run's event log; send it back as `Last-Event-ID` to resume.",
        ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_schema_is_a_discriminated_union_of_named_event_schemas() {
        let union = serde_json::to_value(ChatStreamEvent::schema()).unwrap();
        assert_eq!(union["discriminator"]["propertyName"], "event");
        assert_eq!(
            union["discriminator"]["mapping"],
            json!({
                "message.created": "#/components/schemas/ChatMessageCreatedEvent",
                "message.delta": "#/components/schemas/ChatMessageDeltaEvent",
                "tool_call.created": "#/components/schemas/ChatToolCallCreatedEvent",
                "tool_call.completed": "#/components/schemas/ChatToolCallCompletedEvent",
                "execution.requires_action": "#/components/schemas/ChatRequiresActionEvent",
                "message.completed": "#/components/schemas/ChatMessageCompletedEvent",
                "error": "#/components/schemas/ChatErrorEvent",
            })
        );
        let mut schemas = Schemas::new();
        ChatStreamEvent::schemas(&mut schemas);
        let (_, error) = schemas.iter().find(|(name, _)| name == "ChatErrorEvent").unwrap();
        let error = serde_json::to_value(error).unwrap();
        assert_eq!(error["properties"]["event"]["enum"], json!(["error"]));
        assert_eq!(error["properties"]["data"]["type"], "string");
        assert_eq!(error["properties"]["data"]["contentMediaType"], "application/json");
        assert_eq!(
            error["properties"]["data"]["contentSchema"]["$ref"],
            "#/components/schemas/Problem"
        );
    }
}
