//! Synchronization objects end to end, for what does not fit a conformance
//! row: blocking CPU waits on several fences across threads and processes,
//! global handles across processes and exits, device destruction, policies,
//! and the object-name query of the C control API.
//!
//! The exports are called as code written against windows-sys calls them:
//! through windows-sys's own declarations, which resolve to our symbols.
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use std::sync::mpsc;
use std::time::Duration;

use std::ffi::c_char;

use d3dkmt_emu::abi::control::{d3dkmt_emu_nt_object_name, d3dkmt_emu_nt_object_type_name, d3dkmt_emu_process};
use d3dkmt_emu::{
    CpuNotificationEvent, Kernel, KernelConfig, LocalHandle, NtHandle, NtStatus, ObjectKind, Policies, Process,
    SyncFlags, SyncKind, access,
};
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_SYNCHRONIZATION_MUTEX, D3DKMT_CREATESYNCHRONIZATIONOBJECT2, D3DKMT_DESTROYDEVICE,
    D3DKMT_DESTROYSYNCHRONIZATIONOBJECT, D3DKMT_OPENSYNCHRONIZATIONOBJECT, D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU,
};
use windows_sys::Win32::Foundation::HANDLE;

/// Calls a `D3DKMT*` export through windows-sys's declaration.
macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument is a reference to a live, aligned,
        // initialised struct, and every array field points at as many
        // elements as its count says, valid for the whole call; the export
        // keeps none of them.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) })
    };
}

const SHARED: SyncFlags = SyncFlags {
    shared: true,
    nt_security_sharing: false,
    cross_adapter: false,
    no_signal: false,
    no_wait: false,
    no_signal_max_value_on_tdr: false,
};
const SHARED_NT: SyncFlags = SyncFlags { nt_security_sharing: true, ..SHARED };

fn kernel(policies: Policies) -> Kernel {
    Kernel::new(KernelConfig { policies, ..KernelConfig::default() })
}

fn device(p: &Process, k: &Kernel) -> LocalHandle {
    let adapter = p.open_adapter_from_luid(k.adapter_luids()[0]).unwrap();
    p.create_device(adapter).unwrap()
}

fn fence(p: &Process, device: LocalHandle, flags: SyncFlags) -> LocalHandle {
    p.create_monitored_fence(device, flags, 0).unwrap().handle
}

fn signal(device: LocalHandle, handles: &[u32], values: &[u64]) -> NtStatus {
    let args = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device.0,
        ObjectCount: handles.len() as u32,
        ObjectHandleArray: handles.as_ptr(),
        FenceValueArray: values.as_ptr(),
        ..Default::default()
    };
    call!(D3DKMTSignalSynchronizationObjectFromCpu(&args))
}

fn wait(device: LocalHandle, handles: &[u32], values: &[u64], any: bool) -> NtStatus {
    let mut args = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device.0,
        ObjectCount: handles.len() as u32,
        ObjectHandleArray: handles.as_ptr(),
        FenceValueArray: values.as_ptr(),
        ..Default::default()
    };
    args.Flags.Anonymous.Value = any as u32;
    call!(D3DKMTWaitForSynchronizationObjectFromCpu(&args))
}

/// Starts a CPU wait as `p` on another thread; the receiver gets its status.
fn spawn_wait(
    p: &Process,
    device: LocalHandle,
    handles: Vec<u32>,
    values: Vec<u64>,
    any: bool,
) -> mpsc::Receiver<NtStatus> {
    let (tx, rx) = mpsc::channel();
    let p = p.clone();
    std::thread::spawn(move || {
        let _bound = p.enter();
        let _ = tx.send(wait(device, &handles, &values, any));
    });
    rx
}

const SHORT: Duration = Duration::from_millis(150);
const LONG: Duration = Duration::from_secs(10);

#[test]
fn wait_all_returns_only_once_every_fence_is_reached() {
    let k = kernel(Policies::default());
    let p = k.create_process();
    let _bound = p.enter();
    let d = device(&p, &k);
    let fences: Vec<u32> = (0..3).map(|_| fence(&p, d, SyncFlags::default()).0).collect();
    let done = spawn_wait(&p, d, fences.clone(), vec![1, 2, 3], false);
    assert!(signal(d, &fences[..2], &[1, 2]).is_ok());
    assert_eq!(
        done.recv_timeout(SHORT),
        Err(mpsc::RecvTimeoutError::Timeout),
        "wait-all returned with one fence short"
    );
    assert!(signal(d, &fences[2..], &[3]).is_ok());
    assert_eq!(done.recv_timeout(LONG), Ok(NtStatus::SUCCESS), "wait-all did not return once all were reached");
}

