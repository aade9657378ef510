//! Cross-replica invalidation on PostgreSQL: the `users_standing_notify` trigger (see the
//! migrations) sends `NOTIFY agentry_user_standing, '<id>'` when an account's activity or
//! rights change or it is deleted, whoever changed it; every process relays that here. The
//! `api_keys` trigger announces revoked keys the same way, and the `agents` and link tables'
//! triggers announce `followers:<owner id>` for the caches that follow this one (the model
//! names of `/v1`, see `agents::cache`).

use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::{PgListener, PgPool};
use uuid::Uuid;

use super::StandingCache;

/// The notification channel the trigger sends on.
pub const CHANNEL: &str = "agentry_user_standing";

/// Who a notification's payload is for: `<id>` for the cache and its followers,
/// `followers:<id>` for the followers only (see [`kernel::invalidation::FOLLOWERS_PREFIX`]).
enum Announced {
    Everyone(Uuid),
    Followers(Uuid),
}

fn announced(payload: &str) -> Result<Announced, uuid::Error> {
    match payload.strip_prefix(kernel::invalidation::FOLLOWERS_PREFIX) {
        Some(id) => Uuid::parse_str(id).map(Announced::Followers),
        None => Uuid::parse_str(payload).map(Announced::Everyone),
    }
}

/// How often a relay whose database lacks the trigger looks for it again.
const MISSING_TRIGGER_RETRY: Duration = Duration::from_secs(30);

/// Whether the `users` table of the connection's search path has the trigger.
const TRIGGER_INSTALLED: &str = "SELECT EXISTS (SELECT 1 FROM pg_trigger \
     WHERE tgname = 'users_standing_notify' AND tgrelid = to_regclass('users'))";

/// A connection listening on [`CHANNEL`], or how long to wait before trying again (logged).
/// Without the trigger (a migration not applied yet, with `AUTO_MIGRATE=false`) nothing
/// would be announced, so the relay does not listen and the cache stays paused.
async fn listen(pool: &PgPool) -> Result<PgListener, Duration> {
    let attempt = async {
        let installed: bool = sea_orm::sqlx::query_scalar(TRIGGER_INSTALLED).fetch_one(pool).await?;
        if !installed {
            return Ok(None);
        }
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok::<_, sea_orm::sqlx::Error>(Some(listener))
    };
    match attempt.await {
        Ok(Some(listener)) => Ok(listener),
        Ok(None) => {
            tracing::warn!(
                "the users_standing_notify trigger is missing (apply the migrations); \
                 the account cache stays paused"
            );
            Err(MISSING_TRIGGER_RETRY)
        }
        Err(err) => {
            tracing::warn!(error = %err, "cannot LISTEN for account changes; the account cache stays paused");
            Err(Duration::from_secs(1))
        }
    }
}

/// Keeps `cache` in step with every replica's changes until `stop` resolves: the cache is
/// live only while the `LISTEN` connection is up and the trigger exists. Returns at once (leaving the cache as it
/// is) when `db` is not PostgreSQL.
pub async fn relay(db: DatabaseConnection, cache: StandingCache, stop: impl Future<Output = ()>) {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    tokio::pin!(stop);
    loop {
        let attempt = tokio::select! {
            () = &mut stop => return,
            attempt = listen(&pool) => attempt,
        };
        let mut listener = match attempt {
            Ok(listener) => listener,
            Err(retry_in) => tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(retry_in) => continue,
            },
        };
        cache.set_live(true);
        loop {
            let next = tokio::select! {
                () = &mut stop => {
                    cache.set_live(false);
                    return;
                }
                next = listener.try_recv() => next,
            };
            match next {
                Ok(Some(notification)) => match announced(notification.payload()) {
                    Ok(Announced::Everyone(id)) => cache.invalidate(id),
                    Ok(Announced::Followers(id)) => cache.invalidate_followers(id),
                    // Anything else (the down migration's `trigger-dropped`): pause, and
                    // start over, which looks for the trigger again.
                    Err(_) => {
                        tracing::warn!(
                            payload = notification.payload(),
                            "account changes may go unannounced; pausing the account cache"
                        );
                        cache.set_live(false);
                        break;
                    }
                },
                // The connection dropped: whatever is sent until a new one listens is
                // lost, so the cache pauses, and starts over empty once it listens again.
                Ok(None) => {
                    tracing::warn!("account change listener lost its connection; reconnecting");
                    cache.set_live(false);
                    break;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "account change listener failed; reconnecting");
                    cache.set_live(false);
                    break;
                }
            }
        }
    }
}
