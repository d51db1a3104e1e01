//! Adapters by name, adapter queries, VidPn ownership and occlusion: what
//! does not fit a conformance row (custom configurations, policies, threads,
//! the Rust API). Calls go through the C ABI as a windows-sys client makes
//! them, or through the Rust API where the row is about the model.
#![allow(unsafe_code, reason = "calls the C ABI through windows-sys's declarations, as a client does")]

use std::sync::{Arc, Barrier};

use d3dkmt_emu::{
    AdapterConfig, AdapterInfoSize, AdapterKind, DeviceIds, GdiNameCase, Kernel, KernelConfig, KernelError,
    LocalHandle, Luid, NtStatus, Occlusion, OutputConfig, OwnerRequest, PciAddress, Policies, Process, SegmentSizes,
};
use windows_sys::Wdk::Graphics::Direct3D::*;

/// Calls a `D3DKMT*` export through windows-sys's declaration.
macro_rules! call {
    ($f:ident($arg:expr)) => {
        // SAFETY: the argument points at a live struct of the test whose
        // pointer fields are NULL or point at live buffers of the stated sizes.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($arg) })
    };
}

fn kernel_with(config: KernelConfig) -> (Kernel, Process) {
    let kernel = Kernel::new(config);
    let process = kernel.create_process();
    (kernel, process)
}

fn open_gdi(name: &str) -> (NtStatus, D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME) {
    let mut args = D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME::default();
    for (slot, unit) in args.DeviceName.iter_mut().zip(name.encode_utf16()) {
        *slot = unit;
    }
    let status = call!(D3DKMTOpenAdapterFromGdiDisplayName(&mut args));
    (status, args)
}

fn query(adapter: u32, ty: KMTQUERYADAPTERINFOTYPE, buffer: &mut [u8]) -> NtStatus {
    let mut args = D3DKMT_QUERYADAPTERINFO {
        hAdapter: adapter,
        Type: ty,
        pPrivateDriverData: buffer.as_mut_ptr().cast(),
        PrivateDriverDataSize: buffer.len() as u32,
    };
    call!(D3DKMTQueryAdapterInfo(&mut args))
}

fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4).map(|c| u32::from_ne_bytes(c.try_into().unwrap())).collect()
}

fn two_adapters() -> KernelConfig {
    let mut config = KernelConfig::default();
    config.adapters.push(AdapterConfig {
        num_sources: 2,
        outputs: vec![OutputConfig::attached(0), OutputConfig::attached(1)],
        ..AdapterConfig::new(Luid { low: 0x5678, high: 7 })
    });
    config
}

#[test]
fn unnamed_outputs_are_numbered_across_adapters() {
    let (kernel, process) = kernel_with(two_adapters());
    let _bound = process.enter();
    let luids = kernel.adapter_luids();
    for (name, luid, source) in
        [("\\\\.\\DISPLAY1", luids[0], 0), ("\\\\.\\DISPLAY2", luids[1], 0), ("\\\\.\\DISPLAY3", luids[1], 1)]
    {
        let (status, args) = open_gdi(name);
        assert_eq!(status, NtStatus::SUCCESS, "{name}");
        assert_eq!((args.AdapterLuid.LowPart, args.AdapterLuid.HighPart), (luid.low, luid.high), "{name}");
        assert_eq!(args.VidPnSourceId, source, "{name}");
    }
    assert_eq!(open_gdi("\\\\.\\DISPLAY4").0, NtStatus::UNSUCCESSFUL);
    // Each open is a handle of its own, counted like any adapter open.
    assert_eq!(process.local_handle_count(), 3);
}

#[test]
fn a_named_output_keeps_its_name() {
    let mut config = KernelConfig::default();
    config.adapters[0].outputs[0].gdi_name = Some("\\\\.\\DISPLAY7".into());
    let (_kernel, process) = kernel_with(config);
    let _bound = process.enter();
    assert_eq!(open_gdi("\\\\.\\DISPLAY7").0, NtStatus::SUCCESS);
    assert_eq!(open_gdi("\\\\.\\DISPLAY1").0, NtStatus::UNSUCCESSFUL);
}

