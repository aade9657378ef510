//! [`ModelCache`]: what the model names of the OpenAI-compatible API resolve to, per owner,
//! kept in memory so that a chat completion does not read its agent from the database.
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use kernel::invalidation::Follower;
use uuid::Uuid;

use crate::entities::agent;

/// The most distinct model names kept per owner (more are read each time).
const NAMES_PER_OWNER: usize = 64;

/// What a model name resolves to among an owner's live agents.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelMatch {
    /// One agent (by id, or the only one with that name), and whether it has links.
    Agent(Box<agent::Model>, bool),
    /// Several agents have that name.
    Several,
}

/// A bounded cache of resolved model names, per owner. Cheap to clone (shared).
#[derive(Clone)]
pub struct ModelCache {
    inner: Arc<Inner>,
}

/// One owner's resolved names.
type Names = RwLock<HashMap<Box<str>, ModelMatch>>;

struct Inner {
    owners: moka::sync::Cache<Uuid, Arc<Names>>,
    /// Bumped by every invalidation: a lookup that raced one drops what it read.
    epoch: AtomicU64,
    live: AtomicBool,
}

impl ModelCache {
    /// Holds the names of up to `owners` owners, each for at most `ttl`; serves entries
    /// from the start when `live` (a cache that follows a relay starts paused).
    pub fn new(owners: u64, ttl: Duration, live: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                owners: moka::sync::Cache::builder()
                    .max_capacity(owners)
                    .time_to_live(ttl)
                    .build(),
                epoch: AtomicU64::new(0),
                live: AtomicBool::new(live),
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
        let names = self.inner.owners.get(&owner_id)?;
        let names = names.read().unwrap_or_else(PoisonError::into_inner);
        names.get(model).cloned()
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
        let names = self.inner.owners.get_with(owner_id, Arc::default);
        {
            let mut names = names.write().unwrap_or_else(PoisonError::into_inner);
            if names.len() >= NAMES_PER_OWNER && !names.contains_key(model) {
                return;
            }
            names.insert(model.into(), found);
        }
        // An invalidation between the check above and the insert bumped the epoch first.
        if self.epoch() != epoch {
            self.inner.owners.invalidate(&owner_id);
        }
    }
}

impl Follower for ModelCache {
    /// Forgets every name of the owner `id` (the only ids it keeps anything under).
    fn forget(&self, id: Uuid) {
        self.inner.epoch.fetch_add(1, Ordering::SeqCst);
        self.inner.owners.invalidate(&id);
    }

    fn forget_all(&self) {
        self.inner.epoch.fetch_add(1, Ordering::SeqCst);
        self.inner.owners.invalidate_all();
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
            .field("owners", &self.inner.owners.entry_count())
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
    fn an_owner_keeps_a_bounded_number_of_names() {
        let cache = cache(true);
        let owner = Uuid::now_v7();
        for n in 0..NAMES_PER_OWNER + 5 {
            cache.keep(owner, &format!("m{n}"), ModelMatch::Several, cache.epoch());
        }
        assert_eq!(cache.get(owner, "m0"), Some(ModelMatch::Several));
        assert_eq!(
            cache.get(owner, &format!("m{}", NAMES_PER_OWNER - 1)),
            Some(ModelMatch::Several)
        );
        assert_eq!(cache.get(owner, &format!("m{NAMES_PER_OWNER}")), None);
    }
}
