//! Reads by id on the lane's direct connections (PostgreSQL): the same answers as through
//! the pool, connections reused only after a completed statement.

use agentry_tests::TestApp;
use agents::AgentError;
use kernel::lane::Lane;
use serde_json::json;
use uuid::Uuid;

use super::{create_agent, create_tool};

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn reads_on_the_lane_answer_as_the_pool_does() {
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

    let lane = Lane::for_db(&app.state.db, 2).expect("a lane on PostgreSQL");
    let on_lane = app.state.agents.clone().with_lane(Some(lane.clone()));
    let on_pool = app.state.agents.clone().with_lane(None);
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
    // Sequential reads reuse one connection.
    assert_eq!(lane.open(), 1);
}

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn a_read_dropped_mid_statement_closes_its_connection_and_the_next_one_works() {
    testkit::require_postgres();
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let agent = create_agent(&app, &alice, json!({"name": "Plain", "model": "echo-1"})).await;
    let id: Uuid = agent["id"].as_str().unwrap().parse().unwrap();
    let lane = Lane::for_db(&app.state.db, 1).expect("a lane on PostgreSQL");
    let agents = app.state.agents.clone().with_lane(Some(lane.clone()));
    agents.get(alice.id, id).await.unwrap();
    assert_eq!(lane.open(), 1);

    // Polled once, the read has sent its statement and waits for the answer; dropped there,
    // the connection's protocol state is unknown, so it must not be reused.
    // (On a loaded machine the answer can already be there at the first poll: that read
    // completed normally, so try again until one is caught waiting.)
    let mut caught = false;
    for _ in 0..50 {
        let mut read = Box::pin(agents.get(alice.id, id));
        if futures_util::poll!(read.as_mut()).is_pending() {
            caught = true;
            break;
        }
    }
    assert!(caught, "a read was caught waiting for its answer");
    assert_eq!(lane.open(), 0, "the interrupted connection was closed");
    let again = agents.get(alice.id, id).await.unwrap();
    assert_eq!(serde_json::to_value(&again).unwrap(), agent);
    assert_eq!(lane.open(), 1);
}
