//! Reads by id on the lanes beside the pool (PostgreSQL): pipelined (tokio-postgres, one
//! connection per thread shared by its concurrent reads) and direct (sqlx, one read per
//! connection, reused only after a completed statement). Both answer as the pool does.

use std::time::Duration;

use agentry_tests::TestApp;
use agents::{AgentError, AgentService};
use kernel::lane::{Lane, LaneSize};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use super::{create_agent, create_tool};

fn size(direct: u32, per_thread: u32) -> LaneSize {
    LaneSize {
        direct,
        per_thread,
        connect_timeout: Duration::from_secs(5),
    }
}

fn pipelined(app: &TestApp) -> Lane {
    Lane::pipelined_without_tls(&app.state.db, &app.state.config.database_url, size(1, 1))
        .expect("a lane on PostgreSQL")
}

/// The pipelined lane's connections open now, on every thread.
fn pipelined_open(lane: &Lane) -> usize {
    lane.pipelined().expect("a pipelined lane").open()
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn reads_on_either_lane_answer_as_the_pool_does() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let plain = create_agent(
        &app,
        &alice,
        json!({"name": "Plain", "model": "echo-1", "metadata": {"k": [1, "x"]}}),
    )
    .await;
    let tool = create_tool(&app, &alice, "search").await;
    let plain_id = plain["id"].as_str().unwrap().to_owned();
    let linked = create_agent(
        &app,
        &alice,
        json!({"name": "Linked", "model": "echo-1", "max_tokens": 64, "tool_ids": [tool], "subagent_ids": [plain_id]}),
    )
    .await;
    let gone = create_agent(&app, &alice, json!({"name": "Gone", "model": "echo-1"})).await;
    let gone_id: Uuid = gone["id"].as_str().unwrap().parse().unwrap();
    let res = app
        .delete_as(&alice, &format!("/api/v1/agents/{gone_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let direct = Lane::direct_only(&app.state.db, 2).expect("a lane on PostgreSQL");
    let pipelined = pipelined(&app);
    let on_pool = app.state.agents.clone().with_lane(None);
    for lane in [&direct, &pipelined] {
        let on_lane = app.state.agents.clone().with_lane(Some(lane.clone()));
        for agent in [&plain, &linked] {
            let id: Uuid = agent["id"].as_str().unwrap().parse().unwrap();
            let read = on_lane.get(alice.id, id).await.unwrap();
            assert_eq!(read, on_pool.get(alice.id, id).await.unwrap());
            assert_eq!(serde_json::to_value(&read).unwrap(), *agent);
            assert_eq!(
                on_lane.find_owned(alice.id, id).await.unwrap(),
                on_pool.find_owned(alice.id, id).await.unwrap()
            );
            // Someone else's agent does not exist for them.
            assert!(matches!(on_lane.get(bob.id, id).await, Err(AgentError::NotFound)));
            assert_eq!(on_lane.find_owned(bob.id, id).await.unwrap(), None);
        }
        assert!(matches!(
            on_lane.get(alice.id, gone_id).await,
            Err(AgentError::NotFound)
        ));
        assert!(matches!(
            on_lane.get(alice.id, Uuid::now_v7()).await,
            Err(AgentError::NotFound)
        ));
    }
    // Sequential reads reuse one connection.
    assert_eq!(direct.direct().open(), 1);
    assert_eq!(pipelined_open(&pipelined), 1);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn pages_on_the_pipelined_lane_answer_as_the_pool_does() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let tool = create_tool(&app, &alice, "search").await;
    let mut created = Vec::new();
    for n in 0..5 {
        let tools = if n == 1 { vec![tool.clone()] } else { Vec::new() };
        let agent = create_agent(
            &app,
            &alice,
            json!({"name": format!("Agent {n}"), "model": "echo-1", "tool_ids": tools}),
        )
        .await;
        created.push(agent);
    }
    let gone = created[2]["id"].as_str().unwrap().to_owned();
    let res = app
        .delete_as(&alice, &format!("/api/v1/agents/{gone}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    create_agent(&app, &bob, json!({"name": "Bob's", "model": "echo-1"})).await;

    let lane = pipelined(&app);
    let on_lane = app.state.agents.clone().with_lane(Some(lane.clone()));
    let on_pool = app.state.agents.clone().with_lane(None);
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let params = kernel::PageParams::parse(Some(2), cursor.as_deref()).unwrap();
        let page = on_lane.list(alice.id, None, &params).await.unwrap();
        let page = serde_json::to_value(&page).unwrap();
        assert_eq!(
            page,
            serde_json::to_value(on_pool.list(alice.id, None, &params).await.unwrap()).unwrap()
        );
        assert_eq!(page["total"], 4);
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // Newest first, the deleted one and Bob's left out, the tool link read back.
    let expected: Vec<_> = created
        .iter()
        .rev()
        .filter(|a| a["id"] != gone.as_str())
        .cloned()
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(seen[2]["tool_ids"], json!([tool]));

    // After the last agent: no item, still the total (a second statement counts it).
    let last = kernel::Cursor {
        created_at: chrono::DateTime::parse_from_rfc3339(created[0]["created_at"].as_str().unwrap())
            .unwrap()
            .to_utc(),
        id: created[0]["id"].as_str().unwrap().parse().unwrap(),
    };
    let params = kernel::PageParams::parse(Some(2), Some(&last.encode())).unwrap();
    let past = serde_json::to_value(on_lane.list(alice.id, None, &params).await.unwrap()).unwrap();
    assert_eq!(past, json!({"items": [], "next_cursor": null, "total": 4}));
    // Someone without agents: an empty page.
    let carol = app.register("carol").await;
    let params = kernel::PageParams::parse(None, None).unwrap();
    let empty = serde_json::to_value(on_lane.list(carol.id, None, &params).await.unwrap()).unwrap();
    assert_eq!(empty, json!({"items": [], "next_cursor": null, "total": 0}));
    assert_eq!(pipelined_open(&lane), 1, "every page was read on the lane");
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn concurrent_reads_of_a_thread_share_its_pipelined_connection() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let agent = create_agent(&app, &alice, json!({"name": format!("A{n}"), "model": "echo-1"})).await;
        ids.push((agent["id"].as_str().unwrap().parse::<Uuid>().unwrap(), agent));
    }
    let lane = pipelined(&app);
    let agents = app.state.agents.clone().with_lane(Some(lane.clone()));
    // 32 reads at once on this (current-thread) runtime, in one pipeline.
    let reads = (0..32).map(|i| {
        let (id, _) = &ids[i % ids.len()];
        agents.get(alice.id, *id)
    });
    let answers = futures_util::future::join_all(reads).await;
    for (i, answer) in answers.into_iter().enumerate() {
        let read = answer.unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), ids[i % ids.len()].1);
    }
    assert_eq!(pipelined_open(&lane), 1);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_pipelined_read_dropped_mid_statement_leaves_its_connection_usable() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let agent = create_agent(&app, &alice, json!({"name": "Plain", "model": "echo-1"})).await;
    let id: Uuid = agent["id"].as_str().unwrap().parse().unwrap();
    let lane = pipelined(&app);
    let agents = app.state.agents.clone().with_lane(Some(lane.clone()));
    agents.get(alice.id, id).await.unwrap();
    let mut caught = 0;
    for _ in 0..50 {
        let mut read = Box::pin(agents.get(alice.id, id));
        if futures_util::poll!(read.as_mut()).is_pending() {
            caught += 1;
        }
        // Dropped here, its answer still to come: the connection reads and discards it.
    }
    assert!(caught > 0, "a read was caught waiting for its answer");
    for _ in 0..3 {
        let again = agents.get(alice.id, id).await.unwrap();
        assert_eq!(serde_json::to_value(&again).unwrap(), agent);
    }
    assert_eq!(pipelined_open(&lane), 1, "the same connection serves on");
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_pipelined_connection_that_broke_is_replaced() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let agent = create_agent(&app, &alice, json!({"name": "Plain", "model": "echo-1"})).await;
    let id: Uuid = agent["id"].as_str().unwrap().parse().unwrap();
    let lane = pipelined(&app);
    let agents: AgentService = app.state.agents.clone().with_lane(Some(lane.clone()));
    agents.get(alice.id, id).await.unwrap();
    let killed = app
        .state
        .db
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'agentry lane'",
        )
        .await
        .unwrap();
    assert!(killed.rows_affected() >= 1, "the lane's connection was found");
    // The read that finds it broken (if one does before the driver notices) is a 503; the
    // next one runs on a new connection.
    let mut answered = None;
    for _ in 0..3 {
        match agents.get(alice.id, id).await {
            Ok(read) => {
                answered = Some(read);
                break;
            }
            Err(AgentError::Store(err)) => assert_eq!(err.status(), 503, "{err}"),
            Err(other) => panic!("unexpected {other}"),
        }
    }
    let read = answered.expect("a new connection answered");
    assert_eq!(serde_json::to_value(&read).unwrap(), agent);
    assert_eq!(pipelined_open(&lane), 1);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_direct_read_dropped_mid_statement_closes_its_connection_and_the_next_one_works() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let agent = create_agent(&app, &alice, json!({"name": "Plain", "model": "echo-1"})).await;
    let id: Uuid = agent["id"].as_str().unwrap().parse().unwrap();
    let lane = Lane::direct_only(&app.state.db, 1).expect("a lane on PostgreSQL");
    let agents = app.state.agents.clone().with_lane(Some(lane.clone()));
    agents.get(alice.id, id).await.unwrap();
    assert_eq!(lane.direct().open(), 1);

    // The table locked by another transaction, the read sends its statement and waits for
    // the answer however fast the machine is; dropped there, the connection's protocol
    // state is unknown, so it must not be reused. (Polling alone raced the answer: on a
    // loaded machine it was there at the first poll fifty times in a row.)
    let blocker = app.state.db.begin().await.unwrap();
    blocker
        .execute_unprepared("LOCK TABLE agents IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut read = Box::pin(agents.get(alice.id, id));
    for _ in 0..5 {
        assert!(
            futures_util::poll!(read.as_mut()).is_pending(),
            "the read waits for the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(read);
    blocker.rollback().await.unwrap();
    assert_eq!(lane.direct().open(), 0, "the interrupted connection was closed");
    let again = agents.get(alice.id, id).await.unwrap();
    assert_eq!(serde_json::to_value(&again).unwrap(), agent);
    assert_eq!(lane.direct().open(), 1);
}
