//! libdxg's extras, end to end: `D3DKMTShareObjectWithHost` and the
//! kernel's host table under both `HostShareLifetime` policies,
//! `D3DKMTSetStablePowerState` per process and per adapter, and
//! `D3DKMTCloseDxCoreDevice` under both `DxCoreClose` policies; each call is
//! traced with its decoded fields.
//!
//! The exports are called through declarations of our own (windows-sys
//! declares the structs, and `D3DKMTSetStablePowerState`, but not the two
//! libdxg-only functions), as a C client of `include/d3dkmt_emu.h` does.
#![allow(unsafe_code, reason = "calls the C ABI as a C client does")]

use d3dkmt_emu::trace::{Op, TraceConfig, Value};
use d3dkmt_emu::{
    AdapterConfig, DxCoreClose, Entry, HOST_HANDLE_BASE, HostShareLifetime, Kernel, KernelConfig, LocalHandle, Luid,
    NtStatus, ObjectKind, Process, SyncFlags, SyncKind,
};
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DKMT_OPENADAPTERFROMLUID, D3DKMT_SETSTABLEPOWERSTATE, D3DKMT_SHAREOBJECTWITHHOST,
};

unsafe extern "system" {
    fn D3DKMTShareObjectWithHost(args: *mut D3DKMT_SHAREOBJECTWITHHOST) -> i32;
    fn D3DKMTCloseDxCoreDevice();
}

const NT_SHARED: SyncFlags = SyncFlags {
    shared: true,
    nt_security_sharing: true,
    cross_adapter: false,
    no_signal: false,
    no_wait: false,
    no_signal_max_value_on_tdr: false,
};

struct Fixture {
    kernel: Kernel,
    process: Process,
    adapter: LocalHandle,
    device: LocalHandle,
    fence: LocalHandle,
}

fn fixture_with(config: KernelConfig) -> Fixture {
    let kernel = Kernel::new(config);
    let process = kernel.create_process();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = process.create_device(adapter).unwrap();
    let fence = process.create_monitored_fence(device, NT_SHARED, 0).unwrap().handle;
    Fixture { kernel, process, adapter, device, fence }
}

fn fixture() -> Fixture {
    fixture_with(KernelConfig::default())
}

fn host_policy(lifetime: HostShareLifetime) -> KernelConfig {
    let mut config = KernelConfig::default();
    config.policies.host_share = lifetime;
    config
}

/// `D3DKMTShareObjectWithHost` as `process`: (status, the struct after).
fn share(process: &Process, device: u32, object: u32) -> (NtStatus, D3DKMT_SHAREOBJECTWITHHOST) {
    let _bound = process.enter();
    let mut args =
        D3DKMT_SHAREOBJECTWITHHOST { hDevice: device, hObject: object, Reserved: 0x55, hVailProcessNtHandle: 0xdead };
    // SAFETY: a live, aligned struct of the test's.
    let status = NtStatus(unsafe { D3DKMTShareObjectWithHost(&mut args) });
    (status, args)
}

fn set_stable(process: &Process, adapter: u32, enabled: i32) -> NtStatus {
    let _bound = process.enter();
    let args = D3DKMT_SETSTABLEPOWERSTATE { hAdapter: adapter, Enabled: enabled };
    // SAFETY: a live, aligned struct of the test's.
    NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::D3DKMTSetStablePowerState(&args) })
}

fn open_adapter(process: &Process, luid: Luid) -> (NtStatus, u32) {
    let _bound = process.enter();
    let mut args = D3DKMT_OPENADAPTERFROMLUID::default();
    args.AdapterLuid.LowPart = luid.low;
    args.AdapterLuid.HighPart = luid.high;
    args.hAdapter = 0x1ead_beed;
    // SAFETY: a live, aligned struct of the test's.
    let status = NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::D3DKMTOpenAdapterFromLuid(&mut args) });
    (status, args.hAdapter)
}

fn close_dxcore(process: &Process) {
    let _bound = process.enter();
    // SAFETY: takes no arguments.
    unsafe { D3DKMTCloseDxCoreDevice() };
}

