//! GPU-work exports: contexts, hardware and paging queues, submission,
//! GPU-queued signals and waits, escapes, statistics, clock calibration,
//! device errors, heap flushes and sync files. The semantics are in
//! `crate::context`, `crate::hw_queue`, `crate::gpu` and `crate::sync_file`.
//!
//! Each export decodes everything first (NULL, sizes, counts, the arrays),
//! calls the core, and writes its outputs last, so a failed call leaves the
//! caller's struct untouched.

use core::ffi::c_void;

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_DESTROYPAGINGQUEUE, D3DKMT_CREATECONTEXT, D3DKMT_CREATECONTEXTVIRTUAL, D3DKMT_CREATEHWCONTEXT,
    D3DKMT_CREATEHWQUEUE, D3DKMT_CREATEPAGINGQUEUE, D3DKMT_CREATESYNCFILE, D3DKMT_DESTROYCONTEXT,
    D3DKMT_DESTROYHWCONTEXT, D3DKMT_DESTROYHWQUEUE, D3DKMT_ESCAPE, D3DKMT_ESCAPE_DRIVERPRIVATE,
    D3DKMT_FLUSHHEAPTRANSITIONS, D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY, D3DKMT_GETCONTEXTSCHEDULINGPRIORITY,
    D3DKMT_MARKDEVICEASERROR, D3DKMT_QUERYCLOCKCALIBRATION, D3DKMT_QUERYSTATISTICS, D3DKMT_QUERYSTATISTICS_ADAPTER,
    D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION, D3DKMT_QUERYSTATISTICS_NODE, D3DKMT_QUERYSTATISTICS_NODE_INFORMATION,
    D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER, D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER_INFORMATION,
    D3DKMT_QUERYSTATISTICS_PROCESS_NODE, D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION,
    D3DKMT_QUERYSTATISTICS_RESULT, D3DKMT_RENDER, D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY,
    D3DKMT_SETCONTEXTSCHEDULINGPRIORITY, D3DKMT_SIGNALSYNCHRONIZATIONOBJECT, D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU, D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2, D3DKMT_SUBMITCOMMAND,
    D3DKMT_SUBMITCOMMANDTOHWQUEUE, D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE, D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECT, D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU,
};

use super::{dispatch_with, export, ptr, required, required_ref};
use crate::context::{ContextKind, ContextParams, MAX_PRIVATE_DATA, SubmitArgs};
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::policy::HwContexts;
use crate::support::Entry;

/// `D3DDDI_MAX_OBJECT_SIGNALED` and `D3DDDI_MAX_OBJECT_WAITED_ON`.
const MAX_OBJECTS: u32 = 32;
/// `D3DDDI_MAX_BROADCAST_CONTEXT`.
const MAX_BROADCAST: u32 = 64;

/// Reads a private-data buffer: more than [`MAX_PRIVATE_DATA`] bytes, or
/// NULL with a nonzero size, is `STATUS_INVALID_PARAMETER`.
fn private_data(p: *const c_void, size: u32) -> KResult<Vec<u8>> {
    if size > MAX_PRIVATE_DATA {
        return Err(KernelError::InvalidParameter("PrivateDriverDataSize too large"));
    }
    ptr::read_bytes(p, size).ok_or(KernelError::InvalidParameter("NULL pPrivateDriverData with a nonzero size"))
}

/// Checks an object count (1 to 32).
fn object_count(count: u32) -> KResult<usize> {
    if count == 0 || count > MAX_OBJECTS {
        return Err(KernelError::InvalidParameter("ObjectCount must be 1 to 32"));
    }
    Ok(count as usize)
}

/// Reads `count` handles and as many values (a NULL array is
/// `STATUS_INVALID_PARAMETER`).
fn handles_and_values(count: u32, handles: *const u32, values: *const u64) -> KResult<Vec<(u32, u64)>> {
    let n = object_count(count)?;
    let handles = ptr::read_array(handles, n).ok_or(KernelError::InvalidParameter("NULL ObjectHandleArray"))?;
    let values = ptr::read_array(values, n).ok_or(KernelError::InvalidParameter("NULL fence value array"))?;
    Ok(handles.into_iter().zip(values).collect())
}

