//! Request and response bodies of the execution routes, with their validation rules
//! (each garde rule mirrored in `#[schema]`/`#[param]` so generated clients know it).

use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::actions::RequiredAction;
use crate::entities::execution;
pub use crate::events::{Event, ExecutionEvent};
use crate::status::ExecutionStatus;

/// The longest input an execution accepts, in characters.
pub const INPUT_MAX: usize = 100_000;
/// The most events one read of the log returns.
pub const EVENTS_MAX: u64 = 1000;

/// Starts an agent run: the task, and optionally the caller's conversation giving context.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
pub struct ExecutionCreate {
    /// The task for the agent, 1..=100000 characters.
    #[garde(length(chars, min = 1, max = INPUT_MAX))]
    #[schema(min_length = 1, max_length = 100000, example = "Summarise the release notes")]
    pub input: String,
    /// One of the caller's conversations: its history is the context, and the input and
    /// the output are appended to it.
    #[garde(skip)]
    pub conversation_id: Option<Uuid>,
    /// Files given with the input: ids of the caller's files (`POST /files`), at most 16.
    /// Images reach the model as images, text and PDF files as their text; another
    /// user's or an unknown id is a `422` naming `attachments[i]`.
    #[serde(default)]
    #[garde(length(max = conversations::schemas::rules::ATTACHMENTS_MAX))]
    #[schema(max_items = 16)]
    pub attachments: Vec<Uuid>,
    /// With `conversation_id`: what to do when the conversation already has an active run;
    /// absent: `enqueue`.
    #[serde(default)]
    #[garde(skip)]
    pub if_busy: Option<conversations::schemas::IfBusy>,
}

/// An execution as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Execution {
    /// UUID v7.
    pub id: Uuid,
    /// The agent that runs; `null` when an agentless conversation is answered by the default provider and model.
    pub agent_id: Option<Uuid>,
    /// The conversation it reads and appends to, if any.
    pub conversation_id: Option<Uuid>,
    /// The owning user.
    pub owner_id: Uuid,
    /// The execution that delegated this one to a sub-agent (`null` for a top-level run).
    pub parent_id: Option<Uuid>,
    /// Delegation depth, 0 for a top-level run.
    pub depth: u32,
    /// `queued` → `running` → `completed` | `failed` | `cancelled`; `running` ⇄
    /// `requires_action` (waiting for a person, holding no worker) → `expired`.
    pub status: ExecutionStatus,
    /// The task given to the agent.
    pub input: String,
    /// The ids of the files given with the input, in order (`[]` for none).
    pub attachments: Vec<Uuid>,
    /// The agent's final answer (completed executions).
    pub output: Option<String>,
    /// Why it failed (`interrupted` when its server stopped under it).
    pub error: Option<String>,
    /// Tokens spent so far by its own provider calls (sub-agents count in their own executions).
    pub usage: llm::Usage,
    /// While `requires_action`: the calls waiting for a person and when the run expires;
    /// `null` otherwise.
    pub required_action: Option<RequiredAction>,
    /// Creation time (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it reached a terminal state.
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<execution::Model> for Execution {
    fn from(m: execution::Model) -> Self {
        let tokens = |t: i64| u64::try_from(t).unwrap_or(0);
        Self {
            id: m.id,
            agent_id: m.agent_id,
            conversation_id: m.conversation_id,
            owner_id: m.owner_id,
            parent_id: m.parent_id,
            depth: u32::try_from(m.depth).unwrap_or(0),
            status: m.status,
            attachments: m.attachment_ids(),
            input: m.input,
            output: m.output,
            error: m.error,
            usage: llm::Usage {
                prompt_tokens: tokens(m.prompt_tokens),
                completion_tokens: tokens(m.completion_tokens),
            },
            required_action: m
                .required_action
                .filter(|_| m.status == ExecutionStatus::RequiresAction)
                .and_then(|value| serde_json::from_value(value).ok()),
            created_at: m.created_at,
            started_at: m.started_at,
            completed_at: m.completed_at,
        }
    }
}

/// Events of one execution, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventList {
    /// The events, by ascending `seq`.
    pub items: Vec<ExecutionEvent>,
}

/// Filters and paging of the execution list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only executions of this agent.
    #[garde(skip)]
    pub agent_id: Option<Uuid>,
    /// Only executions in this state.
    #[garde(skip)]
    pub status: Option<ExecutionStatus>,
    /// Page size.
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
    /// Cursor from the previous page's `next_cursor`.
    #[garde(skip)]
    pub cursor: Option<String>,
}

/// Where to start reading an execution's log.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events with a greater `seq` (the last one seen); default 0, every event.
    #[garde(inner(range(min = 0)))]
    #[param(minimum = 0, default = 0)]
    pub after: Option<i64>,
    /// At most this many events (read on with `after` = the last `seq` returned).
    #[garde(inner(range(min = 1, max = EVENTS_MAX)))]
    #[param(minimum = 1, maximum = 1000, default = 1000)]
    pub limit: Option<u64>,
}

/// The query of the WebSocket handshake.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WatchQuery {
    /// Only events with a greater `seq` (the last one seen); default 0, every event.
    #[garde(inner(range(min = 0)))]
    #[param(minimum = 0, default = 0)]
    pub after: Option<i64>,
    /// The access token, for clients that cannot set an `Authorization` header (browsers).
    #[garde(skip)]
    pub access_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use utoipa::{IntoParams, PartialSchema};

    use super::*;

    #[test]
    fn limits_are_mirrored_in_the_openapi_schema() {
        let request = serde_json::to_value(ExecutionCreate::schema()).expect("a schema serializes");
        assert_eq!(request["required"], json!(["input"]));
        assert_eq!(
            (
                request["properties"]["input"]["minLength"].as_u64(),
                request["properties"]["input"]["maxLength"].as_u64()
            ),
            (Some(1), Some(100_000))
        );
        let params = EventsQuery::into_params(|| None);
        let params: Vec<Value> = params
            .iter()
            .map(|p| serde_json::to_value(p).expect("a parameter serializes"))
            .collect();
        assert_eq!(params[0]["name"], "after");
        assert_eq!(params[0]["schema"]["minimum"], 0);
        assert_eq!(params[1]["schema"]["maximum"], 1000);
    }
}
