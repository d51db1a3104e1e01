//! Keyed mutexes: `D3DKMTCreateKeyedMutex(2)`, `D3DKMTOpenKeyedMutex(2)`,
//! `D3DKMTDestroyKeyedMutex`, `D3DKMTAcquireKeyedMutex(2)` and
//! `D3DKMTReleaseKeyedMutex(2)`.
//!
//! What Windows does, as far as the facts go, and what we do:
//! - A keyed mutex has no device. Creating one gives a local handle and,
//!   unless `NtSecuritySharing` is set, a global (KMT) handle that other
//!   processes open (WINE #55, #60, #64). The global handle is a name, not a
//!   reference: it is openable while a local handle or an NT-handle object
//!   keeps the mutex alive (WINE #7, #59).
//! - Acquire with key K succeeds when nobody owns the mutex and the key of
//!   the last release (the creation's `InitialValue` at first) is K; it
//!   returns the fence value that release stored. Otherwise it waits, for
//!   ever (`pTimeout` NULL) or until its timeout (`STATUS_TIMEOUT`), on the
//!   kernel clock. Release stores a new key and fence value and hands the
//!   mutex to a waiter of that key. Only the owner may release
//!   (`STATUS_INVALID_PARAMETER` otherwise).
//! - By default the owner is the handle that acquired (a handle belongs to
//!   one process; [`crate::KeyedMutexOwner`] can make it the process). When
//!   the owner goes while holding the mutex (the handle destroyed, or its
//!   process exiting), the mutex is abandoned: every later acquire and
//!   release, in any process, gets `STATUS_ABANDONED` and waiters wake. This
//!   is Wine's model (WINE B6), where the owner is a thread; Windows'
//!   documentation says nothing about it.
//! - The Wine test suite has no acquire/release checks (WINE #66): these
//!   semantics come from the Wine server's model and from the documented
//!   key/fence contract of `IDXGIKeyedMutex`.
//!
//! References: each local handle ([`KeyedMutexEntry`]) and each NT-handle
//! object of a combined resource share owns one reference to the mutex.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{KResult, KernelError};
use crate::global::{GlobalKind, GlobalName};
use crate::handle::LocalHandle;
use crate::kernel::KernelInner;
use crate::live::{LiveToken, ObjectKind};
use crate::policy::KeyedMutexOwner;
use crate::process::{LocalEntry, Process, ProcessInner, ProcessState};
use crate::sync::{Graveyard, Mutex};

/// Which handle owns an acquired mutex: a number unique to each local
/// handle ever made (across kernels), so a stale owner never matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OwnerToken(u64);

static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

impl OwnerToken {
    fn new() -> OwnerToken {
        OwnerToken(NEXT_OWNER.fetch_add(1, Ordering::Relaxed))
    }
}

/// A keyed mutex's state machine.
#[derive(Debug)]
pub(crate) enum KeyedMutexState {
    /// Nobody owns it; an acquire with `key` takes it and gets `fence`, and
    /// (`AcquireKeyedMutex2`) the runtime data the last release passed.
    Unowned { key: u64, fence: u64, data: Vec<u8> },
    /// A handle owns it.
    Owned { owner: OwnerToken },
    /// Its owner went away while holding it: every acquire and release fails
    /// with `STATUS_ABANDONED` from now on.
    Abandoned,
}

/// What one acquire attempt gives.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// Taken: the stored fence value and runtime data.
    Acquired { fence: u64, data: Vec<u8> },
    /// Owned by someone, or released with another key: wait.
    Wait,
    /// Abandoned.
    Abandoned,
    /// Ours to take, but the caller's runtime-data buffer cannot hold the
    /// stored data: not taken.
    TooSmall { needed: u32 },
}