// ---- ShareObjectWithHost --------------------------------------------------

#[test]
fn a_shared_fence_is_in_the_host_table_with_a_new_value_per_call() {
    let f = fixture();
    let (status, args) = share(&f.process, f.device.0, f.fence.0);
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(args.hVailProcessNtHandle, HOST_HANDLE_BASE);
    assert_eq!(args.Reserved, 0x55, "Reserved is not written");
    let table = f.kernel.host_shared_objects();
    assert_eq!(table.len(), 1);
    let entry = table[0];
    assert_eq!(entry.value, HOST_HANDLE_BASE);
    assert_eq!(entry.process, f.process.id());
    assert_eq!((entry.device, entry.object), (f.device, f.fence));
    assert_eq!(entry.kind, SyncKind::MonitoredFence);

    let (status, again) = share(&f.process, f.device.0, f.fence.0);
    assert_eq!(status, NtStatus::SUCCESS);
    assert_eq!(again.hVailProcessNtHandle, HOST_HANDLE_BASE + 4, "each share opens a new host handle");
    let values: Vec<u64> = f.kernel.host_shared_objects().iter().map(|e| e.value).collect();
    assert_eq!(values, [HOST_HANDLE_BASE, HOST_HANDLE_BASE + 4]);
}

#[test]
fn bad_handles_are_invalid_parameter_and_leave_the_struct_and_table_alone() {
    let f = fixture();
    let plain = f.process.create_monitored_fence(f.device, SyncFlags::default(), 0).unwrap().handle;
    let shared_kmt = SyncFlags { shared: true, ..SyncFlags::default() };
    let kmt = f.process.create_sync_object(f.device, SyncKind::Fence { initial_value: 0 }, shared_kmt).unwrap().handle;
    let cases = [
        (f.device.0, plain.0, "a fence without NtSecuritySharing"),
        (f.device.0, kmt.0, "a fence shared by global handle"),
        (0, f.fence.0, "hDevice 0"),
        (f.adapter.0, f.fence.0, "an adapter handle as hDevice"),
        (f.device.0, 0, "hObject 0"),
        (f.device.0, f.device.0, "a device handle as hObject"),
        (f.device.0, f.fence.0 ^ 0x40, "a flipped fence handle"),
    ];
    for (device, object, what) in cases {
        let (status, args) = share(&f.process, device, object);
        assert_eq!(status, NtStatus::INVALID_PARAMETER, "{what}");
        assert_eq!(args.hVailProcessNtHandle, 0xdead, "{what}: output written on failure");
    }
    assert!(f.kernel.host_shared_objects().is_empty());
    // A NULL argument.
    let _bound = f.process.enter();
    // SAFETY: NULL is answered, never followed.
    let status = NtStatus(unsafe { D3DKMTShareObjectWithHost(core::ptr::null_mut()) });
    assert_eq!(status, NtStatus::INVALID_PARAMETER);
}

#[test]
fn another_process_handles_and_other_adapters_are_refused() {
    let mut config = KernelConfig::default();
    config.adapters.push(AdapterConfig::new(Luid { low: 0x777, high: 0 }));
    let f = fixture_with(config);
    // The same handle values mean nothing in another process.
    let other = f.kernel.create_process();
    let (status, _) = share(&other, f.device.0, f.fence.0);
    assert_eq!(status, NtStatus::INVALID_PARAMETER);
    // A fence on the second adapter, named with a device of the first.
    let second = f.process.open_adapter_from_luid(Luid { low: 0x777, high: 0 }).unwrap();
    let device2 = f.process.create_device(second).unwrap();
    let fence2 = f.process.create_monitored_fence(device2, NT_SHARED, 0).unwrap().handle;
    let (status, _) = share(&f.process, f.device.0, fence2.0);
    assert_eq!(status, NtStatus::INVALID_PARAMETER);
    // Another device on the same adapter is fine.
    let device3 = f.process.create_device(f.adapter).unwrap();
    assert_eq!(share(&f.process, device3.0, f.fence.0).0, NtStatus::SUCCESS);
    assert_eq!(f.kernel.host_shared_objects().len(), 1);
}

