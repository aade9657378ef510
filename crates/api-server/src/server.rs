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
/// actix stops it gracefully on SIGINT/SIGTERM (in-flight requests get the configured grace period).
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
    if let Some(cache) = state.standing.clone() {
        let stop = state.background.clone().cancelled_owned();
        tokio::spawn(users::standing::relay(state.db.clone(), cache, stop));
    }
    let runner = state.runner.clone();
    let server = HttpServer::new(move || crate::app::build(state.clone()))
        .workers(workers)
        .shutdown_timeout(shutdown.as_secs())
        .bind(addr)
        .with_context(|| format!("binding {}:{}", addr.0, addr.1))?;
    let bound = *server.addrs().first().context("the server bound no address")?;
    // Queued executions (left by a previous run too) are picked up from here on.
    runner.start();
    Ok((server.run(), bound))
}

/// Stops the background work after the HTTP server stopped: running executions get the
/// shutdown grace period to finish, then are failed as `interrupted`.
pub async fn stop(state: &AppState) {
    state.background.cancel();
    state.runner.shutdown(state.config.shutdown_timeout()).await;
}

/// A handle to stop a server started with [`start`].
pub fn handle(server: &actix_web::dev::Server) -> ServerHandle {
    server.handle()
}
