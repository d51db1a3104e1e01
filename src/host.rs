//! Sharing sync objects with the host: `D3DKMTShareObjectWithHost`.
//!
//! What WSL does: a Linux process in a WSL 2 VM calls it (through libdxg, it
//! is a libdxg-only export) with a device and a sync object created with
//! `NtSecuritySharing`; dxgkrnl in the VM asks the Windows host to open the
//! object in the host's VAIL process, and the call returns the host NT
//! handle's value in `hVailProcessNtHandle`. The guest cannot use that value
//! itself: it hands it to host-side code (a compositor, a media pipeline)
//! that opens the object from the handle.
//!
//! What we do: there is no host, so the kernel keeps a **host table**: each
//! successful call adds one entry, keyed by the 64-bit value it returns, and
//! [`crate::Kernel::host_shared_objects`] lists the live ones (what a host
//! would now hold). Values are never reused within a kernel, and come from a
//! range (from [`HOST_HANDLE_BASE`], multiples of 4) that no guest NT handle
//! uses, so a value passed back to a guest call (`OpenSyncObjectFromNtHandle2`)
//! is a bad NT handle there, as a host handle would be in the VM. Each call
//! makes a new entry, as each would open a new host handle; sharing the same
//! object twice gives two values.
//!
//! How long an entry lives is not documented (the host closes its handle
//! when it likes): the named policy [`crate::HostShareLifetime`] decides.
//! By default an entry holds no reference: it lives while the sharing
//! process still has the device and sync-object handles it named (so
//! destroying either, destroying the device, or the process's exit ends
//! it), and the kernel's own going ends them all. With
//! [`crate::HostShareLifetime::UntilKernelDrops`] the host table holds a
//! reference to the object, which then outlives every guest handle until
//! the kernel goes.
//!
//! Statuses: NULL argument, an `hDevice` that is not a device of the
//! caller, an `hObject` that is not a sync object of the caller, an object
//! created without `NtSecuritySharing`, or one on another adapter than the
//! device: `STATUS_INVALID_PARAMETER`. A lost device (or stopped adapter):
//! `STATUS_DEVICE_REMOVED`, as for creates (see [`crate::removal`]).
//! `Reserved` is not read. Only `hVailProcessNtHandle` is written, on
//! success.

use std::sync::{Arc, Weak};

use crate::device::Device;
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::kernel::Kernel;
use crate::policy::HostShareLifetime;
use crate::process::{Process, ProcessId, ProcessInner};
use crate::sync::{Level, Mutex};
use crate::sync_object::{SyncKind, SyncObject};

/// The first value `D3DKMTShareObjectWithHost` returns in a kernel; later
/// ones follow in steps of 4. No guest NT handle has a value this high.
pub const HOST_HANDLE_BASE: u64 = 0x4000_0000_0000_0004;

/// One object a host holds, as [`crate::Kernel::host_shared_objects`] lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostSharedObject {
    /// The value the call returned in `hVailProcessNtHandle`.
    pub value: u64,
    /// The process that shared it.
    pub process: ProcessId,
    /// The `hDevice` it named.
    pub device: LocalHandle,
    /// The `hObject` it named.
    pub object: LocalHandle,
    /// The sync object's type.
    pub kind: SyncKind,
}

/// One host-table entry.
struct HostEntry {
    shared: HostSharedObject,
    process: Weak<ProcessInner>,
    device: Weak<Device>,
    object: Weak<SyncObject>,
    /// The host's own reference, under [`HostShareLifetime::UntilKernelDrops`].
    held: Option<Arc<SyncObject>>,
}

impl HostEntry {
    /// Whether the entry still stands. Takes the sharing process's lock:
    /// call it with no kernel-level lock held.
    fn alive(&self) -> bool {
        if self.held.is_some() {
            return true;
        }
        let (Some(process), Some(device), Some(object)) =
            (self.process.upgrade(), self.device.upgrade(), self.object.upgrade())
        else {
            return false;
        };
        let process = Process(process);
        let Ok(state) = process.lock_live() else { return false };
        let same_device = state.device(self.shared.device.0).is_ok_and(|d| Arc::ptr_eq(d, &device));
        let same_object = state.sync_entry(self.shared.object.0).is_ok_and(|s| Arc::ptr_eq(&s.object, &object));
        same_device && same_object
    }
}

