//! Regressions found by the second review of the core, each a bug once.
#![allow(unsafe_code, reason = "one test calls the C ABI as a windows-sys client does")]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use d3dkmt_emu::{
    CreateSessionArgs, DuplicateOptions, Kernel, KernelConfig, Kmd, Luid, NtStatus, SessionStatus, SyncFlags, access,
};

const SHARED_NT: SyncFlags = SyncFlags {
    shared: true,
    nt_security_sharing: true,
    cross_adapter: false,
    no_signal: false,
    no_wait: false,
    no_signal_max_value_on_tdr: false,
};

/// kmd.rs: "an implementation may call back into the kernel (for example
/// Kernel::set_protected_session_status)". A Rust KMD can only do that by
/// holding a `Kernel`, and the kernel holds its KMD: a cycle that never frees.
struct CallbackKmd {
    kernel: Mutex<Option<d3dkmt_emu::WeakKernel>>,
    dropped: Arc<AtomicBool>,
}
impl Kmd for CallbackKmd {
    fn destroy_protected_session(&self, _: Luid, _: u64) {
        // What a KMD keeps the weak reference for: reaching its kernel later.
        let kernel = self.kernel.lock().unwrap().as_ref().and_then(|w| w.upgrade());
        assert!(kernel.is_some());
    }
}
impl Drop for CallbackKmd {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

#[test]
fn a_kmd_holding_a_weak_kernel_lets_it_go() {
    let dropped = Arc::new(AtomicBool::new(false));
    {
        let k = Kernel::new(KernelConfig::default());
        let kmd = Arc::new(CallbackKmd { kernel: Mutex::new(Some(k.downgrade())), dropped: dropped.clone() });
        k.set_kmd(kmd);
        let p = k.create_process();
        let dev = p.create_device(p.open_adapter_from_luid(k.adapter_luids()[0]).unwrap()).unwrap();
        let f = p.create_monitored_fence(dev, SyncFlags::default(), 0).unwrap().handle;
        p.create_protected_session(dev, f, b"", b"").unwrap();
        p.exit(); // runs the destroy DDI, which reaches the kernel
    } // every reference the test holds is gone
    assert!(dropped.load(Ordering::SeqCst), "the kernel (and its KMD) were never freed: Kernel -> Kmd -> Kernel");
}

/// process.rs: "the returned guard restores the previous binding". Dropped in
/// creation order (as struct fields are), the thread stays bound to `a` for good.
#[test]
fn bindings_dropped_in_creation_order_unbind_the_thread() {
    let k = Kernel::new(KernelConfig::default());
    let (a, b) = (k.create_process(), k.create_process());
    struct Both {
        _first: d3dkmt_emu::Binding,
        _second: d3dkmt_emu::Binding,
    }
    let before = d3dkmt_emu::current_process();
    {
        let first = a.enter();
        let second = b.enter();
        let _both = Both { _first: first, _second: second };
    }
    assert_eq!(d3dkmt_emu::current_process(), before, "thread still acts as {:?}", d3dkmt_emu::current_process());
}

/// shared.rs: "close_source: close the source handle, even if the duplicate fails".
#[test]
fn close_source_closes_even_when_the_target_is_in_another_kernel() {
    let k1 = Kernel::new(KernelConfig::default());
    let k2 = Kernel::new(KernelConfig::default());
    let (a, other) = (k1.create_process(), k2.create_process());
    let dev = a.create_device(a.open_adapter_from_luid(k1.adapter_luids()[0]).unwrap()).unwrap();
    let f = a.create_monitored_fence(dev, SHARED_NT, 0).unwrap().handle;
    let nt = a.share_objects(&[f], None, access::GENERIC_ALL).unwrap();
    let opts = DuplicateOptions { close_source: true, same_access: true };
    assert!(a.duplicate_nt_handle(nt, &other, 0, opts).is_err());
    assert_eq!(a.nt_handle_count(), 0, "DUPLICATE_CLOSE_SOURCE left the source handle open");
}

/// A KMD whose destroy DDI panics (an assert in test code) during exit: exit's
/// wake-up of blocked waiters is skipped, so a waiter of the exited process hangs.
struct PanicOnDestroy;
impl Kmd for PanicOnDestroy {
    fn destroy_protected_session(&self, _: Luid, _: u64) {
        panic!("KMD assertion failed in destroy");
    }
}

#[test]
fn a_panicking_destroy_ddi_in_exit_still_wakes_blocked_waiters() {
    let k = Kernel::new(KernelConfig::default());
    k.set_kmd(Arc::new(PanicOnDestroy));
    let a = k.create_process();
    let dev = a.create_device(a.open_adapter_from_luid(k.adapter_luids()[0]).unwrap()).unwrap();
    let f = a.create_monitored_fence(dev, SyncFlags::default(), 0).unwrap().handle;
    let _s = a.create_protected_session(dev, f, b"", b"").unwrap();
    let a2 = a.clone();
    let waiter = std::thread::spawn(move || a2.wait_from_cpu(dev, &[(f, u64::MAX)], false));
    std::thread::sleep(Duration::from_millis(50));
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.exit()));
    assert!(a.has_exited());
    std::thread::sleep(Duration::from_millis(300));
    assert!(waiter.is_finished(), "the waiter of the exited process is still blocked");
}