#[test]
fn a_lost_device_is_device_removed() {
    let f = fixture();
    f.kernel.remove_device(f.process.id(), f.device, d3dkmt_emu::DeviceLoss::Hung).unwrap();
    let (status, args) = share(&f.process, f.device.0, f.fence.0);
    assert_eq!(status, NtStatus::DEVICE_REMOVED);
    assert_eq!(args.hVailProcessNtHandle, 0xdead);
    assert!(f.kernel.host_shared_objects().is_empty());
}

#[test]
fn by_default_the_entry_ends_with_the_object_handle_and_holds_nothing() {
    let f = fixture();
    let before = f.kernel.live_objects(ObjectKind::SyncObject);
    assert_eq!(share(&f.process, f.device.0, f.fence.0).0, NtStatus::SUCCESS);
    assert_eq!(f.kernel.live_objects(ObjectKind::SyncObject), before, "the host made no object");
    f.process.destroy_sync_object(f.fence).unwrap();
    assert!(f.kernel.host_shared_objects().is_empty(), "the entry outlived the shared handle");
    assert_eq!(f.kernel.live_objects(ObjectKind::SyncObject), before - 1, "the host kept the fence alive");
}

#[test]
fn by_default_the_entry_ends_with_the_device_or_the_process() {
    let f = fixture();
    assert_eq!(share(&f.process, f.device.0, f.fence.0).0, NtStatus::SUCCESS);
    f.process.destroy_device(f.device).unwrap();
    assert!(f.kernel.host_shared_objects().is_empty(), "the entry outlived the device");

    let g = fixture();
    assert_eq!(share(&g.process, g.device.0, g.fence.0).0, NtStatus::SUCCESS);
    // A second device keeps the fence's handle alive; destroying only the
    // device the share named still ends the entry.
    let g2 = g.process.create_device(g.adapter).unwrap();
    let fence2 = g.process.create_monitored_fence(g2, NT_SHARED, 0).unwrap().handle;
    assert_eq!(share(&g.process, g2.0, fence2.0).0, NtStatus::SUCCESS);
    assert_eq!(g.kernel.host_shared_objects().len(), 2);
    g.process.exit();
    assert!(g.kernel.host_shared_objects().is_empty(), "entries outlived the process");
    assert_eq!(g.kernel.total_live_objects(), 0, "the host table kept objects alive");
}

#[test]
fn until_kernel_drops_the_host_keeps_the_object_alive() {
    let f = fixture_with(host_policy(HostShareLifetime::UntilKernelDrops));
    let (status, args) = share(&f.process, f.device.0, f.fence.0);
    assert_eq!(status, NtStatus::SUCCESS);
    f.process.destroy_sync_object(f.fence).unwrap();
    f.process.exit();
    let table = f.kernel.host_shared_objects();
    assert_eq!(table.len(), 1, "the host let go");
    assert_eq!(table[0].value, args.hVailProcessNtHandle);
    assert_eq!(f.kernel.live_objects(ObjectKind::SyncObject), 1, "the host's reference holds the fence");
}

#[test]
fn sharing_in_a_loop_does_not_grow_the_table() {
    let f = fixture();
    for i in 0..1500u64 {
        let fence = f.process.create_monitored_fence(f.device, NT_SHARED, 0).unwrap().handle;
        let (status, args) = share(&f.process, f.device.0, fence.0);
        assert_eq!(status, NtStatus::SUCCESS);
        assert_eq!(args.hVailProcessNtHandle, HOST_HANDLE_BASE + 4 * i, "values are never reused");
        f.process.destroy_sync_object(fence).unwrap();
    }
    assert!(f.kernel.host_shared_objects().is_empty());
}

// ---- SetStablePowerState --------------------------------------------------

