//! Device removal and TDR, driven by the fake KMD: what each process sees
//! afterwards (windows-semantics.md §2.2, §4.3, §5.1).
//!
//! Facts: creation calls on a stopped adapter or reset device return
//! `STATUS_DEVICE_REMOVED` (the CreateDevice, CreateSynchronizationObject2
//! and OpenSynchronizationObject pages); a GPU reset signals the monitored
//! fences a reset device could signal to their maximum value unless they were
//! created with `NoSignalMaxValueOnTdr` (D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS);
//! `D3DKMTGetDeviceState` reports `D3DKMT_DEVICEEXECUTION_STATE`. Sharing
//! rules as in tests/sessions.rs (WINE #52: NtSecuritySharing needs Shared).
#![allow(unsafe_code, reason = "calls the C ABI as C does, through windows-sys's declarations")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use d3dkmt_emu::abi::control::{
    d3dkmt_emu_kernel_create, d3dkmt_emu_kernel_live_objects, d3dkmt_emu_kernel_release, d3dkmt_emu_kmd_remove_adapter,
    d3dkmt_emu_kmd_remove_device, d3dkmt_emu_kmd_reset_device, d3dkmt_emu_process_create, d3dkmt_emu_process_current,
    d3dkmt_emu_process_exit, d3dkmt_emu_process_release, d3dkmt_emu_thread_bind, d3dkmt_emu_thread_unbind,
};
use d3dkmt_emu::{
    AdapterConfig, AdapterHealth, CreateSessionArgs, DeviceHealth, DeviceLoss, DuplicateOptions, Kernel, KernelConfig,
    Kmd, LocalHandle, Luid, NtHandle, NtStatus, Policies, Process, RemovalPolicies, RemovalSessions, RemovedDeviceSync,
    SessionStatus, TdrOutcome, WeakKernel, access,
};
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MONITORED_FENCE, D3DKMT_CREATEDEVICE, D3DKMT_CREATEPROTECTEDSESSION, D3DKMT_CREATESYNCHRONIZATIONOBJECT2,
    D3DKMT_DESTROYDEVICE, D3DKMT_DESTROYPROTECTEDSESSION, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT,
    D3DKMT_DEVICEEXECUTION_ACTIVE, D3DKMT_DEVICEEXECUTION_HUNG, D3DKMT_DEVICEEXECUTION_RESET,
    D3DKMT_DEVICEEXECUTION_STOPPED, D3DKMT_DEVICESTATE_EXECUTION, D3DKMT_DEVICESTATE_PAGE_FAULT,
    D3DKMT_DEVICESTATE_PRESENT, D3DKMT_DEVICESTATE_RESET, D3DKMT_GETDEVICESTATE, D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2,
    D3DKMT_QUERYPROTECTEDSESSIONSTATUS, D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU,
};
use windows_sys::Win32::Foundation::LUID;

/// Calls a `D3DKMT*` export through windows-sys's declaration.
macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer is NULL or points at a live, initialised
        // struct of the right type owned by the test, valid for the call.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) })
    };
}

const SHARED_NT: u32 = 0x3; // Shared | NtSecuritySharing
const NO_MAX_ON_TDR: u32 = 0x40; // NoSignalMaxValueOnTdr

/// A KMD that keeps a weak reference to its kernel, as a real one keeps its
/// callback interface, and removes devices through it.
#[derive(Default)]
struct RemovingKmd {
    kernel: Mutex<Option<WeakKernel>>,
    /// A device to remove from inside the create DDI (process id, handle).
    remove_during_create: Mutex<Option<(d3dkmt_emu::ProcessId, LocalHandle)>>,
    destroyed: Mutex<Vec<u64>>,
}

impl RemovingKmd {
    fn kernel(&self) -> Kernel {
        self.kernel.lock().unwrap().as_ref().and_then(WeakKernel::upgrade).expect("kernel alive")
    }
}

impl Kmd for RemovingKmd {
    fn create_protected_session(&self, args: &mut CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
        if let Some((pid, device)) = self.remove_during_create.lock().unwrap().take() {
            args.kernel.remove_device(pid, device, DeviceLoss::DmaFault).unwrap();
        }
        Ok(args.session.0)
    }

