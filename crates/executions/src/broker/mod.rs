//! In-process fan-out of stored events, the registry of running executions' cancellation
//! tokens, and the wake-up of idle workers. On PostgreSQL, [`postgres`] relays the events
//! and wake-ups of the other replicas into it.

pub(crate) mod postgres;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::events::ExecutionEvent;
use crate::feed::EventFrame;

/// What a watcher of one execution receives.
#[derive(Debug, Clone)]
pub enum Signal {
    /// An event, already stored, with its JSON (serialized once for every watcher).
    Event(Arc<EventFrame>),
    /// Events may have been missed: read the store after the last one seen.
    Resync,
}

/// The fan-out hub of one process; cheap to clone.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

struct Inner {
    entries: Mutex<HashMap<Uuid, Entry>>,
    queue: Notify,
    capacity: usize,
}

/// What this process knows of one execution: its watchers, its local run, the last seq
/// seen, and the events its run started with until the request that started it follows it.
#[derive(Default)]
struct Entry {
    sender: Option<broadcast::Sender<Signal>>,
    run: Option<CancellationToken>,
    highest: i64,
    opening: Vec<Arc<EventFrame>>,
}

impl Entry {
    fn is_unused(&self) -> bool {
        self.run.is_none() && self.sender.as_ref().is_none_or(|s| s.receiver_count() == 0)
    }
}

