//! [`Runner`]: the background side of executions in one process.
//!
//! A dispatcher claims queued executions while it has free workers (woken by new
//! executions here, by `NOTIFY` from other replicas, or by polling); each claimed one runs
//! as a task under a lease that a heartbeat renews. The same periodic task fails the
//! executions whose lease expired (their process died) and stops local runs that were
//! cancelled or failed elsewhere. On PostgreSQL a relay feeds other replicas' events in.

mod history;
mod http_call;
mod outcome;
pub(crate) mod paused;
mod run;
mod toolbox;
mod tools;
mod voice;

pub use http_call::ToolRuntime;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use agents::AgentService;
use conversations::ConversationService;
use llm::ProviderRegistry;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::broker::{Broker, postgres};
use crate::config::RunnerConfig;
use crate::entities::execution;
use crate::store::Store;

/// The error of executions whose process stopped under them.
pub const INTERRUPTED: &str = "interrupted";

/// Runs queued executions in the background; cheap to clone, started once.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

/// What every task of the runner shares.
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) broker: Broker,
    pub(crate) agents: AgentService,
    pub(crate) conversations: ConversationService,
    pub(crate) providers: ProviderRegistry,
    pub(crate) config: RunnerConfig,
    /// What HTTP tools need (secrets, the outbound client); without it they answer with an error.
    pub(crate) tool_runtime: OnceLock<ToolRuntime>,
    /// What MCP tools need (servers, sessions); without it an agent's MCP servers offer nothing.
    pub(crate) mcp_runtime: OnceLock<mcp::McpRuntime>,
    /// What voice turns need (transcription, speech); without it `transcribe` and `speak` are refused.
    pub(crate) speech: OnceLock<speech::SpeechService>,
    pub(crate) worker_id: String,
    /// Cancelled when this process must stop running executions at once.
    pub(crate) interrupt: CancellationToken,
    /// Cancelled when no more executions may be claimed (the process is stopping).
    pub(crate) stop_claiming: CancellationToken,
    /// Cancelled when the heartbeat and the relay must stop.
    background: CancellationToken,
    /// The dispatcher and every run.
    runs: TaskTracker,
    /// One permit per run this process may hold at once (`workers`).
    workers: Arc<Semaphore>,
    started: AtomicBool,
}

impl Runner {
    /// A runner over `db` (not started) publishing through `broker`.
    pub fn new(
        db: DatabaseConnection,
        broker: Broker,
        agents: AgentService,
        conversations: ConversationService,
        providers: ProviderRegistry,
        config: RunnerConfig,
    ) -> Self {
        let worker_id = format!("{}-{}", std::process::id(), kernel::ids::new_id().simple());
        let workers = Arc::new(Semaphore::new(config.workers));
        Self {
            inner: Arc::new(Inner {
                store: Store::new(db),
                broker,
                agents,
                conversations,
                providers,
                config,
                tool_runtime: OnceLock::new(),
                mcp_runtime: OnceLock::new(),
                speech: OnceLock::new(),
                worker_id,
                interrupt: CancellationToken::new(),
                stop_claiming: CancellationToken::new(),
                background: CancellationToken::new(),
                runs: TaskTracker::new(),
                workers,
                started: AtomicBool::new(false),
            }),
        }
    }

    /// Lets this runner's HTTP tools read the callers' secrets and call out through the
    /// outbound guard (set once; later calls do nothing). Without it an HTTP tool's call
    /// is answered with an error result.
    pub fn set_tool_runtime(&self, runtime: ToolRuntime) {
        let _ = self.inner.tool_runtime.set(runtime);
    }

    /// Lets this runner's agents use their MCP servers' tools (set once; later calls do
    /// nothing). Without it an agent's MCP servers offer no tools.
    pub fn set_mcp_runtime(&self, runtime: mcp::McpRuntime) {
        let _ = self.inner.mcp_runtime.set(runtime);
    }

    /// Lets this runner's turns be transcribed (`transcribe`) and its replies spoken
    /// (`speak`) (set once; later calls do nothing). Without it both are refused.
    pub fn set_speech(&self, speech: speech::SpeechService) {
        let _ = self.inner.speech.set(speech);
    }

    /// The speech service, when set.
    pub(crate) fn speech(&self) -> Option<&speech::SpeechService> {
        self.inner.speech.get()
    }

    /// The id this process claims executions under.
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// Gets a run that is `queued` again (its answers arrived) going: claimed at once when
    /// this process has a free worker, otherwise left to the dispatchers of every replica
    /// (already woken by the requeue's notification).
    pub(crate) fn kick(&self, id: uuid::Uuid) {
        let Some(permit) = self.free_worker() else {
            self.inner.broker.wake_queue();
            return;
        };
        self.claim_now(id, permit);
    }

