//! `/api/v1/auth`: registration, login (form and JSON), rate limiting, refresh-token
//! rotation and families, logout, password recovery and reset.

mod login;
mod rate_limit;
mod recovery;
mod register;
mod sessions;

use std::time::Duration;

use agentry_tests::{TEST_JWT_SECRET, TestApp, USER_KEYS, assert_problem, field_names};
use auth::Mail;
use auth::entities::{password_reset_token, refresh_token};
use reqwest::{Method, Response};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use users::entities::user;
use uuid::Uuid;

const REGISTER: &str = "/api/v1/auth/register";
const LOGIN: &str = "/api/v1/auth/login";
const REFRESH: &str = "/api/v1/auth/refresh";
const LOGOUT: &str = "/api/v1/auth/logout";
const RECOVERY: &str = "/api/v1/auth/password-recovery";
const RESET: &str = "/api/v1/auth/reset-password";

async fn post_json(app: &TestApp, path: &str, body: &Value) -> Response {
    app.request(Method::POST, path).json(body).send().await.unwrap()
}

/// `application/x-www-form-urlencoded` encoding of `pairs` (reqwest is built without `form`).
fn form_body(pairs: &[(&str, &str)]) -> String {
    fn encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect()
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Logs in the way Swagger UI's "Authorize" does: an OAuth2 password-grant form.
async fn login_form(app: &TestApp, username: &str, password: &str) -> Response {
    let body = form_body(&[
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
        ("scope", ""),
        ("client_id", ""),
        ("client_secret", ""),
    ]);
    app.request(Method::POST, LOGIN)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn refresh(app: &TestApp, token: &str) -> Response {
    post_json(app, REFRESH, &json!({"refresh_token": token})).await
}

async fn user_count(app: &TestApp) -> u64 {
    user::Entity::find().count(&app.db).await.unwrap()
}

async fn stored_user(app: &TestApp, id: Uuid) -> user::Model {
    user::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("user row")
}

async fn stored_refresh_token(app: &TestApp, token: &str) -> refresh_token::Model {
    refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(auth::secrets::digest(token)))
        .one(&app.db)
        .await
        .unwrap()
        .expect("refresh token row")
}

/// Asserts a `200` TokenPair that no cache may store, and returns it.
async fn token_pair(res: Response) -> Value {
    let status = res.status();
    let cache_control = res
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = res.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert_eq!(cache_control.as_deref(), Some("no-store"), "tokens are never cached");
    let pair: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(pair["token_type"], "bearer", "{pair}");
    assert_eq!(pair["expires_in"], 900, "{pair}");
    assert_eq!(pair["refresh_expires_in"], 2_592_000, "{pair}");
    assert_eq!(
        pair["access_token"].as_str().unwrap().split('.').count(),
        3,
        "a JWT: {pair}"
    );
    assert!(!pair["refresh_token"].as_str().unwrap().is_empty(), "{pair}");
    pair
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("{key} in {value}"))
}

/// The id of the user an access token logs in, as the server sees it.
async fn whoami(app: &TestApp, access_token: &str) -> Value {
    let res = app
        .request(Method::GET, "/api/v1/users/me")
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Waits for the background mail to `to` whose subject contains `subject`.
async fn wait_for_mail(app: &TestApp, to: &str, subject: &str) -> Mail {
    for _ in 0..250 {
        if let Some(mail) = app
            .mailer
            .sent()
            .into_iter()
            .find(|m| m.to == to && m.subject.contains(subject))
        {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no mail {subject:?} to {to}; sent: {:?}", app.mailer.sent());
}
