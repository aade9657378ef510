//! [`McpRuntime`]: MCP servers in a run. The functions an agent's servers offer
//! (`<label>__<tool>`, only the allowed tools), and `tools/call` over sessions reused per
//! (server, user): at most `max_sessions` stay open (least recently used closed first, and
//! any idle for five minutes). A session whose connection broke is replaced, and a call
//! that failed on the transport of a reused session is sent once more on a fresh one (a
//! server that restarted is reconnected transparently). Nothing here fails a run: every
//! failure is an error result for the model.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::McpServerService;
use crate::client::{Failure, Session, Timeouts};
use crate::entities::mcp_server;
use crate::schemas::server::{stored_headers, stored_tools};
use crate::service::allowed_of;

/// The longest function name providers accept, and its characters.
const NAME_MAX: usize = 64;

/// One function a run offers for an MCP server's tool.
#[derive(Clone)]
pub struct McpFunction {
    /// `<label>__<tool name>`, as the model calls it.
    pub name: String,
    /// The tool's description, as the server gave it.
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    pub parameters: Value,
    /// The tool's name at the server.
    pub tool: String,
    /// The server's label.
    pub label: String,
    /// Whether every call waits for a person (`approval: always`).
    pub needs_approval: bool,
    server: Arc<Server>,
}

impl std::fmt::Debug for McpFunction {
    /// No header values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpFunction")
            .field("name", &self.name)
            .field("server_id", &self.server.id)
            .finish_non_exhaustive()
    }
}

/// Where a function's server is and how it is reached (headers unfilled).
struct Server {
    id: Uuid,
    url: String,
    headers: BTreeMap<String, String>,
}

/// A pooled session and the configuration it was opened with.
struct Pooled {
    fingerprint: u64,
    session: Session,
}

/// MCP servers for runs; cheap to clone.
#[derive(Clone)]
pub struct McpRuntime {
    service: McpServerService,
    sessions: moka::sync::Cache<(Uuid, Uuid), Arc<Pooled>>,
    timeouts: Timeouts,
}

impl McpRuntime {
    /// A runtime reading servers through `service`, keeping at most `max_sessions` sessions
    /// open, each call bounded by `call_timeout`.
    pub fn new(service: McpServerService, max_sessions: u64, call_timeout: Duration) -> Self {
        let mut timeouts = service.timeouts();
        timeouts.call = call_timeout;
        Self {
            service,
            sessions: moka::sync::Cache::builder()
                .max_capacity(max_sessions.max(1))
                .time_to_idle(Duration::from_secs(300))
                .build(),
            timeouts,
        }
    }

    /// The functions of the owner's servers among `server_ids` (in that order): each allowed
    /// tool whose `<label>__<tool>` is a valid function name (`^[A-Za-z0-9_-]{1,64}$`).
    pub async fn functions(&self, owner_id: Uuid, server_ids: &[Uuid]) -> Result<Vec<McpFunction>, String> {
        let servers = self
            .service
            .runnable(owner_id, server_ids)
            .await
            .map_err(|err| format!("cannot load the MCP servers: {err}"))?;
        Ok(servers.into_iter().flat_map(functions_of).collect())
    }

    /// Calls `function` as `owner_id`: the result text and whether it is an error.
    pub async fn call(&self, owner_id: Uuid, function: &McpFunction, arguments: Map<String, Value>) -> (String, bool) {
        let server = &function.server;
        let headers = match self.service.filled_headers(owner_id, &server.headers).await {
            Ok(headers) => headers,
            Err(reason) => return (format!("error: {reason}"), true),
        };
        let key = (server.id, owner_id);
        let fingerprint = fingerprint(&server.url, &headers);
        let pooled = self
            .sessions
            .get(&key)
            .filter(|pooled| pooled.fingerprint == fingerprint && !pooled.session.is_closed());
        let reused = pooled.is_some();
        let pooled = match pooled {
            Some(pooled) => pooled,
            None => match self.open(key, fingerprint, &server.url, &headers).await {
                Ok(pooled) => pooled,
                Err(failure) => return unreachable(function, &failure),
            },
        };
        match pooled
            .session
            .call(&function.tool, arguments.clone(), &self.timeouts)
            .await
        {
            Ok(result) => result,
            Err(Failure::Transport(reason)) if reused => {
                tracing::info!(server_id = %server.id, reason = %reason, "MCP session broke; reconnecting once");
                self.sessions.invalidate(&key);
                let fresh = match self.open(key, fingerprint, &server.url, &headers).await {
                    Ok(fresh) => fresh,
                    Err(failure) => return unreachable(function, &failure),
                };
                match fresh.session.call(&function.tool, arguments, &self.timeouts).await {
                    Ok(result) => result,
                    Err(failure) => self.failed(key, function, &failure),
                }
            }
            Err(failure) => self.failed(key, function, &failure),
        }
    }

    /// Opens a session and pools it.
    async fn open(
        &self,
        key: (Uuid, Uuid),
        fingerprint: u64,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Arc<Pooled>, Failure> {
        let session = Session::connect(self.service.outbound(), url, headers, &self.timeouts).await?;
        let pooled = Arc::new(Pooled { fingerprint, session });
        self.sessions.insert(key, Arc::clone(&pooled));
        Ok(pooled)
    }

    /// The error result of a failed call; a broken transport drops the session.
    fn failed(&self, key: (Uuid, Uuid), function: &McpFunction, failure: &Failure) -> (String, bool) {
        if matches!(failure, Failure::Transport(_)) {
            self.sessions.invalidate(&key);
        }
        (
            format!(
                "error: the MCP server `{}` failed: {}",
                function.label,
                failure.reason()
            ),
            true,
        )
    }
}

fn unreachable(function: &McpFunction, failure: &Failure) -> (String, bool) {
    (
        format!(
            "error: the MCP server `{}` could not be reached: {}",
            function.label,
            failure.reason()
        ),
        true,
    )
}

/// The functions of one stored server.
fn functions_of(model: mcp_server::Model) -> Vec<McpFunction> {
    let allowed = allowed_of(&model);
    let server = Arc::new(Server {
        id: model.id,
        url: model.url.clone(),
        headers: stored_headers(&model),
    });
    let needs_approval = model.approval == mcp_server::Approval::Always;
    stored_tools(&model)
        .into_iter()
        .filter(|tool| allowed.as_ref().is_none_or(|names| names.contains(&tool.name)))
        .filter_map(|tool| {
            let name = format!("{}__{}", model.label, tool.name);
            if !is_function_name(&name) {
                tracing::debug!(server_id = %model.id, tool = %tool.name, "MCP tool not offered: its name is no valid function name");
                return None;
            }
            Some(McpFunction {
                name,
                description: tool.description,
                parameters: tool.input_schema,
                tool: tool.name,
                label: model.label.clone(),
                needs_approval,
                server: Arc::clone(&server),
            })
        })
        .collect()
}

/// Whether providers accept `name` as a function name.
fn is_function_name(name: &str) -> bool {
    (1..=NAME_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Identifies the configuration a session was opened with (a changed URL or header value
/// opens a new one).
fn fingerprint(url: &str, headers: &[(String, String)]) -> u64 {
    let mut hasher = DefaultHasher::new();
    url.hash(&mut hasher);
    headers.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_follow_the_providers_pattern() {
        assert!(is_function_name("github__search_issues"));
        assert!(!is_function_name("files__read.file"));
        assert!(!is_function_name(&format!("x__{}", "a".repeat(63))));
    }
}
