//! The GPU-work surface end to end: contexts, hardware and paging queues,
//! submission completing on the fake GPU, GPU waits that block a queue until
//! a CPU or GPU signal, sync files, escapes and submissions the fake KMD
//! observes, statistics and clock calibration, removal, and teardown.
//!
//! The exports are called as code written against windows-sys calls them:
//! through windows-sys's own declarations, which resolve to our symbols
//! (`D3DKMTCreateSyncFile`, which windows-sys does not declare, through our own).
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use std::io::Read;
use std::os::fd::FromRawFd;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use d3dkmt_emu::{
    ContextKey, CreateContextArgs, DeviceHealth, DeviceLoss, EscapeArgs, GpuPolicies, HandleKind, HwContexts, Kernel,
    KernelConfig, Kmd, LocalHandle, Luid, NtStatus, ObjectKind, Policies, Process, Submission, SyncFlags,
};
use windows_sys::Wdk::Graphics::Direct3D::*;

/// Calls a `D3DKMT*` export through windows-sys's declaration.
macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument is a reference to a live, aligned,
        // initialised struct, and every pointer field points at as many
        // elements or bytes as its count or size says, valid for the call.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) })
    };
}

unsafe extern "system" {
    /// Ours: windows-sys declares the struct but not the function.
    fn D3DKMTCreateSyncFile(args: *mut D3DKMT_CREATESYNCFILE) -> i32;
}

/// A KMD that records what it is shown, and can refuse escapes.
#[derive(Default)]
struct Recorder {
    log: Mutex<Vec<String>>,
    submissions: Mutex<Vec<Seen>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    context: ContextKey,
    hw_queue: Option<ContextKey>,
    command_buffer: u64,
    length: u32,
    bytes: Option<Vec<u8>>,
    private: Vec<u8>,
    progress: Option<u64>,
}

impl Kmd for Recorder {
    fn create_context(&self, args: &mut CreateContextArgs<'_>) -> Result<(), NtStatus> {
        self.log.lock().unwrap().push(format!("create {:?} node {}", args.kind, args.node_ordinal));
        if args.driver_data == b"refuse" {
            return Err(NtStatus::ACCESS_DENIED);
        }
        for b in args.driver_data.iter_mut() {
            *b = b.to_ascii_uppercase();
        }
        Ok(())
    }

    fn destroy_context(&self, _adapter: Luid, context: ContextKey) {
        self.log.lock().unwrap().push(format!("destroy {}", context.0));
    }

    fn submit(&self, s: &Submission<'_>) -> Result<(), NtStatus> {
        self.submissions.lock().unwrap().push(Seen {
            context: s.context,
            hw_queue: s.hw_queue,
            command_buffer: s.command_buffer,
            length: s.command_length,
            bytes: s.command_bytes.map(<[u8]>::to_vec),
            private: s.private_data.to_vec(),
            progress: s.progress_fence_value,
        });
        if s.private_data == b"reject" { Err(NtStatus::INVALID_PARAMETER) } else { Ok(()) }
    }

    fn escape(&self, args: &mut EscapeArgs<'_>) -> Result<(), NtStatus> {
        if args.data.first() == Some(&0xEE) {
            return Err(NtStatus::NOT_SUPPORTED);
        }
        args.data.reverse();
        Ok(())
    }
}

struct Fixture {
    kernel: Kernel,
    process: Process,
    adapter: LocalHandle,
    device: LocalHandle,
    kmd: Arc<Recorder>,
}

fn fixture_with(policies: Policies) -> Fixture {
    let kernel = Kernel::new(KernelConfig { policies, ..KernelConfig::default() });
    let kmd = Arc::new(Recorder::default());
    kernel.set_kmd(kmd.clone());
    let process = kernel.create_process();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = process.create_device(adapter).unwrap();
    Fixture { kernel, process, adapter, device, kmd }
}

fn fixture() -> Fixture {
    fixture_with(Policies::default())
}

fn virtual_context(device: LocalHandle, node: u32, data: &mut [u8]) -> (NtStatus, u32) {
    let mut args = D3DKMT_CREATECONTEXTVIRTUAL {
        hDevice: device.0,
        NodeOrdinal: node,
        pPrivateDriverData: data.as_mut_ptr().cast(),
        PrivateDriverDataSize: data.len() as u32,
        ClientHint: D3DKMT_CLIENTHINT_DX12,
        ..Default::default()
    };
    let status = call!(D3DKMTCreateContextVirtual(&mut args));
    (status, args.hContext)
}

struct Queue {
    handle: u32,
    fence: u32,
    cpu_va: *const u64,
}

impl Queue {
    fn progress(&self) -> u64 {
        // SAFETY: the progress fence's CPU address stays valid while the
        // fence lives, and the queue holds it.
        unsafe { self.cpu_va.read_volatile() }
    }
}

fn hw_queue(context: u32) -> Queue {
    let mut args = D3DKMT_CREATEHWQUEUE { hHwContext: context, ..Default::default() };
    call!(D3DKMTCreateHwQueue(&mut args)).unwrap();
    assert_ne!(args.HwQueueProgressFenceGPUVirtualAddress, 0);
    Queue {
        handle: args.hHwQueue,
        fence: args.hHwQueueProgressFence,
        cpu_va: args.HwQueueProgressFenceCPUVirtualAddress.cast(),
    }
}

fn submit_hw(queue: u32, progress: u64, private: &[u8]) -> NtStatus {
    let args = D3DKMT_SUBMITCOMMANDTOHWQUEUE {
        hHwQueue: queue,
        HwQueueProgressFenceId: progress,
        CommandBuffer: 0x1000,
        CommandLength: 64,
        PrivateDriverDataSize: private.len() as u32,
        pPrivateDriverData: private.as_ptr().cast_mut().cast(),
        ..Default::default()
    };
    call!(D3DKMTSubmitCommandToHwQueue(&args))
}

fn wait_hw(queue: u32, fences: &[u32], values: &[u64]) -> NtStatus {
    let args = D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE {
        hHwQueue: queue,
        ObjectCount: fences.len() as u32,
        ObjectHandleArray: fences.as_ptr(),
        FenceValueArray: values.as_ptr(),
    };
    call!(D3DKMTSubmitWaitForSyncObjectsToHwQueue(&args))
}

