//! Locks, and the one lock order.
//!
//! Every lock in the crate is a `parking_lot` lock taken through these
//! aliases. The order is: kernel-wide registries (session registry,
//! namespace, process list) → a process's state (its two handle tables) →
//! an object's own lock (session state, the wait hub). Two processes' states
//! are locked together only to duplicate a handle between them, in process-id
//! order. No kernel object is dropped while any of these is held: a call
//! removes entries under the lock and drops them after (see `Graveyard`).

pub(crate) use parking_lot::{Condvar, Mutex, MutexGuard, RwLock};

/// Entries removed under a lock, dropped when this goes out of scope after
/// the lock guard. Declare it *before* the guard so it drops after it.
pub(crate) struct Graveyard<T>(pub(crate) Vec<T>);

impl<T> Default for Graveyard<T> {
    fn default() -> Self {
        Graveyard(Vec::new())
    }
}

impl<T> Graveyard<T> {
    pub(crate) fn bury(&mut self, item: T) {
        self.0.push(item);
    }
}
