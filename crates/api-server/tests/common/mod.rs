//! What the tests that start the real `api-server` binary share: a database of their own
//! (a temporary SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is
//! set), the command that starts the server, and a logged-in user.

#![allow(dead_code, reason = "each test binary uses part of it")]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

/// A database for one test: a temporary SQLite file or a new PostgreSQL database.
pub struct Db {
    /// Its URL.
    pub url: String,
    admin: Option<(String, String)>,
}

impl Db {
    pub async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(admin_url) => {
                let name = format!("test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(admin_url.as_str()).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
                Self {
                    url: format!("{base}/{name}"),
                    admin: Some((admin_url.clone(), name)),
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("agentry-shutdown-{}.db", uuid::Uuid::new_v4()));
                Self {
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    admin: None,
                }
            }
        }
    }

    pub async fn drop_database(self) {
        if let Some((admin_url, name)) = self.admin {
            let admin = Database::connect(admin_url.as_str()).await.unwrap();
            let _ = admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        } else if let Some(path) = self.url.strip_prefix("sqlite://") {
            let _ = std::fs::remove_file(path.split('?').next().unwrap_or(path));
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `api-server` binary set up for a test on `db` at `port` (warnings logged to the
/// test's stderr, stdout discarded); a test adds or overrides variables before spawning it.
pub fn server(db: &Db, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_api-server"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("APP_ENV", "test")
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("WORKERS", "2")
        .env("DATABASE_URL", &db.url)
        .env("JWT_SECRET", "test-secret-0123456789-0123456789-abcdef")
        .env("BCRYPT_COST", "4")
        .env("AUTH_RATE_LIMIT_PER_MINUTE", "10000")
        .env("EXECUTION_WORKERS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    command
}

pub fn sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

pub async fn post(client: &reqwest::Client, base: &str, token: &str, path: &str, body: Value) -> Value {
    let res = client
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

/// Waits until the server answers, then registers and logs in `ada`; returns her token.
pub async fn ready_and_logged_in(client: &reqwest::Client, base: &str, child: &mut Child) -> String {
    for attempt in 0.. {
        assert!(attempt < 600, "the server did not come up");
        if let Ok(res) = client.get(format!("{base}/health")).send().await
            && res.status().is_success()
        {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the server exited at start-up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let credentials = json!({"email": "ada@example.com", "username": "ada", "password": "password-ada"});
    let res = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "ada", "password": "password-ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"].as_str().unwrap().to_owned()
}
