//! One MCP session over the streamable HTTP transport of the official SDK (`rmcp`), its
//! requests sent by the outbound guard's reqwest client (resolver checking every address,
//! no proxy, no redirect; rustls on ring, so no second TLS stack). The URL's IP-literal
//! host, which no resolver sees, is checked before connecting. Every step is bounded in
//! time here and in bytes by the transport's limits.

use std::collections::HashMap;
use std::time::Duration;

use outbound::OutboundClient;
use reqwest::header::{HeaderName, HeaderValue};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult, ContentBlock};
use rmcp::service::{ClientInitializeError, RoleClient, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::{StreamableHttpClientTransportConfig, StreamableHttpError};
use rmcp::transport::{DynamicTransportError, StreamableHttpClientTransport};
use serde_json::{Map, Value};

use crate::schemas::server::object_or_default;
use crate::schemas::{McpTool, TOOLS_MAX};

/// Largest JSON response or SSE event accepted from a server.
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// Longest tool result given to the model, in bytes (the rest is cut).
const MAX_RESULT_BYTES: usize = 256 * 1024;
/// Longest tool description kept, in characters.
const MAX_DESCRIPTION_CHARS: usize = 4096;
/// Largest input schema kept (serialized); a larger one becomes `{"type": "object"}`.
const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// Longest reason quoted from a failure.
const MAX_REASON_CHARS: usize = 300;

/// Time limits of the MCP client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Connecting and the initialize handshake.
    pub connect: Duration,
    /// Listing the tools (every page).
    pub list: Duration,
    /// One `tools/call`.
    pub call: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            list: Duration::from_secs(10),
            call: Duration::from_secs(60),
        }
    }
}

/// An initialized session with one server.
pub(crate) struct Session {
    service: RunningService<RoleClient, ()>,
}

/// Why a step with a server failed; the text never holds a header value.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The connection broke or the server's answers broke the protocol: a fresh session may help.
    Transport(String),
    /// Anything else (refused address, timeout, a JSON-RPC error of the server).
    Other(String),
}

impl Failure {
    /// The reason, for a person or a model.
    pub(crate) fn reason(&self) -> &str {
        match self {
            Self::Transport(reason) | Self::Other(reason) => reason,
        }
    }
}

impl Session {
    /// Connects to `url` with `headers` (secrets already filled in) and initializes.
    pub(crate) async fn connect(
        outbound: &OutboundClient,
        url: &str,
        headers: &[(String, String)],
        timeouts: &Timeouts,
    ) -> Result<Self, Failure> {
        let parsed = url::Url::parse(url).map_err(|err| Failure::Other(format!("the URL is not valid: {err}")))?;
        outbound
            .check_url(&parsed)
            .map_err(|err| Failure::Other(err.to_string()))?;
        let mut custom = HashMap::with_capacity(headers.len());
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Failure::Other(format!("`{name}` is not a valid header name")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| Failure::Other(format!("the value of the header `{name}` cannot be sent")))?;
            value.set_sensitive(true);
            custom.insert(name, value);
        }
        let config = StreamableHttpClientTransportConfig::with_uri(url)
            .custom_headers(custom)
            .max_json_response_size(MAX_MESSAGE_BYTES)
            .max_sse_event_size(MAX_MESSAGE_BYTES)
            .max_error_response_size(4096)
            .reinit_on_expired_session(true);
        let transport = StreamableHttpClientTransport::with_client(outbound.http_client().clone(), config);
        match tokio::time::timeout(timeouts.connect, ().serve(transport)).await {
            Err(_) => Err(Failure::Other(format!(
                "the server did not complete the MCP handshake within {} s",
                timeouts.connect.as_secs()
            ))),
            Ok(Err(err)) => Err(Failure::Other(initialize_reason(&err))),
            Ok(Ok(service)) => Ok(Self { service }),
        }
    }

    /// Every tool the server offers (at most [`TOOLS_MAX`]; names sorted as listed).
    pub(crate) async fn list_tools(&self, timeouts: &Timeouts) -> Result<Vec<McpTool>, Failure> {
        let tools = match tokio::time::timeout(timeouts.list, self.service.list_all_tools()).await {
            Err(_) => {
                return Err(Failure::Other(format!(
                    "the server did not list its tools within {} s",
                    timeouts.list.as_secs()
                )));
            }
            Ok(Err(err)) => return Err(service_failure(&err)),
            Ok(Ok(tools)) => tools,
        };
        Ok(tools
            .into_iter()
            .take(TOOLS_MAX)
            .map(|tool| {
                let schema = without_nul(Value::Object((*tool.input_schema).clone()));
                let schema = match schema {
                    Value::Object(map) if Value::Object(map.clone()).to_string().len() <= MAX_SCHEMA_BYTES => map,
                    _ => Map::new(),
                };
                McpTool {
                    name: tool.name.replace('\0', ""),
                    description: tool.description.map(|d| {
                        let d = d.replace('\0', "");
                        match d.char_indices().nth(MAX_DESCRIPTION_CHARS) {
                            Some((end, _)) => d[..end].to_owned(),
                            None => d,
                        }
                    }),
                    input_schema: object_or_default(schema),
                }
            })
            .collect())
    }

    /// Calls `tool` with `arguments`: the result's text and whether it is an error
    /// (`isError`), or why there is no result.
    pub(crate) async fn call(
        &self,
        tool: &str,
        arguments: Map<String, Value>,
        timeouts: &Timeouts,
    ) -> Result<(String, bool), Failure> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = Some(arguments);
        match tokio::time::timeout(timeouts.call, self.service.call_tool(params)).await {
            Err(_) => Err(Failure::Other(format!(
                "the MCP server did not answer within {} s",
                timeouts.call.as_secs()
            ))),
            Ok(Err(err)) => Err(service_failure(&err)),
            Ok(Ok(result)) => Ok(result_text(&result)),
        }
    }

    /// Whether the session's connection is gone (its worker stopped).
    pub(crate) fn is_closed(&self) -> bool {
        self.service.is_closed()
    }
}

