//! One queue for the hot write transactions of an SQLite database.
//!
//! SQLite lets one connection write at a time. A connection that finds the write lock
//! taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10 … up to 100 ms between
//! tries and serves nobody in order: under a burst of writers (a thousand chat replies
//! starting at once) a write can wait seconds while the lock is free most of that time.
//! The frequent write transactions (runs, their events, messages, new conversations) take
//! this gate first, so they reach SQLite one after another, in arrival order, and never
//! sleep in the busy handler. PostgreSQL locks rows, not the database: there the gate is
//! not taken.
//!
//! Take it around the transaction only (never while waiting for something else), and never
//! twice in one task: it is not reentrant.

use std::sync::OnceLock;

use std::future::Future;

use sea_orm::{ConnectionTrait, DbBackend};
use tokio::sync::{Semaphore, SemaphorePermit};

/// The process's gate: one permit, handed out first come, first served.
fn gate() -> &'static Semaphore {
    static GATE: OnceLock<Semaphore> = OnceLock::new();
    GATE.get_or_init(|| Semaphore::new(1))
}

/// The turn to write on `db`: a permit held until dropped on SQLite, `None` (no waiting)
/// on other databases.
pub async fn sqlite_turn(db: &impl ConnectionTrait) -> Option<SemaphorePermit<'static>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    // The semaphore is never closed, so acquiring cannot fail.
    gate().acquire().await.ok()
}

/// Spawns `task` — one that runs writes on `db`, each taking its turn ([`sqlite_turn`]) —
/// where its turns are served at once: on SQLite on the process's writer thread, elsewhere
/// on the current runtime.
///
/// A write holding SQLite's one write lock waits on the connection's thread several times
/// (begin, statements, commit). Run on a busy HTTP worker, each of those waits ends behind
/// every task that worker has ready, and the lock is held all that time: under a thousand
/// chat replies starting at once, the writes' turns were mostly that queueing. The writer
/// thread runs nothing but writes, so a write resumes as soon as SQLite answers.
pub fn spawn(db: &impl ConnectionTrait, task: impl Future<Output = ()> + Send + 'static) {
    if db.get_database_backend() == DbBackend::Sqlite {
        writer().spawn(task);
    } else {
        tokio::spawn(task);
    }
}

/// The runtime of the writer thread, started on first use; it lives as long as the process.
fn writer() -> &'static tokio::runtime::Handle {
    static WRITER: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    WRITER.get_or_init(|| {
        let (handle, started) = std::sync::mpsc::channel();
        // The thread owns its runtime and keeps it running; only its handle leaves.
        let spawned = std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || {
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => {
                    let _ = handle.send(Some(runtime.handle().clone()));
                    runtime.block_on(std::future::pending::<()>());
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot start the SQLite writer thread; writes run in place");
                    let _ = handle.send(None);
                }
            }
        });
        let handle = spawned.ok().and_then(|_| started.recv().ok().flatten());
        // Without a writer thread, writes run on the caller's runtime (as before it existed).
        handle.unwrap_or_else(tokio::runtime::Handle::current)
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn writers_take_turns_in_arrival_order() {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        let inside = Arc::new(AtomicUsize::new(0));
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let first = sqlite_turn(&db).await;
        assert!(first.is_some());
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (db, inside, order) = (db.clone(), inside.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = sqlite_turn(&db).await;
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "one writer at a time");
                order.lock().unwrap().push(i);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
            // Each task queues before the next starts.
            tokio::task::yield_now().await;
        }
        drop(first);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }
}