    fn destroy_protected_session(&self, _adapter: Luid, kmd_session: u64) {
        self.destroyed.lock().unwrap().push(kmd_session);
    }
}

fn kernel_with(policies: Policies, adapters: Vec<AdapterConfig>) -> (Kernel, Arc<RemovingKmd>) {
    let kernel = Kernel::new(KernelConfig { policies, adapters, ..KernelConfig::default() });
    let kmd = Arc::new(RemovingKmd::default());
    *kmd.kernel.lock().unwrap() = Some(kernel.downgrade());
    kernel.set_kmd(kmd.clone());
    (kernel, kmd)
}

fn kernel(policies: Policies) -> (Kernel, Arc<RemovingKmd>) {
    kernel_with(policies, KernelConfig::default().adapters)
}

fn removal_policies(removal: RemovalPolicies) -> Policies {
    Policies { removal, ..Policies::default() }
}

// --- C ABI helpers, each run as `p` ---

fn open_device(p: &Process, luid: Luid) -> (LocalHandle, LocalHandle) {
    let adapter = p.open_adapter_from_luid(luid).unwrap();
    let mut args = D3DKMT_CREATEDEVICE::default();
    args.Anonymous.hAdapter = adapter.0;
    p.run(|| call!(D3DKMTCreateDevice(&mut args))).unwrap();
    (adapter, LocalHandle(args.hDevice))
}

fn fence_args(device: LocalHandle, flags: u32, initial: u64) -> D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
    let mut args = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device.0, ..Default::default() };
    args.Info.Type = D3DDDI_MONITORED_FENCE;
    args.Info.Flags.Anonymous.Value = flags;
    args.Info.Anonymous.MonitoredFence.InitialFenceValue = initial;
    args
}

fn create_fence(p: &Process, device: LocalHandle, flags: u32, initial: u64) -> Result<LocalHandle, NtStatus> {
    let mut args = fence_args(device, flags, initial);
    p.run(|| call!(D3DKMTCreateSynchronizationObject2(&mut args))).ok()?;
    Ok(LocalHandle(args.hSyncObject))
}

fn session_args(device: LocalHandle, fence: LocalHandle) -> D3DKMT_CREATEPROTECTEDSESSION {
    D3DKMT_CREATEPROTECTEDSESSION { hDevice: device.0, hSyncObject: fence.0, ..Default::default() }
}

fn create_session(p: &Process, device: LocalHandle, fence: LocalHandle) -> Result<LocalHandle, NtStatus> {
    let mut args = session_args(device, fence);
    p.run(|| call!(D3DKMTCreateProtectedSession(&mut args))).ok()?;
    Ok(LocalHandle(args.hHandle))
}

fn session_status(p: &Process, session: LocalHandle) -> i32 {
    let mut args = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: session.0, Status: -1 };
    p.run(|| call!(D3DKMTQueryProtectedSessionStatus(&mut args))).unwrap();
    args.Status
}

fn device_state(p: &Process, device: LocalHandle, state_type: i32) -> (NtStatus, D3DKMT_GETDEVICESTATE) {
    let mut args = D3DKMT_GETDEVICESTATE { hDevice: device.0, StateType: state_type, ..Default::default() };
    args.Anonymous.ExecutionState = 0x5A5A;
    let status = p.run(|| call!(D3DKMTGetDeviceState(&mut args)));
    (status, args)
}

fn execution_state(p: &Process, device: LocalHandle) -> i32 {
    let (status, args) = device_state(p, device, D3DKMT_DEVICESTATE_EXECUTION);
    status.unwrap();
    // SAFETY: the field the EXECUTION query writes; an i32 of any value.
    unsafe { args.Anonymous.ExecutionState }
}

fn signal(p: &Process, device: LocalHandle, fence: LocalHandle, value: u64) -> NtStatus {
    let handles = [fence.0];
    let values = [value];
    let args = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device.0,
        ObjectCount: 1,
        ObjectHandleArray: handles.as_ptr(),
        FenceValueArray: values.as_ptr(),
        ..Default::default()
    };
    p.run(|| call!(D3DKMTSignalSynchronizationObjectFromCpu(&args)))
}

