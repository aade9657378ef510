//! Sub-agents as tools, the depth and step limits, and conversations as context.

use crate::common::{ScriptedProvider, answer, assert_status, config, harness, tool_call, types, user};
use conversations::schemas::ConversationCreate;
use executions::events::{Event, SubagentCompleted};
use executions::schemas::ExecutionCreate;
use executions::{ExecutionStatus, RunnerConfig};
use llm::Role;
use serde_json::json;

#[tokio::test]
async fn a_tool_call_runs_the_subagent_as_a_child_execution_and_feeds_back_its_output() {
    let script = ScriptedProvider::new(vec![
        tool_call("ask_researcher", "find facts"),
        answer("Done: echo: find facts"),
    ]);
    let h = harness(vec![("scripted", script.clone())], config()).await;
    let owner = user(&h.db, "alice").await;
    let researcher = h
        .agent(
            owner,
            json!({"name": "Researcher", "model": "echo-1", "description": "Finds facts"}),
        )
        .await;
    let lead = h
        .agent(
            owner,
            json!({"name": "Lead", "model": "m", "provider": "scripted", "subagent_ids": [researcher]}),
        )
        .await;
    let parent = h.start(owner, lead, "research this").await;
    let done = h.finished(owner, parent.id).await;
    assert_status(&done, ExecutionStatus::Completed);
    assert_eq!(done.output.as_deref(), Some("Done: echo: find facts"));
    assert_eq!((done.usage.prompt_tokens, done.usage.completion_tokens), (8, 3));

    let events = h.events(owner, parent.id).await;
    assert_eq!(
        types(&events),
        vec![
            "execution.started",
            "tool_call.created",
            "subagent.started",
            "subagent.completed",
            "tool_call.completed",
            "message.delta",
            "execution.completed"
        ]
    );
    let Event::SubagentStarted(started) = &events[2].event else {
        panic!("{:?}", events[2]);
    };
    let child_id = started.execution_id;
    assert_eq!(started.agent_id.to_string(), researcher.to_string());
    assert_eq!(
        events[3].event,
        Event::SubagentCompleted(SubagentCompleted {
            agent_id: started.agent_id,
            execution_id: child_id,
            status: ExecutionStatus::Completed
        })
    );
    let child = h.executions.get(owner, child_id).await.unwrap();
    assert_eq!(
        (child.parent_id, child.depth, child.status),
        (Some(parent.id), 1, ExecutionStatus::Completed)
    );
    assert_eq!(
        (child.input.as_str(), child.output.as_deref()),
        ("find facts", Some("echo: find facts"))
    );
    let child_events = h.events(owner, child_id).await;
    assert_eq!(types(&child_events).first(), Some(&"execution.started"));
    assert_eq!(types(&child_events).last(), Some(&"execution.completed"));

    let requests = script.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].tools.len(), 1);
    assert_eq!(requests[0].tools[0].name, "ask_researcher");
    assert_eq!(requests[0].tools[0].parameters["required"], json!(["input"]));
    let second = &requests[1].messages;
    assert_eq!(second[1].tool_calls[0].name, "ask_researcher");
    assert_eq!(
        (second[2].role, second[2].content.as_str()),
        (Role::Tool, "echo: find facts")
    );
    assert_eq!(second[2].tool_call_id.as_deref(), Some("call-ask_researcher"));
}

#[tokio::test]
async fn an_unknown_tool_is_answered_with_an_error_result() {
    let script = ScriptedProvider::new(vec![tool_call("ask_nobody", "x"), answer("ok")]);
    let h = harness(vec![("scripted", script.clone())], config()).await;
    let owner = user(&h.db, "alice").await;
    let lead = h
        .agent(owner, json!({"name": "Lead", "model": "m", "provider": "scripted"}))
        .await;
    let done = h.finished(owner, h.start(owner, lead, "go").await.id).await;
    assert_status(&done, ExecutionStatus::Completed);
    assert!(script.requests()[0].tools.is_empty());
    assert!(
        script.requests()[1].messages[2]
            .content
            .starts_with("error: there is no tool named")
    );
}

