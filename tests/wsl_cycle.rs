//! The cycle a WSL client runs (`tests/c/dlopen_dxcore.c` runs it in C with
//! the libdxg layouts against libdxcore.so), here through the
//! Windows-layout exports as a windows-sys client calls them: count-then-fill
//! enumeration with the compute-only and display-only filters, the adapter
//! queries WSL probes make (driver version, adapter type, PCI ids, the
//! driver store path through the registry query), a device, a monitored
//! fence, CPU signal and wait, teardown.
#![allow(unsafe_code, reason = "calls the C ABI through windows-sys's declarations, as a client does")]

use std::mem::offset_of;

use d3dkmt_emu::{
    AdapterConfig, AdapterKind, DEFAULT_DRIVER_STORE_PATH, DeviceIds, Kernel, KernelConfig, Luid, NtStatus,
};
use windows_sys::Wdk::Graphics::Direct3D::*;

macro_rules! call {
    ($f:ident($arg:expr)) => {
        // SAFETY: the argument points at a live struct of the test whose
        // pointer fields are NULL or point at live buffers of the stated sizes.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($arg) })
    };
}

/// A full adapter, a compute-only one and a display-only one, in that order.
fn three_kinds() -> KernelConfig {
    let adapter = |low, kind, vendor| AdapterConfig {
        kind,
        ids: DeviceIds { vendor, device: 0x1000 + low, ..DeviceIds::default() },
        outputs: if kind == AdapterKind::ComputeOnly {
            Vec::new()
        } else {
            AdapterConfig::new(Luid::default()).outputs
        },
        ..AdapterConfig::new(Luid { low, high: 0 })
    };
    KernelConfig {
        adapters: vec![
            adapter(1, AdapterKind::Full, 0x10DE),
            adapter(2, AdapterKind::ComputeOnly, 0x1002),
            adapter(3, AdapterKind::DisplayOnly, 0x8086),
        ],
        ..KernelConfig::default()
    }
}

/// EnumAdapters3 twice, the count call first; returns the LUIDs' low parts
/// and closes the handles.
fn enumerate3(compute: bool, display: bool) -> Vec<u32> {
    let mut filter = D3DKMT_ENUMADAPTERS_FILTER::default();
    filter.Anonymous._bitfield = u64::from(compute) | u64::from(display) << 1;
    let mut count = D3DKMT_ENUMADAPTERS3 { Filter: filter, NumAdapters: 0, pAdapters: std::ptr::null_mut() };
    assert_eq!(call!(D3DKMTEnumAdapters3(&mut count)), NtStatus::SUCCESS, "the count call (NULL array)");
    assert!(count.NumAdapters >= 3, "room for every adapter (WINE #17: the capacity, not the count)");
    let mut rows = vec![D3DKMT_ADAPTERINFO::default(); count.NumAdapters as usize];
    let mut fill =
        D3DKMT_ENUMADAPTERS3 { Filter: filter, NumAdapters: count.NumAdapters, pAdapters: rows.as_mut_ptr() };
    assert_eq!(call!(D3DKMTEnumAdapters3(&mut fill)), NtStatus::SUCCESS);
    let listed = &rows[..fill.NumAdapters as usize];
    for row in listed {
        assert_eq!(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: row.hAdapter })), NtStatus::SUCCESS);
    }
    listed.iter().map(|r| r.AdapterLuid.LowPart).collect()
}

#[test]
fn count_then_fill_with_each_filter() {
    let kernel = Kernel::new(three_kinds());
    let process = kernel.create_process();
    let _bound = process.enter();
    assert_eq!(enumerate3(false, false), [1]);
    assert_eq!(enumerate3(true, false), [1, 2]);
    assert_eq!(enumerate3(false, true), [1, 3]);
    assert_eq!(enumerate3(true, true), [1, 2, 3]);
    // EnumAdapters2 has no filter: full adapters only.
    let mut count = D3DKMT_ENUMADAPTERS2 { NumAdapters: 0, pAdapters: std::ptr::null_mut() };
    assert_eq!(call!(D3DKMTEnumAdapters2(&mut count)), NtStatus::SUCCESS);
    let mut rows = vec![D3DKMT_ADAPTERINFO::default(); count.NumAdapters as usize];
    let mut fill = D3DKMT_ENUMADAPTERS2 { NumAdapters: count.NumAdapters, pAdapters: rows.as_mut_ptr() };
    assert_eq!(call!(D3DKMTEnumAdapters2(&mut fill)), NtStatus::SUCCESS);
    assert_eq!(fill.NumAdapters, 1);
    assert_eq!(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: rows[0].hAdapter })), NtStatus::SUCCESS);
    assert_eq!(process.local_handle_count(), 0, "every enumerated handle closed");
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

fn u32_at(buffer: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(buffer[at..at + 4].try_into().unwrap())
}

