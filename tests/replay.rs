//! Record and replay: the checked-in traces replay clean against a fresh
//! kernel, a changed trace reports its first divergence with context, and
//! `d3dkmt-emu replay` says so with its exit code.
//!
//! The protected-session fixture is made by [`record_protected_session_roundtrip`],
//! a C-style client (exports and control API only). Regenerate it with
//! `D3DKMT_REGENERATE_TRACES=1 cargo test --test replay`.
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use std::path::{Path, PathBuf};

use d3dkmt_emu::abi::control::*;
use d3dkmt_emu::replay::{self, ReplayError};
use d3dkmt_emu::trace::{Op, Trace, Value};
use d3dkmt_emu::{Entry, NtStatus};
use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::{HANDLE, LUID};

/// Calls a `D3DKMT*` export through windows-sys's declaration.
macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument is a reference to a live, aligned,
        // initialised struct (or NULL where the test means NULL), valid for
        // the whole call; the export keeps none of them.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) })
    };
}

const GENERIC_ALL: u32 = 0x1000_0000;
const DUPLICATE_CLOSE_SOURCE_SAME_ACCESS: u32 = 3;
const DUPLICATE_SAME_ACCESS: u32 = 2;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/traces").join(name)
}

fn ok(status: NtStatus) {
    assert_eq!(status, NtStatus::SUCCESS);
}

/// The protected-session round trip of `tests/c/session_roundtrip.c`, in
/// short: process A creates a device, a shared monitored fence and a
/// session and shares both; the NT handles go to process B, which reads the
/// blobs, opens the session and the fence, sees the KMD invalidate and
/// revalidate the session, waits on the status fence, and cleans up; both
/// exit. Traced; returns the trace text.
fn record_protected_session_roundtrip() -> String {
    let kernel = d3dkmt_emu_kernel_create(core::ptr::null());
    ok(NtStatus(d3dkmt_emu_trace_start(kernel, 1024, core::ptr::null())));
    let a = d3dkmt_emu_process_create(kernel);
    let b = d3dkmt_emu_process_create(kernel);

    // Process A.
    let bound = d3dkmt_emu_thread_bind(a);
    let mut rows = [D3DKMT_ADAPTERINFO::default(); 4];
    let mut enumerate = D3DKMT_ENUMADAPTERS2::default();
    ok(call!(D3DKMTEnumAdapters2(&mut enumerate))); // NULL array: the capacity
    enumerate.NumAdapters = rows.len() as u32;
    enumerate.pAdapters = rows.as_mut_ptr();
    ok(call!(D3DKMTEnumAdapters2(&mut enumerate)));
    let luid = rows[0].AdapterLuid;
    let mut device = D3DKMT_CREATEDEVICE::default();
    device.Anonymous.hAdapter = rows[0].hAdapter;
    ok(call!(D3DKMTCreateDevice(&mut device)));
    let mut fence = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device.hDevice, ..Default::default() };
    fence.Info.Type = D3DDDI_MONITORED_FENCE;
    fence.Info.Flags.Anonymous.Value = 0x3; // Shared | NtSecuritySharing
    ok(call!(D3DKMTCreateSynchronizationObject2(&mut fence)));
    let (driver, runtime) = (*b"driver-blob", *b"runtime");
    let mut session = D3DKMT_CREATEPROTECTEDSESSION {
        hDevice: device.hDevice,
        hSyncObject: fence.hSyncObject,
        pPrivateDriverData: driver.as_ptr().cast(),
        PrivateDriverDataSize: driver.len() as u32,
        pPrivateRuntimeData: runtime.as_ptr().cast(),
        PrivateRuntimeDataSize: runtime.len() as u32,
        hHandle: 0,
    };
    ok(call!(D3DKMTCreateProtectedSession(&mut session)));
    let (mut nt_session, mut nt_fence): (HANDLE, HANDLE) = (core::ptr::null_mut(), core::ptr::null_mut());
    ok(call!(D3DKMTShareObjects(1, &session.hHandle, core::ptr::null(), GENERIC_ALL, &mut nt_session)));
    ok(call!(D3DKMTShareObjects(1, &fence.hSyncObject, core::ptr::null(), GENERIC_ALL, &mut nt_fence)));
    // A failure is recorded and replayed too: no such session here.
    let mut bogus = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: 0x1234_5678, Status: 0 };
    assert_eq!(call!(D3DKMTQueryProtectedSessionStatus(&mut bogus)), NtStatus::INVALID_PARAMETER);
    ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));

    // The NT handles move to B (closed in A).
    let (mut nt_session_b, mut nt_fence_b): (HANDLE, HANDLE) = (core::ptr::null_mut(), core::ptr::null_mut());
    let same = DUPLICATE_CLOSE_SOURCE_SAME_ACCESS;
    ok(NtStatus(d3dkmt_emu_nt_duplicate(a, nt_session, b, &mut nt_session_b, 0, same)));
    ok(NtStatus(d3dkmt_emu_nt_duplicate(a, nt_fence, b, &mut nt_fence_b, 0, same)));

    // Process B.
    let bound = d3dkmt_emu_thread_bind(b);
    let mut info = D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE { hNtHandle: nt_session_b, ..Default::default() };
    ok(call!(D3DKMTQueryProtectedSessionInfoFromNtHandle(&mut info))); // sizes only
    let (mut driver_out, mut runtime_out) = ([0u8; 32], [0u8; 32]);
    info.pPrivateDriverData = driver_out.as_mut_ptr().cast();
    info.pPrivateRuntimeData = runtime_out.as_mut_ptr().cast();
    ok(call!(D3DKMTQueryProtectedSessionInfoFromNtHandle(&mut info)));
    let mut open = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: nt_session_b, hHandle: 0 };
    ok(call!(D3DKMTOpenProtectedSessionFromNtHandle(&mut open)));
    let mut adapter = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: LUID { ..luid }, hAdapter: 0 };
    ok(call!(D3DKMTOpenAdapterFromLuid(&mut adapter)));
    let mut device_b = D3DKMT_CREATEDEVICE::default();
    device_b.Anonymous.hAdapter = adapter.hAdapter;
    ok(call!(D3DKMTCreateDevice(&mut device_b)));
    let mut open_fence =
        D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt_fence_b, hDevice: device_b.hDevice, ..Default::default() };
    ok(call!(D3DKMTOpenSyncObjectFromNtHandle2(&mut open_fence)));
    let mut status = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: open.hHandle, Status: -1 };
    ok(call!(D3DKMTQueryProtectedSessionStatus(&mut status)));
    assert_eq!(status.Status, D3DKMT_PROTECTED_SESSION_STATUS_OK);

    // The KMD invalidates the session: B sees it, and the status fence moved.
    let mut key = 0u64;
    ok(NtStatus(d3dkmt_emu_protected_session_key(a, session.hHandle, &mut key)));
    ok(NtStatus(d3dkmt_emu_kmd_set_protected_session_status(kernel, key, D3DKMT_PROTECTED_SESSION_STATUS_INVALID)));
    ok(call!(D3DKMTQueryProtectedSessionStatus(&mut status)));
    assert_eq!(status.Status, D3DKMT_PROTECTED_SESSION_STATUS_INVALID);
    let one = 1u64;
    let wait = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device_b.hDevice,
        ObjectCount: 1,
        ObjectHandleArray: &open_fence.hSyncObject,
        FenceValueArray: &one,
        ..Default::default()
    };
    ok(call!(D3DKMTWaitForSynchronizationObjectFromCpu(&wait)));
    ok(NtStatus(d3dkmt_emu_kmd_set_protected_session_status(kernel, key, D3DKMT_PROTECTED_SESSION_STATUS_OK)));
    ok(call!(D3DKMTQueryProtectedSessionStatus(&mut status)));
    assert_eq!(status.Status, D3DKMT_PROTECTED_SESSION_STATUS_OK);
    let ten = 10u64;
    let signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device_b.hDevice,
        ObjectCount: 1,
        ObjectHandleArray: &open_fence.hSyncObject,
        FenceValueArray: &ten,
        ..Default::default()
    };
    ok(call!(D3DKMTSignalSynchronizationObjectFromCpu(&signal)));

    // B cleans up; both exit.
    ok(call!(D3DKMTDestroyProtectedSession(&mut D3DKMT_DESTROYPROTECTEDSESSION { hHandle: open.hHandle })));
    ok(call!(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT {
        hSyncObject: open_fence.hSyncObject
    })));
    ok(call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device_b.hDevice })));
    ok(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: adapter.hAdapter })));
    ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));
    ok(NtStatus(d3dkmt_emu_nt_close(b, nt_session_b)));
    ok(NtStatus(d3dkmt_emu_nt_close(b, nt_fence_b)));
    d3dkmt_emu_process_exit(a);
    d3dkmt_emu_process_exit(b);
    assert_eq!(d3dkmt_emu_kernel_live_objects(kernel, u32::MAX), 0);

    let path = std::env::temp_dir().join(format!("d3dkmt-emu-roundtrip-{}.trace", std::process::id()));
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    ok(NtStatus(d3dkmt_emu_trace_save(kernel, c_path.as_ptr())));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    d3dkmt_emu_process_release(a);
    d3dkmt_emu_process_release(b);
    d3dkmt_emu_kernel_release(kernel);
    text
}

