//! [`Writer`]: group commit of event appends and turn starts. Every append of every run of
//! this process, and every start of a chat turn, joins a queue; one writer at a time (two
//! on PostgreSQL) takes all that are waiting and writes them in one transaction, so a
//! thousand runs streaming or starting at once pay one commit per batch instead of one
//! each (on SQLite, one write lock per batch instead of a thousand writers queueing for
//! it). Each write keeps its own guard (an append's state condition and `last_seq` update,
//! a turn's free-conversation check), so a batch changes when writes commit, never what
//! they write. When a batch's transaction fails, its writes are retried one by one, so
//! one bad write fails alone.

use std::sync::{Arc, Mutex, PoisonError};

use kernel::Result;
use sea_orm::{
    Condition, DatabaseConnection, DatabaseTransaction, DbBackend, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::events::{Event, ExecutionEvent};
use crate::store::{Changes, active_runs_in, append_in};

/// At most this many appends are written in one transaction.
const BATCH_MAX: usize = 256;

/// One append: events of execution `id`, written if it meets `condition`, with `changes`.
#[derive(Clone)]
pub(crate) struct Append {
    pub(crate) id: Uuid,
    pub(crate) condition: Condition,
    pub(crate) changes: Changes,
    pub(crate) events: Vec<Event>,
    /// Written first in the same transaction, whether the condition holds or not (the
    /// assistant message a run's end stores with its events).
    pub(crate) before: Vec<Statement>,
}

/// The start of a chat turn: the statements storing its conversation, run, user message
/// and first events, written unless `guard`, a conversation, has a queued or active run.
#[derive(Clone)]
pub(crate) struct TurnStart {
    pub(crate) guard: Option<Uuid>,
    pub(crate) statements: Vec<Statement>,
    pub(crate) stored: Vec<ExecutionEvent>,
}

/// One queued write.
#[derive(Clone)]
pub(crate) enum Write {
    Append(Append),
    Turn(TurnStart),
}

/// What a write's caller gets back: the stored events, or `None` when the condition
/// did not hold (nothing written).
pub(crate) type Written = Result<Option<Vec<ExecutionEvent>>>;

struct Waiting {
    write: Write,
    reply: oneshot::Sender<Written>,
}

/// The queue of appends and the writers draining it.
pub(crate) struct Writer {
    db: DatabaseConnection,
    state: Mutex<State>,
    /// How many writers may write batches at once.
    writers: usize,
}

#[derive(Default)]
struct State {
    queue: Vec<Waiting>,
    /// Writers now draining the queue.
    active: usize,
}

impl Writer {
    /// A writer over `db`: one batch at a time on SQLite (it has one write lock), two on
    /// PostgreSQL (one fills while the other commits).
    pub(crate) fn new(db: DatabaseConnection) -> Arc<Self> {
        let writers = if db.get_database_backend() == DbBackend::Postgres {
            2
        } else {
            1
        };
        Arc::new(Self {
            db,
            state: Mutex::new(State::default()),
            writers,
        })
    }

    /// Queues `write` and waits until a batch holding it committed (or failed).
    ///
    /// The batch is written by a spawned task, so a caller that stops waiting (a cancelled
    /// run, a dropped request) neither loses the other writes of its batch nor leaves its
    /// own half-done: it is written or not, as if the caller had waited.
    pub(crate) async fn write(self: &Arc<Self>, write: Write) -> Written {
        let (reply, written) = oneshot::channel();
        let start = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.queue.push(Waiting { write, reply });
            let start = state.active < self.writers;
            if start {
                state.active += 1;
            }
            start
        };
        if start {
            // On SQLite's writer thread: a batch holding the write lock never waits behind
            // HTTP work for its next statement.
            kernel::write_gate::spawn(&self.db, Arc::clone(self).drain());
        }
        written
            .await
            .unwrap_or_else(|_| Err(kernel::Error::Internal(anyhow::anyhow!("the event writer stopped"))))
    }

    /// Writes batches until the queue is empty, then retires.
    async fn drain(self: Arc<Self>) {
        loop {
            let batch = {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if state.queue.is_empty() {
                    state.active -= 1;
                    return;
                }
                let take = state.queue.len().min(BATCH_MAX);
                state.queue.drain(..take).collect::<Vec<_>>()
            };
            self.write_batch(batch).await;
        }
    }

    /// Writes `batch` in one transaction and answers each write; when the transaction
    /// fails, writes each in its own.
    async fn write_batch(&self, batch: Vec<Waiting>) {
        if batch.len() > 1 {
            let writes: Vec<Write> = batch.iter().map(|w| w.write.clone()).collect();
            match self.transaction(writes).await {
                Ok(results) => {
                    for (waiting, written) in batch.into_iter().zip(results) {
                        let _ = waiting.reply.send(Ok(written));
                    }
                    return;
                }
                Err(err) => {
                    tracing::debug!(error = %err, size = batch.len(), "a batch of writes failed; retrying one by one")
                }
            }
        }
        for waiting in batch {
            let written = self.transaction(vec![waiting.write]).await;
            let _ = waiting.reply.send(written.map(|mut results| results.pop().flatten()));
        }
    }

    /// Writes `writes` in one transaction: all of them, or none.
    async fn transaction(&self, writes: Vec<Write>) -> Result<Vec<Option<Vec<ExecutionEvent>>>> {
        // Immediate on SQLite: the transaction writes first thing, and a deferred one could
        // fail at once with SQLITE_BUSY_SNAPSHOT instead of waiting for the lock.
        let _turn = kernel::write_gate::sqlite_turn(&self.db).await;
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..TransactionOptions::default()
            })
            .await?;
        let writes_anyway = writes
            .iter()
            .any(|write| matches!(write, Write::Append(append) if !append.before.is_empty()));
        let results = match write_in(&txn, writes).await {
            Ok(results) => results,
            Err(err) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(error = %rollback, "cannot roll back a failed batch of writes");
                }
                return Err(err);
            }
        };
        if !writes_anyway && results.iter().all(Option::is_none) {
            txn.rollback().await?;
        } else {
            txn.commit().await?;
        }
        Ok(results)
    }
}

/// Writes `writes` in order inside `txn`; each one's stored events, or `None` where its
/// guard did not hold. A turn's statements run together (on SQLite in one hand-off to the
/// connection's thread); turns are not joined with each other, so the connection's
/// statement cache keeps one shape per turn instead of one per batch.
async fn write_in(txn: &DatabaseTransaction, writes: Vec<Write>) -> Result<Vec<Option<Vec<ExecutionEvent>>>> {
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        match write {
            Write::Append(append) => results.push(append_in(txn, append).await?),
            Write::Turn(turn) => {
                if let Some(conversation) = turn.guard
                    && !active_runs_in(txn, conversation).await?.is_empty()
                {
                    results.push(None);
                    continue;
                }
                kernel::statements::execute_all(txn, turn.statements).await?;
                results.push(Some(turn.stored));
            }
        }
    }
    Ok(results)
}
