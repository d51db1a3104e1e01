//! Fault injection at the dispatch point, and the systematic sweep.
//!
//! Calls go through windows-sys's declarations of the `D3DKMT*` exports, as
//! a driver or runtime written for Windows makes them. Facts: process exit
//! leaves nothing alive (WINE #6); an NT handle keeps its object alive
//! (WINE #95); opening an adapter gives a handle the caller must close
//! (WINE #18); outputs are written only on success (the crate's rule).
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use std::cell::RefCell;

use d3dkmt_emu::{
    DuplicateOptions, Entry, Fault, Kernel, KernelConfig, NtHandle, NtStatus, ObjectKind, Process, ProcessId, Sweep,
    When,
};
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MONITORED_FENCE, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0,
    D3DDDI_SYNCHRONIZATIONOBJECTINFO2, D3DDDI_SYNCHRONIZATIONOBJECTINFO2_0_6, D3DKMT_CLOSEADAPTER, D3DKMT_CREATEDEVICE,
    D3DKMT_CREATEDEVICE_0, D3DKMT_CREATEPROTECTEDSESSION, D3DKMT_CREATESYNCHRONIZATIONOBJECT2, D3DKMT_DESTROYDEVICE,
    D3DKMT_DESTROYPROTECTEDSESSION, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT, D3DKMT_OPENADAPTERFROMLUID,
    D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE, D3DKMT_QUERYPROTECTEDSESSIONSTATUS,
};
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

const LUID_0: LUID = LUID { LowPart: 0x1234, HighPart: 0 };
const GENERIC_ALL: u32 = 0x1000_0000;
/// `Shared | NtSecuritySharing`.
const SHARED_NT: u32 = 0x3;

fn open_adapter() -> Result<u32, NtStatus> {
    let mut open = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: LUID_0, hAdapter: 0 };
    call!(D3DKMTOpenAdapterFromLuid(&mut open)).ok().map(|()| open.hAdapter)
}

fn close_adapter(adapter: u32) -> NtStatus {
    call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: adapter }))
}

fn create_device(adapter: u32) -> Result<u32, NtStatus> {
    let mut args = D3DKMT_CREATEDEVICE { Anonymous: D3DKMT_CREATEDEVICE_0 { hAdapter: adapter }, ..Default::default() };
    call!(D3DKMTCreateDevice(&mut args)).ok().map(|()| args.hDevice)
}

fn destroy_device(device: u32) -> NtStatus {
    call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device }))
}

fn fence_args(device: u32, flags: u32) -> D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
        hDevice: device,
        Info: D3DDDI_SYNCHRONIZATIONOBJECTINFO2 {
            Type: D3DDDI_MONITORED_FENCE,
            Flags: D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS {
                Anonymous: D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0 { Value: flags },
            },
            ..Default::default()
        },
        hSyncObject: 0,
    }
}

fn create_fence(device: u32, flags: u32) -> Result<u32, NtStatus> {
    let mut args = fence_args(device, flags);
    call!(D3DKMTCreateSynchronizationObject2(&mut args)).ok().map(|()| args.hSyncObject)
}

fn destroy_fence(fence: u32) -> NtStatus {
    call!(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence }))
}

fn create_session(device: u32, fence: u32) -> Result<u32, NtStatus> {
    let mut args = D3DKMT_CREATEPROTECTEDSESSION { hDevice: device, hSyncObject: fence, ..Default::default() };
    call!(D3DKMTCreateProtectedSession(&mut args)).ok().map(|()| args.hHandle)
}

fn destroy_session(session: u32) -> NtStatus {
    call!(D3DKMTDestroyProtectedSession(&mut D3DKMT_DESTROYPROTECTEDSESSION { hHandle: session }))
}

fn share(object: u32) -> Result<NtHandle, NtStatus> {
    let mut out: HANDLE = core::ptr::null_mut();
    call!(D3DKMTShareObjects(1, &object, core::ptr::null(), GENERIC_ALL, &mut out))
        .ok()
        .map(|()| NtHandle::from_ptr(out))
}

