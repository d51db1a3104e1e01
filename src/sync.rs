//! Locks, and the one lock order.
//!
//! Every lock in the crate is a `parking_lot` lock taken through the wrappers
//! here. The order is: kernel-wide registries (session registry, namespace,
//! process list, KMD, fault table) → a process's state (its two handle
//! tables) → a handle table's chunk pool, and the kernel's global
//! share-handle table (taken under a process's state) → an object's own lock
//! (session state, the wait hub, VidPn source owners, the call trace). Two processes' states are locked together only to
//! duplicate a handle between them, in process-id order. No kernel object is
//! dropped while any of these is held: a call removes entries under the lock
//! and drops them after (see `Graveyard`).
//!
//! In debug builds the order is checked. Each lock has a [`Level`], taken
//! from the module that creates it ([`RANKS`]), or given with
//! [`Mutex::with_level`]; each thread keeps a stack of the levels it holds.
//! Taking a lock whose level is not above every level held panics with both
//! locks' names and where they were created, so a lock-order mistake fails a
//! test instead of hanging CI; so does taking a lock the thread already
//! holds. Process states may nest (the duplicate above; the pid order itself
//! is not checked). Locks made in modules the table does not name are
//! unranked and only checked against being taken twice. In release builds
//! the wrappers are the bare `parking_lot` locks: no check, no cost.

use std::ops::{Deref, DerefMut};

/// A lock's place in the lock order (lowest first).
#[cfg_attr(not(debug_assertions), allow(dead_code, reason = "read by the debug-build checks"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// Kernel-wide registries.
    Kernel,
    /// A process's state.
    Process,
    /// A handle table's chunk pool (taken under its process's state).
    HandleTable,
    /// An object's own lock.
    Object,
    /// Not in the order: only checked against being taken twice.
    Unranked,
}

/// The level and name of the locks each module creates.
#[cfg_attr(not(debug_assertions), allow(dead_code, reason = "read by the debug-build checks"))]
pub(crate) const RANKS: &[(&str, Level, &str)] = &[
    ("kernel.rs", Level::Kernel, "kernel registry"),
    ("shared.rs", Level::Kernel, "NT namespace"),
    ("fault.rs", Level::Kernel, "fault table"),
    ("global.rs", Level::HandleTable, "global share-handle table"),
    ("process.rs", Level::Process, "process state"),
    ("handle.rs", Level::HandleTable, "handle chunk pool"),
    ("session.rs", Level::Object, "session state"),
    ("sync_object.rs", Level::Object, "sync object"),
    ("clock.rs", Level::Object, "wait hub"),
    ("vidpn.rs", Level::Object, "VidPn source owners"),
    ("trace.rs", Level::Object, "call trace"),
];

#[cfg(debug_assertions)]
mod order {
    use std::cell::RefCell;
    use std::panic::Location;

    use super::{Level, RANKS};

    /// A lock's identity for the checks.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Rank {
        pub(crate) level: Level,
        pub(crate) name: &'static str,
        pub(crate) created: &'static Location<'static>,
    }

    impl Rank {
        pub(crate) fn of(created: &'static Location<'static>) -> Rank {
            let file = created.file().replace('\\', "/");
            let (level, name) = RANKS
                .iter()
                .find(|(suffix, _, _)| file.ends_with(&format!("/{suffix}")) || file == *suffix)
                .map_or((Level::Unranked, "unranked lock"), |(_, level, name)| (*level, *name));
            Rank { level, name, created }
        }
    }

    impl std::fmt::Display for Rank {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{} ({:?} level, created at {})", self.name, self.level, self.created)
        }
    }

    thread_local! {
        /// The locks this thread holds, in the order taken: (rank, address).
        static HELD: RefCell<Vec<(Rank, usize)>> = const { RefCell::new(Vec::new()) };
    }

    /// Checks that taking the lock at `address` keeps the order, then
    /// records it as held. Panics (before blocking) if it does not.
    #[track_caller]
    pub(crate) fn acquire(rank: Rank, address: usize) {
        let conflict = HELD
            .try_with(|held| {
                let held = held.try_borrow().ok()?;
                held.iter().find_map(|(h, a)| {
                    if *a == address {
                        return Some(format!("taking {rank} again: this thread already holds it (a deadlock)"));
                    }
                    let fine = rank.level == Level::Unranked
                        || h.level == Level::Unranked
                        || h.level < rank.level
                        || (h.level == Level::Process && rank.level == Level::Process);
                    (!fine).then(|| {
                        format!(
                            "lock order violated: taking {rank} while holding {h}; the order is \
                             kernel → process → handle table → object"
                        )
                    })
                })
            })
            .ok()
            .flatten();
        if let Some(message) = conflict {
            panic!("{message}");
        }
        let _ = HELD.try_with(|held| {
            if let Ok(mut held) = held.try_borrow_mut() {
                held.push((rank, address));
            }
        });
    }

    /// Forgets the newest hold of the lock at `address` (guards may drop in
    /// any order).
    pub(crate) fn release(address: usize) {
        let _ = HELD.try_with(|held| {
            if let Ok(mut held) = held.try_borrow_mut() {
                if let Some(at) = held.iter().rposition(|(_, a)| *a == address) {
                    held.remove(at);
                }
            }
        });
    }

    /// The levels the calling thread holds, oldest first.
    #[cfg(test)]
    pub(crate) fn held() -> Vec<Level> {
        HELD.with(|h| h.borrow().iter().map(|(r, _)| r.level).collect())
    }
}

