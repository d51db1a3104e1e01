//! Sync files: `D3DKMTCreateSyncFile`.
//!
//! On WSL, `D3DKMTCreateSyncFile` returns a Linux file descriptor (a
//! `sync_file`) that becomes readable (`POLLIN`) once a monitored fence
//! reaches a value; the caller owns it and closes it. Here it is an
//! `eventfd` (close-on-exec, non-blocking): `poll` reports it readable, and a
//! `read` of 8 bytes succeeds, once the fence has reached the value; before
//! that `read` fails with `EAGAIN`. We keep a duplicate of it until then, in
//! the device's list of pending sync files, and the fake GPU
//! ([`crate::gpu::Gpu::kick`]) writes to it when the fence moves.
//!
//! Ownership: a pending sync file holds a reference to its fence. Destroying
//! the device (or its process's exit) drops the pending sync files of the
//! device with it: their descriptors then never become readable (the fence
//! they wait for can no longer be signalled through that device). The
//! caller's descriptor is the caller's to close, fired or not.

use std::os::fd::{AsFd, IntoRawFd, OwnedFd};
use std::sync::Arc;

use crate::error::{KResult, KernelError};
use crate::gpu::SyncFileWatch;
use crate::handle::LocalHandle;
use crate::process::Process;
use crate::sync_object::SyncKind;

/// Makes a sync file's descriptor readable (adds 1 to the eventfd's counter).
pub(crate) fn fire(fd: &OwnedFd) {
    // An eventfd write of 1 fails only if the counter would overflow, which
    // one write per sync file never does.
    let _ = rustix::io::write(fd.as_fd(), &1u64.to_ne_bytes());
}

/// True if a sync file's descriptor is readable now (its fence got there);
/// reads (consumes) the eventfd's count if so. For tests and conformance.
pub(crate) fn readable(fd: &OwnedFd) -> bool {
    let mut buf = [0u8; 8];
    matches!(rustix::io::read(fd.as_fd(), &mut buf), Ok(8))
}

impl Process {
    /// `D3DKMTCreateSyncFile`: a new file descriptor that becomes readable
    /// once the monitored fence `fence` (a handle of this process) reaches
    /// `value`; already readable if it has. Returns the descriptor, which the
    /// caller owns.
    ///
    /// Statuses: `device` not a device of this process, or `fence` not a
    /// monitored fence of this process: `STATUS_INVALID_PARAMETER`; a lost
    /// device: `STATUS_DEVICE_REMOVED`; a fence handle opened without wait
    /// access (`NoWait`): `STATUS_ACCESS_DENIED`; no descriptor to be had
    /// (the process is out of file descriptors): `STATUS_NO_MEMORY`.
    pub fn create_sync_file(&self, device: LocalHandle, fence: LocalHandle, value: u64) -> KResult<i32> {
        let (device, fence) = {
            let state = self.lock_live()?;
            let device = Arc::clone(state.device_for_create(device.0)?);
            let entry = state.sync_entry(fence.0)?;
            if entry.object.kind != SyncKind::MonitoredFence {
                return Err(KernelError::InvalidParameter("hMonitoredFence is not a monitored fence"));
            }
            if !entry.can_wait {
                return Err(KernelError::AccessDenied("the fence handle may not wait"));
            }
            (device, Arc::clone(&entry.object))
        };
        let flags = rustix::event::EventfdFlags::CLOEXEC | rustix::event::EventfdFlags::NONBLOCK;
        let ours = rustix::event::eventfd(0, flags).map_err(|_| KernelError::TableFull)?;
        let theirs = rustix::io::dup(ours.as_fd()).map_err(|_| KernelError::TableFull)?;
        if fence.value() >= value {
            fire(&ours);
        } else {
            device.sync_files.lock().push(SyncFileWatch { fence, value, fd: ours });
            let gpu = &self.kernel_inner().gpu;
            gpu.watch(&device);
            // The fence may have moved between the check and the push.
            gpu.fire_sync_files();
        }
        drop(device);
        Ok(theirs.into_raw_fd())
    }
}
