//! A database that drops connections (an admin shutdown, a restart) makes requests fail
//! with `503` and `Retry-After`, never `500`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use agentry_tests::TestApp;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;

#[tokio::test]
#[cfg_attr(not(test_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
async fn backends_terminated_under_write_load_give_only_503_with_retry_after() {
    testkit::require_postgres();
    let app = Arc::new(TestApp::spawn_with(|c| c.database_pool_size = 4).await);
    let ada = app.register("ada").await;
    let killer = Database::connect(app.state.config.database_url.as_str()).await.unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let terminate = {
        let done = Arc::clone(&done);
        tokio::spawn(async move {
            let mut terminated = 0_usize;
            while !done.load(Ordering::SeqCst) {
                let rows = killer
                    .query_all_raw(Statement::from_string(
                        killer.get_database_backend(),
                        "SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity \
                         WHERE datname = current_database() AND pid <> pg_backend_pid()",
                    ))
                    .await
                    .unwrap();
                terminated += rows.len();
                tokio::task::yield_now().await;
            }
            terminated
        })
    };
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (app, ada) = (Arc::clone(&app), ada.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for i in 0..30 {
                    let body = json!({"name": format!("agent-{w}-{i}"), "model": "echo-1"});
                    let res = app.post_as(&ada, "/api/v1/agents", &body).send().await.unwrap();
                    let status = res.status().as_u16();
                    let retry_after = res.headers().get("retry-after").is_some();
                    let text = res.text().await.unwrap();
                    seen.push((status, retry_after, text));
                }
                seen
            })
        })
        .collect();
    let mut answers = Vec::new();
    for writer in writers {
        answers.extend(writer.await.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    assert!(terminate.await.unwrap() > 0, "no backend was terminated");
    let unavailable = answers.iter().filter(|(s, _, _)| *s == 503).count();
    for (status, retry_after, text) in &answers {
        assert!(
            (200..300).contains(status) || (*status == 503 && *retry_after),
            "{status} (Retry-After: {retry_after}): {text}"
        );
    }
    eprintln!("{unavailable} of {} writes were 503", answers.len());
}
