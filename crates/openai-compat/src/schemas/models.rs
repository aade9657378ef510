//! `GET /v1/models`: each of the caller's live agents is a model.

use agents::entities::agent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The `object` of a model: always `model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelObject {
    /// A model.
    Model,
}

/// The `object` of a list: always `list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListObject {
    /// A list.
    List,
}

/// One model: an agent of the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Model {
    /// The agent's id: what `model` names in a request (the agent's name works too when
    /// no other live agent of the caller has it).
    pub id: String,
    /// Always `model`.
    pub object: ModelObject,
    /// When the agent was created, Unix seconds.
    pub created: i64,
    /// Who owns it: the owning user's id.
    pub owned_by: String,
    /// The agent's name (an extension member: tools such as Open WebUI show it).
    pub name: String,
}

impl From<agent::Model> for Model {
    fn from(agent: agent::Model) -> Self {
        Self {
            id: agent.id.to_string(),
            object: ModelObject::Model,
            created: super::unix_seconds(agent.created_at),
            owned_by: agent.owner_id.to_string(),
            name: agent.name,
        }
    }
}

/// Every model of the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModelList {
    /// Always `list`.
    pub object: ListObject,
    /// The caller's live agents, oldest first.
    pub data: Vec<Model>,
}