    /// A worker of this process for a run, if one is free and the runner takes runs
    /// (started, not stopping).
    fn free_worker(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let inner = &self.inner;
        let permit = Arc::clone(&inner.workers).try_acquire_owned().ok()?;
        (inner.started.load(Ordering::SeqCst) && !inner.stop_claiming.is_cancelled()).then_some(permit)
    }

    /// Claims `id` and runs it under `permit`, in a task of the runner.
    fn claim_now(&self, id: uuid::Uuid, permit: tokio::sync::OwnedSemaphorePermit) {
        let job = Arc::clone(&self.inner);
        self.inner.runs.spawn(async move {
            match job
                .store
                .claim(&job.worker_id, lease_until(&job.config), Some(id))
                .await
            {
                Ok(Some((claimed, started))) => {
                    if let Some(started) = started {
                        job.broker.publish(started);
                    }
                    run::run_claimed(Arc::clone(&job), claimed).await;
                }
                // Its conversation is busy (or another replica took it): the dispatchers
                // claim it when its turn comes.
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(execution_id = %id, error = %err, "cannot start an execution; left queued");
                    job.broker.wake_queue();
                }
            }
            drop(permit);
        });
    }

    /// Stores a new top-level execution and gets it going. When this process has a free
    /// worker and the run's conversation (if any) no other run, the run is written already
    /// running with its `execution.started` and runs at once: one write, joined with the
    /// others of the moment by the event writer, instead of a queued row, a claim and the
    /// dispatcher racing for it. Otherwise it is stored `queued` and the workers of every
    /// replica are woken. Returns the execution as accepted (`queued`, not started yet).
    pub(crate) async fn submit(&self, model: execution::Model) -> kernel::Result<execution::Model> {
        let accepted = model.clone();
        if self.try_start(model.clone()).await?.is_some() {
            return Ok(accepted);
        }
        self.queue(model).await
    }

    /// Like [`Runner::submit`] for a caller that waits for the answer anyway: returns the
    /// execution as stored, running when it started at once.
    pub(crate) async fn start_now(&self, model: execution::Model) -> kernel::Result<execution::Model> {
        match self.try_start(model.clone()).await? {
            Some(running) => Ok(running),
            None => self.queue(model).await,
        }
    }

    /// Writes `model` running under this process and runs it, when a worker is free and
    /// its conversation has no queued or active run; `None`, with nothing stored, otherwise.
    async fn try_start(&self, model: execution::Model) -> kernel::Result<Option<execution::Model>> {
        let store = &self.inner.store;
        self.start_with(model, run::Known::default(), |model| store.insert_started(model))
            .await
    }

    /// Stores `model` `queued` and wakes the dispatchers of every replica.
    async fn queue(&self, model: execution::Model) -> kernel::Result<execution::Model> {
        self.inner.store.insert_queued(&model).await?;
        self.inner.broker.wake_queue();
        Ok(model)
    }

    /// Starts a new top-level run of a conversation together with the turn it answers,
    /// when this process has a free worker and the conversation has no queued or active
    /// run: the conversation (when new), the run, the user message and their events in one
    /// transaction, and the run going at once. `None`, with nothing stored, otherwise: the
    /// caller then stores the turn's run the usual way ([`Runner::submit`]).
    /// `agent`: the run's agent and whether it has links, as the caller read them.
    pub(crate) async fn start_turn(
        &self,
        model: execution::Model,
        conversation: &conversations::TurnConversation,
        turn: conversations::MessageStatements,
        agent: Option<(agents::entities::agent::Model, bool)>,
    ) -> kernel::Result<Option<execution::Model>> {
        let store = &self.inner.store;
        let known = run::Known {
            opened: true,
            agent,
            new_conversation: matches!(conversation, conversations::TurnConversation::New(_)),
        };
        self.start_with(model, known, |model| {
            store.insert_running_turn(model, conversation, turn)
        })
        .await
    }

    /// Writes `model` running under this process with `write` (which gives its stored
    /// events, or `None` when its conversation is not free) and runs it (with what the
    /// caller `known`, see [`run::Known`]), when a worker is free; `None`, with nothing
    /// stored, otherwise.
    async fn start_with<F, Fut>(
        &self,
        mut model: execution::Model,
        known: run::Known,
        write: F,
    ) -> kernel::Result<Option<execution::Model>>
    where
        F: FnOnce(execution::Model) -> Fut,
        Fut: std::future::Future<Output = kernel::Result<Option<Vec<crate::events::ExecutionEvent>>>>,
    {
        let inner = &self.inner;
        let Some(permit) = self.free_worker() else {
            return Ok(None);
        };
        self.hold(&mut model);
        // Registered before the row exists, so a cancel landing as soon as it does reaches
        // the run through its token (no second read of the row to catch it).
        let token = inner.broker.register_run(model.id, &inner.interrupt);
        let events = match write(model.clone()).await {
            Ok(Some(events)) => events,
            other => {
                inner.broker.unregister_run(model.id);
                return other.map(|_| None);
            }
        };
        model.last_seq = events.last().map_or(model.last_seq, |event| event.seq);
        inner.broker.open(events);
        self.run_now(model.clone(), token, permit, known);
        Ok(Some(model))
    }

    /// `model`, running under this process from now on.
    fn hold(&self, model: &mut execution::Model) {
        model.status = crate::status::ExecutionStatus::Running;
        model.worker_id = Some(self.inner.worker_id.clone());
        model.lease_expires_at = Some(lease_until(&self.inner.config));
        model.started_at = Some(kernel::clock::now());
    }

    /// Runs a stored, running `model` in a task of the runner under `permit`, with what
    /// its starter `known`.
    fn run_now(
        &self,
        model: execution::Model,
        token: CancellationToken,
        permit: tokio::sync::OwnedSemaphorePermit,
        known: run::Known,
    ) {
        let job = Arc::clone(&self.inner);
        self.inner.runs.spawn(async move {
            run::run_registered(job, model, token, known).await;
            drop(permit);
        });
    }

    /// The store and broker, for the service answering the owners of executions.
    pub(crate) fn parts(&self) -> (&Store, &Broker) {
        (&self.inner.store, &self.inner.broker)
    }

    /// The providers runs are answered by.
    pub(crate) fn providers(&self) -> &ProviderRegistry {
        &self.inner.providers
    }

    /// How runs are bounded.
    pub(crate) fn config(&self) -> &RunnerConfig {
        &self.inner.config
    }

    /// The agents and conversations services the runner reads.
    pub(crate) fn services(&self) -> (&AgentService, &ConversationService) {
        (&self.inner.agents, &self.inner.conversations)
    }

    /// The executions this process is running right now (sub-agent runs included).
    pub fn local_runs(&self) -> Vec<uuid::Uuid> {
        self.inner.broker.local_runs()
    }

    /// Starts the background tasks on the current Tokio runtime (once; later calls do nothing):
    /// the recovery sweep and heartbeat, the PostgreSQL relay, and the dispatcher.
    pub fn start(&self) {
        if self.inner.started.swap(true, Ordering::SeqCst) {
            return;
        }
        tokio::spawn(maintain(Arc::clone(&self.inner)));
        if self.inner.store.is_postgres() {
            let (store, broker) = (self.inner.store.clone(), self.inner.broker.clone());
            tokio::spawn(postgres::relay(store, broker, self.inner.background.clone()));
        }
        if self.inner.config.workers > 0 {
            self.inner.runs.spawn(dispatch(Arc::clone(&self.inner)));
        }
        tracing::info!(worker_id = %self.inner.worker_id, workers = self.inner.config.workers, "execution runner started");
    }

    /// Stops at once, like a crash: runs end without writing anything, and their executions
    /// are failed as `interrupted` once their lease expires (by any replica).
    pub fn stop(&self) {
        self.inner.stop_claiming.cancel();
        self.inner.interrupt.cancel();
        self.inner.background.cancel();
    }

    /// Claims nothing more from now on (the first step of a graceful stop).
    pub fn stop_claiming(&self) {
        self.inner.stop_claiming.cancel();
    }

    /// Stops gracefully: claims nothing more, lets running executions finish within
    /// `grace`, then stops the rest and marks every execution of this process still
    /// running as `interrupted` (also those whose progress could no longer be stored).
    pub async fn shutdown(&self, grace: Duration) {
        let inner = &self.inner;
        inner.stop_claiming.cancel();
        inner.runs.close();
        if tokio::time::timeout(grace, inner.runs.wait()).await.is_err() {
            inner.interrupt.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(1), inner.runs.wait()).await;
        }
        mark_interrupted(inner).await;
        inner.background.cancel();
        tracing::info!(worker_id = %inner.worker_id, "execution runner stopped");
    }
}

