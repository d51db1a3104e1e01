//! The ABI boundary: bad input is answered, never obeyed; panics do not cross
//! into C; stubs say what they are; the default kernel needs no set-up.
//!
//! The exports are called as code written against windows-sys calls them:
//! through windows-sys's own declarations, which resolve to our symbols.
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use d3dkmt_emu::abi::control::*;
use d3dkmt_emu::{
    CreateSessionArgs, HandleReuse, Kernel, KernelConfig, Kmd, LocalHandle, NtStatus, Policies, SyncFlags,
};
use proptest::prelude::*;
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MONITORED_FENCE, D3DKMT_ADAPTERINFO, D3DKMT_CLOSEADAPTER, D3DKMT_CREATECONTEXT, D3DKMT_CREATEDEVICE,
    D3DKMT_CREATEPROTECTEDSESSION, D3DKMT_CREATESYNCHRONIZATIONOBJECT2, D3DKMT_DESTROYDEVICE,
    D3DKMT_DESTROYPROTECTEDSESSION, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT, D3DKMT_ENUMADAPTERS2,
    D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE, D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE,
    D3DKMT_QUERYPROTECTEDSESSIONSTATUS,
};

fn status(raw: i32) -> NtStatus {
    NtStatus(raw)
}

/// Calls a `D3DKMT*` export through windows-sys's declaration.
macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument is a reference to a live, aligned,
        // initialised struct (or NULL where the test means NULL), valid for
        // the whole call; the export keeps none of them.
        unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) }
    };
}

struct Fixture {
    kernel: Kernel,
    process: d3dkmt_emu::Process,
    device: LocalHandle,
    fence: LocalHandle,
}

fn fixture(policies: Policies) -> Fixture {
    let kernel = Kernel::new(KernelConfig { policies, ..KernelConfig::default() });
    let process = kernel.create_process();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = process.create_device(adapter).unwrap();
    let fence = process.create_monitored_fence(device, SyncFlags::default(), 0).unwrap().handle;
    Fixture { kernel, process, device, fence }
}

struct PanickingKmd;
impl Kmd for PanickingKmd {
    fn create_protected_session(&self, _: &mut CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
        panic!("the fake KMD blew up");
    }
}

#[test]
fn a_panic_becomes_internal_error_and_the_kernel_lives_on() {
    let f = fixture(Policies::default());
    let _bound = f.process.enter();
    f.kernel.set_kmd(std::sync::Arc::new(PanickingKmd));
    let mut args = D3DKMT_CREATEPROTECTEDSESSION { hDevice: f.device.0, hSyncObject: f.fence.0, ..Default::default() };
    let handles_before = f.process.local_handles();
    assert_eq!(status(call!(D3DKMTCreateProtectedSession(&mut args))), NtStatus::INTERNAL_ERROR);
    assert_eq!(args.hHandle, 0, "no output on failure");
    assert_eq!(f.process.local_handles(), handles_before);
    let (_, why) = d3dkmt_emu::last_error().unwrap();
    assert!(why.contains("the fake KMD blew up"), "{why}");
    f.kernel.set_kmd(std::sync::Arc::new(d3dkmt_emu::DefaultKmd));
    assert_eq!(status(call!(D3DKMTCreateProtectedSession(&mut args))), NtStatus::SUCCESS);
}

#[test]
fn last_error_names_the_failing_rule_and_clears_on_success() {
    let f = fixture(Policies::default());
    let _bound = f.process.enter();
    let args = D3DKMT_DESTROYDEVICE { hDevice: 0x4000_1234 & !0x3F };
    assert_eq!(status(call!(D3DKMTDestroyDevice(&args))), NtStatus::INVALID_PARAMETER);
    let (entry, why) = d3dkmt_emu::last_error().unwrap();
    assert_eq!(entry.name(), "D3DKMTDestroyDevice");
    assert!(why.contains("no device"), "{why}");
    let mut buffer = [0i8; 128];
    let len = d3dkmt_emu_last_error(buffer.as_mut_ptr(), buffer.len());
    assert!(len > 0 && buffer[0] != 0);
    let ok = D3DKMT_DESTROYDEVICE { hDevice: f.device.0 };
    assert_eq!(status(call!(D3DKMTDestroyDevice(&ok))), NtStatus::SUCCESS);
    assert!(d3dkmt_emu::last_error().is_none());
}