fn open_session(nt: NtHandle) -> Result<u32, NtStatus> {
    let mut args = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: nt.as_ptr(), hHandle: 0 };
    call!(D3DKMTOpenProtectedSessionFromNtHandle(&mut args)).ok().map(|()| args.hHandle)
}

fn session_status(session: u32) -> Result<i32, NtStatus> {
    let mut args = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: session, Status: -1 };
    call!(D3DKMTQueryProtectedSessionStatus(&mut args)).ok().map(|()| args.Status)
}

// ---------------------------------------------------------------------------
// The two-process protected-session round trip, written as driver code that
// cleans up on every path: each step undoes what it made, whatever happens
// after it, and the first failure is what the whole returns.
// ---------------------------------------------------------------------------

/// The first failure met, including failed clean-ups (which leave a handle
/// for process exit to close).
#[derive(Default)]
struct Outcome {
    first: Option<NtStatus>,
    cleanup_failed: bool,
}

impl Outcome {
    fn fail(&mut self, status: NtStatus) {
        self.first.get_or_insert(status);
    }
    fn cleanup(&mut self, status: NtStatus) {
        if status.is_err() {
            self.cleanup_failed = true;
            self.fail(status);
        }
    }
    fn step<T>(&mut self, r: Result<T, NtStatus>) -> Option<T> {
        r.map_err(|s| self.fail(s)).ok()
    }
}

fn round_trip(kernel: &Kernel) -> Result<(), NtStatus> {
    let a = kernel.create_process();
    let b = kernel.create_process();
    let mut out = Outcome::default();
    a.run(|| process_a(&a, &b, &mut out));
    if !out.cleanup_failed {
        // Every step undid what it made: nothing is left for exit to close.
        assert_eq!((a.local_handle_count(), a.nt_handle_count()), (0, 0), "A cleaned up");
        assert_eq!((b.local_handle_count(), b.nt_handle_count()), (0, 0), "B cleaned up");
        assert_eq!(kernel.total_live_objects(), 0, "nothing alive before the exits");
    }
    a.exit();
    b.exit();
    out.first.map_or(Ok(()), Err)
}

fn process_a(a: &Process, b: &Process, out: &mut Outcome) {
    let Some(adapter) = out.step(open_adapter()) else { return };
    if let Some(device) = out.step(create_device(adapter)) {
        if let Some(fence) = out.step(create_fence(device, SHARED_NT)) {
            if let Some(session) = out.step(create_session(device, fence)) {
                if let Some(nt) = out.step(share(session)) {
                    hand_to_b(a, b, nt, out);
                    out.cleanup(a.close_nt_handle(nt).map_or_else(|e| e.status(), |()| NtStatus::SUCCESS));
                }
                out.cleanup(destroy_session(session));
            }
            out.cleanup(destroy_fence(fence));
        }
        out.cleanup(destroy_device(device));
    }
    out.cleanup(close_adapter(adapter));
}

fn hand_to_b(a: &Process, b: &Process, nt: NtHandle, out: &mut Outcome) {
    let same = DuplicateOptions { close_source: false, same_access: true };
    let Some(in_b) = out.step(a.duplicate_nt_handle(nt, b, 0, same).map_err(|e| e.status())) else { return };
    b.run(|| {
        if let Some(session) = out.step(open_session(in_b)) {
            if let Some(status) = out.step(session_status(session)) {
                assert_eq!(status, 0, "D3DKMT_PROTECTED_SESSION_STATUS_OK");
            }
            out.cleanup(destroy_session(session));
        }
    });
    out.cleanup(b.close_nt_handle(in_b).map_or_else(|e| e.status(), |()| NtStatus::SUCCESS));
}

// ---------------------------------------------------------------------------
// The sweep.
// ---------------------------------------------------------------------------

