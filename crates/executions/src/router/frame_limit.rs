//! [`FrameLimit`]: a guard on the bytes a WebSocket client sends, failing at once on a
//! frame whose header claims more than the limit.
//!
//! actix-http's frame parser checks a frame's size only once the whole frame has arrived,
//! so a header claiming 2^62 bytes made the server keep everything the client sent after
//! it. The guard reads each frame header as the bytes pass (they pass unchanged) and ends
//! the stream with [`PayloadError::Overflow`] before any such payload is buffered.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;

/// The longest frame header: 2 bytes, an 8-byte extended length, a 4-byte mask.
const HEADER_MAX: usize = 14;

/// Where the guard is in the client's frames.
enum State {
    /// Reading a header; `filled` bytes of it so far.
    Header { bytes: [u8; HEADER_MAX], filled: usize },
    /// Skipping a payload of this many more bytes.
    Payload { remaining: u64 },
    /// A frame was over the limit: the stream has failed.
    Refused,
}

/// The client's bytes, refused from the first frame longer than `limit` bytes.
pub(super) struct FrameLimit<S> {
    inner: S,
    limit: u64,
    state: State,
}

impl<S> FrameLimit<S> {
    /// Guards `inner` with a limit of `limit` payload bytes per frame.
    pub(super) fn new(inner: S, limit: u64) -> Self {
        Self {
            inner,
            limit,
            state: State::Header {
                bytes: [0; HEADER_MAX],
                filled: 0,
            },
        }
    }

    /// Follows the frames through `chunk`; `false` when a header claims too much.
    fn admits(&mut self, mut chunk: &[u8]) -> bool {
        while !chunk.is_empty() {
            match &mut self.state {
                State::Refused => return false,
                State::Payload { remaining } => {
                    let skipped = usize::try_from(*remaining).unwrap_or(usize::MAX).min(chunk.len());
                    chunk = &chunk[skipped..];
                    *remaining -= skipped as u64;
                    if *remaining == 0 {
                        self.state = State::Header {
                            bytes: [0; HEADER_MAX],
                            filled: 0,
                        };
                    }
                }
                State::Header { bytes, filled } => {
                    bytes[*filled] = chunk[0];
                    *filled += 1;
                    chunk = &chunk[1..];
                    let Some(length) = payload_length(&bytes[..*filled]) else {
                        continue;
                    };
                    self.state = if length > self.limit {
                        State::Refused
                    } else if length == 0 {
                        State::Header {
                            bytes: [0; HEADER_MAX],
                            filled: 0,
                        }
                    } else {
                        State::Payload { remaining: length }
                    };
                }
            }
        }
        !matches!(self.state, State::Refused)
    }
}

/// The payload length of a frame once `header` holds its whole header (RFC 6455 §5.2).
fn payload_length(header: &[u8]) -> Option<u64> {
    let second = *header.get(1)?;
    let (extended, mask) = (second & 0x7f, if second & 0x80 != 0 { 4 } else { 0 });
    let (length_bytes, length) = match extended {
        126 => (
            2,
            header
                .get(2..4)
                .map(|b| b.iter().fold(0, |n, &b| n << 8 | u64::from(b))),
        ),
        127 => (
            8,
            header
                .get(2..10)
                .map(|b| b.iter().fold(0, |n, &b| n << 8 | u64::from(b))),
        ),
        short => (0, Some(u64::from(short))),
    };
    (header.len() == 2 + length_bytes + mask).then_some(length?)
}

impl<S> Stream for FrameLimit<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if matches!(self.state, State::Refused) {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) if !self.admits(&chunk) => Poll::Ready(Some(Err(PayloadError::Overflow))),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> FrameLimit<futures_util::stream::Empty<Result<Bytes, PayloadError>>> {
        FrameLimit::new(futures_util::stream::empty(), 1024)
    }

    /// A masked client frame header announcing `length` bytes.
    fn header(length: u64) -> Vec<u8> {
        let mut header = vec![0x82];
        match length {
            0..=125 => header.push(0x80 | length as u8),
            126..=0xffff => {
                header.push(0x80 | 126);
                header.extend_from_slice(&(length as u16).to_be_bytes());
            }
            _ => {
                header.push(0x80 | 127);
                header.extend_from_slice(&length.to_be_bytes());
            }
        }
        header.extend_from_slice(&[1, 2, 3, 4]);
        header
    }

    #[test]
    fn frames_within_the_limit_pass_in_any_chunking() {
        let mut bytes = Vec::new();
        for length in [0, 5, 125, 126, 1000, 1024] {
            bytes.extend(header(length));
            bytes.extend(std::iter::repeat_n(7, length as usize));
        }
        for chunk_size in [1, 3, 14, 100, bytes.len()] {
            let mut guard = guard();
            assert!(
                bytes.chunks(chunk_size).all(|c| guard.admits(c)),
                "chunks of {chunk_size}"
            );
            assert!(matches!(guard.state, State::Header { filled: 0, .. }));
        }
    }

    #[test]
    fn a_header_claiming_too_much_is_refused_before_its_payload() {
        for length in [1025, 70_000, 1 << 62] {
            let mut guard = guard();
            assert!(guard.admits(&header(10)), "a small frame first");
            assert!(guard.admits(&[0; 10]));
            assert!(!guard.admits(&header(length)), "{length}");
            assert!(!guard.admits(&[0; 10]), "and it stays refused");
        }
    }
}