impl KeyedMutexState {
    /// Takes the mutex for `owner` if it is free with `key`. With
    /// `room = Some(n)`, the released runtime data must fit in `n` bytes.
    pub(crate) fn try_acquire(&mut self, key: u64, owner: OwnerToken, room: Option<u32>) -> Attempt {
        match self {
            KeyedMutexState::Abandoned => Attempt::Abandoned,
            KeyedMutexState::Owned { .. } => Attempt::Wait,
            KeyedMutexState::Unowned { key: released, .. } if *released != key => Attempt::Wait,
            KeyedMutexState::Unowned { data, .. } if room.is_some_and(|n| (n as usize) < data.len()) => {
                Attempt::TooSmall { needed: data.len() as u32 }
            }
            KeyedMutexState::Unowned { fence, data, .. } => {
                let got = Attempt::Acquired { fence: *fence, data: std::mem::take(data) };
                *self = KeyedMutexState::Owned { owner };
                got
            }
        }
    }

    /// Releases the mutex `owner` holds, storing `key`, `fence` and `data`.
    pub(crate) fn release(&mut self, owner: OwnerToken, key: u64, fence: u64, data: Vec<u8>) -> KResult<()> {
        match self {
            KeyedMutexState::Abandoned => Err(KernelError::Abandoned),
            KeyedMutexState::Owned { owner: o } if *o == owner => {
                *self = KeyedMutexState::Unowned { key, fence, data };
                Ok(())
            }
            _ => Err(KernelError::InvalidParameter("the keyed mutex is not owned through this handle")),
        }
    }

    /// Abandons the mutex if `owner` holds it; true if it did.
    pub(crate) fn abandon_by(&mut self, owner: OwnerToken) -> bool {
        if matches!(self, KeyedMutexState::Owned { owner: o } if *o == owner) {
            *self = KeyedMutexState::Abandoned;
            true
        } else {
            false
        }
    }
}

/// A keyed mutex object.
pub(crate) struct KeyedMutex {
    /// Its global handle; `None` when created with `NtSecuritySharing`.
    global: Option<GlobalName>,
    /// Created with `NtSecuritySharing`: it may be part of a combined share.
    pub(crate) nt_shareable: bool,
    /// The runtime data given at creation (`CreateKeyedMutex2`).
    pub(crate) runtime_data: Vec<u8>,
    state: Mutex<KeyedMutexState>,
    pub(crate) _live: LiveToken,
}

impl KeyedMutex {
    /// The global handle value, or 0.
    pub(crate) fn global_handle(&self) -> u32 {
        self.global.as_ref().map_or(0, GlobalName::handle)
    }

    /// True if abandoned (for tests and reports).
    pub(crate) fn is_abandoned(&self) -> bool {
        matches!(*self.state.lock(), KeyedMutexState::Abandoned)
    }
}

/// A keyed mutex's handle-table entry. Dropping it while its owner token
/// holds the mutex abandons the mutex: always under
/// [`KeyedMutexOwner::Handle`] (a destroy, or the process's exit), and
/// under [`KeyedMutexOwner::Process`] once the process has exited (a
/// destroy of the process's last handle abandons it too: see
/// `destroy_keyed_mutex`).
pub(crate) struct KeyedMutexEntry {
    pub(crate) mutex: Arc<KeyedMutex>,
    token: OwnerToken,
    kernel: std::sync::Weak<KernelInner>,
    /// The process, under [`KeyedMutexOwner::Process`].
    process: Option<std::sync::Weak<ProcessInner>>,
}

impl KeyedMutexEntry {
    /// Abandons the mutex if this entry's owner token holds it, waking the
    /// waiters (who then get `STATUS_ABANDONED`).
    fn abandon_if_owned(&self) {
        let abandoned = self.mutex.state.lock().abandon_by(self.token);
        if abandoned {
            if let Some(kernel) = self.kernel.upgrade() {
                kernel.wait_hub.wake_all();
            }
        }
    }
}

impl Drop for KeyedMutexEntry {
    fn drop(&mut self) {
        let gone = match &self.process {
            None => true,
            Some(p) => p.upgrade().is_none_or(|p| p.exited.load(Ordering::SeqCst)),
        };
        if gone {
            self.abandon_if_owned();
        }
    }
}

/// What a successful acquire returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyedMutexAcquired {
    /// The fence value the last release stored (0 before any release).
    pub fence_value: u64,
    /// The runtime data the last `ReleaseKeyedMutex2` passed (empty if none).
    pub runtime_data: Vec<u8>,
}