/// A KMD create failure whose status is not an NT error (e.g. STATUS_PENDING
/// or a policy set to SUCCESS) comes back as success with hHandle unwritten.
struct PendingKmd;
impl Kmd for PendingKmd {
    fn create_protected_session(&self, _: &mut CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
        Err(NtStatus::PENDING)
    }
}

#[test]
fn a_success_status_from_the_kmd_is_not_passed_off_as_success() {
    use windows_sys::Wdk::Graphics::Direct3D::D3DKMT_CREATEPROTECTEDSESSION;
    let k = Kernel::new(KernelConfig::default());
    k.set_kmd(Arc::new(PendingKmd));
    let p = k.create_process();
    let dev = p.create_device(p.open_adapter_from_luid(k.adapter_luids()[0]).unwrap()).unwrap();
    let f = p.create_monitored_fence(dev, SyncFlags::default(), 0).unwrap().handle;
    let _g = p.enter();
    let mut args =
        D3DKMT_CREATEPROTECTEDSESSION { hDevice: dev.0, hSyncObject: f.0, hHandle: 0x1ead_beed, ..Default::default() };
    // SAFETY: `args` is a live, initialised struct for the whole call.
    let st = NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::D3DKMTCreateProtectedSession(&mut args) });
    assert!(
        st.is_err() || args.hHandle != 0x1ead_beed,
        "status {st} is NT_SUCCESS but hHandle was never written (no session exists)"
    );
}

/// kmd.rs / header: the destroy DDI runs on the thread whose call released the
/// last reference (a D3DKMT* call, nt_close, exit, process release), and the
/// status callback may be called from the KMD. But `set_protected_session_status`
/// upgrades the registry's Weak: if the last handle goes meanwhile, the destroy
/// DDI runs *inside the KMD's own status callback*, re-entering the KMD.
struct ThreadRecordingKmd {
    destroy_threads: Mutex<Vec<std::thread::ThreadId>>,
}
impl Kmd for ThreadRecordingKmd {
    fn destroy_protected_session(&self, _: Luid, _: u64) {
        self.destroy_threads.lock().unwrap().push(std::thread::current().id());
    }
}

