//! Protected sessions: `D3DKMTCreateProtectedSession`,
//! `D3DKMTDestroyProtectedSession`, `D3DKMTQueryProtectedSessionStatus`,
//! `D3DKMTQueryProtectedSessionInfoFromNtHandle`,
//! `D3DKMTOpenProtectedSessionFromNtHandle`.
//!
//! A session is created on a device with a monitored fence (its status fence)
//! and two blobs: the driver's, which the KMD's create DDI sees and may
//! rewrite, and the runtime's, which only user mode sees. Only the KMD changes
//! its status, through [`crate::Kernel::set_protected_session_status`]; each
//! change bumps the status fence. Other processes reach it through an NT
//! handle of type `DxgkSharedProtectedSessionObject` made by
//! `D3DKMTShareObjects` (our reading: Windows does not document which call
//! makes that handle). The KMD's destroy DDI runs when the last reference
//! goes: every process's session handles and every NT handle.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use crate::adapter::Adapter;
use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};
use crate::kernel::{Kernel, SessionRegistry};
use crate::kmd::{CreateSessionArgs, Kmd, SessionKey, SessionStatus};
use crate::live::{LiveToken, ObjectKind};
use crate::policy::Policies;
use crate::process::{LocalEntry, Process, ProcessState};
use crate::shared::{NtObjectKind, access};
use crate::sync::{Graveyard, Mutex};
use crate::sync_object::{SyncKind, SyncObject, WaitHub};

/// A session's life: being created (registered, so the KMD may already set
/// its status from inside its create DDI), created (with the KMD's handle),
/// or destroyed (the destroy DDI has run or is running, or create failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionState {
    Creating { status: SessionStatus },
    Active { status: SessionStatus, kmd_handle: u64 },
    Destroyed,
}

impl SessionState {
    /// The transition the status callback makes; returns the old status, or
    /// fails on a destroyed session.
    fn set_status(&mut self, new: SessionStatus) -> KResult<SessionStatus> {
        match self {
            SessionState::Creating { status } | SessionState::Active { status, .. } => {
                Ok(std::mem::replace(status, new))
            }
            SessionState::Destroyed => Err(KernelError::InvalidParameter("session is being destroyed")),
        }
    }

    /// The create DDI succeeded: the session is live, with the KMD's handle.
    fn activate(&mut self, kmd_handle: u64) {
        if let SessionState::Creating { status } = *self {
            *self = SessionState::Active { status, kmd_handle };
        }
    }

    /// The transition destruction (or a failed create) makes; returns the KMD
    /// handle to destroy, if the create DDI had succeeded.
    fn destroy(&mut self) -> Option<u64> {
        match std::mem::replace(self, SessionState::Destroyed) {
            SessionState::Active { kmd_handle, .. } => Some(kmd_handle),
            SessionState::Creating { .. } | SessionState::Destroyed => None,
        }
    }
}

/// What the KMD's status callback reaches through the kernel's registry: the
/// state and the status fence. It has no `Drop`, so a status call that ends
/// up holding the last reference runs no KMD callback (the destroy DDI lives
/// in [`ProtectedSession`]'s `Drop`).
pub(crate) struct SessionCore {
    pub(crate) key: SessionKey,
    state: Mutex<SessionState>,
    /// The status, as `SessionStatus as u8`: a copy of the one in `state`,
    /// written under its lock, read without it by status queries.
    status: AtomicU8,
    pub(crate) fence: Arc<SyncObject>,
    /// The kernel's waiters, woken when a status change bumps the fence.
    hub: Arc<WaitHub>,
}

impl SessionCore {
    /// The status. A session reachable from a handle is never destroyed, so
    /// this reads the lock-free copy.
    pub(crate) fn status(&self) -> SessionStatus {
        match self.status.load(Ordering::Acquire) {
            0 => SessionStatus::Ok,
            _ => SessionStatus::Invalid,
        }
    }

