//! Conformance scenarios and raw calls: contexts, hardware and paging
//! queues, submission, GPU-queued sync, escapes, statistics, clock
//! calibration, device errors and sync files (ros-parity.tsv rows for
//! `MarkDeviceAsError`, `FlushHeapTransitions` and the hardware contexts).
//! The rows are in `fixtures/conformance/gpu.tsv`.

use core::ffi::c_void;

use windows_sys::Wdk::Graphics::Direct3D::*;

use super::{Ctx, JUNK, SHARED_NT, Scenario};
use crate::NtStatus;
use crate::abi::exports::{
    D3DKMTCloseDxCoreDevice, D3DKMTOpenAdapterFromLuid, D3DKMTOpenSyncObjectFromNtHandle2, D3DKMTSetStablePowerState,
    D3DKMTShareObjectWithHost,
};
use crate::abi::exports::{
    D3DKMTCreateContext, D3DKMTCreateContextVirtual, D3DKMTCreateHwContext, D3DKMTCreateHwQueue,
    D3DKMTCreatePagingQueue, D3DKMTCreateSyncFile, D3DKMTDestroyContext, D3DKMTDestroyHwContext, D3DKMTDestroyHwQueue,
    D3DKMTDestroyPagingQueue, D3DKMTEscape, D3DKMTFlushHeapTransitions, D3DKMTGetContextInProcessSchedulingPriority,
    D3DKMTGetContextSchedulingPriority, D3DKMTMarkDeviceAsError, D3DKMTQueryClockCalibration, D3DKMTQueryStatistics,
    D3DKMTRender, D3DKMTSetContextInProcessSchedulingPriority, D3DKMTSetContextSchedulingPriority,
    D3DKMTSignalSynchronizationObject, D3DKMTSignalSynchronizationObject2, D3DKMTSignalSynchronizationObjectFromCpu,
    D3DKMTSignalSynchronizationObjectFromGpu, D3DKMTSignalSynchronizationObjectFromGpu2, D3DKMTSubmitCommand,
    D3DKMTSubmitCommandToHwQueue, D3DKMTSubmitSignalSyncObjectsToHwQueue, D3DKMTSubmitWaitForSyncObjectsToHwQueue,
    D3DKMTWaitForSynchronizationObject, D3DKMTWaitForSynchronizationObject2, D3DKMTWaitForSynchronizationObjectFromGpu,
};

/// `ShareObjectWithHost` arguments with the output set to junk.
fn host_args(device: u32, object: u32) -> D3DKMT_SHAREOBJECTWITHHOST {
    D3DKMT_SHAREOBJECTWITHHOST { hDevice: device, hObject: object, Reserved: 0, hVailProcessNtHandle: JUNK as u64 }
}

/// A virtual context on `device` at `node`: (status, handle).
fn context(device: u32, node: u32) -> (NtStatus, u32) {
    let mut args =
        D3DKMT_CREATECONTEXTVIRTUAL { hDevice: device, NodeOrdinal: node, hContext: JUNK, ..Default::default() };
    let status = NtStatus(D3DKMTCreateContextVirtual(&mut args));
    (status, args.hContext)
}

/// A hardware queue on `context`: (queue, progress fence, its CPU address).
fn hw_queue(context: u32) -> (u32, u32, *const u64) {
    let mut args = D3DKMT_CREATEHWQUEUE { hHwContext: context, ..Default::default() };
    NtStatus(D3DKMTCreateHwQueue(&mut args)).unwrap();
    (args.hHwQueue, args.hHwQueueProgressFence, args.HwQueueProgressFenceCPUVirtualAddress.cast_const().cast())
}

fn submit(queue: u32, progress: u64) -> NtStatus {
    let args =
        D3DKMT_SUBMITCOMMANDTOHWQUEUE { hHwQueue: queue, HwQueueProgressFenceId: progress, ..Default::default() };
    NtStatus(D3DKMTSubmitCommandToHwQueue(&args))
}

/// A monitored fence's value (a sentinel if the handle names none).
fn value(ctx: &Ctx, fence: u32) -> u64 {
    ctx.a.fence_value(crate::LocalHandle(fence)).unwrap_or(u64::MAX - 1)
}

