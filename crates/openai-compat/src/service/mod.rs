//! [`OpenAiService`]: what `/v1` does, in the services' terms — models are the caller's
//! live agents, and every answer is the executions service's: a run of its engine, or a
//! chat completion that needs only the model answered straight from the provider.

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
