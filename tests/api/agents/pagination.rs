//! Keyset pages of `/api/v1/agents`: newest first, no duplicates or gaps, stable while
//! agents are created concurrently, with a `?q=` name filter.

use std::collections::HashSet;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use serde_json::{Value, json};

use super::{create_agent, read};

async fn create_many(app: &TestApp, user: &TestUser, names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        let agent = create_agent(app, user, json!({"name": name, "model": "m"})).await;
        ids.push(agent["id"].as_str().unwrap().to_owned());
    }
    ids
}

fn ids_of(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn forty_five_agents_come_in_pages_of_20_20_5_newest_first() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut created = create_many(&app, &alice, (0..45).map(|i| format!("agent {i:02}"))).await;
    created.reverse();

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut path = "/api/v1/agents".to_owned();
    loop {
        let page = read(&app, &alice, &path).await;
        assert_eq!(page["total"], 45);
        sizes.push(page["items"].as_array().unwrap().len());
        seen.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/agents?cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(sizes, [20, 20, 5]);
    assert_eq!(seen, created, "every agent once, newest first");

    let small = read(&app, &alice, "/api/v1/agents?limit=100").await;
    assert_eq!(
        (small["items"].as_array().unwrap().len(), &small["next_cursor"]),
        (45, &Value::Null)
    );
    let one = read(&app, &alice, "/api/v1/agents?limit=1").await;
    assert_eq!(ids_of(&one), [created[0].clone()]);
}

#[tokio::test]
async fn paging_is_stable_while_agents_are_created() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut original = create_many(&app, &alice, (0..45).map(|i| format!("old {i}"))).await;
    original.reverse();

    let first = read(&app, &alice, "/api/v1/agents?limit=20").await;
    let mut seen = ids_of(&first);
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let mut newcomers = Vec::new();
    for round in 0..2 {
        let path = format!("/api/v1/agents?limit=20&cursor={cursor}");
        let (page, new) = tokio::join!(
            read(&app, &alice, &path),
            create_many(&app, &alice, (0..3).map(|i| format!("new {round}.{i}"))),
        );
        newcomers.extend(new);
        seen.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        seen, original,
        "pages hold exactly the agents older than the cursor, once each"
    );
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 45);
    let now = read(&app, &alice, "/api/v1/agents?limit=100").await;
    assert_eq!(now["total"], 45 + newcomers.len());
    newcomers.reverse();
    assert_eq!(
        ids_of(&now)[..newcomers.len()],
        newcomers[..],
        "new agents appear at the head"
    );
}

#[tokio::test]
async fn q_filters_names_case_insensitively_with_literal_wildcards() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let names = ["Sales Bot", "sales_helper", "Support", "100% wild", "plain"];
    create_many(&app, &alice, names.iter().map(|n| n.to_string())).await;
    create_many(&app, &bob, ["sales of bob".to_owned()]).await;
    let cases = [
        ("SALES", 2),
        ("sales_", 1),
        ("%", 1),
        ("_", 1),
        ("s", 3),
        ("nothing", 0),
        ("", 5),
    ];
    for (q, expected) in cases {
        let path = format!("/api/v1/agents?q={}", urlencode(q));
        let page = read(&app, &alice, &path).await;
        assert_eq!(page["total"], expected, "q={q}: {page}");
        assert_eq!(page["items"].as_array().unwrap().len(), expected, "q={q}");
    }
    let page = read(&app, &alice, "/api/v1/agents?q=sales&limit=1").await;
    let next = format!(
        "/api/v1/agents?q=sales&limit=1&cursor={}",
        page["next_cursor"].as_str().unwrap()
    );
    let rest = read(&app, &alice, &next).await;
    assert_eq!(
        (rest["total"].as_u64(), rest["items"][0]["name"].as_str()),
        (Some(2), Some("Sales Bot"))
    );
}

#[tokio::test]
async fn bad_paging_parameters_are_422_naming_them() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
    ] {
        for list in ["/api/v1/agents", "/api/v1/tools"] {
            let res = app.get_as(&alice, &format!("{list}?{query}")).send().await.unwrap();
            assert_eq!(field_names(&assert_problem(res, 422).await), [field], "{list}?{query}");
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
