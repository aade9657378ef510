//! [`Pipelined`]: one tokio-postgres connection per thread (by default), shared by all the
//! reads that thread runs at once, which the driver pipelines.
//!
//! sqlx runs one statement at a time per connection, so with it every concurrent read needs
//! a connection of its own, and PostgreSQL is woken once per statement on as many backends
//! as there are reads in flight. tokio-postgres writes the `Bind`/`Execute`/`Sync` of every
//! read waiting on a connection together, and PostgreSQL answers them back to back from one
//! backend: on this 2-core machine that halved PostgreSQL's CPU per statement (see
//! `docs/benchmarks.md`). That is why this lane, and only this lane, uses a second driver.
//!
//! A connection is opened (lazily) by the thread that first reads on it and driven by that
//! thread's runtime, as the HTTP worker's own sockets are. Statements are prepared once per
//! connection and reused. A read dropped before its answer needs no clean-up: the
//! connection task reads and discards the answer. A connection that broke is replaced by
//! the next read on its thread; the read that saw it break fails as "unavailable" (503).
//!
//! No TLS: [`super::Lane::for_db`] uses it only when the pool's URL says `sslmode=disable`
//! (or `allow`). When PostgreSQL refuses its credentials (a password the pool read from a
//! `.pgpass` file, which this lane does not read), it stands aside for good and the reads
//! go to the [`super::Direct`] lane.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::ThreadId;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::{DbErr, RuntimeErr};
use tokio::sync::OnceCell;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement};

pub use tokio_postgres as pg;

/// Pipelined connections for hot reads, per thread; cheap to clone (shared).
#[derive(Clone)]
pub struct Pipelined {
    inner: Arc<Inner>,
}

struct Inner {
    config: pg::Config,
    per_thread: usize,
    threads: Mutex<HashMap<ThreadId, Thread>>,
    /// PostgreSQL refused this lane's credentials: it is not used any more.
    refused: AtomicBool,
}

/// The connections of one thread, used in turn.
struct Thread {
    slots: Vec<Arc<Slot>>,
    next: usize,
}

/// One connection, opened by the first read that needs it.
#[derive(Default)]
struct Slot {
    conn: OnceCell<Arc<Conn>>,
}

struct Conn {
    client: Client,
    /// Statements prepared on this connection, by their SQL.
    statements: Mutex<Vec<(&'static str, Statement)>>,
}

impl Pipelined {
    /// A lane of `per_thread` connections for every thread that reads on it, opened with the
    /// pool's `options`, the password of `url` (else `PGPASSWORD`) and no TLS.
    pub fn new(options: &PgConnectOptions, url: &str, per_thread: usize, connect_timeout: Duration) -> Self {
        let mut config = pg::Config::new();
        match options.get_socket() {
            Some(dir) => config.host_path(dir),
            None => config.host(options.get_host()),
        };
        config
            .port(options.get_port())
            .user(options.get_username())
            .ssl_mode(pg::config::SslMode::Disable)
            .connect_timeout(connect_timeout)
            .application_name(options.get_application_name().unwrap_or("agentry lane"));
        if let Some(db) = options.get_database() {
            config.dbname(db);
        }
        if let Some(opts) = options.get_options() {
            config.options(opts);
        }
        if let Some(password) = password(url) {
            config.password(password);
        }
        Self {
            inner: Arc::new(Inner {
                config,
                per_thread: per_thread.max(1),
                threads: Mutex::new(HashMap::new()),
                refused: AtomicBool::new(false),
            }),
        }
    }

