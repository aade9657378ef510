//! A real MCP server for the tests, written with the official Rust SDK's server side
//! (`rmcp`, streamable HTTP) and served by hyper on 127.0.0.1: tools `add`, `shout`,
//! `fail` (answers `isError`), and on request `flood` (2 MiB of text), `hang` (answers
//! after 30 s) and any other name; it records the headers of every
//! request, and can be stopped and started again on the same port (a restart: every
//! session is forgotten).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rmcp::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// What the server offers and what it saw.
#[derive(Default)]
struct State {
    /// Names of the tools offered, in order.
    tools: Mutex<Vec<String>>,
    /// The headers of every HTTP request received (names lowercase).
    headers: Mutex<Vec<Vec<(String, String)>>>,
    /// Every `tools/call`: the tool's name and its arguments.
    calls: Mutex<Vec<(String, Value)>>,
}

/// A running MCP test server.
pub struct McpServer {
    addr: SocketAddr,
    state: Arc<State>,
    serving: Option<tokio::task::JoinHandle<()>>,
}

impl McpServer {
    /// Starts a server on a free port of 127.0.0.1 offering `add`, `shout` and `fail`.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        *state.tools.lock().unwrap() = vec!["add".into(), "shout".into(), "fail".into()];
        let serving = Some(tokio::spawn(serve(listener, Arc::clone(&state))));
        Self { addr, state, serving }
    }

    /// The streamable-HTTP endpoint.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Offers these tools from now on (names among `add`, `shout`, `fail`, or any other,
    /// which answers `called <name>`).
    pub fn set_tools(&self, names: &[&str]) {
        *self.state.tools.lock().unwrap() = names.iter().map(|n| (*n).to_owned()).collect();
    }

    /// The values of header `name` in every request received so far.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.state
            .headers
            .lock()
            .unwrap()
            .iter()
            .flat_map(|headers| headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()))
            .collect()
    }

    /// How many sessions were opened: requests without a session id (each `initialize`).
    pub fn sessions_opened(&self) -> usize {
        self.state
            .headers
            .lock()
            .unwrap()
            .iter()
            .filter(|headers| !headers.iter().any(|(n, _)| n == "mcp-session-id"))
            .count()
    }

    /// The `tools/call` requests received so far.
    pub fn calls(&self) -> Vec<(String, Value)> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Stops serving: the port refuses connections and every open connection is closed.
    pub async fn stop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.abort();
            let _ = serving.await;
        }
    }

    /// Starts again on the same port, as a fresh process would (no session survives).
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serving = Some(tokio::spawn(serve(listener, Arc::clone(&self.state))));
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.abort();
        }
    }
}

/// Accepts connections until aborted (aborting drops the connections too).
async fn serve(listener: TcpListener, state: Arc<State>) {
    let handler_state = Arc::clone(&state);
    let service = StreamableHttpService::new(
        move || {
            Ok(Handler {
                state: Arc::clone(&handler_state),
            })
        },
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = service.clone();
        let state = Arc::clone(&state);
        connections.spawn(async move {
            let handle = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let headers: Vec<(String, String)> = request
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
                    .collect();
                state.headers.lock().unwrap().push(headers);
                let service = service.clone();
                async move { Ok::<_, Infallible>(service.handle(request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), handle)
                .await;
        });
    }
}

/// The MCP side: the tools and their answers.
#[derive(Clone)]
struct Handler {
    state: Arc<State>,
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let names = self.state.tools.lock().unwrap().clone();
        Ok(ListToolsResult::with_all_items(names.iter().map(|n| tool(n)).collect()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        self.state
            .calls
            .lock()
            .unwrap()
            .push((request.name.to_string(), arguments.clone()));
        let text = |t: String| vec![ContentBlock::text(t)];
        let result = match request.name.as_ref() {
            "add" => {
                let sum = arguments["a"].as_f64().unwrap_or(0.0) + arguments["b"].as_f64().unwrap_or(0.0);
                CallToolResult::success(text(format!("{sum}")))
            }
            "shout" => CallToolResult::success(text(arguments["text"].as_str().unwrap_or_default().to_uppercase())),
            "fail" => CallToolResult::error(text("the tool broke".to_owned())),
            // Two MiB of text: more than a client should take.
            "flood" => CallToolResult::success(text("x".repeat(2 * 1024 * 1024))),
            // Never answers within a test's patience.
            "hang" => {
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                CallToolResult::success(text("late".to_owned()))
            }
            other => CallToolResult::success(text(format!("called {other}"))),
        };
        Ok(CallToolResponse::Complete(result))
    }
}

/// The definition of tool `name`.
fn tool(name: &str) -> Tool {
    let schema = match name {
        "add" => {
            json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]})
        }
        "shout" => json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
        _ => json!({"type": "object", "properties": {}}),
    };
    let Value::Object(schema) = schema else { unreachable!() };
    Tool::new(name.to_owned(), format!("the {name} tool"), Arc::new(schema))
}