/// Forgets a hold when the guard that made it drops.
#[cfg(debug_assertions)]
struct Hold(usize);

#[cfg(debug_assertions)]
impl Drop for Hold {
    fn drop(&mut self) {
        order::release(self.0);
    }
}

/// A mutex in the lock order.
pub(crate) struct Mutex<T: ?Sized> {
    #[cfg(debug_assertions)]
    rank: order::Rank,
    inner: parking_lot::Mutex<T>,
}

/// A held [`Mutex`].
pub(crate) struct MutexGuard<'a, T: ?Sized> {
    #[cfg(debug_assertions)]
    _hold: Hold,
    inner: parking_lot::MutexGuard<'a, T>,
}

impl<T> Mutex<T> {
    /// A mutex ranked by the module that creates it ([`RANKS`]).
    #[cfg_attr(debug_assertions, track_caller)]
    pub(crate) fn new(value: T) -> Mutex<T> {
        Mutex {
            #[cfg(debug_assertions)]
            rank: order::Rank::of(std::panic::Location::caller()),
            inner: parking_lot::Mutex::new(value),
        }
    }

    /// A mutex with an explicit level and name.
    #[cfg_attr(debug_assertions, track_caller)]
    #[allow(dead_code, reason = "for locks outside the modules RANKS names")]
    pub(crate) fn with_level(level: Level, name: &'static str, value: T) -> Mutex<T> {
        let _ = (level, name);
        Mutex {
            #[cfg(debug_assertions)]
            rank: order::Rank { level, name, created: std::panic::Location::caller() },
            inner: parking_lot::Mutex::new(value),
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks it; in debug builds, first checks the lock order.
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(debug_assertions)]
        let address = self as *const Self as *const u8 as usize;
        #[cfg(debug_assertions)]
        order::acquire(self.rank, address);
        MutexGuard {
            #[cfg(debug_assertions)]
            _hold: Hold(address),
            inner: self.inner.lock(),
        }
    }

    /// The value, through exclusive access (no locking).
    #[allow(dead_code, reason = "API parity with parking_lot")]
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The lock's level.
    #[cfg(all(debug_assertions, test))]
    pub(crate) fn level(&self) -> Level {
        self.rank.level
    }
}

impl<T: Default> Default for Mutex<T> {
    #[cfg_attr(debug_assertions, track_caller)]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

/// A reader-writer lock in the lock order.
pub(crate) struct RwLock<T: ?Sized> {
    #[cfg(debug_assertions)]
    rank: order::Rank,
    inner: parking_lot::RwLock<T>,
}

/// A [`RwLock`] held for reading.
pub(crate) struct RwLockReadGuard<'a, T: ?Sized> {
    #[cfg(debug_assertions)]
    _hold: Hold,
    inner: parking_lot::RwLockReadGuard<'a, T>,
}

/// A [`RwLock`] held for writing.
pub(crate) struct RwLockWriteGuard<'a, T: ?Sized> {
    #[cfg(debug_assertions)]
    _hold: Hold,
    inner: parking_lot::RwLockWriteGuard<'a, T>,
}

impl<T> RwLock<T> {
    /// A lock ranked by the module that creates it ([`RANKS`]).
    #[cfg_attr(debug_assertions, track_caller)]
    pub(crate) fn new(value: T) -> RwLock<T> {
        RwLock {
            #[cfg(debug_assertions)]
            rank: order::Rank::of(std::panic::Location::caller()),
            inner: parking_lot::RwLock::new(value),
        }
    }
}

impl<T: ?Sized> RwLock<T> {
    #[cfg(debug_assertions)]
    #[track_caller]
    fn check(&self) -> Hold {
        let address = self as *const Self as *const u8 as usize;
        order::acquire(self.rank, address);
        Hold(address)
    }

    /// Locks it for reading; in debug builds, first checks the lock order
    /// (a recursive read counts as taking it twice: it can deadlock behind
    /// a waiting writer).
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            #[cfg(debug_assertions)]
            _hold: self.check(),
            inner: self.inner.read(),
        }
    }

    /// Locks it for writing; in debug builds, first checks the lock order.
    #[inline]
    #[cfg_attr(debug_assertions, track_caller)]
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            #[cfg(debug_assertions)]
            _hold: self.check(),
            inner: self.inner.write(),
        }
    }
}

