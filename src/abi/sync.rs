//! Sync-object exports.

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MONITORED_FENCE, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0,
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT, D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU, D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU,
};

use super::{export, ptr, required, required_ref};
use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};
use crate::sync_object::SyncFlags;

/// `D3DDDI_MAX_OBJECT_SIGNALED` and `D3DDDI_MAX_OBJECT_WAITED_ON`.
const MAX_OBJECTS: u32 = 32;

/// Reads `count` handles and fence values; count 0, too many, or a NULL
/// array is `STATUS_INVALID_PARAMETER`.
fn fence_pairs(count: u32, handles: *const u32, values: *const u64) -> KResult<Vec<(LocalHandle, u64)>> {
    if count == 0 || count > MAX_OBJECTS {
        return Err(KernelError::InvalidParameter("ObjectCount must be 1 to 32"));
    }
    let handles =
        ptr::read_array(handles, count as usize).ok_or(KernelError::InvalidParameter("NULL ObjectHandleArray"))?;
    let values =
        ptr::read_array(values, count as usize).ok_or(KernelError::InvalidParameter("NULL FenceValueArray"))?;
    Ok(handles.into_iter().map(LocalHandle).zip(values).collect())
}

export! {
    /// `D3DKMTCreateSynchronizationObject2`: monitored fences; see
    /// [`crate::Process::create_monitored_fence`]. A zeroed struct, a missing
    /// device or an unknown type is `STATUS_INVALID_PARAMETER` (WINE #45); the
    /// other known types are not emulated yet (`STATUS_NOT_IMPLEMENTED`).
    D3DKMTCreateSynchronizationObject2(args: *mut D3DKMT_CREATESYNCHRONIZATIONOBJECT2)
        as PFND3DKMT_CREATESYNCHRONIZATIONOBJECT2, |process| {
        let args = required(args)?;
        let device = LocalHandle(args.hDevice);
        let flags = SyncFlags::from_bits(ptr::read_prefix(&args.Info.Flags));
        match args.Info.Type {
            D3DDDI_MONITORED_FENCE => {}
            1..=6 => {
                process.check_device(device)?;
                return Err(KernelError::NotImplemented("sync-object types other than monitored fences"));
            }
            _ => return Err(KernelError::InvalidParameter("unknown sync-object type")),
        }
        let initial: u64 = ptr::read_prefix(&args.Info.Anonymous);
        let fence = process.create_monitored_fence(device, flags, initial)?;
        args.hSyncObject = fence.handle.0;
        args.Info.Anonymous.MonitoredFence.FenceValueCPUVirtualAddress = fence.cpu_va.cast_mut().cast();
        args.Info.Anonymous.MonitoredFence.FenceValueGPUVirtualAddress = fence.gpu_va;
        args.Info.SharedHandle = 0;
        Ok(())
    }
}

export! {
    /// `D3DKMTDestroySynchronizationObject`: see
    /// [`crate::Process::destroy_sync_object`].
    D3DKMTDestroySynchronizationObject(args: *const D3DKMT_DESTROYSYNCHRONIZATIONOBJECT)
        as PFND3DKMT_DESTROYSYNCHRONIZATIONOBJECT, |process| {
        let args = required_ref(args)?;
        process.destroy_sync_object(LocalHandle(args.hSyncObject))
    }
}

export! {
    /// `D3DKMTSignalSynchronizationObjectFromCpu`: see
    /// [`crate::Process::signal_from_cpu`].
    D3DKMTSignalSynchronizationObjectFromCpu(args: *const D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU)
        as PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU, |process| {
        let args = required_ref(args)?;
        let pairs = fence_pairs(args.ObjectCount, args.ObjectHandleArray, args.FenceValueArray)?;
        process.signal_from_cpu(LocalHandle(args.hDevice), &pairs)
    }
}

export! {
    /// `D3DKMTWaitForSynchronizationObjectFromCpu`: blocking waits; see
    /// [`crate::Process::wait_from_cpu`]. A non-NULL `hAsyncEvent` is not
    /// emulated (`STATUS_NOT_IMPLEMENTED`).
    D3DKMTWaitForSynchronizationObjectFromCpu(args: *const D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU)
        as PFND3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU, |process| {
        let args = required_ref(args)?;
        let pairs = fence_pairs(args.ObjectCount, args.ObjectHandleArray, args.FenceValueArray)?;
        if !args.hAsyncEvent.is_null() {
            return Err(KernelError::NotImplemented("waits that signal an event (hAsyncEvent)"));
        }
        let wait_any = ptr::read_prefix::<_, u32>(&args.Flags) & 1 != 0;
        process.wait_from_cpu(LocalHandle(args.hDevice), &pairs, wait_any)
    }
}

export! {
    /// `D3DKMTOpenSyncObjectFromNtHandle2`: see
    /// [`crate::Process::open_sync_object_from_nt_handle`]. `Flags` comes back
    /// with `Shared` and `NtSecuritySharing` clear (WINE #97).
    D3DKMTOpenSyncObjectFromNtHandle2(args: *mut D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2)
        as PFND3DKMT_OPENSYNCOBJECTFROMNTHANDLE2, |process| {
        let args = required(args)?;
        let bits: u32 = ptr::read_prefix(&args.Flags);
        let fence = process.open_sync_object_from_nt_handle(
            NtHandle::from_ptr(args.hNtHandle),
            LocalHandle(args.hDevice),
            SyncFlags::from_bits(bits),
        )?;
        args.hSyncObject = fence.handle.0;
        args.Flags = D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS {
            Anonymous: D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0 { Value: bits & !0x3 },
        };
        args.Anonymous.MonitoredFence.FenceValueCPUVirtualAddress = fence.cpu_va.cast_mut().cast();
        args.Anonymous.MonitoredFence.FenceValueGPUVirtualAddress = fence.gpu_va;
        Ok(())
    }
}
