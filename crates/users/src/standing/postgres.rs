//! Cross-replica invalidation on PostgreSQL: the `users_standing_notify` trigger (see the
//! migrations) sends `NOTIFY agentry_user_standing, '<id>'` when an account's activity or
//! rights change or it is deleted, whoever changed it; every process relays that here.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use sea_orm::sqlx::postgres::PgListener;
use uuid::Uuid;

use super::StandingCache;

/// The notification channel the trigger sends on.
pub const CHANNEL: &str = "agentry_user_standing";

/// Keeps `cache` in step with every replica's changes until `stop` resolves: the cache is
/// live only while the `LISTEN` connection is up. Returns at once (leaving the cache as it
/// is) when `db` is not PostgreSQL.
pub async fn relay(db: DatabaseConnection, cache: StandingCache, stop: impl Future<Output = ()>) {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    tokio::pin!(stop);
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            () = &mut stop => return,
            listener = listener => match listener {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot LISTEN for account changes; the account cache stays paused");
                    tokio::select! {
                        () = &mut stop => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
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
                Ok(Some(notification)) => match Uuid::parse_str(notification.payload()) {
                    Ok(id) => cache.invalidate(id),
                    Err(_) => cache.invalidate_all(),
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
