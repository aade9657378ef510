//! A streamed answer is not replayed: the same request sent again answers `202` with the
//! execution that wrote the reply, and nothing runs twice.

use agentry_tests::TestApp;
use serde_json::json;

use super::{KEY, post_with_key, stored_keys};
use crate::chat::messages;

#[tokio::test]
async fn a_streamed_reply_sent_again_is_a_202_and_runs_once() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let res = app
        .post_as(&ada, "/api/v1/conversations", &json!({}))
        .send()
        .await
        .unwrap();
    let conversation: serde_json::Value = res.json().await.unwrap();
    let id = conversation["id"].as_str().unwrap();
    let path = format!("/api/v1/conversations/{id}/messages");
    let body = json!({"content": "stream me", "stream": true});

    let res = post_with_key(&app, &ada, &path, &body, KEY).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let execution_id = res.headers()["x-execution-id"].to_str().unwrap().to_owned();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("message.completed"), "{text}");
    // The run ends just after its last chat event: wait for it, so the replay shows it done.
    let mut status = String::new();
    for _ in 0..500 {
        let execution = app.get_ok(&ada, &format!("/api/v1/executions/{execution_id}")).await;
        status = execution["status"].as_str().unwrap().to_owned();
        if status != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, "completed");

    let res = post_with_key(&app, &ada, &path, &body, KEY).send().await.unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(
        res.headers()["location"],
        format!("/api/v1/executions/{execution_id}").as_str()
    );
    let execution: serde_json::Value = res.json().await.unwrap();
    assert_eq!(execution["id"], execution_id.as_str(), "{execution}");
    assert_eq!(execution["conversation_id"], id);
    assert_eq!(execution["status"], "completed");

    assert_eq!(messages(&app, &ada, id).await.len(), 2);
    let keys = stored_keys(&app, &ada).await;
    assert_eq!((keys.len(), keys[0].response_status), (1, Some(202)));
}
