//! Any OpenAI-compatible Chat Completions endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

mod stream;
mod wire;

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::header::{AUTHORIZATION, HeaderMap};

use crate::config::{DEFAULT_OPENAI_BASE_URL, non_empty};
use crate::http::{BodyMode, JsonEndpoint, build_client, secret_header};
use crate::{ChatRequest, ChatResponse, LlmConfig, LlmError, Provider, StreamEvent, sse};

use self::stream::{DONE_MARKER, StreamAssembler};
use self::wire::{CompletionResponse, request_body};

/// The `openai` provider: `POST {base}/chat/completions` with an optional bearer key.
#[derive(Debug, Clone)]
pub struct OpenAiProvider {
    endpoint: Arc<JsonEndpoint>,
}

impl OpenAiProvider {
    /// A provider for `config`'s OpenAI base URL (default `https://api.openai.com/v1`) and key.
    pub fn new(config: &LlmConfig) -> Result<Self, LlmError> {
        Self::with_client(build_client(config)?, config)
    }

    /// The same, sharing an existing HTTP client.
    pub(crate) fn with_client(client: reqwest::Client, config: &LlmConfig) -> Result<Self, LlmError> {
        let base = non_empty(&config.openai_base_url).unwrap_or(DEFAULT_OPENAI_BASE_URL);
        let url = format!("{}/chat/completions", base.trim_end_matches('/'));
        let key = non_empty(&config.openai_api_key);
        let mut headers = HeaderMap::new();
        if let Some(key) = key {
            headers.insert(AUTHORIZATION, secret_header(&format!("Bearer {key}"))?);
        }
        let endpoint = JsonEndpoint::new("openai", client, &url, headers, key.map(str::to_owned), config)?;
        Ok(Self {
            endpoint: Arc::new(endpoint),
        })
    }
}

impl Provider for OpenAiProvider {
    fn name(&self) -> &str {
        "openai"
    }

    fn complete(&self, req: ChatRequest) -> kernel::BoxFuture<'_, Result<ChatResponse, LlmError>> {
        Box::pin(async move {
            let result = async {
                let body = request_body(&req, false)?;
                let response = self.endpoint.post(&body, BodyMode::Whole).await?;
                let answer: CompletionResponse = self.endpoint.read_json(response).await?;
                answer.into_response(&req.model)?.answered()
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
            let mut done = false;
            let mut events = std::pin::pin!(sse::events(response, endpoint.timeout));
            while let Some(event) = events.next().await {
                let event = event?;
                if event.data.trim() == DONE_MARKER {
                    done = true;
                    break;
                }
                if let Some(delta) = assembler.push(&event.data)? {
                    yield StreamEvent::Delta(delta);
                }
            }
            if !done {
                Err(LlmError::Protocol("the stream ended before [DONE]".into()))?;
            }
            yield StreamEvent::Done(assembler.finish(&req.model).answered()?);
        };
        events.map(move |item| item.map_err(|err| redactor.redact(err))).boxed()
    }
}
