//! An account's *standing* — whether its access tokens work, and with what rights — and
//! the cache that spares every authenticated request a database round trip for it. The
//! same cache keeps what each API key grants ([`KeyGrant`], filled by `auth`), so that a
//! revoked key is forgotten through the same path as a changed account.
//!
//! The cache is only trusted while every change can reach it:
//! - changes made through [`UserService`](crate::UserService) invalidate it at once;
//! - on PostgreSQL a trigger on `users` (and one on `api_keys`) notifies every replica,
//!   and [`relay`] (one `LISTEN` connection per process) invalidates the entries it names. While that connection is
//!   down the cache is *paused*: every lookup reads the database, and the cache is emptied
//!   when it comes back, so nothing missed while it was away survives.
//!
//! A time to live bounds what any other path (a second process on one SQLite file, say)
//! could leave behind.

mod postgres;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use kernel::invalidation::Follower;
use uuid::Uuid;

pub use postgres::{CHANNEL, relay};

/// What decides whether an account's access tokens are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Inactive accounts' tokens are refused.
    pub is_active: bool,
    /// Superusers may use the administration routes.
    pub is_superuser: bool,
}

/// What an API key lets its bearer do: act as `user_id` until `expires_at`. Cached under
/// the key's *lookup id*, an id `auth` derives from the key's hash, which is what the
/// `api_keys` trigger announces when the key is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyGrant {
    /// The key's row id.
    pub key_id: Uuid,
    /// The account the key acts for (whose standing is checked as well).
    pub user_id: Uuid,
    /// When the key stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A bounded, invalidated cache of accounts' standing and API keys' grants. Cheap to
/// clone (shared).
#[derive(Clone)]
pub struct StandingCache {
    inner: Arc<Inner>,
}

struct Inner {
    entries: moka::sync::Cache<Uuid, Standing>,
    keys: moka::sync::Cache<Uuid, KeyGrant>,
    /// Bumped by every invalidation: a lookup that raced one drops what it stored.
    epoch: AtomicU64,
    /// Whether entries may be served (see the module docs).
    live: AtomicBool,
    /// Caches of other crates announced on the same channel (see [`StandingCache::follow`]).
    followers: RwLock<Vec<Arc<dyn Follower>>>,
}

impl StandingCache {
    /// Holds up to `capacity` accounts (and as many keys), each for at most `ttl`; `live`
    /// says whether it serves entries from the start (a cache fed by [`relay`] starts paused).
    pub fn new(capacity: u64, ttl: Duration, live: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                entries: moka::sync::Cache::builder()
                    .max_capacity(capacity)
                    .time_to_live(ttl)
                    .build(),
                keys: moka::sync::Cache::builder()
                    .max_capacity(capacity)
                    .time_to_live(ttl)
                    .build(),
                epoch: AtomicU64::new(0),
                live: AtomicBool::new(live),
                followers: RwLock::new(Vec::new()),
            }),
        }
    }

    /// Whether lookups are served from the cache.
    pub fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// Makes `follower` forget, forget everything and pause with this cache: what the
    /// relay hears and what [`UserService`](crate::UserService) changes reach it too (its
    /// own changes made elsewhere are announced on the same channel by its triggers).
    pub fn follow(&self, follower: Arc<dyn Follower>) {
        follower.set_live(self.is_live());
        self.followers().push(follower);
    }

    fn followers(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Arc<dyn Follower>>> {
        self.inner.followers.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn each_follower(&self, act: impl Fn(&dyn Follower)) {
        let followers = self.inner.followers.read().unwrap_or_else(PoisonError::into_inner);
        for follower in followers.iter() {
            act(follower.as_ref());
        }
    }

    /// Starts (`true`) or stops serving entries; either way the cache is emptied, and so
    /// are the followers (by their own `set_live`).
    pub fn set_live(&self, live: bool) {
        self.inner.live.store(live, Ordering::SeqCst);
        self.forget_own();
        self.each_follower(|follower| follower.set_live(live));
    }

    /// Forgets one account (after it changed or was deleted), or one API key (after it
    /// was revoked) by its lookup id; followers forget what they keep under it.
    pub fn invalidate(&self, id: Uuid) {
        self.inner.epoch.fetch_add(1, Ordering::SeqCst);
        self.inner.entries.invalidate(&id);
        self.inner.keys.invalidate(&id);
        self.each_follower(|follower| follower.forget(id));
    }

    /// Makes the followers forget what they keep under `id`; this cache keeps its entries.
    pub fn invalidate_followers(&self, id: Uuid) {
        self.each_follower(|follower| follower.forget(id));
    }

    /// Forgets every account and every key, and so do the followers.
    pub fn invalidate_all(&self) {
        self.forget_own();
        self.each_follower(|follower| follower.forget_all());
    }

    /// Forgets every account and every key (not the followers' entries).
    fn forget_own(&self) {
        self.inner.epoch.fetch_add(1, Ordering::SeqCst);
        self.inner.entries.invalidate_all();
        self.inner.keys.invalidate_all();
    }

    /// The cached standing of `id`, if any and if the cache is live.
    pub(crate) fn get(&self, id: Uuid) -> Option<Standing> {
        if self.is_live() {
            self.inner.entries.get(&id)
        } else {
            None
        }
    }

    /// The grant of the API key with this lookup id: from the cache when it is live and
    /// holds it, else what `read` finds in the database (kept unless an invalidation
    /// raced the read). A key `read` does not find is not remembered.
    pub async fn key_grant<E>(
        &self,
        lookup_id: Uuid,
        read: impl Future<Output = Result<Option<KeyGrant>, E>>,
    ) -> Result<Option<KeyGrant>, E> {
        if self.is_live()
            && let Some(grant) = self.inner.keys.get(&lookup_id)
        {
            return Ok(Some(grant));
        }
        let epoch = self.epoch();
        let grant = read.await?;
        if let Some(grant) = grant {
            self.keep(&self.inner.keys, lookup_id, grant, epoch);
        }
        Ok(grant)
    }

    /// The marker to pass to [`store`](Self::store) after reading the database.
    pub(crate) fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::SeqCst)
    }

    /// Keeps what was read from the database when the lookup began at `epoch`, unless an
    /// invalidation may have happened since (then the read may predate the change).
    pub(crate) fn store(&self, id: Uuid, standing: Standing, epoch: u64) {
        self.keep(&self.inner.entries, id, standing, epoch);
    }

    fn keep<V: Clone + Send + Sync + 'static>(&self, map: &moka::sync::Cache<Uuid, V>, id: Uuid, value: V, epoch: u64) {
        if !self.is_live() || self.epoch() != epoch {
            return;
        }
        map.insert(id, value);
        // An invalidation between the check above and the insert bumped the epoch first.
        if self.epoch() != epoch {
            map.invalidate(&id);
        }
    }
}

