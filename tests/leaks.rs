//! The leak and teardown audit: every live object with its creator (process,
//! entry point, call sequence number) and its holders (handles by process,
//! local or NT, and other objects).
//!
//! Facts: a dead process keeps no reference alive (WINE #6); an NT handle
//! keeps its object alive after the creator's handle is gone (WINE #95).
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use d3dkmt_emu::{
    CallSite, Creator, DuplicateOptions, Entry, Holder, Kernel, KernelConfig, LocalHandle, NtStatus, ObjectKind,
    SyncFlags, access,
};
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MONITORED_FENCE, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0,
    D3DDDI_SYNCHRONIZATIONOBJECTINFO2, D3DKMT_CREATEDEVICE, D3DKMT_CREATEDEVICE_0, D3DKMT_CREATEPROTECTEDSESSION,
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2, D3DKMT_OPENADAPTERFROMLUID,
};
use windows_sys::Win32::Foundation::LUID;

macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument is a reference to a live, aligned,
        // initialised struct, valid for the whole call; the export keeps none.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) })
    };
}

const SHARED_NT: SyncFlags = SyncFlags {
    shared: true,
    nt_security_sharing: true,
    cross_adapter: false,
    no_signal: false,
    no_wait: false,
    no_signal_max_value_on_tdr: false,
};

/// Opens the adapter, creates a device, a shared fence and a session through
/// the C ABI (calls 1 to 4 of the bound process).
fn c_objects() -> (u32, u32, u32, u32) {
    let mut open = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: LUID { LowPart: 0x1234, HighPart: 0 }, hAdapter: 0 };
    assert_eq!(call!(D3DKMTOpenAdapterFromLuid(&mut open)), NtStatus::SUCCESS);
    let mut dev =
        D3DKMT_CREATEDEVICE { Anonymous: D3DKMT_CREATEDEVICE_0 { hAdapter: open.hAdapter }, ..Default::default() };
    assert_eq!(call!(D3DKMTCreateDevice(&mut dev)), NtStatus::SUCCESS);
    let mut fence = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
        hDevice: dev.hDevice,
        Info: D3DDDI_SYNCHRONIZATIONOBJECTINFO2 {
            Type: D3DDDI_MONITORED_FENCE,
            Flags: D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS { Anonymous: D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0 { Value: 3 } },
            ..Default::default()
        },
        hSyncObject: 0,
    };
    assert_eq!(call!(D3DKMTCreateSynchronizationObject2(&mut fence)), NtStatus::SUCCESS);
    let mut session =
        D3DKMT_CREATEPROTECTEDSESSION { hDevice: dev.hDevice, hSyncObject: fence.hSyncObject, ..Default::default() };
    assert_eq!(call!(D3DKMTCreateProtectedSession(&mut session)), NtStatus::SUCCESS);
    (open.hAdapter, dev.hDevice, fence.hSyncObject, session.hHandle)
}

#[test]
fn the_report_names_creator_call_and_holders() {
    let kernel = Kernel::new(KernelConfig::default());
    let (a, b) = (kernel.create_process(), kernel.create_process());
    let (_, device, fence, session) = a.run(c_objects);
    let nt = a.share_objects(&[LocalHandle(session)], None, access::GENERIC_ALL).unwrap();
    let in_b = a.duplicate_nt_handle(nt, &b, 0, DuplicateOptions { close_source: true, same_access: true }).unwrap();

    let report = kernel.leak_report();
    assert!(!report.is_clean());
    assert_eq!(report.objects.len(), 4, "{report}");
    assert!(report.unreachable.is_empty() && report.handles_after_exit.is_empty(), "{report}");
    let find = |kind| report.objects.iter().find(|o| o.kind == kind).unwrap();

    let dev = find(ObjectKind::Device);
    let call = |entry, sequence| Some(CallSite { entry, sequence });
    assert_eq!(dev.creator, Creator { process: a.id(), call: call(Entry::D3DKMTCreateDevice, 2) });
    assert_eq!(dev.holders, vec![Holder::Local { process: a.id(), handle: LocalHandle(device) }]);

    let sess = find(ObjectKind::ProtectedSession);
    assert_eq!(sess.creator.call, call(Entry::D3DKMTCreateProtectedSession, 4));
    let nt_object = find(ObjectKind::NtObject);
    assert_eq!(nt_object.creator, Creator { process: a.id(), call: None }, "made through the Rust API");
    assert_eq!(nt_object.holders, vec![Holder::Nt { process: b.id(), handle: in_b }]);
    assert_eq!(
        sess.holders,
        vec![Holder::Local { process: a.id(), handle: LocalHandle(session) }, Holder::Object(nt_object.id)]
    );

    // The fence: A's handle, and the session (its status fence).
    let f = find(ObjectKind::SyncObject);
    assert_eq!(f.creator.call, call(Entry::D3DKMTCreateSynchronizationObject2, 3));
    assert_eq!(f.holders, vec![Holder::Local { process: a.id(), handle: LocalHandle(fence) }, Holder::Object(sess.id)]);

    let text = report.to_string();
    for needle in [
        "4 live object(s)",
        "device",
        "created by process 1 in D3DKMTCreateDevice (call 2)",
        "through the Rust API",
        &format!("held by NT handle {in_b} of process 2"),
        &format!("held by object {}", sess.id),
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }

    // A exits: the session lives on in B's NT handle (WINE #95), and with
    // it its fence; the device goes.
    a.exit();
    let report = kernel.leak_report();
    let kinds: Vec<ObjectKind> = report.objects.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, vec![ObjectKind::SyncObject, ObjectKind::ProtectedSession, ObjectKind::NtObject], "{report}");
    b.exit();
    assert!(kernel.leak_report().is_clean());
    kernel.assert_no_leaks();
}

#[test]
fn assert_no_leaks_panics_with_the_report() {
    let kernel = Kernel::new(KernelConfig::default());
    let p = kernel.create_process();
    let adapter = p.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = p.create_device(adapter).unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| kernel.assert_no_leaks()))
        .expect_err("a device is alive");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("kernel objects leaked"), "{message}");
    assert!(message.contains(&format!("held by D3DKMT handle {device} of process 1")), "{message}");
    p.exit(); // WINE #6
    kernel.assert_no_leaks();
}

#[test]
fn a_dropped_process_leaves_nothing_behind() {
    let kernel = Kernel::new(KernelConfig::default());
    {
        let p = kernel.create_process();
        p.run(c_objects);
        assert_eq!(kernel.leak_report().objects.len(), 3, "device, fence, session");
    }
    kernel.assert_no_leaks();
    assert_eq!(kernel.check_invariants(), Ok(()));
}

#[test]
fn rust_api_objects_have_no_call_and_object_ids_count_per_process() {
    let kernel = Kernel::new(KernelConfig::default());
    let p = kernel.create_process();
    let adapter = p.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = p.create_device(adapter).unwrap();
    let fence = p.create_monitored_fence(device, SHARED_NT, 0).unwrap().handle;
    let report = kernel.leak_report();
    let ids: Vec<String> = report.objects.iter().map(|o| o.id.to_string()).collect();
    assert_eq!(ids, vec!["#1.1", "#1.2"]);
    assert!(report.objects.iter().all(|o| o.creator.call.is_none()));
    p.destroy_sync_object(fence).unwrap();
    assert_eq!(kernel.leak_report().objects.len(), 1);
    p.exit();
    kernel.assert_no_leaks();
}
