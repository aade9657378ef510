//! Shared set-up of the service tests: a fresh migrated database (SQLite in memory, or a
//! fresh schema on the PostgreSQL server of `TEST_DATABASE_URL`), users, agents, the
//! services and runner, and a scripted LLM provider.

use std::sync::Arc;
use std::time::Duration;

use agents::schemas::AgentCreate;
use agents::{AgentService, ProviderNames};
use conversations::ConversationService;
use executions::schemas::{Execution, ExecutionCreate, ExecutionEvent};
use executions::{Broker, ExecutionService, ExecutionStatus, Runner, RunnerConfig};
use llm::{EchoProvider, LlmConfig, Provider, ProviderRegistry};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use uuid::Uuid;

pub use testkit::{ScriptedProvider, answer, tool_call, user};

/// A fresh, migrated database (see `testkit::database`).
pub async fn database() -> DatabaseConnection {
    testkit::database("executions_test_").await
}

/// Everything a test drives.
pub struct Harness {
    pub db: DatabaseConnection,
    pub agents: AgentService,
    pub conversations: ConversationService,
    pub executions: ExecutionService,
    pub runner: Runner,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.runner.stop();
    }
}

/// Test defaults: two workers, a short lease and poll, everything else as configured by default.
pub fn config() -> RunnerConfig {
    RunnerConfig {
        workers: 2,
        lease: Duration::from_secs(3),
        poll_interval: Duration::from_millis(100),
        ..RunnerConfig::default()
    }
}

/// The services over `db`, with `echo`, a slow echo (`slow`, 50 ms per word) and `extra`
/// providers; the runner is not started.
pub fn harness_on(db: DatabaseConnection, extra: Vec<(&str, Arc<dyn Provider>)>, config: RunnerConfig) -> Harness {
    let mut registry = ProviderRegistry::from_config(&LlmConfig::default())
        .expect("registry")
        .with_provider(
            "slow",
            Arc::new(EchoProvider::new().with_word_delay(Duration::from_millis(50))),
        );
    for (name, provider) in extra {
        registry = registry.with_provider(name, provider);
    }
    let names = ProviderNames {
        allowed: registry.names(),
        default: "echo".into(),
    };
    let agents = AgentService::new(db.clone(), names);
    let files = files::FilesService::new(db.clone(), files::FileStore::memory(), files::FileLimits::default());
    let conversations = ConversationService::new(db.clone(), agents.clone(), files);
    let broker = Broker::new(config.fanout_capacity);
    let runner = Runner::new(
        db.clone(),
        broker,
        agents.clone(),
        conversations.clone(),
        registry,
        config,
    );
    let executions = ExecutionService::new(runner.clone());
    Harness {
        db,
        agents,
        conversations,
        executions,
        runner,
    }
}

/// A fresh database and started runner with the given extra providers and settings.
pub async fn harness(extra: Vec<(&str, Arc<dyn Provider>)>, config: RunnerConfig) -> Harness {
    let harness = harness_on(database().await, extra, config);
    harness.runner.start();
    harness
}

impl Harness {
    /// Creates an agent of `owner` from a JSON body.
    pub async fn agent(&self, owner: Uuid, body: Value) -> Uuid {
        let input: AgentCreate = serde_json::from_value(body).expect("an agent body");
        self.agents.create(owner, input).await.expect("create agent").id
    }

    /// Starts an execution of `agent` with `input`.
    pub async fn start(&self, owner: Uuid, agent: Uuid, input: &str) -> Execution {
        let request: ExecutionCreate = serde_json::from_value(json!({ "input": input })).expect("a request");
        self.executions.start(owner, agent, request).await.expect("start")
    }

    /// Waits (up to 10 s) until the execution is in a terminal state and returns it.
    pub async fn finished(&self, owner: Uuid, id: Uuid) -> Execution {
        self.until(owner, id, |e| e.status.is_terminal()).await
    }

    /// Waits (up to 10 s) until `done` holds for the execution and returns it.
    pub async fn until(&self, owner: Uuid, id: Uuid, done: impl Fn(&Execution) -> bool) -> Execution {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let execution = self.executions.get(owner, id).await.expect("get");
            if done(&execution) {
                return execution;
            }
            assert!(tokio::time::Instant::now() < deadline, "gave up waiting: {execution:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 10 s) until the execution has at least `count` stored events.
    pub async fn until_events(&self, owner: Uuid, id: Uuid, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.events(owner, id).await.len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up waiting for {count} events"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits (up to 10 s) until no worker of this process holds the execution.
    pub async fn until_released(&self, id: Uuid) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.runner.local_runs().contains(&id) {
            assert!(tokio::time::Instant::now() < deadline, "a worker still holds {id}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every stored event of the execution.
    pub async fn events(&self, owner: Uuid, id: Uuid) -> Vec<ExecutionEvent> {
        self.executions.events(owner, id, 0, 1000).await.expect("events")
    }
}

/// The types of `events`, in order.
pub fn types(events: &[ExecutionEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event.tag()).collect()
}

/// Asserts the execution ended in `status`.
pub fn assert_status(execution: &Execution, status: ExecutionStatus) {
    assert_eq!(execution.status, status, "{execution:?}");
}
