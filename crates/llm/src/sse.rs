//! Server-Sent Events read off a response body, with an idle timeout between chunks.

use std::time::Duration;

use futures_util::Stream;

use crate::LlmError;
use crate::error::describe;

/// A line longer than this is not an SSE stream we can use (a cap on the buffer).
const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` name, if the server sent one.
    pub(crate) event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub(crate) data: String,
}

/// Incremental SSE parser: feed it bytes as they arrive, take complete events out.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    line: Vec<u8>,
    /// A `\r` ended the last line; a `\n` right after it belongs to the same line break.
    after_cr: bool,
    event: Option<String>,
    data: Option<String>,
}

impl SseDecoder {
    /// Consumes a chunk, returning every event it completes.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, LlmError> {
        let mut events = Vec::new();
        for &byte in bytes {
            if std::mem::take(&mut self.after_cr) && byte == b'\n' {
                continue;
            }
            match byte {
                b'\r' | b'\n' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(event) = self.end_line(&line)? {
                        events.push(event);
                    }
                }
                _ if self.line.len() >= MAX_LINE_BYTES => {
                    return Err(LlmError::Protocol("a stream line is too long".into()));
                }
                _ => self.line.push(byte),
            }
        }
        Ok(events)
    }

    /// The event whose lines were complete when the body ended without a final blank line.
    pub(crate) fn finish(&mut self) -> Option<SseEvent> {
        self.dispatch()
    }

    fn end_line(&mut self, raw: &[u8]) -> Result<Option<SseEvent>, LlmError> {
        let line =
            std::str::from_utf8(raw).map_err(|_| LlmError::Protocol("a stream line is not valid UTF-8".into()))?;
        if line.is_empty() {
            return Ok(self.dispatch());
        }
        if line.starts_with(':') {
            return Ok(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        Ok(None)
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        self.data.take().map(|data| SseEvent { event, data })
    }
}

/// The events of a streaming response; `Timeout` when no chunk arrives within `idle_timeout`,
/// `Protocol` when the connection breaks mid-body.
pub(crate) fn events(
    mut response: reqwest::Response,
    idle_timeout: Duration,
) -> impl Stream<Item = Result<SseEvent, LlmError>> + Send + 'static {
    async_stream::try_stream! {
        let mut decoder = SseDecoder::default();
        loop {
            let chunk = match tokio::time::timeout(idle_timeout, response.chunk()).await {
                Err(_) => Err(LlmError::Timeout)?,
                Ok(Err(err)) if err.is_timeout() => Err(LlmError::Timeout)?,
                Ok(Err(err)) => Err(LlmError::Protocol(format!(
                    "the stream was cut short: {}",
                    describe(&err.without_url())
                )))?,
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            for event in decoder.push(&chunk)? {
                yield event;
            }
        }
        if let Some(event) = decoder.finish() {
            yield event;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        for chunk in chunks {
            events.extend(decoder.push(chunk).expect("valid stream"));
        }
        events.extend(decoder.finish());
        events
    }

    fn event(name: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: name.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    #[test]
    fn events_split_across_chunks_and_line_endings() {
        let events = decode(&[
            b"event: a\r\nda",
            b"ta: 1\r",
            b"\n\r\n: comment\ndata:2\n",
            b"data: 3\n\n",
        ]);
        assert_eq!(events, vec![event(Some("a"), "1"), event(None, "2\n3")]);
    }

    #[test]
    fn multibyte_characters_split_across_chunks_survive() {
        let text = "data: héllo\n\n".as_bytes();
        let events = decode(&[&text[..8], &text[8..]]);
        assert_eq!(events, vec![event(None, "héllo")]);
    }

    #[test]
    fn an_unterminated_last_line_is_dropped_but_complete_lines_are_kept() {
        assert_eq!(decode(&[b"data: [DONE]\n"]), vec![event(None, "[DONE]")]);
        assert_eq!(decode(&[b"data: {\"cut"]), vec![]);
    }

    #[test]
    fn invalid_utf8_is_a_protocol_error() {
        let mut decoder = SseDecoder::default();
        assert!(matches!(decoder.push(b"data: \xff\n\n"), Err(LlmError::Protocol(_))));
    }
}