fn open_fence_from_nt(p: &Process, device: LocalHandle, nt: NtHandle) -> Result<LocalHandle, NtStatus> {
    let mut args =
        D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt.as_ptr(), hDevice: device.0, ..Default::default() };
    p.run(|| call!(D3DKMTOpenSyncObjectFromNtHandle2(&mut args))).ok()?;
    Ok(LocalHandle(args.hSyncObject))
}

fn share_to(from: &Process, object: LocalHandle, to: &Process) -> NtHandle {
    let nt = from.share_objects(&[object], None, access::GENERIC_ALL).unwrap();
    from.duplicate_nt_handle(nt, to, 0, DuplicateOptions { close_source: true, same_access: true }).unwrap()
}

fn bytes_of<T: Copy>(value: &T) -> Vec<u8> {
    // SAFETY: reads the bytes of a plain windows-sys struct the test owns.
    unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()).to_vec() }
}

/// Waits until `thread` has blocked (it has not finished after a while).
fn still_blocked<T>(thread: &std::thread::JoinHandle<T>) -> bool {
    std::thread::sleep(Duration::from_millis(100));
    !thread.is_finished()
}

#[test]
fn removing_a_device_while_its_session_is_shared_across_two_processes() {
    let (kernel, kmd) = kernel(Policies::default());
    let luid = kernel.adapter_luids()[0];
    let a = kernel.create_process();
    let b = kernel.create_process();
    let (a_adapter, a_device) = open_device(&a, luid);
    let (b_adapter, b_device) = open_device(&b, luid);

    // A: a shareable status fence (Shared | NtSecuritySharing, WINE #52), a
    // fence that opts out of the TDR signal, and a protected session.
    let status_fence = create_fence(&a, a_device, SHARED_NT, 10).unwrap();
    let kept_fence = create_fence(&a, a_device, NO_MAX_ON_TDR, 5).unwrap();
    let session = create_session(&a, a_device, status_fence).unwrap();
    assert_eq!(session_status(&a, session), SessionStatus::Ok as i32);

    // B: opens the session and the status fence through duplicated NT handles.
    let nt_session = share_to(&a, session, &b);
    let nt_fence = share_to(&a, status_fence, &b);
    let b_session = b.open_protected_session_from_nt_handle(nt_session).unwrap();
    let b_fence = open_fence_from_nt(&b, b_device, nt_fence).unwrap();
    assert_eq!(session_status(&b, b_session), SessionStatus::Ok as i32);
    assert_eq!(execution_state(&a, a_device), D3DKMT_DEVICEEXECUTION_ACTIVE);

    // CPU waiters, blocked before the removal: B on the status fence through
    // its own (live) device, A on the fence that keeps its value.
    let b_waiter = {
        let b = b.clone();
        std::thread::spawn(move || b.wait_from_cpu(b_device, &[(b_fence, 1_000)], false))
    };
    let a_waiter = {
        let a = a.clone();
        std::thread::spawn(move || a.wait_from_cpu(a_device, &[(kept_fence, 1_000)], false))
    };
    assert!(still_blocked(&b_waiter) && still_blocked(&a_waiter), "both waits block before the removal");

    // The KMD removes A's device (a hang), through its weak kernel reference.
    kmd.kernel().remove_device(a.id(), a_device, DeviceLoss::Hung).unwrap();

    // Both processes see the session INVALID (RemovalSessions::Invalidate).
    assert_eq!(session_status(&a, session), SessionStatus::Invalid as i32);
    assert_eq!(session_status(&b, b_session), SessionStatus::Invalid as i32);
    // The status fence moved: bumped, then signalled to its maximum by the
    // TDR rule, in both processes' views.
    assert_eq!(a.fence_value(status_fence).unwrap(), u64::MAX);
    assert_eq!(b.fence_value(b_fence).unwrap(), u64::MAX);
    assert_eq!(a.protected_session_fence_value(session).unwrap(), u64::MAX);
    // NoSignalMaxValueOnTdr: untouched.
    assert_eq!(a.fence_value(kept_fence).unwrap(), 5);

    // The blocked waiters wake: B's fence reached its value; A's did not, and
    // its device is gone (RemovedDeviceSync::Fail).
    assert_eq!(b_waiter.join().unwrap(), Ok(()));
    assert_eq!(a_waiter.join().unwrap().map_err(|e| e.status()), Err(NtStatus::DEVICE_REMOVED));

    // GetDeviceState reports the removal; B's device is unaffected.
    assert_eq!(execution_state(&a, a_device), D3DKMT_DEVICEEXECUTION_HUNG);
    assert_eq!(execution_state(&b, b_device), D3DKMT_DEVICEEXECUTION_ACTIVE);
    assert_eq!(a.device_health(a_device).unwrap(), DeviceHealth::Lost(DeviceLoss::Hung));
    let (status, _) = device_state(&a, a_device, D3DKMT_DEVICESTATE_RESET);
    assert_eq!(status, NtStatus::DEVICE_REMOVED);

    // Creates and opens on the removed device fail, leaving the struct as it was.
    let mut args = fence_args(a_device, 0, 0);
    let before = bytes_of(&args);
    assert_eq!(a.run(|| call!(D3DKMTCreateSynchronizationObject2(&mut args))), NtStatus::DEVICE_REMOVED);
    assert_eq!(bytes_of(&args), before, "a failed create writes nothing");
    let mut args = session_args(a_device, kept_fence);
    let before = bytes_of(&args);
    assert_eq!(a.run(|| call!(D3DKMTCreateProtectedSession(&mut args))), NtStatus::DEVICE_REMOVED);
    assert_eq!(bytes_of(&args), before);
    let nt_back = share_to(&b, b_fence, &a);
    assert_eq!(open_fence_from_nt(&a, a_device, nt_back), Err(NtStatus::DEVICE_REMOVED));
    a.close_nt_handle(nt_back).unwrap();
    assert_eq!(signal(&a, a_device, kept_fence, 6), NtStatus::DEVICE_REMOVED);
    // B's device still works, and a second removal of A's is refused.
    let b_new = create_fence(&b, b_device, 0, 0).unwrap();
    assert_eq!(signal(&b, b_device, b_new, 1), NtStatus::SUCCESS);
    assert_eq!(
        kernel.remove_device(a.id(), a_device, DeviceLoss::Stopped).map_err(|e| e.status()),
        Err(NtStatus::DEVICE_REMOVED)
    );
    assert_eq!(execution_state(&a, a_device), D3DKMT_DEVICEEXECUTION_HUNG, "the first reason stays");

    // Destroys still work on the removed device.
    let mut destroy_session = D3DKMT_DESTROYPROTECTEDSESSION { hHandle: session.0 };
    a.run(|| call!(D3DKMTDestroyProtectedSession(&mut destroy_session))).unwrap();
    for fence in [kept_fence, status_fence] {
        let args = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence.0 };
        a.run(|| call!(D3DKMTDestroySynchronizationObject(&args))).unwrap();
    }
    let args = D3DKMT_DESTROYDEVICE { hDevice: a_device.0 };
    a.run(|| call!(D3DKMTDestroyDevice(&args))).unwrap();
    a.close_adapter(a_adapter).unwrap();
    assert_eq!(a.local_handle_count(), 0);
    assert!(kmd.destroyed.lock().unwrap().is_empty(), "B still holds the session");

    b.destroy_protected_session(b_session).unwrap();
    b.close_nt_handle(nt_session).unwrap();
    assert_eq!(kmd.destroyed.lock().unwrap().len(), 1, "the destroy DDI ran once the last reference went");
    b.close_adapter(b_adapter).unwrap();
    a.exit();
    b.exit();
    assert_eq!(kernel.total_live_objects(), 0, "nothing leaks");
}

