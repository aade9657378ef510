//! `/api/v1/files` (API.md v2, "Files, avatars and attachments"): uploads of every accepted
//! type told from their bytes (disguised files too), caps, quota and bad bodies refused
//! leaving no row and no object, the list, downloads with ranges and ETags, foreign ids,
//! and deletion removing the stored object. `s3` runs the same against a real S3 server.

mod avatar;
mod download;
mod s3;
mod upload;

use agentry_tests::samples::{Part, multipart, multipart_type};
use agentry_tests::{TestApp, TestUser};
use futures_util::TryStreamExt;
use reqwest::{Method, Response};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, Query};
use serde_json::Value;

pub const FILES: &str = "/api/v1/files";

/// POSTs a multipart body of `parts` to `/files` as `user`.
pub async fn upload(app: &TestApp, user: &TestUser, parts: &[Part]) -> Response {
    upload_raw(app, user, multipart(parts)).await
}

/// POSTs `body` (a multipart form) to `/files` as `user`.
pub async fn upload_raw(app: &TestApp, user: &TestUser, body: Vec<u8>) -> Response {
    app.request(Method::POST, FILES)
        .bearer_auth(&user.access_token)
        .header("content-type", multipart_type())
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Uploads `bytes` as `filename` for `purpose`, which must answer `201`; the File.
pub async fn upload_ok(app: &TestApp, user: &TestUser, filename: &str, bytes: &[u8], purpose: &str) -> Value {
    let res = upload(
        app,
        user,
        &[
            Part::text("purpose", purpose),
            Part::file("file", filename, "application/octet-stream", bytes),
        ],
    )
    .await;
    let status = res.status();
    let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        location.as_deref(),
        Some(format!("{FILES}/{}", body["id"].as_str().unwrap()).as_str())
    );
    body
}

/// Every object in the server's file store.
pub async fn objects(app: &TestApp) -> Vec<String> {
    app.state
        .files
        .store()
        .objects()
        .list(None)
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .unwrap()
}

/// How many rows the `files` table holds.
pub async fn rows(app: &TestApp) -> i64 {
    let count = Query::select().expr(Expr::cust("COUNT(*)")).from("files").to_owned();
    let row = app.db.query_one(&count).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Asserts nothing is stored: no row, no object.
pub async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(rows(app).await, 0, "a row was left");
    assert_eq!(objects(app).await, Vec::<String>::new(), "an object was left");
    // On disk, not even a staging file of an aborted upload.
    let dir = &app.state.config.file_store_url;
    if !dir.contains("://") {
        assert_eq!(
            files_under(std::path::Path::new(dir)),
            Vec::<String>::new(),
            "a file was left"
        );
    }
}

/// Every file below `dir`.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files_under(&path)
            } else {
                vec![path.display().to_string()]
            }
        })
        .collect()
}
