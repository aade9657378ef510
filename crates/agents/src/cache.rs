//! [`ModelCache`]: what the model names of the OpenAI-compatible API resolve to, per owner,
//! kept in memory so that a chat completion does not read its agent from the database;
//! a chat turn's agent is kept under its id the same way
//! ([`AgentService::find_flagged_cached`](crate::AgentService::find_flagged_cached)).
//! Concurrent misses of one name read it once ([`kernel::flights`]).
//!
//! Every change that can alter a resolution is an agent's or a link's, and is announced:
//! [`AgentService`](crate::AgentService) forgets the owner after each of its writes; on
//! PostgreSQL, triggers on `agents` (updates, deletions) and the link tables send the
//! owner's id on the account cache's channel, whoever wrote (a new agent is not announced to
//! the other replicas: a name they resolved before it shared it keeps resolving there for at
//! most the time to live), and the cache follows the account cache
//! ([`kernel::invalidation::Follower`]), so every replica forgets the owner, and the cache
//! pauses (reads through) whenever the account cache does. A deleted account is forgotten
//! with its standing. A time to live bounds anything else (a second process on one SQLite
//! file). The one change not announced in-process on SQLite is a tool or MCP server deleted
//! with its links: a cached "has links" then stays `true` for at most the time to live,
//! which only sends an answer through a stored run instead of straight to the provider.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use kernel::flights::{Flights, Lead};
use kernel::invalidation::Follower;
use uuid::Uuid;

use crate::entities::agent;

/// What a model name resolves to among an owner's live agents.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelMatch {
    /// One agent (by id, or the only one with that name), and whether it has links.
    Agent(Box<agent::Model>, bool),
    /// Several agents have that name.
    Several,
}

impl ModelMatch {
    /// About how many bytes it holds (with its key's `model`), for the cache's bound: an
    /// agent's system prompt alone may be 32,000 characters.
    fn weight(&self, model: &str) -> u32 {
        let held = match self {
            Self::Agent(agent, _) => {
                agent.name.len()
                    + agent.description.as_ref().map_or(0, String::len)
                    + agent.provider.len()
                    + agent.model.len()
                    + agent.system_prompt.as_ref().map_or(0, String::len)
                    + agent.metadata.to_string().len()
                    + std::mem::size_of::<agent::Model>()
            }
            Self::Several => 0,
        };
        u32::try_from(held + model.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
    }
}

/// The bookkeeping of one entry beside what it holds (key, node, hash table slot), roughly.
const ENTRY_OVERHEAD: usize = 128;

/// A bounded cache of resolved model names, keyed by owner and name. Cheap to clone (shared).
#[derive(Clone)]
pub struct ModelCache {
    inner: Arc<Inner>,
}

struct Inner {
    names: moka::sync::Cache<(Uuid, Box<str>), ModelMatch>,
    /// Bumped by every invalidation: a lookup that raced one drops what it read.
    epoch: AtomicU64,
    live: AtomicBool,
    /// Misses being read: a burst of requests for one cold name reads it once.
    flights: Flights<(Uuid, Box<str>)>,
}

impl ModelCache {
    /// Holds resolved names up to about `bytes` in all (what they hold, weighed), each for
    /// at most `ttl`; serves entries from the start when `live` (a cache that follows a
    /// relay starts paused).
    pub fn new(bytes: u64, ttl: Duration, live: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                names: moka::sync::Cache::builder()
                    .max_capacity(bytes)
                    .weigher(|(_, model): &(Uuid, Box<str>), found: &ModelMatch| found.weight(model))
                    .time_to_live(ttl)
                    .support_invalidation_closures()
                    .build(),
                epoch: AtomicU64::new(0),
                live: AtomicBool::new(live),
                flights: Flights::default(),
            }),
        }
    }

    /// Whether lookups are served from memory.
    pub fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// What `model` resolved to for `owner_id`, if kept and the cache is live.
    pub fn get(&self, owner_id: Uuid, model: &str) -> Option<ModelMatch> {
        if !self.is_live() {
            return None;
        }
        self.inner.names.get(&(owner_id, Box::from(model)))
    }

    /// After a miss of `model`: `Some` when this caller is to read it (and keep it, then
    /// drop the lead); `None` once a read of it by another caller has ended (look again,
    /// and read only if it kept nothing). See [`kernel::flights`].
    pub async fn lead_or_wait(&self, owner_id: Uuid, model: &str) -> Option<Lead<'_, (Uuid, Box<str>)>> {
        self.inner.flights.lead_or_wait((owner_id, Box::from(model))).await
    }

    /// The marker to pass to [`keep`](Self::keep) after reading the database.
    pub fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::SeqCst)
    }

    /// Keeps what `model` resolved to when the read began at `epoch`, unless an
    /// invalidation may have happened since (then the read may predate the change).
    pub fn keep(&self, owner_id: Uuid, model: &str, found: ModelMatch, epoch: u64) {
        if !self.is_live() || self.epoch() != epoch {
            return;
        }
        let key = (owner_id, Box::from(model));
        self.inner.names.insert(key.clone(), found);
        // An invalidation between the check above and the insert bumped the epoch first.
        if self.epoch() != epoch {
            self.inner.names.invalidate(&key);
        }
    }
}

