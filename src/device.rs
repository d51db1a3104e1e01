//! Devices: `D3DKMTCreateDevice`, `D3DKMTDestroyDevice`.
//!
//! A device belongs to the process that created it and is never shared, so it
//! has exactly one handle. It is the parent of the sync objects, protected
//! sessions, contexts, hardware queues and paging queues created on it:
//! destroying it destroys their handles in this process (sessions per
//! [`crate::policy::DeviceDestroySessions`]), in this order: first its GPU
//! VA reservations and the mappings of its allocations (`crate::gpu_va`),
//! then hardware queues, contexts, paging queues, sync objects, sessions,
//! resources and allocations; then the device itself, with its pending
//! sync files. At process exit every GPU VA space goes with the process
//! state, before the handles are dropped. Objects that other processes
//! or NT handles still hold live on without it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::adapter::Adapter;
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::kernel::KernelInner;
use crate::live::{LiveToken, ObjectKind};
use crate::policy::DeviceDestroySessions;
use crate::process::{LocalEntry, Process, ProcessState};
use crate::sync::Graveyard;

/// Identifies a device kernel-wide (unique across kernels too), for the
/// VidPn owner records, which must not keep the device alive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct DeviceId(pub(crate) u64);

static NEXT_DEVICE_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) struct Device {
    pub(crate) adapter: Arc<Adapter>,
    pub(crate) id: DeviceId,
    /// Active until the KMD removes or resets it; see [`crate::removal`].
    pub(crate) health: crate::removal::HealthCell,
    /// Sync files created on it that have not fired (see `crate::sync_file`).
    pub(crate) sync_files: crate::sync::Mutex<Vec<crate::gpu::SyncFileWatch>>,
    pub(crate) _live: LiveToken,
}

impl Drop for Device {
    /// A destroyed device gives back the VidPn sources it owns (WINE #37),
    /// whichever way it went: `DestroyDevice`, its adapter's last handle
    /// closed, or its process's exit. It runs when the handle-table entry is
    /// dropped, after the process lock is released (the graveyard).
    fn drop(&mut self) {
        self.adapter.vidpn.release(self.id);
    }
}

/// A device's handle-table entry: the device, and its children's handles.
pub(crate) struct DeviceEntry {
    pub(crate) device: Arc<Device>,
    /// Handles of the live children; each child records its place here, so
    /// it is unlinked in O(1) when destroyed on its own.
    pub(crate) children: Vec<u32>,
}

impl ProcessState {
    /// Links a new child handle to its device; returns its place in the list.
    pub(crate) fn add_child(&mut self, device: u32, child: u32) -> u32 {
        let Some(LocalEntry::Device(d)) = self.local.get_mut(device as u64) else {
            unreachable!("a child is only created on a device checked under the same lock")
        };
        d.children.push(child);
        (d.children.len() - 1) as u32
    }

    /// Looks up a device handle of this process.
    pub(crate) fn device(&self, handle: u32) -> KResult<&Arc<Device>> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::Device(d)) => Ok(&d.device),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "device" }),
        }
    }

    /// Removes a device and its children's handles; the entries go to the
    /// graveyard, to be dropped after the lock.
    pub(crate) fn destroy_device_locked(
        &mut self,
        handle: u64,
        kernel: &KernelInner,
        graveyard: &mut Graveyard<LocalEntry>,
    ) {
        let Some(LocalEntry::Device(entry)) = self.local.remove(handle) else { return };
        // First its GPU VA reservations and the mappings of its allocations
        // (`crate::gpu_va`), then its children's handles.
        self.memory.forget_device(handle as u32);
        let keep_sessions = kernel.policies.device_destroy_sessions == DeviceDestroySessions::KeepHandles;
        // The documented teardown order (see `crate::context`): hardware
        // queues, contexts, paging queues, then sync objects and sessions;
        // the device itself last, with its pending sync files.
        let mut children = entry.children.clone();
        children.sort_by_key(|&c| self.local.get(c as u64).map_or(9, LocalEntry::teardown_rank));
        for &child in &children {
            if keep_sessions {
                if let Some(LocalEntry::ProtectedSession(s)) = self.local.get_mut(child as u64) {
                    s.device = None;
                    continue;
                }
            }
            // The device is gone from the table, so this does not unlink.
            let removed = self.local.remove(child as u64).expect("children are live");
            graveyard.bury(removed);
        }
        graveyard.bury(LocalEntry::Device(entry));
    }
}

impl Process {
    /// `D3DKMTCreateDevice` on an adapter handle of this process. An adapter
    /// the KMD stopped is `STATUS_DEVICE_REMOVED` (see `Kernel::remove_device`).
    pub fn create_device(&self, adapter: LocalHandle) -> KResult<LocalHandle> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let adapter = match state.local.get(adapter.0 as u64) {
            Some(LocalEntry::Adapter(a)) => Arc::clone(a),
            _ => return Err(KernelError::BadLocalHandle { handle: adapter.0, expected: "adapter" }),
        };
        adapter.check_running()?;
        let id = DeviceId(NEXT_DEVICE_ID.fetch_add(1, Ordering::Relaxed));
        let device = Arc::new(Device {
            adapter,
            id,
            health: Default::default(),
            sync_files: crate::sync::Mutex::with_level(crate::sync::Level::Object, "device sync files", Vec::new()),
            _live: LiveToken::new(&self.0.live, ObjectKind::Device),
        });
        let entry = DeviceEntry { device, children: Vec::new() };
        state.insert_local(LocalEntry::Device(entry), &mut graveyard)
    }

    /// `D3DKMTDestroyDevice`: destroys the device and the handles of its
    /// children in this process.
    pub fn destroy_device(&self, device: LocalHandle) -> KResult<()> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.device(device.0)?;
        state.destroy_device_locked(device.0 as u64, self.kernel_inner(), &mut graveyard);
        drop(state);
        Ok(())
    }
}

impl Process {
    /// Fails unless `device` is a device handle of this process.
    pub(crate) fn check_device(&self, device: LocalHandle) -> KResult<()> {
        self.lock_live()?.device(device.0).map(|_| ())
    }
}
