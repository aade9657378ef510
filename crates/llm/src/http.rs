//! The HTTP side of the remote providers: the client (rustls on ring) and a JSON endpoint
//! with timeouts, bounded retries and error-message extraction.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::describe;
use crate::retry::{RetryPolicy, is_retryable, retry_after};
use crate::{LlmConfig, LlmError};

/// An upstream message longer than this is cut (an HTML error page from a proxy, say).
const MAX_ERROR_MESSAGE_CHARS: usize = 500;

/// The HTTP client every remote provider shares (one connection pool).
pub(crate) fn build_client(config: &LlmConfig) -> Result<reqwest::Client, LlmError> {
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .user_agent(concat!("agentry-llm/", env!("CARGO_PKG_VERSION")))
        .tls_backend_preconfigured(tls_config()?)
        .build()
        .map_err(|err| LlmError::transport(format!("could not build the HTTP client: {}", describe(&err))))
}

/// TLS on the `ring` provider, the server's one setup (`outbound::tls`).
fn tls_config() -> Result<rustls::ClientConfig, LlmError> {
    outbound::tls::client_tls().map_err(|err| LlmError::transport(format!("could not configure TLS: {err}")))
}

/// A header value holding a secret: hidden from `Debug` and from HTTP/2 header compression.
pub(crate) fn secret_header(value: &str) -> Result<HeaderValue, LlmError> {
    let mut header = HeaderValue::from_str(value)
        .map_err(|_| LlmError::transport("the API key contains characters not allowed in an HTTP header"))?;
    header.set_sensitive(true);
    Ok(header)
}

/// How the body of a successful answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyMode {
    /// At once; the request timeout bounds the whole exchange.
    Whole,
    /// As a stream; the request timeout bounds the wait for the response head only.
    Stream,
}

/// A provider's JSON POST endpoint: URL, headers, limits and the secret to keep out of errors.
#[derive(Clone)]
pub(crate) struct JsonEndpoint {
    client: reqwest::Client,
    /// Parsed once: parsing it per request cost ~5 % of a `/v1` completion's CPU.
    url: reqwest::Url,
    headers: HeaderMap,
    secret: Option<String>,
    /// Limit of a whole call, of the wait for a response head, and of a gap between chunks.
    pub(crate) timeout: Duration,
    retry: RetryPolicy,
    provider: &'static str,
}

impl std::fmt::Debug for JsonEndpoint {
    /// Names the endpoint only: headers and the secret stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonEndpoint")
            .field("provider", &self.provider)
            .field("url", &self.url.as_str())
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// A failed attempt, and whether another one may help.
struct AttemptFailure {
    error: LlmError,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl JsonEndpoint {
    /// An endpoint of `provider` at `url`, sending `headers` on every request; an error
    /// naming the URL when it is none (a misconfigured base URL is refused at start).
    pub(crate) fn new(
        provider: &'static str,
        client: reqwest::Client,
        url: &str,
        mut headers: HeaderMap,
        secret: Option<String>,
        config: &LlmConfig,
    ) -> Result<Self, LlmError> {
        let url = reqwest::Url::parse(url)
            .map_err(|err| LlmError::transport(format!("the {provider} endpoint `{url}` is not a URL: {err}")))?;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(Self {
            client,
            url,
            headers,
            secret,
            timeout: config.request_timeout,
            retry: RetryPolicy {
                max_retries: config.max_retries,
                base_delay: config.retry_base_delay,
            },
            provider,
        })
    }

    /// `err` with this endpoint's secret blanked out.
    pub(crate) fn redact(&self, err: LlmError) -> LlmError {
        err.redact(self.secret.as_deref())
    }

    /// POSTs `body` and returns a 2xx response with its body unread. 429, 5xx and connection
    /// failures are retried with backoff; nothing is retried once a body is being read.
    pub(crate) async fn post(&self, body: &[u8], mode: BodyMode) -> Result<reqwest::Response, LlmError> {
        let mut retry = 0;
        loop {
            let failure = match self.attempt(body, mode).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            let delay = failure
                .retryable
                .then(|| self.retry.delay_before(retry, failure.retry_after))
                .flatten();
            let Some(delay) = delay else {
                return Err(self.redact(failure.error));
            };
            retry += 1;
            tracing::warn!(
                provider = self.provider,
                retry,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %self.redact(failure.error),
                "LLM request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, body: &[u8], mode: BodyMode) -> Result<reqwest::Response, AttemptFailure> {
        let mut request = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .body(body.to_vec());
        if mode == BodyMode::Whole {
            request = request.timeout(self.timeout);
        }
        let response = match tokio::time::timeout(self.timeout, request.send()).await {
            Err(_) => return Err(AttemptFailure::fatal(LlmError::Timeout)),
            Ok(Err(err)) => {
                let retryable = err.is_connect();
                return Err(AttemptFailure {
                    error: transport_error(err),
                    retryable,
                    retry_after: None,
                });
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = retry_after(response.headers());
        let body = match tokio::time::timeout(self.timeout, response.bytes()).await {
            Ok(Ok(body)) => body.to_vec(),
            Ok(Err(_)) | Err(_) => Vec::new(),
        };
        let error = LlmError::Upstream {
            status: Some(status.as_u16()),
            message: error_message(status, &body),
        };
        Err(AttemptFailure {
            error,
            retryable: is_retryable(status),
            retry_after,
        })
    }

    /// Reads a whole JSON body (after [`Self::post`] in [`BodyMode::Whole`]).
    pub(crate) async fn read_json<T: DeserializeOwned>(&self, response: reqwest::Response) -> Result<T, LlmError> {
        let body = response.bytes().await.map_err(|err| {
            if err.is_timeout() {
                LlmError::Timeout
            } else {
                LlmError::Protocol(format!("the response was cut short: {}", describe(&err.without_url())))
            }
        })?;
        serde_json::from_slice(&body).map_err(|err| LlmError::Protocol(format!("unexpected response body: {err}")))
    }
}

impl AttemptFailure {
    fn fatal(error: LlmError) -> Self {
        Self {
            error,
            retryable: false,
            retry_after: None,
        }
    }
}

/// A request that got no answer: `Timeout` when a limit ran out, `Upstream` otherwise.
fn transport_error(err: reqwest::Error) -> LlmError {
    if err.is_timeout() {
        LlmError::Timeout
    } else {
        LlmError::transport(describe(&err.without_url()))
    }
}

/// The provider's own words from an error body: `error.message` (OpenAI, Anthropic),
/// a bare `error` string (Ollama) or `message`; else the body text; else the status reason.
pub(crate) fn error_message(status: StatusCode, body: &[u8]) -> String {
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        let message = json
            .pointer("/error/message")
            .or_else(|| json.get("error"))
            .or_else(|| json.get("message"))
            .and_then(Value::as_str);
        if let Some(message) = message {
            return message.to_owned();
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return status.canonical_reason().unwrap_or("no message").to_owned();
    }
    text.chars().take(MAX_ERROR_MESSAGE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_builds_with_the_preconfigured_ring_tls() {
        build_client(&LlmConfig::default()).expect("client builds");
    }

    #[test]
    fn error_messages_come_from_the_provider_body() {
        let status = StatusCode::TOO_MANY_REQUESTS;
        let openai = br#"{"error":{"message":"Rate limit reached","type":"requests"}}"#;
        assert_eq!(error_message(status, openai), "Rate limit reached");
        let anthropic = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(error_message(status, anthropic), "Overloaded");
        assert_eq!(
            error_message(status, br#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(error_message(status, b"  plain text  "), "plain text");
        assert_eq!(error_message(status, b""), "Too Many Requests");
    }
}
