//! The S3 path of the file store against a real third-party S3 server: `moto` in server mode
//! (PyPI, pinned in tests/s3/requirements.txt; .ci/run installs it and sets `MOTO_SERVER`).
//! Outside CI (no `CI` variable) the test is skipped, saying so, when moto is not installed;
//! in CI a missing moto fails it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agentry_tests::samples::{PNG, Part};
use agentry_tests::{TestApp, assert_problem};
use sha2::{Digest, Sha256};

use super::{FILES, objects, rows, upload, upload_ok};

const BUCKET: &str = "agentry-files";

/// A moto server on a free port, stopped on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The moto server command: `MOTO_SERVER`, else `moto_server` on the PATH.
fn moto_command() -> Option<String> {
    if let Ok(path) = std::env::var("MOTO_SERVER") {
        return Some(path);
    }
    let found = Command::new("moto_server")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found.then(|| "moto_server".to_owned())
}

/// Starts moto, or `None` (skip) when it is not installed outside CI.
async fn start_moto() -> Option<Moto> {
    let Some(command) = moto_command() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "moto is not installed: CI must install tests/s3/requirements.txt and set MOTO_SERVER"
        );
        eprintln!("SKIPPED: moto is not installed (pip install -r tests/s3/requirements.txt)");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(&command)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {command}: {e}"));
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    // Our reqwest has no TLS provider of its own (plain HTTP here, but it asks for one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if client.get(&moto.url).send().await.is_ok() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "moto did not start");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let res = client.put(format!("{}/{BUCKET}", moto.url)).send().await.unwrap();
    assert!(res.status().is_success(), "create the bucket: {}", res.status());
    Some(moto)
}

/// The multipart uploads moto still holds open in the bucket (an aborted one is gone).
async fn open_multipart_uploads(moto: &Moto) -> usize {
    let listing = reqwest::get(format!("{}/{BUCKET}?uploads", moto.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    listing.matches("<Upload>").count()
}

/// Whether moto has the object `key` (under the store's prefix).
async fn moto_has(moto: &Moto, key: &str) -> bool {
    let res = reqwest::get(format!("{}/{BUCKET}/uploads/{key}", moto.url))
        .await
        .unwrap();
    res.status() == 200
}

#[tokio::test]
async fn the_s3_store_uploads_serves_and_deletes_through_moto() {
    let Some(moto) = start_moto().await else {
        return;
    };
    let endpoint = moto.url.clone();
    let app = TestApp::spawn_with(move |c| {
        c.file_store_url = format!("s3://{BUCKET}/uploads");
        c.file_store_s3_options = [
            ("aws_endpoint", endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "testing"),
            ("aws_secret_access_key", "testing"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    })
    .await;
    let alice = app.register("alice").await;

    // Larger than one 5 MiB part: a real multipart upload of two parts.
    let mut image = PNG.to_vec();
    image.extend((0..7 * 1024 * 1024).map(|i: u32| (i % 251) as u8));
    let file = upload_ok(&app, &alice, "big.png", &image, "attachment").await;
    assert_eq!(file["content_type"], "image/png");
    assert_eq!(file["sha256"], format!("{:x}", Sha256::digest(&image)));
    let id = file["id"].as_str().unwrap();
    let key = format!("{}/{id}", alice.id);
    assert_eq!(objects(&app).await, std::slice::from_ref(&key));
    assert!(moto_has(&moto, &key).await, "moto holds the object");

    // Served back whole and by range.
    let url = format!("{FILES}/{id}/content");
    let res = app.get_as(&alice, &url).send().await.unwrap();
    assert_eq!(res.headers()["content-length"], image.len().to_string().as_str());
    assert_eq!(res.bytes().await.unwrap().as_ref(), image.as_slice());
    let res = app
        .get_as(&alice, &url)
        .header("range", "bytes=5242870-5242889")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &image[5_242_870..5_242_890]);

    // Refused uploads, cut off mid-stream (past the first part) and by type: no object,
    // no row, no multipart upload left open.
    let mut over = PNG.to_vec();
    over.resize(21 * 1024 * 1024, 3);
    let res = upload(&app, &alice, &[Part::file("file", "huge.png", "image/png", &over)]).await;
    assert_eq!(assert_problem(res, 413).await["code"], "payload_too_large");
    let res = upload(
        &app,
        &alice,
        &[
            Part::text("purpose", "avatar"),
            Part::file("file", "x.png", "image/png", b"#!/bin/sh\n"),
        ],
    )
    .await;
    assert_problem(res, 415).await;
    assert_eq!(rows(&app).await, 1);
    assert_eq!(objects(&app).await, std::slice::from_ref(&key));
    assert_eq!(open_multipart_uploads(&moto).await, 0);

    // Deleting removes the object from the bucket.
    let res = app.delete_as(&alice, &format!("{FILES}/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(objects(&app).await.is_empty());
    assert!(!moto_has(&moto, &key).await, "moto still holds the object");
    assert_eq!(rows(&app).await, 0);
}
