//! `ToolService` rules on SQLite in memory.

use crate::common::{body, database, invalid_fields, services, user};
use agents::AgentError as Error;
use agents::schemas::{ToolCreate, ToolUpdate};
use kernel::PageParams;
use serde_json::json;

fn tool(name: &str) -> ToolCreate {
    body(json!({"name": name, "description": "d", "parameters": {"type": "object", "properties": {}}}))
}

#[tokio::test]
async fn names_are_unique_per_owner() {
    let db = database().await;
    let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
    let (_, tools) = services(&db);
    let first = tools.create(alice, tool("search")).await.unwrap();
    assert!(matches!(
        tools.create(alice, tool("search")).await,
        Err(Error::ToolNameTaken(_))
    ));
    tools.create(bob, tool("search")).await.unwrap();
    let other = tools.create(alice, tool("other")).await.unwrap();
    let rename: ToolUpdate = body(json!({"name": "search"}));
    assert!(matches!(
        tools.update(alice, other.id, rename).await,
        Err(Error::ToolNameTaken(_))
    ));
    let same: ToolUpdate = body(json!({"name": "search", "description": null}));
    let updated = tools.update(alice, first.id, same).await.unwrap();
    assert_eq!((updated.name.as_str(), updated.description), ("search", None));
}

#[tokio::test]
async fn parameters_must_be_a_small_object_schema() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (_, tools) = services(&db);
    for parameters in [
        json!({"type": "string"}),
        json!({}),
        json!({"type": "object", "properties": []}),
        json!({"type": "object", "required": [1]}),
        json!({"type": "object", "description": "x".repeat(16 * 1024)}),
    ] {
        let input: ToolCreate = body(json!({"name": "t", "parameters": parameters}));
        assert_eq!(invalid_fields(tools.create(owner, input).await), ["parameters"]);
    }
    assert!(serde_json::from_value::<ToolCreate>(json!({"name": "t", "parameters": [1]})).is_err());
    let bad_name: ToolCreate = body(json!({"name": "has space", "parameters": {"type": "object"}}));
    assert_eq!(invalid_fields(tools.create(owner, bad_name).await), ["name"]);
    let page = tools
        .list(owner, None, &PageParams::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn foreign_tools_are_not_found_and_delete_is_final() {
    let db = database().await;
    let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
    let (_, tools) = services(&db);
    let t = tools.create(alice, tool("t")).await.unwrap();
    assert!(matches!(tools.get(bob, t.id).await, Err(Error::ToolNotFound)));
    assert!(matches!(
        tools.update(bob, t.id, ToolUpdate::default()).await,
        Err(Error::ToolNotFound)
    ));
    assert!(matches!(tools.delete(bob, t.id).await, Err(Error::ToolNotFound)));
    assert_eq!(tools.get(alice, t.id).await.unwrap(), t);
    tools.delete(alice, t.id).await.unwrap();
    assert!(matches!(tools.delete(alice, t.id).await, Err(Error::ToolNotFound)));
}

#[tokio::test]
async fn list_filters_by_name() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (_, tools) = services(&db);
    for name in ["get_weather", "getXweather", "search"] {
        tools.create(owner, tool(name)).await.unwrap();
    }
    let all = PageParams::parse(None, None).unwrap();
    let page = tools.list(owner, Some("GET_"), &all).await.unwrap();
    assert_eq!(
        page.items.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["get_weather"]
    );
    assert_eq!(tools.list(owner, None, &all).await.unwrap().items[0].name, "search");
}
