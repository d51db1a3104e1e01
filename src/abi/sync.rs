//! Sync-object exports.

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_CPU_NOTIFICATION, D3DDDI_FENCE, D3DDDI_MONITORED_FENCE, D3DDDI_PERIODIC_MONITORED_FENCE, D3DDDI_SEMAPHORE,
    D3DDDI_SYNCHRONIZATION_MUTEX, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0,
    D3DKMT_CREATESYNCHRONIZATIONOBJECT, D3DKMT_CREATESYNCHRONIZATIONOBJECT2, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT,
    D3DKMT_OPENSYNCHRONIZATIONOBJECT, D3DKMT_OPENSYNCOBJECTFROMNTHANDLE, D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2,
    D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME, D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU,
};

use super::{export, ptr, required, required_ref};
use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};
use crate::sync_object::{SyncFlags, SyncKind};

/// Decodes a type and its union (`D3DDDI_SYNCHRONIZATIONOBJECTINFO(2)`'s
/// anonymous union, at `union`) into a [`SyncKind`]. `v1` accepts only
/// mutexes and semaphores (WINE #43). An unknown type, or a known one the
/// call does not take, is `STATUS_INVALID_PARAMETER` (WINE #42, #45);
/// `PERIODIC_MONITORED_FENCE` is `None` (not emulated).
fn sync_kind<U>(ty: i32, union: &U, v1: bool) -> KResult<Option<SyncKind>> {
    let kind = match ty {
        D3DDDI_SYNCHRONIZATION_MUTEX => SyncKind::Mutex { initial_state: ptr::read_at::<_, i32>(union, 0) != 0 },
        D3DDDI_SEMAPHORE => {
            SyncKind::Semaphore { max_count: ptr::read_at(union, 0), initial_count: ptr::read_at(union, 4) }
        }
        D3DDDI_FENCE | D3DDDI_CPU_NOTIFICATION | D3DDDI_MONITORED_FENCE | D3DDDI_PERIODIC_MONITORED_FENCE if v1 => {
            return Err(KernelError::InvalidParameter("v1 creates mutexes and semaphores only"));
        }
        D3DDDI_FENCE => SyncKind::Fence { initial_value: ptr::read_at(union, 0) },
        D3DDDI_CPU_NOTIFICATION => SyncKind::CpuNotification { event: ptr::read_at::<_, usize>(union, 0) as u64 },
        D3DDDI_MONITORED_FENCE => SyncKind::MonitoredFence,
        D3DDDI_PERIODIC_MONITORED_FENCE => return Ok(None),
        _ => return Err(KernelError::InvalidParameter("unknown sync-object type")),
    };
    Ok(Some(kind))
}

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
    /// `D3DKMTCreateSynchronizationObject2`: a sync object of any type but
    /// `PERIODIC_MONITORED_FENCE` (`STATUS_NOT_IMPLEMENTED` once the device is
    /// found good); see [`crate::Process::create_sync_object`]. A zeroed
    /// struct, a missing device or an unknown type is
    /// `STATUS_INVALID_PARAMETER` (WINE #45). On success `Info.SharedHandle`
    /// is the global handle or 0 (WINE #48, #53), and a monitored fence's
    /// addresses are written.
    D3DKMTCreateSynchronizationObject2(args: *mut D3DKMT_CREATESYNCHRONIZATIONOBJECT2)
        as PFND3DKMT_CREATESYNCHRONIZATIONOBJECT2, |process| {
        let args = required(args)?;
        let device = LocalHandle(args.hDevice);
        let flags = SyncFlags::from_bits(ptr::read_prefix(&args.Info.Flags));
        let Some(kind) = sync_kind(args.Info.Type, &args.Info.Anonymous, false)? else {
            process.check_device(device)?;
            return Err(KernelError::NotImplemented("periodic monitored fences"));
        };
        let created = if kind == SyncKind::MonitoredFence {
            let initial: u64 = ptr::read_prefix(&args.Info.Anonymous);
            let fence = process.create_monitored_fence(device, flags, initial)?;
            crate::CreatedSync { handle: fence.handle, global: None, cpu_va: fence.cpu_va, gpu_va: fence.gpu_va }
        } else {
            process.create_sync_object(device, kind, flags)?
        };
        args.hSyncObject = created.handle.0;
        if kind == SyncKind::MonitoredFence {
            args.Info.Anonymous.MonitoredFence.FenceValueCPUVirtualAddress = created.cpu_va.cast_mut().cast();
            args.Info.Anonymous.MonitoredFence.FenceValueGPUVirtualAddress = created.gpu_va;
        }
        args.Info.SharedHandle = created.global.unwrap_or(0);
        Ok(())
    }
}