/// The scenario called `name`, if this area has it.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "gpu_context_node_past_adapter" => |ctx, c| {
            let device = ctx.device();
            let (status, handle) = context(device, 2);
            c.that(handle == JUNK, "hContext was written on failure");
            status
        },
        "gpu_context_on_removed_device" => |ctx, c| {
            let device = ctx.device();
            ctx.kernel.remove_device(ctx.a.id(), crate::LocalHandle(device), crate::DeviceLoss::Hung).expect("removal");
            let (status, handle) = context(device, 0);
            c.that(handle == JUNK, "hContext was written on failure");
            status
        },
        "gpu_context_destroy_twice" => |ctx, c| {
            let device = ctx.device();
            let (status, handle) = context(device, 0);
            c.that(status.is_ok(), "create failed");
            let destroy = D3DKMT_DESTROYCONTEXT { hContext: handle };
            c.that(NtStatus(D3DKMTDestroyContext(&destroy)).is_ok(), "first destroy failed");
            NtStatus(D3DKMTDestroyContext(&destroy))
        },
        "gpu_hw_queue_progress" => |ctx, c| {
            let device = ctx.device();
            let (_, handle) = context(device, 0);
            let (queue, fence, cpu_va) = hw_queue(handle);
            let status = submit(queue, 42);
            c.that(value(ctx, fence) == 42, "the progress fence did not reach 42");
            c.that(crate::abi::ptr::read_array(cpu_va, 1) == Some(vec![42]), "the CPU address does not read 42");
            status
        },
        "gpu_wait_blocks_until_cpu_signal" => |ctx, c| {
            let device = ctx.device();
            let (_, handle) = context(device, 0);
            let (queue, progress, _) = hw_queue(handle);
            let gate = ctx.fence(device, 0);
            let values = [2u64];
            let args = D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE {
                hHwQueue: queue,
                ObjectCount: 1,
                ObjectHandleArray: &gate,
                FenceValueArray: values.as_ptr(),
            };
            let status = NtStatus(D3DKMTSubmitWaitForSyncObjectsToHwQueue(&args));
            c.that(submit(queue, 1).is_ok(), "submit failed");
            c.that(value(ctx, progress) == 0, "work ran before the wait was met");
            let signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
                hDevice: device,
                ObjectCount: 1,
                ObjectHandleArray: &gate,
                FenceValueArray: values.as_ptr(),
                ..Default::default()
            };
            c.that(NtStatus(D3DKMTSignalSynchronizationObjectFromCpu(&signal)).is_ok(), "CPU signal failed");
            c.that(value(ctx, progress) == 1, "the CPU signal did not release the queue");
            status
        },
        "gpu_submit_on_removed_device" => |ctx, _| {
            let device = ctx.device();
            let (_, handle) = context(device, 0);
            ctx.kernel.remove_device(ctx.a.id(), crate::LocalHandle(device), crate::DeviceLoss::Hung).expect("removal");
            let args =
                D3DKMT_SUBMITCOMMAND { BroadcastContextCount: 1, BroadcastContext: [handle; 64], ..Default::default() };
            NtStatus(D3DKMTSubmitCommand(&args))
        },
        "gpu_escape_default_kmd" => |ctx, c| {
            let adapter = ctx.adapter();
            let mut data = *b"escape";
            let args = D3DKMT_ESCAPE {
                hAdapter: adapter,
                Type: D3DKMT_ESCAPE_DRIVERPRIVATE,
                pPrivateDriverData: data.as_mut_ptr().cast(),
                PrivateDriverDataSize: data.len() as u32,
                ..Default::default()
            };
            let status = NtStatus(D3DKMTEscape(&args));
            c.that(&data == b"escape", "the default KMD changed the data");
            status
        },
        "gpu_sync_file_fires" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, 0);
            let mut args =
                D3DKMT_CREATESYNCFILE { hDevice: device, hMonitoredFence: fence, FenceValue: 3, hSyncFile: 0 };
            let status = NtStatus(D3DKMTCreateSyncFile(&mut args));
            if status.is_err() {
                return status;
            }
            let Some(fd) = crate::abi::ptr::own_fd(args.hSyncFile as i32) else {
                c.that(false, "hSyncFile is no descriptor");
                return status;
            };
            c.that(!crate::sync_file::readable(&fd), "readable before the fence moved");
            ctx.a.signal_from_cpu(crate::LocalHandle(device), &[(crate::LocalHandle(fence), 3)]).expect("signal");
            c.that(crate::sync_file::readable(&fd), "not readable after the fence reached the value");
            status
        },
        "gpu_priority_out_of_range" => |ctx, _| {
            let device = ctx.device();
            let (_, handle) = context(device, 0);
            NtStatus(D3DKMTSetContextSchedulingPriority(&D3DKMT_SETCONTEXTSCHEDULINGPRIORITY {
                hContext: handle,
                Priority: 8,
            }))
        },
        "host_share_nt_fence" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, SHARED_NT);
            let mut args = host_args(device, fence);
            let status = NtStatus(D3DKMTShareObjectWithHost(&mut args));
            let value = args.hVailProcessNtHandle;
            c.that(value == crate::HOST_HANDLE_BASE, format!("first host handle {value:#x}"));
            let table = ctx.kernel.host_shared_objects();
            c.that(table.len() == 1 && table[0].value == value, "the host table does not hold the object");
            let mut again = host_args(device, fence);
            NtStatus(D3DKMTShareObjectWithHost(&mut again)).unwrap();
            c.that(again.hVailProcessNtHandle == value + 4, "a second share is not a new host handle");
            status
        },
        "host_share_not_nt_shareable" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, 0);
            let mut args = host_args(device, fence);
            let status = NtStatus(D3DKMTShareObjectWithHost(&mut args));
            c.that(args.hVailProcessNtHandle == JUNK as u64, "hVailProcessNtHandle written on failure");
            c.that(ctx.kernel.host_shared_objects().is_empty(), "a refused share is in the host table");
            status
        },
        "host_share_other_process_object" => |ctx, _| {
            let device = ctx.device();
            let theirs = {
                let _b = ctx.b.enter();
                let device = ctx.device();
                ctx.fence(device, SHARED_NT)
            };
            let mut args = host_args(device, theirs);
            NtStatus(D3DKMTShareObjectWithHost(&mut args))
        },
        "host_share_lost_device" => |ctx, _| {
            let device = ctx.device();
            let fence = ctx.fence(device, SHARED_NT);
            let loss = crate::DeviceLoss::Hung;
            ctx.kernel.remove_device(ctx.a.id(), crate::LocalHandle(device), loss).unwrap();
            let mut args = host_args(device, fence);
            NtStatus(D3DKMTShareObjectWithHost(&mut args))
        },
        "host_handle_is_not_a_guest_nt_handle" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, SHARED_NT);
            let mut args = host_args(device, fence);
            NtStatus(D3DKMTShareObjectWithHost(&mut args)).unwrap();
            let mut open = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 {
                hNtHandle: args.hVailProcessNtHandle as usize as _,
                hDevice: device,
                hSyncObject: JUNK,
                ..Default::default()
            };
            let status = NtStatus(D3DKMTOpenSyncObjectFromNtHandle2(&mut open));
            c.that(open.hSyncObject == JUNK, "hSyncObject written on failure");
            status
        },
        "stable_power_recorded" => |ctx, c| {
            let adapter = ctx.adapter();
            let args = D3DKMT_SETSTABLEPOWERSTATE { hAdapter: adapter, Enabled: 7 };
            let status = NtStatus(D3DKMTSetStablePowerState(&args));
            let luid = ctx.kernel.adapter_luids()[0];
            c.that(ctx.a.stable_power_state(crate::LocalHandle(adapter)) == Ok(true), "not recorded for the process");
            c.that(ctx.kernel.stable_power_state(luid), "the adapter is not held stable");
            let off = D3DKMT_SETSTABLEPOWERSTATE { hAdapter: adapter, Enabled: 0 };
            NtStatus(D3DKMTSetStablePowerState(&off)).unwrap();
            c.that(!ctx.kernel.stable_power_state(luid), "disabling did not withdraw the request");
            status
        },
        "stable_power_device_handle" => |ctx, c| {
            let device = ctx.device();
            let args = D3DKMT_SETSTABLEPOWERSTATE { hAdapter: device, Enabled: 1 };
            let status = NtStatus(D3DKMTSetStablePowerState(&args));
            c.that(!ctx.kernel.stable_power_state(ctx.kernel.adapter_luids()[0]), "recorded on failure");
            status
        },
        "dxcore_closed_calls_unsuccessful" => |ctx, c| {
            let _device = ctx.device();
            let before = ctx.kernel.total_live_objects();
            D3DKMTCloseDxCoreDevice();
            c.that(ctx.a.dxcore_device_closed(), "the process is not closed");
            c.that(ctx.kernel.total_live_objects() < before, "the process's objects outlived the close");
            let mut args = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: ctx.luid(), hAdapter: JUNK };
            let status = NtStatus(D3DKMTOpenAdapterFromLuid(&mut args));
            c.that(args.hAdapter == JUNK, "hAdapter written after the close");
            D3DKMTCloseDxCoreDevice();
            status
        },
        "dxcore_close_ignored" => |_, c| {
            let mut config = crate::KernelConfig::default();
            config.policies.dxcore_close = crate::DxCoreClose::Ignore;
            let other = Ctx::new(config);
            let status = {
                let _bound = other.a.enter();
                D3DKMTCloseDxCoreDevice();
                c.that(!other.a.dxcore_device_closed(), "closed despite the Ignore policy");
                let mut args = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: other.luid(), hAdapter: JUNK };
                NtStatus(D3DKMTOpenAdapterFromLuid(&mut args))
            };
            other.a.exit();
            other.b.exit();
            status
        },
        _ => return None,
    })
}

