//! Synchronization objects of every type: creation (v1 and v2), global (KMT)
//! share handles, opening by global handle, by NT handle and by name, and the
//! CPU signal and wait of monitored fences.
//!
//! `D3DKMTCreateSynchronizationObject(2)`, `D3DKMTDestroySynchronizationObject`,
//! `D3DKMTOpenSynchronizationObject`, `D3DKMTOpenSyncObjectFromNtHandle(2)`,
//! `D3DKMTOpenSyncObjectNtHandleFromName`,
//! `D3DKMTSignalSynchronizationObjectFromCpu`,
//! `D3DKMTWaitForSynchronizationObjectFromCpu`.
//!
//! What Windows does, and what we do:
//! - Mutexes, semaphores, fences and CPU-notification objects are signalled
//!   and waited on through GPU-queued calls (contexts), which are not
//!   emulated: those objects can be created, shared, opened and destroyed,
//!   and their creation parameters are kept, but nothing observes their
//!   state. A CPU-notification object's event is never signalled (there are
//!   no Win32 events here; see [`crate::policy::CpuNotificationEvent`]).
//! - A monitored fence's value is a real `u64` in this process's memory: the
//!   CPU virtual address the create and open calls return points at it and
//!   stays valid while the fence object lives (any handle, in any process, or
//!   an NT handle, or a protected session using it as its status fence).
//! - `Shared` without `NtSecuritySharing` gives the object a global handle
//!   (WINE #48); it names the object while any local handle, in any process,
//!   or any NT object holds it (WINE #6, #7, #51), and never keeps it alive.
//!   `Shared` with `NtSecuritySharing` gives no global handle (WINE #53) but
//!   lets `D3DKMTShareObjects` wrap it in an NT object (WINE #92, #93).
//!
//! Ownership: each handle-table entry ([`SyncEntry`]) and each NT object
//! holds one `Arc` on the [`SyncObject`]; the global table holds a `Weak`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{KResult, KernelError};
use crate::global::{GlobalKind, GlobalName};
use crate::handle::{LocalHandle, NtHandle};
use crate::live::{LiveToken, ObjectKind};
use crate::policy::{CpuNotificationEvent, FenceRegression};
use crate::process::{LocalEntry, Process, ProcessState};
use crate::shared::{NtEntry, NtObjectKind, access};
use crate::sync::Graveyard;

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

/// A sync object's type (`D3DDDI_SYNCHRONIZATIONOBJECT_TYPE`) with the
/// creation parameters of that type.
///
/// `D3DDDI_PERIODIC_MONITORED_FENCE` (6) is not emulated: it needs a display
/// target's vertical blank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncKind {
    /// `D3DDDI_SYNCHRONIZATION_MUTEX` (1), with `InitialState`.
    Mutex {
        /// Created owned (`InitialState` nonzero).
        initial_state: bool,
    },
    /// `D3DDDI_SEMAPHORE` (2). The counts are kept as given: nothing can
    /// signal or wait on a semaphore here, so nothing checks them.
    Semaphore {
        /// `MaxCount`.
        max_count: u32,
        /// `InitialCount`.
        initial_count: u32,
    },
    /// `D3DDDI_FENCE` (3), with its initial `FenceValue` (v2 only).
    Fence {
        /// `FenceValue`.
        initial_value: u64,
    },
    /// `D3DDDI_CPU_NOTIFICATION` (4) with its event handle (nonzero).
    CpuNotification {
        /// The `Event` handle value, as given. Never signalled.
        event: u64,
    },
    /// `D3DDDI_MONITORED_FENCE` (5). Its value lives in the object.
    MonitoredFence,
}

pub(crate) use crate::clock::WaitHub;

impl SyncKind {
    /// The `D3DDDI_SYNCHRONIZATIONOBJECT_TYPE` value.
    pub const fn type_value(self) -> u32 {
        match self {
            SyncKind::Mutex { .. } => 1,
            SyncKind::Semaphore { .. } => 2,
            SyncKind::Fence { .. } => 3,
            SyncKind::CpuNotification { .. } => 4,
            SyncKind::MonitoredFence => 5,
        }
    }
}