fn signal_hw(queues: &[u32], fences: &[u32], values: &[u64]) -> NtStatus {
    let args = D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE {
        BroadcastHwQueueCount: queues.len() as u32,
        BroadcastHwQueueArray: queues.as_ptr(),
        ObjectCount: fences.len() as u32,
        ObjectHandleArray: fences.as_ptr(),
        FenceValueArray: values.as_ptr(),
        ..Default::default()
    };
    call!(D3DKMTSubmitSignalSyncObjectsToHwQueue(&args))
}

fn fence(f: &Fixture) -> u32 {
    f.process.create_monitored_fence(f.device, SyncFlags::default(), 0).unwrap().handle.0
}

#[test]
fn contexts_check_node_and_affinity_keep_priorities_and_pass_driver_data_to_the_kmd() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut data = *b"hello";
    let (status, context) = virtual_context(f.device, 1, &mut data);
    status.unwrap();
    assert_eq!(&data, b"hello", "CreateContextVirtual does not write the driver data back");
    assert_eq!(f.kmd.log.lock().unwrap()[0], "create Virtual node 1");
    assert!(f.process.local_handles().contains(&(LocalHandle(context), HandleKind::Context)));

    // Node 2 is past the default 2 nodes; affinity 2 names a second physical adapter.
    assert_eq!(virtual_context(f.device, 2, &mut []).0, NtStatus::INVALID_PARAMETER);
    let mut args =
        D3DKMT_CREATECONTEXTVIRTUAL { hDevice: f.device.0, EngineAffinity: 2, hContext: 77, ..Default::default() };
    assert_eq!(call!(D3DKMTCreateContextVirtual(&mut args)), NtStatus::INVALID_PARAMETER);
    assert_eq!(args.hContext, 77, "untouched on failure");
    // The KMD's refusal comes back as its status.
    let mut refuse = *b"refuse";
    assert_eq!(virtual_context(f.device, 0, &mut refuse).0, NtStatus::ACCESS_DENIED);

    // Priorities: kept per kind, range-checked.
    let set = D3DKMT_SETCONTEXTSCHEDULINGPRIORITY { hContext: context, Priority: 5 };
    call!(D3DKMTSetContextSchedulingPriority(&set)).unwrap();
    let set_in = D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY { hContext: context, Priority: -3 };
    call!(D3DKMTSetContextInProcessSchedulingPriority(&set_in)).unwrap();
    let mut get = D3DKMT_GETCONTEXTSCHEDULINGPRIORITY { hContext: context, Priority: 0 };
    call!(D3DKMTGetContextSchedulingPriority(&mut get)).unwrap();
    assert_eq!(get.Priority, 5);
    let mut get_in = D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY { hContext: context, Priority: 0 };
    call!(D3DKMTGetContextInProcessSchedulingPriority(&mut get_in)).unwrap();
    assert_eq!(get_in.Priority, -3);
    let bad = D3DKMT_SETCONTEXTSCHEDULINGPRIORITY { hContext: context, Priority: 8 };
    assert_eq!(call!(D3DKMTSetContextSchedulingPriority(&bad)), NtStatus::INVALID_PARAMETER);
    let wrong = D3DKMT_SETCONTEXTSCHEDULINGPRIORITY { hContext: f.device.0, Priority: 1 };
    assert_eq!(
        call!(D3DKMTSetContextSchedulingPriority(&wrong)),
        NtStatus::INVALID_PARAMETER,
        "a device is no context"
    );

    let destroy = D3DKMT_DESTROYCONTEXT { hContext: context };
    call!(D3DKMTDestroyContext(&destroy)).unwrap();
    assert_eq!(call!(D3DKMTDestroyContext(&destroy)), NtStatus::INVALID_PARAMETER);
    assert!(f.kmd.log.lock().unwrap().iter().any(|l| l.starts_with("destroy ")));
    assert_eq!(f.kernel.live_objects(ObjectKind::Context), 0);
}

#[test]
fn a_legacy_context_renders_its_command_buffer_and_the_kmd_sees_the_bytes() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut data = *b"abc";
    let mut args = D3DKMT_CREATECONTEXT {
        hDevice: f.device.0,
        pPrivateDriverData: data.as_mut_ptr().cast(),
        PrivateDriverDataSize: 3,
        ..Default::default()
    };
    call!(D3DKMTCreateContext(&mut args)).unwrap();
    assert_eq!(&data, b"ABC", "the legacy create hands back what the KMD left");
    assert_eq!(args.CommandBufferSize, 64 * 1024);
    assert_eq!(args.AllocationListSize, 1024);
    assert_ne!(args.CommandBuffer, 0);
    // SAFETY: the command buffer is CommandBufferSize writable bytes, ours while the context lives.
    let buffer = unsafe { std::slice::from_raw_parts_mut(args.pCommandBuffer.cast::<u8>(), 64 * 1024) };
    buffer[16..20].copy_from_slice(b"DRAW");
    let mut render = D3DKMT_RENDER { CommandOffset: 16, CommandLength: 4, ..Default::default() };
    render.Anonymous.hContext = args.hContext;
    call!(D3DKMTRender(&mut render)).unwrap();
    assert_eq!(render.pNewCommandBuffer, args.pCommandBuffer);
    let seen = f.kmd.submissions.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].bytes.as_deref(), Some(&b"DRAW"[..]));
    // Past the buffer: refused, nothing more submitted.
    let mut past = D3DKMT_RENDER { CommandOffset: 64 * 1024 - 2, CommandLength: 4, ..Default::default() };
    past.Anonymous.hContext = args.hContext;
    assert_eq!(call!(D3DKMTRender(&mut past)), NtStatus::INVALID_PARAMETER);
    assert!(past.pNewCommandBuffer.is_null(), "untouched on failure");
    assert_eq!(f.kmd.submissions.lock().unwrap().len(), 1);
    let (counters, pending) = f.process.context_queue(LocalHandle(args.hContext)).unwrap();
    assert_eq!((counters.work_submitted, counters.work_completed, pending), (1, 1, 0));
}

