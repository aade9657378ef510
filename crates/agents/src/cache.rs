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

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// The most one owner's names may hold, as a share of the whole cache: an owner's names are
/// kept (and evicted) together, so one owner with many large agents must not crowd out
/// everyone else's.
const OWNER_SHARE: u64 = 8;

/// A bounded cache of resolved model names, keyed by owner and name. Cheap to clone (shared).
///
/// The names of one owner are held together, under the owner's id: forgetting an owner is
/// one removal, done at once. (Keyed by owner and name, forgetting an owner was a predicate
/// that the cache kept until its next maintenance, which only reads and writes of the cache
/// run: every agent created between two chat turns left one behind, and
/// `just bench`'s `POST /agents` phase grew the server by 24 MiB; ~190 bytes each, as
/// `tests/model_cache_memory.rs` counts them.)
#[derive(Clone)]
pub struct ModelCache {
    inner: Arc<Inner>,
}

struct Inner {
    owners: moka::sync::Cache<Uuid, Arc<Names>>,
    /// Bumped by every invalidation: a lookup that raced one drops what it read.
    epoch: AtomicU64,
    live: AtomicBool,
    /// How long a name is served after it was read.
    ttl: Duration,
    /// The most bytes one owner's names may hold.
    owner_bound: u64,
    /// Misses being read: a burst of requests for one cold name reads it once.
    flights: Flights<(Uuid, Box<str>)>,
}

/// One owner's resolved names, and what they hold in all.
#[derive(Default)]
struct Names {
    kept: Mutex<HashMap<Box<str>, Kept>>,
    weight: AtomicU64,
}

struct Kept {
    found: ModelMatch,
    at: Instant,
    weight: u64,
}

impl Names {
    fn weight(&self) -> u32 {
        u32::try_from(self.weight.load(Ordering::Relaxed) + ENTRY_OVERHEAD as u64).unwrap_or(u32::MAX)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Kept>> {
        // A panic while holding it leaves a map that is still whole (inserts and removals).
        self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ModelCache {
    /// Holds resolved names up to about `bytes` in all (what they hold, weighed; one owner's
    /// names up to an eighth of that), each for at most `ttl`; serves entries from the start
    /// when `live` (a cache that follows a relay starts paused).
    pub fn new(bytes: u64, ttl: Duration, live: bool) -> Self {
        Self {
            inner: Arc::new(Inner {
                owners: moka::sync::Cache::builder()
                    .max_capacity(bytes)
                    .weigher(|_: &Uuid, names: &Arc<Names>| names.weight())
                    .time_to_live(ttl)
                    .build(),
                epoch: AtomicU64::new(0),
                live: AtomicBool::new(live),
                ttl,
                owner_bound: bytes / OWNER_SHARE,
                flights: Flights::default(),
            }),
        }
    }

    /// Whether lookups are served from memory.
    pub fn is_live(&self) -> bool {
        self.inner.live.load(Ordering::SeqCst)
    }

    /// What `model` resolved to for `owner_id`, if kept (for less than the time to live)
    /// and the cache is live.
    pub fn get(&self, owner_id: Uuid, model: &str) -> Option<ModelMatch> {
        if !self.is_live() {
            return None;
        }
        let names = self.inner.owners.get(&owner_id)?;
        let kept = names.kept();
        let entry = kept.get(model)?;
        (entry.at.elapsed() < self.inner.ttl).then(|| entry.found.clone())
    }

    /// What `key` holds for `owner_id` as `from_kept` takes it: from memory when kept;
    /// otherwise `read` (one caller of a burst of misses reads, the others wait for it and
    /// look again; see [`kernel::flights`]) and, when it finds something, kept as
    /// `to_kept` makes it. Errors of `read` are returned as they are.
    pub async fn get_or_read<T, E>(
        &self,
        owner_id: Uuid,
        key: &str,
        from_kept: impl Fn(ModelMatch) -> Option<T>,
        to_kept: impl FnOnce(&T) -> ModelMatch,
        read: impl Future<Output = Result<Option<T>, E>>,
    ) -> Result<Option<T>, E> {
        let cached = || self.get(owner_id, key).and_then(&from_kept);
        if let Some(found) = cached() {
            return Ok(Some(found));
        }
        let _lead = match self.lead_or_wait(owner_id, key).await {
            None => match cached() {
                Some(found) => return Ok(Some(found)),
                None => None,
            },
            lead => lead,
        };
        // Taken before `read` runs (a future does nothing until awaited).
        let epoch = self.epoch();
        let found = read.await?;
        if let Some(found) = &found {
            self.keep(owner_id, key, to_kept(found), epoch);
        }
        Ok(found)
    }

    /// After a miss of `model`: `Some` when this caller is to read it (and keep it, then
    /// drop the lead); `None` once a read of it by another caller has ended (look again,
    /// and read only if it kept nothing). See [`kernel::flights`].
    async fn lead_or_wait(&self, owner_id: Uuid, model: &str) -> Option<Lead<'_, (Uuid, Box<str>)>> {
        self.inner.flights.lead_or_wait((owner_id, Box::from(model))).await
    }

    /// The marker to pass to [`keep`](Self::keep) after reading the database.
    pub fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::SeqCst)
    }

