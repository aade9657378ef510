//! The outbound HTTP client: one request, checked against the policy, bounded in time
//! and bytes, never redirected.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::{Instant, timeout_at};
use url::{Host, Url};

use crate::error::describe;
use crate::headers::parse_header;
use crate::resolver::{GuardedResolver, RefusedHost};
use crate::tls::tls_config;
use crate::{OutboundError, OutboundPolicy};

/// The client every outbound call made for a user goes through; cheap to clone (one
/// connection pool).
#[derive(Clone)]
pub struct OutboundClient {
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

impl std::fmt::Debug for OutboundClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundClient")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// One call to make.
#[derive(Clone)]
pub struct OutboundRequest {
    /// The HTTP method.
    pub method: reqwest::Method,
    /// An http or https URL.
    pub url: Url,
    /// Headers to send, secrets already filled in.
    pub headers: Vec<(String, String)>,
    /// A JSON body (sent with `Content-Type: application/json` unless a header says otherwise).
    pub json_body: Option<serde_json::Value>,
    /// Limit of the whole call: connect, response head and body.
    pub timeout: Duration,
    /// Longest body read; the rest is not read.
    pub max_response_bytes: usize,
}

impl std::fmt::Debug for OutboundRequest {
    /// Header names only: values may hold secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("OutboundRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("header_names", &header_names)
            .field("json_body", &self.json_body.is_some())
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

/// The answer to a call, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundResponse {
    /// The HTTP status (a 3xx is not followed).
    pub status: u16,
    /// The body as text (invalid UTF-8 replaced), cut at `max_response_bytes`.
    pub body: String,
    /// Whether the body was longer than `max_response_bytes`.
    pub truncated: bool,
}

impl OutboundClient {
    /// A client enforcing `policy`.
    pub fn new(policy: OutboundPolicy) -> Result<Self, OutboundError> {
        let policy = Arc::new(policy);
        let client = reqwest::Client::builder()
            .user_agent(concat!("agentry-outbound/", env!("CARGO_PKG_VERSION")))
            .tls_backend_preconfigured(tls_config()?)
            .dns_resolver(GuardedResolver {
                policy: Arc::clone(&policy),
            })
            // A proxy would be resolved instead of the target, and the target never checked.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| OutboundError::Client(describe(&err)))?;
        Ok(Self { client, policy })
    }

    /// Makes the call: refuses an internal address before connecting, returns any status
    /// (2xx or not) with its body read incrementally up to `max_response_bytes`.
    pub async fn send(&self, req: OutboundRequest) -> Result<OutboundResponse, OutboundError> {
        let deadline = Instant::now() + req.timeout;
        self.check_url(&req.url)?;
        let headers = header_map(&req.headers)?;
        let mut builder = self.client.request(req.method, req.url.clone()).headers(headers);
        if let Some(body) = &req.json_body {
            builder = builder.json(body);
        }
        let mut response = match timeout_at(deadline, builder.send()).await {
            Err(_) => return Err(OutboundError::Timeout(req.timeout)),
            Ok(Err(err)) => return Err(send_error(err)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        let mut body: Vec<u8> = Vec::with_capacity(req.max_response_bytes.min(64 * 1024));
        let mut truncated = false;
        loop {
            let chunk = match timeout_at(deadline, response.chunk()).await {
                Err(_) => return Err(OutboundError::Timeout(req.timeout)),
                Ok(Err(err)) => return Err(OutboundError::Body(describe(&err.without_url()))),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            let room = req.max_response_bytes - body.len();
            if chunk.len() > room {
                // Dropping the response closes the connection: the rest is never read.
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(OutboundResponse {
            status,
            body: body_text(&body, truncated),
            truncated,
        })
    }

    /// The guarded reqwest client itself (every name it resolves is checked against the
    /// policy, no proxy, no redirect), for a protocol client that makes its own requests
    /// through it (the MCP transport). Such a caller must call [`Self::check_url`] first:
    /// an IP-literal host is never resolved, so only that check refuses it. Time and size
    /// bounds are then the caller's.
    pub fn http_client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Checks what reqwest will not resolve: the scheme, and an IP-literal host (refused
    /// when the policy does not allow its address).
    pub fn check_url(&self, url: &Url) -> Result<(), OutboundError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::InvalidUrl(format!(
                "the scheme `{}` is not allowed (only http and https)",
                url.scheme()
            )));
        }
        let ip = match url.host() {
            None => return Err(OutboundError::InvalidUrl("the URL has no host".to_owned())),
            Some(Host::Domain(_)) => return Ok(()),
            Some(Host::Ipv4(ip)) => ip.into(),
            Some(Host::Ipv6(ip)) => ip.into(),
        };
        if self.policy.allows_address(ip) {
            Ok(())
        } else {
            tracing::info!(host = %ip, "outbound call refused: internal address");
            Err(OutboundError::Refused {
                host: url.host_str().unwrap_or_default().to_owned(),
            })
        }
    }
}

/// Header names and values as reqwest takes them; every value is marked sensitive.
fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, OutboundError> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let (name, value) = parse_header(name, value).map_err(OutboundError::InvalidHeader)?;
        map.append(name, value);
    }
    Ok(map)
}

/// A failed send: `Refused` when the resolver refused the host, else `Connect`.
fn send_error(err: reqwest::Error) -> OutboundError {
    let err = err.without_url();
    match refusal(&err) {
        Some(refused) => refused,
        None => OutboundError::Connect(describe(&err)),
    }
}

/// [`OutboundError::Refused`] when the guard's resolver refused the host somewhere in this
/// error's chain (for callers using [`OutboundClient::http_client`] whose errors wrap
/// reqwest's), else `None`.
pub fn refusal(err: &(dyn std::error::Error + 'static)) -> Option<OutboundError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<RefusedHost>() {
            return Some(OutboundError::Refused {
                host: refused.host.clone(),
            });
        }
        source = cause.source();
    }
    None
}

/// The body as text; a cut inside a multi-byte character drops that character's start.
fn body_text(body: &[u8], truncated: bool) -> String {
    let mut end = body.len();
    if truncated {
        for back in 1..=body.len().min(3) {
            let byte = body[body.len() - back];
            if byte & 0xc0 != 0x80 {
                let width = match byte {
                    0xf0.. => 4,
                    0xe0.. => 3,
                    0xc0.. => 2,
                    _ => 1,
                };
                if width > back {
                    end = body.len() - back;
                }
                break;
            }
        }
    }
    String::from_utf8_lossy(&body[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_character_is_dropped_not_replaced() {
        let text = "añb€".as_bytes();
        assert_eq!(body_text(&text[..2], true), "a");
        assert_eq!(body_text(&text[..3], true), "añ");
        assert_eq!(body_text(&text[..5], true), "añb");
        assert_eq!(body_text(&text[..7], true), "añb€");
        assert_eq!(body_text(&text[..5], false), "añb\u{fffd}");
        assert_eq!(body_text(b"", true), "");
    }

    #[test]
    fn the_client_builds_and_debug_hides_header_values() {
        OutboundClient::new(OutboundPolicy::default()).expect("client builds");
        let request = OutboundRequest {
            method: reqwest::Method::GET,
            url: Url::parse("https://example.com/").expect("url"),
            headers: vec![("Authorization".to_owned(), "Bearer hunter2".to_owned())],
            json_body: None,
            timeout: Duration::from_secs(1),
            max_response_bytes: 10,
        };
        let debug = format!("{request:?}");
        assert!(debug.contains("Authorization"));
        assert!(!debug.contains("hunter2"));
    }
}