#[test]
fn submitting_to_a_hw_queue_advances_its_progress_fence_and_the_kmd_observes_it() {
    let f = fixture();
    let _bound = f.process.enter();
    let (status, context) = virtual_context(f.device, 0, &mut []);
    status.unwrap();
    let q = hw_queue(context);
    assert_eq!(q.progress(), 0);
    submit_hw(q.handle, 5, b"ud").unwrap();
    assert_eq!(q.progress(), 5, "work with nothing blocking it runs at submit");
    assert_eq!(f.process.fence_value(LocalHandle(q.fence)).unwrap(), 5);
    let seen = f.kmd.submissions.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].command_buffer, seen[0].length, seen[0].progress), (0x1000, 64, Some(5)));
    assert_eq!(seen[0].private, b"ud");
    assert!(seen[0].hw_queue.is_some());
    // The KMD refuses: its status, and the fence does not move.
    assert_eq!(submit_hw(q.handle, 6, b"reject"), NtStatus::INVALID_PARAMETER);
    assert_eq!(q.progress(), 5);
    // A legacy context takes no hardware queue; a bad handle is refused.
    let mut bad = D3DKMT_CREATEHWQUEUE { hHwContext: f.device.0, ..Default::default() };
    assert_eq!(call!(D3DKMTCreateHwQueue(&mut bad)), NtStatus::INVALID_PARAMETER);
    assert_eq!(bad.hHwQueue, 0);
    // A CPU wait on the progress fence is satisfied.
    f.process.wait_from_cpu(f.device, &[(LocalHandle(q.fence), 5)], false).unwrap();
    let destroy = D3DKMT_DESTROYHWQUEUE { hHwQueue: q.handle };
    call!(D3DKMTDestroyHwQueue(&destroy)).unwrap();
    assert!(f.process.fence_value(LocalHandle(q.fence)).is_err(), "the progress fence's handle goes with the queue");
    assert_eq!(f.kernel.live_objects(ObjectKind::HwQueue), 0);
}

#[test]
fn a_gpu_wait_blocks_later_work_until_the_cpu_signals() {
    let f = fixture();
    let _bound = f.process.enter();
    let (_, context) = virtual_context(f.device, 0, &mut []);
    let q = hw_queue(context);
    let gate = fence(&f);
    wait_hw(q.handle, &[gate], &[3]).unwrap();
    submit_hw(q.handle, 1, &[]).unwrap();
    assert_eq!(q.progress(), 0, "the submission waits behind the GPU wait");
    let (_, pending) = f.process.hw_queue_counters(LocalHandle(q.handle)).unwrap();
    assert_eq!(pending, 3, "wait, work, progress signal");
    f.process.signal_from_cpu(f.device, &[(LocalHandle(gate), 2)]).unwrap();
    assert_eq!(q.progress(), 0, "2 < 3");
    f.process.signal_from_cpu(f.device, &[(LocalHandle(gate), 3)]).unwrap();
    assert_eq!(q.progress(), 1, "the CPU signal released the queue");
    let (counters, pending) = f.process.hw_queue_counters(LocalHandle(q.handle)).unwrap();
    assert_eq!((counters.completed, pending), (3, 0));
}

#[test]
fn a_gpu_wait_is_released_by_another_queues_signal_and_cpu_waiters_wake() {
    let f = fixture();
    let _bound = f.process.enter();
    let (_, context) = virtual_context(f.device, 0, &mut []);
    let (a, b) = (hw_queue(context), hw_queue(context));
    let shared = fence(&f);
    wait_hw(a.handle, &[shared], &[10]).unwrap();
    submit_hw(a.handle, 1, &[]).unwrap();
    // A CPU thread waits on queue A's progress fence meanwhile.
    let (process, device, progress) = (f.process.clone(), f.device, LocalHandle(a.fence));
    let waiter = std::thread::spawn(move || process.run(|| process.wait_from_cpu(device, &[(progress, 1)], false)));
    std::thread::sleep(Duration::from_millis(20));
    assert!(!waiter.is_finished());
    // B, blocked on nothing, signals the fence A waits for.
    signal_hw(&[b.handle], &[shared], &[10]).unwrap();
    assert_eq!(f.process.fence_value(LocalHandle(shared)).unwrap(), 10);
    assert_eq!(a.progress(), 1);
    waiter.join().unwrap().unwrap();
}

#[test]
fn context_level_gpu_signal_and_wait_order_two_contexts() {
    let f = fixture();
    let _bound = f.process.enter();
    let (_, producer) = virtual_context(f.device, 0, &mut []);
    let (_, consumer) = virtual_context(f.device, 1, &mut []);
    let (ready, done) = (fence(&f), fence(&f));
    let five = [5u64];
    let mut wait = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU {
        hContext: consumer,
        ObjectCount: 1,
        ObjectHandleArray: &ready,
        ..Default::default()
    };
    wait.Anonymous.MonitoredFenceValueArray = five.as_ptr();
    call!(D3DKMTWaitForSynchronizationObjectFromGpu(&wait)).unwrap();
    // The consumer's signal of `done` waits behind the wait.
    let one = [1u64];
    let mut signal_done = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU {
        hContext: consumer,
        ObjectCount: 1,
        ObjectHandleArray: &done,
        ..Default::default()
    };
    signal_done.Anonymous.MonitoredFenceValueArray = one.as_ptr();
    call!(D3DKMTSignalSynchronizationObjectFromGpu(&signal_done)).unwrap();
    assert_eq!(f.process.fence_value(LocalHandle(done)).unwrap(), 0);
    // The producer signals `ready` through the v2 call (broadcast array).
    let contexts = [producer];
    let mut signal2 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 {
        ObjectCount: 1,
        ObjectHandleArray: &ready,
        BroadcastContextCount: 1,
        BroadcastContextArray: contexts.as_ptr(),
        ..Default::default()
    };
    signal2.Anonymous.MonitoredFenceValueArray = five.as_ptr();
    call!(D3DKMTSignalSynchronizationObjectFromGpu2(&signal2)).unwrap();
    assert_eq!(f.process.fence_value(LocalHandle(ready)).unwrap(), 5);
    assert_eq!(f.process.fence_value(LocalHandle(done)).unwrap(), 1, "the consumer ran once its wait was met");
    // The legacy v2 calls take one value for every object.
    let mut w2 = D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 { hContext: consumer, ObjectCount: 1, ..Default::default() };
    w2.ObjectHandleArray[0] = ready;
    w2.Anonymous.Fence.FenceValue = 6;
    call!(D3DKMTWaitForSynchronizationObject2(&w2)).unwrap();
    let mut s2 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 { hContext: consumer, ObjectCount: 1, ..Default::default() };
    s2.ObjectHandleArray[0] = done;
    s2.Anonymous.Fence.FenceValue = 2;
    call!(D3DKMTSignalSynchronizationObject2(&s2)).unwrap();
    assert_eq!(f.process.fence_value(LocalHandle(done)).unwrap(), 1, "blocked on ready >= 6");
    s2.hContext = producer;
    s2.ObjectHandleArray[0] = ready;
    s2.Anonymous.Fence.FenceValue = 6;
    call!(D3DKMTSignalSynchronizationObject2(&s2)).unwrap();
    assert_eq!(f.process.fence_value(LocalHandle(done)).unwrap(), 2);
    // v1 on a fence: no value to use.
    let mut s1 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECT { hContext: producer, ObjectCount: 1, ..Default::default() };
    s1.ObjectHandleArray[0] = ready;
    assert_eq!(call!(D3DKMTSignalSynchronizationObject(&s1)), NtStatus::INVALID_PARAMETER);
}