impl std::fmt::Debug for StandingCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandingCache")
            .field("live", &self.is_live())
            .field("entries", &self.inner.entries.entry_count())
            .field("keys", &self.inner.keys.entry_count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVE: Standing = Standing {
        is_active: true,
        is_superuser: false,
    };

    fn cache(live: bool) -> StandingCache {
        StandingCache::new(100, Duration::from_secs(60), live)
    }

    #[test]
    fn stores_and_serves_while_live() {
        let cache = cache(true);
        let id = Uuid::now_v7();
        cache.store(id, ACTIVE, cache.epoch());
        assert_eq!(cache.get(id), Some(ACTIVE));
        cache.invalidate(id);
        assert_eq!(cache.get(id), None);
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_kept() {
        let cache = cache(true);
        let id = Uuid::now_v7();
        let before = cache.epoch();
        cache.invalidate(Uuid::now_v7());
        cache.store(id, ACTIVE, before);
        assert_eq!(cache.get(id), None);
    }

    fn grant() -> KeyGrant {
        KeyGrant {
            key_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn key_grants_are_kept_until_their_lookup_id_is_invalidated() {
        let cache = cache(true);
        let (id, grant) = (Uuid::now_v7(), grant());
        let read = || async { Ok::<_, ()>(Some(grant)) };
        assert_eq!(cache.key_grant(id, read()).await, Ok(Some(grant)));
        let unread = async { Err::<Option<KeyGrant>, ()>(()) };
        assert_eq!(cache.key_grant(id, unread).await, Ok(Some(grant)), "served from memory");
        cache.invalidate(id);
        let gone = async { Ok::<_, ()>(None) };
        assert_eq!(cache.key_grant(id, gone).await, Ok(None), "read again once invalidated");
    }

    #[tokio::test]
    async fn a_key_read_that_raced_an_invalidation_is_not_kept() {
        let cache = cache(true);
        let (id, grant) = (Uuid::now_v7(), grant());
        let racing = async {
            cache.invalidate(id);
            Ok::<_, ()>(Some(grant))
        };
        assert_eq!(cache.key_grant(id, racing).await, Ok(Some(grant)));
        let gone = async { Ok::<_, ()>(None) };
        assert_eq!(cache.key_grant(id, gone).await, Ok(None), "the raced read was dropped");
    }

    #[test]
    fn a_paused_cache_serves_nothing_and_comes_back_empty() {
        let cache = cache(true);
        let id = Uuid::now_v7();
        cache.store(id, ACTIVE, cache.epoch());
        cache.set_live(false);
        assert_eq!(cache.get(id), None);
        cache.store(id, ACTIVE, cache.epoch());
        cache.set_live(true);
        assert_eq!(cache.get(id), None, "nothing from before the pause survives");
    }
}
