//! Protected sessions end to end: the fake KMD, the status fence, lifetime
//! across processes, and the policies around them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use d3dkmt_emu::{
    CreateSessionArgs, DeviceDestroySessions, DuplicateOptions, Kernel, KernelConfig, Kmd, LocalHandle, Luid, NtStatus,
    ObjectKind, Policies, Process, SessionKey, SessionStatus, SyncFlags, WeakKernel, access,
};

const SHARED_NT: SyncFlags = SyncFlags {
    shared: true,
    nt_security_sharing: true,
    cross_adapter: false,
    no_signal: false,
    no_wait: false,
    no_signal_max_value_on_tdr: false,
};

#[derive(Default)]
struct RecordingKmd {
    created: Mutex<Vec<(SessionKey, Vec<u8>)>>,
    destroyed: Mutex<Vec<u64>>,
    fail_with: Mutex<Option<NtStatus>>,
    kernel: Mutex<Option<WeakKernel>>,
    status_during_destroy: Mutex<Vec<NtStatus>>,
}

impl Kmd for RecordingKmd {
    fn create_protected_session(&self, args: &mut CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
        if let Some(status) = *self.fail_with.lock().unwrap() {
            return Err(status);
        }
        self.created.lock().unwrap().push((args.session, args.driver_data.to_vec()));
        if let Some(first) = args.driver_data.first_mut() {
            *first = b'K'; // the KMD rewrites its blob; openers see the rewrite
        }
        Ok(0x5E55_0000 + args.session.0)
    }

    fn destroy_protected_session(&self, _adapter: Luid, kmd_session: u64) {
        self.destroyed.lock().unwrap().push(kmd_session);
        // A KMD must not set the status of a session being destroyed; if it
        // does, the kernel refuses.
        if let Some(kernel) = self.kernel.lock().unwrap().as_ref().and_then(WeakKernel::upgrade) {
            let key = SessionKey(kmd_session - 0x5E55_0000);
            let r = kernel.set_protected_session_status(key, SessionStatus::Invalid);
            self.status_during_destroy.lock().unwrap().push(r.map_or_else(|e| e.status(), |()| NtStatus::SUCCESS));
        }
    }
}

struct Setup {
    kernel: Kernel,
    kmd: Arc<RecordingKmd>,
    a: Process,
    b: Process,
    device: LocalHandle,
    fence: LocalHandle,
    session: LocalHandle,
}

fn setup_with(policies: Policies) -> Setup {
    let kernel = Kernel::new(KernelConfig { policies, ..KernelConfig::default() });
    let kmd = Arc::new(RecordingKmd::default());
    *kmd.kernel.lock().unwrap() = Some(kernel.downgrade());
    kernel.set_kmd(kmd.clone());
    let a = kernel.create_process();
    let b = kernel.create_process();
    let adapter = a.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = a.create_device(adapter).unwrap();
    let fence = a.create_monitored_fence(device, SHARED_NT, 10).unwrap().handle;
    let session = a.create_protected_session(device, fence, b"driver", b"runtime").unwrap();
    Setup { kernel, kmd, a, b, device, fence, session }
}

fn setup() -> Setup {
    setup_with(Policies::default())
}

fn share_to_b(s: &Setup) -> d3dkmt_emu::NtHandle {
    let nt = s.a.share_objects(&[s.session], None, access::GENERIC_ALL).unwrap();
    let opts = DuplicateOptions { close_source: true, same_access: true };
    s.a.duplicate_nt_handle(nt, &s.b, 0, opts).unwrap()
}

#[test]
fn the_kmd_sees_the_blob_and_its_rewrite_is_what_openers_get() {
    let s = setup();
    let created = s.kmd.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].1, b"driver");
    let nt = share_to_b(&s);
    let info = s.b.query_protected_session_info(nt).unwrap();
    assert_eq!(info.driver_data, b"Kriver");
    assert_eq!(info.runtime_data, b"runtime", "the runtime blob never reaches the KMD");
}

#[test]
fn destroy_ddi_runs_once_when_the_last_reference_goes() {
    let s = setup();
    let nt = share_to_b(&s);
    let opened = s.b.open_protected_session_from_nt_handle(nt).unwrap();
    s.a.destroy_protected_session(s.session).unwrap();
    assert!(s.kmd.destroyed.lock().unwrap().is_empty(), "B still holds it");
    s.b.close_nt_handle(nt).unwrap();
    assert!(s.kmd.destroyed.lock().unwrap().is_empty(), "B's session handle still holds it");
    assert_eq!(s.b.query_protected_session_status(opened).unwrap(), SessionStatus::Ok);
    s.b.destroy_protected_session(opened).unwrap();
    let destroyed = s.kmd.destroyed.lock().unwrap().clone();
    assert_eq!(destroyed.len(), 1);
    assert_eq!(destroyed[0], 0x5E55_0000 + s.kmd.created.lock().unwrap()[0].0.0, "the KMD gets its own handle back");
    assert_eq!(
        *s.kmd.status_during_destroy.lock().unwrap(),
        vec![NtStatus::INVALID_HANDLE],
        "a status set during destroy is refused"
    );
    assert_eq!(s.kernel.live_objects(ObjectKind::ProtectedSession), 0);
}