    /// Keeps what `model` resolved to when the read began at `epoch`, unless an
    /// invalidation may have happened since (then the read may predate the change), or the
    /// owner's names would hold more than their share (expired names are dropped first).
    pub fn keep(&self, owner_id: Uuid, model: &str, found: ModelMatch, epoch: u64) {
        if !self.is_live() || self.epoch() != epoch {
            return;
        }
        let weight = u64::from(found.weight(model));
        if weight > self.inner.owner_bound {
            return;
        }
        let names = self.inner.owners.get_with(owner_id, Arc::default);
        {
            let mut kept = names.kept();
            let bound = self.inner.owner_bound;
            // What the owner's names would hold with this one (replacing one of that name).
            let after = |kept: &HashMap<Box<str>, Kept>| {
                names.weight.load(Ordering::Relaxed) - kept.get(model).map_or(0, |old| old.weight) + weight
            };
            if after(&kept) > bound {
                let ttl = self.inner.ttl;
                kept.retain(|_, entry| entry.at.elapsed() < ttl);
                names
                    .weight
                    .store(kept.values().map(|entry| entry.weight).sum(), Ordering::Relaxed);
                if after(&kept) > bound {
                    return;
                }
            }
            let total = after(&kept);
            let entry = Kept {
                found,
                at: Instant::now(),
                weight,
            };
            kept.insert(Box::from(model), entry);
            names.weight.store(total, Ordering::Relaxed);
        }
        // Inserted again so that the cache weighs the owner's names as they are now.
        self.inner.owners.insert(owner_id, Arc::clone(&names));
        // An invalidation since the check above bumped the epoch first: what this call
        // inserted, and the names it put back, may predate it.
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
        ModelCache::new(100_000, Duration::from_secs(60), live)
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

    fn big(owner: Uuid, name: &str, prompt: usize) -> ModelMatch {
        let mut big = agent(owner, name);
        big.system_prompt = Some("p".repeat(prompt));
        ModelMatch::Agent(Box::new(big), false)
    }

    #[test]
    fn what_it_holds_is_bounded_by_weight() {
        // Room for about nine owners' agents with a 20,000-character system prompt.
        let cache = ModelCache::new(200_000, Duration::from_secs(60), true);
        let owners: Vec<Uuid> = (0..50).map(|_| Uuid::now_v7()).collect();
        for owner in &owners {
            cache.keep(*owner, "m", big(*owner, "m", 20_000), cache.epoch());
        }
        cache.inner.owners.run_pending_tasks();
        let kept = owners.iter().filter(|owner| cache.get(**owner, "m").is_some()).count();
        assert!((1..=9).contains(&kept), "{kept} agents of ~20 KB kept in 200 KB");
        assert!(cache.inner.owners.weighted_size() <= 200_000);
    }

    #[test]
    fn one_owner_holds_at_most_an_eighth() {
        // An eighth of 1,000,000 bytes: room for three agents of ~32 KB.
        let cache = ModelCache::new(1_000_000, Duration::from_secs(60), true);
        let (owner, other) = (Uuid::now_v7(), Uuid::now_v7());
        for n in 0..50 {
            let name = format!("m{n}");
            cache.keep(owner, &name, big(owner, &name, 32_000), cache.epoch());
        }
        let kept = (0..50).filter(|n| cache.get(owner, &format!("m{n}")).is_some()).count();
        assert_eq!(kept, 3, "agents of ~32 KB kept for one owner in 1 MB");
        // Another owner still has room, and a name already kept can be kept again.
        cache.keep(other, "m", big(other, "m", 32_000), cache.epoch());
        assert!(cache.get(other, "m").is_some());
        cache.keep(owner, "m0", ModelMatch::Several, cache.epoch());
        assert_eq!(cache.get(owner, "m0"), Some(ModelMatch::Several));
        // Too large for any owner's share: not kept.
        cache.keep(other, "huge", big(other, "huge", 200_000), cache.epoch());
        assert_eq!(cache.get(other, "huge"), None);
    }

    #[test]
    fn a_name_is_served_for_the_time_to_live_after_it_was_read() {
        let cache = ModelCache::new(100_000, Duration::from_millis(200), true);
        let owner = Uuid::now_v7();
        cache.keep(owner, "old", ModelMatch::Several, cache.epoch());
        std::thread::sleep(Duration::from_millis(250));
        // Keeping another name of the owner does not extend the first one's time.
        cache.keep(owner, "new", ModelMatch::Several, cache.epoch());
        assert_eq!(cache.get(owner, "old"), None);
        assert_eq!(cache.get(owner, "new"), Some(ModelMatch::Several));
    }

    #[test]
    fn a_forgotten_owner_is_removed_at_once() {
        let cache = cache(true);
        let owner = Uuid::now_v7();
        cache.keep(owner, "m", ModelMatch::Several, cache.epoch());
        assert!(cache.inner.owners.contains_key(&owner));
        cache.forget(owner);
        assert!(!cache.inner.owners.contains_key(&owner));
        assert_eq!(cache.get(owner, "m"), None);
    }

    #[tokio::test]
    async fn a_burst_of_misses_reads_once_and_what_it_found_is_served() {
        let cache = cache(true);
        let owner = Uuid::now_v7();
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let lookups = (0..20).map(|_| {
            let (cache, reads) = (cache.clone(), Arc::clone(&reads));
            tokio::spawn(async move {
                let read = async {
                    reads.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, ()>(Some(ModelMatch::Several))
                };
                cache.get_or_read(owner, "m", Some, Clone::clone, read).await
            })
        });
        for lookup in lookups.collect::<Vec<_>>() {
            assert_eq!(lookup.await.ok(), Some(Ok(Some(ModelMatch::Several))));
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        assert_eq!(cache.get(owner, "m"), Some(ModelMatch::Several));
    }

    #[tokio::test]
    async fn what_a_lookup_does_not_take_or_a_failed_read_is_read_again() {
        let cache = cache(true);
        let owner = Uuid::now_v7();
        let failed = cache
            .get_or_read(owner, "m", Some, Clone::clone, async {
                Err::<Option<ModelMatch>, _>("down")
            })
            .await;
        assert_eq!(failed, Err("down"));
        assert_eq!(cache.get(owner, "m"), None, "nothing kept");
        cache.keep(owner, "m", ModelMatch::Several, cache.epoch());
        // Kept, but not what this lookup takes (an agent): it reads, and keeps the agent.
        let agent = agent(owner, "m");
        let found = cache
            .get_or_read(
                owner,
                "m",
                |kept| matches!(kept, ModelMatch::Agent(..)).then_some(kept),
                Clone::clone,
                async { Ok::<_, ()>(Some(ModelMatch::Agent(Box::new(agent.clone()), false))) },
            )
            .await;
        assert_eq!(found, Ok(Some(ModelMatch::Agent(Box::new(agent.clone()), false))));
        assert_eq!(cache.get(owner, "m"), Some(ModelMatch::Agent(Box::new(agent), false)));
    }
}