#[test]
#[should_panic(expected = "used twice")]
fn two_outputs_with_one_name_are_refused() {
    let mut config = two_adapters();
    config.adapters[1].outputs[0].gdi_name = Some("\\\\.\\display1".into());
    Kernel::new(config);
}

#[test]
#[should_panic(expected = "beyond num_sources")]
fn an_output_on_a_missing_source_is_refused() {
    let mut config = KernelConfig::default();
    config.adapters[0].outputs[0].source = 1;
    Kernel::new(config);
}

#[test]
fn exact_gdi_names_policy() {
    let policies = Policies { gdi_name_case: GdiNameCase::Exact, ..Policies::default() };
    let (_kernel, process) = kernel_with(KernelConfig { policies, ..KernelConfig::default() });
    let _bound = process.enter();
    assert_eq!(open_gdi("\\\\.\\display1").0, NtStatus::UNSUCCESSFUL);
    assert_eq!(open_gdi("\\\\.\\DISPLAY1").0, NtStatus::SUCCESS);
}

#[test]
fn closing_the_last_gdi_opened_handle_destroys_devices() {
    let (_kernel, process) = kernel_with(KernelConfig::default());
    let _bound = process.enter();
    let (status, args) = open_gdi("\\\\.\\DISPLAY1");
    assert_eq!(status, NtStatus::SUCCESS);
    let device = process.create_device(LocalHandle(args.hAdapter)).unwrap();
    process.set_vidpn_source_owner(device, &[(0, OwnerRequest::Exclusive)]).unwrap();
    let check = process.open_adapter_from_luid(Luid { low: 0x1234, high: 0 }).unwrap();
    assert_eq!(
        process.check_vidpn_exclusive_ownership(check, 0),
        Err(KernelError::Occluded("a device holds the source EXCLUSIVE"))
    );
    assert_eq!(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: args.hAdapter })), NtStatus::SUCCESS);
    // `check` is another handle to the same adapter: the device lives on.
    assert!(process.check_vidpn_exclusive_ownership(check, 0).is_err());
    process.close_adapter(check).unwrap();
    let again = process.open_adapter_from_luid(Luid { low: 0x1234, high: 0 }).unwrap();
    assert_eq!(process.check_vidpn_exclusive_ownership(again, 0), Ok(()));
    assert!(process.destroy_device(device).is_err(), "the device went with its adapter's last handle");
}

