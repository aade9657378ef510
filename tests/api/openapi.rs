//! The served OpenAPI document is the truth: every documented operation is served, and
//! every served route is documented.

use agentry_tests::TestApp;
use reqwest::Method;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Fills `{param}` segments with a syntactically valid id.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') {
                "00000000-0000-7000-8000-000000000000"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn spec(app: &TestApp) -> Value {
    let res = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn document_is_openapi_3_1_with_login_flow_and_problem_schema() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["bearerFormat"], "agk_…");
    assert_eq!(schemes["oauth2"]["flows"]["password"]["tokenUrl"], "/api/v1/auth/login");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    for path in ["/health", "/health/ready"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} documented");
    }
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 12, "{} paths", paths.len());
    for (path, item) in paths {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let res = app
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &concrete(path),
                )
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let body: Value = res.json().await.unwrap_or(Value::Null);
            let unrouted = status == 405
                || (status == 404 && body["detail"].as_str().is_some_and(|d| d.starts_with("no route for")));
            assert!(
                !unrouted,
                "{method} {path} is documented but not served: {status} {body}"
            );
        }
    }
}

#[tokio::test]
async fn undocumented_methods_are_not_served() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_none()) {
            let res = app
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &concrete(path),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 405, "{method} {path} is served but not documented");
        }
    }
    // Neighbours of documented paths that are not documented are not served either.
    for path in [
        "/api/v1",
        "/api/v1/auth",
        "/api/v1/users/me/other",
        "/health/live",
        "/api/v2/users/me",
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn every_operation_documents_its_errors_as_problems() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let op = &item[*method];
            let responses = op["responses"].as_object().unwrap();
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            }
            if op.get("requestBody").is_some() {
                for status in ["413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path} lacks {status}");
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let reference = response["$ref"].as_str().unwrap_or("");
                    let inline = response["content"]["application/problem+json"].is_object();
                    let health = path.starts_with("/health");
                    assert!(
                        reference.starts_with("#/components/responses/") || inline || health,
                        "{method} {path} {status} is not a problem response: {response}"
                    );
                }
            }
        }
    }
    let responses = doc["components"]["responses"].as_object().unwrap();
    assert!(
        responses["NotFound"]["content"]["application/problem+json"]["schema"]["$ref"]
            .as_str()
            .unwrap()
            .ends_with("/Problem")
    );
}

/// The operations an API key may not call (`403`): they manage keys or the account's
/// credentials and existence.
const LOGIN_ONLY: [(&str, &str); 6] = [
    ("post", "/api/v1/api-keys"),
    ("get", "/api/v1/api-keys"),
    ("get", "/api/v1/api-keys/{api_key_id}"),
    ("delete", "/api/v1/api-keys/{api_key_id}"),
    ("post", "/api/v1/users/me/password"),
    ("delete", "/api/v1/users/me"),
];

#[tokio::test]
async fn every_operation_taking_an_access_token_also_takes_an_api_key_but_the_login_only_ones() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let mut login_only = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS.iter().filter(|m| item.get(**m).is_some()) {
            let op = &item[*method];
            let schemes: Vec<&str> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|requirement| requirement.as_object().unwrap().keys().map(String::as_str))
                .collect();
            if !schemes.contains(&"bearer") {
                continue;
            }
            assert!(schemes.contains(&"oauth2"), "{method} {path}: {schemes:?}");
            if !schemes.contains(&"api_key") {
                assert!(
                    op["responses"].get("403").is_some(),
                    "{method} {path} refuses keys with 403"
                );
                login_only.push((*method, path.as_str()));
            }
        }
    }
    login_only.sort_unstable();
    let mut expected = LOGIN_ONLY.to_vec();
    expected.sort_unstable();
    assert_eq!(login_only, expected);
}

#[tokio::test]
async fn the_cli_prints_the_same_document() {
    let app = TestApp::spawn().await;
    let served = spec(&app).await;
    let built = serde_json::to_value(api_server::app::openapi()).unwrap();
    assert_eq!(served, built);
}