fn sync_file(device: LocalHandle, fence: u32, value: u64) -> (NtStatus, std::fs::File) {
    let mut args = D3DKMT_CREATESYNCFILE { hDevice: device.0, hMonitoredFence: fence, FenceValue: value, hSyncFile: 0 };
    // SAFETY: a live, aligned struct; the export keeps nothing.
    let status = NtStatus(unsafe { D3DKMTCreateSyncFile(&mut args) });
    status.unwrap();
    // SAFETY: the call handed us a new descriptor that we now own.
    (status, unsafe { std::fs::File::from_raw_fd(args.hSyncFile as i32) })
}

fn readable(file: &mut std::fs::File) -> bool {
    let mut buf = [0u8; 8];
    match file.read(&mut buf) {
        Ok(8) => true,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        other => panic!("unexpected read: {other:?}"),
    }
}

#[test]
fn a_sync_file_becomes_readable_when_its_fence_reaches_the_value() {
    let f = fixture();
    let _bound = f.process.enter();
    let gate = fence(&f);
    let (_, mut file) = sync_file(f.device, gate, 2);
    assert!(!readable(&mut file));
    f.process.signal_from_cpu(f.device, &[(LocalHandle(gate), 1)]).unwrap();
    assert!(!readable(&mut file));
    f.process.signal_from_cpu(f.device, &[(LocalHandle(gate), 2)]).unwrap();
    assert!(readable(&mut file));
    // Already reached: readable at once.
    let (_, mut at_once) = sync_file(f.device, gate, 1);
    assert!(readable(&mut at_once));
    // Fired by a GPU signal too.
    let (_, context) = virtual_context(f.device, 0, &mut []);
    let q = hw_queue(context);
    let (_, mut on_progress) = sync_file(f.device, q.fence, 4);
    submit_hw(q.handle, 4, &[]).unwrap();
    assert!(readable(&mut on_progress));
    // Not a monitored fence: refused.
    let mut args =
        D3DKMT_CREATESYNCFILE { hDevice: f.device.0, hMonitoredFence: context, FenceValue: 1, hSyncFile: 99 };
    // SAFETY: as above.
    assert_eq!(NtStatus(unsafe { D3DKMTCreateSyncFile(&mut args) }), NtStatus::INVALID_PARAMETER);
    assert_eq!(args.hSyncFile, 99);
}

#[test]
fn escapes_reach_the_kmd_in_and_out_with_the_size_rules() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut data = *b"1234";
    let mut args = D3DKMT_ESCAPE {
        hAdapter: f.adapter.0,
        hDevice: f.device.0,
        Type: D3DKMT_ESCAPE_DRIVERPRIVATE,
        pPrivateDriverData: data.as_mut_ptr().cast(),
        PrivateDriverDataSize: 4,
        ..Default::default()
    };
    call!(D3DKMTEscape(&args)).unwrap();
    assert_eq!(&data, b"4321", "the KMD's answer comes back in the buffer");
    args.PrivateDriverDataSize = 0;
    assert_eq!(call!(D3DKMTEscape(&args)), NtStatus::INVALID_PARAMETER);
    args.PrivateDriverDataSize = 4;
    args.hAdapter = f.device.0;
    assert_eq!(call!(D3DKMTEscape(&args)), NtStatus::INVALID_PARAMETER, "hAdapter must be an adapter");
    args.hAdapter = f.adapter.0;
    data[0] = 0xEE;
    assert_eq!(call!(D3DKMTEscape(&args)), NtStatus::NOT_SUPPORTED, "the KMD's refusal");
    assert_eq!(&data, &[0xEE, b'3', b'2', b'1'], "untouched on failure");
    args.Type = D3DKMT_ESCAPE_DEVICE;
    assert_eq!(call!(D3DKMTEscape(&args)), NtStatus::NOT_IMPLEMENTED);
}

#[test]
fn paging_queues_have_a_paging_fence_and_check_priority() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut args = D3DKMT_CREATEPAGINGQUEUE {
        hDevice: f.device.0,
        Priority: D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL,
        ..Default::default()
    };
    call!(D3DKMTCreatePagingQueue(&mut args)).unwrap();
    assert_ne!(args.hSyncObject, 0);
    assert!(!args.FenceValueCPUVirtualAddress.is_null());
    assert_eq!(f.process.paging_queue_priority(LocalHandle(args.hPagingQueue)).unwrap(), 1);
    assert_eq!(f.process.fence_value(LocalHandle(args.hSyncObject)).unwrap(), 0);
    let mut bad = D3DKMT_CREATEPAGINGQUEUE { hDevice: f.device.0, Priority: 2, ..Default::default() };
    assert_eq!(call!(D3DKMTCreatePagingQueue(&mut bad)), NtStatus::INVALID_PARAMETER);
    let mut destroy = D3DDDI_DESTROYPAGINGQUEUE { hPagingQueue: args.hPagingQueue };
    call!(D3DKMTDestroyPagingQueue(&mut destroy)).unwrap();
    assert!(f.process.fence_value(LocalHandle(args.hSyncObject)).is_err());
    assert_eq!(f.kernel.live_objects(ObjectKind::PagingQueue), 0);
}

