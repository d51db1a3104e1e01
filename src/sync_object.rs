//! Synchronization objects: monitored fences, their CPU signal and wait, and
//! opening them from an NT handle.
//!
//! `D3DKMTCreateSynchronizationObject2`, `D3DKMTDestroySynchronizationObject`,
//! `D3DKMTSignalSynchronizationObjectFromCpu`,
//! `D3DKMTWaitForSynchronizationObjectFromCpu`,
//! `D3DKMTOpenSyncObjectFromNtHandle2`.
//!
//! A monitored fence's value is a real `u64` in this process's memory: the
//! CPU virtual address the create and open calls return points at it and
//! stays valid while the fence object lives (any handle, in any process, or an
//! NT handle, or a protected session using it as its status fence). Other
//! sync-object types arrive with the object-model issue; until then their
//! creation answers `STATUS_NOT_IMPLEMENTED`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};
use crate::live::{LiveToken, ObjectKind};
use crate::policy::FenceRegression;
use crate::process::{LocalEntry, Process, ProcessState};
use crate::shared::{NtObjectKind, access};
use crate::sync::{Condvar, Graveyard, Mutex};

/// `D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS`, decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncFlags {
    /// `Shared` (bit 0).
    pub shared: bool,
    /// `NtSecuritySharing` (bit 1): shareable only through NT handles.
    pub nt_security_sharing: bool,
    /// `CrossAdapter` (bit 2).
    pub cross_adapter: bool,
    /// `NoSignal` (bit 4): this handle may not signal.
    pub no_signal: bool,
    /// `NoWait` (bit 5): this handle may not wait.
    pub no_wait: bool,
    /// `NoSignalMaxValueOnTdr` (bit 6).
    pub no_signal_max_value_on_tdr: bool,
}

impl SyncFlags {
    /// Decodes the raw bitfield.
    pub fn from_bits(bits: u32) -> SyncFlags {
        SyncFlags {
            shared: bits & 1 != 0,
            nt_security_sharing: bits & 2 != 0,
            cross_adapter: bits & 4 != 0,
            no_signal: bits & 0x10 != 0,
            no_wait: bits & 0x20 != 0,
            no_signal_max_value_on_tdr: bits & 0x40 != 0,
        }
    }
}

/// The sync-object types (`D3DDDI_SYNCHRONIZATIONOBJECT_TYPE`) this crate knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncKind {
    /// `D3DDDI_MONITORED_FENCE` (5).
    MonitoredFence,
}

/// Wakes CPU waiters when any fence of the kernel moves.
#[derive(Default)]
pub(crate) struct WaitHub {
    lock: Mutex<()>,
    cv: Condvar,
    waiters: AtomicUsize,
}

impl WaitHub {
    fn notify(&self) {
        // Pairs with the increment in `wait_until`: a waiter that registered
        // before our value store is woken; one that registers after it sees
        // the new value when it checks.
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock();
            self.cv.notify_all();
        }
    }

    /// Wakes every waiter to recheck its condition.
    pub(crate) fn wake_all(&self) {
        let _guard = self.lock.lock();
        self.cv.notify_all();
    }

    fn wait_until(&self, satisfied: impl Fn() -> bool) {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.lock.lock();
        while !satisfied() {
            self.cv.wait(&mut guard);
        }
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) struct SyncObject {
    /// Index of the adapter it was created on (adapters live as long as the
    /// kernel, so no reference is needed, and none is contended).
    pub(crate) adapter: usize,
    pub(crate) kind: SyncKind,
    /// Created with `NtSecuritySharing`: `ShareObjects` accepts it.
    pub(crate) nt_shareable: bool,
    #[allow(dead_code, reason = "read by TDR emulation, which the testing-powers issue adds")]
    pub(crate) no_signal_max_value_on_tdr: bool,
    value: AtomicU64,
    pub(crate) gpu_va: u64,
    pub(crate) _live: LiveToken,
}

impl SyncObject {
    /// The fence's value.
    pub(crate) fn value(&self) -> u64 {
        self.value.load(Ordering::SeqCst)
    }

    /// The address of the fence's value, as the CPU VA the calls return.
    pub(crate) fn cpu_va(&self) -> *const u64 {
        self.value.as_ptr().cast_const()
    }