/// The trace with every kernel id set to 1 and every file descriptor to 3
/// (which numbers a process hands out depends on what else it has open;
/// a replay does not compare them), so recordings from different kernels
/// compare equal, under a comment naming what it is and the test that
/// records it.
fn normalized(text: &str, what: &str) -> String {
    let mut trace = Trace::parse(text).unwrap();
    for r in &mut trace.records {
        r.kernel = 1;
        r.output.iter_mut().filter(|(_, v)| matches!(v, Value::Fd(_))).for_each(|(_, v)| *v = Value::Fd(3));
    }
    format!("# {what}.\n# Regenerate: D3DKMT_REGENERATE_TRACES=1 cargo test --test replay\n{trace}")
}

const ROUNDTRIP: &str = "The protected-session round trip (tests/replay.rs, record_protected_session_roundtrip)";

#[test]
fn the_protected_session_fixture_matches_a_fresh_recording() {
    let fresh = normalized(&record_protected_session_roundtrip(), ROUNDTRIP);
    let path = fixture("protected_session_roundtrip.trace");
    if std::env::var_os("D3DKMT_REGENERATE_TRACES").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap();
    assert_eq!(stored, fresh, "the fixture is stale: regenerate it with D3DKMT_REGENERATE_TRACES=1");
}

#[test]
fn the_protected_session_fixture_replays_clean() {
    let summary = replay::replay_file(fixture("protected_session_roundtrip.trace")).unwrap().unwrap();
    assert!(summary.records >= 30, "{summary}");
    assert_eq!(summary.replayed, summary.records, "nothing skipped: {summary}");
}

#[test]
fn a_fresh_recording_replays_clean() {
    let outcome = replay::replay_text(&record_protected_session_roundtrip()).unwrap();
    assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
}

/// The fixture with one line changed by `edit`; the index of that record.
fn changed(find: impl Fn(&d3dkmt_emu::Record) -> bool, edit: impl Fn(&mut d3dkmt_emu::Record)) -> (Trace, usize) {
    let mut trace =
        Trace::parse(&std::fs::read_to_string(fixture("protected_session_roundtrip.trace")).unwrap()).unwrap();
    let index = trace.records.iter().position(find).expect("the record to change");
    edit(&mut trace.records[index]);
    (trace, index)
}

#[test]
fn a_changed_status_is_the_first_divergence_with_its_context() {
    let open_session = Op::Call(Entry::D3DKMTOpenProtectedSessionFromNtHandle);
    let (trace, index) = changed(|r| r.op == open_session, |r| r.status = NtStatus::INVALID_HANDLE);
    let divergence = replay::replay(&trace).unwrap_err();
    assert_eq!(divergence.index, index);
    assert_eq!(divergence.record.op, open_session);
    assert!(
        divergence.what.contains("status: recorded 0xC0000008 (STATUS_INVALID_HANDLE), replayed 0x00000000"),
        "{divergence}"
    );
    assert_eq!(divergence.context, trace.records[index - replay::CONTEXT..index]);
    let report = divergence.to_string();
    assert!(report.contains(&format!("first divergence at record {}", trace.records[index].seq)), "{report}");
    assert!(report.contains(&format!("  > {}", trace.records[index])), "{report}");
    for before in &trace.records[index - replay::CONTEXT..index] {
        assert!(report.contains(&format!("    {before}")), "{report}");
    }
    assert!(report.contains("replayed: 0x00000000 (STATUS_SUCCESS) out hHandle=h:"), "{report}");
}

#[test]
fn a_changed_output_value_is_the_first_divergence() {
    // The status query after the KMD invalidated the session answered 1.
    let query = Op::Call(Entry::D3DKMTQueryProtectedSessionStatus);
    let (trace, index) =
        changed(|r| r.op == query && r.output("Status") == Some(&Value::Int(1)), |r| r.output[0].1 = Value::Int(0));
    let divergence = replay::replay(&trace).unwrap_err();
    assert_eq!(divergence.index, index);
    assert_eq!(divergence.what, "output Status: recorded 0x0, replayed 0x1");
}

#[test]
fn a_changed_handle_is_the_first_divergence() {
    // The session B opens is destroyed under a handle it never had.
    let destroy = Op::Call(Entry::D3DKMTDestroyProtectedSession);
    let (trace, index) = changed(|r| r.op == destroy, |r| r.input[0].1 = Value::Handle(0x0BAD_0000));
    let divergence = replay::replay(&trace).unwrap_err();
    assert_eq!(divergence.index, index);
    assert!(
        divergence.what.starts_with("status: recorded 0x00000000 (STATUS_SUCCESS), replayed 0xC000000D"),
        "{divergence}"
    );
}

#[test]
fn handles_are_renumbered_semantically() {
    // Shift every recorded D3DKMT handle value: the replay must follow what
    // each handle stands for, not its number.
    fn shift(v: &mut Value) {
        match v {
            Value::Handle(h) if *h != 0 => *h += 0x100,
            Value::List(items) => items.iter_mut().for_each(shift),
            _ => {}
        }
    }
    let mut trace =
        Trace::parse(&std::fs::read_to_string(fixture("protected_session_roundtrip.trace")).unwrap()).unwrap();
    for r in &mut trace.records {
        r.input.iter_mut().chain(r.output.iter_mut()).for_each(|(_, v)| shift(v));
    }
    let summary = replay::replay(&trace).unwrap();
    assert_eq!(summary.replayed, summary.records);
}

#[test]
fn a_wait_that_would_block_is_a_divergence_not_a_hang() {
    let wait = Op::Call(Entry::D3DKMTWaitForSynchronizationObjectFromCpu);
    let (trace, index) = changed(
        |r| r.op == wait,
        |r| {
            let values = r.input.iter_mut().find(|(n, _)| n == "*FenceValueArray").unwrap();
            values.1 = Value::List(vec![Value::Int(1000)]);
        },
    );
    let divergence = replay::replay(&trace).unwrap_err();
    assert_eq!(divergence.index, index);
    assert!(divergence.what.contains("would") || divergence.what.contains("have not reached"), "{divergence}");
}