#[test]
fn destroying_a_device_tears_down_queues_then_contexts_then_the_rest() {
    let f = fixture();
    let _bound = f.process.enter();
    let (_, context) = virtual_context(f.device, 0, &mut []);
    let q = hw_queue(context);
    let gate = fence(&f);
    wait_hw(q.handle, &[gate], &[1]).unwrap();
    submit_hw(q.handle, 1, &[]).unwrap();
    let mut paging = D3DKMT_CREATEPAGINGQUEUE { hDevice: f.device.0, ..Default::default() };
    call!(D3DKMTCreatePagingQueue(&mut paging)).unwrap();
    let (_, mut pending_file) = sync_file(f.device, gate, 1);
    assert_eq!(f.kernel.live_objects(ObjectKind::HwQueue), 1);
    f.process.destroy_device(f.device).unwrap();
    for kind in [ObjectKind::Context, ObjectKind::HwQueue, ObjectKind::PagingQueue, ObjectKind::SyncObject] {
        assert_eq!(f.kernel.live_objects(kind), 0, "{kind:?}");
    }
    let kinds: Vec<_> = f.process.local_handles().into_iter().map(|(_, k)| k).collect();
    assert_eq!(kinds, vec![HandleKind::Adapter]);
    assert!(f.kmd.log.lock().unwrap().iter().any(|l| l.starts_with("destroy ")));
    assert!(!readable(&mut pending_file), "a dropped sync file never fires");
}

#[test]
fn process_exit_leaves_nothing_alive() {
    let f = fixture();
    {
        let _bound = f.process.enter();
        let (_, context) = virtual_context(f.device, 0, &mut []);
        let q = hw_queue(context);
        let gate = fence(&f);
        wait_hw(q.handle, &[gate], &[1]).unwrap();
        let _file = sync_file(f.device, gate, 7);
        let mut paging = D3DKMT_CREATEPAGINGQUEUE { hDevice: f.device.0, ..Default::default() };
        call!(D3DKMTCreatePagingQueue(&mut paging)).unwrap();
    }
    f.process.exit();
    assert_eq!(f.kernel.total_live_objects(), 0);
}

#[test]
fn removal_fails_submissions_releases_gpu_waits_and_mark_device_as_error_loses_the_device() {
    let f = fixture();
    let _bound = f.process.enter();
    let (_, context) = virtual_context(f.device, 0, &mut []);
    let q = hw_queue(context);
    let gate = fence(&f);
    wait_hw(q.handle, &[gate], &[1]).unwrap();
    submit_hw(q.handle, 1, &[]).unwrap();
    assert_eq!(q.progress(), 0);
    f.kernel.remove_device(f.process.id(), f.device, DeviceLoss::DmaFault).unwrap();
    assert_eq!(f.process.fence_value(LocalHandle(gate)).unwrap(), u64::MAX);
    assert_eq!(q.progress(), u64::MAX, "the removal's fence jump released the queue, which ran");
    assert_eq!(submit_hw(q.handle, 2, &[]), NtStatus::DEVICE_REMOVED);
    assert_eq!(virtual_context(f.device, 0, &mut []).0, NtStatus::DEVICE_REMOVED);
    // Destroys still work.
    call!(D3DKMTDestroyHwQueue(&D3DKMT_DESTROYHWQUEUE { hHwQueue: q.handle })).unwrap();

    let device = f.process.create_device(f.adapter).unwrap();
    let mark = D3DKMT_MARKDEVICEASERROR { hDevice: device.0, Reason: 7 };
    assert_eq!(call!(D3DKMTMarkDeviceAsError(&mark)), NtStatus::INVALID_PARAMETER);
    let mark = D3DKMT_MARKDEVICEASERROR { hDevice: device.0, Reason: D3DKMT_DEVICE_ERROR_REASON_GENERIC };
    call!(D3DKMTMarkDeviceAsError(&mark)).unwrap();
    assert_eq!(f.process.device_health(device).unwrap(), DeviceHealth::Lost(DeviceLoss::Hung));
    assert_eq!(call!(D3DKMTMarkDeviceAsError(&mark)), NtStatus::DEVICE_REMOVED);
}

#[test]
fn statistics_count_packets_and_clock_calibration_follows_the_kernel_clock() {
    let f = fixture();
    let _bound = f.process.enter();
    let (_, context) = virtual_context(f.device, 1, &mut []);
    let q = hw_queue(context);
    let gate = fence(&f);
    submit_hw(q.handle, 1, &[]).unwrap();
    wait_hw(q.handle, &[gate], &[1]).unwrap();
    submit_hw(q.handle, 2, &[]).unwrap();
    let submit =
        D3DKMT_SUBMITCOMMAND { BroadcastContextCount: 1, BroadcastContext: [context; 64], ..Default::default() };
    call!(D3DKMTSubmitCommand(&submit)).unwrap();
    let luid = f.kernel.adapter_luids()[0];
    let mut query = D3DKMT_QUERYSTATISTICS { Type: D3DKMT_QUERYSTATISTICS_PROCESS_NODE, ..Default::default() };
    query.AdapterLuid.LowPart = luid.low;
    query.AdapterLuid.HighPart = luid.high;
    query.Anonymous.QueryProcessNode.NodeId = 1;
    call!(D3DKMTQueryStatistics(&query)).unwrap();
    // SAFETY: the PROCESS_NODE answer is in ProcessNodeInformation.
    let packets = unsafe { query.QueryResult.ProcessNodeInformation.PacketStatistics.QueuePacket[0] };
    assert_eq!((packets.PacketSubmited, packets.PacketCompleted), (3, 2), "one submission waits on the gate");
    query.Anonymous.QueryProcessNode.NodeId = 0;
    call!(D3DKMTQueryStatistics(&query)).unwrap();
    // SAFETY: as above.
    let packets = unsafe { query.QueryResult.ProcessNodeInformation.PacketStatistics.QueuePacket[0] };
    assert_eq!(packets.PacketSubmited, 0, "nothing ran on node 0");
    query.Type = D3DKMT_QUERYSTATISTICS_ADAPTER;
    call!(D3DKMTQueryStatistics(&query)).unwrap();
    // SAFETY: the ADAPTER answer is in AdapterInformation.
    let info = unsafe { query.QueryResult.AdapterInformation };
    assert_eq!((info.NodeCount, info.VidPnSourceCount, info.NbSegments), (2, 1, 2));

    f.kernel.advance(Duration::from_millis(3)).unwrap();
    let mut clock = D3DKMT_QUERYCLOCKCALIBRATION { hAdapter: f.adapter.0, NodeOrdinal: 1, ..Default::default() };
    call!(D3DKMTQueryClockCalibration(&mut clock)).unwrap();
    assert_eq!({ clock.ClockData.GpuFrequency }, 1_000_000_000);
    assert_eq!({ clock.ClockData.GpuClockCounter }, 3_000_000);
    assert_eq!({ clock.ClockData.CpuClockCounter }, 30_000);
    let mut bad = D3DKMT_QUERYCLOCKCALIBRATION { hAdapter: f.adapter.0, NodeOrdinal: 2, ..Default::default() };
    assert_eq!(call!(D3DKMTQueryClockCalibration(&mut bad)), NtStatus::INVALID_PARAMETER);
    assert_eq!({ bad.ClockData.GpuFrequency }, 0);
    call!(D3DKMTFlushHeapTransitions(&D3DKMT_FLUSHHEAPTRANSITIONS { hAdapter: f.adapter.0 })).unwrap();
    assert_eq!(
        call!(D3DKMTFlushHeapTransitions(&D3DKMT_FLUSHHEAPTRANSITIONS { hAdapter: f.device.0 })),
        NtStatus::INVALID_PARAMETER
    );
}

