//! `AgentService` rules on SQLite in memory.

use crate::common::{body, database, invalid_fields, services, user};
use agents::AgentError as Error;
use agents::schemas::{AgentCreate, AgentUpdate, ToolCreate};
use kernel::PageParams;
use serde_json::json;
use uuid::Uuid;

fn agent(name: &str) -> AgentCreate {
    body(json!({"name": name, "model": "echo-1"}))
}

fn tool(name: &str) -> ToolCreate {
    body(json!({"name": name, "parameters": {"type": "object"}}))
}

#[tokio::test]
async fn create_applies_defaults_and_reads_back() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (agents, _) = services(&db);
    let created = agents.create(owner, agent("Researcher")).await.unwrap();
    assert_eq!(created.provider, "echo");
    assert_eq!(created.temperature, 0.7);
    assert_eq!(created.metadata, json!({}));
    assert_eq!(
        (
            created.description.clone(),
            created.system_prompt.clone(),
            created.max_tokens
        ),
        (None, None, None)
    );
    assert!(created.tool_ids.is_empty() && created.subagent_ids.is_empty());
    assert_eq!(agents.get(owner, created.id).await.unwrap(), created);
}

#[tokio::test]
async fn every_rule_violation_is_listed() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (agents, _) = services(&db);
    let bad: AgentCreate = body(json!({
        "name": " padded", "model": "bad model!", "temperature": 2.5, "max_tokens": 0,
        "description": "d".repeat(2001), "system_prompt": "s".repeat(32001),
        "metadata": (0..17).map(|i| (format!("k{i}"), json!(i))).collect::<serde_json::Map<_, _>>(),
    }));
    let mut fields = invalid_fields(agents.create(owner, bad).await);
    fields.sort();
    let expected = [
        "description",
        "max_tokens",
        "metadata",
        "model",
        "name",
        "system_prompt",
        "temperature",
    ];
    assert_eq!(fields, expected);
}

#[tokio::test]
async fn unknown_provider_and_foreign_links_are_named() {
    let db = database().await;
    let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
    let (agents, tools) = services(&db);
    let own_tool = tools.create(alice, tool("search")).await.unwrap();
    let bobs_tool = tools.create(bob, tool("search")).await.unwrap();
    let bobs_agent = agents.create(bob, agent("B")).await.unwrap();
    let input: AgentCreate = body(json!({
        "name": "A", "model": "m", "provider": "nope",
        "tool_ids": [own_tool.id, bobs_tool.id, own_tool.id, Uuid::now_v7()],
        "subagent_ids": [bobs_agent.id],
    }));
    let fields = invalid_fields(agents.create(alice, input).await);
    assert_eq!(
        fields,
        [
            "provider",
            "tool_ids[1]",
            "tool_ids[2]",
            "tool_ids[3]",
            "subagent_ids[0]"
        ]
    );
    let page = agents
        .list(alice, None, &PageParams::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(page.total, 0, "nothing is stored after a failure");
}

#[tokio::test]
async fn links_keep_their_order_and_hide_deleted_subagents() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (agents, tools) = services(&db);
    let t1 = tools.create(owner, tool("one")).await.unwrap();
    let t2 = tools.create(owner, tool("two")).await.unwrap();
    let s1 = agents.create(owner, agent("s1")).await.unwrap();
    let s2 = agents.create(owner, agent("s2")).await.unwrap();
    let input: AgentCreate = body(json!({
        "name": "main", "model": "m", "tool_ids": [t2.id, t1.id], "subagent_ids": [s2.id, s1.id],
    }));
    let main = agents.create(owner, input).await.unwrap();
    assert_eq!(main.tool_ids, [t2.id, t1.id]);
    let read = agents.get(owner, main.id).await.unwrap();
    assert_eq!(
        (read.tool_ids, read.subagent_ids),
        (vec![t2.id, t1.id], vec![s2.id, s1.id])
    );
    let names: Vec<_> = agents
        .tools_of(owner, main.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["two", "one"]);

    agents.delete(owner, s2.id).await.unwrap();
    assert_eq!(agents.get(owner, main.id).await.unwrap().subagent_ids, [s1.id]);
    let subs = agents.subagents_of(owner, main.id).await.unwrap();
    assert_eq!(subs.iter().map(|a| a.id).collect::<Vec<_>>(), [s1.id]);
    let relink: AgentUpdate = body(json!({"subagent_ids": [s2.id]}));
    assert_eq!(
        invalid_fields(agents.update(owner, main.id, relink).await),
        ["subagent_ids[0]"]
    );

    tools.delete(owner, t2.id).await.unwrap();
    assert_eq!(agents.get(owner, main.id).await.unwrap().tool_ids, [t1.id]);
}

