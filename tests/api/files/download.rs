//! Downloads (whole, ranges, ETag and `If-None-Match`), foreign ids, and deletion removing
//! the stored object.

use agentry_tests::samples::{self, PNG};
use agentry_tests::{TestApp, assert_problem};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{FILES, assert_nothing_stored, objects, rows, upload_ok};

#[tokio::test]
async fn content_is_streamed_with_its_headers() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let wav = samples::wav(300_000);
    let file = upload_ok(&app, &alice, "voice memo é.wav", &wav, "attachment").await;
    let url = format!("{FILES}/{}/content", file["id"].as_str().unwrap());
    let etag = format!("\"{:x}\"", Sha256::digest(&wav));
    let res = app.get_as(&alice, &url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "audio/wav");
    assert_eq!(headers["content-length"], wav.len().to_string().as_str());
    assert_eq!(headers["etag"], etag.as_str());
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"voice memo _.wav\"; filename*=UTF-8''voice%20memo%20%C3%A9.wav"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), wav.as_slice());

    // If-None-Match with the ETag (alone, in a list, weak): 304 with no body.
    for tag in [
        etag.clone(),
        format!("\"other\", {etag}"),
        format!("W/{etag}"),
        "*".into(),
    ] {
        let res = app
            .get_as(&alice, &url)
            .header("if-none-match", tag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 304);
        assert_eq!(res.headers()["etag"], etag.as_str());
        assert!(res.bytes().await.unwrap().is_empty());
    }
    let res = app
        .get_as(&alice, &url)
        .header("if-none-match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Single ranges.
    let size = wav.len();
    for (range, start, end) in [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, size - 1),
        ("bytes=-10", size - 10, size - 1),
        (&format!("bytes=5-{}", size + 500), 5, size - 1),
    ] {
        let res = app.get_as(&alice, &url).header("range", range).send().await.unwrap();
        assert_eq!(res.status(), 206, "{range}");
        assert_eq!(
            res.headers()["content-range"],
            format!("bytes {start}-{end}/{size}").as_str(),
            "{range}"
        );
        assert_eq!(res.headers()["content-length"], (end - start + 1).to_string().as_str());
        assert_eq!(res.headers()["etag"], etag.as_str());
        assert_eq!(res.bytes().await.unwrap().as_ref(), &wav[start..=end], "{range}");
    }
    // Past the end: 416 with the size.
    let res = app
        .get_as(&alice, &url)
        .header("range", format!("bytes={size}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-range"], format!("bytes */{size}").as_str());
    assert_eq!(assert_problem(res, 416).await["code"], "range_not_satisfiable");
    // Several ranges or a malformed one: the whole file.
    for range in ["bytes=0-1,5-9", "lines=1-2", "bytes=9-2"] {
        let res = app.get_as(&alice, &url).header("range", range).send().await.unwrap();
        assert_eq!(res.status(), 200, "{range}");
        assert_eq!(res.bytes().await.unwrap().len(), size);
    }
}

#[tokio::test]
async fn another_users_file_is_a_404_everywhere() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mallory = app.register("mallory").await;
    let file = upload_ok(&app, &alice, "a.png", PNG, "attachment").await;
    let id = file["id"].as_str().unwrap();
    let unknown = Uuid::now_v7();
    for path in [
        format!("{FILES}/{id}"),
        format!("{FILES}/{id}/content"),
        format!("{FILES}/{unknown}"),
        format!("{FILES}/{unknown}/content"),
    ] {
        let res = app.get_as(&mallory, &path).send().await.unwrap();
        assert_eq!(assert_problem(res, 404).await["detail"], "file not found", "{path}");
    }
    for target in [id.to_owned(), unknown.to_string()] {
        let res = app
            .delete_as(&mallory, &format!("{FILES}/{target}"))
            .send()
            .await
            .unwrap();
        assert_problem(res, 404).await;
    }
    assert_eq!(app.get_ok(&mallory, FILES).await["total"], 0);
    // Alice's file is untouched.
    assert_eq!(app.get_ok(&alice, &format!("{FILES}/{id}")).await, file);
    assert_eq!(objects(&app).await.len(), 1);
    let res = app.get_as(&alice, &format!("{FILES}/not-a-uuid")).send().await.unwrap();
    assert_problem(res, 404).await;
}

#[tokio::test]
async fn deleting_removes_the_row_and_the_object() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let file = upload_ok(&app, &alice, "a.pdf", samples::PDF, "attachment").await;
    let id = file["id"].as_str().unwrap();
    let stored = objects(&app).await;
    assert_eq!(stored, [format!("{}/{id}", alice.id)]);
    let res = app.delete_as(&alice, &format!("{FILES}/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.unwrap().is_empty());
    assert_nothing_stored(&app).await;
    for path in [format!("{FILES}/{id}"), format!("{FILES}/{id}/content")] {
        let res = app.get_as(&alice, &path).send().await.unwrap();
        assert_problem(res, 404).await;
    }
    let res = app.delete_as(&alice, &format!("{FILES}/{id}")).send().await.unwrap();
    assert_problem(res, 404).await;
    assert_eq!(rows(&app).await, 0);
}
