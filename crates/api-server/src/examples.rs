//! The browser example of live executions, served from the API's own origin so it needs no
//! CORS set-up: open `/examples/execution-viewer.html` on a running server.

use actix_web::{HttpResponse, get};

const EXECUTION_VIEWER: &str = include_str!("../../../docs/examples/execution-viewer.html");

/// A plain HTML + JavaScript page that logs in, starts an execution and renders its events
/// live over the WebSocket.
#[utoipa::path(
    tag = "examples",
    responses((status = 200, description = "The example page", content_type = "text/html", body = String))
)]
#[get("/examples/execution-viewer.html")]
pub async fn execution_viewer() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(EXECUTION_VIEWER)
}