#[test]
fn bad_files_are_refused() {
    assert!(matches!(replay::replay_text(""), Err(ReplayError::Parse(_))));
    assert!(matches!(replay::replay_text("not-a-trace 1\n"), Err(ReplayError::Parse(_))));
    assert!(matches!(replay::replay_text("d3dkmt-emu-trace 2\n"), Err(ReplayError::Parse(_))));
    assert!(matches!(
        replay::replay_text("d3dkmt-emu-trace 1\n1 k1 p1 t1 NoSuchCall STATUS_SUCCESS real in out\n"),
        Err(ReplayError::Parse(_))
    ));
    assert!(matches!(replay::replay_text("d3dkmt-emu-trace 1 dropped=3\n"), Err(ReplayError::Dropped(3))));
    assert!(matches!(replay::replay_file("/nonexistent/trace"), Err(ReplayError::Io(_))));
    assert_eq!(replay::replay_text("d3dkmt-emu-trace 1\n# nothing\n").unwrap().unwrap().records, 0);
}

#[test]
fn the_command_line_exits_0_1_and_2() {
    let run = |file: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_d3dkmt-emu")).arg("replay").arg(file).output().unwrap()
    };
    let clean = run(&fixture("protected_session_roundtrip.trace"));
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stdout));
    assert!(String::from_utf8_lossy(&clean.stdout).contains("replayed clean"));

    let dir = std::env::temp_dir().join(format!("d3dkmt-emu-replay-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let open_session = Op::Call(Entry::D3DKMTOpenProtectedSessionFromNtHandle);
    let (trace, _) = changed(|r| r.op == open_session, |r| r.status = NtStatus::ACCESS_DENIED);
    let diverging = dir.join("diverging.trace");
    std::fs::write(&diverging, trace.to_string()).unwrap();
    let out = run(&diverging);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("first divergence at record") && text.contains("context:"), "{text}");

    let garbage = dir.join("garbage.trace");
    std::fs::write(&garbage, "hello\n").unwrap();
    assert_eq!(run(&garbage).status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------
// The keyed-mutex handoff.

const HANDOFF: &str = "The keyed-mutex handoff between two processes (tests/replay.rs, record_keyed_mutex_handoff)";

/// `D3DKMT_CREATEALLOCATIONFLAGS`: CreateResource, CreateShared,
/// ExistingSysMem, NtSecuritySharing, StandardAllocation.
const SHARED_RESOURCE_FLAGS: u32 = 0x1 | 0x2 | 0x20 | 0x40 | 0x1_0000;
/// How many times the mutex goes A → B → A.
const ROUNDS: u64 = 3;

/// Saves `kernel`'s trace through the C API and returns its text.
fn saved_trace(kernel: *mut d3dkmt_emu_kernel, name: &str) -> String {
    let path = std::env::temp_dir().join(format!("d3dkmt-emu-{name}-{}.trace", std::process::id()));
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    ok(NtStatus(d3dkmt_emu_trace_save(kernel, c_path.as_ptr())));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    text
}

fn acquire(mutex: u32, key: u64, timeout: Option<i64>) -> (NtStatus, u64) {
    let mut t = timeout.unwrap_or(0);
    let mut args = D3DKMT_ACQUIREKEYEDMUTEX {
        hKeyedMutex: mutex,
        Key: key,
        pTimeout: if timeout.is_some() { &mut t } else { core::ptr::null_mut() },
        FenceValue: 0,
    };
    let status = call!(D3DKMTAcquireKeyedMutex(&mut args));
    (status, args.FenceValue)
}

fn release(mutex: u32, key: u64, fence: u64) -> NtStatus {
    call!(D3DKMTReleaseKeyedMutex(&mut D3DKMT_RELEASEKEYEDMUTEX { hKeyedMutex: mutex, Key: key, FenceValue: fence }))
}

/// Signals `fence` to `value` from the CPU on `device`.
fn signal(device: u32, fence: u32, value: u64) {
    let signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device,
        ObjectCount: 1,
        ObjectHandleArray: &fence,
        FenceValueArray: &value,
        ..Default::default()
    };
    ok(call!(D3DKMTSignalSynchronizationObjectFromCpu(&signal)));
}

/// Waits from the CPU until `fence` reaches `value`.
fn wait(device: u32, fence: u32, value: u64) {
    let wait = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device,
        ObjectCount: 1,
        ObjectHandleArray: &fence,
        FenceValueArray: &value,
        ..Default::default()
    };
    ok(call!(D3DKMTWaitForSynchronizationObjectFromCpu(&wait)));
}

