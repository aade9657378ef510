//! What can go wrong with an outbound call; every message may be shown to a model
//! (it never holds a header value).

use std::time::Duration;

/// Why an outbound call got no answer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The host is, or resolves only to, addresses the guard refuses.
    #[error("refused: {host} is an internal address")]
    Refused {
        /// The host as written in the URL.
        host: String,
    },
    /// The call (connect, response head and body together) took longer than its limit.
    #[error("timed out after {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The URL cannot be called (not http or https, no host, unparsable).
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// A header name or value cannot be sent; names the header, never its value.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// No connection or no response: DNS failure, refused connection, TLS error, reset.
    #[error("could not connect: {0}")]
    Connect(String),
    /// The response body broke off.
    #[error("the response body could not be read: {0}")]
    Body(String),
    /// The HTTP client could not be built (TLS set-up).
    #[error("could not build the outbound HTTP client: {0}")]
    Client(String),
}

/// An error and its causes on one line, each cause once.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