/// The done criterion: a sweep over the two-process protected-session round
/// trip fails every injectable point once, and each run ends with a clean
/// status and zero leaks (WINE #6: exit leaves nothing alive).
#[test]
fn sweep_over_the_protected_session_round_trip_is_clean() {
    let report = Sweep::new().run(round_trip);
    report.assert_clean();
    let points: Vec<(Entry, u32, u64)> = report.points.iter().map(|p| (p.entry, p.process.0, p.sequence)).collect();
    assert_eq!(
        points,
        vec![
            (Entry::D3DKMTOpenAdapterFromLuid, 1, 1),
            (Entry::D3DKMTCreateDevice, 1, 2),
            (Entry::D3DKMTCreateSynchronizationObject2, 1, 3),
            (Entry::D3DKMTCreateProtectedSession, 1, 4),
            (Entry::D3DKMTShareObjects, 1, 5),
            (Entry::D3DKMTOpenProtectedSessionFromNtHandle, 2, 1),
        ]
    );
    assert!(report.points.iter().all(|p| !p.injected), "the dry run only records");
    assert_eq!(report.runs.len(), 6);
    for (i, run) in report.runs.iter().enumerate() {
        let injected = run.injected.expect("every point is reached");
        assert_eq!((injected.entry, injected.sequence), (report.points[i].entry, report.points[i].sequence));
        assert_eq!(injected.status, NtStatus::NO_MEMORY);
        assert_eq!(run.result, Ok(Err(NtStatus::NO_MEMORY)), "point {}: the failure is passed on", i + 1);
        assert!(run.leaks.is_clean(), "{}", run.leaks);
        assert_eq!(run.leaks.live_count(), 0);
        assert_eq!(run.invariants, Ok(()));
    }
    assert_eq!(report.dry.result, Ok(Ok(())));
}

/// Failing every call once, destroys included: a failed destroy leaves a
/// handle that process exit closes, and nothing leaks either way.
#[test]
fn sweep_failing_every_call_once_leaks_nothing() {
    let report = Sweep::new().every_entry_point().status(NtStatus(0xC000_009A_u32 as i32)).run(round_trip);
    report.assert_clean();
    // 5 creates + B's open, query, destroy + A's 4 destroys/close.
    assert_eq!(report.points.len(), 12, "{report}");
    let destroys = report.runs.iter().filter(|r| r.injected.is_some_and(|i| i.entry.name().contains("Destroy")));
    assert_eq!(destroys.count(), 4);
}

/// The sweep's points are configurable: only the device create here.
#[test]
fn sweep_points_are_configurable() {
    let report = Sweep::new().points([Entry::D3DKMTCreateDevice]).status(NtStatus::DEVICE_REMOVED).run(round_trip);
    report.assert_clean();
    assert_eq!(report.points.len(), 1);
    assert_eq!(report.runs[0].result, Ok(Err(NtStatus::DEVICE_REMOVED)));
}

/// A body that forgets to undo a step on one failure path is caught.
#[test]
fn sweep_catches_a_missing_cleanup() {
    let sloppy = |kernel: &Kernel| -> Result<(), NtStatus> {
        let a = kernel.create_process();
        let result = a.run(|| {
            let adapter = open_adapter()?;
            let device = create_device(adapter)?; // leaks the adapter handle on failure
            destroy_device(device).ok()?;
            close_adapter(adapter).ok()
        });
        assert_eq!(a.local_handle_count(), 0, "cleaned up");
        a.exit();
        result
    };
    let report = Sweep::new().run(sloppy);
    assert!(!report.is_clean());
    assert!(report.dry.problem().is_none());
    assert!(report.runs[0].problem().is_none(), "failing the adapter open is handled");
    let problem = report.runs[1].problem().expect("failing the device create leaks the adapter handle");
    assert!(problem.contains("panicked") && problem.contains("cleaned up"), "{problem}");
    assert!(report.to_string().contains("D3DKMTCreateDevice"), "{report}");
}