/// A shared surface handed back and forth between two processes, one thread
/// making every call (binding the right process for each), so the
/// recording never blocks: process A creates a device, an NT-shareable
/// resource (CreateAllocation2 with CreateResource, CreateShared and
/// NtSecuritySharing), an NT-shareable keyed mutex and a shared monitored
/// fence, shares the three under one NT handle and duplicates it into
/// process B, which opens it with OpenResourceFromNtHandle. Then, round by
/// round, A acquires key 0, signals the fence and releases key 1; B waits
/// for the fence, acquires key 1 and releases key 0 (the last round with
/// runtime data, ReleaseKeyedMutex2/AcquireKeyedMutex2). An acquire of a
/// key nobody released times out (virtual clock). A takes the mutex and
/// exits holding it: B's acquire is STATUS_ABANDONED (WINE B6's model); B
/// cleans up and exits, and nothing is left alive. Traced; returns the
/// trace text.
fn record_keyed_mutex_handoff() -> String {
    let kernel = d3dkmt_emu_kernel_create(core::ptr::null());
    ok(NtStatus(d3dkmt_emu_trace_start(kernel, 4096, core::ptr::null())));
    let a = d3dkmt_emu_process_create(kernel);
    let b = d3dkmt_emu_process_create(kernel);
    let mut memory = vec![0u64; 0x2000 / 8];

    // Process A: the device, the three objects, one NT handle for them.
    let bound = d3dkmt_emu_thread_bind(a);
    let mut rows = [D3DKMT_ADAPTERINFO::default(); 4];
    let mut enumerate = D3DKMT_ENUMADAPTERS2 { NumAdapters: rows.len() as u32, pAdapters: rows.as_mut_ptr() };
    ok(call!(D3DKMTEnumAdapters2(&mut enumerate)));
    let luid = rows[0].AdapterLuid;
    let mut version = 0u32;
    let mut info = D3DKMT_QUERYADAPTERINFO {
        hAdapter: rows[0].hAdapter,
        Type: KMTQAITYPE_DRIVERVERSION,
        pPrivateDriverData: (&mut version as *mut u32).cast(),
        PrivateDriverDataSize: 4,
    };
    ok(call!(D3DKMTQueryAdapterInfo(&mut info)));
    let mut device = D3DKMT_CREATEDEVICE::default();
    device.Anonymous.hAdapter = rows[0].hAdapter;
    ok(call!(D3DKMTCreateDevice(&mut device)));
    let device_a = device.hDevice;

    let mut standard =
        D3DKMT_CREATESTANDARDALLOCATION { Type: D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP, ..Default::default() };
    standard.Anonymous.ExistingHeapData.Size = memory.len() * 8;
    let mut allocation = D3DDDI_ALLOCATIONINFO2::default();
    allocation.Anonymous1.pSystemMem = memory.as_mut_ptr().cast();
    let surface_data = *b"surf";
    let mut create = D3DKMT_CREATEALLOCATION {
        hDevice: device_a,
        NumAllocations: 1,
        pPrivateRuntimeData: surface_data.as_ptr().cast(),
        PrivateRuntimeDataSize: surface_data.len() as u32,
        ..Default::default()
    };
    create.Flags._bitfield = SHARED_RESOURCE_FLAGS;
    create.Anonymous1.pStandardAllocation = &mut standard;
    create.Anonymous2.pAllocationInfo2 = &mut allocation;
    ok(call!(D3DKMTCreateAllocation2(&mut create)));
    assert_eq!(create.hGlobalShare, 0, "WINE #90: no global handle with NtSecuritySharing");

    let mutex_data = [0x5Au8; 8];
    let mut mutex = D3DKMT_CREATEKEYEDMUTEX2 {
        pPrivateRuntimeData: mutex_data.as_ptr().cast_mut().cast(),
        PrivateRuntimeDataSize: mutex_data.len() as u32,
        ..Default::default()
    };
    mutex.Flags.Anonymous.Value = 1; // NtSecuritySharing
    ok(call!(D3DKMTCreateKeyedMutex2(&mut mutex)));
    assert_eq!(mutex.hSharedHandle, 0, "WINE #64");
    let mutex_a = mutex.hKeyedMutex;

    let mut fence = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device_a, ..Default::default() };
    fence.Info.Type = D3DDDI_MONITORED_FENCE;
    fence.Info.Flags.Anonymous.Value = 0x3; // Shared | NtSecuritySharing
    ok(call!(D3DKMTCreateSynchronizationObject2(&mut fence)));
    let fence_a = fence.hSyncObject;

    let objects = [create.hResource, mutex_a, fence_a];
    let mut nt: HANDLE = core::ptr::null_mut();
    ok(call!(D3DKMTShareObjects(3, objects.as_ptr(), core::ptr::null(), GENERIC_ALL, &mut nt)));
    ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));
    let mut nt_b: HANDLE = core::ptr::null_mut();
    ok(NtStatus(d3dkmt_emu_nt_duplicate(a, nt, b, &mut nt_b, 0, DUPLICATE_SAME_ACCESS)));

    // Process B opens the share.
    let bound = d3dkmt_emu_thread_bind(b);
    let mut adapter = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: LUID { ..luid }, hAdapter: 0 };
    ok(call!(D3DKMTOpenAdapterFromLuid(&mut adapter)));
    let mut device = D3DKMT_CREATEDEVICE::default();
    device.Anonymous.hAdapter = adapter.hAdapter;
    ok(call!(D3DKMTCreateDevice(&mut device)));
    let device_b = device.hDevice;
    let mut query = D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE { hDevice: device_b, hNtHandle: nt_b, ..Default::default() };
    ok(call!(D3DKMTQueryResourceInfoFromNtHandle(&mut query)));
    let mut runtime = [0u8; 4];
    let mut total = vec![0u8; query.TotalPrivateDriverDataSize as usize];
    let mut opened_allocation = D3DDDI_OPENALLOCATIONINFO2::default();
    let mut open = D3DKMT_OPENRESOURCEFROMNTHANDLE {
        hDevice: device_b,
        hNtHandle: nt_b,
        NumAllocations: query.NumAllocations,
        pOpenAllocationInfo2: &mut opened_allocation,
        PrivateRuntimeDataSize: query.PrivateRuntimeDataSize,
        pPrivateRuntimeData: runtime.as_mut_ptr().cast(),
        TotalPrivateDriverDataBufferSize: query.TotalPrivateDriverDataSize,
        pTotalPrivateDriverDataBuffer: total.as_mut_ptr().cast(),
        ..Default::default()
    };
    ok(call!(D3DKMTOpenResourceFromNtHandle(&mut open)));
    assert_eq!(&runtime, b"surf", "WINE #104");
    assert_eq!(open.KeyedMutexPrivateRuntimeDataSize, 8, "WINE #107");
    let (mutex_b, fence_b) = (open.hKeyedMutex, open.hSyncObject);
    assert!(mutex_b != 0 && fence_b != 0);
    ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));

    // The handoff, one call at a time.
    for round in 0..ROUNDS {
        let bound = d3dkmt_emu_thread_bind(a);
        assert_eq!(acquire(mutex_a, 0, None), (NtStatus::SUCCESS, 2 * round), "A sees B's fence value");
        signal(device_a, fence_a, round + 1);
        if round + 1 == ROUNDS {
            let note = *b"last";
            let mut release = D3DKMT_RELEASEKEYEDMUTEX2 {
                hKeyedMutex: mutex_a,
                Key: 1,
                FenceValue: 2 * round + 1,
                pPrivateRuntimeData: note.as_ptr().cast_mut().cast(),
                PrivateRuntimeDataSize: note.len() as u32,
            };
            ok(call!(D3DKMTReleaseKeyedMutex2(&mut release)));
        } else {
            ok(release(mutex_a, 1, 2 * round + 1));
        }
        ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));

        let bound = d3dkmt_emu_thread_bind(b);
        wait(device_b, fence_b, round + 1);
        if round == 0 {
            // Nobody releases key 7: a 10-second timeout passes at once on
            // the virtual clock.
            assert_eq!(acquire(mutex_b, 7, Some(-100_000_000)).0, NtStatus::TIMEOUT);
        }
        if round + 1 == ROUNDS {
            let mut note = [0u8; 4];
            let mut timeout = -10_000_000i64;
            let mut acquire = D3DKMT_ACQUIREKEYEDMUTEX2 {
                hKeyedMutex: mutex_b,
                Key: 1,
                pTimeout: &mut timeout,
                pPrivateRuntimeData: note.as_mut_ptr().cast(),
                PrivateRuntimeDataSize: note.len() as u32,
                ..Default::default()
            };
            ok(call!(D3DKMTAcquireKeyedMutex2(&mut acquire)));
            assert_eq!((&note, acquire.FenceValue), (b"last", 2 * round + 1));
        } else {
            assert_eq!(acquire(mutex_b, 1, None), (NtStatus::SUCCESS, 2 * round + 1), "B sees A's fence value");
        }
        ok(release(mutex_b, 0, 2 * round + 2));
        ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));
    }

    // A exits holding the mutex: abandoned for B.
    let bound = d3dkmt_emu_thread_bind(a);
    assert_eq!(acquire(mutex_a, 0, None).0, NtStatus::SUCCESS);
    ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));
    d3dkmt_emu_process_exit(a);
    let bound = d3dkmt_emu_thread_bind(b);
    assert_eq!(acquire(mutex_b, 0, None).0, NtStatus::ABANDONED);
    assert_eq!(release(mutex_b, 1, 0), NtStatus::ABANDONED);
    let mut state =
        D3DKMT_GETDEVICESTATE { hDevice: device_b, StateType: D3DKMT_DEVICESTATE_EXECUTION, ..Default::default() };
    ok(call!(D3DKMTGetDeviceState(&mut state)));

    // B cleans up and exits.
    ok(call!(D3DKMTDestroyKeyedMutex(&D3DKMT_DESTROYKEYEDMUTEX { hKeyedMutex: mutex_b })));
    ok(call!(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence_b })));
    let destroy = D3DKMT_DESTROYALLOCATION2 {
        hDevice: device_b,
        hResource: open.hResource,
        phAllocationList: &opened_allocation.hAllocation,
        AllocationCount: 1,
        ..Default::default()
    };
    ok(call!(D3DKMTDestroyAllocation2(&destroy)));
    ok(call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device_b })));
    ok(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: adapter.hAdapter })));
    ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));
    ok(NtStatus(d3dkmt_emu_nt_close(b, nt_b)));
    d3dkmt_emu_process_exit(b);
    assert_eq!(d3dkmt_emu_kernel_live_objects(kernel, u32::MAX), 0);

    let text = saved_trace(kernel, "handoff");
    d3dkmt_emu_process_release(a);
    d3dkmt_emu_process_release(b);
    d3dkmt_emu_kernel_release(kernel);
    drop(memory);
    text
}