impl<T: Default> Default for RwLock<T> {
    #[cfg_attr(debug_assertions, track_caller)]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

/// A condition variable for [`Mutex`]. Waiting keeps the lock's place in the
/// held stack: it is taken again before the wait returns.
#[derive(Default)]
pub(crate) struct Condvar(parking_lot::Condvar);

impl Condvar {
    /// Blocks until notified, releasing the lock meanwhile.
    #[inline]
    pub(crate) fn wait<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>) {
        self.0.wait(&mut guard.inner);
    }

    /// As [`Condvar::wait`], giving up after `timeout`; true if it timed out.
    #[inline]
    #[allow(dead_code, reason = "API parity with parking_lot")]
    pub(crate) fn wait_for<T: ?Sized>(&self, guard: &mut MutexGuard<'_, T>, timeout: std::time::Duration) -> bool {
        self.0.wait_for(&mut guard.inner, timeout).timed_out()
    }

    /// Wakes every waiter.
    #[inline]
    pub(crate) fn notify_all(&self) -> usize {
        self.0.notify_all()
    }

    /// Wakes one waiter.
    #[inline]
    #[allow(dead_code, reason = "API parity with parking_lot")]
    pub(crate) fn notify_one(&self) -> bool {
        self.0.notify_one()
    }
}

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

#[cfg(all(test, debug_assertions))]
mod tests {
    use super::*;
    use crate::{Kernel, KernelConfig};

    fn message(f: impl FnOnce()) -> String {
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("should panic");
        panic.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    #[test]
    fn the_crate_s_locks_get_their_levels_from_their_modules() {
        let kernel = Kernel::new(KernelConfig::default());
        let p = kernel.create_process();
        assert_eq!(kernel.0.sessions.map.level(), Level::Kernel);
        assert_eq!(p.0.state.level(), Level::Process);
        let named = |l: &Mutex<()>| l.level();
        assert_eq!(named(&Mutex::with_level(Level::Object, "t", ())), Level::Object);
        assert_eq!(Mutex::new(()).level(), Level::Unranked, "made in sync.rs, which RANKS does not name");
    }

    #[test]
    fn an_out_of_order_acquisition_panics_naming_both_locks() {
        let kernel = Kernel::new(KernelConfig::default());
        let p = kernel.create_process();
        let why = message(|| {
            let _state = p.0.state.lock();
            let _map = kernel.0.sessions.map.lock();
        });
        assert!(why.contains("lock order violated"), "{why}");
        assert!(why.contains("taking kernel registry (Kernel level"), "{why}");
        assert!(why.contains("while holding process state (Process level"), "{why}");
        assert!(why.contains("kernel.rs") && why.contains("process.rs"), "where each was created: {why}");
        assert!(order::held().is_empty(), "the unwind released the state lock's hold");
        // The lock was not taken: the kernel still works.
        drop(kernel.0.sessions.map.lock());
    }

    #[test]
    fn in_order_nesting_and_any_release_order_are_fine() {
        let kernel = Mutex::with_level(Level::Kernel, "k", ());
        let process = Mutex::with_level(Level::Process, "p", ());
        let other_process = Mutex::with_level(Level::Process, "q", ());
        let object = Mutex::with_level(Level::Object, "o", ());
        let k = kernel.lock();
        let p = process.lock();
        let q = other_process.lock();
        let o = object.lock();
        assert_eq!(order::held(), vec![Level::Kernel, Level::Process, Level::Process, Level::Object]);
        drop(p);
        drop(k);
        assert_eq!(order::held(), vec![Level::Process, Level::Object]);
        drop(o);
        drop(q);
        assert!(order::held().is_empty());
    }

    #[test]
    fn taking_a_lock_twice_panics_instead_of_deadlocking() {
        let lock = Mutex::with_level(Level::Object, "an object", 0u32);
        let why = message(|| {
            let _a = lock.lock();
            let _b = lock.lock();
        });
        assert!(why.contains("already holds it"), "{why}");
        let rw = RwLock::new(0u32);
        let why = message(|| {
            let _a = rw.read();
            let _b = rw.read();
        });
        assert!(why.contains("already holds it"), "{why}");
    }

    #[test]
    fn object_then_object_is_refused() {
        let a = Mutex::with_level(Level::Object, "first object", ());
        let b = Mutex::with_level(Level::Object, "second object", ());
        let why = message(|| {
            let _a = a.lock();
            let _b = b.lock();
        });
        assert!(why.contains("taking second object") && why.contains("holding first object"), "{why}");
    }
}
