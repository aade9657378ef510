//! Tools that run: `kind` (`client` | `http`), `approval`, the `http` call with write-only
//! header values, parameters checked as JSON Schema 2020-12, and what a run reads of them.

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{create, read};

fn http_tool() -> Value {
    json!({
        "name": "get_weather",
        "description": "Current weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "kind": "http",
        "approval": "always",
        "http": {
            "method": "GET",
            "url": "https://api.example.com/weather/{city}",
            "headers": {"Authorization": "Bearer {{secret:WEATHER_KEY}}", "X-Team": "blue"},
        },
    })
}

fn path(tool: &Value) -> String {
    format!("/api/v1/tools/{}", tool["id"].as_str().unwrap())
}

fn id(tool: &Value) -> Uuid {
    Uuid::parse_str(tool["id"].as_str().unwrap()).unwrap()
}

/// The `http` column as stored.
async fn stored_http(app: &TestApp, tool: &Value) -> Value {
    use sea_orm::EntityTrait;
    let row = ::agents::entities::tool::Entity::find_by_id(id(tool))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    row.http.unwrap_or(Value::Null)
}

async fn refused(app: &TestApp, user: &TestUser, body: &Value) -> Vec<String> {
    let res = app.post_as(user, "/api/v1/tools", body).send().await.unwrap();
    field_names(&assert_problem(res, 422).await)
}

#[tokio::test]
async fn an_http_tool_reads_back_with_masked_header_values_and_keeps_the_real_ones() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tool = create(&app, &alice, http_tool()).await;
    assert_eq!((&tool["kind"], &tool["approval"]), (&json!("http"), &json!("always")));
    let shown = json!({
        "method": "GET",
        "url": "https://api.example.com/weather/{city}",
        "headers": {"Authorization": "•••", "X-Team": "•••"},
        "timeout_ms": 15000,
        "max_response_bytes": 65536,
    });
    assert_eq!(tool["http"], shown, "defaults filled in, every value masked");
    assert_eq!(read(&app, &alice, &path(&tool)).await, tool);
    let listed = read(&app, &alice, "/api/v1/tools").await;
    assert_eq!(listed["items"][0]["http"], shown);
    let stored = stored_http(&app, &tool).await;
    assert_eq!(
        stored["headers"],
        json!({"Authorization": "Bearer {{secret:WEATHER_KEY}}", "X-Team": "blue"})
    );
    assert!(!tool.to_string().contains("WEATHER_KEY") && !listed.to_string().contains("blue"));
}

#[tokio::test]
async fn a_body_without_kind_is_a_client_tool_that_never_asks() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tool = create(
        &app,
        &alice,
        json!({"name": "lookup", "parameters": {"type": "object"}}),
    )
    .await;
    assert_eq!(
        (&tool["kind"], &tool["approval"], &tool["http"]),
        (&json!("client"), &json!("never"), &Value::Null)
    );
    let explicit = create(
        &app,
        &alice,
        json!({"name": "ask", "parameters": {"type": "object"}, "kind": "client", "approval": "always", "http": null}),
    )
    .await;
    assert_eq!(
        (&explicit["kind"], &explicit["approval"]),
        (&json!("client"), &json!("always"))
    );
}