    /// True once the destroy DDI has run (or the create failed).
    pub(crate) fn is_destroyed(&self) -> bool {
        *self.state.lock() == SessionState::Destroyed
    }

    pub(crate) fn set_status(&self, status: SessionStatus, policies: &Policies) -> KResult<()> {
        let old = {
            let mut state = self.state.lock();
            let old = state.set_status(status)?;
            self.status.store(status as u8, Ordering::Release);
            old
        };
        let bump = match (old, status) {
            (SessionStatus::Ok, SessionStatus::Invalid) => policies.status_fence_bump.on_invalidate,
            (SessionStatus::Invalid, SessionStatus::Ok) => policies.status_fence_bump.on_revalidate,
            _ => false,
        };
        if bump {
            self.fence.bump(&self.hub);
        }
        Ok(())
    }
}

/// A protected session: what handles and NT objects hold. Its `Drop` is the
/// last reference going: it unregisters the key and runs the destroy DDI.
pub(crate) struct ProtectedSession {
    pub(crate) core: Arc<SessionCore>,
    adapter: Arc<Adapter>,
    /// Set once the create DDI returns, as the KMD left it.
    driver_data: OnceLock<Box<[u8]>>,
    pub(crate) runtime_data: Box<[u8]>,
    kmd: Arc<dyn Kmd>,
    registry: Weak<SessionRegistry>,
    pub(crate) _live: LiveToken,
}

impl ProtectedSession {
    pub(crate) fn driver_data(&self) -> &[u8] {
        self.driver_data.get().map_or(&[], |d| d)
    }
}

impl Drop for ProtectedSession {
    fn drop(&mut self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.map.lock().remove(&self.core.key);
        }
        let kmd_handle = self.core.state.lock().destroy();
        if let Some(kmd_handle) = kmd_handle {
            self.kmd.destroy_protected_session(self.adapter.config.luid, kmd_handle);
        }
    }
}

/// A session's handle-table entry.
pub(crate) struct SessionEntry {
    pub(crate) session: Arc<ProtectedSession>,
    /// The device it was created on; `None` when opened from an NT handle
    /// (process-scoped) or kept past its device's destruction.
    pub(crate) device: Option<u32>,
    /// Its place in the device's child list.
    pub(crate) child_slot: u32,
}

/// What `QueryProtectedSessionInfoFromNtHandle` returns: the stored blobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The driver blob, as the KMD left it.
    pub driver_data: Vec<u8>,
    /// The runtime blob.
    pub runtime_data: Vec<u8>,
}

impl ProcessState {
    fn session_entry(&self, handle: u32) -> KResult<&SessionEntry> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::ProtectedSession(s)) => Ok(s),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "protected session" }),
        }
    }
}

impl Process {
    /// `D3DKMTCreateProtectedSession`.
    ///
    /// `device` must be a device of this process; `fence` a monitored fence
    /// of this process on the same adapter (else `STATUS_INVALID_PARAMETER`).
    /// An adapter without protected-session support is `STATUS_NOT_SUPPORTED`;
    /// a lost device or stopped adapter is `STATUS_DEVICE_REMOVED`, also when
    /// the loss comes while the KMD's create DDI runs (the session is then
    /// destroyed again).
    /// The KMD's create DDI runs with no lock held; its failure status is
    /// returned as is. The session gets a [`SessionKey`] and starts OK.
    pub fn create_protected_session(
        &self,
        device: LocalHandle,
        fence: LocalHandle,
        driver_data: &[u8],
        runtime_data: &[u8],
    ) -> KResult<LocalHandle> {
        self.create_protected_session_with(device, fence, || Ok((driver_data.to_vec(), runtime_data.to_vec())))
    }