#[test]
fn stubs_answer_not_implemented_and_say_so() {
    assert_eq!(status(call!(D3DKMTCreateOverlay(std::ptr::null_mut()))), NtStatus::NOT_IMPLEMENTED);
    assert!(d3dkmt_emu::last_error().unwrap().1.contains("D3DKMTCreateOverlay"));
    let stubs = d3dkmt_emu::support::ENTRY_POINTS.iter().filter(|(_, _, s)| *s == d3dkmt_emu::Support::Stub).count();
    assert!(stubs > 0, "the stubs have rows");
    assert!(d3dkmt_emu::support::ENTRY_POINTS.len() >= 171, "every gdi32 import has a row");
}

#[test]
fn an_unbound_thread_uses_the_default_kernel_with_no_set_up() {
    std::thread::spawn(|| {
        let mut infos = [D3DKMT_ADAPTERINFO::default(); 4];
        let mut args = D3DKMT_ENUMADAPTERS2 { NumAdapters: 4, pAdapters: infos.as_mut_ptr() };
        assert_eq!(status(call!(D3DKMTEnumAdapters2(&mut args))), NtStatus::SUCCESS);
        assert_eq!(args.NumAdapters, 1);
        let mut dev = D3DKMT_CREATEDEVICE::default();
        dev.Anonymous.hAdapter = infos[0].hAdapter;
        assert_eq!(status(call!(D3DKMTCreateDevice(&mut dev))), NtStatus::SUCCESS);
        assert_eq!(
            status(call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: dev.hDevice }))),
            NtStatus::SUCCESS
        );
        assert_eq!(
            status(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: infos[0].hAdapter }))),
            NtStatus::SUCCESS
        );
        assert_eq!(d3dkmt_emu::current_process(), d3dkmt_emu::kernel::default_process().clone());
    })
    .join()
    .unwrap();
}

#[test]
fn wrong_type_handles_fail_and_change_nothing() {
    let f = fixture(Policies::default());
    let _bound = f.process.enter();
    let session = f.process.create_protected_session(f.device, f.fence, b"", b"").unwrap();
    let before = f.process.local_handles();
    let d = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: session.0 };
    assert_eq!(status(call!(D3DKMTDestroySynchronizationObject(&d))), NtStatus::INVALID_PARAMETER);
    let mut s = D3DKMT_DESTROYPROTECTEDSESSION { hHandle: f.fence.0 };
    assert_eq!(status(call!(D3DKMTDestroyProtectedSession(&mut s))), NtStatus::INVALID_PARAMETER);
    assert_eq!(
        status(call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: f.fence.0 }))),
        NtStatus::INVALID_PARAMETER
    );
    let c = D3DKMT_CLOSEADAPTER { hAdapter: f.device.0 };
    assert_eq!(status(call!(D3DKMTCloseAdapter(&c))), NtStatus::INVALID_PARAMETER);
    assert_eq!(f.process.local_handles(), before);
}

#[test]
fn the_handle_quota_answers_no_memory_and_leaves_the_struct() {
    let f = fixture(Policies { max_local_handles: 3, ..Policies::default() });
    let _bound = f.process.enter();
    let mut args = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: f.device.0, ..Default::default() };
    args.Info.Type = D3DDDI_MONITORED_FENCE;
    args.hSyncObject = 0x1ead_beed;
    assert_eq!(status(call!(D3DKMTCreateSynchronizationObject2(&mut args))), NtStatus::NO_MEMORY);
    assert_eq!(args.hSyncObject, 0x1ead_beed);
    assert_eq!(f.kernel.live_objects(d3dkmt_emu::ObjectKind::SyncObject), 1, "the failed fence was not kept");
}

