//! Models: the caller's live agents, and the agent a request's `model` names.

use agents::ModelMatch;
use agents::entities::agent;
use uuid::Uuid;

use super::OpenAiService;
use crate::error::{CompatError, Result};
use crate::schemas::models::{ListObject, Model, ModelList};

impl OpenAiService {
    /// Every live agent of the owner, as models (oldest first).
    pub async fn models(&self, owner_id: Uuid) -> Result<ModelList> {
        let agents = self.agents.live_agents(owner_id).await?;
        Ok(ModelList {
            object: ListObject::List,
            data: agents.into_iter().map(Model::from).collect(),
        })
    }

    /// The model `model` names ([`CompatError::UnknownModel`] otherwise).
    pub async fn model(&self, owner_id: Uuid, model: &str) -> Result<Model> {
        Ok(self.resolve(owner_id, model).await?.0.into())
    }

    /// The owner's live agent that `model` names: its id, or its name when exactly one of
    /// the owner's live agents has it (several: a `422` naming `model`); with whether it has
    /// tools, sub-agents or MCP servers.
    pub async fn resolve(&self, owner_id: Uuid, model: &str) -> Result<(agent::Model, bool)> {
        match self.agents.model_named(owner_id, model).await? {
            None => Err(CompatError::UnknownModel(model.to_owned())),
            Some(ModelMatch::Agent(agent, linked)) => Ok((*agent, linked)),
            Some(ModelMatch::Several) => Err(CompatError::invalid(
                "model",
                format!("several of your agents are named `{model}`: name the model by the agent's id"),
            )),
        }
    }
}