    /// As [`Process::create_protected_session`], reading the blobs only once
    /// the handles have been checked (the ABI must not touch a garbage
    /// struct's blob pointers before its handles have failed).
    pub(crate) fn create_protected_session_with(
        &self,
        device: LocalHandle,
        fence: LocalHandle,
        blobs: impl FnOnce() -> KResult<(Vec<u8>, Vec<u8>)>,
    ) -> KResult<LocalHandle> {
        let kernel = self.kernel_inner();
        let (adapter, fence) = {
            let state = self.lock_live()?;
            let adapter = Arc::clone(&state.device_for_create(device.0)?.adapter);
            let fence = Arc::clone(&state.sync_entry(fence.0)?.object);
            (adapter, fence)
        };
        if fence.kind != SyncKind::MonitoredFence {
            return Err(KernelError::InvalidParameter("hSyncObject is not a monitored fence"));
        }
        if fence.adapter != adapter.index {
            return Err(KernelError::InvalidParameter("hSyncObject is on another adapter"));
        }
        if !adapter.config.protected_sessions {
            return Err(KernelError::NotSupported("the adapter has no protected-session support"));
        }
        let (driver_data, runtime_data) = blobs()?;
        let key = SessionKey(kernel.sessions.next.fetch_add(1, Ordering::Relaxed));
        let kmd = Arc::clone(&*kernel.kmd.read());
        let core = Arc::new(SessionCore {
            key,
            state: Mutex::new(SessionState::Creating { status: SessionStatus::Ok }),
            status: AtomicU8::new(SessionStatus::Ok as u8),
            fence,
            hub: Arc::clone(&kernel.wait_hub),
        });
        let session = Arc::new(ProtectedSession {
            core: Arc::clone(&core),
            adapter,
            driver_data: OnceLock::new(),
            runtime_data: runtime_data.into_boxed_slice(),
            kmd: Arc::clone(&kmd),
            registry: Arc::downgrade(&kernel.sessions),
            _live: LiveToken::new(&self.0.live, ObjectKind::ProtectedSession),
        });
        // Registered before the DDI runs, so the KMD may set the status of
        // the session it is creating, as a real driver may.
        kernel.sessions.map.lock().insert(key, Arc::downgrade(&core));
        let mut driver_data = driver_data.into_boxed_slice();
        let created = kmd.create_protected_session(&mut CreateSessionArgs {
            adapter: session.adapter.config.luid,
            kernel: Kernel(Arc::clone(kernel)),
            session: key,
            driver_data: &mut driver_data,
        });
        match created {
            Ok(kmd_handle) => {
                let _ = session.driver_data.set(driver_data);
                core.state.lock().activate(kmd_handle);
            }
            Err(status) => {
                // No destroy DDI for a create that failed; dropping the
                // session unregisters it.
                core.state.lock().destroy();
                drop(session);
                return Err(KernelError::driver(status));
            }
        }
        // From here a failure drops the session, which runs the destroy DDI:
        // the create is undone as if it never happened.
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        // The device may have gone, or been lost, while the KMD ran.
        state.device_for_create(device.0)?;
        let entry = SessionEntry { session, device: Some(device.0), child_slot: 0 };
        state.insert_local(LocalEntry::ProtectedSession(entry), &mut graveyard)
    }

    /// `D3DKMTDestroyProtectedSession`: closes this handle, whether it came
    /// from create or open. The destroy DDI runs if it was the last reference.
    pub fn destroy_protected_session(&self, handle: LocalHandle) -> KResult<()> {
        let mut state = self.lock_live()?;
        state.session_entry(handle.0)?;
        let entry = state.remove_local(handle.0);
        drop(state);
        drop(entry);
        Ok(())
    }

    /// `D3DKMTQueryProtectedSessionStatus`.
    pub fn query_protected_session_status(&self, handle: LocalHandle) -> KResult<SessionStatus> {
        let state = self.lock_live()?;
        Ok(state.session_entry(handle.0)?.session.core.status())
    }

    /// The kernel's key for a session handle of this process: what a test
    /// acting as the KMD passes to [`crate::Kernel::set_protected_session_status`].
    pub fn protected_session_key(&self, handle: LocalHandle) -> KResult<SessionKey> {
        let state = self.lock_live()?;
        Ok(state.session_entry(handle.0)?.session.core.key)
    }