#[tokio::test]
async fn every_bad_http_field_is_a_422_naming_it_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let with_http = |key: &str, value: Value| {
        let mut body = http_tool();
        body["http"][key] = value;
        body
    };
    let with_header = |name: &str, value: Value| {
        let mut body = http_tool();
        body["http"]["headers"] = json!({name: value});
        body
    };
    let many: serde_json::Map<String, Value> = (0..33).map(|i| (format!("X-H{i}"), json!("v"))).collect();
    let long_url = format!("https://x.example/{}", "a".repeat(2048));
    let cases = [
        (with_http("method", json!("HEAD")), "http.method"),
        (with_http("method", json!("get")), "http.method"),
        (with_http("url", json!("ftp://x.example/f")), "http.url"),
        (with_http("url", json!("/relative/path")), "http.url"),
        (with_http("url", json!("not a url")), "http.url"),
        (with_http("url", json!(long_url)), "http.url"),
        (with_http("url", json!(" https://x.example")), "http.url"),
        (with_http("timeout_ms", json!(0)), "http.timeout_ms"),
        (with_http("timeout_ms", json!(60001)), "http.timeout_ms"),
        (with_http("max_response_bytes", json!(0)), "http.max_response_bytes"),
        (
            with_http("max_response_bytes", json!(1048577)),
            "http.max_response_bytes",
        ),
        (with_http("headers", Value::Object(many)), "http.headers"),
        (with_header("Bad Name", json!("v")), "http.headers.Bad Name"),
        (with_header("Host", json!("evil.example")), "http.headers.Host"),
        (with_header("X-Long", json!("v".repeat(4097))), "http.headers.X-Long"),
        (with_header("X-Line", json!("a\r\nInjected: 1")), "http.headers.X-Line"),
        (with_header("X-Nul", json!("a\u{0}b")), "http.headers.X-Nul"),
        (with_header("X-Key", json!("{{secret:bad-name}}")), "http.headers.X-Key"),
        (with_header("X-Key", json!("Bearer {{secret:KEY")), "http.headers.X-Key"),
        (with_header("X-Key", json!("{{secret:}}")), "http.headers.X-Key"),
        (with_header("X-Key", json!("•••")), "http.headers.X-Key"),
    ];
    for (body, field) in cases {
        assert_eq!(refused(&app, &alice, &body).await, [field]);
    }
    let mut no_http = http_tool();
    no_http.as_object_mut().unwrap().remove("http");
    assert_eq!(refused(&app, &alice, &no_http).await, ["http"]);
    let mut null_http = http_tool();
    null_http["http"] = Value::Null;
    assert_eq!(refused(&app, &alice, &null_http).await, ["http"]);
    let mut client_with_http = http_tool();
    client_with_http["kind"] = json!("client");
    assert_eq!(refused(&app, &alice, &client_with_http).await, ["http"]);
    let mut no_kind_with_http = http_tool();
    no_kind_with_http.as_object_mut().unwrap().remove("kind");
    assert_eq!(refused(&app, &alice, &no_kind_with_http).await, ["http"]);
    let mut bad_kind = http_tool();
    bad_kind["kind"] = json!("mcp");
    assert_eq!(refused(&app, &alice, &bad_kind).await, ["kind"]);
    let mut bad_approval = http_tool();
    bad_approval["approval"] = json!("sometimes");
    assert_eq!(refused(&app, &alice, &bad_approval).await, ["approval"]);
    let mut two = http_tool();
    two["name"] = json!("bad name");
    two["http"]["url"] = json!("ftp://x.example");
    two["http"]["timeout_ms"] = json!(0);
    let mut names = refused(&app, &alice, &two).await;
    names.sort();
    assert_eq!(
        names,
        ["http.timeout_ms", "http.url", "name"],
        "every failing field at once"
    );
    assert_eq!(read(&app, &alice, "/api/v1/tools").await["total"], 0);

    let mut edge = http_tool();
    edge["http"] = json!({
        "method": "DELETE",
        "url": format!("http://x.example/{}", "a".repeat(2048 - 17)),
        "headers": (0..32).map(|i| (format!("X-H{i}"), json!("v".repeat(4096)))).collect::<serde_json::Map<_, _>>(),
        "timeout_ms": 60000,
        "max_response_bytes": 1048576,
    });
    let tool = create(&app, &alice, edge).await;
    assert_eq!(tool["http"]["timeout_ms"], 60000);
}