#[test]
fn never_reuse_keeps_stale_handles_failing_forever() {
    let f = fixture(Policies { handle_reuse: HandleReuse::Never, ..Policies::default() });
    f.process.destroy_sync_object(f.fence).unwrap();
    for _ in 0..10_000 {
        let h = f.process.create_monitored_fence(f.device, SyncFlags::default(), 0).unwrap().handle;
        assert_ne!(h, f.fence);
        f.process.destroy_sync_object(h).unwrap();
    }
    assert!(f.process.destroy_sync_object(f.fence).is_err());
}

#[test]
fn delayed_reuse_does_not_hand_a_value_back_soon() {
    let f = fixture(Policies::default());
    let mut seen = std::collections::HashSet::new();
    for _ in 0..10_000 {
        let h = f.process.create_monitored_fence(f.device, SyncFlags::default(), 0).unwrap().handle;
        assert!(seen.insert(h), "{h} came back within 10,000 creates");
        f.process.destroy_sync_object(h).unwrap();
    }
}

#[test]
fn control_api_tolerates_null() {
    assert!(d3dkmt_emu_process_create(std::ptr::null()).is_null());
    assert!(d3dkmt_emu_thread_bind(std::ptr::null()).is_null());
    d3dkmt_emu_process_release(std::ptr::null_mut());
    d3dkmt_emu_kernel_release(std::ptr::null_mut());
    d3dkmt_emu_thread_unbind(std::ptr::null_mut());
    d3dkmt_emu_process_exit(std::ptr::null());
    assert_eq!(d3dkmt_emu_kernel_live_objects(std::ptr::null(), 0), -1);
    assert_eq!(
        status(d3dkmt_emu_kmd_set_protected_session_status(std::ptr::null(), 1, 1)),
        NtStatus::INVALID_PARAMETER
    );
    assert_eq!(status(d3dkmt_emu_kernel_config_init(std::ptr::null_mut())), NtStatus::INVALID_PARAMETER);
    let mut config = default_config();
    let kernel = d3dkmt_emu_kernel_create(&config);
    assert!(!kernel.is_null(), "the defaults make a kernel");
    d3dkmt_emu_kernel_release(kernel);
    config.struct_size = 3;
    assert!(d3dkmt_emu_kernel_create(&config).is_null(), "a bad struct_size is refused");
}

/// A configuration filled by `d3dkmt_emu_kernel_config_init`.
fn default_config() -> d3dkmt_emu_kernel_config {
    let mut out: d3dkmt_emu_kernel_config = d3dkmt_emu_kernel_config {
        struct_size: 0,
        adapter_count: 0,
        adapters: std::ptr::null(),
        wrong_nt_object_type: 0,
        short_blob_buffer: 0,
        bump_on_invalidate: 0,
        bump_on_revalidate: 0,
        device_destroy_keeps_sessions: 0,
        never_reuse_handles: 0,
        shared_handle_numbering: 0,
        adapter_close_keeps_devices: 0,
        enum_adapters_capacity: 0,
        fence_regression_stores: 0,
        duplicate_access_subset: 0,
        max_local_handles: 0,
        max_nt_handles: 0,
        real_clock: 0,
    };
    assert_eq!(status(d3dkmt_emu_kernel_config_init(&mut out)), NtStatus::SUCCESS);
    assert_eq!(out.enum_adapters_capacity, 34);
    out
}