/// Every `$ref` string anywhere under `value`, with where it stands.
fn refs<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                match (key.as_str(), item) {
                    ("$ref", Value::String(target)) => out.push((at.clone(), target)),
                    _ => refs(item, format!("{at}/{key}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                refs(item, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_reference_resolves_inside_the_document() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(found.len() > 50, "only {} references", found.len());
    let dangling: Vec<_> = found
        .iter()
        .filter(|(_, target)| {
            target
                .strip_prefix('#')
                .is_none_or(|pointer| doc.pointer(pointer).is_none())
        })
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:?}");
}

#[tokio::test]
async fn the_schemas_say_what_the_server_refuses() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let schemas = &doc["components"]["schemas"];
    // `null` is refused (422) for these fields, so the schema must not offer it.
    for (schema, field) in [
        ("UserUpdate", "email"),
        ("UserUpdate", "username"),
        ("UserUpdate", "password"),
        ("UserUpdate", "is_active"),
        ("UserUpdate", "is_superuser"),
        ("UserUpdateMe", "email"),
        ("UserUpdateMe", "username"),
        ("AgentUpdate", "name"),
        ("ToolUpdate", "parameters"),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert!(property.is_object(), "{schema}.{field} is documented");
        let nullable = property["type"]
            .as_array()
            .is_some_and(|types| types.contains(&Value::from("null")));
        assert!(
            !nullable,
            "{schema}.{field} refuses null but the spec allows it: {property}"
        );
    }
    // `null` clears these, so the schema must offer it.
    for (schema, field) in [("UserUpdate", "full_name"), ("AgentUpdate", "description")] {
        let types = &schemas[schema]["properties"][field]["type"];
        assert!(
            types.as_array().is_some_and(|t| t.contains(&Value::from("null"))),
            "{schema}.{field}: {types}"
        );
    }
    // `null` is read as empty for these, so the schema offers it too.
    for (schema, field) in [
        ("AgentCreate", "tool_ids"),
        ("AgentCreate", "subagent_ids"),
        ("AgentCreate", "metadata"),
        ("ConversationCreate", "metadata"),
    ] {
        let types = &schemas[schema]["properties"][field]["type"];
        assert!(
            types.as_array().is_some_and(|t| t.contains(&Value::from("null"))),
            "{schema}.{field}: {types}"
        );
    }
    for schema in ["AgentCreate", "AgentUpdate", "ConversationCreate", "ConversationUpdate"] {
        assert_eq!(
            schemas[schema]["properties"]["metadata"]["maxProperties"], 16,
            "{schema}"
        );
    }
    assert_eq!(
        schemas["PasswordChange"]["properties"]["current_password"]["minLength"],
        1
    );
    for schema in ["ToolCreate", "ToolUpdate"] {
        let parameters = &schemas[schema]["properties"]["parameters"];
        assert_eq!(
            parameters["required"],
            serde_json::json!(["type"]),
            "{schema}: {parameters}"
        );
        assert_eq!(parameters["properties"]["type"]["enum"], serde_json::json!(["object"]));
    }
}