#[test]
fn process_exit_releases_sessions_and_runs_the_ddi() {
    let s = setup();
    let nt = share_to_b(&s);
    s.a.exit();
    assert!(s.kmd.destroyed.lock().unwrap().is_empty(), "B's NT handle keeps the session");
    assert_eq!(
        s.a.query_protected_session_status(s.session).map_err(|e| e.status()),
        Err(NtStatus::PROCESS_IS_TERMINATING)
    );
    s.b.exit();
    assert_eq!(s.kmd.destroyed.lock().unwrap().len(), 1);
    assert_eq!(s.kernel.total_live_objects(), 0);
    let _ = nt;
}

#[test]
fn a_failing_create_ddi_fails_the_call_and_leaves_nothing() {
    let s = setup();
    *s.kmd.fail_with.lock().unwrap() = Some(NtStatus::GRAPHICS_NO_VIDEO_MEMORY);
    let before = s.a.local_handle_count();
    let r = s.a.create_protected_session(s.device, s.fence, b"x", b"y");
    assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::GRAPHICS_NO_VIDEO_MEMORY));
    assert_eq!(s.a.local_handle_count(), before);
    assert_eq!(s.kernel.live_objects(ObjectKind::ProtectedSession), 1);
    assert_eq!(s.kmd.destroyed.lock().unwrap().len(), 0, "nothing to destroy for a failed create");
}

#[test]
fn status_changes_bump_the_fence_on_both_edges_by_default() {
    let s = setup();
    let key = s.a.protected_session_key(s.session).unwrap();
    assert_eq!(s.a.fence_value(s.fence).unwrap(), 10);
    s.kernel.set_protected_session_status(key, SessionStatus::Invalid).unwrap();
    assert_eq!(s.a.query_protected_session_status(s.session).unwrap(), SessionStatus::Invalid);
    assert_eq!(s.a.fence_value(s.fence).unwrap(), 11);
    s.kernel.set_protected_session_status(key, SessionStatus::Invalid).unwrap();
    assert_eq!(s.a.fence_value(s.fence).unwrap(), 11, "setting the same status is not a change");
    s.kernel.set_protected_session_status(key, SessionStatus::Ok).unwrap();
    assert_eq!(s.a.fence_value(s.fence).unwrap(), 12);
}

#[test]
fn the_bump_policy_can_limit_bumps_to_invalidation() {
    let mut policies = Policies::default();
    policies.status_fence_bump.on_revalidate = false;
    let s = setup_with(policies);
    let key = s.a.protected_session_key(s.session).unwrap();
    s.kernel.set_protected_session_status(key, SessionStatus::Invalid).unwrap();
    s.kernel.set_protected_session_status(key, SessionStatus::Ok).unwrap();
    assert_eq!(s.a.fence_value(s.fence).unwrap(), 11);
}

#[test]
fn a_blocked_cpu_wait_on_the_status_fence_wakes_on_invalidation() {
    let s = setup();
    let nt_fence = s.a.share_objects(&[s.fence], None, access::SYNC_ALL_ACCESS).unwrap();
    let nt_fence_b =
        s.a.duplicate_nt_handle(nt_fence, &s.b, access::GENERIC_READ, DuplicateOptions::default()).unwrap();
    let adapter_b = s.b.open_adapter_from_luid(s.kernel.adapter_luids()[0]).unwrap();
    let device_b = s.b.create_device(adapter_b).unwrap();
    let fence_b = s.b.open_sync_object_from_nt_handle(nt_fence_b, device_b, SyncFlags::default()).unwrap();
    let b = s.b.clone();
    let waiter = std::thread::spawn(move || b.wait_from_cpu(device_b, &[(fence_b.handle, 11)], false));
    std::thread::sleep(Duration::from_millis(50));
    assert!(!waiter.is_finished(), "the wait must block until the bump");
    let key = s.a.protected_session_key(s.session).unwrap();
    s.kernel.set_protected_session_status(key, SessionStatus::Invalid).unwrap();
    waiter.join().unwrap().unwrap();
    // B reads the same value through its own CPU VA.
    assert_eq!(s.b.fence_value(fence_b.handle).unwrap(), 11);
}

#[test]
fn destroying_the_device_closes_its_session_handles_by_default() {
    let s = setup();
    let nt = s.a.share_objects(&[s.session], None, access::GENERIC_ALL).unwrap();
    s.a.destroy_device(s.device).unwrap();
    assert_eq!(s.a.query_protected_session_status(s.session).map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER));
    assert!(s.kmd.destroyed.lock().unwrap().is_empty(), "the NT handle keeps the session");
    s.a.close_nt_handle(nt).unwrap();
    assert_eq!(s.kmd.destroyed.lock().unwrap().len(), 1);
}