#[test]
fn a_tdr_loses_the_device_by_default_and_reports_reset() {
    let (kernel, _kmd) = kernel(Policies::default());
    let a = kernel.create_process();
    let (_, device) = open_device(&a, kernel.adapter_luids()[0]);
    let fence = create_fence(&a, device, 0, 3).unwrap();
    kernel.reset_device(a.id(), device).unwrap();
    assert_eq!(execution_state(&a, device), D3DKMT_DEVICEEXECUTION_RESET);
    assert_eq!(a.fence_value(fence).unwrap(), u64::MAX);
    assert_eq!(create_fence(&a, device, 0, 0), Err(NtStatus::DEVICE_REMOVED));
    assert_eq!(
        kernel.reset_device(a.id(), device).map_err(|e| e.status()),
        Err(NtStatus::DEVICE_REMOVED),
        "a lost device cannot be reset again"
    );
    a.exit();
    assert_eq!(kernel.total_live_objects(), 0);
}

#[test]
fn a_device_that_survives_a_tdr_stays_active_but_its_fences_jump() {
    let policies = removal_policies(RemovalPolicies { tdr: TdrOutcome::DeviceSurvives, ..Default::default() });
    let (kernel, _kmd) = kernel(policies);
    let a = kernel.create_process();
    let (_, device) = open_device(&a, kernel.adapter_luids()[0]);
    let fence = create_fence(&a, device, 0, 3).unwrap();
    let kept = create_fence(&a, device, NO_MAX_ON_TDR, 3).unwrap();
    let session = create_session(&a, device, kept).unwrap();
    kernel.reset_device(a.id(), device).unwrap();
    assert_eq!(execution_state(&a, device), D3DKMT_DEVICEEXECUTION_ACTIVE);
    assert_eq!(a.fence_value(fence).unwrap(), u64::MAX);
    assert_eq!(a.fence_value(kept).unwrap(), 4, "only the INVALID bump moved the status fence");
    assert_eq!(session_status(&a, session), SessionStatus::Invalid as i32);
    assert!(create_fence(&a, device, 0, 0).is_ok(), "the device survived");
    // A fence another process created, opened on a device that may signal
    // it, jumps when that device is reset.
    let b = kernel.create_process();
    let (_, b_device) = open_device(&b, kernel.adapter_luids()[0]);
    let created = create_fence(&a, device, SHARED_NT, 7).unwrap();
    let b_opened = open_fence_from_nt(&b, b_device, share_to(&a, created, &b)).unwrap();
    kernel.reset_device(b.id(), b_device).unwrap();
    assert_eq!(a.fence_value(created).unwrap(), u64::MAX);
    assert_eq!(b.fence_value(b_opened).unwrap(), u64::MAX);
    a.exit();
    b.exit();
    assert_eq!(kernel.total_live_objects(), 0);
}