pub(crate) struct SyncObject {
    /// Index of the adapter it was created on (adapters live as long as the
    /// kernel, so no reference is needed, and none is contended).
    pub(crate) adapter: usize,
    pub(crate) kind: SyncKind,
    /// Created with `NtSecuritySharing`: `ShareObjects` accepts it.
    pub(crate) nt_shareable: bool,
    /// Its global (KMT) handle, if created `Shared` without
    /// `NtSecuritySharing`; dropped (unregistered) with the object.
    pub(crate) global: Option<GlobalName>,
    /// Created with `NoSignalMaxValueOnTdr`: a TDR or removal leaves its
    /// value alone (see [`crate::removal`]).
    pub(crate) no_signal_max_value_on_tdr: bool,
    value: AtomicU64,
    pub(crate) gpu_va: u64,
    pub(crate) _live: LiveToken,
}

impl SyncObject {
    /// A monitored fence the kernel makes for its own objects (a hardware
    /// queue's progress fence, a paging queue's fence): not shareable, value 0.
    pub(crate) fn internal_fence(adapter: usize, gpu_va: u64, live: &Arc<crate::live::LiveCounters>) -> SyncObject {
        SyncObject {
            adapter,
            kind: SyncKind::MonitoredFence,
            nt_shareable: false,
            global: None,
            no_signal_max_value_on_tdr: false,
            value: AtomicU64::new(0),
            gpu_va,
            _live: LiveToken::new(live, ObjectKind::SyncObject),
        }
    }

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

    /// Adds one to the value (staying at `u64::MAX`, where a TDR may have
    /// put it, rather than wrapping to 0) and wakes waiters; returns the new
    /// value.
    pub(crate) fn bump(&self, hub: &WaitHub) -> u64 {
        let old = self.value.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| Some(v.saturating_add(1)));
        hub.notify();
        old.unwrap_or_else(|v| v).saturating_add(1)
    }
}

/// A sync object's handle-table entry: the object and what this handle may do.
pub(crate) struct SyncEntry {
    pub(crate) object: Arc<SyncObject>,
    /// The device the handle was created or opened on; `None` for handles
    /// opened without one (by global handle, or by NT handle with the v1
    /// call), which are closed only by destroy or process exit.
    pub(crate) device: Option<u32>,
    /// Its place in the device's child list.
    pub(crate) child_slot: u32,
    pub(crate) can_signal: bool,
    pub(crate) can_wait: bool,
}

/// What creating a sync object returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatedSync {
    /// The new local handle.
    pub handle: LocalHandle,
    /// The global (KMT) handle, if created `Shared` without `NtSecuritySharing`.
    pub global: Option<u32>,
    /// For a monitored fence, where its value can be read; NULL otherwise.
    pub cpu_va: *const u64,
    /// For a monitored fence, the fake GPU virtual address of its value; 0 otherwise.
    pub gpu_va: u64,
}