#[test]
fn the_keep_handles_policy_lets_sessions_outlive_their_device() {
    let policies = Policies { device_destroy_sessions: DeviceDestroySessions::KeepHandles, ..Policies::default() };
    let s = setup_with(policies);
    s.a.destroy_device(s.device).unwrap();
    assert_eq!(s.a.query_protected_session_status(s.session).unwrap(), SessionStatus::Ok);
    assert_eq!(s.a.fence_value(s.fence).map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER));
    s.a.destroy_protected_session(s.session).unwrap();
    assert_eq!(s.kernel.total_live_objects(), 0);
}

#[test]
fn an_adapter_without_support_answers_not_supported() {
    let mut config = KernelConfig::default();
    config.adapters[0].protected_sessions = false;
    let kernel = Kernel::new(config);
    let p = kernel.create_process();
    let adapter = p.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = p.create_device(adapter).unwrap();
    let fence = p.create_monitored_fence(device, SyncFlags::default(), 0).unwrap().handle;
    let r = p.create_protected_session(device, fence, b"", b"");
    assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::NOT_SUPPORTED));
}

#[test]
fn a_fence_on_another_adapter_is_refused() {
    let mut config = KernelConfig::default();
    config.adapters.push(d3dkmt_emu::AdapterConfig::new(Luid { low: 0x5678, high: 0 }));
    let kernel = Kernel::new(config);
    let p = kernel.create_process();
    let luids = kernel.adapter_luids();
    let d0 = p.create_device(p.open_adapter_from_luid(luids[0]).unwrap()).unwrap();
    let d1 = p.create_device(p.open_adapter_from_luid(luids[1]).unwrap()).unwrap();
    let fence1 = p.create_monitored_fence(d1, SyncFlags::default(), 0).unwrap().handle;
    let r = p.create_protected_session(d0, fence1, b"", b"");
    assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER));
}

#[test]
fn closing_the_last_adapter_handle_destroys_the_process_devices() {
    let s = setup();
    // setup() opened one adapter handle in A; close it.
    let adapter = s.a.local_handles().into_iter().find(|(_, k)| *k == d3dkmt_emu::HandleKind::Adapter).unwrap().0;
    s.a.close_adapter(adapter).unwrap();
    assert_eq!(s.a.local_handle_count(), 0, "devices and their children went with the adapter");
    assert_eq!(s.kmd.destroyed.lock().unwrap().len(), 1);
}

#[test]
fn kmd_status_for_an_unknown_key_is_invalid_handle() {
    let s = setup();
    let r = s.kernel.set_protected_session_status(SessionKey(999_999), SessionStatus::Invalid);
    assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::INVALID_HANDLE));
}

#[test]
fn many_kernels_on_many_threads_stay_isolated() {
    let counter = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let s = setup();
                    let nt = share_to_b(&s);
                    assert_eq!(s.b.nt_handle_count(), 1);
                    assert_eq!(s.kernel.protected_sessions().len(), 1);
                    s.a.exit();
                    s.b.close_nt_handle(nt).unwrap();
                    assert_eq!(s.kernel.total_live_objects(), 0);
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 200);
}

/// A KMD that reports the session INVALID from inside its own create DDI, as
/// a driver that detects tampering at once may.
struct InvalidAtBirth;

impl Kmd for InvalidAtBirth {
    fn create_protected_session(&self, args: &mut CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
        args.kernel.set_protected_session_status(args.session, SessionStatus::Invalid).map_err(|e| e.status())?;
        Ok(1)
    }
}

#[test]
fn the_kmd_may_set_the_status_of_the_session_it_is_creating() {
    let kernel = Kernel::new(KernelConfig::default());
    kernel.set_kmd(Arc::new(InvalidAtBirth));
    let p = kernel.create_process();
    let device = p.create_device(p.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap()).unwrap();
    let fence = p.create_monitored_fence(device, SyncFlags::default(), 0).unwrap().handle;
    let session = p.create_protected_session(device, fence, b"", b"").unwrap();
    assert_eq!(p.query_protected_session_status(session).unwrap(), SessionStatus::Invalid);
    assert_eq!(p.fence_value(fence).unwrap(), 1, "the status fence was bumped");
    p.exit();
}

#[test]
fn a_blocked_wait_ends_when_its_process_exits() {
    let s = setup();
    let a = s.a.clone();
    let (device, fence) = (s.device, s.fence);
    let waiter = std::thread::spawn(move || a.wait_from_cpu(device, &[(fence, u64::MAX)], false));
    std::thread::sleep(Duration::from_millis(30));
    assert!(!waiter.is_finished());
    s.a.exit();
    assert_eq!(waiter.join().unwrap().map_err(|e| e.status()), Err(NtStatus::PROCESS_IS_TERMINATING));
}
