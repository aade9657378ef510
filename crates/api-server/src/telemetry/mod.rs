//! Logging set-up.

#[cfg(test)]
mod capture;
mod fields;
mod request;

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use self::request::{Shape, WithRequest};

use crate::config::LogFormat;

/// The filter when `RUST_LOG` is unset.
const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Installs the global subscriber: `RUST_LOG` filters (default [`DEFAULT_FILTER`]),
/// `LOG_FORMAT` picks the format. Colours only when standard output (the log's writer) is a
/// terminal: escape codes are noise in a file or a collector, and writing them around every
/// field of every request span was a measurable part of a cheap request's cost; without
/// colours, fields are written by [`fields::PlainFields`] (the same text, cheaper). Lines
/// written while a request is handled carry its id, method and path ([`WithRequest`]).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let terminal = std::io::stdout().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(terminal);
    let text = || {
        WithRequest::new(
            tracing_subscriber::fmt::format().compact().with_ansi(terminal),
            Shape::Text,
        )
    };
    let _ = match format {
        LogFormat::Json => {
            let json = tracing_subscriber::fmt::format()
                .json()
                .flatten_event(true)
                .with_current_span(true);
            builder
                .json()
                .event_format(WithRequest::new(json, Shape::Json))
                .try_init()
        }
        LogFormat::Pretty if terminal => builder.compact().event_format(text()).try_init(),
        LogFormat::Pretty => builder
            .compact()
            .fmt_fields(fields::PlainFields)
            .event_format(text())
            .try_init(),
    };
}
