//! [`WithRequest`]: every log line written while a request is handled carries that request's
//! id, method and path.
//!
//! They used to ride on a tracing span per request, whose creation, entry and exit on every
//! poll and closing were ~7 % of a cheap request's CPU (a `perf` profile of `/health`, see
//! `docs/benchmarks.md`), paid even when the request logged nothing. Now the request-id
//! middleware only sets [`RequestContext`] for the request's task (which error rendering
//! reads anyway), and this formatter adds its fields to the lines that are written: plain
//! text gets ` request_id=… method=… path=…` at the end (where the span's fields were),
//! JSON gets a `"request": {"request_id", "method", "path"}` member. A line written outside
//! a request is the inner formatter's, unchanged.

use std::fmt;

use kernel::context::RequestContext;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How the request's fields are added to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `name=value` pairs at the end of the line.
    Text,
    /// A `request` member of the line's JSON object.
    Json,
}

/// An event formatter adding the current request's fields to `inner`'s lines (see the module).
#[derive(Debug, Clone)]
pub struct WithRequest<F> {
    inner: F,
    shape: Shape,
}

impl<F> WithRequest<F> {
    /// `inner`'s lines, with the request's fields in `shape`.
    pub fn new(inner: F, shape: Shape) -> Self {
        Self { inner, shape }
    }
}

impl<S, N, F> FormatEvent<S, N> for WithRequest<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let written = RequestContext::with_current(|request| {
            // The inner line, then the request's fields spliced in (a line is written
            // rarely; a request is handled on every call).
            let mut line = String::with_capacity(256);
            self.inner.format_event(ctx, Writer::new(&mut line), event)?;
            let body = line.strip_suffix('\n').unwrap_or(&line);
            match self.shape {
                Shape::Text => {
                    writer.write_str(body)?;
                    write_text(&mut writer, request)?;
                }
                Shape::Json => match body.strip_prefix('{') {
                    Some(members) => {
                        writer.write_char('{')?;
                        write_json(&mut writer, request)?;
                        if members.trim_start() != "}" {
                            writer.write_char(',')?;
                        }
                        writer.write_str(members)?;
                    }
                    None => writer.write_str(body)?,
                },
            }
            writer.write_char('\n')
        });
        match written {
            Some(result) => result,
            None => self.inner.format_event(ctx, writer, event),
        }
    }
}

/// ` request_id=… method=… path=…`; values with a space, a quote or a control character
/// are quoted and escaped, like the log's other string fields.
fn write_text(writer: &mut Writer<'_>, request: &RequestContext) -> fmt::Result {
    for (name, value) in [
        ("request_id", request.request_id.as_str()),
        ("method", &request.method),
        ("path", request.path.as_str()),
    ] {
        write!(writer, " {name}=")?;
        if value.chars().any(|c| c == ' ' || c == '"' || c.is_control()) {
            write!(writer, "{value:?}")?;
        } else {
            writer.write_str(value)?;
        }
    }
    Ok(())
}

/// `"request":{"request_id":…,"method":…,"path":…}`.
fn write_json(writer: &mut Writer<'_>, request: &RequestContext) -> fmt::Result {
    let member = serde_json::json!({
        "request_id": request.request_id,
        "method": request.method,
        "path": request.path,
    });
    write!(writer, "\"request\":{member}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::capture::Capture;

    fn request() -> RequestContext {
        RequestContext {
            request_id: "3f2a".into(),
            method: "GET".into(),
            path: "/api/v1/agents/a b\"c".into(),
        }
    }

    /// Logs `log` inside a request's scope and outside it, in `shape`.
    fn logged(shape: Shape, log: fn()) -> (String, String) {
        let capture = Capture::default();
        let builder = tracing_subscriber::fmt().with_writer(capture.clone()).with_ansi(false);
        let subscriber: Box<dyn Subscriber + Send + Sync> = match shape {
            Shape::Text => Box::new(
                builder
                    .compact()
                    .fmt_fields(crate::telemetry::fields::PlainFields)
                    .event_format(WithRequest::new(
                        tracing_subscriber::fmt::format().compact().with_ansi(false),
                        shape,
                    ))
                    .finish(),
            ),
            Shape::Json => Box::new(
                builder
                    .json()
                    .event_format(WithRequest::new(
                        tracing_subscriber::fmt::format()
                            .json()
                            .flatten_event(true)
                            .with_current_span(true),
                        shape,
                    ))
                    .finish(),
            ),
        };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(request().scope(async move { log() }));
            log();
        });
        let text = capture.text();
        let mut lines = text.lines().map(str::to_owned);
        (lines.next().unwrap_or_default(), lines.next().unwrap_or_default())
    }

    #[test]
    fn text_lines_of_a_request_end_with_its_fields() {
        let (inside, outside) = logged(Shape::Text, || tracing::warn!(user = "ann", "login refused"));
        assert!(
            inside.ends_with(r#"login refused user="ann" request_id=3f2a method=GET path="/api/v1/agents/a b\"c""#),
            "{inside}"
        );
        assert!(outside.ends_with(r#"login refused user="ann""#), "{outside}");
    }

    #[test]
    fn json_lines_of_a_request_have_a_request_member() {
        let (inside, outside) = logged(Shape::Json, || tracing::warn!(user = "ann", "login refused"));
        let inside: serde_json::Value = serde_json::from_str(&inside).unwrap();
        assert_eq!(
            inside["request"],
            serde_json::json!({"request_id": "3f2a", "method": "GET", "path": "/api/v1/agents/a b\"c"})
        );
        assert_eq!(inside["user"], "ann");
        assert_eq!(inside["message"], "login refused");
        let outside: serde_json::Value = serde_json::from_str(&outside).unwrap();
        assert_eq!(outside.get("request"), None);
        assert_eq!(outside["user"], "ann");
    }
}