/// Reads a broadcast list of 1 to 64 handles.
fn broadcast(count: u32, array: &[u32]) -> KResult<Vec<u32>> {
    if count == 0 || count > MAX_BROADCAST || count as usize > array.len() {
        return Err(KernelError::InvalidParameter("BroadcastContextCount must be 1 to 64"));
    }
    Ok(array[..count as usize].to_vec())
}

/// The create-context fields shared by the legacy and virtual structs.
fn context_params(
    node: u32,
    affinity: u32,
    flags: u32,
    hint: i32,
    p: *const c_void,
    size: u32,
) -> KResult<ContextParams> {
    Ok(ContextParams {
        node_ordinal: node,
        engine_affinity: affinity,
        flags,
        client_hint: hint,
        driver_data: private_data(p, size)?,
    })
}

export! {
    /// `D3DKMTCreateContext`: a legacy context with a command buffer and
    /// lists in our memory; see [`crate::Process::create_context`]. The
    /// private driver data comes back as the KMD left it.
    D3DKMTCreateContext(args: *mut D3DKMT_CREATECONTEXT) as PFND3DKMT_CREATECONTEXT, |process| {
        let args = required(args)?;
        let flags: u32 = ptr::read_prefix(&args.Flags);
        let params = context_params(args.NodeOrdinal, args.EngineAffinity, flags, args.ClientHint,
            args.pPrivateDriverData, args.PrivateDriverDataSize)?;
        let created = process.create_context(LocalHandle(args.hDevice), ContextKind::Legacy, &params)?;
        let legacy = created.legacy.expect("a legacy context has buffers");
        ptr::write_bytes(args.pPrivateDriverData, &created.driver_data);
        args.hContext = created.handle.0;
        args.pCommandBuffer = legacy.command_buffer as *mut c_void;
        args.CommandBufferSize = crate::context::COMMAND_BUFFER_BYTES;
        args.pAllocationList = legacy.allocation_list as *mut _;
        args.AllocationListSize = crate::context::LIST_ENTRIES;
        args.pPatchLocationList = legacy.patch_location_list as *mut _;
        args.PatchLocationListSize = crate::context::LIST_ENTRIES;
        args.CommandBuffer = legacy.gpu_va;
        Ok(())
    }
}