#[test]
fn hw_contexts_follow_their_policy() {
    let f = fixture();
    let _bound = f.process.enter();
    // Windows 11: not implemented, whatever the argument (ros-parity.tsv).
    assert_eq!(call!(D3DKMTCreateHwContext(std::ptr::null_mut())), NtStatus::NOT_IMPLEMENTED);
    assert_eq!(call!(D3DKMTDestroyHwContext(std::ptr::null())), NtStatus::NOT_IMPLEMENTED);
    drop(_bound);

    let policies = Policies {
        gpu: GpuPolicies { hw_contexts: HwContexts::Emulated, ..GpuPolicies::default() },
        ..Policies::default()
    };
    let f = fixture_with(policies);
    let _bound = f.process.enter();
    assert_eq!(call!(D3DKMTCreateHwContext(std::ptr::null_mut())), NtStatus::INVALID_PARAMETER);
    let mut args = D3DKMT_CREATEHWCONTEXT { hDevice: f.device.0, NodeOrdinal: 1, ..Default::default() };
    call!(D3DKMTCreateHwContext(&mut args)).unwrap();
    let q = hw_queue(args.hHwContext);
    submit_hw(q.handle, 9, &[]).unwrap();
    assert_eq!(q.progress(), 9);
    call!(D3DKMTDestroyHwContext(&D3DKMT_DESTROYHWCONTEXT { hHwContext: args.hHwContext })).unwrap();
    assert_eq!(f.kernel.live_objects(ObjectKind::HwQueue), 0, "the context's queues went with it");
    assert_eq!(f.kernel.live_objects(ObjectKind::Context), 0);
}

mod c_kmd {
    //! The GPU-work KMD table of the C control API.
    use super::*;
    use d3dkmt_emu::abi::control::*;
    use std::ffi::c_void;
    use std::sync::atomic::{AtomicU64, Ordering};
    use windows_sys::Win32::Foundation::LUID;

    static SUBMITS: AtomicU64 = AtomicU64::new(0);
    static LAST_PROGRESS: AtomicU64 = AtomicU64::new(0);
    static CONTEXTS: AtomicU64 = AtomicU64::new(0);

    extern "C" fn create(_: *mut c_void, _: LUID, key: u64, kind: u32, _: u32, data: *mut c_void, size: u32) -> i32 {
        assert_ne!(key, 0);
        assert_eq!(kind, 1, "a virtual context");
        if size > 0 {
            // SAFETY: the library passes `size` writable bytes.
            unsafe { *data.cast::<u8>() = b'K' };
        }
        CONTEXTS.fetch_add(1, Ordering::SeqCst);
        0
    }

    extern "C" fn submit(_: *mut c_void, s: *const d3dkmt_emu_submission) -> i32 {
        // SAFETY: valid during the callback.
        let s = unsafe { &*s };
        SUBMITS.fetch_add(1, Ordering::SeqCst);
        if s.has_progress_fence_value != 0 {
            LAST_PROGRESS.store(s.progress_fence_value, Ordering::SeqCst);
        }
        if s.progress_fence_value == 13 { NtStatus::NOT_SUPPORTED.0 } else { 0 }
    }

    extern "C" fn escape(_: *mut c_void, _: LUID, _: u32, _: u64, data: *mut c_void, size: u32) -> i32 {
        // SAFETY: the library passes `size` writable bytes.
        unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), size as usize) }.fill(0x77);
        0
    }

    #[test]
    fn a_c_kmd_sees_contexts_submissions_and_escapes() {
        let mut config = std::mem::MaybeUninit::<d3dkmt_emu_kernel_config>::uninit();
        NtStatus(d3dkmt_emu_kernel_config_init(config.as_mut_ptr())).unwrap();
        // SAFETY: initialised by the call above.
        let config = unsafe { config.assume_init() };
        let kernel = d3dkmt_emu_kernel_create(&config);
        assert!(!kernel.is_null());
        let mut table = d3dkmt_emu_kmd_gpu_callbacks {
            struct_size: 47,
            context: std::ptr::null_mut(),
            create_context: Some(create),
            destroy_context: None,
            submit: Some(submit),
            escape: Some(escape),
        };
        assert_eq!(NtStatus(d3dkmt_emu_kernel_set_kmd2(kernel, std::ptr::null(), &table)), NtStatus::INVALID_PARAMETER);
        table.struct_size = size_of::<d3dkmt_emu_kmd_gpu_callbacks>() as u32;
        NtStatus(d3dkmt_emu_kernel_set_kmd2(kernel, std::ptr::null(), &table)).unwrap();
        let process = d3dkmt_emu_process_create(kernel);
        let binding = d3dkmt_emu_thread_bind(process);

        let mut open = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: LUID { LowPart: 0x1234, HighPart: 0 }, hAdapter: 0 };
        call!(D3DKMTOpenAdapterFromLuid(&mut open)).unwrap();
        let mut device = D3DKMT_CREATEDEVICE::default();
        device.Anonymous.hAdapter = open.hAdapter;
        call!(D3DKMTCreateDevice(&mut device)).unwrap();
        let mut data = *b"x";
        let (status, context) = virtual_context(LocalHandle(device.hDevice), 0, &mut data);
        status.unwrap();
        assert_eq!(CONTEXTS.load(Ordering::SeqCst), 1);
        let q = hw_queue(context);
        submit_hw(q.handle, 12, b"p").unwrap();
        assert_eq!((SUBMITS.load(Ordering::SeqCst), LAST_PROGRESS.load(Ordering::SeqCst)), (1, 12));
        assert_eq!(submit_hw(q.handle, 13, &[]), NtStatus::NOT_SUPPORTED, "the C KMD refused");
        assert_eq!(q.progress(), 12);
        let mut bytes = [1u8; 3];
        let esc = D3DKMT_ESCAPE {
            hAdapter: open.hAdapter,
            Type: D3DKMT_ESCAPE_DRIVERPRIVATE,
            pPrivateDriverData: bytes.as_mut_ptr().cast(),
            PrivateDriverDataSize: 3,
            ..Default::default()
        };
        call!(D3DKMTEscape(&esc)).unwrap();
        assert_eq!(bytes, [0x77; 3]);

        NtStatus(d3dkmt_emu_thread_unbind(binding)).unwrap();
        d3dkmt_emu_process_exit(process);
        d3dkmt_emu_process_release(process);
        d3dkmt_emu_kernel_release(kernel);
    }
}