proptest! {
    /// Garbage handles and sizes in the session calls: an error status, the
    /// struct byte-for-byte as it was, and no change to the process.
    #[test]
    fn garbage_session_structs_are_answered_not_obeyed(
        h_device in any::<u32>(), h_sync in any::<u32>(), size1 in any::<u32>(), size2 in any::<u32>(),
        nt in any::<u64>(),
    ) {
        let f = fixture(Policies::default());
        let _bound = f.process.enter();
        prop_assume!(h_device != f.device.0);
        let before = f.process.local_handles();
        let blob = [0u8; 16];
        let mut create = D3DKMT_CREATEPROTECTEDSESSION {
            hDevice: h_device, hSyncObject: h_sync,
            pPrivateDriverData: blob.as_ptr().cast(), PrivateDriverDataSize: size1,
            pPrivateRuntimeData: blob.as_ptr().cast(), PrivateRuntimeDataSize: size2, hHandle: 7,
        };
        let copy = create;
        prop_assert!(status(call!(D3DKMTCreateProtectedSession(&mut create))).is_err());
        prop_assert_eq!(format!("{:?}", (create.hDevice, create.hSyncObject, create.PrivateDriverDataSize,
            create.PrivateRuntimeDataSize, create.hHandle)), format!("{:?}", (copy.hDevice, copy.hSyncObject,
            copy.PrivateDriverDataSize, copy.PrivateRuntimeDataSize, copy.hHandle)));
        let mut open = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: nt as usize as _, hHandle: 7 };
        prop_assert_eq!(status(call!(D3DKMTOpenProtectedSessionFromNtHandle(&mut open))), NtStatus::INVALID_HANDLE);
        prop_assert_eq!(open.hHandle, 7);
        let mut info = D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE {
            hNtHandle: nt as usize as _, PrivateDriverDataSize: size1, PrivateRuntimeDataSize: size2,
            ..Default::default()
        };
        prop_assert_eq!(status(call!(D3DKMTQueryProtectedSessionInfoFromNtHandle(&mut info))), NtStatus::INVALID_HANDLE);
        prop_assert_eq!((info.PrivateDriverDataSize, info.PrivateRuntimeDataSize), (size1, size2));
        let mut query = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: h_device, Status: 9 };
        prop_assert_eq!(status(call!(D3DKMTQueryProtectedSessionStatus(&mut query))), NtStatus::INVALID_PARAMETER);
        prop_assert_eq!(query.Status, 9);
        prop_assert_eq!(f.process.local_handles(), before);
    }
}

#[test]
fn bindings_are_undone_on_their_own_thread_in_any_order() {
    let ck = d3dkmt_emu_kernel_create(std::ptr::null());
    let a = d3dkmt_emu_process_create(ck);
    let b = d3dkmt_emu_process_create(ck);
    let (id_a, id_b) = (d3dkmt_emu_process_id(a), d3dkmt_emu_process_id(b));
    let outer = d3dkmt_emu_thread_bind(a);
    let inner = d3dkmt_emu_thread_bind(b);
    let inner_addr = inner as usize;
    let other = std::thread::spawn(move || d3dkmt_emu_thread_unbind(inner_addr as *mut _)).join().unwrap();
    assert_eq!(status(other), NtStatus::INVALID_PARAMETER, "another thread's binding is refused");
    assert_eq!(d3dkmt_emu::current_process().id().0, id_b);
    // The outer binding ends first: the thread still acts as the inner one.
    assert_eq!(status(d3dkmt_emu_thread_unbind(outer)), NtStatus::SUCCESS);
    assert_eq!(d3dkmt_emu::current_process().id().0, id_b);
    assert_eq!(status(d3dkmt_emu_thread_unbind(inner)), NtStatus::SUCCESS);
    assert_eq!(d3dkmt_emu::current_process(), d3dkmt_emu::kernel::default_process().clone());
    let _ = id_a;
    d3dkmt_emu_process_release(a);
    d3dkmt_emu_process_release(b);
    d3dkmt_emu_kernel_release(ck);
}

#[test]
fn every_call_as_an_exited_process_fails_alike() {
    let kernel = Kernel::new(KernelConfig::default());
    let process = kernel.create_process();
    process.exit();
    let _bound = process.enter();
    // A capacity query touches no process state, and still fails.
    let mut args = D3DKMT_ENUMADAPTERS2 { NumAdapters: 7, pAdapters: std::ptr::null_mut() };
    assert_eq!(status(call!(D3DKMTEnumAdapters2(&mut args))), NtStatus::PROCESS_IS_TERMINATING);
    assert_eq!(args.NumAdapters, 7);
    let mut ctx = D3DKMT_CREATECONTEXT::default();
    assert_eq!(status(call!(D3DKMTCreateContext(&mut ctx))), NtStatus::PROCESS_IS_TERMINATING);
}
