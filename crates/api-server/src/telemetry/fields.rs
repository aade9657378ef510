//! [`PlainFields`]: how fields are written in the plain-text log when it is no terminal.
//!
//! `tracing-subscriber`'s default field formatter wraps each field name and `=` in colour
//! styles and formats them through `fmt` even when colours are off; a request span formatted
//! its three fields on every request (before the request's fields moved out of a span, see
//! [`super::request`]), and that was a tenth of a cheap request's instructions. This formatter writes the same
//! text (`name=value`, separated by spaces, the message first as given, with control
//! characters in messages and errors escaped) with plain string writes.

use std::fmt::{self, Debug, Write as _};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::Writer;

/// The field formatter (see the module).
#[derive(Debug, Clone, Copy, Default)]
pub struct PlainFields;

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = PlainVisitor::new(writer);
        fields.record(&mut visitor);
        visitor.finish()
    }
}

/// Writes one field after another.
struct PlainVisitor<'writer> {
    writer: Writer<'writer>,
    empty: bool,
    result: fmt::Result,
}

impl<'writer> PlainVisitor<'writer> {
    fn new(writer: Writer<'writer>) -> Self {
        Self {
            writer,
            empty: true,
            result: Ok(()),
        }
    }

    /// `name=` (nothing for the message), after a space unless this is the first field.
    fn start(&mut self, field: &Field) -> fmt::Result {
        if self.empty {
            self.empty = false;
        } else {
            self.writer.write_char(' ')?;
        }
        let name = field.name();
        if name != "message" {
            self.writer.write_str(name.strip_prefix("r#").unwrap_or(name))?;
            self.writer.write_char('=')?;
        }
        Ok(())
    }

    fn write(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'writer>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.start(field).and_then(|()| value(&mut self.writer));
        }
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, |w| Escaped(w).write_str(value));
        } else {
            self.write(field, |w| write!(w, "{value:?}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let name = field.name();
        self.write(field, |w| {
            write!(Escaped(&mut *w), "{value}")?;
            let mut source = value.source();
            if source.is_some() {
                write!(w, " {name}.sources=[")?;
            }
            let mut first = true;
            while let Some(cause) = source {
                if !first {
                    w.write_str(", ")?;
                }
                first = false;
                write!(Escaped(&mut *w), "{cause}")?;
                source = cause.source();
            }
            if !first {
                w.write_char(']')?;
            }
            Ok(())
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.write(field, |w| write!(Escaped(w), "{value:?}"));
        } else {
            self.write(field, |w| write!(w, "{value:?}"));
        }
    }
}

impl VisitOutput<fmt::Result> for PlainVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

/// Writes through to `W`, with control characters other than line breaks and tabs as
/// `\u{…}` escapes: a logged message cannot move a terminal's cursor or recolour the log.
struct Escaped<W>(W);

impl<W: fmt::Write> fmt::Write for Escaped<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(|c: char| c.is_control() && c != '\n' && c != '\t') {
            self.0.write_str(&rest[..at])?;
            let Some(c) = rest[at..].chars().next() else { break };
            write!(self.0, "\\u{{{:x}}}", u32::from(c))?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::PlainFields;
    use crate::telemetry::capture::Capture;

    fn logged(plain: bool, log: impl FnOnce()) -> String {
        let capture = Capture::default();
        let builder = tracing_subscriber::fmt()
            .with_writer(capture.clone())
            .with_ansi(false)
            .without_time()
            .compact();
        if plain {
            tracing::subscriber::with_default(builder.fmt_fields(PlainFields).finish(), log);
        } else {
            tracing::subscriber::with_default(builder.finish(), log);
        }
        capture.text()
    }

    #[derive(Debug, thiserror::Error)]
    #[error("query failed")]
    struct Outer(#[source] std::io::Error);

    /// The same lines as the default formatter without colours, for the fields Agentry logs.
    #[test]
    fn lines_read_as_the_default_formatter_writes_them() {
        let log = || {
            let span = tracing::info_span!("request", request_id = %"3f2a", method = %"GET", path = %"/health", status = tracing::field::Empty);
            let _entered = span.enter();
            span.record("status", 200_u16);
            tracing::warn!(user = "ann", attempts = 3, ok = false, ratio = 0.5, "login refused");
            tracing::warn!(
                error = &Outer(std::io::Error::other("disk full")) as &(dyn std::error::Error + 'static),
                "a failure"
            );
            tracing::info!(r#type = "x", "typed");
        };
        let plain = logged(true, log);
        assert_eq!(plain, logged(false, log));
        assert!(
            plain.contains(r#"request: api_server::telemetry::fields::tests: login refused user="ann" attempts=3 ok=false ratio=0.5 request_id=3f2a method=GET path=/health status=200"#),
            "{plain}"
        );
        assert!(
            plain.contains("a failure error=query failed error.sources=[disk full] request_id="),
            "{plain}"
        );
        assert!(plain.contains(r#"typed type="x" request_id="#), "{plain}");
    }

    #[test]
    fn control_characters_in_messages_are_escaped() {
        let plain = logged(true, || tracing::info!("red \u{1b}[31m bell \u{7} next\nline"));
        assert!(plain.contains(r"red \u{1b}[31m bell \u{7} next"), "{plain}");
        assert!(!plain.contains('\u{1b}'), "{plain}");
    }
}