/// A body that turns a failure into another status, or keeps a process
/// referenced, is caught too.
#[test]
fn sweep_catches_a_changed_status_and_a_kept_process() {
    let remapping =
        |kernel: &Kernel| -> Result<(), NtStatus> { round_trip(kernel).map_err(|_| NtStatus::UNSUCCESSFUL) };
    let report = Sweep::new().run(remapping);
    assert!(report.runs.iter().all(|r| r.problem().is_some_and(|p| p.contains("not the injected status"))));

    let kept = RefCell::new(Vec::new());
    let keeping = |kernel: &Kernel| -> Result<(), NtStatus> {
        let p = kernel.create_process();
        let r = p.run(|| open_adapter().map(close_adapter));
        kept.borrow_mut().push(p);
        r.map(|_| ())
    };
    let report = Sweep::new().run(keeping);
    assert!(report.dry.problem().is_some_and(|p| p.contains("left referenced")), "{:?}", report.dry.problem());
    assert!(kept.borrow().iter().all(Process::has_exited), "the sweep exits what the body left");
}

// ---------------------------------------------------------------------------
// Fault injection.
// ---------------------------------------------------------------------------

struct Fixture {
    kernel: Kernel,
    process: Process,
    adapter: u32,
}

fn fixture() -> Fixture {
    let kernel = Kernel::new(KernelConfig::default());
    let process = kernel.create_process();
    let adapter = process.run(|| open_adapter().unwrap());
    Fixture { kernel, process, adapter }
}

/// An injected failure answers with the armed status; the caller's struct is
/// untouched and the kernel's state does not move.
#[test]
fn an_injected_failure_changes_nothing() {
    let f = fixture();
    let _bound = f.process.enter();
    let device = create_device(f.adapter).unwrap();
    let _armed = f.kernel.arm(Fault::status(NtStatus::NO_MEMORY).on(Entry::D3DKMTCreateSynchronizationObject2));
    let handles = f.process.local_handles();
    let live = f.kernel.total_live_objects();
    let mut args = fence_args(device, SHARED_NT);
    args.hSyncObject = 0xA5A5_A5A5;
    args.Info.SharedHandle = 0xA5A5_A5A5;
    args.Info.Anonymous.Reserved = D3DDDI_SYNCHRONIZATIONOBJECTINFO2_0_6 { Reserved: [0xA5A5_A5A5_A5A5_A5A5; 8] };
    let before = observable(&args);
    assert_eq!(call!(D3DKMTCreateSynchronizationObject2(&mut args)), NtStatus::NO_MEMORY);
    assert_eq!(observable(&args), before, "struct untouched");
    assert_eq!(f.process.local_handles(), handles);
    assert_eq!(f.kernel.total_live_objects(), live);
    let (entry, why) = d3dkmt_emu::last_error().unwrap();
    assert_eq!(entry, Entry::D3DKMTCreateSynchronizationObject2);
    assert!(why.contains("fault injected"), "{why}");
    // A bad call is still answered by the fault first: it runs before any check.
    assert_eq!(call!(D3DKMTCreateSynchronizationObject2(core::ptr::null_mut())), NtStatus::NO_MEMORY);
}

/// Every field of the create struct, the whole union included.
fn observable(args: &D3DKMT_CREATESYNCHRONIZATIONOBJECT2) -> (u32, i32, u32, u32, [u64; 8], u32) {
    // SAFETY: every bit pattern is a valid `[u64; 8]`, and the union is 64
    // bytes, all initialised (the test wrote them).
    let union = unsafe { args.Info.Anonymous.Reserved.Reserved };
    (args.hDevice, args.Info.Type, unsafe_flags(args), args.Info.SharedHandle, union, args.hSyncObject)
}

fn unsafe_flags(args: &D3DKMT_CREATESYNCHRONIZATIONOBJECT2) -> u32 {
    // SAFETY: the flags union is a u32 either way.
    unsafe { args.Info.Flags.Anonymous.Value }
}