    /// Sets the value (or keeps a higher one, per policy) and wakes the
    /// kernel's waiters.
    pub(crate) fn signal(&self, value: u64, regression: FenceRegression, hub: &WaitHub) {
        match regression {
            FenceRegression::Ignore => {
                self.value.fetch_max(value, Ordering::SeqCst);
            }
            FenceRegression::Store => self.value.store(value, Ordering::SeqCst),
        }
        hub.notify();
    }

    /// Adds one to the value and wakes waiters; returns the new value.
    pub(crate) fn bump(&self, hub: &WaitHub) -> u64 {
        let new = self.value.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
        hub.notify();
        new
    }
}

/// A sync object's handle-table entry: the object and what this handle may do.
pub(crate) struct SyncEntry {
    pub(crate) object: Arc<SyncObject>,
    /// The device the handle was created or opened on.
    pub(crate) device: u32,
    /// Its place in the device's child list.
    pub(crate) child_slot: u32,
    pub(crate) can_signal: bool,
    pub(crate) can_wait: bool,
}

/// What creating or opening a monitored fence returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonitoredFence {
    /// The new local handle.
    pub handle: LocalHandle,
    /// Where the fence's value can be read, while the fence lives.
    pub cpu_va: *const u64,
    /// The fake GPU virtual address of the value.
    pub gpu_va: u64,
}

impl ProcessState {
    pub(crate) fn sync_entry(&self, handle: u32) -> KResult<&SyncEntry> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::SyncObject(s)) => Ok(s),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "sync object" }),
        }
    }
}

impl Process {
    /// `D3DKMTCreateSynchronizationObject2` with `Type = D3DDDI_MONITORED_FENCE`.
    ///
    /// `NtSecuritySharing` needs `Shared` (WINE #52), and a monitored fence can
    /// be shared only through NT handles, so `Shared` without
    /// `NtSecuritySharing` is `STATUS_INVALID_PARAMETER` too.
    pub fn create_monitored_fence(
        &self,
        device: LocalHandle,
        flags: SyncFlags,
        initial_value: u64,
    ) -> KResult<MonitoredFence> {
        if flags.nt_security_sharing && !flags.shared {
            return Err(KernelError::InvalidParameter("NtSecuritySharing requires Shared"));
        }
        if flags.shared && !flags.nt_security_sharing {
            return Err(KernelError::InvalidParameter("a monitored fence is shared only by NT handle"));
        }
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let adapter = state.device(device.0)?.adapter.index;
        let gpu_va = state.next_gpu_va(self.kernel_inner());
        let object = Arc::new(SyncObject {
            adapter,
            kind: SyncKind::MonitoredFence,
            nt_shareable: flags.nt_security_sharing,
            no_signal_max_value_on_tdr: flags.no_signal_max_value_on_tdr,
            value: AtomicU64::new(initial_value),
            gpu_va,
            _live: LiveToken::new(&self.0.live, ObjectKind::SyncObject),
        });
        let (cpu_va, gpu_va) = (object.cpu_va(), object.gpu_va);
        let entry = SyncEntry {
            object,
            device: device.0,
            child_slot: 0,
            can_signal: !flags.no_signal,
            can_wait: !flags.no_wait,
        };
        let handle = state.insert_local(LocalEntry::SyncObject(entry), &mut graveyard)?;
        Ok(MonitoredFence { handle, cpu_va, gpu_va })
    }

    /// `D3DKMTDestroySynchronizationObject`: closes this handle. The object
    /// lives on while other handles, NT handles or sessions hold it. A handle
    /// that is not a sync object of this process, including an NT handle
    /// value or a global handle, is `STATUS_INVALID_PARAMETER` (WINE #44, #94).
    pub fn destroy_sync_object(&self, handle: LocalHandle) -> KResult<()> {
        let mut state = self.lock_live()?;
        state.sync_entry(handle.0)?;
        let entry = state.remove_local(handle.0);
        drop(state);
        drop(entry);
        Ok(())
    }

    /// Validates a CPU signal or wait list under the lock, and takes a
    /// reference to each object so the lock can be dropped.
    fn fence_list(
        &self,
        device: LocalHandle,
        objects: &[(LocalHandle, u64)],
        max: usize,
        signal: bool,
    ) -> KResult<Vec<(Arc<SyncObject>, u64)>> {
        if objects.is_empty() || objects.len() > max {
            return Err(KernelError::InvalidParameter("ObjectCount out of range"));
        }
        let state = self.lock_live()?;
        state.device(device.0)?;
        let mut list = Vec::with_capacity(objects.len());
        for &(handle, value) in objects {
            let entry = state.sync_entry(handle.0)?;
            let allowed = if signal { entry.can_signal } else { entry.can_wait };
            if !allowed {
                return Err(KernelError::AccessDenied(if signal {
                    "handle may not signal (NoSignal, or no SIGNAL access)"
                } else {
                    "handle may not wait (NoWait, or no WAIT access)"
                }));
            }
            list.push((Arc::clone(&entry.object), value));
        }
        drop(state);
        Ok(list)
    }

