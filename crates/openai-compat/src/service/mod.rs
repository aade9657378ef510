//! [`OpenAiService`]: what `/v1` does, in the services' terms — models are the caller's
//! live agents, and every answer is a run of the executions engine.

pub mod answer;
pub mod chat;
mod models;
pub mod responses;
pub mod transcript;
pub mod translate;

use agents::AgentService;
use executions::ExecutionService;

/// Translates OpenAI requests into calls of the agents and executions services; cheap to clone.
#[derive(Clone)]
pub struct OpenAiService {
    agents: AgentService,
    executions: ExecutionService,
}

impl OpenAiService {
    /// The service over the agents and executions services.
    pub fn new(agents: AgentService, executions: ExecutionService) -> Self {
        Self { agents, executions }
    }

    /// The executions service the answers run on.
    pub fn executions(&self) -> &ExecutionService {
        &self.executions
    }
}