#[tokio::test]
async fn self_reference_and_cycles_are_refused() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (agents, _) = services(&db);
    let a = agents.create(owner, agent("a")).await.unwrap();
    let b = agents
        .create(owner, body(json!({"name": "b", "model": "m", "subagent_ids": [a.id]})))
        .await
        .unwrap();
    let c = agents
        .create(owner, body(json!({"name": "c", "model": "m", "subagent_ids": [b.id]})))
        .await
        .unwrap();

    let own = body::<AgentUpdate>(json!({"subagent_ids": [a.id]}));
    assert_eq!(
        invalid_fields(agents.update(owner, a.id, own).await),
        ["subagent_ids[0]"]
    );
    let cycle = body::<AgentUpdate>(json!({"subagent_ids": [b.id, c.id], "name": "changed"}));
    assert_eq!(
        invalid_fields(agents.update(owner, a.id, cycle).await),
        ["subagent_ids[0]"]
    );
    let after = agents.get(owner, a.id).await.unwrap();
    assert_eq!(
        (after.name.as_str(), after.subagent_ids.len()),
        ("a", 0),
        "a failed update changes nothing"
    );

    // Through a deleted agent there is no cycle any more.
    agents.delete(owner, b.id).await.unwrap();
    let fine = body::<AgentUpdate>(json!({"subagent_ids": [c.id]}));
    assert_eq!(agents.update(owner, a.id, fine).await.unwrap().subagent_ids, [c.id]);
}

#[tokio::test]
async fn patch_distinguishes_absent_null_and_value() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (agents, tools) = services(&db);
    let t = tools.create(owner, tool("t")).await.unwrap();
    let full: AgentCreate = body(json!({
        "name": "full", "model": "m", "description": "d", "system_prompt": "p", "max_tokens": 10,
        "temperature": 1.5, "metadata": {"k": "v"}, "tool_ids": [t.id], "provider": "openai",
    }));
    let created = agents.create(owner, full).await.unwrap();

    let unchanged = agents.update(owner, created.id, AgentUpdate::default()).await.unwrap();
    assert_eq!(
        (unchanged.description.as_deref(), unchanged.max_tokens),
        (Some("d"), Some(10))
    );
    assert_eq!(
        (unchanged.tool_ids.clone(), unchanged.provider.as_str()),
        (vec![t.id], "openai")
    );

    let clear: AgentUpdate = body(json!({
        "description": null, "system_prompt": null, "max_tokens": null, "tool_ids": null, "metadata": null,
    }));
    let cleared = agents.update(owner, created.id, clear).await.unwrap();
    assert_eq!(
        (&cleared.description, &cleared.system_prompt, cleared.max_tokens),
        (&None, &None, None)
    );
    assert_eq!((cleared.tool_ids.len(), cleared.metadata.clone()), (0, json!({})));
    assert_eq!((cleared.temperature, cleared.name.as_str()), (1.5, "full"));
    assert_eq!(agents.get(owner, created.id).await.unwrap(), cleared);

    for field in ["name", "model", "provider", "temperature"] {
        let err = serde_json::from_value::<AgentUpdate>(json!({ field: null })).unwrap_err();
        assert!(err.to_string().contains("must not be null"), "{field}: {err}");
    }
}