#[test]
fn the_keyed_mutex_fixture_matches_a_fresh_recording() {
    let fresh = normalized(&record_keyed_mutex_handoff(), HANDOFF);
    let path = fixture("keyed_mutex_handoff.trace");
    if std::env::var_os("D3DKMT_REGENERATE_TRACES").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap();
    assert_eq!(stored, fresh, "the fixture is stale: regenerate it with D3DKMT_REGENERATE_TRACES=1");
}

fn handoff() -> Trace {
    Trace::parse(&std::fs::read_to_string(fixture("keyed_mutex_handoff.trace")).unwrap()).unwrap()
}

#[test]
fn the_keyed_mutex_fixture_replays_clean() {
    let trace = handoff();
    // Every record is decoded: the fixture exercises the new decoders.
    assert!(trace.records.iter().all(|r| !r.opaque && !r.nested && !r.injected));
    for entry in [
        Entry::D3DKMTCreateAllocation2,
        Entry::D3DKMTCreateKeyedMutex2,
        Entry::D3DKMTQueryResourceInfoFromNtHandle,
        Entry::D3DKMTOpenResourceFromNtHandle,
        Entry::D3DKMTAcquireKeyedMutex,
        Entry::D3DKMTAcquireKeyedMutex2,
        Entry::D3DKMTReleaseKeyedMutex,
        Entry::D3DKMTReleaseKeyedMutex2,
        Entry::D3DKMTDestroyKeyedMutex,
        Entry::D3DKMTDestroyAllocation2,
        Entry::D3DKMTGetDeviceState,
        Entry::D3DKMTQueryAdapterInfo,
    ] {
        assert!(trace.records.iter().any(|r| r.op == Op::Call(entry)), "{entry:?} is in the fixture");
    }
    let statuses: Vec<NtStatus> = trace.records.iter().map(|r| r.status).collect();
    assert!(statuses.contains(&NtStatus::ABANDONED) && statuses.contains(&NtStatus::TIMEOUT));
    let summary = replay::replay(&trace).unwrap();
    assert_eq!(summary.replayed, summary.records, "nothing skipped: {summary}");
    assert!(summary.records >= 40, "{summary}");
}

#[test]
fn a_fresh_handoff_recording_replays_clean() {
    let outcome = replay::replay_text(&record_keyed_mutex_handoff()).unwrap();
    assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
}

/// The handoff fixture with the record `find` picks changed by `edit`.
fn changed_handoff(
    find: impl Fn(&d3dkmt_emu::Record) -> bool,
    edit: impl Fn(&mut d3dkmt_emu::Record),
) -> (Trace, usize) {
    let mut trace = handoff();
    let index = trace.records.iter().position(find).expect("the record to change");
    edit(&mut trace.records[index]);
    (trace, index)
}

#[test]
fn an_acquire_that_would_block_is_a_divergence_not_a_hang() {
    // B's first acquire of key 1 asks for key 2 instead: nobody releases 2,
    // so the replayed acquire (no timeout) would wait for ever.
    let acquire = Op::Call(Entry::D3DKMTAcquireKeyedMutex);
    let (trace, index) = changed_handoff(
        |r| r.op == acquire && r.input("Key") == Some(&Value::Int(1)) && r.status == NtStatus::SUCCESS,
        |r| r.input.iter_mut().filter(|(n, _)| n == "Key").for_each(|(_, v)| *v = Value::Int(2)),
    );
    let wall = std::time::Instant::now();
    let divergence = replay::replay(&trace).unwrap_err();
    assert!(wall.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(divergence.index, index);
    assert!(divergence.what.contains("would wait for ever"), "{divergence}");
    assert_eq!(divergence.replayed.as_ref().map(|r| r.0), Some(NtStatus::TIMEOUT));
    let report = divergence.to_string();
    assert!(report.contains("context:") && report.contains(&format!("  > {}", trace.records[index])), "{report}");
    assert_eq!(divergence.context, trace.records[index - replay::CONTEXT..index]);
}

#[test]
fn a_changed_fence_value_handed_over_is_the_first_divergence() {
    // A's second release hands over fence value 99 instead of 3: the replay
    // runs on until B's acquire reports the recorded 3 against 99.
    let release = Op::Call(Entry::D3DKMTReleaseKeyedMutex);
    let (trace, index) = changed_handoff(
        |r| r.op == release && r.input("FenceValue") == Some(&Value::Int(3)),
        |r| r.input.iter_mut().filter(|(n, _)| n == "FenceValue").for_each(|(_, v)| *v = Value::Int(99)),
    );
    let divergence = replay::replay(&trace).unwrap_err();
    assert!(divergence.index > index, "the release itself still succeeds");
    assert_eq!(divergence.record.op, Op::Call(Entry::D3DKMTAcquireKeyedMutex));
    assert_eq!(divergence.what, "output FenceValue: recorded 0x3, replayed 0x63");
}

#[test]
fn global_handles_are_renumbered_kernel_wide() {
    // A non-NT keyed mutex shared by global handle: opened in another
    // process, the recorded global value is mapped to the replayed one.
    let kernel = d3dkmt_emu::Kernel::new(d3dkmt_emu::KernelConfig::default());
    kernel.trace_start(d3dkmt_emu::trace::TraceConfig::default()).unwrap();
    let (a, b) = (kernel.create_process(), kernel.create_process());
    let global = a.run(|| {
        let mut create = D3DKMT_CREATEKEYEDMUTEX { InitialValue: 5, ..Default::default() };
        ok(call!(D3DKMTCreateKeyedMutex(&mut create)));
        assert_ne!(create.hSharedHandle, 0);
        create.hSharedHandle
    });
    b.run(|| {
        let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: global, hKeyedMutex: 0 };
        ok(call!(D3DKMTOpenKeyedMutex(&mut open)));
        assert_eq!(acquire(open.hKeyedMutex, 5, None).0, NtStatus::SUCCESS);
    });
    let mut trace = kernel.trace_snapshot();
    assert!(trace.to_string().contains(&format!("hSharedHandle=g:{global:#x}")), "{trace}");
    // Shift every recorded global handle: the replay follows the object.
    for r in &mut trace.records {
        for (_, v) in r.input.iter_mut().chain(r.output.iter_mut()) {
            if let Value::Global(g) = v {
                *g += 0x40;
            }
        }
    }
    let summary = replay::replay(&trace).unwrap();
    assert_eq!(summary.replayed, summary.records);
}

