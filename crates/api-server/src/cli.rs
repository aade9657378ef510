//! Command-line interface of the `api-server` binary.

use clap::{Parser, Subcommand};

/// Agentry: a backend for AI agent platforms.
#[derive(Debug, Parser)]
#[command(name = "api-server", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        /// Migration action.
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Create a superuser (or do nothing if the email is registered).
    CreateSuperuser {
        /// Email address.
        #[arg(long, env = "FIRST_SUPERUSER_EMAIL")]
        email: String,
        /// Password (at least 8 characters, at most 72 bytes); prefer the environment variable over the command line.
        #[arg(long, env = "FIRST_SUPERUSER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Print the OpenAPI document (JSON) without starting the server.
    Openapi,
}

/// Schema actions.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Roll back the last `steps` migrations (default 1).
    Down {
        /// How many to roll back.
        #[arg(default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
    /// Drop every table and apply all migrations again (destroys data).
    Fresh,
}
