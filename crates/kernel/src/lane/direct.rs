//! [`Direct`]: a few direct PostgreSQL connections (sqlx) for one-statement reads, used
//! when the connection runs over TLS (the [`super::Pipelined`] lane has no TLS client).
//!
//! A direct lane opens its own connections with the pool's options (same URL, TLS mode,
//! statement cache) and takes one back only when the statement run on it completed — the
//! state the pool's ping on every check-in exists to check. A connection whose use was
//! interrupted (the request future was dropped mid-statement) or failed is closed instead,
//! and a new one is opened on demand.
//!
//! Idle connections are kept per thread: a tokio socket is driven by the reactor of the
//! runtime that opened it, so a connection opened by one HTTP worker and used by another
//! would have every reply relayed through the first worker's thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::ThreadId;

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Connection as _};
use sea_orm::{DatabaseConnection, DbBackend, DbErr, RuntimeErr};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Direct connections for hot reads; cheap to clone (shared).
#[derive(Clone)]
pub struct Direct {
    inner: Arc<Inner>,
}

struct Inner {
    options: PgConnectOptions,
    size: usize,
    /// One permit per connection in use: at most `size` at once.
    permits: Arc<Semaphore>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Connections opened and not yet closed (in use or idle); at most `size`.
    open: usize,
    /// Idle connections, by the thread that last used them.
    idle: HashMap<ThreadId, Vec<PgConnection>>,
}

impl Direct {
    /// A lane of at most `size` connections beside `db`'s pool, opened lazily with the
    /// pool's options; `None` unless `db` is PostgreSQL (or when `size` is 0).
    pub fn for_db(db: &DatabaseConnection, size: u32) -> Option<Self> {
        if size == 0 || db.get_database_backend() != DbBackend::Postgres {
            return None;
        }
        let options = (*db.get_postgres_connection_pool().connect_options()).clone();
        let size = size as usize;
        Some(Self {
            inner: Arc::new(Inner {
                options,
                size,
                permits: Arc::new(Semaphore::new(size)),
                state: Mutex::new(State::default()),
            }),
        })
    }

    /// The most connections the lane opens.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// A connection of the lane, waiting while all are in use: one idle on this thread if
    /// there is one, else a new one while fewer than `size` are open, else one idle on
    /// another thread. Run one statement on [`Lease::conn`], then [`Lease::give_back`] it
    /// if the statement succeeded; dropped otherwise, the lease closes the connection.
    pub async fn lease(&self) -> Result<Lease, DbErr> {
        let permit = Arc::clone(&self.inner.permits)
            .acquire_owned()
            .await
            .map_err(|_| DbErr::Custom("the read lane is closed".into()))?;
        let mut lease = Lease {
            conn: None,
            counted: true,
            inner: Arc::clone(&self.inner),
            _permit: permit,
        };
        let here = std::thread::current().id();
        let idle = {
            let mut state = self.inner.lock();
            let mut conn = state.idle.get_mut(&here).and_then(Vec::pop);
            if conn.is_none() && state.open >= self.inner.size {
                // All `size` are open and one is idle (this permit was free): on another thread.
                conn = state.idle.values_mut().find_map(Vec::pop);
            }
            if conn.is_none() {
                state.open += 1;
            }
            conn
        };
        lease.conn = Some(match idle {
            Some(conn) => conn,
            // Dropped while connecting (or failing to), the lease gives its slot back.
            None => PgConnection::connect_with(&self.inner.options)
                .await
                .map_err(|err| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(err))))?,
        });
        Ok(lease)
    }

    /// Connections open now (in use or idle).
    pub fn open(&self) -> usize {
        self.inner.lock().open
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn closed_one(&self) {
        let mut state = self.lock();
        state.open = state.open.saturating_sub(1);
    }
}

/// One checked-out connection of a [`Direct`] lane; closed on drop unless given back.
pub struct Lease {
    conn: Option<PgConnection>,
    /// Whether this lease accounts for one open connection (until it is given back).
    counted: bool,
    inner: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// The connection, to run one statement on.
    pub fn conn(&mut self) -> Result<&mut PgConnection, DbErr> {
        self.conn
            .as_mut()
            .ok_or_else(|| DbErr::Custom("the lane connection was given back".into()))
    }

    /// Returns the connection to the lane, idle on this thread: call it only after a
    /// statement on it completed without error.
    pub fn give_back(mut self) {
        if let Some(conn) = self.conn.take() {
            let here = std::thread::current().id();
            self.inner.lock().idle.entry(here).or_default().push(conn);
            self.counted = false;
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Not given back: interrupted or failed, its protocol state is unknown; closed.
        if self.counted {
            self.inner.closed_one();
        }
    }
}

/// A statement's error as sea-orm reports it, so [`crate::Error`] classifies it as it
/// does the pool's (a lost connection is a `503`).
pub fn query_err(err: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(err)))
}