    /// Whether PostgreSQL refused the lane's credentials (it is then not used).
    pub fn refused(&self) -> bool {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// Connections open now, on every thread.
    pub fn open(&self) -> usize {
        self.inner
            .lock()
            .values()
            .flat_map(|t| &t.slots)
            .filter(|slot| slot.conn.get().is_some_and(|c| !c.client.is_closed()))
            .count()
    }

    /// Runs `sql` (prepared once per connection) with `params` on one of this thread's
    /// connections: at most one row.
    pub async fn query_opt(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>, DbErr> {
        let (slot, conn, statement) = self.prepared(sql).await?;
        conn.client
            .query_opt(&statement, params)
            .await
            .map_err(|err| self.failed(&slot, err))
    }

    /// Runs `sql` (prepared once per connection) with `params` on one of this thread's
    /// connections: every row.
    pub async fn query(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, DbErr> {
        let (slot, conn, statement) = self.prepared(sql).await?;
        conn.client
            .query(&statement, params)
            .await
            .map_err(|err| self.failed(&slot, err))
    }

    /// One of this thread's connections (opened if need be) and `sql` prepared on it.
    async fn prepared(&self, sql: &'static str) -> Result<(Arc<Slot>, Arc<Conn>, Statement), DbErr> {
        let slot = self.slot();
        let conn = slot
            .conn
            .get_or_try_init(|| self.inner.connect())
            .await
            .map_err(|err| self.connect_failed(&slot, err))?;
        let statement = match conn.statement(sql) {
            Some(statement) => statement,
            None => {
                let statement = conn.client.prepare(sql).await.map_err(|err| self.failed(&slot, err))?;
                conn.remember(sql, statement.clone());
                statement
            }
        };
        let conn = Arc::clone(conn);
        Ok((slot, conn, statement))
    }

    /// This thread's next connection slot (a fresh one in place of a closed connection).
    fn slot(&self) -> Arc<Slot> {
        let here = std::thread::current().id();
        let mut threads = self.inner.lock();
        let thread = threads.entry(here).or_insert_with(|| Thread {
            slots: (0..self.inner.per_thread).map(|_| Arc::default()).collect(),
            next: 0,
        });
        let i = thread.next;
        thread.next = if i + 1 == thread.slots.len() { 0 } else { i + 1 };
        if thread.slots[i].conn.get().is_some_and(|c| c.client.is_closed()) {
            thread.slots[i] = Arc::default();
        }
        Arc::clone(&thread.slots[i])
    }

    /// Forgets `slot`'s connection if it broke, and says what failed.
    fn failed(&self, slot: &Arc<Slot>, err: pg::Error) -> DbErr {
        if err.is_closed() || slot.conn.get().is_some_and(|c| c.client.is_closed()) {
            self.forget(slot);
        }
        error(err)
    }

    /// A connection could not be opened: 503, and for good when the credentials were refused.
    fn connect_failed(&self, slot: &Arc<Slot>, err: pg::Error) -> DbErr {
        self.forget(slot);
        let class = err.code().map(|c| &c.code()[..2]);
        if class == Some("28") && !self.inner.refused.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %err, "PostgreSQL refused the pipelined read lane's credentials; reads by id use the direct lane");
        }
        DbErr::Conn(RuntimeErr::Internal(format!("the read lane cannot connect: {err}")))
    }

    fn forget(&self, slot: &Arc<Slot>) {
        let mut threads = self.inner.lock();
        for thread in threads.values_mut() {
            for s in &mut thread.slots {
                if Arc::ptr_eq(s, slot) {
                    *s = Arc::default();
                }
            }
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ThreadId, Thread>> {
        self.threads.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn connect(&self) -> Result<Arc<Conn>, pg::Error> {
        let (client, connection) = self.config.connect(NoTls).await?;
        // Driven by this thread's runtime, like the thread's other sockets.
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "a pipelined read lane connection ended");
            }
        });
        Ok(Arc::new(Conn {
            client,
            statements: Mutex::new(Vec::new()),
        }))
    }
}

impl Conn {
    fn statement(&self, sql: &str) -> Option<Statement> {
        let statements = self.statements.lock().unwrap_or_else(PoisonError::into_inner);
        statements.iter().find(|(s, _)| *s == sql).map(|(_, st)| st.clone())
    }

    fn remember(&self, sql: &'static str, statement: Statement) {
        let mut statements = self.statements.lock().unwrap_or_else(PoisonError::into_inner);
        if !statements.iter().any(|(s, _)| *s == sql) {
            statements.push((sql, statement));
        }
    }
}

/// A statement's error as sea-orm would report it, so [`crate::Error`] classifies it alike:
/// a lost connection, or PostgreSQL refusing work for now (SQLSTATE `08…`, `57P01`–`57P03`),
/// is "unavailable" (503); anything else an internal error.
pub fn error(err: pg::Error) -> DbErr {
    let code = err.code().map(pg::error::SqlState::code);
    let unavailable = err.is_closed()
        || code.is_some_and(|c| c.starts_with("08") || matches!(c, "57P01" | "57P02" | "57P03"))
        || (code.is_none() && std::error::Error::source(&err).is_some_and(|s| s.is::<std::io::Error>()));
    if unavailable {
        DbErr::Conn(RuntimeErr::Internal(err.to_string()))
    } else {
        DbErr::Query(RuntimeErr::Internal(err.to_string()))
    }
}

/// The password of a `postgres://user:password@…` URL (percent-decoded), else `PGPASSWORD`.
fn password(url: &str) -> Option<String> {
    let from_url = url::Url::parse(url).ok().and_then(|u| {
        u.password()
            .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned())
    });
    from_url.or_else(|| std::env::var("PGPASSWORD").ok())
}

#[cfg(test)]
mod tests {
    use super::password;

    #[test]
    fn the_password_comes_from_the_url_percent_decoded() {
        assert_eq!(password("postgres://u:p%40ss%2Fw@h:5432/db").as_deref(), Some("p@ss/w"));
        assert_eq!(
            password("postgres://u:secret@h/db?sslmode=disable").as_deref(),
            Some("secret")
        );
    }
}