/// Fences and the values a CPU signal or wait names, with references held.
type FenceList = Vec<(Arc<SyncObject>, u64)>;

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
    /// `D3DKMTCreateSynchronizationObject2` with `Type = D3DDDI_MONITORED_FENCE`:
    /// [`Process::create_sync_object`] for a monitored fence.
    /// A lost device (or stopped adapter) is `STATUS_DEVICE_REMOVED` (see `Kernel::remove_device`).
    pub fn create_monitored_fence(
        &self,
        device: LocalHandle,
        flags: SyncFlags,
        initial_value: u64,
    ) -> KResult<MonitoredFence> {
        let created = self.create_sync_object_with_value(device, SyncKind::MonitoredFence, flags, initial_value)?;
        Ok(MonitoredFence { handle: created.handle, cpu_va: created.cpu_va, gpu_va: created.gpu_va })
    }

    /// `D3DKMTCreateSynchronizationObject2`: a sync object of any kind on
    /// `device` (`D3DKMTCreateSynchronizationObject` is this with no flags,
    /// for mutexes and semaphores only; its ABI checks the type).
    ///
    /// Statuses, in the order checked:
    /// - `NtSecuritySharing` without `Shared`: `STATUS_INVALID_PARAMETER`
    ///   (WINE #52, the modern value);
    /// - a monitored fence `Shared` without `NtSecuritySharing`:
    ///   `STATUS_INVALID_PARAMETER` (documented: monitored fences are shared
    ///   only by NT handle);
    /// - `device` not a device of this process: `STATUS_INVALID_PARAMETER`
    ///   (WINE #42, #45);
    /// - a CPU-notification object with a NULL event: `STATUS_INVALID_HANDLE`
    ///   (WINE #47); any other event value per
    ///   [`crate::Policies::cpu_notification_event`].
    ///
    /// `Shared` without `NtSecuritySharing` registers a new global handle
    /// (WINE #48), returned in [`CreatedSync::global`].
    pub fn create_sync_object(&self, device: LocalHandle, kind: SyncKind, flags: SyncFlags) -> KResult<CreatedSync> {
        let initial = match kind {
            SyncKind::Fence { initial_value } => initial_value,
            _ => 0,
        };
        self.create_sync_object_with_value(device, kind, flags, initial)
    }

    fn create_sync_object_with_value(
        &self,
        device: LocalHandle,
        kind: SyncKind,
        flags: SyncFlags,
        initial_value: u64,
    ) -> KResult<CreatedSync> {
        if flags.nt_security_sharing && !flags.shared {
            return Err(KernelError::InvalidParameter("NtSecuritySharing requires Shared"));
        }
        let global_share = flags.shared && !flags.nt_security_sharing;
        if global_share && kind == SyncKind::MonitoredFence {
            return Err(KernelError::InvalidParameter("a monitored fence is shared only by NT handle"));
        }
        let kernel = self.kernel_inner();
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let adapter = state.device_for_create(device.0)?.adapter.index;
        if let SyncKind::CpuNotification { event } = kind {
            if event == 0 {
                return Err(KernelError::BadNtHandle(0));
            }
            if kernel.policies.cpu_notification_event == CpuNotificationEvent::RejectAll {
                return Err(KernelError::BadNtHandle(event));
            }
        }
        let gpu_va = if kind == SyncKind::MonitoredFence { state.next_gpu_va(kernel) } else { 0 };
        let mut registered = Ok(());
        let object = Arc::new_cyclic(|weak| {
            let global = if global_share {
                match kernel.globals.register(GlobalKind::SyncObject, weak) {
                    Ok(name) => Some(name),
                    Err(e) => {
                        registered = Err(e);
                        None
                    }
                }
            } else {
                None
            };
            SyncObject {
                adapter,
                kind,
                nt_shareable: flags.nt_security_sharing,
                global,
                no_signal_max_value_on_tdr: flags.no_signal_max_value_on_tdr,
                value: AtomicU64::new(initial_value),
                gpu_va,
                _live: LiveToken::new(&self.0.live, ObjectKind::SyncObject),
            }
        });
        if let Err(e) = registered {
            drop(state);
            drop(object);
            return Err(e);
        }
        let created = CreatedSync {
            handle: LocalHandle(0),
            global: object.global.as_ref().map(GlobalName::handle),
            cpu_va: if kind == SyncKind::MonitoredFence { object.cpu_va() } else { core::ptr::null() },
            gpu_va: object.gpu_va,
        };
        let entry = SyncEntry {
            object,
            device: Some(device.0),
            child_slot: 0,
            can_signal: !flags.no_signal,
            can_wait: !flags.no_wait,
        };
        let handle = state.insert_local(LocalEntry::SyncObject(entry), &mut graveyard)?;
        Ok(CreatedSync { handle, ..created })
    }

    /// `D3DKMTOpenSynchronizationObject`: a new local handle, bound to no
    /// device, to the sync object a global handle names (WINE #51). A value
    /// that is not a live sync object's global handle (0, junk, a local
    /// handle, or the global handle of an object whose last local handle and
    /// NT object are gone) is `STATUS_INVALID_PARAMETER` (WINE #6, #7, #50).
    /// The new handle may signal and wait.
    pub fn open_sync_object_from_global(&self, global: u32) -> KResult<LocalHandle> {
        let object: Arc<SyncObject> = self.kernel_inner().globals.open(global, GlobalKind::SyncObject)?;
        let mut graveyard = Graveyard::default();
        let mut state = match self.lock_live() {
            Ok(state) => state,
            Err(e) => {
                drop(object);
                return Err(e);
            }
        };
        let entry = SyncEntry { object, device: None, child_slot: 0, can_signal: true, can_wait: true };
        let result = state.insert_local(LocalEntry::SyncObject(entry), &mut graveyard);
        drop(state);
        drop(graveyard);
        result
    }

    /// The kind of the sync object a handle of this process names.
    pub fn sync_object_kind(&self, handle: LocalHandle) -> KResult<SyncKind> {
        Ok(self.lock_live()?.sync_entry(handle.0)?.object.kind)
    }

    /// The global (KMT) handle of the sync object a handle of this process
    /// names, if it has one.
    pub fn sync_object_global_handle(&self, handle: LocalHandle) -> KResult<Option<u32>> {
        Ok(self.lock_live()?.sync_entry(handle.0)?.object.global.as_ref().map(GlobalName::handle))
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
    /// reference to the device and to each object so the lock can be
    /// dropped. A lost device follows [`crate::RemovedDeviceSync`].
    fn fence_list(
        &self,
        device: LocalHandle,
        objects: &[(LocalHandle, u64)],
        max: usize,
        signal: bool,
    ) -> KResult<(Arc<crate::device::Device>, FenceList)> {
        if objects.is_empty() || objects.len() > max {
            return Err(KernelError::InvalidParameter("ObjectCount out of range"));
        }
        let state = self.lock_live()?;
        let device = Arc::clone(state.device_for_sync(device.0, self.kernel_inner().policies.removal.sync)?);
        let mut list = Vec::with_capacity(objects.len());
        for &(handle, value) in objects {
            let entry = state.sync_entry(handle.0)?;
            if entry.object.kind != SyncKind::MonitoredFence {
                // The CPU calls are documented for monitored fences only; the
                // other kinds are signalled and waited on by GPU-queued calls.
                return Err(KernelError::InvalidParameter("CPU signal and wait take monitored fences only"));
            }
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
        Ok((device, list))
    }

    /// `D3DKMTSignalSynchronizationObjectFromCpu`: sets each fence to its
    /// value and wakes satisfied waiters, all or nothing. At most
    /// `D3DDDI_MAX_OBJECT_SIGNALED` (32) objects; a handle opened with
    /// `NoSignal` or without `D3DDDI_SYNC_OBJECT_SIGNAL` access is
    /// `STATUS_ACCESS_DENIED`. Every object must be a monitored fence, as the
    /// call is documented; any other kind is `STATUS_INVALID_PARAMETER` (our
    /// choice: the documented status for parameters found incorrect), and
    /// nothing is signalled.
    pub fn signal_from_cpu(&self, device: LocalHandle, objects: &[(LocalHandle, u64)]) -> KResult<()> {
        let (_, list) = self.fence_list(device, objects, 32, true)?;
        let kernel = self.kernel_inner();
        for (object, value) in list {
            object.signal(value, kernel.policies.fence_regression, &kernel.wait_hub);
        }
        // GPU queues waiting on these fences, and sync files, may now run.
        kernel.gpu.kick(kernel.policies.fence_regression, &kernel.wait_hub);
        Ok(())
    }

    /// `D3DKMTWaitForSynchronizationObjectFromCpu` with a NULL event: blocks
    /// until every fence (or, with `wait_any`, one fence) has reached its
    /// value. At most `D3DDDI_MAX_OBJECT_WAITED_ON` (32) objects, all monitored
    /// fences (any other kind: `STATUS_INVALID_PARAMETER`, as for the
    /// signal). The wait
    /// holds references, so destroying the handles meanwhile does not end it;
    /// the process's exit does, with `STATUS_PROCESS_IS_TERMINATING`. So does
    /// the loss of `device` (removal, TDR), with `STATUS_DEVICE_REMOVED`,
    /// under [`crate::RemovedDeviceSync::Fail`], unless the fences are
    /// satisfied (a TDR's jump to `u64::MAX` satisfies them).
    pub fn wait_from_cpu(&self, device: LocalHandle, objects: &[(LocalHandle, u64)], wait_any: bool) -> KResult<()> {
        let (device, list) = self.fence_list(device, objects, 32, false)?;
        let hub = Arc::clone(&self.kernel_inner().wait_hub);
        let exited = || self.0.exited.load(Ordering::SeqCst);
        let fail_on_loss = self.kernel_inner().policies.removal.sync == crate::RemovedDeviceSync::Fail;
        let lost = || fail_on_loss && device.check_usable().is_err();
        let satisfied = || {
            let mut reached = list.iter().map(|(o, v)| o.value() >= *v);
            if wait_any { reached.any(|r| r) } else { reached.all(|r| r) }
        };
        hub.wait_until(&self.kernel_inner().clock, || exited() || satisfied() || lost());
        let result = if exited() {
            Err(KernelError::ProcessExited)
        } else if satisfied() {
            Ok(())
        } else {
            Err(KernelError::DeviceRemoved("the device was lost during the wait"))
        };
        drop(list);
        drop(device);
        result
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
    /// for a zeroed struct, WINE #97; `STATUS_DEVICE_REMOVED` once it is lost,
    /// as documented for `OpenSynchronizationObject`), then the NT handle
    /// (`STATUS_INVALID_HANDLE`, WINE #99), its type (policy), and its access:
    /// `STANDARD_RIGHTS_READ` to open at all, `D3DDDI_SYNC_OBJECT_WAIT` and
    /// `_SIGNAL` for the new handle to wait and signal.
    pub fn open_sync_object_from_nt_handle(
        &self,
        nt: NtHandle,
        device: LocalHandle,
        flags: SyncFlags,
    ) -> KResult<MonitoredFence> {
        self.open_sync_from_nt(nt, Some(device), flags)
    }

    /// `D3DKMTOpenSyncObjectFromNtHandle` (v1): as
    /// [`Process::open_sync_object_from_nt_handle`] with no device and no
    /// flags. A NULL or unknown NT handle is `STATUS_INVALID_HANDLE`
    /// (WINE #95). For a sync object that is not a monitored fence the
    /// returned addresses are NULL and 0.
    pub fn open_sync_object_from_nt_handle_v1(&self, nt: NtHandle) -> KResult<MonitoredFence> {
        self.open_sync_from_nt(nt, None, SyncFlags::default())
    }

    fn open_sync_from_nt(
        &self,
        nt: NtHandle,
        device: Option<LocalHandle>,
        flags: SyncFlags,
    ) -> KResult<MonitoredFence> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        if let Some(device) = device {
            state.device_for_create(device.0)?;
        }
        let (object, granted) = state.nt_object(nt, self.kernel_inner(), NtObjectKind::SYNC_OBJECT)?;
        let NtObjectKind::SyncObject(object) = &object.kind else { unreachable!("type checked") };
        if granted & access::READ_CONTROL == 0 {
            return Err(KernelError::AccessDenied("NT handle lacks STANDARD_RIGHTS_READ"));
        }
        let object = Arc::clone(object);
        let fence = object.kind == SyncKind::MonitoredFence;
        let (cpu_va, gpu_va) = if fence { (object.cpu_va(), object.gpu_va) } else { (core::ptr::null(), 0) };
        let entry = SyncEntry {
            object,
            device: device.map(|d| d.0),
            child_slot: 0,
            can_signal: !flags.no_signal && granted & access::SYNC_SIGNAL != 0,
            can_wait: !flags.no_wait && granted & access::SYNC_WAIT != 0,
        };
        let handle = state.insert_local(LocalEntry::SyncObject(entry), &mut graveyard)?;
        Ok(MonitoredFence { handle, cpu_va, gpu_va })
    }

    /// `D3DKMTOpenSyncObjectNtHandleFromName`: a new NT handle, in this
    /// process, to the named `DxgkSharedSyncObject`, with `access` (generic
    /// rights mapped).
    ///
    /// Names match case-insensitively and live as long as an NT handle to
    /// their object (WINE #100). Statuses: no object of that name
    /// `STATUS_OBJECT_NAME_NOT_FOUND`; an object of another type, the
    /// [`crate::Policies::wrong_nt_object_type`] status; an access that maps
    /// to no right at all (0) `STATUS_ACCESS_DENIED` (WINE #98).
    pub fn open_sync_nt_handle_from_name(&self, name: &str, access: u32) -> KResult<NtHandle> {
        let kernel = self.kernel_inner();
        let object = kernel.namespace.lookup(name).ok_or(KernelError::NameNotFound)?;
        let found = object.kind.type_name();
        let checked = if found != NtObjectKind::SYNC_OBJECT {
            Err(KernelError::WrongNtObjectType {
                expected: NtObjectKind::SYNC_OBJECT,
                found,
                status: kernel.policies.wrong_nt_object_type,
            })
        } else {
            let granted = object.kind.map_generic(access);
            if granted == 0 { Err(KernelError::AccessDenied("no access asked for")) } else { Ok(granted) }
        };
        let granted = match checked {
            Ok(granted) => granted,
            Err(e) => {
                // No lock is held: this may be the object's last reference.
                drop(object);
                return Err(e);
            }
        };
        let mut graveyard = Graveyard::default();
        let result = match self.lock_live() {
            Ok(mut state) => state.insert_nt(NtEntry { object, access: granted }, &mut graveyard),
            Err(e) => {
                drop(object);
                Err(e)
            }
        };
        drop(graveyard);
        result
    }
}
