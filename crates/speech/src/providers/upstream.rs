//! The HTTP side of the remote speech providers: one client (rustls on ring, the server's
//! `outbound::tls` setup), the wait for an answer bounded in time, error bodies turned into
//! the provider's own words, and audio streamed through with an idle timeout and a size cap.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use reqwest::header::{CONTENT_LENGTH, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::audio::SpokenAudio;
use crate::{AudioFormat, SpeechConfig, SpeechError};

/// Longest error message kept from an upstream body.
const MAX_ERROR_CHARS: usize = 300;
/// Largest JSON answer (a transcript) read from a provider.
const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

/// The HTTP client every remote speech provider shares (one connection pool).
pub(crate) fn build_client(config: &SpeechConfig) -> Result<reqwest::Client, SpeechError> {
    let tls = outbound::tls::client_tls().map_err(|e| SpeechError::Config(format!("could not configure TLS: {e}")))?;
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .user_agent(concat!("agentry-speech/", env!("CARGO_PKG_VERSION")))
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| SpeechError::Config(format!("could not build the speech HTTP client: {e}")))
}

/// A header value holding a secret: hidden from `Debug` and from header compression.
pub(crate) fn secret_header(provider: &str, value: &str) -> Result<HeaderValue, SpeechError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        SpeechError::Config(format!(
            "the {provider} API key holds characters not allowed in an HTTP header"
        ))
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// One provider's way out: its client, its name, its key (kept out of errors) and limits.
#[derive(Clone)]
pub(crate) struct Upstream {
    client: reqwest::Client,
    provider: &'static str,
    secret: Option<String>,
    timeout: Duration,
    max_bytes: usize,
}

impl Upstream {
    pub(crate) fn new(
        client: reqwest::Client,
        provider: &'static str,
        secret: Option<String>,
        config: &SpeechConfig,
    ) -> Self {
        Self {
            client,
            provider,
            secret,
            timeout: config.timeout,
            max_bytes: config.max_audio_bytes,
        }
    }

    /// A POST to `url`.
    pub(crate) fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.post(url)
    }

    fn fail(&self, message: impl Into<String>) -> SpeechError {
        SpeechError::upstream(self.provider, message).redact(self.secret.as_deref())
    }

    fn timed_out(&self) -> SpeechError {
        SpeechError::Timeout {
            provider: self.provider,
        }
    }

    /// Sends `request` and waits (at most the timeout) for a 2xx answer's head; an error
    /// answer becomes an upstream failure with the provider's message.
    pub(crate) async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, SpeechError> {
        let response = match tokio::time::timeout(self.timeout, request.send()).await {
            Err(_) => return Err(self.timed_out()),
            Ok(Err(err)) if err.is_timeout() => return Err(self.timed_out()),
            Ok(Err(err)) => return Err(self.fail(outbound::describe(&err.without_url()))),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = match tokio::time::timeout(self.timeout, read_capped(response, MAX_ERROR_CHARS * 16)).await {
            Ok(Ok(body)) => body,
            _ => Vec::new(),
        };
        Err(self.fail(format!(
            "answered {}: {}",
            status.as_u16(),
            error_message(status, &body)
        )))
    }

    /// The JSON body of `response`, read whole within the timeout.
    pub(crate) async fn json<T: DeserializeOwned>(&self, response: reqwest::Response) -> Result<T, SpeechError> {
        let body = tokio::time::timeout(self.timeout, read_capped(response, MAX_JSON_BYTES))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| self.fail(e))?;
        serde_json::from_slice(&body).map_err(|e| self.fail(format!("sent an unexpected answer: {e}")))
    }

    /// The audio of `response`, streamed on: each gap between chunks bounded by the timeout,
    /// the whole by `SPEECH_MAX_AUDIO_BYTES` (a longer answer is refused before the first
    /// byte when its length is declared, and cut otherwise).
    pub(crate) fn audio(&self, response: reqwest::Response, format: AudioFormat) -> Result<SpokenAudio, SpeechError> {
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.max_bytes as u64) {
            return Err(self.fail(format!("sent more than {} bytes of audio", self.max_bytes)));
        }
        let this = self.clone();
        let chunks = response.bytes_stream();
        let body = stream::unfold((chunks, 0_usize, false), move |(mut chunks, received, done)| {
            let this = this.clone();
            async move {
                if done {
                    return None;
                }
                let next = match tokio::time::timeout(this.timeout, chunks.next()).await {
                    Err(_) => Err(this.timed_out()),
                    Ok(None) => return None,
                    Ok(Some(Err(err))) => Err(this.fail(format!(
                        "the audio was cut short: {}",
                        outbound::describe(&err.without_url())
                    ))),
                    Ok(Some(Ok(chunk))) if received + chunk.len() > this.max_bytes => {
                        Err(this.fail(format!("sent more than {} bytes of audio", this.max_bytes)))
                    }
                    Ok(Some(Ok(chunk))) => Ok(chunk),
                };
                let received = received + next.as_ref().map_or(0, Bytes::len);
                let done = next.is_err();
                Some((next, (chunks, received, done)))
            }
        });
        Ok(SpokenAudio {
            format,
            length: None,
            body: Box::pin(body),
        })
    }
}

/// At most `limit` bytes of `response`'s body (an error past it).
async fn read_capped(response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| format!("the answer was cut short: {}", outbound::describe(&e.without_url())))?;
        if body.len() + chunk.len() > limit {
            return Err(format!("sent an answer larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The provider's own words from an error body: `error.message` (OpenAI), `detail.message`
/// or a `detail` string (ElevenLabs), `error` or `message`; else the text; else the reason.
pub(crate) fn error_message(status: reqwest::StatusCode, body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        let message = ["/error/message", "/detail/message", "/detail", "/error", "/message"]
            .iter()
            .find_map(|pointer| json.pointer(pointer).and_then(Value::as_str));
        if let Some(message) = message {
            return message.chars().take(MAX_ERROR_CHARS).collect();
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("no message").to_owned();
    }
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// `base` joined with `path` (one `/` between them).
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// `text` as a streamed multipart part (no copy of the bytes).
pub(crate) fn file_part(
    bytes: Bytes,
    filename: &str,
    content_type: &str,
) -> Result<reqwest::multipart::Part, SpeechError> {
    let length = bytes.len() as u64;
    reqwest::multipart::Part::stream_with_length(reqwest::Body::from(bytes), length)
        .file_name(filename.to_owned())
        .mime_str(content_type)
        .map_err(|e| SpeechError::Config(format!("the audio's media type: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_come_from_the_provider_body() {
        let status = reqwest::StatusCode::BAD_REQUEST;
        let openai = br#"{"error":{"message":"Invalid voice","type":"invalid_request_error"}}"#;
        assert_eq!(error_message(status, openai), "Invalid voice");
        let elevenlabs = br#"{"detail":{"status":"voice_not_found","message":"A voice with that id does not exist"}}"#;
        assert_eq!(error_message(status, elevenlabs), "A voice with that id does not exist");
        assert_eq!(
            error_message(status, br#"{"detail":"Not authenticated"}"#),
            "Not authenticated"
        );
        assert_eq!(error_message(status, b"  plain  "), "plain");
        assert_eq!(error_message(status, b""), "Bad Request");
    }

    #[test]
    fn urls_join_with_one_slash() {
        assert_eq!(join("http://x/v1/", "/audio/speech"), "http://x/v1/audio/speech");
        assert_eq!(join("http://x/v1", "audio/speech"), "http://x/v1/audio/speech");
    }
}
