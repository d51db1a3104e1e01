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

/// The trace with every kernel id set to 1, so recordings from different
/// kernels compare equal.
fn normalized(text: &str) -> String {
    let mut trace = Trace::parse(text).unwrap();
    trace.records.iter_mut().for_each(|r| r.kernel = 1);
    format!(
        "# The protected-session round trip (tests/replay.rs, record_protected_session_roundtrip).\n# Regenerate: D3DKMT_REGENERATE_TRACES=1 cargo test --test replay\n{trace}"
    )
}

#[test]
fn the_protected_session_fixture_matches_a_fresh_recording() {
    let fresh = normalized(&record_protected_session_roundtrip());
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