#[test]
fn the_destroy_ddi_never_runs_inside_a_status_callback() {
    let k = Kernel::new(KernelConfig::default());
    let kmd = Arc::new(ThreadRecordingKmd { destroy_threads: Mutex::new(Vec::new()) });
    k.set_kmd(kmd.clone());
    let p = k.create_process();
    let dev = p.create_device(p.open_adapter_from_luid(k.adapter_luids()[0]).unwrap()).unwrap();
    let f = p.create_monitored_fence(dev, SyncFlags::default(), 0).unwrap().handle;
    let main = std::thread::current().id();
    let mut inside_callback = 0;
    for _ in 0..3_000 {
        let s = p.create_protected_session(dev, f, b"", b"").unwrap();
        let key = p.protected_session_key(s).unwrap();
        let k2 = k.clone();
        let go = Arc::new(std::sync::Barrier::new(2));
        let go2 = go.clone();
        let kmd_thread = std::thread::spawn(move || {
            go2.wait();
            let mut st = SessionStatus::Invalid;
            while k2.set_protected_session_status(key, st).is_ok() {
                st = if st == SessionStatus::Ok { SessionStatus::Invalid } else { SessionStatus::Ok };
            }
            std::thread::current().id()
        });
        go.wait();
        p.destroy_protected_session(s).unwrap();
        let kmd_id = kmd_thread.join().unwrap();
        let last = *kmd.destroy_threads.lock().unwrap().last().unwrap();
        if last == kmd_id {
            inside_callback += 1;
        } else {
            assert_eq!(last, main);
        }
        if inside_callback > 0 {
            break;
        }
    }
    assert_eq!(inside_callback, 0, "the destroy DDI ran inside set_protected_session_status on the KMD's thread");
}

/// README: "each process numbers from its own range by default, so a handle
/// passed to the wrong process fails". Once, ranges were fixed offsets that a
/// growing table ran into.
#[test]
fn an_nt_handle_of_another_process_fails_however_many_each_holds() {
    let k = Kernel::new(KernelConfig::default());
    let (a, b) = (k.create_process(), k.create_process());
    let dev_a = a.create_device(a.open_adapter_from_luid(k.adapter_luids()[0]).unwrap()).unwrap();
    let fa = a.create_monitored_fence(dev_a, SHARED_NT, 0).unwrap().handle;
    // A shares its fence 257 times (an ordinary stress loop), keeping the handles.
    let mut mine = Vec::new();
    for _ in 0..257 {
        mine.push(a.share_objects(&[fa], None, access::GENERIC_ALL).unwrap());
    }
    let dev_b = b.create_device(b.open_adapter_from_luid(k.adapter_luids()[0]).unwrap()).unwrap();
    let fb = b.create_monitored_fence(dev_b, SHARED_NT, 0).unwrap().handle;
    let nt_b = b.share_objects(&[fb], None, access::GENERIC_ALL).unwrap();
    // B's NT handle, leaked to A, must fail as if it did not exist.
    let r = a.close_nt_handle(nt_b);
    assert_eq!(
        r.map_err(|e| e.status()),
        Err(NtStatus::INVALID_HANDLE),
        "A closed B's NT handle value {nt_b} (it was one of A's own handles)"
    );
}

/// Same for D3DKMT handles with more than 256 processes (the fixed offsets
/// once wrapped there).
#[test]
fn a_d3dkmt_handle_of_process_257_fails_in_process_1() {
    let k = Kernel::new(KernelConfig::default());
    let procs: Vec<_> = (0..257).map(|_| k.create_process()).collect();
    let (p1, p257) = (&procs[0], &procs[256]);
    let luid = k.adapter_luids()[0];
    let _a1 = p1.open_adapter_from_luid(luid).unwrap();
    let _a2 = p1.open_adapter_from_luid(luid).unwrap();
    let foreign = p257.open_adapter_from_luid(luid).unwrap();
    let r = p1.close_adapter(foreign);
    assert_eq!(
        r.map_err(|e| e.status()),
        Err(NtStatus::INVALID_PARAMETER),
        "process 1 closed process 257's adapter handle {foreign}"
    );
}