/// What creating a keyed mutex returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatedKeyedMutex {
    /// The new local handle.
    pub handle: LocalHandle,
    /// The global handle, or 0 with `NtSecuritySharing` (WINE #64).
    pub global: u32,
}

/// An NT-style timeout: `None` waits for ever; a negative value is relative,
/// in 100 ns units; zero or a positive value is an absolute system time in
/// `FILETIME` units (100 ns since 1601), as on Windows, read on the kernel
/// clock ([`crate::Kernel::system_time`]: a virtual clock starts at
/// [`crate::clock::VIRTUAL_EPOCH_FILETIME`]); 0, long past, means just try.
pub type Timeout = Option<i64>;

impl ProcessState {
    pub(crate) fn keyed_mutex_entry(&self, handle: u32) -> KResult<&KeyedMutexEntry> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::KeyedMutex(k)) => Ok(k),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "keyed mutex" }),
        }
    }

    /// Inserts `process`'s new handle to `mutex`.
    pub(crate) fn insert_keyed_mutex(
        &mut self,
        mutex: Arc<KeyedMutex>,
        process: &Process,
        graveyard: &mut Graveyard<LocalEntry>,
    ) -> KResult<LocalHandle> {
        let kernel = process.kernel_inner();
        let (token, weak) = match kernel.policies.keyed_mutex.owner {
            KeyedMutexOwner::Handle => (OwnerToken::new(), None),
            KeyedMutexOwner::Process => (process.keyed_mutex_token(), Some(Arc::downgrade(&process.0))),
        };
        let entry = KeyedMutexEntry { mutex, token, kernel: Arc::downgrade(kernel), process: weak };
        self.insert_local(LocalEntry::KeyedMutex(entry), graveyard)
    }
}

impl Process {
    /// This process's owner token under [`KeyedMutexOwner::Process`]: unique
    /// to the (kernel, process) pair, and never equal to a handle's token
    /// (those stay below 2^63).
    fn keyed_mutex_token(&self) -> OwnerToken {
        OwnerToken(1 << 63 | self.kernel_inner().id << 32 | u64::from(self.0.pid.0))
    }

    /// `D3DKMTCreateKeyedMutex(2)`: a new keyed mutex, released with key
    /// `initial_key` and fence value 0, with `runtime_data` stored for
    /// `OpenKeyedMutex2`. Without `nt_security_sharing` it gets a global
    /// handle (WINE #55, #60); with it, none (WINE #64).
    pub fn create_keyed_mutex(
        &self,
        initial_key: u64,
        runtime_data: &[u8],
        nt_security_sharing: bool,
    ) -> KResult<CreatedKeyedMutex> {
        let kernel = self.kernel_inner();
        let build = |global| KeyedMutex {
            global,
            nt_shareable: nt_security_sharing,
            runtime_data: runtime_data.to_vec(),
            state: Mutex::new(KeyedMutexState::Unowned { key: initial_key, fence: 0, data: Vec::new() }),
            _live: LiveToken::new(&self.0.live, ObjectKind::KeyedMutex),
        };
        let mutex = if nt_security_sharing {
            Arc::new(build(None))
        } else {
            let mut failed = None;
            let mutex = Arc::new_cyclic(|weak| match kernel.globals.register(GlobalKind::KeyedMutex, weak) {
                Ok(name) => build(Some(name)),
                Err(e) => {
                    failed = Some(e);
                    build(None)
                }
            });
            if let Some(e) = failed {
                return Err(e);
            }
            mutex
        };
        let global = mutex.global_handle();
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let handle = state.insert_keyed_mutex(mutex, self, &mut graveyard)?;
        Ok(CreatedKeyedMutex { handle, global })
    }

