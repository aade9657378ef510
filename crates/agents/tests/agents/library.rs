//! `agents` used as a library, the way conversations and executions use it: only services
//! over a `DatabaseConnection`, no HTTP. Passes with `--no-default-features` too.

use crate::common::{body, database, user};
use agents::schemas::{AgentCreate, ToolCreate};
use agents::{AgentService, ProviderNames, ToolService};
use serde_json::json;

#[tokio::test]
async fn services_work_with_just_a_database_connection() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let agents = AgentService::new(
        db.clone(),
        ProviderNames {
            allowed: vec![],
            default: "echo".into(),
        },
    );
    let tools = ToolService::new(db.clone());
    assert_eq!(agents.providers().allowed, ["echo"]);

    let weather: ToolCreate = body(json!({"name": "weather", "parameters": {"type": "object"}}));
    let weather = tools.create(owner, weather).await.unwrap();
    let helper: AgentCreate = body(json!({"name": "helper", "model": "echo-1"}));
    let helper = agents.create(owner, helper).await.unwrap();
    let main: AgentCreate = body(json!({
        "name": "main", "model": "echo-1", "tool_ids": [weather.id], "subagent_ids": [helper.id],
    }));
    let main = agents.create(owner, main).await.unwrap();

    let read = agents.get(owner, main.id).await.unwrap();
    assert_eq!(read, main);
    assert_eq!(
        agents
            .find_owned(owner, main.id)
            .await
            .unwrap()
            .map(|a| a.name)
            .as_deref(),
        Some("main")
    );
    assert_eq!(agents.tools_of(owner, main.id).await.unwrap(), [weather]);
    assert_eq!(agents.subagents_of(owner, main.id).await.unwrap(), [helper]);
}
