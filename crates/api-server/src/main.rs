//! `api-server`: serve (default), migrate, create-superuser, openapi.

use anyhow::Context;
use api_server::cli::{Cli, Command, MigrateAction};
use api_server::{AppState, Config, db, server, telemetry};
use clap::Parser;
use migration::{Migrator, MigratorTrait};

fn main() -> std::process::ExitCode {
    // Before the runtime starts any thread (see `alloc`).
    api_server::alloc::cap_arenas();
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        // Needs neither configuration nor a database.
        Command::Openapi => {
            let doc = api_server::app::openapi();
            say(doc.to_pretty_json().context("serializing the OpenAPI document")?)?;
            Ok(())
        }
        Command::Serve => {
            let (config, conn) = configure().await?;
            serve(config, conn).await
        }
        Command::Migrate { action } => {
            let (_, conn) = configure().await?;
            migrate(&conn, action).await
        }
        Command::CreateSuperuser { email, password } => {
            let (config, conn) = configure().await?;
            db::migrate(&conn).await?;
            let state = AppState::build(config, conn, None)?;
            let created = state
                .users
                .ensure_superuser(&email, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            say(if created {
                "superuser created"
            } else {
                "a user with this email already exists"
            })?;
            Ok(())
        }
    }
}

/// Reads and checks the configuration, starts logging and connects to the database.
async fn configure() -> anyhow::Result<(Config, sea_orm::DatabaseConnection)> {
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    let warnings = config.check().map_err(|e| anyhow::anyhow!("refusing to start: {e}"))?;
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    let conn = db::connect(&config).await?;
    Ok((config, conn))
}

async fn serve(config: Config, conn: sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let host = config.host.clone();
    let port = config.port;
    let state = AppState::build(config, conn, None)?;
    server::prepare(&state).await?;
    let (running, addr) = server::start(state.clone(), (&host, port))?;
    let handle = running.handle();
    let mut serving = tokio::spawn(running);
    tracing::info!("listening on http://{addr} (Swagger UI at http://{addr}/docs/)");
    tokio::select! {
        result = &mut serving => return result.context("server task")?.context("server error"),
        signal = server::until_signal() => signal?,
    }
    tracing::info!("stopping: answering in-flight requests, letting runs finish");
    server::shutdown(&state, handle).await;
    serving.await.context("server task")?.context("server error")?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(conn: &sea_orm::DatabaseConnection, action: MigrateAction) -> anyhow::Result<()> {
    match action {
        MigrateAction::Up => Migrator::up(conn, None).await?,
        MigrateAction::Down { steps } => Migrator::down(conn, Some(steps)).await?,
        MigrateAction::Fresh => Migrator::fresh(conn).await?,
        MigrateAction::Status => {
            for m in Migrator::get_applied_migrations(conn).await? {
                say(format_args!("applied  {}", m.name()))?;
            }
            for m in Migrator::get_pending_migrations(conn).await? {
                say(format_args!("pending  {}", m.name()))?;
            }
        }
    }
    Ok(())
}

/// Writes one line of the CLI's answer to standard output (logs go to standard error).
fn say(line: impl std::fmt::Display) -> anyhow::Result<()> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}").context("writing to standard output")
}