#[test]
fn only_fences_the_device_could_signal_jump() {
    let (kernel, _kmd) = kernel(Policies::default());
    let a = kernel.create_process();
    let b = kernel.create_process();
    let (_, a_device) = open_device(&a, kernel.adapter_luids()[0]);
    let (_, b_device) = open_device(&b, kernel.adapter_luids()[0]);
    let fence = create_fence(&b, b_device, SHARED_NT, 7).unwrap();
    let nt = share_to(&b, fence, &a);
    let mut args =
        D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt.as_ptr(), hDevice: a_device.0, ..Default::default() };
    args.Flags.Anonymous.Value = 0x10; // NoSignal: A's device may not signal it
    a.run(|| call!(D3DKMTOpenSyncObjectFromNtHandle2(&mut args))).unwrap();
    kernel.remove_device(a.id(), a_device, DeviceLoss::DmaPageFault).unwrap();
    assert_eq!(b.fence_value(fence).unwrap(), 7, "A's device could not signal it");
    assert_eq!(execution_state(&a, a_device), 7, "ERROR_DMAPAGEFAULT");
    a.exit();
    b.exit();
    assert_eq!(kernel.total_live_objects(), 0);
}

#[test]
fn sessions_keep_their_status_under_the_keep_policy() {
    let policies = removal_policies(RemovalPolicies { sessions: RemovalSessions::Keep, ..Default::default() });
    let (kernel, _kmd) = kernel(policies);
    let a = kernel.create_process();
    let (_, device) = open_device(&a, kernel.adapter_luids()[0]);
    let fence = create_fence(&a, device, NO_MAX_ON_TDR, 1).unwrap();
    let session = create_session(&a, device, fence).unwrap();
    kernel.remove_device(a.id(), device, DeviceLoss::Hung).unwrap();
    assert_eq!(session_status(&a, session), SessionStatus::Ok as i32);
    assert_eq!(a.fence_value(fence).unwrap(), 1);
    a.exit();
}

