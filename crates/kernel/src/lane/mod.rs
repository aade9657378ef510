//! [`Lane`]: PostgreSQL connections beside the pool for one-statement reads on the hot path
//! (`GET /agents/{id}` and every "is this the caller's live agent" check).
//!
//! sqlx's pool takes every connection back through a spawned task that first *pings* it (a
//! `Sync` message and its `ReadyForQuery`: a second round trip per checkout, during which
//! the connection serves nobody). For a request that runs one primary-key read, that
//! doubles what PostgreSQL is woken for and keeps connections busy for nothing; under load
//! requests queue for the pool while a core idles (see `docs/benchmarks.md`).
//!
//! Two kinds of lane, one seam:
//! - [`Pipelined`] (tokio-postgres, no TLS): one connection per thread shared by the
//!   thread's concurrent reads, pipelined; used when the URL says `sslmode=disable` (or
//!   `allow`);
//! - [`Direct`] (sqlx, the pool's options and TLS): a few connections, one read at a time
//!   each, without the ping; used otherwise, and when PostgreSQL refuses the pipelined
//!   lane's credentials.
//!
//! Only for PostgreSQL ([`Lane::for_db`] gives `None` on any other backend); writes and
//! transactions stay on the pool.

mod direct;
mod pipelined;

use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgSslMode;

pub use direct::{Direct, Lease, query_err};
pub use pipelined::{Pipelined, error as pg_error, pg};

/// How many connections a [`Lane`] may open.
#[derive(Debug, Clone, Copy)]
pub struct LaneSize {
    /// Connections of the direct lane (TLS): at most this many at once; 0: no lane at all.
    pub direct: u32,
    /// Connections of the pipelined lane per thread that reads on it; 0: no pipelined lane.
    pub per_thread: u32,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
}

/// The read lane of a PostgreSQL database; cheap to clone (shared).
#[derive(Clone)]
pub struct Lane {
    pipelined: Option<Pipelined>,
    direct: Direct,
}

impl Lane {
    /// The lane for `db` (whose pool was opened from `url`): pipelined when the URL turns TLS
    /// off, else direct; `None` unless `db` is PostgreSQL, or when `size.direct` is 0.
    pub fn for_db(db: &DatabaseConnection, url: &str, size: LaneSize) -> Option<Self> {
        let direct = Direct::for_db(db, size.direct)?;
        let options = db.get_postgres_connection_pool().connect_options();
        let plain = matches!(options.get_ssl_mode(), PgSslMode::Disable | PgSslMode::Allow);
        let pipelined = (plain && size.per_thread > 0)
            .then(|| Pipelined::new(&options, url, size.per_thread as usize, size.connect_timeout));
        Some(Self { pipelined, direct })
    }

    /// A lane whose reads are pipelined, without TLS whatever the URL says (tests, and URLs
    /// whose TLS mode is known not to matter); `None` unless `db` is PostgreSQL.
    pub fn pipelined_without_tls(db: &DatabaseConnection, url: &str, size: LaneSize) -> Option<Self> {
        let direct = Direct::for_db(db, size.direct.max(1))?;
        let options = db.get_postgres_connection_pool().connect_options();
        let pipelined = Pipelined::new(&options, url, size.per_thread.max(1) as usize, size.connect_timeout);
        Some(Self {
            pipelined: Some(pipelined),
            direct,
        })
    }

    /// A lane whose reads always take the direct connections (`size` at most), whatever the
    /// URL's TLS mode; `None` unless `db` is PostgreSQL.
    pub fn direct_only(db: &DatabaseConnection, size: u32) -> Option<Self> {
        Some(Self {
            pipelined: None,
            direct: Direct::for_db(db, size)?,
        })
    }

    /// The pipelined lane, unless there is none or PostgreSQL refused its credentials.
    pub fn pipelined(&self) -> Option<&Pipelined> {
        self.pipelined.as_ref().filter(|p| !p.refused())
    }

    /// The direct lane.
    pub fn direct(&self) -> &Direct {
        &self.direct
    }
}