    /// `D3DKMTSignalSynchronizationObjectFromCpu`: sets each fence to its
    /// value and wakes satisfied waiters, all or nothing. At most
    /// `D3DDDI_MAX_OBJECT_SIGNALED` (32) objects; a handle opened with
    /// `NoSignal` or without `D3DDDI_SYNC_OBJECT_SIGNAL` access is
    /// `STATUS_ACCESS_DENIED`.
    pub fn signal_from_cpu(&self, device: LocalHandle, objects: &[(LocalHandle, u64)]) -> KResult<()> {
        let list = self.fence_list(device, objects, 32, true)?;
        let kernel = self.kernel_inner();
        for (object, value) in list {
            object.signal(value, kernel.policies.fence_regression, &kernel.wait_hub);
        }
        Ok(())
    }

    /// `D3DKMTWaitForSynchronizationObjectFromCpu` with a NULL event: blocks
    /// until every fence (or, with `wait_any`, one fence) has reached its
    /// value. At most `D3DDDI_MAX_OBJECT_WAITED_ON` (32) objects. The wait
    /// holds references, so destroying the handles meanwhile does not end it;
    /// the process's exit does, with `STATUS_PROCESS_IS_TERMINATING`.
    pub fn wait_from_cpu(&self, device: LocalHandle, objects: &[(LocalHandle, u64)], wait_any: bool) -> KResult<()> {
        let list = self.fence_list(device, objects, 32, false)?;
        let hub = Arc::clone(&self.kernel_inner().wait_hub);
        let exited = || self.0.exited.load(Ordering::SeqCst);
        hub.wait_until(|| {
            let mut reached = list.iter().map(|(o, v)| o.value() >= *v);
            exited() || if wait_any { reached.any(|r| r) } else { reached.all(|r| r) }
        });
        drop(list);
        if exited() { Err(KernelError::ProcessExited) } else { Ok(()) }
    }

    /// The current value of a monitored fence handle of this process.
    pub fn fence_value(&self, handle: LocalHandle) -> KResult<u64> {
        let state = self.lock_live()?;
        Ok(state.sync_entry(handle.0)?.object.value())
    }

    /// `D3DKMTOpenSyncObjectFromNtHandle2`: a new local handle, on `device`,
    /// to the sync object an NT handle names.
    ///
    /// Checks in Windows' order: the device (`STATUS_INVALID_PARAMETER`, also
    /// for a zeroed struct, WINE #97), then the NT handle
    /// (`STATUS_INVALID_HANDLE`, WINE #99), its type (policy), and its access:
    /// `STANDARD_RIGHTS_READ` to open at all, `D3DDDI_SYNC_OBJECT_WAIT` and
    /// `_SIGNAL` for the new handle to wait and signal.
    pub fn open_sync_object_from_nt_handle(
        &self,
        nt: NtHandle,
        device: LocalHandle,
        flags: SyncFlags,
    ) -> KResult<MonitoredFence> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.device(device.0)?;
        let (object, granted) = state.nt_object(nt, self.kernel_inner(), NtObjectKind::SYNC_OBJECT)?;
        let NtObjectKind::SyncObject(object) = &object.kind else { unreachable!("type checked") };
        if granted & access::READ_CONTROL == 0 {
            return Err(KernelError::AccessDenied("NT handle lacks STANDARD_RIGHTS_READ"));
        }
        let object = Arc::clone(object);
        let (cpu_va, gpu_va) = (object.cpu_va(), object.gpu_va);
        let entry = SyncEntry {
            object,
            device: device.0,
            child_slot: 0,
            can_signal: !flags.no_signal && granted & access::SYNC_SIGNAL != 0,
            can_wait: !flags.no_wait && granted & access::SYNC_WAIT != 0,
        };
        let handle = state.insert_local(LocalEntry::SyncObject(entry), &mut graveyard)?;
        Ok(MonitoredFence { handle, cpu_va, gpu_va })
    }
}