#[test]
fn signals_and_waits_proceed_on_a_lost_device_under_the_proceed_policy() {
    let policies = removal_policies(RemovalPolicies { sync: RemovedDeviceSync::Proceed, ..Default::default() });
    let (kernel, _kmd) = kernel(policies);
    let a = kernel.create_process();
    let (_, device) = open_device(&a, kernel.adapter_luids()[0]);
    let fence = create_fence(&a, device, NO_MAX_ON_TDR, 1).unwrap();
    kernel.remove_device(a.id(), device, DeviceLoss::Hung).unwrap();
    assert_eq!(signal(&a, device, fence, 9), NtStatus::SUCCESS);
    assert_eq!(a.wait_from_cpu(device, &[(fence, 9)], false), Ok(()));
    assert_eq!(create_fence(&a, device, 0, 0), Err(NtStatus::DEVICE_REMOVED), "creates still fail");
    a.exit();
}

#[test]
fn a_status_fence_at_its_maximum_does_not_wrap_on_a_later_bump() {
    let (kernel, _kmd) = kernel(Policies::default());
    let a = kernel.create_process();
    let (_, device) = open_device(&a, kernel.adapter_luids()[0]);
    let fence = create_fence(&a, device, 0, 1).unwrap();
    let session = create_session(&a, device, fence).unwrap();
    kernel.remove_device(a.id(), device, DeviceLoss::Hung).unwrap();
    assert_eq!(a.fence_value(fence).unwrap(), u64::MAX);
    let key = a.protected_session_key(session).unwrap();
    kernel.set_protected_session_status(key, SessionStatus::Ok).unwrap();
    assert_eq!(a.fence_value(fence).unwrap(), u64::MAX, "the revalidation bump saturates");
    a.exit();
}

#[test]
fn a_device_lost_while_the_create_ddi_runs_fails_the_create_and_destroys_the_session() {
    let (kernel, kmd) = kernel(Policies::default());
    let a = kernel.create_process();
    let (_, device) = open_device(&a, kernel.adapter_luids()[0]);
    let fence = create_fence(&a, device, 0, 1).unwrap();
    *kmd.remove_during_create.lock().unwrap() = Some((a.id(), device));
    assert_eq!(create_session(&a, device, fence), Err(NtStatus::DEVICE_REMOVED));
    assert_eq!(kmd.destroyed.lock().unwrap().len(), 1, "the accepted session is destroyed again");
    assert!(kernel.protected_sessions().is_empty());
    assert_eq!(execution_state(&a, device), 6, "ERROR_DMAFAULT");
    a.exit();
    assert_eq!(kernel.total_live_objects(), 0);
}

