//! `/v1/responses` on the offline echo provider: a response is an execution (same id);
//! plain, in the background, streamed with typed events whose `sequence_number` replays
//! exactly, continued with `previous_response_id` and `function_call_output`, cancelled,
//! deleted; bad input is a 4xx naming the parameter.

use std::time::Duration;

use agentry_tests::{TestApp, TestUser, assert_problem};
use serde_json::{Value, json};

use super::agent;

const RESPONSES: &str = "/v1/responses";

async fn create(app: &TestApp, user: &TestUser, body: Value) -> reqwest::Response {
    app.post_as(user, RESPONSES, &body).send().await.unwrap()
}

async fn created(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = create(app, user, body).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// `(event, data)` of every frame of a typed event stream.
async fn typed_events(res: reqwest::Response) -> Vec<(String, Value)> {
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    text.split("\n\n")
        .filter_map(|frame| {
            let event = frame.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = frame.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((event.to_owned(), serde_json::from_str(data).unwrap()))
        })
        .collect()
}

/// The text of every `output_text` part of a response.
fn output_text(response: &Value) -> String {
    response["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().unwrap().iter())
        .filter_map(|part| part["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_response_is_an_execution_with_openais_shape() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let response = created(
        &app,
        &ada,
        json!({"model": "writer", "input": "hello there", "instructions": "be brief", "metadata": {"ticket": "7"}}),
    )
    .await;
    assert_eq!(response["object"], "response");
    assert_eq!(response["status"], "completed");
    assert_eq!(response["model"], "writer");
    assert_eq!(response["instructions"], "be brief");
    assert_eq!(response["metadata"], json!({"ticket": "7"}));
    assert_eq!(output_text(&response), "echo: hello there");
    let item = &response["output"][0];
    assert_eq!(
        (&item["type"], &item["role"], &item["status"]),
        (&json!("message"), &json!("assistant"), &json!("completed"))
    );
    assert_eq!(item["content"][0]["type"], "output_text");
    // Echo counts words: instructions 2 + input 2, answer 3.
    assert_eq!(
        (
            &response["usage"]["input_tokens"],
            &response["usage"]["output_tokens"],
            &response["usage"]["total_tokens"]
        ),
        (&json!(4), &json!(3), &json!(7))
    );
    let id = response["id"].as_str().unwrap();
    let run = app.get_ok(&ada, &format!("/api/v1/executions/{id}")).await;
    assert_eq!(run["status"], "completed");
    assert_eq!(app.get_ok(&ada, &format!("{RESPONSES}/{id}")).await, response);

    let res = app.delete_as(&ada, &format!("{RESPONSES}/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"id": id, "object": "response", "deleted": true})
    );
    for path in [format!("{RESPONSES}/{id}"), format!("/api/v1/executions/{id}")] {
        let res = app.get_as(&ada, &path).send().await.unwrap();
        assert_problem(res, 404).await;
    }
}

#[tokio::test]
async fn background_answers_queued_and_the_response_is_read_later() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let queued = created(
        &app,
        &ada,
        json!({"model": "writer", "input": "later please", "background": true}),
    )
    .await;
    assert_eq!(queued["background"], true);
    assert!(
        ["queued", "in_progress", "completed"].contains(&queued["status"].as_str().unwrap()),
        "{queued}"
    );
    let id = queued["id"].as_str().unwrap();
    let mut response = Value::Null;
    for _ in 0..100 {
        response = app.get_ok(&ada, &format!("{RESPONSES}/{id}")).await;
        if response["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(response["status"], "completed", "{response}");
    assert_eq!(output_text(&response), "echo: later please");
}

#[tokio::test]
async fn a_streamed_response_sends_typed_events_and_replays_them_from_any_sequence_number() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let events = typed_events(
        create(
            &app,
            &ada,
            json!({"model": "writer", "input": "one two", "stream": true}),
        )
        .await,
    )
    .await;
    let kinds: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"response.created"));
    assert_eq!(kinds.last(), Some(&"response.completed"));
    for expected in [
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ] {
        assert!(kinds.contains(&expected), "{expected} in {kinds:?}");
    }
    for (i, (kind, data)) in events.iter().enumerate() {
        assert_eq!(&data["type"], kind);
        assert_eq!(data["sequence_number"], i, "{kind}");
    }
    let text: String = events
        .iter()
        .filter(|(kind, _)| kind == "response.output_text.delta")
        .map(|(_, data)| data["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "echo: one two");
    let completed = &events.last().unwrap().1["response"];
    assert_eq!(completed["status"], "completed");
    let id = completed["id"].as_str().unwrap();

    let replay = typed_events(
        app.get_as(&ada, &format!("{RESPONSES}/{id}?stream=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(replay.len(), events.len());
    for ((kind, data), (again, data_again)) in events.iter().zip(&replay) {
        assert_eq!(
            (kind, &data["sequence_number"]),
            (again, &data_again["sequence_number"])
        );
    }
    let resumed = typed_events(
        app.get_as(&ada, &format!("{RESPONSES}/{id}?stream=true&starting_after=3"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(resumed.len(), events.len() - 4);
    assert_eq!(resumed[0].1["sequence_number"], 4);
    assert_eq!(resumed[0].0, events[4].0);
}

#[tokio::test]
async fn function_calls_end_the_response_and_their_outputs_continue_it() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let tools = json!([{"type": "function", "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]);
    let first = created(
        &app,
        &ada,
        json!({"model": "writer", "tools": tools, "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "/call get_weather {\"city\": \"Oslo\"}"}]}
        ]}),
    )
    .await;
    assert_eq!(first["status"], "completed", "{first}");
    let call = first["output"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call")
        .unwrap()
        .clone();
    assert_eq!(call["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap(),
        json!({"city": "Oslo"})
    );

    let second = created(
        &app,
        &ada,
        json!({"model": "writer", "tools": tools, "previous_response_id": first["id"], "input": [
            {"type": "function_call_output", "call_id": call["call_id"], "output": "rain"}
        ]}),
    )
    .await;
    assert_ne!(second["id"], first["id"]);
    assert_eq!(second["previous_response_id"], first["id"]);
    assert_eq!(output_text(&second), "echo: get_weather returned rain");

    let third = created(
        &app,
        &ada,
        json!({"model": "writer", "previous_response_id": second["id"], "input": "and tomorrow?"}),
    )
    .await;
    assert_eq!(output_text(&third), "echo: and tomorrow?");
}

#[tokio::test]
async fn a_running_response_is_cancelled() {
    let app = TestApp::spawn_with(|c| c.echo_word_delay_ms = 200).await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let queued = created(
        &app,
        &ada,
        json!({"model": "writer", "input": "a slow answer of many words", "background": true}),
    )
    .await;
    let id = queued["id"].as_str().unwrap();
    let res = app
        .post_as(&ada, &format!("{RESPONSES}/{id}/cancel"), &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    let events = typed_events(
        app.get_as(&ada, &format!("{RESPONSES}/{id}?stream=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (kind, data) = events.last().unwrap();
    assert_eq!(kind, "error", "{events:?}");
    assert!(data["message"].as_str().is_some_and(|m| !m.is_empty()), "{data}");
}

#[tokio::test]
async fn bad_input_is_a_4xx_naming_the_param() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    agent(&app, &ada, "writer").await;
    let cases = [
        (json!({"model": "nobody", "input": "hi"}), 404, "model"),
        (json!({"model": "writer"}), 422, "input"),
        (
            json!({"model": "writer", "input": "hi", "previous_response_id": "00000000-0000-7000-8000-000000000000"}),
            404,
            "previous_response_id",
        ),
        (
            json!({"model": "writer", "input": [{"type": "input_image", "image_url": "x"}]}),
            422,
            "input[0].type",
        ),
        (
            json!({"model": "writer", "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}),
            422,
            "input[0].content[0].type",
        ),
        (
            json!({"model": "writer", "input": [{"role": "wizard", "content": "x"}]}),
            422,
            "input[0].role",
        ),
        (
            json!({"model": "writer", "input": "hi", "tools": [{"type": "web_search"}]}),
            422,
            "tools[0].type",
        ),
        (
            json!({"model": "writer", "input": "hi", "temperature": 9}),
            422,
            "temperature",
        ),
    ];
    for (body, status, param) in cases {
        let problem = assert_problem(create(&app, &ada, body.clone()).await, status).await;
        assert_eq!(problem["error"]["param"], param, "{body}: {problem}");
    }
    for path in [
        format!("{RESPONSES}/nope"),
        format!("{RESPONSES}/00000000-0000-7000-8000-000000000000"),
    ] {
        let problem = assert_problem(app.get_as(&ada, &path).send().await.unwrap(), 404).await;
        assert_eq!(problem["error"]["type"], "not_found_error");
    }
}