#[test]
fn stable_power_state_is_per_process_and_seen_per_adapter() {
    let f = fixture();
    let luid = f.kernel.adapter_luids()[0];
    let other = f.kernel.create_process();
    let theirs = other.open_adapter_from_luid(luid).unwrap();
    assert!(!f.kernel.stable_power_state(luid));
    assert_eq!(set_stable(&f.process, f.adapter.0, -1), NtStatus::SUCCESS, "any nonzero BOOL is TRUE");
    assert_eq!(f.process.stable_power_state(f.adapter), Ok(true));
    assert_eq!(other.stable_power_state(theirs), Ok(false), "another process's request is its own");
    assert!(f.kernel.stable_power_state(luid));
    // A second handle to the same adapter sees the same request.
    let again = f.process.open_adapter_from_luid(luid).unwrap();
    assert_eq!(f.process.stable_power_state(again), Ok(true));
    assert_eq!(set_stable(&other, theirs.0, 1), NtStatus::SUCCESS);
    assert_eq!(set_stable(&f.process, again.0, 0), NtStatus::SUCCESS);
    assert_eq!(f.process.stable_power_state(f.adapter), Ok(false));
    assert!(f.kernel.stable_power_state(luid), "the other process still holds it");
    other.exit();
    assert!(!f.kernel.stable_power_state(luid), "an exited process's request outlived it");
    assert!(!f.kernel.stable_power_state(Luid { low: 0xbad, high: 0 }));
}

#[test]
fn stable_power_state_checks_the_adapter_handle() {
    let f = fixture();
    for bad in [0, f.device.0, f.fence.0, f.adapter.0 ^ 0x40] {
        assert_eq!(set_stable(&f.process, bad, 1), NtStatus::INVALID_PARAMETER, "hAdapter {bad:#x}");
    }
    assert!(!f.kernel.stable_power_state(f.kernel.adapter_luids()[0]));
    let _bound = f.process.enter();
    // SAFETY: NULL is answered, never followed.
    let status =
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::D3DKMTSetStablePowerState(core::ptr::null()) });
    assert_eq!(status, NtStatus::INVALID_PARAMETER);
}

// ---- CloseDxCoreDevice -----------------------------------------------------

#[test]
fn close_dxcore_device_closes_the_process_as_libdxg_does() {
    let f = fixture();
    let luid = f.kernel.adapter_luids()[0];
    let other = f.kernel.create_process();
    let theirs = other.open_adapter_from_luid(luid).unwrap();
    assert_eq!(share(&f.process, f.device.0, f.fence.0).0, NtStatus::SUCCESS);
    close_dxcore(&f.process);
    assert!(f.process.dxcore_device_closed());
    assert!(f.process.has_exited(), "the process's objects are torn down");
    assert!(f.kernel.host_shared_objects().is_empty());
    // Every later call fails with STATUS_UNSUCCESSFUL, outputs untouched.
    let (status, handle) = open_adapter(&f.process, luid);
    assert_eq!((status, handle), (NtStatus::UNSUCCESSFUL, 0x1ead_beed));
    assert_eq!(set_stable(&f.process, f.adapter.0, 1), NtStatus::UNSUCCESSFUL);
    assert_eq!(share(&f.process, f.device.0, f.fence.0).0, NtStatus::UNSUCCESSFUL);
    // A second close does nothing more; the Rust API answers as for an exit.
    close_dxcore(&f.process);
    assert_eq!(f.process.open_adapter_from_luid(luid).unwrap_err().status(), NtStatus::PROCESS_IS_TERMINATING);
    // Other processes go on.
    assert!(other.stable_power_state(theirs).is_ok());
    assert_eq!(open_adapter(&other, luid).0, NtStatus::SUCCESS);
    assert!(!other.dxcore_device_closed());
}

#[test]
fn close_dxcore_device_can_be_ignored_by_policy() {
    let mut config = KernelConfig::default();
    config.policies.dxcore_close = DxCoreClose::Ignore;
    let f = fixture_with(config);
    close_dxcore(&f.process);
    assert!(!f.process.dxcore_device_closed());
    assert!(!f.process.has_exited());
    assert_eq!(open_adapter(&f.process, f.kernel.adapter_luids()[0]).0, NtStatus::SUCCESS);
    assert_eq!(share(&f.process, f.device.0, f.fence.0).0, NtStatus::SUCCESS);
}

// ---- Traces ------------------------------------------------------------------

