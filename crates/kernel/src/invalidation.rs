//! [`Follower`]: a cache kept in step by another's invalidations.
//!
//! One process listens for changes once (on PostgreSQL, `users::standing::relay` holds the
//! one `LISTEN` connection) and invalidates the account cache; a cache of another crate that
//! is announced on the same channel follows it instead of listening on a connection of its
//! own: it forgets what an announced id names, everything when told to, and pauses while
//! the announcements may be lost.

use uuid::Uuid;

/// A cache that forgets what the invalidations it follows name.
pub trait Follower: Send + Sync {
    /// Forgets what is kept under `id` (nothing when it keeps nothing under it).
    fn forget(&self, id: Uuid);
    /// Forgets everything.
    fn forget_all(&self);
    /// Serves what it keeps (`true`) or reads through (`false`); emptied either way.
    fn set_live(&self, live: bool);
}

/// The prefix of a notification meant for the followers only: `followers:<id>` makes
/// them forget `id` and leaves the followed cache as it is (an agent's change says nothing
/// of its owner's standing).
pub const FOLLOWERS_PREFIX: &str = "followers:";
