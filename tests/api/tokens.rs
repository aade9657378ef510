//! Access tokens: what the `Authorization` header must hold, and what is refused.

pub(crate) mod replicas;

use agentry_tests::{TEST_JWT_SECRET, TestApp, assert_problem};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use uuid::Uuid;

const ME: &str = "/api/v1/users/me";

async fn me_with(app: &TestApp, authorization: &str) -> Response {
    app.request(Method::GET, ME)
        .header("authorization", authorization)
        .send()
        .await
        .unwrap()
}

/// Asserts a `401` problem carrying `WWW-Authenticate: Bearer`.
async fn assert_unauthorized(res: Response, case: &str) {
    assert_eq!(
        res.headers().get("www-authenticate").map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{case}"
    );
    let problem = assert_problem(res, 401).await;
    assert_eq!(problem["code"], "unauthorized", "{case}: {problem}");
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Access-token claims for `sub`, expiring `ttl` seconds from now.
fn claims(sub: Uuid, ttl: i64) -> Value {
    json!({"sub": sub, "iat": now(), "exp": now() + ttl, "typ": "access"})
}

fn sign(alg: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn a_missing_authorization_header_is_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    let routes = [
        (Method::GET, ME),
        (Method::PATCH, ME),
        (Method::DELETE, ME),
        (Method::POST, "/api/v1/users/me/password"),
        (Method::GET, "/api/v1/users"),
        (Method::POST, "/api/v1/users"),
        (Method::GET, "/api/v1/users/00000000-0000-7000-8000-000000000000"),
    ];
    for (method, path) in routes {
        let case = format!("{method} {path}");
        let res = app.request(method, path).json(&json!({})).send().await.unwrap();
        assert_unauthorized(res, &case).await;
    }
}

#[tokio::test]
async fn the_genuine_token_works_with_any_case_of_bearer() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let res = me_with(&app, &format!("{scheme} {}", alice.access_token)).await;
        assert_eq!(res.status(), 200, "{scheme}");
        let me: Value = res.json().await.unwrap();
        assert_eq!(me["id"], alice.id.to_string());
    }
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_401() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let root = app.superuser("root").await;
    let genuine: Vec<&str> = alice.access_token.split('.').collect();
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let root_claims = b64(&claims(root.id, 600));
    let mut no_exp = claims(alice.id, 600);
    no_exp.as_object_mut().unwrap().remove("exp");

    let cases: Vec<(&str, String)> = vec![
        (
            "wrong secret",
            sign(
                Algorithm::HS256,
                "another-secret-0123456789-0123456789",
                &claims(alice.id, 600),
            ),
        ),
        (
            "tampered payload (sub swapped to a superuser)",
            format!("{}.{root_claims}.{}", genuine[0], genuine[2]),
        ),
        (
            "alg none, empty signature",
            format!("{none_header}.{}.", b64(&claims(alice.id, 600))),
        ),
        ("alg none, superuser", format!("{none_header}.{root_claims}.")),
        (
            "alg none, genuine signature kept",
            format!("{none_header}.{}.{}", genuine[1], genuine[2]),
        ),
        (
            "HS512 with the right secret",
            sign(Algorithm::HS512, TEST_JWT_SECRET, &claims(alice.id, 600)),
        ),
        (
            "HS384 with the right secret",
            sign(Algorithm::HS384, TEST_JWT_SECRET, &claims(alice.id, 600)),
        ),
        (
            "expired",
            sign(Algorithm::HS256, TEST_JWT_SECRET, &claims(alice.id, -120)),
        ),
        ("no exp", sign(Algorithm::HS256, TEST_JWT_SECRET, &no_exp)),
        (
            "not an access token",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &json!({"sub": alice.id, "iat": now(), "exp": now() + 600, "typ": "refresh"}),
            ),
        ),
        (
            "unknown user",
            sign(Algorithm::HS256, TEST_JWT_SECRET, &claims(Uuid::now_v7(), 600)),
        ),
        (
            "sub not a uuid",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &json!({"sub": "alice", "iat": now(), "exp": now() + 600, "typ": "access"}),
            ),
        ),
        ("signature stripped", format!("{}.{}.", genuine[0], genuine[1])),
        ("garbage", "garbage".to_owned()),
        ("three garbage segments", "a.b.c".to_owned()),
        ("the refresh token", alice.refresh_token.clone()),
    ];
    for (case, token) in &cases {
        assert_unauthorized(me_with(&app, &format!("Bearer {token}")).await, case).await;
    }
    // Nothing above touched the real session.
    assert_eq!(
        me_with(&app, &format!("Bearer {}", alice.access_token)).await.status(),
        200
    );
}

