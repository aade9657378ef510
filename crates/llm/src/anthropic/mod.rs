//! The Anthropic Messages API.

mod stream;
mod wire;

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{DEFAULT_ANTHROPIC_BASE_URL, non_empty};
use crate::http::{BodyMode, JsonEndpoint, build_client, secret_header};
use crate::{ChatRequest, ChatResponse, LlmConfig, LlmError, Provider, StreamEvent, sse};

use self::stream::{Progress, StreamAssembler};
use self::wire::{MessagesResponse, request_body};

/// The `anthropic` provider: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version`.
#[derive(Debug, Clone)]
pub struct AnthropicProvider {
    endpoint: Arc<JsonEndpoint>,
}

impl AnthropicProvider {
    /// A provider for `config`'s Anthropic base URL (default `https://api.anthropic.com`), key and version.
    pub fn new(config: &LlmConfig) -> Result<Self, LlmError> {
        Self::with_client(build_client(config)?, config)
    }

    /// The same, sharing an existing HTTP client.
    pub(crate) fn with_client(client: reqwest::Client, config: &LlmConfig) -> Result<Self, LlmError> {
        let base = non_empty(&config.anthropic_base_url).unwrap_or(DEFAULT_ANTHROPIC_BASE_URL);
        let url = format!("{}/v1/messages", base.trim_end_matches('/'));
        let key = non_empty(&config.anthropic_api_key);
        let mut headers = HeaderMap::new();
        let version = HeaderValue::from_str(&config.anthropic_version)
            .map_err(|_| LlmError::transport("the anthropic version is not a valid header value"))?;
        headers.insert(HeaderName::from_static("anthropic-version"), version);
        if let Some(key) = key {
            headers.insert(HeaderName::from_static("x-api-key"), secret_header(key)?);
        }
        let endpoint = JsonEndpoint::new("anthropic", client, &url, headers, key.map(str::to_owned), config)?;
        Ok(Self {
            endpoint: Arc::new(endpoint),
        })
    }
}

impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn complete(&self, req: ChatRequest) -> kernel::BoxFuture<'_, Result<ChatResponse, LlmError>> {
        Box::pin(async move {
            let result = async {
                let body = request_body(&req, false)?;
                let response = self.endpoint.post(&body, BodyMode::Whole).await?;
                let answer: MessagesResponse = self.endpoint.read_json(response).await?;
                answer.into_response(&req.model).answered()
            };
            result.await.map_err(|err| self.endpoint.redact(err))
        })
    }

    fn stream(&self, req: ChatRequest) -> BoxStream<'static, Result<StreamEvent, LlmError>> {
        let endpoint = Arc::clone(&self.endpoint);
        let redactor = Arc::clone(&self.endpoint);
        let events = async_stream::try_stream! {
            let body = request_body(&req, true)?;
            let response = endpoint.post(&body, BodyMode::Stream).await?;
            let mut assembler = StreamAssembler::default();
            let mut stopped = false;
            let mut events = std::pin::pin!(sse::events(response, endpoint.timeout));
            while let Some(event) = events.next().await {
                match assembler.push(&event?.data)? {
                    Progress::Delta(delta) => yield StreamEvent::Delta(delta),
                    Progress::Pending => {}
                    Progress::Stopped => {
                        stopped = true;
                        break;
                    }
                }
            }
            if !stopped {
                Err(LlmError::Protocol("the stream ended before message_stop".into()))?;
            }
            yield StreamEvent::Done(assembler.finish(&req.model).answered()?);
        };
        events.map(move |item| item.map_err(|err| redactor.redact(err))).boxed()
    }
}