/// Every schema object anywhere under `value`, with where it stands (objects holding `type`).
fn typed<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if map.get("type").is_some_and(|t| t.is_string() || t.is_array()) {
                out.push((at.clone(), value));
            }
            for (key, item) in map {
                typed(item, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                typed(item, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn pages_reference_their_item_schema_and_always_carry_next_cursor() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let pages: Vec<_> = schemas.iter().filter(|(name, _)| name.starts_with("Page")).collect();
    assert!(pages.len() >= 6, "{} page schemas", pages.len());
    for (name, page) in pages {
        let item = page["properties"]["items"]["items"]["$ref"]
            .as_str()
            .unwrap_or_default();
        let named = item.strip_prefix("#/components/schemas/").unwrap_or_default();
        assert!(
            schemas.contains_key(named) && name.ends_with(named),
            "{name}.items must reference its item schema: {}",
            page["properties"]["items"]
        );
        // Always present, `null` on the last page: generators type it `string | null`.
        let required = page["required"].as_array().unwrap();
        assert!(required.contains(&Value::from("next_cursor")), "{name}: {required:?}");
        assert_eq!(
            page["properties"]["next_cursor"]["type"],
            serde_json::json!(["string", "null"]),
            "{name}"
        );
    }
}

#[tokio::test]
async fn objects_say_what_their_keys_hold() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let schemas = &doc["components"]["schemas"];
    for schema in [
        "Agent",
        "AgentCreate",
        "AgentUpdate",
        "Conversation",
        "ConversationCreate",
        "ConversationUpdate",
    ] {
        assert_eq!(
            schemas[schema]["properties"]["metadata"]["additionalProperties"], true,
            "{schema}.metadata holds any JSON value under each key"
        );
    }
    for schema in ["Tool", "ToolCreate", "ToolUpdate"] {
        let parameters = &schemas[schema]["properties"]["parameters"];
        assert_eq!(
            parameters["additionalProperties"], true,
            "{schema}: other JSON Schema keywords"
        );
        assert_eq!(
            parameters["properties"]["properties"]["additionalProperties"]["type"], "object",
            "{schema}: each argument is a JSON Schema object"
        );
    }
    // A bare `{"type": "object"}` becomes an object that holds nothing
    // (`Record<string, never>`) in generated TypeScript, whatever it holds on the wire; an
    // object that is always empty says so with `additionalProperties: false`.
    let mut found = Vec::new();
    typed(&doc, String::new(), &mut found);
    let closed: Vec<_> = found
        .iter()
        .filter(|(_, schema)| {
            let object = schema["type"] == "object"
                || schema["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&Value::from("object")));
            object && schema.get("properties").is_none() && schema.get("additionalProperties").is_none()
        })
        .map(|(at, _)| at)
        .collect();
    assert!(closed.is_empty(), "objects that say nothing of their keys: {closed:?}");
}

#[tokio::test]
async fn request_fields_with_a_server_default_stay_optional_for_generators() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let schemas = &doc["components"]["schemas"];
    let mut bodies = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for media in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flat_map(|c| c.values())
            {
                if let Some(name) = media["schema"]["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
                    bodies.push(name.to_owned());
                }
            }
        }
    }
    assert!(bodies.iter().any(|b| b == "AgentCreate"), "{bodies:?}");
    for name in &bodies {
        for (field, property) in schemas[name]["properties"].as_object().into_iter().flatten() {
            // openapi-typescript reads `default` as "always present": the field would become
            // required in the request type.
            assert!(
                property.get("default").is_none(),
                "{name}.{field} has a default: {property}"
            );
        }
    }
    for (schema, field) in [
        ("AgentCreate", "temperature"),
        ("MessageCreate", "stream"),
        ("ChatMessageCreate", "stream"),
    ] {
        let required = schemas[schema]["required"].as_array().cloned().unwrap_or_default();
        assert!(!required.contains(&Value::from(field)), "{schema}.{field}");
        assert!(schemas[schema]["properties"][field].is_object(), "{schema}.{field}");
    }
}

#[tokio::test]
async fn the_json_reply_is_the_first_success_response_a_client_sees() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    for path in [
        "/api/v1/chat/messages",
        "/api/v1/conversations/{conversation_id}/messages",
    ] {
        let responses = doc["paths"][path]["post"]["responses"].as_object().unwrap();
        // Swagger UI sends the first media type of the first success response (in document
        // order) with content as `Accept`.
        let (status, first) = responses
            .iter()
            .find(|(status, response)| status.starts_with('2') && response.get("content").is_some())
            .unwrap();
        assert_eq!(status, "201", "{path}");
        let media: Vec<_> = first["content"].as_object().unwrap().keys().collect();
        assert_eq!(media.first().map(|m| m.as_str()), Some("application/json"), "{path}");
        let stream = responses
            .values()
            .any(|response| response["content"].get("text/event-stream").is_some());
        assert!(stream, "{path}: the stream stays documented");
    }
}

#[tokio::test]
async fn login_documents_one_json_body() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let content = doc["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]
        .as_object()
        .unwrap();
    // Two bodies in one operation make openapi-python-client write a module that fails at
    // import; the form stays accepted through the `oauth2` scheme's token URL.
    assert_eq!(content.keys().collect::<Vec<_>>(), ["application/json"]);
    assert_eq!(
        content["application/json"]["schema"]["$ref"],
        "#/components/schemas/LoginRequest"
    );
}

/// The schema named by a `$ref`.
fn resolve<'a>(doc: &'a Value, reference: &Value) -> &'a Value {
    let name = reference.as_str().unwrap().trim_start_matches("#/components/schemas/");
    &doc["components"]["schemas"][name]
}