/// Fails this process's executions still running as `interrupted`. A stopping server's
/// HTTP workers take their pooled connections with them, so a failed attempt is retried
/// (the pool then opens a fresh connection).
async fn mark_interrupted(inner: &Inner) {
    let mine = || Condition::all().add(execution::Column::WorkerId.eq(inner.worker_id.as_str()));
    for attempt in 1..=3 {
        match inner.store.fail_running(mine(), INTERRUPTED).await {
            Ok(events) => {
                events.into_iter().for_each(|e| inner.broker.publish(e));
                return;
            }
            Err(err) => tracing::warn!(error = %err, attempt, "cannot mark the interrupted executions"),
        }
    }
}

/// Claims queued executions while workers are free, and runs each in its own task.
async fn dispatch(inner: Arc<Inner>) {
    let workers = Arc::clone(&inner.workers);
    loop {
        let permit = tokio::select! {
            () = inner.stop_claiming.cancelled() => return,
            permit = Arc::clone(&workers).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let lease_until = lease_until(&inner.config);
        match inner.store.claim(&inner.worker_id, lease_until, None).await {
            Ok(Some((model, started))) => {
                if let Some(started) = started {
                    inner.broker.publish(started);
                }
                let job = Arc::clone(&inner);
                inner.runs.spawn(async move {
                    run::run_claimed(job, model).await;
                    drop(permit);
                });
            }
            Ok(None) => {
                drop(permit);
                tokio::select! {
                    () = inner.stop_claiming.cancelled() => return,
                    () = inner.broker.queue_woken() => {}
                    () = tokio::time::sleep(inner.config.poll_interval) => {}
                }
            }
            Err(err) => {
                drop(permit);
                tracing::warn!(error = %err, "cannot claim executions");
                tokio::select! {
                    () = inner.stop_claiming.cancelled() => return,
                    () = tokio::time::sleep(inner.config.poll_interval) => {}
                }
            }
        }
    }
}

/// Sweeps, heartbeats and cancellation checks, every third of the lease.
async fn maintain(inner: Arc<Inner>) {
    let mut first = true;
    loop {
        sweep(&inner, first).await;
        expire(&inner).await;
        first = false;
        let local = inner.broker.local_runs();
        if let Err(err) = inner
            .store
            .heartbeat(&inner.worker_id, &local, lease_until(&inner.config))
            .await
        {
            tracing::warn!(error = %err, "cannot renew execution leases");
        }
        match inner.store.not_running(&local).await {
            Ok(stopped) => stopped.into_iter().for_each(|id| inner.broker.cancel_run(id)),
            Err(err) => tracing::warn!(error = %err, "cannot check local executions"),
        }
        tokio::select! {
            () = inner.background.cancelled() => return,
            () = tokio::time::sleep(inner.config.heartbeat_interval()) => {}
        }
    }
}

/// Fails the running executions of dead processes: those whose lease expired and, at
/// start-up on SQLite (one process only), every one not run here.
async fn sweep(inner: &Inner, at_start_up: bool) {
    use execution::Column as C;
    let orphaned = if at_start_up && !inner.store.is_postgres() {
        Condition::any()
            .add(C::WorkerId.ne(inner.worker_id.as_str()))
            .add(C::WorkerId.is_null())
    } else {
        Condition::all().add(C::LeaseExpiresAt.lt(kernel::clock::now()))
    };
    match inner.store.fail_running(orphaned, INTERRUPTED).await {
        Ok(events) => {
            if !events.is_empty() {
                tracing::warn!(
                    count = events.len(),
                    "failed executions interrupted by a stopped process"
                );
            }
            events.into_iter().for_each(|e| inner.broker.publish(e));
        }
        Err(err) => tracing::warn!(error = %err, "cannot sweep interrupted executions"),
    }
}

/// Ends `expired` the runs whose wait for a person is over, and answers their calls in
/// their conversations (so the history stays valid for the next run).
async fn expire(inner: &Inner) {
    match inner.store.expire_waiting(kernel::clock::now()).await {
        Ok(expired) => {
            for (model, event) in expired {
                inner.broker.publish(event);
                close_calls(inner, &model, "error: the run expired before this call was answered").await;
            }
        }
        Err(err) => tracing::warn!(error = %err, "cannot expire executions waiting for input"),
    }
}

/// Gives every call of the turn a paused run stopped at a `tool` message holding `result`
/// in the run's conversation, so that no assistant message's tool call stays unanswered
/// (providers refuse such a history). Nothing when the run has no conversation.
pub(crate) async fn close_calls(inner: &Inner, model: &execution::Model, result: &str) {
    close_paused_calls(&inner.conversations, model, result).await;
}

/// [`close_calls`] for the service side (a cancel of a paused or requeued run).
pub(crate) async fn close_paused_calls(conversations: &ConversationService, model: &execution::Model, result: &str) {
    let (Some(conversation_id), Some(turn)) = (model.conversation_id, &model.paused_turn) else {
        return;
    };
    let Ok(turn) = serde_json::from_value::<paused::PausedTurn>(turn.clone()) else {
        return;
    };
    for planned in turn.calls {
        let message = conversations::NewMessage::tool_result(planned.call.id, result.to_owned()).by(model.id);
        if let Err(err) = conversations
            .append_message(model.owner_id, conversation_id, message)
            .await
        {
            tracing::warn!(execution_id = %model.id, error = %err, "cannot close a tool call of an ended run");
            return;
        }
    }
}

fn lease_until(config: &RunnerConfig) -> chrono::DateTime<chrono::Utc> {
    let lease = chrono::Duration::from_std(config.lease).unwrap_or(chrono::Duration::seconds(30));
    kernel::clock::now() + lease
}