#[tokio::test]
async fn no_tools_are_offered_at_the_depth_limit_and_steps_are_bounded() {
    let flat = RunnerConfig {
        max_depth: 0,
        ..config()
    };
    let script = ScriptedProvider::new(vec![answer("plain")]);
    let h = harness(vec![("scripted", script.clone())], flat).await;
    let owner = user(&h.db, "alice").await;
    let helper = h.agent(owner, json!({"name": "Helper", "model": "echo-1"})).await;
    let lead = h
        .agent(
            owner,
            json!({"name": "Lead", "model": "m", "provider": "scripted", "subagent_ids": [helper]}),
        )
        .await;
    h.finished(owner, h.start(owner, lead, "go").await.id).await;
    assert!(script.requests()[0].tools.is_empty(), "depth 0 may not delegate");

    let two_steps = RunnerConfig {
        max_steps: 2,
        ..config()
    };
    let looping = ScriptedProvider::new(vec![
        tool_call("ask_helper", "a"),
        tool_call("ask_helper", "b"),
        answer("late"),
    ]);
    let h = harness(vec![("scripted", looping)], two_steps).await;
    let owner = user(&h.db, "alice").await;
    let helper = h.agent(owner, json!({"name": "Helper", "model": "echo-1"})).await;
    let lead = h
        .agent(
            owner,
            json!({"name": "Lead", "model": "m", "provider": "scripted", "subagent_ids": [helper]}),
        )
        .await;
    let failed = h.finished(owner, h.start(owner, lead, "go").await.id).await;
    assert_status(&failed, ExecutionStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("the agent did not finish within 2 steps"));
}

#[tokio::test]
async fn cancelling_the_parent_cancels_the_running_child() {
    let script = ScriptedProvider::new(vec![tool_call("ask_slowpoke", &vec!["w"; 200].join(" "))]);
    let h = harness(vec![("scripted", script)], config()).await;
    let owner = user(&h.db, "alice").await;
    let slow = h
        .agent(
            owner,
            json!({"name": "Slowpoke", "model": "echo-1", "provider": "slow"}),
        )
        .await;
    let lead = h
        .agent(
            owner,
            json!({"name": "Lead", "model": "m", "provider": "scripted", "subagent_ids": [slow]}),
        )
        .await;
    let parent = h.start(owner, lead, "go").await;
    let child_id = loop {
        let events = h.events(owner, parent.id).await;
        if let Some(Event::SubagentStarted(started)) =
            events.iter().map(|e| &e.event).find(|e| e.tag() == "subagent.started")
        {
            break started.execution_id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    h.executions.cancel(owner, parent.id).await.unwrap();
    let child = h.finished(owner, child_id).await;
    assert_status(&child, ExecutionStatus::Cancelled);
    assert_eq!(
        types(&h.events(owner, child_id).await).last(),
        Some(&"execution.cancelled")
    );
    assert_eq!(
        types(&h.events(owner, parent.id).await).last(),
        Some(&"execution.cancelled")
    );
}

#[tokio::test]
async fn a_conversation_gives_the_context_and_receives_input_and_output() {
    let script = ScriptedProvider::new(vec![answer("the answer")]);
    let h = harness(vec![("scripted", script.clone())], config()).await;
    let owner = user(&h.db, "alice").await;
    let agent = h
        .agent(owner, json!({"name": "Lead", "model": "m", "provider": "scripted"}))
        .await;
    let create: ConversationCreate = serde_json::from_value(json!({"title": "t"})).unwrap();
    let conversation = h.conversations.create(owner, create).await.unwrap();
    h.conversations
        .append_message(owner, conversation.id, conversations::NewMessage::user("earlier"))
        .await
        .unwrap();

    let request: ExecutionCreate =
        serde_json::from_value(json!({"input": "now", "conversation_id": conversation.id})).unwrap();
    let started = h.executions.start(owner, agent, request).await.unwrap();
    assert_eq!(started.conversation_id, Some(conversation.id));
    h.finished(owner, started.id).await;

    let sent: Vec<String> = script.requests()[0]
        .messages
        .iter()
        .map(|m| m.content.clone())
        .collect();
    assert_eq!(sent, vec!["earlier", "now"]);
    let history = h.conversations.history(owner, conversation.id, 10).await.unwrap();
    let stored: Vec<(Role, String)> = history.into_iter().map(|m| (m.role, m.content)).collect();
    assert_eq!(
        stored,
        vec![
            (Role::User, "earlier".into()),
            (Role::User, "now".into()),
            (Role::Assistant, "the answer".into())
        ]
    );

    let other = user(&h.db, "bob").await;
    let bobs_agent = h.agent(other, json!({"name": "B", "model": "echo-1"})).await;
    let foreign: ExecutionCreate =
        serde_json::from_value(json!({"input": "x", "conversation_id": conversation.id})).unwrap();
    let refused = h.executions.start(other, bobs_agent, foreign).await;
    assert!(matches!(refused, Err(executions::ExecutionError::ConversationNotYours(id)) if id == conversation.id));
}