/// Calls `entry` with the raw argument pointer `p` (NULL or a 1024-byte
/// buffer), if it is an entry point of this area.
pub(super) fn raw_call(entry: &str, p: *mut c_void) -> Option<i32> {
    Some(match entry {
        "D3DKMTShareObjectWithHost" => D3DKMTShareObjectWithHost(p.cast()),
        "D3DKMTSetStablePowerState" => D3DKMTSetStablePowerState(p.cast()),
        "D3DKMTCreateContext" => D3DKMTCreateContext(p.cast()),
        "D3DKMTCreateContextVirtual" => D3DKMTCreateContextVirtual(p.cast()),
        "D3DKMTDestroyContext" => D3DKMTDestroyContext(p.cast()),
        "D3DKMTCreateHwContext" => D3DKMTCreateHwContext(p.cast()),
        "D3DKMTDestroyHwContext" => D3DKMTDestroyHwContext(p.cast()),
        "D3DKMTCreateHwQueue" => D3DKMTCreateHwQueue(p.cast()),
        "D3DKMTDestroyHwQueue" => D3DKMTDestroyHwQueue(p.cast()),
        "D3DKMTCreatePagingQueue" => D3DKMTCreatePagingQueue(p.cast()),
        "D3DKMTDestroyPagingQueue" => D3DKMTDestroyPagingQueue(p.cast()),
        "D3DKMTSetContextSchedulingPriority" => D3DKMTSetContextSchedulingPriority(p.cast()),
        "D3DKMTGetContextSchedulingPriority" => D3DKMTGetContextSchedulingPriority(p.cast()),
        "D3DKMTSetContextInProcessSchedulingPriority" => D3DKMTSetContextInProcessSchedulingPriority(p.cast()),
        "D3DKMTGetContextInProcessSchedulingPriority" => D3DKMTGetContextInProcessSchedulingPriority(p.cast()),
        "D3DKMTSubmitCommand" => D3DKMTSubmitCommand(p.cast()),
        "D3DKMTRender" => D3DKMTRender(p.cast()),
        "D3DKMTSubmitCommandToHwQueue" => D3DKMTSubmitCommandToHwQueue(p.cast()),
        "D3DKMTSubmitSignalSyncObjectsToHwQueue" => D3DKMTSubmitSignalSyncObjectsToHwQueue(p.cast()),
        "D3DKMTSubmitWaitForSyncObjectsToHwQueue" => D3DKMTSubmitWaitForSyncObjectsToHwQueue(p.cast()),
        "D3DKMTSignalSynchronizationObject" => D3DKMTSignalSynchronizationObject(p.cast()),
        "D3DKMTSignalSynchronizationObject2" => D3DKMTSignalSynchronizationObject2(p.cast()),
        "D3DKMTWaitForSynchronizationObject" => D3DKMTWaitForSynchronizationObject(p.cast()),
        "D3DKMTWaitForSynchronizationObject2" => D3DKMTWaitForSynchronizationObject2(p.cast()),
        "D3DKMTSignalSynchronizationObjectFromGpu" => D3DKMTSignalSynchronizationObjectFromGpu(p.cast()),
        "D3DKMTSignalSynchronizationObjectFromGpu2" => D3DKMTSignalSynchronizationObjectFromGpu2(p.cast()),
        "D3DKMTWaitForSynchronizationObjectFromGpu" => D3DKMTWaitForSynchronizationObjectFromGpu(p.cast()),
        "D3DKMTEscape" => D3DKMTEscape(p.cast()),
        "D3DKMTQueryStatistics" => D3DKMTQueryStatistics(p.cast()),
        "D3DKMTQueryClockCalibration" => D3DKMTQueryClockCalibration(p.cast()),
        "D3DKMTMarkDeviceAsError" => D3DKMTMarkDeviceAsError(p.cast()),
        "D3DKMTFlushHeapTransitions" => D3DKMTFlushHeapTransitions(p.cast()),
        "D3DKMTCreateSyncFile" => D3DKMTCreateSyncFile(p.cast()),
        _ => return None,
    })
}