/// The discriminator mapping of a `oneOf` schema, after checking each variant is named.
fn event_types(doc: &Value, union: &Value, property: &str) -> Vec<String> {
    assert_eq!(union["discriminator"]["propertyName"], property, "{union}");
    let mapping = union["discriminator"]["mapping"].as_object().unwrap();
    let one_of: Vec<&Value> = union["oneOf"].as_array().unwrap().iter().map(|v| &v["$ref"]).collect();
    assert_eq!(one_of.len(), mapping.len());
    for (tag, reference) in mapping {
        assert!(one_of.contains(&reference), "{tag} is one of the variants");
        let variant = resolve(doc, reference);
        assert_eq!(
            variant["properties"][property]["enum"],
            serde_json::json!([tag]),
            "{tag}"
        );
        let data = &variant["properties"]["data"];
        // A `data` member is the parsed payload (the event list) or, for an SSE event, a
        // string of JSON whose schema is `contentSchema` (OpenAPI 3.2's event-stream items).
        let payload = match data["contentSchema"].is_object() {
            true => {
                assert_eq!(data["contentMediaType"], "application/json", "{tag}");
                &data["contentSchema"]["$ref"]
            }
            false => &data["$ref"],
        };
        assert!(resolve(doc, payload).is_object(), "{tag} data");
    }
    mapping.keys().cloned().collect()
}

#[tokio::test]
async fn every_event_type_is_a_named_variant_of_a_discriminated_union() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let schemas = &doc["components"]["schemas"];
    let mut execution = event_types(&doc, &schemas["ExecutionEvent"], "type");
    execution.sort();
    assert_eq!(
        execution,
        [
            "execution.cancelled",
            "execution.completed",
            "execution.expired",
            "execution.failed",
            "execution.input_received",
            "execution.requires_action",
            "execution.started",
            "message.completed",
            "message.created",
            "message.delta",
            "subagent.completed",
            "subagent.started",
            "tool_call.completed",
            "tool_call.created"
        ]
    );
    let delta = &schemas["MessageDeltaEvent"];
    assert_eq!(
        delta["required"],
        serde_json::json!(["seq", "execution_id", "type", "data", "created_at"])
    );
    let events = &doc["paths"]["/api/v1/executions/{execution_id}/events"]["get"]["responses"]["200"];
    let list = resolve(&doc, &events["content"]["application/json"]["schema"]["$ref"]);
    assert_eq!(
        list["properties"]["items"]["items"]["$ref"],
        "#/components/schemas/ExecutionEvent"
    );

    let mut chat = event_types(&doc, &schemas["ChatStreamEvent"], "event");
    chat.sort();
    assert_eq!(
        chat,
        [
            "error",
            "execution.requires_action",
            "message.completed",
            "message.created",
            "message.delta",
            "tool_call.completed",
            "tool_call.created"
        ]
    );
    for path in [
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/chat/messages",
    ] {
        let responses = &doc["paths"][path]["post"]["responses"];
        assert_eq!(
            responses["2XX"]["content"]["text/event-stream"]["schema"]["$ref"], "#/components/schemas/ChatStreamEvent",
            "{path}"
        );
        assert_eq!(
            responses["201"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/Message",
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_websocket_route_is_documented_and_flagged_for_generators() {
    let app = TestApp::spawn().await;
    let doc = spec(&app).await;
    let flagged: Vec<(&String, &String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .filter(|(_, op)| op["x-websocket"] == true)
                .map(move |(method, _)| (path, method))
        })
        .collect();
    let ws = "/api/v1/ws/executions/{execution_id}".to_owned();
    assert_eq!(
        flagged,
        [(&ws, &"get".to_owned())],
        "only the WebSocket route is flagged"
    );
    let operation = &doc["paths"][ws.as_str()]["get"];
    assert_eq!(operation["tags"], serde_json::json!(["websocket"]));
    let description = operation["description"].as_str().unwrap();
    assert!(description.contains("ExecutionEvent") && description.contains("access_token"));
    assert!(
        doc["tags"].as_array().unwrap().iter().any(|t| t["name"] == "websocket"),
        "the tag is described"
    );
}
