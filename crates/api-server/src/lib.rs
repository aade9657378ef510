//! The Agentry server: configuration, wiring of the domain crates, middleware, OpenAPI
//! document and Swagger UI. It holds no business rules and no SQL of its own.

pub mod alloc;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod examples;
pub mod fallback;
pub mod health;
pub mod middleware;
pub mod openapi;
pub mod server;
pub mod state;
pub mod telemetry;

pub use config::Config;
pub use state::AppState;