#[test]
fn query_adapter_info_answers_from_the_configuration() {
    let config = AdapterConfig {
        protected_sessions: false,
        kind: AdapterKind::ComputeOnly,
        driver_version: KMT_DRIVERVERSION_WDDM_2_7,
        ids: DeviceIds {
            vendor: 0x1002,
            device: 0x73BF,
            sub_vendor: 0x1458,
            sub_system: 0x2318,
            revision: 0xC1,
            bus_type: 5,
        },
        address: PciAddress { bus: 3, device: 0, function: 1 },
        segments: SegmentSizes { dedicated_video: 16 << 30, dedicated_system: 1 << 20, shared_system: 32 << 30 },
        description: "Test GPU".into(),
        wddm_2_7_caps: 0b0111,
        ..AdapterConfig::new(Luid { low: 9, high: 0 })
    };
    let (_kernel, process) = kernel_with(KernelConfig { adapters: vec![config], ..KernelConfig::default() });
    let _bound = process.enter();
    let adapter = process.open_adapter_from_luid(Luid { low: 9, high: 0 }).unwrap().0;

    let mut b = [0u8; 4];
    assert_eq!(query(adapter, KMTQAITYPE_DRIVERVERSION, &mut b), NtStatus::SUCCESS);
    assert_eq!(i32::from_ne_bytes(b), KMT_DRIVERVERSION_WDDM_2_7);
    assert_eq!(query(adapter, KMTQAITYPE_ADAPTERTYPE, &mut b), NtStatus::SUCCESS);
    assert_eq!(u32::from_ne_bytes(b), 1 | 1 << 11, "RenderSupported and ComputeOnly");
    assert_eq!(query(adapter, KMTQAITYPE_WDDM_2_7_CAPS, &mut b), NtStatus::SUCCESS);
    assert_eq!(u32::from_ne_bytes(b), 0b0111);
    assert_eq!(query(adapter, KMTQAITYPE_PHYSICALADAPTERCOUNT, &mut b), NtStatus::SUCCESS);
    assert_eq!(u32::from_ne_bytes(b), 1);

    let mut one = [0xFFu8; 1];
    assert_eq!(query(adapter, KMTQAITYPE_HWDRM_SUPPORT, &mut one), NtStatus::SUCCESS);
    assert_eq!(one[0], 0, "no protected sessions, no HWDRM");

    let mut ids = [0u8; 28];
    assert_eq!(query(adapter, KMTQAITYPE_PHYSICALADAPTERDEVICEIDS, &mut ids), NtStatus::SUCCESS);
    assert_eq!(u32s(&ids), [0, 0x1002, 0x73BF, 0x1458, 0x2318, 0xC1, 5]);

    let mut address = [0u8; 12];
    assert_eq!(query(adapter, KMTQAITYPE_ADAPTERADDRESS, &mut address), NtStatus::SUCCESS);
    assert_eq!(u32s(&address), [3, 0, 1]);

    let mut sizes = [0u8; 24];
    assert_eq!(query(adapter, KMTQAITYPE_GETSEGMENTSIZE, &mut sizes), NtStatus::SUCCESS);
    let sizes: Vec<u64> = sizes.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().unwrap())).collect();
    assert_eq!(sizes, [16 << 30, 1 << 20, 32 << 30]);

    let mut info = D3DKMT_QUERYVIDEOMEMORYINFO { hAdapter: adapter, ..Default::default() };
    assert_eq!(call!(D3DKMTQueryVideoMemoryInfo(&mut info)), NtStatus::SUCCESS);
    assert_eq!(info.Budget, 16 << 30);
    info.MemorySegmentGroup = D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL;
    assert_eq!(call!(D3DKMTQueryVideoMemoryInfo(&mut info)), NtStatus::SUCCESS);
    assert_eq!(info.Budget, 32 << 30);
}

#[test]
fn a_long_description_is_cut_with_a_nul() {
    let mut config = KernelConfig::default();
    config.adapters[0].description = "x".repeat(5000);
    let (kernel, process) = kernel_with(config);
    let _bound = process.enter();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap().0;
    let mut registry = vec![0xFFu8; 2080];
    assert_eq!(query(adapter, KMTQAITYPE_ADAPTERREGISTRYINFO, &mut registry), NtStatus::SUCCESS);
    let units: Vec<u16> = registry[..520].chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect();
    assert!(units[..259].iter().all(|&u| u == u16::from(b'x')));
    assert_eq!(units[259], 0, "AdapterString keeps its NUL");
}

#[test]
fn at_least_size_policy_fills_the_head_and_leaves_the_tail() {
    let policies = Policies { adapter_info_size: AdapterInfoSize::AtLeast, ..Policies::default() };
    let (kernel, process) = kernel_with(KernelConfig { policies, ..KernelConfig::default() });
    let _bound = process.enter();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap().0;
    let mut b = [0x5Au8; 8];
    assert_eq!(query(adapter, KMTQAITYPE_DRIVERVERSION, &mut b), NtStatus::SUCCESS);
    assert_eq!(i32::from_ne_bytes(b[..4].try_into().unwrap()), KMT_DRIVERVERSION_WDDM_3_1);
    assert_eq!(b[4..], [0x5A; 4]);
    assert_eq!(query(adapter, KMTQAITYPE_DRIVERVERSION, &mut [0; 3]), NtStatus::INVALID_PARAMETER, "WINE #24 holds");
}

