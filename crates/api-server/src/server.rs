//! Starting and stopping the HTTP server.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::ServerHandle;
use anyhow::Context;

use crate::state::AppState;

/// Prepares the database (migrations unless `AUTO_MIGRATE=false`, the first superuser).
pub async fn prepare(state: &AppState) -> anyhow::Result<()> {
    if state.config.auto_migrate {
        crate::db::migrate(&state.db).await?;
    }
    if let (Some(email), Some(password)) = (
        state.config.first_superuser_email.as_deref(),
        state.config.first_superuser_password.as_deref(),
    ) && state
        .users
        .ensure_superuser(email, password)
        .await
        .context("creating the first superuser")?
    {
        tracing::info!(%email, "first superuser created");
    }
    Ok(())
}

/// Binds and starts serving; returns the bound address and the running server.
/// It does not watch for signals: [`shutdown`] stops it (see [`until_signal`]).
pub fn start(state: AppState, addr: (&str, u16)) -> anyhow::Result<(actix_web::dev::Server, SocketAddr)> {
    let workers = state
        .config
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let shutdown = state.config.shutdown_timeout();
    let limiter = std::sync::Arc::clone(&state.rate_limiter);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.forget_idle();
        }
    });
    tokio::spawn(purge_idempotency_keys(
        state.idempotency.clone(),
        state.background.clone().cancelled_owned(),
    ));
    if let Some(cache) = state.standing.clone() {
        let stop = state.background.clone().cancelled_owned();
        tokio::spawn(users::standing::relay(state.db.clone(), cache, stop));
    }
    let runner = state.runner.clone();
    let server = HttpServer::new(move || crate::app::build(state.clone()))
        .workers(workers)
        .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
        .disable_signals()
        // Streams (SSE, chunked chat completions) write small frames one after another:
        // with Nagle's algorithm each waited for the client's delayed ACK of the previous
        // one (~40 ms on Linux). actix keeps the OS default unless told.
        .tcp_nodelay(true)
        // `shutdown` ends streams at the grace deadline; this leaves time to flush their last frames.
        .shutdown_timeout(shutdown.as_secs() + FLUSH_SECS)
        .bind(addr)
        .with_context(|| format!("binding {}:{}", addr.0, addr.1))?;
    let bound = *server.addrs().first().context("the server bound no address")?;
    // Queued executions (left by a previous run too) are picked up from here on.
    runner.start();
    Ok((server.run(), bound))
}

/// Threads of each HTTP worker's blocking pool (file reads and writes of the local store,
/// DNS look-ups, audio decoding); more tasks queue. actix's default, 512 divided by the
/// cores, let 32 concurrent uploads start ~48 threads, each with its stack and malloc
/// state, ~18 MiB of RSS that stayed; the disk is no faster with more writers than this.
const BLOCKING_THREADS_PER_WORKER: usize = 4;

/// How often expired idempotency keys are deleted (a key past its TTL found by a request
/// is deleted at once as well).
const IDEMPOTENCY_PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Deletes expired idempotency keys every [`IDEMPOTENCY_PURGE_INTERVAL`] until `stop`.
async fn purge_idempotency_keys(
    store: kernel::idempotency::IdempotencyStore,
    stop: impl std::future::Future<Output = ()>,
) {
    let mut tick = tokio::time::interval(IDEMPOTENCY_PURGE_INTERVAL);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => match store.purge_expired().await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "expired idempotency keys deleted"),
                Err(err) => tracing::warn!(error = %err, "expired idempotency keys could not be deleted"),
            },
        }
    }
}

/// Seconds a stopping server gives open connections after the grace period, for the final
/// frames of the streams it ended.
const FLUSH_SECS: u64 = 1;

/// Resolves at SIGTERM or SIGINT (Ctrl-C).
pub async fn until_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            _ = term.recv() => {}
            result = tokio::signal::ctrl_c() => result.context("listening for SIGINT")?,
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.context("listening for Ctrl-C")?;
    Ok(())
}

/// Stops gracefully within one grace period (`SHUTDOWN_TIMEOUT_SECS`): no execution is
/// claimed from now on and no connection accepted; in-flight requests are answered and
/// running executions may finish meanwhile, concurrently. At the deadline the runs left are
/// marked `interrupted`, then open streams end with a final event (SSE: an `error` event;
/// WebSocket: the events published, then close 1001).
pub async fn shutdown(state: &AppState, http: ServerHandle) {
    let grace = state.config.shutdown_timeout();
    let deadline = tokio::time::Instant::now() + grace;
    state.shutdown.begin();
    state.runner.stop_claiming();
    let (runs_marked, marked) = tokio::sync::oneshot::channel::<()>();
    let streams = state.shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep_until(deadline).await;
        // The interrupted runs' final events go out before their watchers are closed.
        let _ = marked.await;
        streams.end_streams();
    });
    let runner = state.runner.clone();
    let runs = async move {
        runner.shutdown(grace).await;
        drop(runs_marked);
    };
    let http = async move {
        // Accept no new connection, but go on serving the open ones for a moment: a request
        // a client sent on a keep-alive connection just before the signal is still in the
        // socket, and actix's stop would close that "idle" connection without reading it.
        // Meanwhile every answer says `Connection: close` (see `middleware::request_context`).
        http.pause().await;
        tokio::time::sleep(DRAIN.min(grace)).await;
        http.stop(true).await;
    };
    tokio::join!(http, runs);
    state.background.cancel();
}

/// How long a stopping server keeps reading the connections it has before it closes the
/// idle ones (within the grace period).
const DRAIN: Duration = Duration::from_millis(500);