/// A success status injected "succeeds" without running: no handle, no output.
#[test]
fn an_injected_success_writes_no_output() {
    let f = fixture();
    let _bound = f.process.enter();
    let _armed = f.kernel.arm(Fault::status(NtStatus::SUCCESS).on(Entry::D3DKMTCreateDevice));
    let mut args =
        D3DKMT_CREATEDEVICE { Anonymous: D3DKMT_CREATEDEVICE_0 { hAdapter: f.adapter }, ..Default::default() };
    assert_eq!(call!(D3DKMTCreateDevice(&mut args)), NtStatus::SUCCESS);
    assert_eq!(args.hDevice, 0);
    assert_eq!(f.kernel.live_objects(ObjectKind::Device), 0);
}

#[test]
fn nth_fails_only_the_nth_matching_call() {
    let f = fixture();
    let _bound = f.process.enter();
    let armed = f.kernel.arm(Fault::status(NtStatus::NO_MEMORY).on(Entry::D3DKMTCreateDevice).nth(3));
    let results: Vec<Result<u32, NtStatus>> = (0..5).map(|_| create_device(f.adapter)).collect();
    assert!(results[0].is_ok() && results[1].is_ok() && results[3].is_ok() && results[4].is_ok());
    assert_eq!(results[2], Err(NtStatus::NO_MEMORY));
    // Other entry points neither match nor fail.
    assert!(create_fence(results[0].unwrap(), 0).is_ok());
    assert_eq!((armed.matched(), armed.fired()), (5, 1));
    assert_eq!(f.kernel.live_objects(ObjectKind::Device), 4);
}

#[test]
fn every_fails_each_call_until_the_guard_drops() {
    let f = fixture();
    let _bound = f.process.enter();
    {
        let _armed = f.kernel.arm(Fault::status(NtStatus::ACCESS_DENIED).every());
        assert_eq!(create_device(f.adapter), Err(NtStatus::ACCESS_DENIED));
        assert_eq!(close_adapter(f.adapter), NtStatus::ACCESS_DENIED, "any entry point");
        assert_eq!(session_status(0x4000_0040), Err(NtStatus::ACCESS_DENIED));
    }
    assert!(create_device(f.adapter).is_ok(), "disarmed on drop");
    let id = f.kernel.arm(Fault::status(NtStatus::NO_MEMORY)).keep();
    assert_eq!(create_device(f.adapter), Err(NtStatus::NO_MEMORY), "kept armed");
    assert!(f.kernel.disarm(id));
    assert!(!f.kernel.disarm(id), "disarmed once");
    assert!(create_device(f.adapter).is_ok());
}

/// A probability fault is reproducible from its seed, and roughly right.
#[test]
fn probability_faults_are_reproducible_from_the_seed() {
    let pattern = |seed: u64| -> Vec<bool> {
        let f = fixture();
        let _bound = f.process.enter();
        let _armed =
            f.kernel.arm(Fault::status(NtStatus::NO_MEMORY).on(Entry::D3DKMTCreateDevice).with_probability(0.3, seed));
        (0..400)
            .map(|_| match create_device(f.adapter) {
                Ok(d) => {
                    assert_eq!(destroy_device(d), NtStatus::SUCCESS);
                    false
                }
                Err(s) => {
                    assert_eq!(s, NtStatus::NO_MEMORY);
                    true
                }
            })
            .collect()
    };
    let (one, again, other) = (pattern(42), pattern(42), pattern(43));
    assert_eq!(one, again);
    assert_ne!(one, other);
    let failures = one.iter().filter(|&&x| x).count();
    assert!((70..170).contains(&failures), "{failures} of 400 at p = 0.3");
    assert_eq!(
        Fault::status(NtStatus::NO_MEMORY).with_probability(0.3, 42).when(),
        When::Probability { p: 0.3, seed: 42 }
    );
}

