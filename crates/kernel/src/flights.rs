//! [`Flights`]: concurrent misses of one cache key read the database once. The first
//! caller to miss a key leads: it reads and keeps what it found, and its [`Lead`] dropped
//! wakes the others, who look in the cache again (and read for themselves only when the
//! leader kept nothing: it found nothing, failed, or was cancelled). A burst of requests
//! for one cold key costs one read instead of one per request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

use tokio::sync::watch;

/// The reads in flight, by key.
pub struct Flights<K> {
    in_flight: Mutex<HashMap<K, watch::Receiver<()>>>,
}

impl<K> Default for Flights<K> {
    fn default() -> Self {
        Self {
            in_flight: Mutex::new(HashMap::new()),
        }
    }
}

/// The right and duty to read a key: held while reading and keeping; dropped, it wakes
/// the callers waiting for the key.
pub struct Lead<'a, K: Hash + Eq> {
    flights: &'a Flights<K>,
    key: Option<K>,
    // Dropped after `drop` has removed the key: waiters wake to a key no longer in flight.
    _landed: watch::Sender<()>,
}

impl<K: Hash + Eq + Clone> Flights<K> {
    /// Leads the read of `key` when none is in flight (`Some`: read, keep, then drop it);
    /// otherwise waits until the read in flight has ended and returns `None` (look again).
    pub async fn lead_or_wait(&self, key: K) -> Option<Lead<'_, K>> {
        let mut waiting = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
            match in_flight.get(&key) {
                Some(landed) => landed.clone(),
                None => {
                    let (landed, waiting) = watch::channel(());
                    in_flight.insert(key.clone(), waiting);
                    return Some(Lead {
                        flights: self,
                        key: Some(key),
                        _landed: landed,
                    });
                }
            }
        };
        // Nothing is ever sent: `changed` fails once the lead's sender is dropped.
        while waiting.changed().await.is_ok() {}
        None
    }

    /// How many keys are being read now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl<K: Hash + Eq> Drop for Lead<'_, K> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.flights
                .in_flight
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// A cache of one value read through `flights`, counting the reads.
    struct Cached {
        flights: Flights<u32>,
        value: Mutex<Option<u32>>,
        reads: AtomicUsize,
    }

    impl Cached {
        async fn get(&self, key: u32, found: bool) -> Option<u32> {
            if let Some(v) = *self.value.lock().unwrap() {
                return Some(v);
            }
            let lead = self.flights.lead_or_wait(key).await;
            if lead.is_none()
                && let Some(v) = *self.value.lock().unwrap()
            {
                return Some(v);
            }
            self.reads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            let read = found.then_some(key * 10);
            if let Some(v) = read {
                *self.value.lock().unwrap() = Some(v);
            }
            read
        }
    }

    fn cached() -> Arc<Cached> {
        Arc::new(Cached {
            flights: Flights::default(),
            value: Mutex::new(None),
            reads: AtomicUsize::new(0),
        })
    }

    #[tokio::test]
    async fn a_burst_of_misses_of_one_key_reads_once() {
        let cache = cached();
        let all: Vec<_> = (0..50)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.get(7, true).await })
            })
            .collect();
        for one in all {
            assert_eq!(one.await.unwrap(), Some(70));
        }
        assert_eq!(cache.reads.load(Ordering::SeqCst), 1);
        assert_eq!(cache.flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn when_the_leader_keeps_nothing_the_others_read_for_themselves() {
        let cache = cached();
        let all: Vec<_> = (0..5)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.get(7, false).await })
            })
            .collect();
        for one in all {
            assert_eq!(one.await.unwrap(), None);
        }
        assert_eq!(cache.reads.load(Ordering::SeqCst), 5);
        assert_eq!(cache.flights.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_leader_wakes_the_others() {
        let flights: Arc<Flights<u32>> = Arc::new(Flights::default());
        let lead = flights.lead_or_wait(1).await;
        assert!(lead.is_some());
        let waiter = {
            let flights = Arc::clone(&flights);
            tokio::spawn(async move { flights.lead_or_wait(1).await.is_none() })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished(), "it waits for the leader");
        drop(lead);
        assert!(waiter.await.unwrap(), "woken, it looks again");
        assert!(flights.lead_or_wait(1).await.is_some(), "the next miss leads");
    }
}