export! {
    /// `D3DKMTCreateSynchronizationObject` (v1): a mutex or a semaphore, not
    /// shared (v1 has no flags). Any other type, NULL, a zeroed struct or a
    /// missing device is `STATUS_INVALID_PARAMETER` (WINE #42, #43).
    D3DKMTCreateSynchronizationObject(args: *mut D3DKMT_CREATESYNCHRONIZATIONOBJECT)
        as PFND3DKMT_CREATESYNCHRONIZATIONOBJECT, |process| {
        let args = required(args)?;
        // v1 refuses every type `sync_kind` has no kind for.
        let kind = sync_kind(args.Info.Type, &args.Info.Anonymous, true)?
            .ok_or(KernelError::InvalidParameter("v1 creates mutexes and semaphores only"))?;
        let created = process.create_sync_object(LocalHandle(args.hDevice), kind, SyncFlags::default())?;
        args.hSyncObject = created.handle.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenSynchronizationObject`: a new local handle to the sync
    /// object a global handle names; see
    /// [`crate::Process::open_sync_object_from_global`]. NULL, 0 or a value
    /// that names no live sync object is `STATUS_INVALID_PARAMETER`
    /// (WINE #50, #51).
    D3DKMTOpenSynchronizationObject(args: *mut D3DKMT_OPENSYNCHRONIZATIONOBJECT)
        as PFND3DKMT_OPENSYNCHRONIZATIONOBJECT, |process| {
        let args = required(args)?;
        args.hSyncObject = process.open_sync_object_from_global(args.hSharedHandle)?.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenSyncObjectFromNtHandle` (v1): see
    /// [`crate::Process::open_sync_object_from_nt_handle_v1`]. A zeroed
    /// struct (NULL `hNtHandle`) is `STATUS_INVALID_HANDLE` (WINE #95).
    D3DKMTOpenSyncObjectFromNtHandle(args: *mut D3DKMT_OPENSYNCOBJECTFROMNTHANDLE)
        as PFND3DKMT_OPENSYNCOBJECTFROMNTHANDLE, |process| {
        let args = required(args)?;
        args.hSyncObject = process.open_sync_object_from_nt_handle_v1(NtHandle::from_ptr(args.hNtHandle))?.handle.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenSyncObjectNtHandleFromName`: see
    /// [`crate::Process::open_sync_nt_handle_from_name`]. NULL `pObjAttrib`
    /// (a zeroed struct) is `STATUS_INVALID_PARAMETER` (WINE #98), as are
    /// attributes with a bad `Length` or no name; a `RootDirectory` is
    /// `STATUS_INVALID_HANDLE` (there are no directory objects).
    D3DKMTOpenSyncObjectNtHandleFromName(args: *mut D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME)
        as PFND3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME, |process| {
        let args = required(args)?;
        if args.pObjAttrib.is_null() {
            return Err(KernelError::InvalidParameter("NULL pObjAttrib"));
        }
        let name = super::share::object_name(args.pObjAttrib)?
            .ok_or(KernelError::InvalidParameter("the object attributes name nothing"))?;
        let nt = process.open_sync_nt_handle_from_name(&name, args.dwDesiredAccess)?;
        args.hNtHandle = nt.as_ptr();
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
        // NULL and 0 for a sync object that is not a monitored fence.
        args.Anonymous.MonitoredFence.FenceValueCPUVirtualAddress = fence.cpu_va.cast_mut().cast();
        args.Anonymous.MonitoredFence.FenceValueGPUVirtualAddress = fence.gpu_va;
        Ok(())
    }
}