#[test]
fn unemulated_adapter_info_policy() {
    let policies = Policies { unemulated_adapter_info: NtStatus::NOT_SUPPORTED, ..Policies::default() };
    let (kernel, process) = kernel_with(KernelConfig { policies, ..KernelConfig::default() });
    let _bound = process.enter();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap().0;
    assert_eq!(query(adapter, KMTQAITYPE_UMDRIVERNAME, &mut [0; 64]), NtStatus::NOT_SUPPORTED);
    // The registry query answers the driver store path, but registry values
    // are not emulated: the same policy status.
    let mut registry = [0u8; size_of::<D3DDDI_QUERYREGISTRY_INFO>()];
    registry[..4].copy_from_slice(&D3DDDI_QUERYREGISTRY_ADAPTERKEY.to_ne_bytes());
    assert_eq!(query(adapter, KMTQAITYPE_QUERYREGISTRY, &mut registry), NtStatus::NOT_SUPPORTED);
    let bad = Policies { unemulated_adapter_info: NtStatus::SUCCESS, ..Policies::default() };
    assert!(bad.check().is_err(), "a success status cannot stand for a failure");
}

#[test]
fn set_owner_is_all_or_nothing_across_sources() {
    let (kernel, process) = kernel_with(two_adapters());
    let _bound = process.enter();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[1]).unwrap();
    let (d1, d2) = (process.create_device(adapter).unwrap(), process.create_device(adapter).unwrap());
    process.set_vidpn_source_owner(d1, &[(1, OwnerRequest::Exclusive)]).unwrap();
    let types = [D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVE; 2];
    let ids = [0u32, 1];
    let args = D3DKMT_SETVIDPNSOURCEOWNER {
        hDevice: d2.0,
        pType: types.as_ptr(),
        pVidPnSourceId: ids.as_ptr(),
        VidPnSourceCount: 2,
    };
    assert_eq!(call!(D3DKMTSetVidPnSourceOwner(&args)), NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE);
    assert_eq!(process.check_vidpn_exclusive_ownership(adapter, 0), Ok(()), "source 0 was not taken");
    // Too many sources for the adapter, before any is looked at.
    let three = D3DKMT_SETVIDPNSOURCEOWNER { VidPnSourceCount: 3, ..args };
    assert_eq!(call!(D3DKMTSetVidPnSourceOwner(&three)), NtStatus::INVALID_PARAMETER);
    // One call may take both sources once they are free.
    process.set_vidpn_source_owner(d1, &[]).unwrap();
    assert_eq!(call!(D3DKMTSetVidPnSourceOwner(&args)), NtStatus::SUCCESS);
    assert!(process.check_vidpn_exclusive_ownership(adapter, 0).is_err());
    assert!(process.check_vidpn_exclusive_ownership(adapter, 1).is_err());
}

#[test]
fn ownership_is_per_adapter() {
    let (kernel, process) = kernel_with(two_adapters());
    let luids = kernel.adapter_luids();
    let a0 = process.open_adapter_from_luid(luids[0]).unwrap();
    let a1 = process.open_adapter_from_luid(luids[1]).unwrap();
    let d0 = process.create_device(a0).unwrap();
    let d1 = process.create_device(a1).unwrap();
    process.set_vidpn_source_owner(d0, &[(0, OwnerRequest::Exclusive)]).unwrap();
    process.set_vidpn_source_owner(d1, &[(0, OwnerRequest::Exclusive)]).unwrap();
    process.destroy_device(d0).unwrap();
    assert_eq!(process.check_vidpn_exclusive_ownership(a0, 0), Ok(()));
    assert!(process.check_vidpn_exclusive_ownership(a1, 0).is_err());
}