    /// `D3DKMTOpenKeyedMutex(2)`: a new local handle to the keyed mutex a
    /// global handle names. A value that is not a live keyed mutex's global
    /// handle (0, a local handle, a destroyed mutex's) is
    /// `STATUS_INVALID_PARAMETER` (WINE #56, #59). Returns the handle and the
    /// size of the runtime data stored at creation.
    pub fn open_keyed_mutex(&self, global: u32) -> KResult<(LocalHandle, u32)> {
        self.open_keyed_mutex_checked(global, 0)
    }

    /// `D3DKMTOpenKeyedMutex2`'s size rule, then the open: the caller's
    /// `PrivateRuntimeDataSize` is first limited to the stored size; what is
    /// left must be 0 or the stored size, else `STATUS_INVALID_PARAMETER`
    /// (WINE #62, #63). The data is never copied back.
    pub(crate) fn open_keyed_mutex_checked(&self, global: u32, runtime_size: u32) -> KResult<(LocalHandle, u32)> {
        let kernel = self.kernel_inner();
        let mut graveyard = Graveyard::default();
        let mut objects = Graveyard::default();
        let mut state = self.lock_live()?;
        let mutex: Arc<KeyedMutex> = kernel.globals.open(global, GlobalKind::KeyedMutex)?;
        let size = mutex.runtime_data.len() as u32;
        let effective = runtime_size.min(size);
        if effective != 0 && effective != size {
            objects.bury(mutex);
            return Err(KernelError::InvalidParameter("PrivateRuntimeDataSize is not the stored size"));
        }
        let handle = state.insert_keyed_mutex(mutex, self, &mut graveyard)?;
        Ok((handle, size))
    }

    /// `D3DKMTDestroyKeyedMutex`: closes this handle; if it owns the mutex,
    /// the mutex is abandoned. A value that is not a keyed-mutex handle of
    /// this process, a global handle included, is `STATUS_INVALID_PARAMETER`
    /// (WINE #57, #58).
    pub fn destroy_keyed_mutex(&self, handle: LocalHandle) -> KResult<()> {
        let mut state = self.lock_live()?;
        let mutex = Arc::clone(&state.keyed_mutex_entry(handle.0)?.mutex);
        let entry = state.remove_local(handle.0);
        // Under `KeyedMutexOwner::Process` a destroy abandons nothing while
        // the process keeps another handle to the mutex; the last one going
        // abandons what the process owns, since nothing could release it
        // any more (as Wine's client does on destroying an owned handle).
        let last =
            !state.local.iter().any(|(_, e)| matches!(e, LocalEntry::KeyedMutex(k) if Arc::ptr_eq(&k.mutex, &mutex)));
        drop(state);
        if let Some(LocalEntry::KeyedMutex(entry)) = &entry {
            if last && entry.process.is_some() {
                entry.abandon_if_owned();
            }
        }
        drop(entry);
        drop(mutex);
        Ok(())
    }

