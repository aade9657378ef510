//! Avatars: `PUT /users/me/avatar` with an own avatar file, `avatar_url` on the User, the
//! image for any signed-in user, `DELETE`, and what happens when the file is deleted.

use agentry_tests::samples::{self, PNG};
use agentry_tests::{TestApp, assert_problem, field_names};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{FILES, upload_ok};

const AVATAR: &str = "/api/v1/users/me/avatar";

#[tokio::test]
async fn an_avatar_is_set_shown_to_signed_in_users_and_cleared() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    assert!(app.get_ok(&alice, "/api/v1/users/me").await["avatar_url"].is_null());
    let image = upload_ok(&app, &alice, "me.png", PNG, "avatar").await;
    let res = app
        .request(Method::PUT, AVATAR)
        .bearer_auth(&alice.access_token)
        .json(&json!({"file_id": image["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let user: serde_json::Value = res.json().await.unwrap();
    let url = format!("/api/v1/users/{}/avatar", alice.id);
    assert_eq!(user["avatar_url"], url.as_str());
    assert_eq!(app.get_ok(&alice, "/api/v1/users/me").await["avatar_url"], url.as_str());

    // Bob (any signed-in user) gets the image; nobody signed out does.
    let res = app.get_as(&bob, &url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let etag = format!("\"{:x}\"", Sha256::digest(PNG));
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    let res = app
        .get_as(&bob, &url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    // Alice's own, at /me/avatar too.
    let res = app.get_as(&alice, AVATAR).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    let res = app.request(Method::GET, &url).send().await.unwrap();
    assert_problem(res, 401).await;
    // A user without an avatar, and no such user.
    for path in [
        format!("/api/v1/users/{}/avatar", bob.id),
        format!("/api/v1/users/{}/avatar", Uuid::now_v7()),
    ] {
        let res = app.get_as(&alice, &path).send().await.unwrap();
        assert_problem(res, 404).await;
    }

    // Cleared: 204, no URL, no image; the file stays.
    let res = app.delete_as(&alice, AVATAR).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert!(app.get_ok(&alice, "/api/v1/users/me").await["avatar_url"].is_null());
    let res = app.get_as(&bob, &url).send().await.unwrap();
    assert_problem(res, 404).await;
    let res = app.get_as(&alice, AVATAR).send().await.unwrap();
    assert_problem(res, 404).await;
    app.get_ok(&alice, &format!("{FILES}/{}", image["id"].as_str().unwrap()))
        .await;
    // Clearing again is still a 204.
    let res = app.delete_as(&alice, AVATAR).send().await.unwrap();
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn only_an_own_avatar_file_can_be_the_avatar() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mallory = app.register("mallory").await;
    let attachment = upload_ok(&app, &alice, "me.png", PNG, "attachment").await;
    let pdf = upload_ok(&app, &alice, "cv.pdf", samples::PDF, "attachment").await;
    let theirs = upload_ok(&app, &mallory, "m.png", PNG, "avatar").await;
    for file_id in [
        attachment["id"].clone(),
        pdf["id"].clone(),
        theirs["id"].clone(),
        json!(Uuid::now_v7()),
    ] {
        let res = app
            .request(Method::PUT, AVATAR)
            .bearer_auth(&alice.access_token)
            .json(&json!({"file_id": file_id}))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), ["file_id"], "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains(file_id.as_str().unwrap()));
    }
    for body in [json!({}), json!({"file_id": "nope"})] {
        let res = app
            .request(Method::PUT, AVATAR)
            .bearer_auth(&alice.access_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(field_names(&assert_problem(res, 422).await), ["file_id"]);
    }
    assert!(app.get_ok(&alice, "/api/v1/users/me").await["avatar_url"].is_null());
}

#[tokio::test]
async fn deleting_the_avatar_file_clears_the_avatar() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let image = upload_ok(&app, &alice, "me.webp", &samples::webp(), "avatar").await;
    let res = app
        .request(Method::PUT, AVATAR)
        .bearer_auth(&alice.access_token)
        .json(&json!({"file_id": image["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .delete_as(&alice, &format!("{FILES}/{}", image["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(app.get_ok(&alice, "/api/v1/users/me").await["avatar_url"].is_null());
    let res = app
        .get_as(&alice, &format!("/api/v1/users/{}/avatar", alice.id))
        .send()
        .await
        .unwrap();
    assert_problem(res, 404).await;
}
