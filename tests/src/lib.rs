//! The test harness: a real server on an ephemeral port over a fresh database per test
//! (SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set), and helpers to drive it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test support: a failed set-up panics the test that asked for it"
)]

mod instants;
mod problems;
pub mod samples;

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use api_server::config::AppEnv;
use api_server::{AppState, Config};
use auth::MemoryMailer;
use reqwest::{Method, RequestBuilder, Response};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use uuid::Uuid;

pub use instants::instant;
pub use problems::{assert_problem, field_names};
pub use testkit::{TestDatabase, on_postgres, require_postgres};

/// A running server and what a test needs to drive and inspect it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// HTTP client (no redirects followed).
    pub client: reqwest::Client,
    /// A connection to the server's database, for asserting what is stored.
    pub db: DatabaseConnection,
    /// Mail the server "sent".
    pub mailer: Arc<MemoryMailer>,
    /// The server's services.
    pub state: AppState,
    handle: ServerHandle,
    _database: TestDatabase,
}

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// User id.
    pub id: Uuid,
    /// Username.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
}

impl TestApp {
    /// A server with the test defaults (bcrypt cost 4, generous rate limit).
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A server with the test defaults adjusted by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_in(TestDatabase::create().await, adjust).await
    }

    /// Another server (a second replica) over the same database as `other`, adjusted by
    /// `adjust`; drop it before `other`, which owns the database.
    pub async fn spawn_on(other: &TestApp, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::spawn_in(TestDatabase::shared(&other._database.url), adjust).await
    }

    async fn spawn_in(database: TestDatabase, adjust: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config {
            app_env: AppEnv::Test,
            database_url: database.url.clone(),
            database_pool_size: 5,
            // Opened on demand: hundreds of test servers on one PostgreSQL.
            database_pool_min: Some(1),
            // Generous: a loaded machine running many test servers at once is slow to connect.
            database_connect_timeout_secs: 30,
            bcrypt_cost: 4,
            auth_rate_limit_per_minute: 10_000,
            workers: Some(1),
            shutdown_timeout_secs: 1,
            jwt_secret: Some(TEST_JWT_SECRET.into()),
            // Each server keeps its files in a directory of its own, removed with it.
            file_store_url: std::env::temp_dir()
                .join(format!("agentry-test-files-{}", Uuid::new_v4()))
                .to_string_lossy()
                .into_owned(),
            ..Config::default()
        };
        adjust(&mut config);
        let db = api_server::db::connect(&config)
            .await
            .expect("connect to the test database");
        let mailer = Arc::new(MemoryMailer::default());
        let state = AppState::build(config, db.clone(), Some(mailer.clone())).expect("build the app state");
        api_server::server::prepare(&state)
            .await
            .expect("migrate the test database");
        let (server, addr) = api_server::server::start(state.clone(), ("127.0.0.1", 0)).expect("start the server");
        let handle = server.handle();
        tokio::spawn(server);
        // reqwest is built without a default TLS provider (no aws-lc); the tests speak plain
        // HTTP, but the client still wants a provider installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("build the HTTP client");
        Self {
            base: format!("http://{addr}"),
            client,
            db,
            mailer,
            state,
            handle,
            _database: database,
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request to `path`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// GET `path` as `user`.
    pub fn get_as(&self, user: &TestUser, path: &str) -> RequestBuilder {
        self.request(Method::GET, path).bearer_auth(&user.access_token)
    }

    /// POST JSON to `path` as `user`.
    pub fn post_as(&self, user: &TestUser, path: &str, body: &Value) -> RequestBuilder {
        self.request(Method::POST, path)
            .bearer_auth(&user.access_token)
            .json(body)
    }

    /// PATCH JSON to `path` as `user`.
    pub fn patch_as(&self, user: &TestUser, path: &str, body: &Value) -> RequestBuilder {
        self.request(Method::PATCH, path)
            .bearer_auth(&user.access_token)
            .json(body)
    }

    /// DELETE `path` as `user`.
    pub fn delete_as(&self, user: &TestUser, path: &str) -> RequestBuilder {
        self.request(Method::DELETE, path).bearer_auth(&user.access_token)
    }

    /// GET `path` as `user`, which must answer `200`; its JSON body.
    pub async fn get_ok(&self, user: &TestUser, path: &str) -> Value {
        let res = self.get_as(user, path).send().await.expect("GET");
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("a JSON body")
    }

    /// A superuser's `PATCH /users/{id}` with `body`, which must succeed.
    pub async fn patch_user(&self, root: &TestUser, id: Uuid, body: Value) {
        let res = self
            .patch_as(root, &format!("/api/v1/users/{id}"), &body)
            .send()
            .await
            .expect("PATCH");
        assert_eq!(res.status(), 200, "PATCH /users/{id} {body}");
    }

    /// Registers `name` (email `<name>@example.com`) and logs in.
    pub async fn register(&self, name: &str) -> TestUser {
        let email = format!("{name}@example.com");
        let password = format!("password-{name}");
        let res = self
            .request(Method::POST, "/api/v1/auth/register")
            .json(&json!({"email": email, "username": name, "password": password}))
            .send()
            .await
            .expect("register");
        assert_eq!(
            res.status(),
            201,
            "register {name}: {}",
            res.text().await.unwrap_or_default()
        );
        let created: Value = res.json().await.expect("user body");
        let id = created["id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .expect("user id");
        self.login_user(id, name, &email, &password).await
    }

    /// A logged-in superuser named `name`.
    pub async fn superuser(&self, name: &str) -> TestUser {
        let email = format!("{name}@example.com");
        let password = format!("password-{name}");
        self.state
            .users
            .ensure_superuser(&email, &password)
            .await
            .expect("create superuser");
        let user = self
            .state
            .users
            .find_by_login(&email)
            .await
            .expect("find")
            .expect("superuser exists");
        self.login_user(user.id, &user.username, &email, &password).await
    }

    /// Logs in with JSON credentials.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login")
    }

    async fn login_user(&self, id: Uuid, username: &str, email: &str, password: &str) -> TestUser {
        let res = self.login(username, password).await;
        assert_eq!(res.status(), 200, "login {username}");
        let tokens: Value = res.json().await.expect("token body");
        TestUser {
            id,
            username: username.to_owned(),
            email: email.to_owned(),
            password: password.to_owned(),
            access_token: tokens["access_token"].as_str().expect("access_token").to_owned(),
            refresh_token: tokens["refresh_token"].as_str().expect("refresh_token").to_owned(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop running executions too, as a crashed process would.
        self.state.runner.stop();
        self.state.background.cancel();
        let handle = self.handle.clone();
        let files = &self.state.config.file_store_url;
        if files.contains("agentry-test-files-") && !files.contains("://") {
            let _ = std::fs::remove_dir_all(files);
        }
        // Stop accepting at once; the database guard drops the database after.
        drop(tokio::spawn(async move { handle.stop(false).await }));
    }
}

/// The keys of a User body, sorted: never a password or its hash.
pub const USER_KEYS: [&str; 9] = [
    "avatar_url",
    "created_at",
    "email",
    "full_name",
    "id",
    "is_active",
    "is_superuser",
    "updated_at",
    "username",
];

/// The JWT secret every test server signs with.
pub const TEST_JWT_SECRET: &str = "test-secret-0123456789-0123456789-abcdef";
