//! Sub-agent delegation against a fake OpenAI-compatible server: the model calls the
//! sub-agent's tool, the sub-agent runs as a child execution, its output goes back to the
//! model as the tool's result.

use agentry_tests::TestApp;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{echo_agent, events, finished, read, start, types};
use crate::agents::create_agent;

/// An OpenAI streaming body of these chunks.
fn sse(chunks: &[Value]) -> String {
    chunks
        .iter()
        .map(|c| format!("data: {c}\n\n"))
        .chain(["data: [DONE]\n\n".to_owned()])
        .collect()
}

/// A fake OpenAI answering first with a call of `tool`, then with `final_text`.
async fn fake_openai(tool: &str, final_text: &str) -> MockServer {
    let server = MockServer::start().await;
    let call = sse(&[
        json!({"model": "fake-1", "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
            {"index": 0, "id": "call_1", "type": "function", "function": {"name": tool, "arguments": ""}}]}}]}),
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": "{\"input\": \"look it up\"}"}}]}}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 7}}),
    ]);
    let answer = sse(&[
        json!({"model": "fake-1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": final_text}}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 4}}),
    ]);
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(call, "text/event-stream"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(answer, "text/event-stream"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_model_delegates_to_a_subagent_and_gets_its_output_back() {
    let server = fake_openai("ask_researcher", "According to the researcher: done.").await;
    let uri = server.uri();
    let app = TestApp::spawn_with(|c| {
        c.openai_base_url = Some(uri);
        c.openai_api_key = Some("sk-test".into());
        c.llm_max_retries = 0;
    })
    .await;
    let ada = app.register("ada").await;
    let researcher = echo_agent(&app, &ada, "Researcher").await;
    let lead = create_agent(
        &app,
        &ada,
        json!({"name": "Lead", "provider": "openai", "model": "fake-1", "subagent_ids": [researcher]}),
    )
    .await;
    let id = start(&app, &ada, lead["id"].as_str().unwrap(), "write a report").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = finished(&app, &ada, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["output"], "According to the researcher: done.");
    assert_eq!(done["usage"], json!({"prompt_tokens": 31, "completion_tokens": 11}));

    let all = events(&app, &ada, &id, 0).await;
    assert_eq!(
        types(&all),
        [
            "execution.started",
            "tool_call.created",
            "subagent.started",
            "subagent.completed",
            "tool_call.completed",
            "message.delta",
            "execution.completed"
        ]
    );
    assert_eq!(all[1]["data"]["kind"], "subagent");
    let child_id = all[2]["data"]["execution_id"].as_str().unwrap().to_owned();
    assert_eq!(all[2]["data"]["agent_id"], researcher.as_str());
    assert_eq!(all[3]["data"]["execution_id"], child_id.as_str());
    assert_eq!(all[3]["data"]["status"], "completed");
    assert_eq!(
        (&all[4]["data"]["is_error"], &all[4]["data"]["output"]),
        (&json!(false), &json!("echo: look it up"))
    );

    let child = read(&app, &ada, &child_id).await;
    assert_eq!(
        (child["parent_id"].as_str(), child["depth"].as_u64()),
        (Some(id.as_str()), Some(1))
    );
    assert_eq!(
        (child["input"].as_str(), child["output"].as_str()),
        (Some("look it up"), Some("echo: look it up"))
    );
    let child_events = events(&app, &ada, &child_id, 0).await;
    assert_eq!(types(&child_events).last(), Some(&"execution.completed"));

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let first: Value = requests[0].body_json().unwrap();
    assert_eq!(first["tools"][0]["function"]["name"], "ask_researcher");
    assert_eq!(
        first["tools"][0]["function"]["parameters"]["required"],
        json!(["input"])
    );
    let second: Value = requests[1].body_json().unwrap();
    let tool_result = second["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        tool_result,
        json!({"role": "tool", "content": "echo: look it up", "tool_call_id": "call_1"})
    );
}