/// Binding ids were once per thread, and the thread token is a TLS address a
/// later thread may reuse: unbinding a dead thread's binding from C removed
/// the new thread's binding with the same id.
#[test]
fn unbinding_a_dead_threads_binding_leaves_this_threads_alone() {
    use d3dkmt_emu::abi::control::*;
    let k = d3dkmt_emu_kernel_create(core::ptr::null());
    let pa = d3dkmt_emu_process_create(k) as usize;
    let pb = d3dkmt_emu_process_create(k) as usize;
    let pb_id = d3dkmt_emu_process_id(pb as *const _);
    for _ in 0..50 {
        // A thread binds and dies without unbinding (its binding leaks to C).
        let stale = std::thread::spawn(move || d3dkmt_emu_thread_bind(pa as *const _) as usize).join().unwrap();
        let (status, before, after) = std::thread::spawn(move || {
            let mine = d3dkmt_emu_thread_bind(pb as *const _);
            let cur = || {
                let p = d3dkmt_emu_process_current();
                let id = d3dkmt_emu_process_id(p);
                d3dkmt_emu_process_release(p);
                id
            };
            let before = cur();
            let status = d3dkmt_emu_thread_unbind(stale as *mut _);
            assert_ne!(status, NtStatus::SUCCESS.0, "a dead thread's binding was accepted");
            let after = cur();
            d3dkmt_emu_thread_unbind(mine);
            (status, before, after)
        })
        .join()
        .unwrap();
        assert_eq!(before, pb_id);
        if status == NtStatus::SUCCESS.0 {
            // The TLS address was reused: the stale binding passed the thread check.
            assert_eq!(after, pb_id, "unbinding another (dead) thread's binding unbound this thread");
        }
    }
}

thread_local! {
    static HELD: std::cell::RefCell<Option<d3dkmt_emu::Binding>> = const { std::cell::RefCell::new(None) };
}

/// A Binding kept in a thread-local registered before ours is dropped after
/// ours at thread exit; it once panicked there, which aborts the process.
#[test]
fn a_binding_held_in_a_thread_local_does_not_abort_at_thread_exit() {
    if std::env::var_os("D3DKMT_EMU_REGRESSION_CHILD").is_some() {
        let k = Kernel::new(KernelConfig::default());
        let p = k.create_process();
        std::thread::spawn(move || {
            HELD.with(|h| *h.borrow_mut() = Some(p.enter()));
        })
        .join()
        .unwrap();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_binding_held_in_a_thread_local_does_not_abort_at_thread_exit", "--nocapture"])
        .env("D3DKMT_EMU_REGRESSION_CHILD", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "child: {:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
}

/// Review (second round): under `KeyedMutexOwner::Process`, an owner that
/// destroyed its only handle and then exited left the mutex owned for good;
/// other processes timed out instead of seeing it abandoned (WINE B6 model).
#[test]
fn process_owner_destroying_its_last_handle_abandons_the_keyed_mutex() {
    use d3dkmt_emu::{KernelError, KeyedMutexOwner, Policies};
    let mut policies = Policies::default();
    policies.keyed_mutex.owner = KeyedMutexOwner::Process;
    let kernel = Kernel::new(KernelConfig { policies, ..KernelConfig::default() });
    let (a, b) = (kernel.create_process(), kernel.create_process());
    let created = a.create_keyed_mutex(0, &[], false).unwrap();
    let (hb, _) = b.open_keyed_mutex(created.global).unwrap();
    // A second handle in A keeps the mutex owned after one destroy.
    let (ha2, _) = a.open_keyed_mutex(created.global).unwrap();
    a.acquire_keyed_mutex(created.handle, 0, None, None).unwrap();
    a.destroy_keyed_mutex(created.handle).unwrap();
    let _bound = b.enter();
    assert_eq!(b.acquire_keyed_mutex(hb, 0, Some(0), None).map(|_| ()), Err(KernelError::Timeout), "still owned");
    a.destroy_keyed_mutex(ha2).unwrap();
    assert_eq!(b.acquire_keyed_mutex(hb, 0, Some(-10_000_000), None).map(|_| ()), Err(KernelError::Abandoned));
    a.exit();
    b.exit();
    kernel.assert_no_leaks();
}