    /// `D3DKMTAcquireKeyedMutex(2)`: waits until the mutex is released with
    /// `key`, then owns it through this handle.
    ///
    /// `room` is `AcquireKeyedMutex2`'s runtime-data buffer size (`None` for
    /// v1 or a 0-byte buffer: nothing is copied). Errors: a bad handle →
    /// `STATUS_INVALID_PARAMETER`; abandoned → `STATUS_ABANDONED`; the
    /// timeout passing → `STATUS_TIMEOUT`; a buffer smaller than the released
    /// data → [`crate::KeyedMutexPolicies::short_runtime_data`] (not acquired); this process exiting
    /// meanwhile → `STATUS_PROCESS_IS_TERMINATING`.
    pub fn acquire_keyed_mutex(
        &self,
        handle: LocalHandle,
        key: u64,
        timeout: Timeout,
        room: Option<u32>,
    ) -> KResult<KeyedMutexAcquired> {
        let (mutex, token) = {
            let state = self.lock_live()?;
            let entry = state.keyed_mutex_entry(handle.0)?;
            (Arc::clone(&entry.mutex), entry.token)
        };
        let kernel = self.kernel_inner();
        let deadline = timeout.map(|t| kernel.clock.nt_deadline(t));
        let exited = || self.0.exited.load(Ordering::SeqCst);
        let mut outcome = None;
        let end = kernel.wait_hub.wait_deadline(&kernel.clock, deadline, || {
            if exited() {
                return true;
            }
            match mutex.state.lock().try_acquire(key, token, room) {
                Attempt::Wait => false,
                other => {
                    outcome = Some(other);
                    true
                }
            }
        });
        // The handle may have been destroyed while we waited: its drop then
        // found no owner, and an acquire that won meanwhile must not leave
        // the mutex owned by a handle that no longer exists.
        let still_ours = self
            .0
            .state
            .lock()
            .local
            .get(handle.0 as u64)
            .is_some_and(|e| matches!(e, LocalEntry::KeyedMutex(k) if k.token == token));
        match outcome {
            Some(Attempt::Acquired { fence, data }) => {
                if !still_ours {
                    // Hand it back as it was, for the next waiter of `key`.
                    let _ = mutex.state.lock().release(token, key, fence, data);
                    kernel.wait_hub.wake_all();
                    return Err(KernelError::BadLocalHandle { handle: handle.0, expected: "keyed mutex" });
                }
                Ok(KeyedMutexAcquired { fence_value: fence, runtime_data: data })
            }
            Some(Attempt::Abandoned) => Err(KernelError::Abandoned),
            Some(Attempt::TooSmall { needed }) => Err(KernelError::BufferTooSmall {
                what: "AcquireKeyedMutex2 runtime data",
                needed,
                given: room.unwrap_or(0),
                status: kernel.policies.keyed_mutex.short_runtime_data,
            }),
            Some(Attempt::Wait) => unreachable!("waits do not end the wait"),
            None if exited() => Err(KernelError::ProcessExited),
            None => {
                debug_assert!(matches!(end, crate::clock::WaitEnd::TimedOut));
                Err(KernelError::Timeout)
            }
        }
    }

    /// `D3DKMTReleaseKeyedMutex(2)`: releases the mutex this handle owns,
    /// with a new key, fence value and (v2) runtime data for the next
    /// acquirer, and wakes its waiters. A handle that does not own it →
    /// `STATUS_INVALID_PARAMETER`; abandoned → `STATUS_ABANDONED`.
    pub fn release_keyed_mutex(&self, handle: LocalHandle, key: u64, fence: u64, data: &[u8]) -> KResult<()> {
        let (mutex, token) = {
            let state = self.lock_live()?;
            let entry = state.keyed_mutex_entry(handle.0)?;
            (Arc::clone(&entry.mutex), entry.token)
        };
        mutex.state.lock().release(token, key, fence, data.to_vec())?;
        self.kernel_inner().wait_hub.notify();
        Ok(())
    }

    /// Whether the keyed mutex behind a handle of this process is abandoned.
    pub fn keyed_mutex_abandoned(&self, handle: LocalHandle) -> KResult<bool> {
        Ok(self.lock_live()?.keyed_mutex_entry(handle.0)?.mutex.is_abandoned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_machine_transitions() {
        let (a, b) = (OwnerToken::new(), OwnerToken::new());
        let mut s = KeyedMutexState::Unowned { key: 0, fence: 7, data: b"x".to_vec() };
        assert_eq!(s.try_acquire(1, a, None), Attempt::Wait, "wrong key waits");
        assert_eq!(s.try_acquire(0, a, Some(0)), Attempt::TooSmall { needed: 1 });
        assert_eq!(s.try_acquire(0, a, None), Attempt::Acquired { fence: 7, data: b"x".to_vec() });
        assert_eq!(s.try_acquire(0, b, None), Attempt::Wait, "owned waits");
        assert!(s.release(b, 1, 8, Vec::new()).is_err(), "non-owner release");
        s.release(a, 1, 8, Vec::new()).unwrap();
        assert_eq!(s.try_acquire(1, b, None), Attempt::Acquired { fence: 8, data: Vec::new() });
        assert!(!s.abandon_by(a));
        assert!(s.abandon_by(b));
        assert_eq!(s.try_acquire(1, a, None), Attempt::Abandoned);
        assert_eq!(s.release(b, 0, 0, Vec::new()), Err(KernelError::Abandoned));
    }
}