#[test]
fn wait_any_returns_when_one_fence_is_reached() {
    let k = kernel(Policies::default());
    let p = k.create_process();
    let _bound = p.enter();
    let d = device(&p, &k);
    let fences: Vec<u32> = (0..3).map(|_| fence(&p, d, SyncFlags::default()).0).collect();
    let done = spawn_wait(&p, d, fences.clone(), vec![5, 5, 5], true);
    assert!(signal(d, &fences[..1], &[4]).is_ok(), "below the target");
    assert_eq!(done.recv_timeout(SHORT), Err(mpsc::RecvTimeoutError::Timeout), "wait-any returned below every target");
    assert!(signal(d, &fences[1..2], &[6]).is_ok(), "beyond the target counts");
    assert_eq!(done.recv_timeout(LONG), Ok(NtStatus::SUCCESS), "wait-any did not return once one was reached");
}

#[test]
fn a_fence_signalled_in_one_process_wakes_a_waiter_in_another() {
    let k = kernel(Policies::default());
    let (a, b) = (k.create_process(), k.create_process());
    let (da, db) = (device(&a, &k), device(&b, &k));
    let fa = fence(&a, da, SHARED_NT);
    let other = fence(&a, da, SyncFlags::default());
    let nt = a.share_objects(&[fa], None, access::SYNC_ALL_ACCESS).unwrap();
    let nt_b =
        a.duplicate_nt_handle(nt, &b, 0, d3dkmt_emu::DuplicateOptions { same_access: true, ..Default::default() });
    let fb = b.open_sync_object_from_nt_handle(nt_b.unwrap(), db, SyncFlags::default()).unwrap().handle;
    let done = spawn_wait(&b, db, vec![fb.0], vec![9], false);
    {
        let _bound = a.enter();
        assert!(signal(da, &[other.0], &[9]).is_ok(), "another fence");
        assert_eq!(done.recv_timeout(SHORT), Err(mpsc::RecvTimeoutError::Timeout), "woken by another fence");
        assert!(signal(da, &[fa.0], &[9]).is_ok());
    }
    assert_eq!(done.recv_timeout(LONG), Ok(NtStatus::SUCCESS));
}

#[test]
fn a_wait_list_with_a_mutex_is_refused_before_blocking() {
    let k = kernel(Policies::default());
    let p = k.create_process();
    let _bound = p.enter();
    let d = device(&p, &k);
    let f = fence(&p, d, SyncFlags::default());
    let m = p.create_sync_object(d, SyncKind::Mutex { initial_state: true }, SyncFlags::default()).unwrap();
    // Unreached values: a wait that got past its checks would block for good.
    let done = spawn_wait(&p, d, vec![f.0, m.handle.0], vec![u64::MAX, u64::MAX], true);
    assert_eq!(done.recv_timeout(LONG), Ok(NtStatus::INVALID_PARAMETER));
}

#[test]
fn every_kind_is_kept_as_created() {
    let k = kernel(Policies::default());
    let p = k.create_process();
    let d = device(&p, &k);
    for kind in [
        SyncKind::Mutex { initial_state: true },
        SyncKind::Semaphore { max_count: 9, initial_count: 3 },
        SyncKind::Fence { initial_value: 12 },
        SyncKind::CpuNotification { event: 0x1234 },
        SyncKind::MonitoredFence,
    ] {
        let created = p.create_sync_object(d, kind, SyncFlags::default()).unwrap();
        assert_eq!(p.sync_object_kind(created.handle), Ok(kind));
        assert_eq!(created.global, None);
        assert_eq!(created.cpu_va.is_null(), kind != SyncKind::MonitoredFence, "{kind:?}: CPU VA");
    }
    assert_eq!(k.live_objects(ObjectKind::SyncObject), 5);
}

#[test]
fn reject_all_policy_refuses_every_cpu_notification_event() {
    let policies = Policies { cpu_notification_event: CpuNotificationEvent::RejectAll, ..Policies::default() };
    let k = kernel(policies);
    let p = k.create_process();
    let d = device(&p, &k);
    let r = p.create_sync_object(d, SyncKind::CpuNotification { event: 0x44 }, SyncFlags::default());
    assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::INVALID_HANDLE));
    assert_eq!(k.live_objects(ObjectKind::SyncObject), 0);
}

#[test]
fn a_global_handle_lives_as_long_as_any_process_holds_the_object() {
    // WINE #6, #7, #51 with three processes, through the Rust API.
    let k = kernel(Policies::default());
    let (a, b, c) = (k.create_process(), k.create_process(), k.create_process());
    let d = device(&a, &k);
    let created = a.create_sync_object(d, SyncKind::Semaphore { max_count: 2, initial_count: 0 }, SHARED).unwrap();
    let global = created.global.expect("Shared gives a global handle");
    assert_eq!(a.sync_object_global_handle(created.handle), Ok(Some(global)));
    let hb = b.open_sync_object_from_global(global).unwrap();
    assert_eq!(b.sync_object_global_handle(hb), Ok(Some(global)), "the opened handle names the same object");
    a.destroy_sync_object(created.handle).unwrap();
    assert!(c.open_sync_object_from_global(global).is_ok(), "B's handle keeps the global openable");
    c.exit();
    b.exit();
    assert_eq!(k.live_objects(ObjectKind::SyncObject), 0, "exited processes hold nothing");
    assert_eq!(k.live_global_handles(), 0, "the global went with its object");
    assert_eq!(a.open_sync_object_from_global(global).map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER));
}