#[test]
fn the_wsl_probe_and_device_cycle() {
    let kernel = Kernel::new(three_kinds());
    let process = kernel.create_process();
    let _bound = process.enter();
    let mut filter = D3DKMT_ENUMADAPTERS_FILTER::default();
    filter.Anonymous._bitfield = 1; // IncludeComputeOnly, as the ROCm probe asks
    let mut rows = vec![D3DKMT_ADAPTERINFO::default(); 8];
    let mut fill = D3DKMT_ENUMADAPTERS3 { Filter: filter, NumAdapters: 8, pAdapters: rows.as_mut_ptr() };
    assert_eq!(call!(D3DKMTEnumAdapters3(&mut fill)), NtStatus::SUCCESS);
    assert_eq!(fill.NumAdapters, 2);

    for (row, (vendor, type_bits)) in rows.iter().zip([(0x10DE, 0b11), (0x1002, 1 | 1 << 11)]) {
        let adapter = row.hAdapter;
        let mut version = [0u8; 4];
        assert_eq!(query(adapter, KMTQAITYPE_DRIVERVERSION, &mut version), NtStatus::SUCCESS);
        assert!(i32::from_ne_bytes(version) >= 2700, "past the WDDM 2.7 threshold probes compare against");
        let mut ty = [0u8; 4];
        assert_eq!(query(adapter, KMTQAITYPE_ADAPTERTYPE, &mut ty), NtStatus::SUCCESS);
        assert_eq!(u32::from_ne_bytes(ty), type_bits);
        let mut ids = [0u8; size_of::<D3DKMT_QUERY_DEVICE_IDS>()];
        assert_eq!(query(adapter, KMTQAITYPE_PHYSICALADAPTERDEVICEIDS, &mut ids), NtStatus::SUCCESS);
        assert_eq!(u32_at(&ids, offset_of!(D3DKMT_QUERY_DEVICE_IDS, DeviceIds)), vendor);

        // The driver store path, Windows layout: UTF-16, as configured.
        let output = offset_of!(D3DDDI_QUERYREGISTRY_INFO, Anonymous);
        let mut probe = vec![0u8; size_of::<D3DDDI_QUERYREGISTRY_INFO>()];
        probe[..4].copy_from_slice(&D3DDDI_QUERYREGISTRY_DRIVERSTOREPATH.to_ne_bytes());
        assert_eq!(query(adapter, KMTQAITYPE_QUERYREGISTRY, &mut probe), NtStatus::SUCCESS);
        let status_at = offset_of!(D3DDDI_QUERYREGISTRY_INFO, Status);
        assert_eq!(u32_at(&probe, status_at) as i32, D3DDDI_QUERYREGISTRY_STATUS_BUFFER_OVERFLOW);
        let needed = u32_at(&probe, offset_of!(D3DDDI_QUERYREGISTRY_INFO, OutputValueSize)) as usize;
        assert_eq!(needed, (DEFAULT_DRIVER_STORE_PATH.encode_utf16().count() + 1) * 2);
        let mut info = probe.clone();
        info.resize(size_of::<D3DDDI_QUERYREGISTRY_INFO>() + needed, 0);
        assert_eq!(query(adapter, KMTQAITYPE_QUERYREGISTRY, &mut info), NtStatus::SUCCESS);
        assert_eq!(u32_at(&info, status_at) as i32, D3DDDI_QUERYREGISTRY_STATUS_SUCCESS);
        let units: Vec<u16> =
            info[output..output + needed - 2].chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect();
        assert_eq!(String::from_utf16(&units).unwrap(), DEFAULT_DRIVER_STORE_PATH);

        // Device, monitored fence, CPU signal and wait, teardown.
        let mut device = D3DKMT_CREATEDEVICE::default();
        device.Anonymous.hAdapter = adapter;
        assert_eq!(call!(D3DKMTCreateDevice(&mut device)), NtStatus::SUCCESS);
        let mut sync = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device.hDevice, ..Default::default() };
        sync.Info.Type = D3DDDI_MONITORED_FENCE;
        assert_eq!(call!(D3DKMTCreateSynchronizationObject2(&mut sync)), NtStatus::SUCCESS);
        let fence = sync.hSyncObject;
        let value = 7u64;
        let signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
            hDevice: device.hDevice,
            ObjectCount: 1,
            ObjectHandleArray: &fence,
            FenceValueArray: &value,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTSignalSynchronizationObjectFromCpu(&signal)), NtStatus::SUCCESS);
        let wait = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
            hDevice: device.hDevice,
            ObjectCount: 1,
            ObjectHandleArray: &fence,
            FenceValueArray: &value,
            ..Default::default()
        };
        assert_eq!(call!(D3DKMTWaitForSynchronizationObjectFromCpu(&wait)), NtStatus::SUCCESS);
        // GPU work (context, allocation, GPU VA, submit) goes here when emulated.
        let destroy = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence };
        assert_eq!(call!(D3DKMTDestroySynchronizationObject(&destroy)), NtStatus::SUCCESS);
        assert_eq!(call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device.hDevice })), NtStatus::SUCCESS);
        assert_eq!(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: adapter })), NtStatus::SUCCESS);
    }
    assert_eq!(process.local_handle_count(), 0);
}
