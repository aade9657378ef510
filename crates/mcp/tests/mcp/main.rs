//! `mcp` service tests (the library, no HTTP layer): the rules that need no MCP server —
//! bad fields named, a refused or unreachable server leaves nothing stored, which ids are
//! an owner's servers, and what a run is offered. The protocol itself (a real MCP server)
//! is tested through the composed server in `tests/api/mcp.rs`. SQLite in memory, or
//! PostgreSQL with `TEST_DATABASE_URL`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a panic is a failed test"
)]

use std::time::Duration;

use kernel::PageParams;
use mcp::entities::mcp_server;
use mcp::schemas::McpServerCreate;
use mcp::{McpError, McpRuntime, McpServerService};
use outbound::{OutboundClient, OutboundPolicy};
use sea_orm::{DatabaseConnection, EntityTrait, IntoActiveModel};
use secrets::{SecretService, SecretsKey};
use serde_json::json;
use testkit::{body, invalid_fields, user};
use uuid::Uuid;

/// The service over a fresh database, with the default outbound policy (no internal address).
async fn service() -> (DatabaseConnection, McpServerService) {
    let db = testkit::database("mcp_test_").await;
    let secrets = SecretService::new(db.clone(), SecretsKey::development());
    let outbound = OutboundClient::new(OutboundPolicy::default()).unwrap();
    (db.clone(), McpServerService::new(db, secrets, outbound))
}

/// Stores a server row directly (no server to contact).
async fn stored(db: &DatabaseConnection, owner_id: Uuid, label: &str, tools: serde_json::Value) -> Uuid {
    let now = kernel::clock::now();
    let model = mcp_server::Model {
        id: kernel::ids::new_id(),
        owner_id,
        label: label.to_owned(),
        url: "https://mcp.example.com/mcp".to_owned(),
        headers: json!({}),
        allowed_tools: Some(json!(["search", "read.file", "missing"])),
        approval: mcp_server::Approval::Always,
        tools,
        created_at: now,
        updated_at: now,
        refreshed_at: now,
    };
    mcp_server::Entity::insert(model.clone().into_active_model())
        .exec_without_returning(db)
        .await
        .unwrap();
    model.id
}

#[tokio::test]
async fn bad_fields_are_named_and_a_refused_server_leaves_nothing_stored() {
    let (db, servers) = service().await;
    let ada = user(&db, "ada").await;
    let bad: McpServerCreate = body(json!({"label": "No Caps", "url": "gopher://x", "headers": {"Connection": "x"}}));
    assert_eq!(
        invalid_fields(servers.create(ada, bad).await),
        ["headers.Connection", "label", "url"]
    );

    let refused: McpServerCreate = body(json!({"label": "local", "url": "http://127.0.0.1:9/mcp"}));
    match servers.create(ada, refused).await {
        Err(McpError::Unreachable(reason)) => assert!(reason.contains("refused"), "{reason}"),
        other => panic!("expected Unreachable, got {other:?}"),
    }
    let page = servers
        .list(ada, &PageParams::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn only_the_owners_servers_are_theirs_and_a_run_is_offered_the_allowed_valid_names() {
    let (db, servers) = service().await;
    let ada = user(&db, "ada").await;
    let bob = user(&db, "bob").await;
    let tools = json!([
        {"name": "search", "description": "Search", "input_schema": {"type": "object"}},
        {"name": "read.file", "description": null, "input_schema": {"type": "object"}},
        {"name": "delete", "description": null, "input_schema": {"type": "object"}},
    ]);
    let mine = stored(&db, ada, "docs", tools.clone()).await;
    let theirs = stored(&db, bob, "docs", tools).await;

    let owned = mcp::links::owned(&db, ada, &[mine, theirs, Uuid::now_v7()])
        .await
        .unwrap();
    assert_eq!(owned.into_iter().collect::<Vec<_>>(), [mine]);

    let read = servers.get(ada, mine).await.unwrap();
    assert_eq!(read.unknown_allowed_tools, ["missing"]);
    assert!(matches!(servers.get(ada, theirs).await, Err(McpError::NotFound)));

    let runtime = McpRuntime::new(servers.clone(), 4, Duration::from_secs(5));
    let offered = runtime.functions(ada, &[theirs, mine]).await.unwrap();
    // `read.file` is allowed but no valid function name; `delete` is not allowed; bob's
    // server is not ada's.
    let names: Vec<&str> = offered.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["docs__search"]);
    assert!(offered[0].needs_approval);
    assert_eq!(
        (offered[0].tool.as_str(), offered[0].label.as_str()),
        ("search", "docs")
    );

    servers.delete(ada, mine).await.unwrap();
    assert!(matches!(servers.delete(ada, mine).await, Err(McpError::NotFound)));
    assert!(runtime.functions(ada, &[mine]).await.unwrap().is_empty());
}