#[test]
fn a_dropped_process_releases_its_ownership() {
    let (kernel, process) = kernel_with(KernelConfig::default());
    let luid = kernel.adapter_luids()[0];
    {
        let other = kernel.create_process();
        let device = other.create_device(other.open_adapter_from_luid(luid).unwrap()).unwrap();
        other.set_vidpn_source_owner(device, &[(0, OwnerRequest::Exclusive)]).unwrap();
        assert!(process.check_occlusion(1).is_err());
    } // the last reference goes without an exit
    assert_eq!(process.check_occlusion(1), Ok(()));
}

#[test]
fn racing_devices_get_one_owner() {
    let (kernel, _process) = kernel_with(KernelConfig::default());
    let luid = kernel.adapter_luids()[0];
    for _ in 0..20 {
        let barrier = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (kernel, barrier) = (kernel.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let p = kernel.create_process();
                    let _bound = p.enter();
                    let device = p.create_device(p.open_adapter_from_luid(luid).unwrap()).unwrap();
                    let (ty, id) = (D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVE, 0u32);
                    let args = D3DKMT_SETVIDPNSOURCEOWNER {
                        hDevice: device.0,
                        pType: &ty,
                        pVidPnSourceId: &id,
                        VidPnSourceCount: 1,
                    };
                    barrier.wait();
                    let status = call!(D3DKMTSetVidPnSourceOwner(&args));
                    barrier.wait(); // every attempt is made before any owner exits
                    p.exit();
                    status
                })
            })
            .collect();
        let statuses: Vec<NtStatus> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == NtStatus::SUCCESS).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == NtStatus::SUCCESS || *s == NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE));
    }
    let p = kernel.create_process();
    assert_eq!(p.check_occlusion(1), Ok(()), "every owner exited");
}

#[test]
fn occlusion_never_policy() {
    let policies = Policies { occlusion: Occlusion::Never, ..Policies::default() };
    let (kernel, process) = kernel_with(KernelConfig { policies, ..KernelConfig::default() });
    let device = process.create_device(process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap()).unwrap();
    process.set_vidpn_source_owner(device, &[(0, OwnerRequest::Exclusive)]).unwrap();
    assert_eq!(process.check_occlusion(1), Ok(()));
    assert!(process.check_occlusion(0).is_err(), "NULL hWnd is still INVALID_PARAMETER");
}

#[test]
fn no_adapters_no_monitors() {
    let (_kernel, process) = kernel_with(KernelConfig { adapters: Vec::new(), ..KernelConfig::default() });
    let _bound = process.enter();
    assert_eq!(open_gdi("\\\\.\\DISPLAY1").0, NtStatus::UNSUCCESSFUL);
    assert_eq!(process.check_occlusion(1), Ok(()));
}

#[test]
fn open_adapter_from_device_name_gives_the_luid() {
    let (kernel, process) = kernel_with(two_adapters());
    let _bound = process.enter();
    for (i, luid) in kernel.adapter_luids().into_iter().enumerate() {
        let adapter = process.open_adapter_from_luid(luid).unwrap();
        let instance = process.adapter_config(adapter).unwrap().device_instance.unwrap();
        let path: Vec<u16> =
            format!("\\\\?\\{instance}#{}", d3dkmt_emu::DISPLAY_DEVICE_ARRIVAL).encode_utf16().chain([0]).collect();
        let mut args = D3DKMT_OPENADAPTERFROMDEVICENAME { pDeviceName: path.as_ptr(), ..Default::default() };
        assert_eq!(call!(D3DKMTOpenAdapterFromDeviceName(&mut args)), NtStatus::SUCCESS, "adapter {i}");
        assert_eq!((args.AdapterLuid.LowPart, args.AdapterLuid.HighPart), (luid.low, luid.high), "adapter {i}");
        assert_ne!(args.hAdapter, adapter.0, "a new handle each open");
    }
}