impl Broker {
    /// A hub buffering up to `capacity` signals per watched execution; a watcher further
    /// behind is told to resynchronise from the store instead of growing a buffer.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                entries: Mutex::default(),
                queue: Notify::new(),
                capacity: capacity.max(1),
            }),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<Uuid, Entry>> {
        // A panic while holding this lock leaves plain data behind; keep serving.
        self.inner
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts receiving the live events of execution `id`.
    pub fn subscribe(&self, id: Uuid) -> Subscription {
        let mut entries = self.entries();
        let entry = entries.entry(id).or_default();
        let receiver = match &entry.sender {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(self.inner.capacity);
                entry.sender = Some(sender);
                receiver
            }
        };
        Subscription {
            receiver,
            _guard: SubscriptionGuard {
                broker: self.clone(),
                id,
            },
        }
    }

    /// Starts receiving the live events of execution `id`, with the events its local run
    /// was started with ([`Broker::open`]; taken: only the first caller gets them) and the
    /// highest seq this process has seen of it, read together: whatever is published
    /// after them reaches the subscription.
    pub fn subscribe_opened(&self, id: Uuid) -> (Subscription, Vec<Arc<EventFrame>>, i64) {
        let subscription = self.subscribe(id);
        let mut entries = self.entries();
        let entry = entries.entry(id).or_default();
        (subscription, std::mem::take(&mut entry.opening), entry.highest)
    }

    /// Publishes the events a local run was started with (stored with its row) and keeps
    /// them for the request that started it, which follows the run next
    /// ([`Broker::subscribe_opened`]) and needs not read them back from the store. Kept only
    /// while the run is registered here.
    pub fn open(&self, events: Vec<ExecutionEvent>) {
        let mut entries = self.entries();
        for event in events {
            let Some(entry) = entries.get_mut(&event.execution_id) else {
                continue;
            };
            entry.highest = entry.highest.max(event.seq);
            let frame = Arc::new(EventFrame::new(event));
            if let Some(sender) = entry.sender.as_ref().filter(|s| s.receiver_count() > 0) {
                let _ = sender.send(Signal::Event(Arc::clone(&frame)));
            }
            if entry.run.is_some() {
                entry.opening.push(frame);
            }
        }
    }

    /// Hands a stored event to the watchers of its execution; a terminal event also
    /// cancels the execution's local run, if any.
    pub fn publish(&self, event: ExecutionEvent) {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(&event.execution_id) else {
            return;
        };
        entry.highest = entry.highest.max(event.seq);
        if event.is_terminal()
            && let Some(run) = &entry.run
        {
            run.cancel();
        }
        if let Some(sender) = entry.sender.as_ref().filter(|s| s.receiver_count() > 0) {
            // A receiver leaving meanwhile is fine: the entry goes when its last guard drops.
            let _ = sender.send(Signal::Event(Arc::new(EventFrame::new(event))));
        }
    }

    /// Whether event `seq` of execution `id` matters here and has not been seen yet.
    pub fn wants(&self, id: Uuid, seq: i64) -> bool {
        self.entries().get(&id).is_some_and(|entry| seq > entry.highest)
    }

    /// Tells every watcher to re-read the store (after a lost connection to the notifier).
    pub fn resync_all(&self) {
        for entry in self.entries().values() {
            if let Some(sender) = &entry.sender {
                let _ = sender.send(Signal::Resync);
            }
        }
    }

    /// Registers the local run of execution `id`; the token is a child of `parent`.
    pub fn register_run(&self, id: Uuid, parent: &CancellationToken) -> CancellationToken {
        let token = parent.child_token();
        self.entries().entry(id).or_default().run = Some(token.clone());
        token
    }

    /// Forgets the local run of execution `id`.
    pub fn unregister_run(&self, id: Uuid) {
        let mut entries = self.entries();
        if let Some(entry) = entries.get_mut(&id) {
            entry.run = None;
            entry.opening = Vec::new();
            if entry.is_unused() {
                entries.remove(&id);
            }
        }
    }

    /// Cancels the local run of execution `id`, if there is one.
    pub fn cancel_run(&self, id: Uuid) {
        if let Some(run) = self.entries().get(&id).and_then(|e| e.run.as_ref()) {
            run.cancel();
        }
    }

    /// The executions running in this process.
    pub fn local_runs(&self) -> Vec<Uuid> {
        self.entries()
            .iter()
            .filter(|(_, e)| e.run.is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Wakes one idle worker loop: an execution was queued.
    pub fn wake_queue(&self) {
        self.inner.queue.notify_one();
    }

    /// Resolves at the next [`Broker::wake_queue`] (or at once if one is pending).
    pub async fn queue_woken(&self) {
        self.inner.queue.notified().await;
    }
}

/// Live signals of one execution; dropping it unsubscribes.
pub struct Subscription {
    // Declared before the guard: the receiver must be gone when the guard counts receivers.
    receiver: broadcast::Receiver<Signal>,
    _guard: SubscriptionGuard,
}

impl Subscription {
    /// The next signal; falling behind the buffer yields [`Signal::Resync`].
    pub async fn recv(&mut self) -> Signal {
        match self.receiver.recv().await {
            Ok(signal) => signal,
            Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => Signal::Resync,
        }
    }
}

struct SubscriptionGuard {
    broker: Broker,
    id: Uuid,
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        let mut entries = self.broker.entries();
        if entries.get(&self.id).is_some_and(Entry::is_unused) {
            entries.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, ExecutionCancelled};

    fn event(id: Uuid, seq: i64, event: Event) -> ExecutionEvent {
        ExecutionEvent {
            seq,
            execution_id: id,
            event,
            created_at: kernel::clock::now(),
        }
    }

    fn delta() -> Event {
        Event::MessageDelta(conversations::schemas::MessageDelta { delta: "a".into() })
    }

    #[tokio::test]
    async fn watchers_receive_and_entries_go_with_the_last_one() {
        let broker = Broker::new(4);
        let id = Uuid::now_v7();
        let mut first = broker.subscribe(id);
        let second = broker.subscribe(id);
        broker.publish(event(id, 1, delta()));
        assert!(matches!(first.recv().await, Signal::Event(e) if e.event.seq == 1));
        assert!(!broker.wants(id, 1) && broker.wants(id, 2));
        drop(first);
        assert!(broker.wants(id, 2));
        drop(second);
        assert!(!broker.wants(id, 2), "no watcher, no interest");
    }

    #[tokio::test]
    async fn a_run_started_here_hands_its_opening_events_to_the_first_follower_only() {
        let broker = Broker::new(4);
        let id = Uuid::now_v7();
        let token = broker.register_run(id, &CancellationToken::new());
        broker.open(vec![event(id, 1, delta()), event(id, 2, delta())]);
        // What the run published before anyone followed shows in the highest seq.
        broker.publish(event(id, 3, delta()));
        let (mut first, opening, highest) = broker.subscribe_opened(id);
        assert_eq!(opening.iter().map(|f| f.event.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(highest, 3);
        let (_second, again, _) = broker.subscribe_opened(id);
        assert!(again.is_empty(), "taken by the first follower");
        broker.publish(event(id, 4, delta()));
        assert!(matches!(first.recv().await, Signal::Event(e) if e.event.seq == 4));

        // Kept only while the run is registered here.
        let other = Uuid::now_v7();
        broker.open(vec![event(other, 1, delta())]);
        assert!(
            broker.subscribe_opened(other).1.is_empty(),
            "no local run: nothing kept"
        );
        broker.register_run(other, &CancellationToken::new());
        broker.open(vec![event(other, 1, delta())]);
        broker.unregister_run(other);
        assert!(broker.subscribe_opened(other).1.is_empty(), "gone with the run");
        drop(token);
    }

    #[tokio::test]
    async fn a_slow_watcher_is_told_to_resync() {
        let broker = Broker::new(2);
        let id = Uuid::now_v7();
        let mut slow = broker.subscribe(id);
        for seq in 1..=5 {
            broker.publish(event(id, seq, delta()));
        }
        assert!(matches!(slow.recv().await, Signal::Resync));
    }

    #[tokio::test]
    async fn a_terminal_event_cancels_the_local_run() {
        let broker = Broker::new(2);
        let id = Uuid::now_v7();
        let root = CancellationToken::new();
        let run = broker.register_run(id, &root);
        broker.publish(event(id, 2, delta()));
        assert!(!run.is_cancelled());
        broker.publish(event(id, 3, Event::ExecutionCancelled(ExecutionCancelled {})));
        assert!(run.is_cancelled());
        assert_eq!(broker.local_runs(), vec![id]);
        broker.unregister_run(id);
        assert!(broker.local_runs().is_empty());
    }
}