    /// The status fence of a session handle of this process, as its current value.
    pub fn protected_session_fence_value(&self, handle: LocalHandle) -> KResult<u64> {
        let state = self.lock_live()?;
        Ok(state.session_entry(handle.0)?.session.core.fence.value())
    }

    fn session_from_nt(&self, state: &ProcessState, nt: NtHandle) -> KResult<Arc<ProtectedSession>> {
        let (object, granted) = state.nt_object(nt, self.kernel_inner(), NtObjectKind::PROTECTED_SESSION)?;
        if granted & access::READ_CONTROL == 0 {
            return Err(KernelError::AccessDenied("NT handle lacks STANDARD_RIGHTS_READ"));
        }
        match &object.kind {
            NtObjectKind::ProtectedSession(s) => Ok(Arc::clone(s)),
            NtObjectKind::SyncObject(_) | NtObjectKind::Resource(_) => unreachable!("type checked"),
        }
    }

    /// `D3DKMTQueryProtectedSessionInfoFromNtHandle`: the stored blobs. A bad
    /// NT handle is `STATUS_INVALID_HANDLE`, one of another type follows
    /// [`Policies::wrong_nt_object_type`], and one without
    /// `STANDARD_RIGHTS_READ` access is `STATUS_ACCESS_DENIED`.
    pub fn query_protected_session_info(&self, nt: NtHandle) -> KResult<SessionInfo> {
        let state = self.lock_live()?;
        let session = self.session_from_nt(&state, nt)?;
        drop(state);
        Ok(SessionInfo { driver_data: session.driver_data().to_vec(), runtime_data: session.runtime_data.to_vec() })
    }

    /// Runs `f` on the stored blobs without copying them.
    pub(crate) fn with_protected_session_blobs<R>(
        &self,
        nt: NtHandle,
        f: impl FnOnce(&[u8], &[u8]) -> KResult<R>,
    ) -> KResult<R> {
        let state = self.lock_live()?;
        let session = self.session_from_nt(&state, nt)?;
        drop(state);
        let result = f(session.driver_data(), &session.runtime_data);
        drop(session);
        result
    }

    /// `D3DKMTOpenProtectedSessionFromNtHandle`: a new handle in this process
    /// to the session, bound to no device. Errors as for the info query.
    pub fn open_protected_session_from_nt_handle(&self, nt: NtHandle) -> KResult<LocalHandle> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let session = self.session_from_nt(&state, nt)?;
        state.insert_local(
            LocalEntry::ProtectedSession(SessionEntry { session, device: None, child_slot: 0 }),
            &mut graveyard,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_transitions_return_the_old_status() {
        let mut s = SessionState::Active { status: SessionStatus::Ok, kmd_handle: 9 };
        assert_eq!(s.set_status(SessionStatus::Invalid), Ok(SessionStatus::Ok));
        assert_eq!(s.set_status(SessionStatus::Invalid), Ok(SessionStatus::Invalid));
        assert_eq!(s, SessionState::Active { status: SessionStatus::Invalid, kmd_handle: 9 });
    }

    #[test]
    fn a_session_being_created_takes_status_and_keeps_it_when_activated() {
        let mut s = SessionState::Creating { status: SessionStatus::Ok };
        assert_eq!(s.set_status(SessionStatus::Invalid), Ok(SessionStatus::Ok));
        s.activate(5);
        assert_eq!(s, SessionState::Active { status: SessionStatus::Invalid, kmd_handle: 5 });
        let mut failed = SessionState::Creating { status: SessionStatus::Ok };
        assert_eq!(failed.destroy(), None, "no destroy DDI for a failed create");
    }

    #[test]
    fn destroy_happens_once_and_then_refuses_status() {
        let mut s = SessionState::Active { status: SessionStatus::Ok, kmd_handle: 9 };
        assert_eq!(s.destroy(), Some(9));
        assert_eq!(s.destroy(), None, "the destroy DDI runs once");
        assert!(s.set_status(SessionStatus::Ok).is_err());
    }
}
