//! [`EventFeed`]: every event of one execution after a given `seq`, stored ones first and
//! then live ones, each exactly once and in order, ending with the terminal event.
//!
//! The feed subscribes before it reads the store, so nothing published in between is
//! lost; live events it already read from the store are skipped by `seq`, and a gap (an
//! event published out of order, a lagging buffer, a lost notifier connection) is filled
//! by reading the store again. Memory per watcher is bounded: one page of the store and
//! the broker's fixed ring buffer shared by every watcher of the execution.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use kernel::Result;
use uuid::Uuid;

use crate::broker::{Signal, Subscription};
use crate::events::ExecutionEvent;
use crate::store::Store;

/// Events read from the store at once.
const PAGE: u64 = 500;
/// How long the feed waits for a live event before checking the store anyway.
const RECHECK: Duration = Duration::from_secs(30);

/// A stored event and its JSON text, shared by every watcher it is sent to.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFrame {
    /// The event.
    pub event: ExecutionEvent,
    /// `event` as a JSON object, the text frame sent to watchers.
    pub json: String,
}

impl EventFrame {
    /// Serializes `event` once.
    pub fn new(event: ExecutionEvent) -> Self {
        #[allow(
            clippy::expect_used,
            reason = "strings, numbers, a timestamp and a JSON value cannot fail to serialize"
        )]
        let json = serde_json::to_string(&event).expect("an event always serializes");
        Self { event, json }
    }
}

/// The replay-then-live event stream of one execution.
pub struct EventFeed {
    store: Store,
    execution_id: Uuid,
    subscription: Subscription,
    pending: VecDeque<Arc<EventFrame>>,
    last: i64,
    store_has_more: bool,
    finished: bool,
}

impl EventFeed {
    /// A feed of execution `execution_id` after `after`, over an already open subscription;
    /// `finished` when the caller already has the terminal event (the feed then ends at once).
    pub(crate) fn new(
        store: Store,
        execution_id: Uuid,
        subscription: Subscription,
        after: i64,
        finished: bool,
    ) -> Self {
        Self {
            store,
            execution_id,
            subscription,
            pending: VecDeque::new(),
            last: after,
            store_has_more: true,
            finished,
        }
    }

    /// A feed of execution `execution_id` from its start, over an already open
    /// subscription, beginning with `opening` (the events its run was started with, as
    /// published here): the store is read only when they are not the run's first events
    /// or when `highest` (the highest seq published here, read with the subscription) says
    /// more came before the subscription.
    pub(crate) fn opened(
        store: Store,
        execution_id: Uuid,
        subscription: Subscription,
        opening: Vec<Arc<EventFrame>>,
        highest: i64,
    ) -> Self {
        let mut feed = Self::new(store, execution_id, subscription, 0, false);
        let from_the_start = opening.iter().zip(1..).all(|(frame, seq)| frame.event.seq == seq);
        let complete = from_the_start && i64::try_from(opening.len()).is_ok_and(|len| len > 0 && len == highest);
        if complete {
            feed.pending = opening.into();
            feed.store_has_more = false;
        }
        feed
    }

    /// The `seq` of the last event handed out (or the starting point).
    pub fn last_seq(&self) -> i64 {
        self.last
    }

    /// The next event; `None` after the terminal event has been handed out.
    ///
    /// Cancel-safe: dropping the future loses no event.
    pub async fn next(&mut self) -> Result<Option<Arc<EventFrame>>> {
        loop {
            if self.finished {
                return Ok(None);
            }
            if let Some(frame) = self.pending.pop_front() {
                self.last = frame.event.seq;
                self.finished = frame.event.is_terminal();
                return Ok(Some(frame));
            }
            if self.store_has_more {
                self.read_store().await?;
                continue;
            }
            let signal = tokio::select! {
                signal = self.subscription.recv() => signal,
                () = tokio::time::sleep(RECHECK) => Signal::Resync,
            };
            match signal {
                // The terminal event at or before the starting point: the client has it.
                Signal::Event(frame) if frame.event.seq <= self.last => self.finished = frame.event.is_terminal(),
                Signal::Event(frame) if frame.event.seq == self.last + 1 => self.pending.push_back(frame),
                Signal::Event(_) | Signal::Resync => self.store_has_more = true,
            }
        }
    }

    async fn read_store(&mut self) -> Result<()> {
        let events = self.store.events_after(self.execution_id, self.last, PAGE).await?;
        self.store_has_more = events.len() as u64 == PAGE;
        self.pending
            .extend(events.into_iter().map(|event| Arc::new(EventFrame::new(event))));
        Ok(())
    }
}