#[test]
fn kmd_removal_events_are_recorded_and_replayed() {
    let kernel = d3dkmt_emu_kernel_create(core::ptr::null());
    ok(NtStatus(d3dkmt_emu_trace_start(kernel, 1024, core::ptr::null())));
    let a = d3dkmt_emu_process_create(kernel);
    let bound = d3dkmt_emu_thread_bind(a);
    let mut rows = [D3DKMT_ADAPTERINFO::default(); 4];
    let mut enumerate = D3DKMT_ENUMADAPTERS2 { NumAdapters: rows.len() as u32, pAdapters: rows.as_mut_ptr() };
    ok(call!(D3DKMTEnumAdapters2(&mut enumerate)));
    let devices: Vec<u32> = (0..3)
        .map(|_| {
            let mut device = D3DKMT_CREATEDEVICE::default();
            device.Anonymous.hAdapter = rows[0].hAdapter;
            ok(call!(D3DKMTCreateDevice(&mut device)));
            device.hDevice
        })
        .collect();
    ok(NtStatus(d3dkmt_emu_kmd_reset_device(a, devices[0])));
    ok(NtStatus(d3dkmt_emu_kmd_remove_device(a, devices[1], 3))); // HUNG
    assert_eq!(NtStatus(d3dkmt_emu_kmd_remove_device(a, devices[1], 5)), NtStatus::DEVICE_REMOVED);
    ok(NtStatus(d3dkmt_emu_kmd_remove_adapter(kernel, rows[0].AdapterLuid)));
    let execution: Vec<u32> = devices
        .iter()
        .map(|&d| {
            let mut state =
                D3DKMT_GETDEVICESTATE { hDevice: d, StateType: D3DKMT_DEVICESTATE_EXECUTION, ..Default::default() };
            ok(call!(D3DKMTGetDeviceState(&mut state)));
            // SAFETY: ExecutionState is the member the export wrote.
            unsafe { state.Anonymous.ExecutionState as u32 }
        })
        .collect();
    assert_eq!(execution, [2, 3, 4], "reset, hung, stopped");
    let mut device = D3DKMT_CREATEDEVICE::default();
    device.Anonymous.hAdapter = rows[0].hAdapter;
    assert_eq!(call!(D3DKMTCreateDevice(&mut device)), NtStatus::DEVICE_REMOVED);
    ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));
    let text = saved_trace(kernel, "removal");
    d3dkmt_emu_process_release(a);
    d3dkmt_emu_kernel_release(kernel);

    let trace = Trace::parse(&text).unwrap();
    let ops: Vec<&str> = trace.records.iter().map(|r| r.op.name()).collect();
    for op in ["kmd.reset_device", "kmd.remove_device", "kmd.remove_adapter"] {
        assert!(ops.contains(&op), "{op} recorded: {text}");
    }
    assert!(text.contains("kmd.remove_device STATUS_SUCCESS real in device=h:"), "{text}");
    assert!(text.contains("reason=0x3 out"), "{text}");
    let summary = replay::replay(&trace).unwrap();
    assert_eq!(summary.replayed, summary.records, "{summary}");

    // Without the adapter removal, the third device is still active.
    let mut without = trace.clone();
    without.records.retain(|r| r.op != Op::RemoveAdapter);
    let divergence = replay::replay(&without).unwrap_err();
    assert_eq!(divergence.record.op, Op::Call(Entry::D3DKMTGetDeviceState));
    assert_eq!(divergence.what, "output Anonymous.ExecutionState: recorded 0x4, replayed 0x1");
}

#[test]
fn the_command_line_replays_the_keyed_mutex_fixture() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_d3dkmt-emu"))
        .arg("replay")
        .arg(fixture("keyed_mutex_handoff.trace"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("replayed clean"));
}

#[test]
fn the_handoff_follows_what_each_handle_stands_for() {
    // Shift every recorded D3DKMT and NT handle: the replay maps each to the
    // object it stands for, in its own process (the NT handle A shares and
    // the one B gets by duplication differ, as do A's and B's mutex handles).
    fn shift(v: &mut Value) {
        match v {
            Value::Handle(h) if *h != 0 => *h += 0x1000,
            Value::Nt(h) if *h != 0 => *h += 0x400,
            Value::List(items) => items.iter_mut().for_each(shift),
            _ => {}
        }
    }
    let mut trace = handoff();
    for r in &mut trace.records {
        r.input.iter_mut().chain(r.output.iter_mut()).for_each(|(_, v)| shift(v));
    }
    let summary = replay::replay(&trace).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(summary.replayed, summary.records);
}

/// Review: a trace whose size field claims more than the record carries
/// made replay hand the export a short buffer (it read 2 GiB past 16 bytes
/// and crashed). Such a record is refused now, with nothing read.
#[test]
fn replay_of_a_blob_shorter_than_its_size_field_is_refused() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/traces/protected_session_roundtrip.trace");
    let text: String = std::fs::read_to_string(path).unwrap().lines().take(10).map(|l| format!("{l}\n")).collect();
    let text = text.replace("PrivateDriverDataSize=0xb", "PrivateDriverDataSize=0x7ffffff0");
    assert!(text.contains("0x7ffffff0"), "the fixture changed: pick another field");
    let outcome = d3dkmt_emu::replay::replay_text(&text);
    assert!(outcome.is_err() || outcome.unwrap().is_err(), "a corrupt size was replayed");
}

// GPU work.

unsafe extern "system" {
    /// Ours: windows-sys declares the struct but not the function.
    fn D3DKMTCreateSyncFile(args: *mut D3DKMT_CREATESYNCFILE) -> i32;
}

const GPU_SUBMIT: &str = "A GPU submission cycle (tests/replay.rs, record_gpu_submit)";

/// True if a sync file's descriptor is readable now (its fence got there).
fn fired(file: &mut std::fs::File) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 8];
    matches!(file.read(&mut buf), Ok(8))
}

