//! [`Writer`]: group commit of event appends. Every append of every run of this process
//! joins a queue; one writer at a time (two on PostgreSQL) takes all that are waiting and
//! writes them in one transaction, so a thousand runs streaming at once pay one commit per
//! batch instead of one each (on SQLite, one write lock per batch instead of a thousand
//! writers queueing for it). Each append keeps its own guard and numbering (its state
//! condition and `last_seq` update), so a batch changes when appends commit, never what
//! they write. When a batch's transaction fails, its appends are retried one by one, so
//! one bad append fails alone.

use std::sync::{Arc, Mutex, PoisonError};

use kernel::Result;
use sea_orm::{
    Condition, DatabaseConnection, DbBackend, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::events::{Event, ExecutionEvent};
use crate::store::{Changes, append_in};

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

/// What an append's caller gets back: the stored events, or `None` when the condition
/// did not hold (nothing written).
pub(crate) type Written = Result<Option<Vec<ExecutionEvent>>>;

struct Waiting {
    append: Append,
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

    /// Queues `append` and waits until a batch holding it committed (or failed).
    ///
    /// The batch is written by a spawned task, so a caller that stops waiting (a cancelled
    /// run) neither loses the other appends of its batch nor leaves its own half-done: it is
    /// written or not, as if the caller had waited.
    pub(crate) async fn append(self: &Arc<Self>, append: Append) -> Written {
        let (reply, written) = oneshot::channel();
        let start = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.queue.push(Waiting { append, reply });
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
            self.write(batch).await;
        }
    }

    /// Writes `batch` in one transaction and answers each append; when the transaction
    /// fails, writes each append in its own.
    async fn write(&self, batch: Vec<Waiting>) {
        if batch.len() > 1 {
            let appends: Vec<Append> = batch.iter().map(|w| w.append.clone()).collect();
            match self.transaction(appends).await {
                Ok(results) => {
                    for (waiting, written) in batch.into_iter().zip(results) {
                        let _ = waiting.reply.send(Ok(written));
                    }
                    return;
                }
                Err(err) => {
                    tracing::debug!(error = %err, size = batch.len(), "a batch of event appends failed; retrying one by one")
                }
            }
        }
        for waiting in batch {
            let written = self.transaction(vec![waiting.append]).await;
            let _ = waiting.reply.send(written.map(|mut results| results.pop().flatten()));
        }
    }

    /// Writes `appends` in one transaction: all of them, or none.
    async fn transaction(&self, appends: Vec<Append>) -> Result<Vec<Option<Vec<ExecutionEvent>>>> {
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
        let mut results = Vec::with_capacity(appends.len());
        let writes_anyway = appends.iter().any(|append| !append.before.is_empty());
        for append in appends {
            match append_in(&txn, append).await {
                Ok(written) => results.push(written),
                Err(err) => {
                    if let Err(rollback) = txn.rollback().await {
                        tracing::warn!(error = %rollback, "cannot roll back a failed batch of event appends");
                    }
                    return Err(err);
                }
            }
        }
        if !writes_anyway && results.iter().all(Option::is_none) {
            txn.rollback().await?;
        } else {
            txn.commit().await?;
        }
        Ok(results)
    }
}
