//! Logging set-up.

mod fields;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber: `RUST_LOG` filters (default [`DEFAULT_FILTER`]),
/// `LOG_FORMAT` picks the format. Colours only when standard output (the log's writer) is a
/// terminal: escape codes are noise in a file or a collector, and writing them around every
/// field of every request span was a measurable part of a cheap request's cost; without
/// colours, fields are written by [`fields::PlainFields`] (the same text, cheaper).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let terminal = std::io::stdout().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(terminal);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty if terminal => builder.compact().try_init(),
        LogFormat::Pretty => builder.compact().fmt_fields(fields::PlainFields).try_init(),
    };
}