#[test]
fn concurrent_submits_and_signals_settle_to_the_same_end() {
    let f = fixture();
    let _bound = f.process.enter();
    let (_, context) = virtual_context(f.device, 0, &mut []);
    let gate = fence(&f);
    let queues: Vec<Queue> = (0..4).map(|_| hw_queue(context)).collect();
    let handles: Vec<(u32, u32)> = queues.iter().map(|q| (q.handle, q.fence)).collect();
    std::thread::scope(|s| {
        for &(queue, _) in &handles {
            let process = f.process.clone();
            s.spawn(move || {
                process.run(|| {
                    for round in 1..=50u64 {
                        wait_hw(queue, &[gate], &[round]).unwrap();
                        submit_hw(queue, round, &[]).unwrap();
                    }
                })
            });
        }
        let process = f.process.clone();
        let device = f.device;
        s.spawn(move || {
            for round in 1..=50u64 {
                process.signal_from_cpu(device, &[(LocalHandle(gate), round)]).unwrap();
                std::thread::yield_now();
            }
        });
    });
    for q in &queues {
        assert_eq!(q.progress(), 50, "every queue ran to the end once the gate reached 50");
        let (counters, pending) = f.process.hw_queue_counters(LocalHandle(q.handle)).unwrap();
        assert_eq!((counters.work_submitted, counters.work_completed, pending), (50, 50, 0));
    }
}

#[test]
fn gpu_signals_and_waits_on_a_removed_device_follow_the_removed_device_sync_policy() {
    for policy in [d3dkmt_emu::RemovedDeviceSync::Fail, d3dkmt_emu::RemovedDeviceSync::Proceed] {
        let mut policies = Policies::default();
        policies.removal.sync = policy;
        let f = fixture_with(policies);
        let _bound = f.process.enter();
        let (_, context) = virtual_context(f.device, 0, &mut []);
        let q = hw_queue(context);
        let keep = f
            .process
            .create_monitored_fence(f.device, SyncFlags { no_signal_max_value_on_tdr: true, ..SyncFlags::default() }, 0)
            .unwrap();
        f.kernel.remove_device(f.process.id(), f.device, DeviceLoss::Hung).unwrap();
        let signal = signal_hw(&[q.handle], &[keep.handle.0], &[4]);
        let wait = wait_hw(q.handle, &[keep.handle.0], &[4]);
        match policy {
            d3dkmt_emu::RemovedDeviceSync::Fail => {
                assert_eq!((signal, wait), (NtStatus::DEVICE_REMOVED, NtStatus::DEVICE_REMOVED));
                assert_eq!(f.process.fence_value(keep.handle).unwrap(), 0);
            }
            d3dkmt_emu::RemovedDeviceSync::Proceed => {
                assert_eq!((signal, wait), (NtStatus::SUCCESS, NtStatus::SUCCESS));
                assert_eq!(f.process.fence_value(keep.handle).unwrap(), 4);
            }
        }
        assert_eq!(submit_hw(q.handle, 1, &[]), NtStatus::DEVICE_REMOVED, "work is refused either way");
    }
}