#[test]
fn removing_an_adapter_stops_every_device_on_it_in_every_process() {
    let second = Luid { low: 0x5678, high: 0 };
    let adapters = vec![AdapterConfig::new(Luid { low: 0x1234, high: 0 }), AdapterConfig::new(second)];
    let (kernel, _kmd) = kernel_with(Policies::default(), adapters);
    let first = kernel.adapter_luids()[0];
    let a = kernel.create_process();
    let b = kernel.create_process();
    let (a_adapter, a_device) = open_device(&a, first);
    let (_, b_device) = open_device(&b, first);
    let (_, other_device) = open_device(&b, second);
    let a_fence = create_fence(&a, a_device, SHARED_NT, 2).unwrap();
    let other_fence = create_fence(&b, other_device, 0, 2).unwrap();
    let session = create_session(&a, a_device, a_fence).unwrap();
    // A fence held only through an NT handle still jumps.
    let held = create_fence(&b, b_device, SHARED_NT, 3).unwrap();
    let nt = b.share_objects(&[held], None, access::GENERIC_ALL).unwrap();
    b.destroy_sync_object(held).unwrap();

    kernel.remove_adapter(first).unwrap();
    assert_eq!(kernel.adapter_health(first), Some(AdapterHealth::Stopped));
    assert_eq!(kernel.adapter_health(second), Some(AdapterHealth::Running));

    assert_eq!(execution_state(&a, a_device), D3DKMT_DEVICEEXECUTION_STOPPED);
    assert_eq!(execution_state(&b, b_device), D3DKMT_DEVICEEXECUTION_STOPPED);
    assert_eq!(execution_state(&b, other_device), D3DKMT_DEVICEEXECUTION_ACTIVE);
    assert_eq!(a.fence_value(a_fence).unwrap(), u64::MAX);
    assert_eq!(b.fence_value(other_fence).unwrap(), 2, "another adapter's fence");
    assert_eq!(session_status(&a, session), SessionStatus::Invalid as i32);
    let reopened = open_fence_from_nt(&b, other_device, nt).unwrap();
    assert_eq!(b.fence_value(reopened).unwrap(), u64::MAX, "held only by an NT handle, it jumped too");

    // CreateDevice on the stopped adapter: DEVICE_REMOVED, nothing written.
    let mut args = D3DKMT_CREATEDEVICE::default();
    args.Anonymous.hAdapter = a_adapter.0;
    args.hDevice = 0xABCD;
    assert_eq!(a.run(|| call!(D3DKMTCreateDevice(&mut args))), NtStatus::DEVICE_REMOVED);
    assert_eq!(args.hDevice, 0xABCD);
    assert_eq!(create_fence(&b, b_device, 0, 0), Err(NtStatus::DEVICE_REMOVED));

    assert_eq!(kernel.remove_adapter(first).map_err(|e| e.status()), Err(NtStatus::DEVICE_REMOVED));
    let unknown = Luid { low: 0x9999, high: 0 };
    assert_eq!(kernel.remove_adapter(unknown).map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER));
    assert_eq!(kernel.adapter_health(unknown), None);
    b.close_nt_handle(nt).unwrap();
    a.exit();
    b.exit();
    assert_eq!(kernel.total_live_objects(), 0);
}

#[test]
fn the_c_control_api_removes_and_resets_devices() {
    let (kernel, _kmd) = kernel(Policies::default());
    let a = kernel.create_process();
    let (_, first) = open_device(&a, kernel.adapter_luids()[0]);
    let (_, second) = open_device(&a, kernel.adapter_luids()[0]);
    let c_a = a.run(|| d3dkmt_emu_process_current());
    for bad in [0, 1, 8, -1] {
        assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_device(c_a, first.0, bad)), NtStatus::INVALID_PARAMETER);
    }
    assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_device(c_a, 0x1234_5678, 3)), NtStatus::INVALID_PARAMETER);
    assert_eq!(execution_state(&a, first), D3DKMT_DEVICEEXECUTION_ACTIVE, "refused calls change nothing");
    assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_device(c_a, first.0, 5)), NtStatus::SUCCESS);
    assert_eq!(execution_state(&a, first), 5, "ERROR_OUTOFMEMORY");
    assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_device(c_a, first.0, 3)), NtStatus::DEVICE_REMOVED);
    // NULL process: the calling thread's.
    let status = a.run(|| NtStatus(d3dkmt_emu_kmd_reset_device(std::ptr::null(), second.0)));
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(execution_state(&a, second), D3DKMT_DEVICEEXECUTION_RESET);
    a.exit();
    assert_eq!(NtStatus(d3dkmt_emu_kmd_reset_device(c_a, second.0)), NtStatus::PROCESS_IS_TERMINATING);
    assert_eq!(
        kernel.remove_device(a.id(), second, DeviceLoss::Hung).map_err(|e| e.status()),
        Err(NtStatus::INVALID_PARAMETER),
        "an exited process has no devices to remove"
    );
    d3dkmt_emu_process_release(c_a);
}