/// One process's GPU work from device to teardown, every GPU-work entry
/// point at least once: a virtual context (scheduling priorities), a
/// hardware queue and a monitored fence; a submission to the queue, a
/// queued signal of the fence to 1, a queued wait for 2 and a second
/// submission that waits behind it; a sync file on the progress fence at 2
/// (not yet readable); the context's GPU signal of the fence to 2 releases
/// the queue (and the sync file); GPU waits and signals of v2 and
/// `FromGpu2`; the v1 signal and wait on a fence (refused: no value); an
/// escape, statistics, a legacy context with `Render` and `SubmitCommand`;
/// hardware contexts (refused by default, as Windows 11); a CPU wait for the
/// progress fence; teardown, with nothing left alive. Traced; returns the
/// trace text.
fn record_gpu_submit() -> String {
    let kernel = d3dkmt_emu_kernel_create(core::ptr::null());
    ok(NtStatus(d3dkmt_emu_trace_start(kernel, 4096, core::ptr::null())));
    let a = d3dkmt_emu_process_create(kernel);
    let bound = d3dkmt_emu_thread_bind(a);

    let mut rows = [D3DKMT_ADAPTERINFO::default(); 4];
    let mut enumerate = D3DKMT_ENUMADAPTERS2 { NumAdapters: rows.len() as u32, pAdapters: rows.as_mut_ptr() };
    ok(call!(D3DKMTEnumAdapters2(&mut enumerate)));
    let (adapter, luid) = (rows[0].hAdapter, rows[0].AdapterLuid);
    let mut device = D3DKMT_CREATEDEVICE::default();
    device.Anonymous.hAdapter = adapter;
    ok(call!(D3DKMTCreateDevice(&mut device)));
    let device = device.hDevice;

    // A virtual context, its priorities, a hardware queue, a fence.
    let mut context_data = *b"ctx!";
    let mut virtual_context = D3DKMT_CREATECONTEXTVIRTUAL {
        hDevice: device,
        pPrivateDriverData: context_data.as_mut_ptr().cast(),
        PrivateDriverDataSize: context_data.len() as u32,
        ClientHint: D3DKMT_CLIENTHINT_DX12,
        ..Default::default()
    };
    ok(call!(D3DKMTCreateContextVirtual(&mut virtual_context)));
    let context = virtual_context.hContext;
    let set = D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY { hContext: context, Priority: -2 };
    ok(call!(D3DKMTSetContextInProcessSchedulingPriority(&set)));
    let mut get = D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY { hContext: context, Priority: 0 };
    ok(call!(D3DKMTGetContextInProcessSchedulingPriority(&mut get)));
    assert_eq!(get.Priority, -2);
    let mut queue = D3DKMT_CREATEHWQUEUE { hHwContext: context, ..Default::default() };
    ok(call!(D3DKMTCreateHwQueue(&mut queue)));
    let (hw_queue, progress) = (queue.hHwQueue, queue.hHwQueueProgressFence);
    let mut create = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device, ..Default::default() };
    create.Info.Type = D3DDDI_MONITORED_FENCE;
    ok(call!(D3DKMTCreateSynchronizationObject2(&mut create)));
    let fence = create.hSyncObject;

    // The queue: work (progress 1), signal fence to 1, wait for 2, work
    // (progress 2), which waits.
    let submit_data = *b"submit";
    let submit = |progress: u64| D3DKMT_SUBMITCOMMANDTOHWQUEUE {
        hHwQueue: hw_queue,
        HwQueueProgressFenceId: progress,
        CommandBuffer: 0x1000,
        CommandLength: 64,
        PrivateDriverDataSize: submit_data.len() as u32,
        pPrivateDriverData: submit_data.as_ptr().cast_mut().cast(),
        ..Default::default()
    };
    ok(call!(D3DKMTSubmitCommandToHwQueue(&submit(1))));
    let (one, two, three) = (1u64, 2u64, 3u64);
    let signal_hw = D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE {
        BroadcastHwQueueCount: 1,
        BroadcastHwQueueArray: &hw_queue,
        ObjectCount: 1,
        ObjectHandleArray: &fence,
        FenceValueArray: &one,
        ..Default::default()
    };
    ok(call!(D3DKMTSubmitSignalSyncObjectsToHwQueue(&signal_hw)));
    let wait_hw = D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE {
        hHwQueue: hw_queue,
        ObjectCount: 1,
        ObjectHandleArray: &fence,
        FenceValueArray: &two,
    };
    ok(call!(D3DKMTSubmitWaitForSyncObjectsToHwQueue(&wait_hw)));
    ok(call!(D3DKMTSubmitCommandToHwQueue(&submit(2))));

    // A sync file on the progress fence at 2: not readable yet.
    let mut sync_file =
        D3DKMT_CREATESYNCFILE { hDevice: device, hMonitoredFence: progress, FenceValue: 2, hSyncFile: 0 };
    // SAFETY: a live, aligned struct; the export keeps nothing.
    ok(NtStatus(unsafe { D3DKMTCreateSyncFile(&mut sync_file) }));
    // SAFETY: the call handed us a new descriptor that we now own.
    let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(sync_file.hSyncFile as i32) };
    assert!(!fired(&mut file));

    // The context signals the fence to 2: the queue runs on, the sync file
    // fires.
    let mut signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU {
        hContext: context,
        ObjectCount: 1,
        ObjectHandleArray: &fence,
        ..Default::default()
    };
    signal.Anonymous.MonitoredFenceValueArray = &two;
    ok(call!(D3DKMTSignalSynchronizationObjectFromGpu(&signal)));
    assert!(fired(&mut file), "progress 2 reached");
    drop(file);

    // GPU waits and signals on the context: wait for 2, signal to 3 by
    // broadcast, v2 wait for 3 and signal to 4; v1 on a fence is refused.
    let mut wait_gpu = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU {
        hContext: context,
        ObjectCount: 1,
        ObjectHandleArray: &fence,
        ..Default::default()
    };
    wait_gpu.Anonymous.MonitoredFenceValueArray = &two;
    ok(call!(D3DKMTWaitForSynchronizationObjectFromGpu(&wait_gpu)));
    let mut signal2 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2 {
        ObjectCount: 1,
        ObjectHandleArray: &fence,
        BroadcastContextCount: 1,
        BroadcastContextArray: &context,
        ..Default::default()
    };
    signal2.Anonymous.MonitoredFenceValueArray = &three;
    ok(call!(D3DKMTSignalSynchronizationObjectFromGpu2(&signal2)));
    let mut wait2 = D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 { hContext: context, ObjectCount: 1, ..Default::default() };
    wait2.ObjectHandleArray[0] = fence;
    wait2.Anonymous.Fence.FenceValue = 3;
    ok(call!(D3DKMTWaitForSynchronizationObject2(&wait2)));
    let mut signal_v2 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 { hContext: context, ObjectCount: 1, ..Default::default() };
    signal_v2.ObjectHandleArray[0] = fence;
    signal_v2.BroadcastContextCount = 1;
    signal_v2.BroadcastContext[0] = context;
    signal_v2.Anonymous.Fence.FenceValue = 4;
    ok(call!(D3DKMTSignalSynchronizationObject2(&signal_v2)));
    let mut signal_v1 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECT { hContext: context, ObjectCount: 1, ..Default::default() };
    signal_v1.ObjectHandleArray[0] = fence;
    assert_eq!(call!(D3DKMTSignalSynchronizationObject(&signal_v1)), NtStatus::INVALID_PARAMETER);
    let mut wait_v1 = D3DKMT_WAITFORSYNCHRONIZATIONOBJECT { hContext: context, ObjectCount: 1, ..Default::default() };
    wait_v1.ObjectHandleArray[0] = fence;
    assert_eq!(call!(D3DKMTWaitForSynchronizationObject(&wait_v1)), NtStatus::INVALID_PARAMETER);

    // An escape to the KMD, and the statistics of the adapter and node 0.
    let mut escape_data = *b"escape";
    let escape = D3DKMT_ESCAPE {
        hAdapter: adapter,
        hDevice: device,
        Type: D3DKMT_ESCAPE_DRIVERPRIVATE,
        pPrivateDriverData: escape_data.as_mut_ptr().cast(),
        PrivateDriverDataSize: escape_data.len() as u32,
        ..Default::default()
    };
    ok(call!(D3DKMTEscape(&escape)));
    for kind in [D3DKMT_QUERYSTATISTICS_ADAPTER, D3DKMT_QUERYSTATISTICS_NODE, D3DKMT_QUERYSTATISTICS_PROCESS_NODE] {
        let statistics = D3DKMT_QUERYSTATISTICS { Type: kind, AdapterLuid: luid, ..Default::default() };
        ok(call!(D3DKMTQueryStatistics(&statistics)));
    }

    // A legacy context: Render from its command buffer, SubmitCommand.
    let mut legacy_data = *b"old";
    let mut legacy = D3DKMT_CREATECONTEXT {
        hDevice: device,
        pPrivateDriverData: legacy_data.as_mut_ptr().cast(),
        PrivateDriverDataSize: legacy_data.len() as u32,
        ..Default::default()
    };
    ok(call!(D3DKMTCreateContext(&mut legacy)));
    assert!(!legacy.pCommandBuffer.is_null());
    let mut render = D3DKMT_RENDER { CommandLength: 16, AllocationCount: 1, ..Default::default() };
    render.Anonymous.hContext = legacy.hContext;
    ok(call!(D3DKMTRender(&mut render)));
    render.CommandOffset = 0x10_0000; // past the buffer
    assert_eq!(call!(D3DKMTRender(&mut render)), NtStatus::INVALID_PARAMETER);
    let mut command = D3DKMT_SUBMITCOMMAND {
        Commands: legacy.CommandBuffer,
        CommandLength: 16,
        BroadcastContextCount: 2,
        pPrivateDriverData: submit_data.as_ptr().cast_mut().cast(),
        PrivateDriverDataSize: submit_data.len() as u32,
        ..Default::default()
    };
    command.BroadcastContext[..2].copy_from_slice(&[legacy.hContext, context]);
    ok(call!(D3DKMTSubmitCommand(&command)));

    // Hardware contexts: not on Windows 11 (the default policy).
    let mut hw_context = D3DKMT_CREATEHWCONTEXT { hDevice: device, ..Default::default() };
    assert_eq!(call!(D3DKMTCreateHwContext(&mut hw_context)), NtStatus::NOT_IMPLEMENTED);
    let destroy_hw = D3DKMT_DESTROYHWCONTEXT { hHwContext: context };
    assert_eq!(call!(D3DKMTDestroyHwContext(&destroy_hw)), NtStatus::NOT_IMPLEMENTED);

    // The CPU waits for the queue's progress and the fence.
    wait(device, progress, 2);
    wait(device, fence, 4);

    // Teardown.
    ok(call!(D3DKMTDestroyHwQueue(&D3DKMT_DESTROYHWQUEUE { hHwQueue: hw_queue })));
    ok(call!(D3DKMTDestroyContext(&D3DKMT_DESTROYCONTEXT { hContext: legacy.hContext })));
    ok(call!(D3DKMTDestroyContext(&D3DKMT_DESTROYCONTEXT { hContext: context })));
    ok(call!(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence })));
    ok(call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device })));
    ok(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: adapter })));
    ok(NtStatus(d3dkmt_emu_thread_unbind(bound)));
    d3dkmt_emu_process_exit(a);
    assert_eq!(d3dkmt_emu_kernel_live_objects(kernel, u32::MAX), 0);

    let text = saved_trace(kernel, "gpu-submit");
    d3dkmt_emu_process_release(a);
    d3dkmt_emu_kernel_release(kernel);
    text
}

