//! Logging set-up.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is unset. actix-web-prom warns on every request to a
/// tail-match route (each Swagger UI asset under `/docs/`) that it cannot shorten the route
/// pattern for its label; the metric is recorded anyway, so only its errors are kept.
const DEFAULT_FILTER: &str = "info,sqlx=warn,actix_web_prom=error";

/// Installs the global subscriber: `RUST_LOG` filters (default [`DEFAULT_FILTER`]),
/// `LOG_FORMAT` picks the format.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