export! {
    /// `D3DKMTCreateContextVirtual`: see [`crate::Process::create_context`].
    D3DKMTCreateContextVirtual(args: *mut D3DKMT_CREATECONTEXTVIRTUAL) as PFND3DKMT_CREATECONTEXTVIRTUAL, |process| {
        let args = required(args)?;
        let flags: u32 = ptr::read_prefix(&args.Flags);
        let params = context_params(args.NodeOrdinal, args.EngineAffinity, flags, args.ClientHint,
            args.pPrivateDriverData, args.PrivateDriverDataSize)?;
        let created = process.create_context(LocalHandle(args.hDevice), ContextKind::Virtual, &params)?;
        args.hContext = created.handle.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTDestroyContext`: see [`crate::Process::destroy_context`].
    D3DKMTDestroyContext(args: *const D3DKMT_DESTROYCONTEXT) as PFND3DKMT_DESTROYCONTEXT, |process| {
        let args = required_ref(args)?;
        process.destroy_context(LocalHandle(args.hContext))
    }
}

/// `D3DKMTCreateHwContext`: per [`HwContexts`], `STATUS_NOT_IMPLEMENTED`
/// for every argument (Windows 11, the default), or a hardware context.
#[allow(unsafe_code, reason = "an exported C symbol")]
#[unsafe(no_mangle)]
pub extern "system" fn D3DKMTCreateHwContext(
    args: *mut D3DKMT_CREATEHWCONTEXT,
) -> windows_sys::Win32::Foundation::NTSTATUS {
    dispatch_with(Entry::D3DKMTCreateHwContext, args as *const c_void, |process| {
        if process.kernel_inner().policies.gpu.hw_contexts == HwContexts::NotImplemented {
            return Err(KernelError::NotImplemented(
                "hardware contexts (policy HwContexts::NotImplemented, as Windows 11)",
            ));
        }
        let args = required(args)?;
        let flags: u32 = ptr::read_prefix(&args.Flags);
        let params = context_params(
            args.NodeOrdinal,
            args.EngineAffinity,
            flags,
            0,
            args.pPrivateDriverData,
            args.PrivateDriverDataSize,
        )?;
        let created = process.create_context(LocalHandle(args.hDevice), ContextKind::Hardware, &params)?;
        args.hHwContext = created.handle.0;
        Ok(())
    })
}

/// `D3DKMTDestroyHwContext`: per [`HwContexts`]; destroys a context as
/// `D3DKMTDestroyContext` does.
#[allow(unsafe_code, reason = "an exported C symbol")]
#[unsafe(no_mangle)]
pub extern "system" fn D3DKMTDestroyHwContext(
    args: *const D3DKMT_DESTROYHWCONTEXT,
) -> windows_sys::Win32::Foundation::NTSTATUS {
    dispatch_with(Entry::D3DKMTDestroyHwContext, args as *const c_void, |process| {
        if process.kernel_inner().policies.gpu.hw_contexts == HwContexts::NotImplemented {
            return Err(KernelError::NotImplemented(
                "hardware contexts (policy HwContexts::NotImplemented, as Windows 11)",
            ));
        }
        let args = required_ref(args)?;
        process.destroy_context(LocalHandle(args.hHwContext))
    })
}

export! {
    /// `D3DKMTCreateHwQueue`: see [`crate::Process::create_hw_queue`]; the
    /// progress fence's handle and addresses come back.
    D3DKMTCreateHwQueue(args: *mut D3DKMT_CREATEHWQUEUE) as PFND3DKMT_CREATEHWQUEUE, |process| {
        let args = required(args)?;
        private_data(args.pPrivateDriverData, args.PrivateDriverDataSize)?;
        let created = process.create_hw_queue(LocalHandle(args.hHwContext), args.PrivateDriverDataSize)?;
        args.hHwQueue = created.handle.0;
        args.hHwQueueProgressFence = created.fence.0;
        args.HwQueueProgressFenceCPUVirtualAddress = created.cpu_va.cast_mut().cast();
        args.HwQueueProgressFenceGPUVirtualAddress = created.gpu_va;
        Ok(())
    }
}

export! {
    /// `D3DKMTDestroyHwQueue`: see [`crate::Process::destroy_hw_queue`].
    D3DKMTDestroyHwQueue(args: *const D3DKMT_DESTROYHWQUEUE) as PFND3DKMT_DESTROYHWQUEUE, |process| {
        let args = required_ref(args)?;
        process.destroy_hw_queue(LocalHandle(args.hHwQueue))
    }
}

export! {
    /// `D3DKMTCreatePagingQueue`: see [`crate::Process::create_paging_queue`].
    D3DKMTCreatePagingQueue(args: *mut D3DKMT_CREATEPAGINGQUEUE) as PFND3DKMT_CREATEPAGINGQUEUE, |process| {
        let args = required(args)?;
        let created = process.create_paging_queue(LocalHandle(args.hDevice), args.Priority, args.PhysicalAdapterIndex)?;
        args.hPagingQueue = created.handle.0;
        args.hSyncObject = created.fence.0;
        args.FenceValueCPUVirtualAddress = created.cpu_va.cast_mut().cast();
        Ok(())
    }
}

export! {
    /// `D3DKMTDestroyPagingQueue`: see [`crate::Process::destroy_paging_queue`].
    D3DKMTDestroyPagingQueue(args: *mut D3DDDI_DESTROYPAGINGQUEUE) as PFND3DKMT_DESTROYPAGINGQUEUE, |process| {
        let args = required(args)?;
        process.destroy_paging_queue(LocalHandle(args.hPagingQueue))
    }
}

export! {
    /// `D3DKMTSetContextSchedulingPriority`: see [`crate::Process::set_context_priority`].
    D3DKMTSetContextSchedulingPriority(args: *const D3DKMT_SETCONTEXTSCHEDULINGPRIORITY)
        as PFND3DKMT_SETCONTEXTSCHEDULINGPRIORITY, |process| {
        let args = required_ref(args)?;
        process.set_context_priority(LocalHandle(args.hContext), args.Priority, false)
    }
}

export! {
    /// `D3DKMTGetContextSchedulingPriority`: see [`crate::Process::context_priority`].
    D3DKMTGetContextSchedulingPriority(args: *mut D3DKMT_GETCONTEXTSCHEDULINGPRIORITY)
        as PFND3DKMT_GETCONTEXTSCHEDULINGPRIORITY, |process| {
        let args = required(args)?;
        args.Priority = process.context_priority(LocalHandle(args.hContext), false)?;
        Ok(())
    }
}

export! {
    /// `D3DKMTSetContextInProcessSchedulingPriority`: see [`crate::Process::set_context_priority`].
    D3DKMTSetContextInProcessSchedulingPriority(args: *const D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY)
        as PFND3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY, |process| {
        let args = required_ref(args)?;
        process.set_context_priority(LocalHandle(args.hContext), args.Priority, true)
    }
}

export! {
    /// `D3DKMTGetContextInProcessSchedulingPriority`: see [`crate::Process::context_priority`].
    D3DKMTGetContextInProcessSchedulingPriority(args: *mut D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY)
        as PFND3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY, |process| {
        let args = required(args)?;
        args.Priority = process.context_priority(LocalHandle(args.hContext), true)?;
        Ok(())
    }
}

export! {
    /// `D3DKMTSubmitCommand`: submits to `BroadcastContext[0..BroadcastContextCount]`
    /// (1 to 64 contexts of one device). `NumPrimaries`, `WrittenPrimaries`
    /// and the history buffers are not used (no presentation); more than 16
    /// primaries is `STATUS_INVALID_PARAMETER`.
    D3DKMTSubmitCommand(args: *const D3DKMT_SUBMITCOMMAND) as PFND3DKMT_SUBMITCOMMAND, |process| {
        let args = required_ref(args)?;
        let contexts = broadcast(args.BroadcastContextCount, &args.BroadcastContext)?;
        if args.NumPrimaries > 16 {
            return Err(KernelError::InvalidParameter("NumPrimaries over 16"));
        }
        let submit = SubmitArgs {
            command_buffer: args.Commands,
            command_length: args.CommandLength,
            private_data: private_data(args.pPrivateDriverData, args.PrivateDriverDataSize)?,
        };
        process.submit_command(&contexts, &submit)
    }
}

export! {
    /// `D3DKMTRender`: submits part of a legacy context's command buffer
    /// (`hContext`; see `crate::context`) and hands back the same buffers for
    /// the next batch.
    D3DKMTRender(args: *mut D3DKMT_RENDER) as PFND3DKMT_RENDER, |process| {
        let args = required(args)?;
        let context: u32 = ptr::read_prefix(&args.Anonymous);
        let data = private_data(args.pPrivateDriverData, args.PrivateDriverDataSize)?;
        let buffers = process.render(context, args.CommandOffset, args.CommandLength,
            (args.AllocationCount, args.PatchLocationCount), data)?;
        args.pNewCommandBuffer = buffers.command_buffer as *mut c_void;
        args.NewCommandBufferSize = crate::context::COMMAND_BUFFER_BYTES;
        args.pNewAllocationList = buffers.allocation_list as *mut _;
        args.NewAllocationListSize = crate::context::LIST_ENTRIES;
        args.pNewPatchLocationList = buffers.patch_location_list as *mut _;
        args.NewPatchLocationListSize = crate::context::LIST_ENTRIES;
        args.NewCommandBuffer = buffers.gpu_va;
        Ok(())
    }
}

export! {
    /// `D3DKMTSubmitCommandToHwQueue`: see `crate::hw_queue`; the queue's
    /// progress fence reaches `HwQueueProgressFenceId` when the work runs.
    D3DKMTSubmitCommandToHwQueue(args: *const D3DKMT_SUBMITCOMMANDTOHWQUEUE)
        as PFND3DKMT_SUBMITCOMMANDTOHWQUEUE, |process| {
        let args = required_ref(args)?;
        if args.NumPrimaries > 16 {
            return Err(KernelError::InvalidParameter("NumPrimaries over 16"));
        }
        let submit = SubmitArgs {
            command_buffer: args.CommandBuffer,
            command_length: args.CommandLength,
            private_data: private_data(args.pPrivateDriverData, args.PrivateDriverDataSize)?,
        };
        process.submit_to_hw_queue(args.hHwQueue, args.HwQueueProgressFenceId, &submit)
    }
}

export! {
    /// `D3DKMTSubmitSignalSyncObjectsToHwQueue`: 1 to 64 queues, 1 to 32 fences.
    D3DKMTSubmitSignalSyncObjectsToHwQueue(args: *const D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE)
        as PFND3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE, |process| {
        let args = required_ref(args)?;
        let count = args.BroadcastHwQueueCount;
        if count == 0 || count > MAX_BROADCAST {
            return Err(KernelError::InvalidParameter("BroadcastHwQueueCount must be 1 to 64"));
        }
        let queues = ptr::read_array(args.BroadcastHwQueueArray, count as usize)
            .ok_or(KernelError::InvalidParameter("NULL BroadcastHwQueueArray"))?;
        let objects = handles_and_values(args.ObjectCount, args.ObjectHandleArray, args.FenceValueArray)?;
        process.signal_to_hw_queues(&queues, &objects)
    }
}

export! {
    /// `D3DKMTSubmitWaitForSyncObjectsToHwQueue`: 1 to 32 fences.
    D3DKMTSubmitWaitForSyncObjectsToHwQueue(args: *const D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE)
        as PFND3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE, |process| {
        let args = required_ref(args)?;
        let objects = handles_and_values(args.ObjectCount, args.ObjectHandleArray, args.FenceValueArray)?;
        process.wait_on_hw_queue(args.hHwQueue, &objects)
    }
}

/// The handles of a fixed 32-entry array, `count` of them, each with `value`.
fn fixed_objects(count: u32, array: &[u32; 32], value: u64) -> KResult<Vec<(u32, u64)>> {
    let n = object_count(count)?;
    Ok(array[..n].iter().map(|&h| (h, value)).collect())
}

/// `D3DDDICB_SIGNALFLAGS.EnqueueCpuEvent` (bit 2).
const ENQUEUE_CPU_EVENT: u32 = 0x4;

export! {
    /// `D3DKMTSignalSynchronizationObject` (v1, no value): for mutexes and
    /// semaphores, which are not emulated (`STATUS_NOT_IMPLEMENTED` once the
    /// arguments are found good); fences need a value (v2):
    /// `STATUS_INVALID_PARAMETER`.
    D3DKMTSignalSynchronizationObject(args: *const D3DKMT_SIGNALSYNCHRONIZATIONOBJECT)
        as PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECT, |process| {
        let args = required_ref(args)?;
        let objects = fixed_objects(args.ObjectCount, &args.ObjectHandleArray, 0)?;
        process.legacy_sync_v1(args.hContext, &objects)
    }
}

export! {
    /// `D3DKMTWaitForSynchronizationObject` (v1): as the v1 signal.
    D3DKMTWaitForSynchronizationObject(args: *const D3DKMT_WAITFORSYNCHRONIZATIONOBJECT)
        as PFND3DKMT_WAITFORSYNCHRONIZATIONOBJECT, |process| {
        let args = required_ref(args)?;
        let objects = fixed_objects(args.ObjectCount, &args.ObjectHandleArray, 0)?;
        process.legacy_sync_v1(args.hContext, &objects)
    }
}

export! {
    /// `D3DKMTSignalSynchronizationObject2`: queues on `hContext` and the
    /// broadcast contexts a signal of each fence to `Fence.FenceValue`.
    /// `EnqueueCpuEvent` (an event to set) is `STATUS_NOT_IMPLEMENTED`.
    D3DKMTSignalSynchronizationObject2(args: *const D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2)
        as PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECT2, |process| {
        let args = required_ref(args)?;
        let value: u64 = ptr::read_prefix(&args.Anonymous);
        let objects = fixed_objects(args.ObjectCount, &args.ObjectHandleArray, value)?;
        let flags: u32 = ptr::read_prefix(&args.Flags);
        let mut contexts = vec![args.hContext];
        if args.BroadcastContextCount > 0 {
            contexts = broadcast(args.BroadcastContextCount, &args.BroadcastContext)?;
        }
        if flags & ENQUEUE_CPU_EVENT != 0 {
            return Err(KernelError::NotImplemented("EnqueueCpuEvent"));
        }
        process.signal_from_gpu(&contexts, &objects)
    }
}

export! {
    /// `D3DKMTWaitForSynchronizationObject2`: queues on `hContext` a wait for
    /// each fence to reach `Fence.FenceValue`.
    D3DKMTWaitForSynchronizationObject2(args: *const D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2)
        as PFND3DKMT_WAITFORSYNCHRONIZATIONOBJECT2, |process| {
        let args = required_ref(args)?;
        let value: u64 = ptr::read_prefix(&args.Anonymous);
        let objects = fixed_objects(args.ObjectCount, &args.ObjectHandleArray, value)?;
        process.wait_from_gpu(args.hContext, &objects)
    }
}

export! {
    /// `D3DKMTSignalSynchronizationObjectFromGpu`: queues on `hContext` a
    /// signal of each monitored fence to its value in `MonitoredFenceValueArray`.
    D3DKMTSignalSynchronizationObjectFromGpu(args: *const D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU)
        as PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU, |process| {
        let args = required_ref(args)?;
        let values: *const u64 = ptr::read_prefix::<_, usize>(&args.Anonymous) as *const u64;
        let objects = handles_and_values(args.ObjectCount, args.ObjectHandleArray, values)?;
        process.signal_from_gpu(&[args.hContext], &objects)
    }
}

export! {
    /// `D3DKMTSignalSynchronizationObjectFromGpu2`: queues on each broadcast
    /// context a signal of each monitored fence to its value in
    /// `MonitoredFenceValueArray`. `EnqueueCpuEvent` is `STATUS_NOT_IMPLEMENTED`.
    D3DKMTSignalSynchronizationObjectFromGpu2(args: *const D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2)
        as PFND3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2, |process| {
        let args = required_ref(args)?;
        let count = args.BroadcastContextCount;
        if count == 0 || count > MAX_BROADCAST {
            return Err(KernelError::InvalidParameter("BroadcastContextCount must be 1 to 64"));
        }
        let contexts = ptr::read_array(args.BroadcastContextArray, count as usize)
            .ok_or(KernelError::InvalidParameter("NULL BroadcastContextArray"))?;
        let flags: u32 = ptr::read_prefix(&args.Flags);
        if flags & ENQUEUE_CPU_EVENT != 0 {
            object_count(args.ObjectCount)?;
            return Err(KernelError::NotImplemented("EnqueueCpuEvent"));
        }
        let values: *const u64 = ptr::read_prefix::<_, usize>(&args.Anonymous) as *const u64;
        let objects = handles_and_values(args.ObjectCount, args.ObjectHandleArray, values)?;
        process.signal_from_gpu(&contexts, &objects)
    }
}

export! {
    /// `D3DKMTWaitForSynchronizationObjectFromGpu`: queues on `hContext` a
    /// wait for each monitored fence to reach its value in
    /// `MonitoredFenceValueArray`.
    D3DKMTWaitForSynchronizationObjectFromGpu(args: *const D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU)
        as PFND3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU, |process| {
        let args = required_ref(args)?;
        let values: *const u64 = ptr::read_prefix::<_, usize>(&args.Anonymous) as *const u64;
        let objects = handles_and_values(args.ObjectCount, args.ObjectHandleArray, values)?;
        process.wait_from_gpu(args.hContext, &objects)
    }
}

export! {
    /// `D3DKMTEscape`: `D3DKMT_ESCAPE_DRIVERPRIVATE` goes to the KMD (see
    /// [`crate::Process::escape`]), with 1 byte to [`MAX_PRIVATE_DATA`] of
    /// private data (none, or NULL, is `STATUS_INVALID_PARAMETER`), copied
    /// back as the KMD left it. Every other escape type is dxgkrnl's own and
    /// is not emulated: `STATUS_NOT_IMPLEMENTED` once the handles check out.
    D3DKMTEscape(args: *const D3DKMT_ESCAPE) as PFND3DKMT_ESCAPE, |process| {
        let args = required_ref(args)?;
        if args.PrivateDriverDataSize == 0 || args.pPrivateDriverData.is_null() {
            return Err(KernelError::InvalidParameter("an escape carries private data"));
        }
        let data = private_data(args.pPrivateDriverData, args.PrivateDriverDataSize)?;
        let flags: u32 = ptr::read_prefix(&args.Flags);
        if args.Type != D3DKMT_ESCAPE_DRIVERPRIVATE {
            process.lock_live()?.adapter(args.hAdapter)?;
            return Err(KernelError::NotImplemented("escape types other than D3DKMT_ESCAPE_DRIVERPRIVATE"));
        }
        let out = process.escape(LocalHandle(args.hAdapter), args.hDevice, args.hContext, flags, data)?;
        ptr::write_bytes(args.pPrivateDriverData, &out);
        Ok(())
    }
}

/// Builds the bytes of a `D3DKMT_QUERYSTATISTICS_RESULT`: zeros, with `u32`
/// and `u64` fields set at their offsets.
struct ResultBytes(Vec<u8>);

impl ResultBytes {
    fn new() -> ResultBytes {
        ResultBytes(vec![0; size_of::<D3DKMT_QUERYSTATISTICS_RESULT>()])
    }
    fn u32(&mut self, at: usize, v: u32) {
        self.0[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    }
}

export! {
    /// `D3DKMTQueryStatistics`, for the types we keep counters for (see
    /// [`crate::Process::gpu_statistics`]):
    /// - `ADAPTER`: `NbSegments`, `NodeCount`, `VidPnSourceCount`;
    /// - `PROCESS_ADAPTER`: the same three;
    /// - `NODE` (`QueryNode.NodeId`): `GlobalInformation` and
    ///   `SystemInformation`'s `PacketStatistics.QueuePacket[0]`
    ///   (client render buffers) submitted and completed, by every process;
    /// - `PROCESS_NODE`: the same, by the calling process.
    ///
    /// Every other field is 0; every other type is `STATUS_NOT_IMPLEMENTED`.
    /// `hProcess` must be NULL or the current-process pseudo-handle for the
    /// process types. An unknown LUID is `STATUS_INVALID_PARAMETER`.
    D3DKMTQueryStatistics(args: *const D3DKMT_QUERYSTATISTICS) as PFND3DKMT_QUERYSTATISTICS, |process| {
        let args = required_ref(args)?;
        let luid = super::adapter::luid_in(&args.AdapterLuid);
        let node: u32 = ptr::read_prefix(&args.Anonymous);
        let own = matches!(args.Type, D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER | D3DKMT_QUERYSTATISTICS_PROCESS_NODE);
        if own && !matches!(args.hProcess as usize, 0 | usize::MAX) {
            return Err(KernelError::NotImplemented("statistics of another process"));
        }
        let mut out = ResultBytes::new();
        match args.Type {
            D3DKMT_QUERYSTATISTICS_ADAPTER | D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER => {
                let s = process.gpu_statistics(luid, None, !own)?;
                // The three leading fields are the same in both structs.
                const _: () = assert!(core::mem::offset_of!(D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION, VidPnSourceCount)
                    == core::mem::offset_of!(D3DKMT_QUERYSTATISTICS_PROCESS_ADAPTER_INFORMATION, VidPnSourceCount));
                out.u32(core::mem::offset_of!(D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION, NbSegments), s.segment_count);
                out.u32(core::mem::offset_of!(D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION, NodeCount), s.node_count);
                out.u32(core::mem::offset_of!(D3DKMT_QUERYSTATISTICS_ADAPTER_INFORMATION, VidPnSourceCount), s.vidpn_source_count);
            }
            D3DKMT_QUERYSTATISTICS_NODE | D3DKMT_QUERYSTATISTICS_PROCESS_NODE => {
                let s = process.gpu_statistics(luid, Some(node), !own)?;
                let packets = core::mem::offset_of!(D3DKMT_QUERYSTATISTICS_PROCESS_NODE_INFORMATION, PacketStatistics);
                let submitted = u32::try_from(s.packets_submitted).unwrap_or(u32::MAX);
                let completed = u32::try_from(s.packets_completed).unwrap_or(u32::MAX);
                let mut blocks = vec![0];
                if !own {
                    blocks.push(core::mem::offset_of!(D3DKMT_QUERYSTATISTICS_NODE_INFORMATION, SystemInformation));
                }
                for base in blocks {
                    out.u32(base + packets, submitted);
                    out.u32(base + packets + 4, completed);
                }
            }
            _ => {
                process.gpu_statistics(luid, None, false)?;
                return Err(KernelError::NotImplemented("this D3DKMT_QUERYSTATISTICS_TYPE"));
            }
        }
        // The struct is `const` in the PFN, as Windows declares it, yet the
        // call returns its result in it.
        ptr::write_bytes(core::ptr::addr_of!(args.QueryResult).cast(), &out.0);
        Ok(())
    }
}

export! {
    /// `D3DKMTQueryClockCalibration`: see [`crate::Process::clock_calibration`].
    /// `Flags` comes back 0.
    D3DKMTQueryClockCalibration(args: *mut D3DKMT_QUERYCLOCKCALIBRATION) as PFND3DKMT_QUERYCLOCKCALIBRATION, |process| {
        let args = required(args)?;
        let (frequency, gpu, cpu) =
            process.clock_calibration(LocalHandle(args.hAdapter), args.NodeOrdinal, args.PhysicalAdapterIndex)?;
        args.ClockData.GpuFrequency = frequency;
        args.ClockData.GpuClockCounter = gpu;
        args.ClockData.CpuClockCounter = cpu;
        ptr::write_bytes(core::ptr::addr_of!(args.ClockData.Flags).cast(), &[0; 4]);
        Ok(())
    }
}

export! {
    /// `D3DKMTMarkDeviceAsError`: see [`crate::Process::mark_device_as_error`].
    /// NULL, a zeroed struct and garbage are `STATUS_INVALID_PARAMETER`
    /// (ros-parity.tsv).
    D3DKMTMarkDeviceAsError(args: *const D3DKMT_MARKDEVICEASERROR) as PFND3DKMT_MARKDEVICEASERROR, |process| {
        let args = required_ref(args)?;
        process.mark_device_as_error(LocalHandle(args.hDevice), args.Reason)
    }
}

export! {
    /// `D3DKMTFlushHeapTransitions`: see [`crate::Process::flush_heap_transitions`].
    /// NULL, a zeroed struct and garbage are `STATUS_INVALID_PARAMETER`
    /// (ros-parity.tsv).
    D3DKMTFlushHeapTransitions(args: *const D3DKMT_FLUSHHEAPTRANSITIONS) as PFND3DKMT_FLUSHHEAPTRANSITIONS, |process| {
        let args = required_ref(args)?;
        process.flush_heap_transitions(LocalHandle(args.hAdapter))
    }
}

/// `D3DKMTCreateSyncFile` (libdxg; windows-sys declares the struct but no
/// function): a file descriptor, in `hSyncFile`, that becomes readable when
/// the monitored fence reaches `FenceValue`; see
/// [`crate::Process::create_sync_file`].
#[allow(unsafe_code, reason = "an exported C symbol")]
#[unsafe(no_mangle)]
pub extern "system" fn D3DKMTCreateSyncFile(
    args: *mut D3DKMT_CREATESYNCFILE,
) -> windows_sys::Win32::Foundation::NTSTATUS {
    dispatch_with(Entry::D3DKMTCreateSyncFile, args as *const c_void, |process| {
        let args = required(args)?;
        let fd =
            process.create_sync_file(LocalHandle(args.hDevice), LocalHandle(args.hMonitoredFence), args.FenceValue)?;
        args.hSyncFile = fd as u64;
        Ok(())
    })
}
