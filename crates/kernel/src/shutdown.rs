//! [`Shutdown`]: how long-lived responses (event streams, WebSockets) learn that the
//! process is stopping, so they can end with a final event instead of being cut.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio_util::sync::CancellationToken;

/// The graceful stop of this process as open streams see it: it begins at the signal and
/// streams are told to end once the grace period is over (registered as app data).
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    /// Read by every request (a `CancellationToken` would take a lock each time).
    begun: Arc<AtomicBool>,
    streams: CancellationToken,
}

impl Shutdown {
    /// Marks the stop as begun (a signal arrived).
    pub fn begin(&self) {
        self.begun.store(true, Ordering::Release);
    }

    /// Whether the stop has begun.
    pub fn has_begun(&self) -> bool {
        self.begun.load(Ordering::Acquire)
    }

    /// Tells every open stream to end now, each with a final event.
    pub fn end_streams(&self) {
        self.begin();
        self.streams.cancel();
    }

    /// Resolves once open streams must end.
    pub async fn streams_end(&self) {
        self.streams.cancelled().await;
    }
}