#[tokio::test]
async fn deleted_and_foreign_agents_are_not_found() {
    let db = database().await;
    let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
    let (agents, _) = services(&db);
    let a = agents.create(alice, agent("a")).await.unwrap();
    assert!(matches!(agents.get(bob, a.id).await, Err(Error::NotFound)));
    assert!(matches!(
        agents.update(bob, a.id, AgentUpdate::default()).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(agents.delete(bob, a.id).await, Err(Error::NotFound)));
    assert!(matches!(agents.tools_of(bob, a.id).await, Err(Error::NotFound)));

    agents.delete(alice, a.id).await.unwrap();
    assert!(matches!(agents.delete(alice, a.id).await, Err(Error::NotFound)));
    assert!(matches!(agents.get(alice, a.id).await, Err(Error::NotFound)));
    assert!(matches!(
        agents.update(alice, a.id, AgentUpdate::default()).await,
        Err(Error::NotFound)
    ));
    let page = agents
        .list(alice, None, &PageParams::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (0, 0));
}

#[tokio::test]
async fn list_pages_newest_first_and_filters_by_name() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (agents, _) = services(&db);
    let mut ids = Vec::new();
    for i in 0..7 {
        let name = if i % 2 == 0 {
            format!("Even_{i}")
        } else {
            format!("odd%{i}")
        };
        ids.push(agents.create(owner, agent(&name)).await.unwrap().id);
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = PageParams::parse(Some(3), cursor.as_deref()).unwrap();
        let page = agents.list(owner, None, &params).await.unwrap();
        assert_eq!(page.total, 7);
        seen.extend(page.items.iter().map(|a| a.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    let all = PageParams::parse(None, None).unwrap();
    assert_eq!(agents.list(owner, Some("EVEN"), &all).await.unwrap().total, 4);
    assert_eq!(
        agents.list(owner, Some("%"), &all).await.unwrap().total,
        3,
        "% is literal"
    );
    assert_eq!(
        agents.list(owner, Some("_"), &all).await.unwrap().total,
        4,
        "_ is literal"
    );
}

#[tokio::test]
async fn a_page_that_comes_back_empty_still_counts_the_matches() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (agents, _) = services(&db);
    let first = agents.create(owner, agent("first")).await.unwrap();
    for name in ["second", "third"] {
        agents.create(owner, agent(name)).await.unwrap();
    }
    let page = agents
        .list(owner, None, &PageParams::parse(Some(2), None).unwrap())
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (2, 3));
    let cursor = page.next_cursor.expect("a third agent is left");

    // The last agent goes away between the two requests: the page after the cursor is
    // empty, and its total (a separate count then) is what is left.
    agents.delete(owner, first.id).await.unwrap();
    let page = agents
        .list(owner, None, &PageParams::parse(Some(2), Some(&cursor)).unwrap())
        .await
        .unwrap();
    assert!(page.items.is_empty() && page.next_cursor.is_none());
    assert_eq!(page.total, 2);

    // No agent at all: an empty first page counts nothing.
    let nobody = user(&db, "bob").await;
    let page = agents
        .list(nobody, None, &PageParams::parse(None, None).unwrap())
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (0, 0));
}

#[tokio::test]
async fn lists_and_reads_carry_links_only_where_there_are_some() {
    let db = database().await;
    let owner = user(&db, "alice").await;
    let (agents, tools) = services(&db);
    let search = tools.create(owner, tool("search")).await.unwrap();
    let helper = agents.create(owner, agent("helper")).await.unwrap();
    let plain = agents.create(owner, agent("plain")).await.unwrap();
    let mut linked = agent("linked");
    linked.tool_ids = vec![search.id];
    linked.subagent_ids = vec![helper.id];
    let linked = agents.create(owner, linked).await.unwrap();

    let page = agents
        .list(owner, None, &PageParams::parse(None, None).unwrap())
        .await
        .unwrap();
    let by_name = |name: &str| page.items.iter().find(|a| a.name == name).unwrap().clone();
    assert_eq!(by_name("linked"), linked);
    assert_eq!(
        (by_name("linked").tool_ids, by_name("linked").subagent_ids),
        (vec![search.id], vec![helper.id])
    );
    assert!(by_name("plain").tool_ids.is_empty() && by_name("plain").subagent_ids.is_empty());
    assert_eq!(agents.get(owner, linked.id).await.unwrap(), linked);
    assert_eq!(agents.get(owner, plain.id).await.unwrap(), plain);
}