impl Follower for ModelCache {
    /// Forgets every name of the owner `id` (the only ids it keeps anything under).
    fn forget(&self, id: Uuid) {
        self.inner.epoch.fetch_add(1, Ordering::SeqCst);
        // Only fails when the cache was built without closures; it is not.
        let _ = self
            .inner
            .names
            .invalidate_entries_if(move |(owner, _), _| *owner == id);
    }

    fn forget_all(&self) {
        self.inner.epoch.fetch_add(1, Ordering::SeqCst);
        self.inner.names.invalidate_all();
    }

    fn set_live(&self, live: bool) {
        self.inner.live.store(live, Ordering::SeqCst);
        self.forget_all();
    }
}

impl std::fmt::Debug for ModelCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelCache")
            .field("live", &self.is_live())
            .field("names", &self.inner.names.entry_count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(live: bool) -> ModelCache {
        ModelCache::new(100, Duration::from_secs(60), live)
    }

    fn agent(owner_id: Uuid, name: &str) -> agent::Model {
        let now = kernel::clock::now();
        agent::Model {
            id: Uuid::now_v7(),
            owner_id,
            name: name.into(),
            description: None,
            provider: "echo".into(),
            model: "echo-1".into(),
            system_prompt: None,
            temperature: 0.7,
            max_tokens: None,
            metadata: serde_json::json!({}),
            created_at: now,
            updated_at: now,
            deleted_at: None,
        }
    }

    #[test]
    fn keeps_and_serves_names_per_owner_until_the_owner_is_forgotten() {
        let cache = cache(true);
        let (alice, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let found = ModelMatch::Agent(Box::new(agent(alice, "m")), false);
        cache.keep(alice, "m", found.clone(), cache.epoch());
        cache.keep(alice, "twice", ModelMatch::Several, cache.epoch());
        cache.keep(bob, "m", ModelMatch::Several, cache.epoch());
        assert_eq!(cache.get(alice, "m"), Some(found));
        assert_eq!(cache.get(alice, "twice"), Some(ModelMatch::Several));
        assert_eq!(cache.get(alice, "other"), None);
        cache.forget(alice);
        assert_eq!(cache.get(alice, "m"), None);
        assert_eq!(cache.get(alice, "twice"), None);
        assert_eq!(
            cache.get(bob, "m"),
            Some(ModelMatch::Several),
            "another owner's names stay"
        );
        cache.forget_all();
        assert_eq!(cache.get(bob, "m"), None);
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_kept() {
        let cache = cache(true);
        let owner = Uuid::now_v7();
        let epoch = cache.epoch();
        cache.forget(Uuid::now_v7());
        cache.keep(owner, "m", ModelMatch::Several, epoch);
        assert_eq!(cache.get(owner, "m"), None);
    }

    #[test]
    fn a_paused_cache_serves_and_keeps_nothing() {
        let cache = cache(false);
        let owner = Uuid::now_v7();
        cache.keep(owner, "m", ModelMatch::Several, cache.epoch());
        assert_eq!(cache.get(owner, "m"), None);
        cache.set_live(true);
        cache.keep(owner, "m", ModelMatch::Several, cache.epoch());
        assert_eq!(cache.get(owner, "m"), Some(ModelMatch::Several));
        cache.set_live(false);
        assert_eq!(cache.get(owner, "m"), None);
    }

    #[test]
    fn what_it_holds_is_bounded_by_weight() {
        // Room for about three agents with a 32,000-character system prompt.
        let cache = ModelCache::new(100_000, Duration::from_secs(60), true);
        let owner = Uuid::now_v7();
        for n in 0..50 {
            let mut big = agent(owner, &format!("m{n}"));
            big.system_prompt = Some("p".repeat(32_000));
            cache.keep(
                owner,
                &format!("m{n}"),
                ModelMatch::Agent(Box::new(big), false),
                cache.epoch(),
            );
        }
        cache.inner.names.run_pending_tasks();
        let kept = (0..50).filter(|n| cache.get(owner, &format!("m{n}")).is_some()).count();
        assert!((1..=3).contains(&kept), "{kept} agents of ~32 KB kept in 100 KB");
        assert!(cache.inner.names.weighted_size() <= 100_000);
    }
}