#[tokio::test]
async fn credentials_in_another_scheme_are_401() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let basic = STANDARD.encode(format!("alice:{}", alice.password));
    let cases = [
        format!("Basic {basic}"),
        format!("Token {}", alice.access_token),
        format!("JWT {}", alice.access_token),
        alice.access_token.clone(),
        "Bearer".to_owned(),
    ];
    for authorization in &cases {
        assert_unauthorized(me_with(&app, authorization).await, authorization).await;
    }
}

#[tokio::test]
async fn the_token_of_a_deleted_user_is_401() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    let alice = app.register("alice").await;
    assert_eq!(app.get_as(&alice, ME).send().await.unwrap().status(), 200);
    let res = app
        .delete_as(&root, &format!("/api/v1/users/{}", alice.id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_unauthorized(app.get_as(&alice, ME).send().await.unwrap(), "deleted user").await;
    let res = app.post_as(
        &alice,
        "/api/v1/users/me/password",
        &json!({"current_password": alice.password, "new_password": "whatever-else"}),
    );
    assert_unauthorized(res.send().await.unwrap(), "deleted user").await;
}

/// Deactivating a user ends her access token on the next request and her sessions for good.
async fn deactivation_ends_every_session(app: &TestApp) {
    let root = app.superuser("root").await;
    let alice = app.register("alice").await;
    assert_eq!(app.get_as(&alice, ME).send().await.unwrap().status(), 200);
    app.patch_user(&root, alice.id, json!({"is_active": false})).await;

    assert_unauthorized(app.get_as(&alice, ME).send().await.unwrap(), "deactivated user").await;
    let refresh = json!({"refresh_token": alice.refresh_token});
    let res = app
        .request(Method::POST, "/api/v1/auth/refresh")
        .json(&refresh)
        .send()
        .await
        .unwrap();
    assert_unauthorized(res, "deactivated user's refresh").await;

    // Reactivation does not bring the sessions that deactivation ended back.
    app.patch_user(&root, alice.id, json!({"is_active": true})).await;
    let res = app
        .request(Method::POST, "/api/v1/auth/refresh")
        .json(&refresh)
        .send()
        .await
        .unwrap();
    assert_unauthorized(res, "refresh after reactivation").await;
}

#[tokio::test]
async fn the_token_of_a_deactivated_user_stops_working_at_once() {
    let app = TestApp::spawn().await;
    assert!(app.state.standing.is_some(), "the account cache is on by default");
    deactivation_ends_every_session(&app).await;
}

#[tokio::test]
async fn with_the_account_cache_off_too() {
    let app = TestApp::spawn_with(|c| c.account_cache_ttl_secs = 0).await;
    assert!(app.state.standing.is_none());
    deactivation_ends_every_session(&app).await;
}

#[tokio::test]
async fn rights_come_from_the_stored_user_not_from_the_token() {
    let app = TestApp::spawn().await;
    let root = app.superuser("root").await;
    let alice = app.register("alice").await;
    assert_problem(app.get_as(&alice, "/api/v1/users").send().await.unwrap(), 403).await;

    app.patch_user(&root, alice.id, json!({"is_superuser": true})).await;
    assert_eq!(
        app.get_as(&alice, "/api/v1/users").send().await.unwrap().status(),
        200,
        "promotion applies at once"
    );

    app.patch_user(&root, alice.id, json!({"is_superuser": false})).await;
    let problem = assert_problem(app.get_as(&alice, "/api/v1/users").send().await.unwrap(), 403).await;
    assert_eq!(problem["code"], "forbidden", "demotion applies at once");
}