fn field<'a>(fields: &'a [(String, Value)], name: &str) -> &'a Value {
    &fields.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no field {name} in {fields:?}")).1
}

#[test]
fn the_calls_are_traced_with_their_fields() {
    let f = fixture();
    f.kernel.trace_start(TraceConfig::default()).unwrap();
    let (_, args) = share(&f.process, f.device.0, f.fence.0);
    assert_eq!(set_stable(&f.process, f.adapter.0, 1), NtStatus::SUCCESS);
    close_dxcore(&f.process);
    f.kernel.trace_stop().unwrap();
    let calls: Vec<_> = f.kernel.trace().into_iter().filter(|r| matches!(r.op, Op::Call(_))).collect();
    let entries: Vec<Op> = calls.iter().map(|r| r.op).collect();
    assert_eq!(
        entries,
        [
            Op::Call(Entry::D3DKMTShareObjectWithHost),
            Op::Call(Entry::D3DKMTSetStablePowerState),
            Op::Call(Entry::D3DKMTCloseDxCoreDevice)
        ]
    );
    assert_eq!(field(&calls[0].input, "hObject"), &Value::Handle(f.fence.0));
    assert_eq!(field(&calls[0].output, "hVailProcessNtHandle"), &Value::Int(args.hVailProcessNtHandle));
    assert_eq!(field(&calls[1].input, "Enabled"), &Value::Int(1));
    assert!(calls[2].input.is_empty() && calls[2].status == NtStatus::SUCCESS, "{:?}", calls[2]);
}

#[test]
fn a_trace_of_the_calls_replays_in_a_fresh_kernel() {
    use windows_sys::Wdk::Graphics::Direct3D::{D3DKMT_CREATEDEVICE, D3DKMT_CREATESYNCHRONIZATIONOBJECT2};
    let kernel = Kernel::new(KernelConfig::default());
    kernel.trace_start(TraceConfig::default()).unwrap();
    let process = kernel.create_process();
    let (status, adapter) = open_adapter(&process, kernel.adapter_luids()[0]);
    assert_eq!(status, NtStatus::SUCCESS);
    {
        let _bound = process.enter();
        let mut device = D3DKMT_CREATEDEVICE::default();
        device.Anonymous.hAdapter = adapter;
        // SAFETY: live, aligned structs of the test's.
        assert_eq!(unsafe { windows_sys::Wdk::Graphics::Direct3D::D3DKMTCreateDevice(&mut device) }, 0);
        let mut sync = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device.hDevice, ..Default::default() };
        sync.Info.Type = windows_sys::Wdk::Graphics::Direct3D::D3DDDI_MONITORED_FENCE;
        sync.Info.Flags.Anonymous.Value = 0x3; // Shared | NtSecuritySharing
        // SAFETY: as above.
        assert_eq!(unsafe { windows_sys::Wdk::Graphics::Direct3D::D3DKMTCreateSynchronizationObject2(&mut sync) }, 0);
        drop(_bound);
        assert_eq!(share(&process, device.hDevice, sync.hSyncObject).0, NtStatus::SUCCESS);
        assert_eq!(share(&process, device.hDevice, 0).0, NtStatus::INVALID_PARAMETER);
    }
    assert_eq!(set_stable(&process, adapter, 1), NtStatus::SUCCESS);
    close_dxcore(&process);
    assert_eq!(open_adapter(&process, kernel.adapter_luids()[0]).0, NtStatus::UNSUCCESSFUL);
    kernel.trace_stop().unwrap();
    let text: String = (0..kernel.trace_len()).map(|i| kernel.trace_line(i).unwrap() + "\n").collect();
    let header = d3dkmt_emu::Trace::default().to_string();
    let summary = d3dkmt_emu::replay::replay_text(&format!("{header}{text}")).unwrap().unwrap();
    // The process exit inside the close is recorded nested, and skipped:
    // replaying the close exits the process again. Calls made after the
    // close fail at the dispatch point before the trace, as an exited
    // process's do, and are not recorded.
    assert!(text.contains("process.exit STATUS_SUCCESS real+nested"), "{text}");
    assert_eq!((summary.replayed, summary.skipped), (8, 1), "{text}");
}