/// The text of a result: its text blocks joined by newlines (other blocks named by kind),
/// the structured content when there is no text, cut at [`MAX_RESULT_BYTES`].
fn result_text(result: &CallToolResult) -> (String, bool) {
    let mut parts: Vec<String> = Vec::new();
    for block in &result.content {
        parts.push(match block {
            ContentBlock::Text(text) => text.text.clone(),
            ContentBlock::Image(_) => "[image]".to_owned(),
            ContentBlock::Audio(_) => "[audio]".to_owned(),
            ContentBlock::Resource(_) => "[embedded resource]".to_owned(),
            ContentBlock::ResourceLink(link) => format!("[resource link: {}]", link.uri),
            _ => "[content]".to_owned(),
        });
    }
    if parts.is_empty()
        && let Some(structured) = &result.structured_content
    {
        parts.push(structured.to_string());
    }
    let mut text = parts.join("\n");
    if text.len() > MAX_RESULT_BYTES {
        let mut end = MAX_RESULT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    (text, result.is_error.unwrap_or(false))
}

/// A failed request: transport-level (worth one fresh session) or not.
fn service_failure(err: &ServiceError) -> Failure {
    match err {
        ServiceError::TransportSend(transport) => {
            let reason = transport_reason(transport);
            if connection_broke(transport) {
                Failure::Transport(reason)
            } else {
                Failure::Other(reason)
            }
        }
        ServiceError::TransportClosed => Failure::Transport("the connection to the MCP server closed".to_owned()),
        ServiceError::McpError(data) => Failure::Other(short(&format!(
            "the MCP server answered with an error: {}",
            data.message
        ))),
        other => Failure::Other(short(&other.to_string())),
    }
}

/// Why the handshake failed.
fn initialize_reason(err: &ClientInitializeError) -> String {
    match err {
        ClientInitializeError::TransportError { error, .. } => transport_reason(error),
        ClientInitializeError::JsonRpcError(data) => {
            short(&format!("the MCP server refused to initialize: {}", data.message))
        }
        ClientInitializeError::ConnectionClosed(_) => {
            "the MCP server closed the connection during the handshake".to_owned()
        }
        _ => "the server did not answer the MCP handshake as an MCP server".to_owned(),
    }
}

/// Why the transport failed: the guard's refusal when it refused the address, the HTTP
/// client's reason (without the URL), or the transport's own, shortened. rmcp's errors do
/// not chain their causes (`source`), so they are taken apart here.
fn transport_reason(err: &DynamicTransportError) -> String {
    let Some(http) = err.error.downcast_ref::<StreamableHttpError<reqwest::Error>>() else {
        return short(&format!("could not reach the MCP server: {}", err.error));
    };
    match http {
        StreamableHttpError::Client(client) => {
            if let Some(refused) = outbound::refusal(client) {
                return refused.to_string();
            }
            // The causes, not reqwest's own line (which repeats the URL).
            let reason = match std::error::Error::source(client) {
                Some(cause) => outbound::describe(cause),
                None => client.to_string(),
            };
            short(&format!("could not reach the MCP server: {reason}"))
        }
        StreamableHttpError::Deserialize(_) | StreamableHttpError::UnexpectedContentType(_) => {
            short(&format!("the server did not answer as an MCP server: {http}"))
        }
        other => short(&format!("the MCP server failed: {other}")),
    }
}

/// `value` with every NUL character removed from its strings and keys: a server's answer is
/// stored as given, and PostgreSQL refuses NUL in text and JSON.
fn without_nul(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(text.replace('\0', "")),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| (key.replace('\0', ""), without_nul(value)))
                .collect(),
        ),
        other => other,
    }
}

/// Whether the transport failed because the connection broke (no answer came), when a
/// fresh session may help, rather than because of what the server answered (too large, not
/// MCP, an HTTP error status), which sending again would only repeat.
fn connection_broke(err: &DynamicTransportError) -> bool {
    match err.error.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
        Some(
            StreamableHttpError::Client(_) | StreamableHttpError::Io(_) | StreamableHttpError::UnexpectedEndOfStream,
        ) => true,
        Some(StreamableHttpError::TransportChannelClosed | StreamableHttpError::SessionExpired) => true,
        Some(_) => false,
        None => true,
    }
}

/// `text` cut at [`MAX_REASON_CHARS`] characters.
fn short(text: &str) -> String {
    match text.char_indices().nth(MAX_REASON_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}