/// A fault for one process leaves the others alone.
#[test]
fn process_filter_matches_one_process() {
    let f = fixture();
    let other = f.kernel.create_process();
    let other_adapter = other.run(|| open_adapter().unwrap());
    let _armed = f.kernel.arm(Fault::status(NtStatus::NO_MEMORY).in_process(other.id()));
    assert!(f.process.run(|| create_device(f.adapter)).is_ok());
    assert_eq!(other.run(|| create_device(other_adapter)), Err(NtStatus::NO_MEMORY));
}

/// What-if mode: the call runs normally and the log says it would have failed.
#[test]
fn record_only_logs_and_lets_the_call_run() {
    let f = fixture();
    let _bound = f.process.enter();
    let armed = f.kernel.arm(Fault::status(NtStatus::NO_MEMORY).on(Entry::D3DKMTCreateDevice).record_only());
    let device = create_device(f.adapter).expect("runs normally");
    assert_ne!(device, 0);
    let log = f.kernel.fault_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].fault, armed.id());
    assert!(!log[0].injected);
    assert_eq!(
        (log[0].entry, log[0].process, log[0].status),
        (Entry::D3DKMTCreateDevice, f.process.id(), NtStatus::NO_MEMORY)
    );
    assert!(log[0].to_string().contains("would fail D3DKMTCreateDevice"), "{}", log[0]);
}

/// The log lists firings in order, with entry, process, sequence and status;
/// a real fault decides the call, and record-only ones still log.
#[test]
fn the_log_keeps_firings_in_order() {
    let f = fixture(); // the adapter open was call 1 of process 1
    let other = f.kernel.create_process();
    let what_if = f.kernel.arm(Fault::status(NtStatus::UNSUCCESSFUL).record_only());
    let real = f.kernel.arm(Fault::status(NtStatus::NO_MEMORY).on(Entry::D3DKMTCreateDevice).nth(2));
    f.process.run(|| {
        create_device(f.adapter).unwrap(); // call 2
        assert_eq!(create_device(f.adapter), Err(NtStatus::NO_MEMORY)); // call 3
    });
    other.run(|| assert_eq!(session_status(0x4000_0040), Err(NtStatus::INVALID_PARAMETER)));
    let log: Vec<_> = f
        .kernel
        .take_fault_log()
        .iter()
        .map(|r| (r.fault, r.entry, r.process, r.sequence, r.status, r.injected))
        .collect();
    let (w, r, p1, p2) = (what_if.id(), real.id(), f.process.id(), ProcessId(other.id().0));
    assert_eq!(
        log,
        vec![
            (w, Entry::D3DKMTCreateDevice, p1, 2, NtStatus::UNSUCCESSFUL, false),
            (w, Entry::D3DKMTCreateDevice, p1, 3, NtStatus::UNSUCCESSFUL, false),
            (r, Entry::D3DKMTCreateDevice, p1, 3, NtStatus::NO_MEMORY, true),
            (w, Entry::D3DKMTQueryProtectedSessionStatus, p2, 1, NtStatus::UNSUCCESSFUL, false),
        ]
    );
    assert!(f.kernel.fault_log().is_empty(), "taken");
}

/// Faults are per kernel: two tests on two threads never see each other's.
#[test]
fn faults_are_per_kernel() {
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        let armed = s.spawn(|| {
            let f = fixture();
            let _armed = f.kernel.arm(Fault::status(NtStatus::NO_MEMORY));
            barrier.wait();
            let _bound = f.process.enter();
            (0..200).all(|_| create_device(f.adapter) == Err(NtStatus::NO_MEMORY))
        });
        let clean = s.spawn(|| {
            let f = fixture();
            barrier.wait();
            let _bound = f.process.enter();
            (0..200).all(|_| create_device(f.adapter).is_ok())
        });
        assert!(armed.join().unwrap(), "the armed kernel fails every call");
        assert!(clean.join().unwrap(), "the other kernel sees none of its faults");
    });
}

#[test]
#[should_panic(expected = "counts from 1")]
fn nth_zero_is_refused() {
    let _ = Fault::status(NtStatus::NO_MEMORY).nth(0);
}
