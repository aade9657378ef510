//! Cross-replica fan-out on PostgreSQL: a dedicated `LISTEN` connection relays the
//! `NOTIFY`s of every replica (sent in the transactions that store events and queue
//! executions) into the local [`Broker`]. A notification carries only `<id>:<seq>`; the
//! event itself is read from the store, and only when a local watcher or run wants it.

use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Broker;
use crate::store::{EVENTS_CHANNEL, QUEUE_CHANNEL, Store};

/// Relays notifications into `broker` until `stop` is cancelled, reconnecting as needed.
pub(crate) async fn relay(store: Store, broker: Broker, stop: CancellationToken) {
    let pool = store.db().get_postgres_connection_pool().clone();
    loop {
        let mut listener = match listen(&pool).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, "cannot LISTEN for execution events; retrying");
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        // Whatever was announced while nobody listened is re-read from the store.
        broker.resync_all();
        broker.wake_queue();
        loop {
            let next = tokio::select! {
                () = stop.cancelled() => return,
                next = listener.try_recv() => next,
            };
            match next {
                Ok(Some(notification)) => {
                    deliver(&store, &broker, notification.channel(), notification.payload()).await;
                }
                Ok(None) => {
                    // The connection dropped and is re-established on the next call.
                    broker.resync_all();
                    broker.wake_queue();
                }
                Err(err) => {
                    tracing::warn!(error = %err, "execution event listener failed; reconnecting");
                    break;
                }
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all([EVENTS_CHANNEL, QUEUE_CHANNEL]).await?;
    Ok(listener)
}

async fn deliver(store: &Store, broker: &Broker, channel: &str, payload: &str) {
    if channel == QUEUE_CHANNEL {
        broker.wake_queue();
        return;
    }
    let Some((id, first, last)) = parse(payload) else {
        tracing::warn!(payload, "malformed execution event notification");
        return;
    };
    if !broker.wants(id, last) {
        return;
    }
    let count = u64::try_from(last - first + 1).unwrap_or(1);
    match store.events_after(id, first - 1, count).await {
        Ok(events) => events.into_iter().for_each(|event| broker.publish(event)),
        Err(err) => {
            tracing::warn!(error = %err, %id, first, last, "cannot read notified events");
            broker.resync_all();
        }
    }
}

/// `<uuid>:<seq>` → its parts.
/// `<id>:<seq>` or, for a batch, `<id>:<first>-<last>`.
fn parse(payload: &str) -> Option<(Uuid, i64, i64)> {
    let (id, seqs) = payload.split_once(':')?;
    let (first, last) = match seqs.split_once('-') {
        Some((first, last)) => (first.parse().ok()?, last.parse().ok()?),
        None => {
            let seq = seqs.parse().ok()?;
            (seq, seq)
        }
    };
    (first >= 1 && last >= first).then_some(())?;
    Some((Uuid::parse_str(id).ok()?, first, last))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn payloads_parse() {
        let id = uuid::Uuid::now_v7();
        assert_eq!(parse(&format!("{id}:7")), Some((id, 7, 7)));
        assert_eq!(parse(&format!("{id}:3-9")), Some((id, 3, 9)));
        assert_eq!(parse(&format!("{id}:9-3")), None);
        assert_eq!(parse("nope"), None);
        assert_eq!(parse(&format!("{id}:x")), None);
    }
}