#[test]
fn a_global_handle_of_an_nt_shared_kind_is_refused() {
    // Global handles only come from Shared without NtSecuritySharing; a
    // monitored fence cannot have one (documented).
    let k = kernel(Policies::default());
    let p = k.create_process();
    let d = device(&p, &k);
    let r = p.create_sync_object(d, SyncKind::MonitoredFence, SHARED);
    assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER));
    let nt = p.create_sync_object(d, SyncKind::Fence { initial_value: 0 }, SHARED_NT).unwrap();
    assert_eq!(nt.global, None, "WINE #53");
    assert_eq!(k.live_global_handles(), 0);
}

#[test]
fn device_destroy_closes_created_handles_but_not_global_opens() {
    let k = kernel(Policies::default());
    let p = k.create_process();
    let _bound = p.enter();
    let d = device(&p, &k);
    let mut create = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: d.0, ..Default::default() };
    create.Info.Type = D3DDDI_SYNCHRONIZATION_MUTEX;
    create.Info.Flags.Anonymous.Value = 1;
    assert!(call!(D3DKMTCreateSynchronizationObject2(&mut create)).is_ok());
    let mut open = D3DKMT_OPENSYNCHRONIZATIONOBJECT { hSharedHandle: create.Info.SharedHandle, ..Default::default() };
    assert!(call!(D3DKMTOpenSynchronizationObject(&mut open)).is_ok());
    assert!(call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: d.0 })).is_ok());
    let destroy =
        |h| call!(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: h }));
    assert_eq!(destroy(create.hSyncObject), NtStatus::INVALID_PARAMETER, "the created handle went with its device");
    assert_eq!(k.live_objects(ObjectKind::SyncObject), 1, "the deviceless open keeps the mutex");
    assert_eq!(destroy(open.hSyncObject), NtStatus::SUCCESS, "a deviceless handle outlives the device");
    assert_eq!(k.live_objects(ObjectKind::SyncObject), 0);
}

#[test]
fn the_control_api_reports_nt_object_type_and_name() {
    // WINE #93: the type name and the object name exactly as given.
    let k = kernel(Policies::default());
    let p = k.create_process();
    let d = device(&p, &k);
    let m = p.create_sync_object(d, SyncKind::Mutex { initial_state: false }, SHARED_NT).unwrap().handle;
    let name = "\\BaseNamedObjects\\MixedCase_Sync";
    let named = p.share_objects(&[m], Some(name), 0x2_0000).unwrap();
    let unnamed = p.share_objects(&[m], None, 0x2_0000).unwrap();
    assert_eq!(p.nt_object_name(named), Ok(Some(name.to_string())));
    let _bound = p.enter();
    type Query = extern "C" fn(*const d3dkmt_emu_process, HANDLE, *mut c_char, usize, *mut usize) -> i32;
    let query = |f: Query, h: NtHandle, size: usize| {
        let mut buffer = vec![0x55u8; 64];
        let mut length = usize::MAX;
        let status = NtStatus(f(std::ptr::null(), h.as_ptr(), buffer.as_mut_ptr().cast(), size, &mut length));
        (status, buffer, length)
    };
    let (status, buffer, length) = query(d3dkmt_emu_nt_object_name, named, 64);
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(length, name.len());
    assert_eq!(&buffer[..name.len()], name.as_bytes());
    assert_eq!(buffer[name.len()], 0, "NUL-terminated");
    let (status, buffer, length) = query(d3dkmt_emu_nt_object_name, named, 8);
    assert_eq!((status, length), (NtStatus::SUCCESS, name.len()), "a short buffer gets the full length");
    assert_eq!(&buffer[..8], b"\\BaseNa\0");
    let (status, buffer, length) = query(d3dkmt_emu_nt_object_name, unnamed, 64);
    assert_eq!((status, length, buffer[0]), (NtStatus::SUCCESS, 0, 0), "an unnamed object has an empty name");
    let (status, buffer, length) = query(d3dkmt_emu_nt_object_type_name, named, 64);
    assert_eq!((status, length), (NtStatus::SUCCESS, "DxgkSharedSyncObject".len()));
    assert_eq!(&buffer[..21], b"DxgkSharedSyncObject\0");
    let (status, buffer, length) = query(d3dkmt_emu_nt_object_name, NtHandle(0x7FFC), 64);
    assert_eq!(
        (status, length, buffer[0]),
        (NtStatus::INVALID_HANDLE, usize::MAX, 0x55),
        "bad handle: nothing written"
    );
}

#[test]
fn the_sync_table_names_every_sync_fact() {
    let rows = d3dkmt_emu::conformance::rows().unwrap();
    let facts: String = rows.iter().map(|r| format!("{} ", r.facts)).collect();
    let numbers = [3, 6, 7].into_iter().chain(42..=53).chain(92..=100);
    for n in numbers {
        let named = [format!("#{n},"), format!("#{n} "), format!(", #{n}")].iter().any(|p| facts.contains(p.as_str()));
        assert!(named, "no conformance row names WINE #{n}");
    }
}
