//! The runner's settings (the api-server fills them from `EXECUTION_*` variables).

use std::time::Duration;

/// How many executions run at once, how far and long they may go, and the lease timing.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Executions this process runs at once; 0 makes a replica that only serves the API.
    pub workers: usize,
    /// The deepest sub-agent delegation (a top-level execution has depth 0).
    pub max_depth: u32,
    /// Provider calls one execution may make (each tool round trip is one more).
    pub max_steps: u32,
    /// The longest a top-level execution (with its sub-agents) may run.
    pub timeout: Duration,
    /// How long a claim stays valid without a heartbeat; heartbeats come every third of it.
    pub lease: Duration,
    /// How often idle workers look for queued executions when no wake-up arrives.
    pub poll_interval: Duration,
    /// Messages of a conversation sent as context.
    pub history_limit: u64,
    /// Events buffered per watched execution before a slow watcher re-reads from the store.
    pub fanout_capacity: usize,
    /// Server-side tool calls of one model turn run at once (`TOOL_CONCURRENCY`).
    pub tool_concurrency: usize,
    /// How long a run waits in `requires_action` before it ends `expired`
    /// (`EXECUTION_ACTION_TIMEOUT_SECS`).
    pub action_timeout: Duration,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            workers: 4,
            max_depth: 3,
            max_steps: 8,
            timeout: Duration::from_secs(300),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            history_limit: 20,
            fanout_capacity: 64,
            tool_concurrency: 4,
            action_timeout: Duration::from_secs(86_400),
        }
    }
}

impl RunnerConfig {
    /// The interval of heartbeats, cancellation checks and the sweep of expired leases.
    pub fn heartbeat_interval(&self) -> Duration {
        (self.lease / 3).max(Duration::from_millis(200))
    }
}