#[test]
fn the_gpu_submit_fixture_matches_a_fresh_recording() {
    let fresh = normalized(&record_gpu_submit(), GPU_SUBMIT);
    let path = fixture("gpu_submit.trace");
    if std::env::var_os("D3DKMT_REGENERATE_TRACES").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap();
    assert_eq!(stored, fresh, "the fixture is stale: regenerate it with D3DKMT_REGENERATE_TRACES=1");
}

fn gpu_submit() -> Trace {
    Trace::parse(&std::fs::read_to_string(fixture("gpu_submit.trace")).unwrap()).unwrap()
}

#[test]
fn the_gpu_submit_fixture_replays_clean() {
    let trace = gpu_submit();
    assert!(trace.records.iter().all(|r| !r.opaque && !r.nested && !r.injected), "every record decoded");
    for entry in [
        Entry::D3DKMTCreateContext,
        Entry::D3DKMTCreateHwContext,
        Entry::D3DKMTDestroyHwContext,
        Entry::D3DKMTSetContextInProcessSchedulingPriority,
        Entry::D3DKMTGetContextInProcessSchedulingPriority,
        Entry::D3DKMTSubmitCommand,
        Entry::D3DKMTRender,
        Entry::D3DKMTSubmitCommandToHwQueue,
        Entry::D3DKMTSubmitSignalSyncObjectsToHwQueue,
        Entry::D3DKMTSubmitWaitForSyncObjectsToHwQueue,
        Entry::D3DKMTSignalSynchronizationObject,
        Entry::D3DKMTWaitForSynchronizationObject,
        Entry::D3DKMTSignalSynchronizationObject2,
        Entry::D3DKMTWaitForSynchronizationObject2,
        Entry::D3DKMTSignalSynchronizationObjectFromGpu,
        Entry::D3DKMTSignalSynchronizationObjectFromGpu2,
        Entry::D3DKMTWaitForSynchronizationObjectFromGpu,
        Entry::D3DKMTEscape,
        Entry::D3DKMTQueryStatistics,
        Entry::D3DKMTCreateSyncFile,
        Entry::D3DKMTWaitForSynchronizationObjectFromCpu,
    ] {
        assert!(trace.records.iter().any(|r| r.op == Op::Call(entry)), "{entry:?} is in the fixture");
    }
    let summary = replay::replay(&trace).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(summary.replayed, summary.records, "nothing skipped: {summary}");
    assert!(summary.records >= 35, "{summary}");
}

#[test]
fn a_fresh_gpu_submit_recording_replays_clean() {
    let outcome = replay::replay_text(&record_gpu_submit()).unwrap();
    assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
}

/// The GPU fixture with the record `find` picks changed by `edit`.
fn changed_gpu(find: impl Fn(&d3dkmt_emu::Record) -> bool, edit: impl Fn(&mut d3dkmt_emu::Record)) -> (Trace, usize) {
    let mut trace = gpu_submit();
    let index = trace.records.iter().position(find).expect("the record to change");
    edit(&mut trace.records[index]);
    (trace, index)
}

#[test]
fn a_gpu_signal_too_low_leaves_the_queue_blocked_and_the_statistics_say_so() {
    // The context signals the fence to 1 instead of 2: the hardware queue's
    // wait for 2 never ends, so its second submission never completes, and
    // the node statistics (compared whole) are the first to differ.
    let signal = Op::Call(Entry::D3DKMTSignalSynchronizationObjectFromGpu);
    let (trace, index) = changed_gpu(
        |r| r.op == signal,
        |r| {
            r.input
                .iter_mut()
                .filter(|(n, _)| n == "*MonitoredFenceValueArray")
                .for_each(|(_, v)| *v = Value::List(vec![Value::Int(1)]))
        },
    );
    let divergence = replay::replay(&trace).unwrap_err();
    assert!(divergence.index > index);
    assert_eq!(divergence.record.op, Op::Call(Entry::D3DKMTQueryStatistics), "{divergence}");
    assert!(divergence.what.starts_with("output QueryResult: recorded bytes:"), "{divergence}");
}

#[test]
fn a_cpu_wait_on_a_blocked_gpu_queue_is_a_divergence_not_a_hang() {
    // Without the statistics, the same change reaches the CPU wait for the
    // queue's progress: reported, not waited on.
    let mut trace = gpu_submit();
    trace.records.retain(|r| r.op != Op::Call(Entry::D3DKMTQueryStatistics));
    let signal = Op::Call(Entry::D3DKMTSignalSynchronizationObjectFromGpu);
    let record = trace.records.iter_mut().find(|r| r.op == signal).unwrap();
    record
        .input
        .iter_mut()
        .filter(|(n, _)| n == "*MonitoredFenceValueArray")
        .for_each(|(_, v)| *v = Value::List(vec![Value::Int(1)]));
    let divergence = replay::replay(&trace).unwrap_err();
    assert_eq!(divergence.record.op, Op::Call(Entry::D3DKMTWaitForSynchronizationObjectFromCpu), "{divergence}");
    assert!(divergence.what.contains("have not reached"), "{divergence}");
}

#[test]
fn an_escape_answer_is_compared_byte_for_byte() {
    let escape = Op::Call(Entry::D3DKMTEscape);
    let (trace, index) = changed_gpu(
        |r| r.op == escape,
        |r| r.output.iter_mut().for_each(|(_, v)| *v = Value::Bytes(b"ESCAPE".to_vec())),
    );
    let divergence = replay::replay(&trace).unwrap_err();
    assert_eq!(divergence.index, index);
    assert_eq!(divergence.what, "output *pPrivateDriverData: recorded bytes:455343415045, replayed bytes:657363617065");
}

#[test]
fn gpu_work_follows_what_each_handle_stands_for_and_ignores_descriptor_numbers() {
    // Shift every handle (also inside the inline and pointed-to arrays) and
    // every descriptor: the replay maps handles to their objects and does
    // not compare descriptor numbers.
    fn shift(v: &mut Value) {
        match v {
            Value::Handle(h) if *h != 0 => *h += 0x1000,
            Value::Fd(fd) => *fd += 100,
            Value::List(items) => items.iter_mut().for_each(shift),
            _ => {}
        }
    }
    let mut trace = gpu_submit();
    for r in &mut trace.records {
        r.input.iter_mut().chain(r.output.iter_mut()).for_each(|(_, v)| shift(v));
    }
    assert!(trace.to_string().contains("hSyncFile=fd:103"));
    let summary = replay::replay(&trace).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(summary.replayed, summary.records);
}

#[test]
fn the_command_line_replays_the_gpu_fixture() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_d3dkmt-emu"))
        .arg("replay")
        .arg(fixture("gpu_submit.trace"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("replayed clean"));
}