#[test]
fn a_c_program_stops_its_adapter_and_sees_its_device_stopped() {
    let c_kernel = d3dkmt_emu_kernel_create(std::ptr::null());
    let c_process = d3dkmt_emu_process_create(c_kernel);
    let binding = d3dkmt_emu_thread_bind(c_process);
    let luid = LUID { LowPart: 0x1234, HighPart: 0 };
    let mut open = windows_sys::Wdk::Graphics::Direct3D::D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: luid, hAdapter: 0 };
    call!(D3DKMTOpenAdapterFromLuid(&mut open)).unwrap();
    let mut create = D3DKMT_CREATEDEVICE::default();
    create.Anonymous.hAdapter = open.hAdapter;
    call!(D3DKMTCreateDevice(&mut create)).unwrap();
    assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_adapter(c_kernel, luid)), NtStatus::SUCCESS);
    let mut state = D3DKMT_GETDEVICESTATE {
        hDevice: create.hDevice,
        StateType: D3DKMT_DEVICESTATE_EXECUTION,
        ..Default::default()
    };
    call!(D3DKMTGetDeviceState(&mut state)).unwrap();
    // SAFETY: the field the EXECUTION query writes.
    assert_eq!(unsafe { state.Anonymous.ExecutionState }, D3DKMT_DEVICEEXECUTION_STOPPED);
    assert_eq!(call!(D3DKMTCreateDevice(&mut create)), NtStatus::DEVICE_REMOVED);
    assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_adapter(c_kernel, luid)), NtStatus::DEVICE_REMOVED);
    let unknown = LUID { LowPart: 0x9999, HighPart: 0 };
    assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_adapter(c_kernel, unknown)), NtStatus::INVALID_PARAMETER);
    assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_adapter(std::ptr::null(), luid)), NtStatus::INVALID_PARAMETER);
    let destroy = D3DKMT_DESTROYDEVICE { hDevice: create.hDevice };
    call!(D3DKMTDestroyDevice(&destroy)).unwrap();
    assert_eq!(d3dkmt_emu_kernel_live_objects(c_kernel, u32::MAX), 0);
    assert_eq!(NtStatus(d3dkmt_emu_thread_unbind(binding)), NtStatus::SUCCESS);
    d3dkmt_emu_process_exit(c_process);
    d3dkmt_emu_process_release(c_process);
    d3dkmt_emu_kernel_release(c_kernel);
}

#[test]
fn get_device_state_checks_its_arguments_and_writes_nothing_on_failure() {
    let (kernel, _kmd) = kernel(Policies::default());
    let a = kernel.create_process();
    let (adapter, device) = open_device(&a, kernel.adapter_luids()[0]);
    assert_eq!(a.run(|| call!(D3DKMTGetDeviceState(std::ptr::null_mut()))), NtStatus::INVALID_PARAMETER);
    for (handle, state_type, expected) in [
        (LocalHandle(0), D3DKMT_DEVICESTATE_EXECUTION, NtStatus::INVALID_PARAMETER),
        (adapter, D3DKMT_DEVICESTATE_EXECUTION, NtStatus::INVALID_PARAMETER),
        (device, 0, NtStatus::INVALID_PARAMETER),
        (device, 7, NtStatus::INVALID_PARAMETER),
        (device, -1, NtStatus::INVALID_PARAMETER),
        (device, D3DKMT_DEVICESTATE_PRESENT, NtStatus::NOT_IMPLEMENTED),
        (device, D3DKMT_DEVICESTATE_PAGE_FAULT, NtStatus::NOT_IMPLEMENTED),
    ] {
        let mut args = D3DKMT_GETDEVICESTATE { hDevice: handle.0, StateType: state_type, ..Default::default() };
        args.Anonymous.ExecutionState = 0x5A5A;
        let before = bytes_of(&args);
        assert_eq!(a.run(|| call!(D3DKMTGetDeviceState(&mut args))), expected, "{handle:?} type {state_type}");
        assert_eq!(bytes_of(&args), before, "{handle:?} type {state_type}: untouched");
    }
    let (status, args) = device_state(&a, device, D3DKMT_DEVICESTATE_RESET);
    assert_eq!(status, NtStatus::SUCCESS);
    // SAFETY: the field the RESET query writes; a u32 of any value.
    assert_eq!(unsafe { args.Anonymous.ResetState.Anonymous.Value }, 0, "no desktop switch");
    a.exit();
}