/// The kernel's host table (see the module docs).
pub(crate) struct HostTable {
    entries: Mutex<Vec<Arc<HostEntry>>>,
    next: std::sync::atomic::AtomicU64,
}

impl Default for HostTable {
    fn default() -> Self {
        HostTable {
            entries: Mutex::with_level(Level::Kernel, "host share table", Vec::new()),
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl HostTable {
    /// Drops the entries that no longer stand; returns the live ones, in
    /// the order they were made.
    fn prune(&self) -> Vec<HostSharedObject> {
        // Liveness takes process locks, which rank below this kernel-level
        // lock: check a snapshot without it, then drop the dead entries.
        let snapshot: Vec<Arc<HostEntry>> = self.entries.lock().clone();
        let dead: Vec<u64> = snapshot.iter().filter(|e| !e.alive()).map(|e| e.shared.value).collect();
        let live = {
            let mut table = self.entries.lock();
            if !dead.is_empty() {
                // Dead entries hold no strong reference to any object, so
                // dropping them here drops no kernel object under the lock.
                table.retain(|e| !dead.contains(&e.shared.value));
            }
            table.iter().map(|e| e.shared).collect()
        };
        drop(snapshot);
        live
    }

    fn insert(&self, entry: HostEntry) {
        let dead_too = self.entries.lock().len() >= PRUNE_AT;
        if dead_too {
            self.prune();
        }
        self.entries.lock().push(Arc::new(entry));
    }
}

/// Past this many entries, a new share first drops the dead ones, so a
/// process that shares and destroys in a loop does not grow the table.
const PRUNE_AT: usize = 1024;

impl Process {
    /// `D3DKMTShareObjectWithHost`: gives the (emulated) host a handle to the
    /// sync object `object` of this process, which must have been created
    /// with `NtSecuritySharing` on the adapter of `device`; returns the host
    /// handle's value (`hVailProcessNtHandle`). See the module docs of
    /// `crate::host` for the statuses and how long the host holds it.
    pub fn share_object_with_host(&self, device: LocalHandle, object: LocalHandle) -> KResult<u64> {
        let kernel = self.kernel_inner();
        let (device_arc, sync) = {
            let state = self.lock_live()?;
            let d = state.device_for_create(device.0)?;
            let entry = state.sync_entry(object.0)?;
            if !entry.object.nt_shareable {
                return Err(KernelError::InvalidParameter("the sync object was not created with NtSecuritySharing"));
            }
            if entry.object.adapter != d.adapter.index {
                return Err(KernelError::InvalidParameter("the sync object is on another adapter than the device"));
            }
            (Arc::clone(d), Arc::clone(&entry.object))
        };
        let n = kernel.host.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let value = HOST_HANDLE_BASE + 4 * n;
        let held = match kernel.policies.host_share {
            HostShareLifetime::GuestHandles => None,
            HostShareLifetime::UntilKernelDrops => Some(Arc::clone(&sync)),
        };
        let entry = HostEntry {
            shared: HostSharedObject { value, process: self.id(), device, object, kind: sync.kind },
            process: Arc::downgrade(&self.0),
            device: Arc::downgrade(&device_arc),
            object: Arc::downgrade(&sync),
            held,
        };
        drop(device_arc);
        drop(sync);
        kernel.host.insert(entry);
        Ok(value)
    }
}

impl Kernel {
    /// The objects the (emulated) host holds from `D3DKMTShareObjectWithHost`,
    /// oldest first: the entries that still stand under the kernel's
    /// [`HostShareLifetime`] policy (see `crate::host`).
    pub fn host_shared_objects(&self) -> Vec<HostSharedObject> {
        self.0.host.prune()
    }
}