#[tokio::test]
async fn parameters_must_be_a_valid_json_schema_that_fetches_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let with_parameters = |parameters: Value| json!({"name": "t", "parameters": parameters});
    for parameters in [
        json!({"type": "object", "properties": {"a": {"type": 12}}}),
        json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/schema.json"}}}),
        json!({"type": "object", "$id": "https://example.com/root.json", "properties": {"a": {"$ref": "other.json"}}}),
        json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}),
        json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(unclosed"}}}),
        json!({"type": "object", "minProperties": -1}),
        json!({"type": "object", "required": ["a", "a"]}),
    ] {
        let res = app
            .post_as(&alice, "/api/v1/tools", &with_parameters(parameters.clone()))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), ["parameters"], "{parameters}");
    }
    let res = app
        .post_as(
            &alice,
            "/api/v1/tools",
            &json!({"name": "t", "parameters": {"type": "object", "properties": {"a": {"type": 12}}}}),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("/properties/a/type"),
        "{problem}"
    );
    let local = json!({
        "type": "object",
        "$defs": {"city": {"type": "string", "minLength": 1}},
        "properties": {"city": {"$ref": "#/$defs/city"}, "days": {"type": "integer", "minimum": 1, "maximum": 7}},
        "required": ["city"],
        "additionalProperties": false,
    });
    let tool = create(&app, &alice, with_parameters(local.clone())).await;
    assert_eq!(tool["parameters"], local);
    let res = app
        .patch_as(
            &alice,
            &path(&tool),
            &json!({"parameters": {"type": "object", "properties": {"a": {"type": 12}}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["parameters"]);
}

#[tokio::test]
async fn patch_keeps_kinds_consistent_and_masked_values_keep_stored_ones() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let tool = create(&app, &alice, http_tool()).await;
    let patch = |body: Value| {
        let (app, alice, path) = (&app, &alice, path(&tool));
        async move { app.patch_as(alice, &path, &body).send().await.unwrap() }
    };

    // Absent fields are unchanged.
    let res = patch(json!({"approval": "never"})).await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(
        (&updated["approval"], &updated["http"]),
        (&json!("never"), &tool["http"])
    );

    // A read-back spec sent as is keeps every stored header value.
    let mut spec = updated["http"].clone();
    spec["method"] = json!("POST");
    spec["headers"]["X-Team"] = json!("red");
    let res = patch(json!({"http": spec})).await;
    assert_eq!(res.status(), 200);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["http"]["method"], "POST");
    assert_eq!(
        stored_http(&app, &tool).await["headers"],
        json!({"Authorization": "Bearer {{secret:WEATHER_KEY}}", "X-Team": "red"})
    );
    let mut unknown = updated["http"].clone();
    unknown["headers"]["X-New"] = json!("•••");
    let res = patch(json!({"http": unknown})).await;
    assert_eq!(field_names(&assert_problem(res, 422).await), ["http.headers.X-New"]);

    // An http tool cannot lose its spec, nor a client tool gain one.
    for body in [json!({"http": null}), json!({"kind": "http", "http": null})] {
        assert_eq!(field_names(&assert_problem(patch(body).await, 422).await), ["http"]);
    }
    assert_eq!(
        field_names(&assert_problem(patch(json!({"kind": null})).await, 422).await),
        ["kind"]
    );
    let unchanged = read(&app, &alice, &path(&tool)).await;
    assert_eq!(unchanged, updated, "failed patches change nothing");

    // Becoming a client tool drops the spec; becoming an http tool again needs one.
    let res = patch(json!({"kind": "client"})).await;
    let client: Value = res.json().await.unwrap();
    assert_eq!((&client["kind"], &client["http"]), (&json!("client"), &Value::Null));
    assert_eq!(stored_http(&app, &tool).await, Value::Null);
    assert_eq!(
        field_names(&assert_problem(patch(json!({"kind": "http"})).await, 422).await),
        ["http"]
    );
    assert_eq!(
        field_names(&assert_problem(patch(json!({"http": http_tool()["http"]})).await, 422).await),
        ["http"],
        "a client tool takes no spec"
    );
    let res = patch(json!({"kind": "http", "http": {"method": "GET", "url": "https://b.example/{q}"}})).await;
    assert_eq!(res.status(), 200);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["http"]["headers"], json!({}));
    assert_eq!(again["http"]["timeout_ms"], 15000);
}

#[tokio::test]
async fn runnable_tools_are_the_agents_tools_in_order_unmasked() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let weather = create(&app, &alice, http_tool()).await;
    let lookup = create(
        &app,
        &alice,
        json!({"name": "lookup", "description": "Find", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}),
    )
    .await;
    let unlinked = create(&app, &alice, json!({"name": "other", "parameters": {"type": "object"}})).await;
    let body = json!({"name": "agent", "model": "echo-1", "tool_ids": [lookup["id"], weather["id"]]});
    let res = app.post_as(&alice, "/api/v1/agents", &body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let agent: Value = res.json().await.unwrap();
    let agent_id = Uuid::parse_str(agent["id"].as_str().unwrap()).unwrap();

    let tools = app.state.agents.runnable_tools(alice.id, agent_id).await.unwrap();
    let ids: Vec<Uuid> = tools.iter().map(|t| t.id).collect();
    assert_eq!(ids, [id(&lookup), id(&weather)], "the agent's order");
    assert!(!ids.contains(&id(&unlinked)));
    let (first, second) = (&tools[0], &tools[1]);
    assert_eq!(
        (
            first.name.as_str(),
            first.description.as_deref(),
            first.kind,
            first.approval
        ),
        (
            "lookup",
            Some("Find"),
            ::agents::ToolKind::Client,
            ::agents::ToolApproval::Never
        )
    );
    assert_eq!(first.http, None);
    assert_eq!(first.parameters, lookup["parameters"]);
    assert_eq!(
        (second.kind, second.approval),
        (::agents::ToolKind::Http, ::agents::ToolApproval::Always)
    );
    let http = second.http.as_ref().unwrap();
    assert_eq!(http.method, ::agents::HttpMethod::Get);
    assert_eq!(http.method.as_str(), "GET");
    assert_eq!(http.url, "https://api.example.com/weather/{city}");
    assert_eq!(http.headers["Authorization"], "Bearer {{secret:WEATHER_KEY}}");
    assert_eq!(http.headers["X-Team"], "blue");
    assert_eq!((http.timeout_ms, http.max_response_bytes), (15000, 65536));
    assert!(
        app.state.agents.runnable_tools(bob.id, agent_id).await.is_err(),
        "another owner's agent"
    );

    // The run engine checks each call's arguments against the stored parameters.
    use ::agents::arguments::check;
    assert_eq!(check(&first.parameters, &json!({"q": "rust"})), Ok(()));
    let err = check(&first.parameters, &json!({"q": 1})).unwrap_err();
    assert!(err.contains("/q"), "{err}");
    let err = check(&second.parameters, &json!({})).unwrap_err();
    assert!(err.contains("city"), "{err}");
}
