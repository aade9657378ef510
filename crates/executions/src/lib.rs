//! Background agent runs: the `executions` and `execution_events` tables, their DTOs,
//! [`ExecutionService`] (start, read, list, cancel, watch), the [`Runner`] that claims
//! queued executions and streams the agent's answer into the event log, the [`Broker`]
//! that fans stored events out to live watchers (in process, and across replicas through
//! PostgreSQL `LISTEN/NOTIFY`) and (feature `http`) the routes and the WebSocket stream.

pub mod actions;
pub mod broker;
pub mod chat_stream;
pub mod config;
pub mod direct;
pub mod entities;
pub mod error;
pub mod events;
pub mod feed;
mod replay;
pub mod runner;
pub mod schemas;
pub mod service;
pub mod stateless;
pub mod status;
mod store;
pub mod turn;
mod writer;

#[cfg(feature = "http")]
pub mod router;

pub use broker::Broker;
pub use config::RunnerConfig;
pub use direct::{DirectAnswer, DirectStep, StatelessAnswer};
pub use error::ExecutionError;
pub use events::{Event, ExecutionEvent};
pub use feed::{EventFeed, EventFrame};
pub use runner::{Runner, ToolRuntime};
pub use service::{ExecutionService, MessageTarget, Reply};
pub use stateless::StatelessRun;
pub use status::ExecutionStatus;
pub use turn::UserTurn;
