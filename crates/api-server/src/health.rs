//! Liveness and readiness probes (no auth, no `/api/v1` prefix).

use std::time::Duration;

use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, get, web};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

/// Liveness answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: &'static str,
    /// Server version.
    #[schema(example = "0.1.0")]
    version: &'static str,
}

/// Readiness answer.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    status: &'static str,
    /// `ok` or `unavailable`.
    #[schema(example = "ok")]
    database: &'static str,
}

/// The liveness answer, [`Health`] serialized once at compile time (a test checks it is):
/// the probe is polled often and its body never changes.
const LIVE_BODY: &str = concat!(r#"{"status":"ok","version":""#, env!("CARGO_PKG_VERSION"), r#""}"#);

/// Liveness: the process answers (the database is not consulted).
#[utoipa::path(tag = "health", responses((status = 200, description = "The server is up", body = Health)))]
#[get("/health")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(LIVE_BODY)
}

/// Readiness: the database answers within two seconds.
#[utoipa::path(
    tag = "health",
    path = "/health/ready",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "The database does not answer", body = Readiness,
            example = json!({"status": "unavailable", "database": "unavailable"})),
    )
)]
#[get("/health/ready")]
pub async fn ready(db: web::Data<DatabaseConnection>) -> HttpResponse {
    let up = matches!(
        tokio::time::timeout(Duration::from_secs(2), db.ping()).await,
        Ok(Ok(()))
    );
    if up {
        HttpResponse::Ok().json(Readiness {
            status: "ok",
            database: "ok",
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Readiness {
            status: "unavailable",
            database: "unavailable",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{Health, LIVE_BODY};

    #[test]
    fn the_liveness_body_is_health_serialized() {
        let health = Health {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
        };
        assert_eq!(serde_json::to_string(&health).unwrap(), LIVE_BODY);
    }
}