#[test]
fn a_traced_gpu_session_replays_without_divergence() {
    let kernel = Kernel::new(KernelConfig::default());
    kernel.trace_start(d3dkmt_emu::TraceConfig { capacity: 4096, file: None }).unwrap();
    let process = kernel.create_process();
    {
        let _bound = process.enter();
        let luid = kernel.adapter_luids()[0];
        let mut open = D3DKMT_OPENADAPTERFROMLUID::default();
        open.AdapterLuid.LowPart = luid.low;
        open.AdapterLuid.HighPart = luid.high;
        call!(D3DKMTOpenAdapterFromLuid(&mut open)).unwrap();
        let adapter = LocalHandle(open.hAdapter);
        let mut create = D3DKMT_CREATEDEVICE::default();
        create.Anonymous.hAdapter = adapter.0;
        call!(D3DKMTCreateDevice(&mut create)).unwrap();
        let device = LocalHandle(create.hDevice);
        let mut data = *b"blob";
        let (status, context) = virtual_context(device, 1, &mut data);
        status.unwrap();
        let q = hw_queue(context);
        let mut fence = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device.0, ..Default::default() };
        fence.Info.Type = D3DDDI_MONITORED_FENCE;
        call!(D3DKMTCreateSynchronizationObject2(&mut fence)).unwrap();
        wait_hw(q.handle, &[fence.hSyncObject], &[1]).unwrap();
        submit_hw(q.handle, 3, b"pd").unwrap();
        let set = D3DKMT_SETCONTEXTSCHEDULINGPRIORITY { hContext: context, Priority: 2 };
        call!(D3DKMTSetContextSchedulingPriority(&set)).unwrap();
        let mut paging = D3DKMT_CREATEPAGINGQUEUE { hDevice: device.0, ..Default::default() };
        call!(D3DKMTCreatePagingQueue(&mut paging)).unwrap();
        let mut clock = D3DKMT_QUERYCLOCKCALIBRATION { hAdapter: adapter.0, ..Default::default() };
        call!(D3DKMTQueryClockCalibration(&mut clock)).unwrap();
        assert_eq!(call!(D3DKMTDestroyContext(&D3DKMT_DESTROYCONTEXT { hContext: 0 })), NtStatus::INVALID_PARAMETER);
        call!(D3DKMTDestroyHwQueue(&D3DKMT_DESTROYHWQUEUE { hHwQueue: q.handle })).unwrap();
        call!(D3DKMTDestroyContext(&D3DKMT_DESTROYCONTEXT { hContext: context })).unwrap();
        call!(D3DKMTDestroyPagingQueue(&mut D3DDDI_DESTROYPAGINGQUEUE { hPagingQueue: paging.hPagingQueue })).unwrap();
    }
    process.exit();
    let trace = d3dkmt_emu::Trace { dropped: 0, records: kernel.trace() };
    let text = trace.to_string();
    assert!(text.contains("D3DKMTCreateContextVirtual STATUS_SUCCESS"), "{text}");
    assert!(text.contains("*pPrivateDriverData=bytes:626c6f62"), "the driver data is decoded: {text}");
    assert!(text.contains("HwQueueProgressFenceId=0x3"), "{text}");
    let summary = d3dkmt_emu::replay::replay(&trace).unwrap_or_else(|d| panic!("divergence: {d:?}"));
    assert!(summary.replayed > 10, "{summary:?}");
}

#[test]
fn the_leak_report_reaches_every_gpu_object_and_what_queues_and_sync_files_hold() {
    let f = fixture();
    let _bound = f.process.enter();
    let (_, context) = virtual_context(f.device, 0, &mut []);
    let q = hw_queue(context);
    let mut paging = D3DKMT_CREATEPAGINGQUEUE { hDevice: f.device.0, ..Default::default() };
    call!(D3DKMTCreatePagingQueue(&mut paging)).unwrap();
    // Fences whose only holders are a queued GPU wait and a pending sync file.
    let (waited, filed) = (fence(&f), fence(&f));
    wait_hw(q.handle, &[waited], &[1]).unwrap();
    let (_, _file) = sync_file(f.device, filed, 1);
    f.process.destroy_sync_object(LocalHandle(waited)).unwrap();
    f.process.destroy_sync_object(LocalHandle(filed)).unwrap();
    let report = f.kernel.leak_report();
    assert!(report.unreachable.is_empty(), "{:?}", report.unreachable);
    for kind in [ObjectKind::Context, ObjectKind::HwQueue, ObjectKind::PagingQueue] {
        assert_eq!(report.objects.iter().filter(|o| o.kind == kind).count(), 1, "{kind:?}");
    }
    drop(_bound);
    f.process.exit();
    f.kernel.assert_no_leaks();
}

/// A GPU cycle through the exports, for the fault sweep: every create fails
/// once in turn, the failure is passed on, and process exit leaves nothing.
fn gpu_cycle(kernel: &Kernel) -> Result<(), NtStatus> {
    let process = kernel.create_process();
    let result = process.run(|| -> Result<(), NtStatus> {
        let luid = kernel.adapter_luids()[0];
        let mut open = D3DKMT_OPENADAPTERFROMLUID::default();
        open.AdapterLuid.LowPart = luid.low;
        open.AdapterLuid.HighPart = luid.high;
        call!(D3DKMTOpenAdapterFromLuid(&mut open)).ok()?;
        let mut device = D3DKMT_CREATEDEVICE::default();
        device.Anonymous.hAdapter = open.hAdapter;
        call!(D3DKMTCreateDevice(&mut device)).ok()?;
        let (status, context) = virtual_context(LocalHandle(device.hDevice), 0, &mut []);
        status.ok()?;
        let mut queue = D3DKMT_CREATEHWQUEUE { hHwContext: context, ..Default::default() };
        call!(D3DKMTCreateHwQueue(&mut queue)).ok()?;
        let mut gate = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device.hDevice, ..Default::default() };
        gate.Info.Type = D3DDDI_MONITORED_FENCE;
        call!(D3DKMTCreateSynchronizationObject2(&mut gate)).ok()?;
        wait_hw(queue.hHwQueue, &[gate.hSyncObject], &[1]).ok()?;
        submit_hw(queue.hHwQueue, 1, &[]).ok()?;
        let mut paging = D3DKMT_CREATEPAGINGQUEUE { hDevice: device.hDevice, ..Default::default() };
        call!(D3DKMTCreatePagingQueue(&mut paging)).ok()?;
        let mut file = D3DKMT_CREATESYNCFILE {
            hDevice: device.hDevice,
            hMonitoredFence: gate.hSyncObject,
            FenceValue: 1,
            hSyncFile: 0,
        };
        // SAFETY: a live, aligned struct; the export keeps nothing.
        NtStatus(unsafe { D3DKMTCreateSyncFile(&mut file) }).ok()?;
        // SAFETY: the descriptor the call handed us, closed once.
        drop(unsafe { std::fs::File::from_raw_fd(file.hSyncFile as i32) });
        Ok(())
    });
    process.exit();
    result
}

#[test]
fn sweep_over_a_gpu_cycle_is_clean() {
    let report = d3dkmt_emu::Sweep::new().run(gpu_cycle);
    report.assert_clean();
    let entries: Vec<d3dkmt_emu::Entry> = report.points.iter().map(|p| p.entry).collect();
    for entry in [
        d3dkmt_emu::Entry::D3DKMTCreateContextVirtual,
        d3dkmt_emu::Entry::D3DKMTCreateHwQueue,
        d3dkmt_emu::Entry::D3DKMTCreatePagingQueue,
        d3dkmt_emu::Entry::D3DKMTCreateSyncFile,
    ] {
        assert!(entries.contains(&entry), "{entry:?} is a sweep point: {entries:?}");
    }
    for run in &report.runs {
        assert!(run.leaks.is_clean(), "{}", run.leaks);
    }
}
