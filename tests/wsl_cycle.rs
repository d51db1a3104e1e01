//! The cycle a WSL client runs (`tests/c/dlopen_dxcore.c` runs it in C with
//! the libdxg layouts against libdxcore.so), here through the
//! Windows-layout exports as a windows-sys client calls them: count-then-fill
//! enumeration with the compute-only and display-only filters, the adapter
//! queries WSL probes make (driver version, adapter type, PCI ids, the
//! driver store path through the registry query), a device, a monitored
//! fence, CPU signal and wait, then the GPU work (a virtual context, a
//! paging queue, an allocation, a GPU VA reservation and map waited on
//! through the paging fence, residency, `Lock2`, a submission at the mapped
//! address and a GPU signal of the fence, a CPU wait on it) and teardown.
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
        gpu_cycle(adapter, device.hDevice, fence, 8);
        let destroy = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence };
        assert_eq!(call!(D3DKMTDestroySynchronizationObject(&destroy)), NtStatus::SUCCESS);
        assert_eq!(call!(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device.hDevice })), NtStatus::SUCCESS);
        assert_eq!(call!(D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: adapter })), NtStatus::SUCCESS);
    }
    assert_eq!(process.local_handle_count(), 0);
}

fn cpu_wait(device: u32, object: u32, value: u64) {
    let wait = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
        hDevice: device,
        ObjectCount: 1,
        ObjectHandleArray: &object,
        FenceValueArray: &value,
        ..Default::default()
    };
    assert_eq!(call!(D3DKMTWaitForSynchronizationObjectFromCpu(&wait)), NtStatus::SUCCESS);
}

/// The GPU part of the cycle, as `gpu_work()` in `tests/c/dlopen_dxcore.c`.
fn gpu_cycle(adapter: u32, device: u32, fence: u32, value: u64) {
    const BYTES: usize = 4 * 4096;
    let mut context = D3DKMT_CREATECONTEXTVIRTUAL {
        hDevice: device,
        EngineAffinity: 1,
        ClientHint: D3DKMT_CLIENTHINT_CUDA,
        ..Default::default()
    };
    assert_eq!(call!(D3DKMTCreateContextVirtual(&mut context)), NtStatus::SUCCESS);
    let mut paging = D3DKMT_CREATEPAGINGQUEUE { hDevice: device, ..Default::default() };
    assert_eq!(call!(D3DKMTCreatePagingQueue(&mut paging)), NtStatus::SUCCESS);
    let paging_value = paging.FenceValueCPUVirtualAddress.cast_const().cast::<u64>();

    // An allocation over our memory (page-aligned: a Vec of pages).
    let mut memory = vec![[0u8; 4096]; BYTES / 4096];
    let base_ptr = memory.as_mut_ptr().cast::<u8>();
    let mut standard =
        D3DKMT_CREATESTANDARDALLOCATION { Type: D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP, ..Default::default() };
    standard.Anonymous.ExistingHeapData.Size = BYTES;
    let mut info = D3DDDI_ALLOCATIONINFO2::default();
    info.Anonymous1.pSystemMem = base_ptr.cast();
    let mut create = D3DKMT_CREATEALLOCATION { hDevice: device, NumAllocations: 1, ..Default::default() };
    create.Anonymous1.pStandardAllocation = &mut standard;
    create.Anonymous2.pAllocationInfo2 = &mut info;
    create.Flags._bitfield = 1 << 16 | 1 << 5; // StandardAllocation | ExistingSysMem
    assert_eq!(call!(D3DKMTCreateAllocation2(&mut create)), NtStatus::SUCCESS);
    let allocation = info.hAllocation;

    // GPU VA: a 64 KiB reservation on the adapter, the allocation mapped there.
    let mut reserve = D3DDDI_RESERVEGPUVIRTUALADDRESS { Size: 0x1_0000, ..Default::default() };
    reserve.Anonymous1.hAdapter = adapter;
    assert_eq!(call!(D3DKMTReserveGpuVirtualAddress(&mut reserve)), NtStatus::SUCCESS);
    let va = reserve.VirtualAddress;
    assert!(va != 0 && va % 0x1_0000 == 0);
    let mut map = D3DDDI_MAPGPUVIRTUALADDRESS {
        hPagingQueue: paging.hPagingQueue,
        BaseAddress: va,
        hAllocation: allocation,
        SizeInPages: (BYTES / 4096) as u64 + 1,
        ..Default::default()
    };
    map.Protection.Anonymous.Value = 1; // Write
    assert_eq!(call!(D3DKMTMapGpuVirtualAddress(&mut map)), NtStatus::INVALID_PARAMETER, "past the allocation");
    assert_eq!((map.VirtualAddress, map.PagingFenceValue), (0, 0), "untouched on failure");
    map.SizeInPages -= 1;
    assert_eq!(call!(D3DKMTMapGpuVirtualAddress(&mut map)), NtStatus::SUCCESS);
    assert_eq!((map.VirtualAddress, map.PagingFenceValue), (va, 1));
    cpu_wait(device, paging.hSyncObject, map.PagingFenceValue);
    // SAFETY: the paging fence's value lives as long as the paging queue.
    assert!(unsafe { paging_value.read_volatile() } >= 1);

    let mut resident = D3DDDI_MAKERESIDENT {
        hPagingQueue: paging.hPagingQueue,
        NumAllocations: 1,
        AllocationList: &allocation,
        ..Default::default()
    };
    assert_eq!(call!(D3DKMTMakeResident(&mut resident)), NtStatus::SUCCESS);
    assert_eq!((resident.PagingFenceValue, resident.NumBytesToTrim), (2, 0));
    cpu_wait(device, paging.hSyncObject, resident.PagingFenceValue);

    // Lock2: the allocation's memory, written through and read back.
    let mut lock = D3DKMT_LOCK2 { hDevice: device, hAllocation: allocation, ..Default::default() };
    assert_eq!(call!(D3DKMTLock2(&mut lock)), NtStatus::SUCCESS);
    assert_eq!(lock.pData.cast::<u8>(), base_ptr);
    // SAFETY: pData is our BYTES-byte buffer.
    unsafe { lock.pData.cast::<u8>().add(4096 + 5).write_volatile(0x42) };
    assert_eq!(memory[1][5], 0x42);
    let unlock = D3DKMT_UNLOCK2 { hDevice: device, hAllocation: allocation };
    assert_eq!(call!(D3DKMTUnlock2(&unlock)), NtStatus::SUCCESS);
    assert_eq!(call!(D3DKMTUnlock2(&unlock)), NtStatus::INVALID_PARAMETER);

    // Submit at the mapped VA, then signal the fence behind it on the GPU.
    let mut submit =
        D3DKMT_SUBMITCOMMAND { Commands: va, CommandLength: 256, BroadcastContextCount: 1, ..Default::default() };
    submit.BroadcastContext[0] = context.hContext;
    assert_eq!(call!(D3DKMTSubmitCommand(&submit)), NtStatus::SUCCESS);
    let mut signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU {
        hContext: context.hContext,
        ObjectCount: 1,
        ObjectHandleArray: &fence,
        ..Default::default()
    };
    signal.Anonymous.MonitoredFenceValueArray = &value;
    assert_eq!(call!(D3DKMTSignalSynchronizationObjectFromGpu(&signal)), NtStatus::SUCCESS);
    cpu_wait(device, fence, value);

    // Teardown in reverse order.
    let mut evict =
        D3DKMT_EVICT { hDevice: device, NumAllocations: 1, AllocationList: &allocation, ..Default::default() };
    assert_eq!(call!(D3DKMTEvict(&mut evict)), NtStatus::SUCCESS);
    let free = D3DKMT_FREEGPUVIRTUALADDRESS { hAdapter: adapter, BaseAddress: va, Size: 0x1_0000 };
    assert_eq!(call!(D3DKMTFreeGpuVirtualAddress(&free)), NtStatus::SUCCESS);
    assert_eq!(call!(D3DKMTFreeGpuVirtualAddress(&free)), NtStatus::INVALID_PARAMETER, "freed twice");
    let destroy = D3DKMT_DESTROYALLOCATION2 {
        hDevice: device,
        phAllocationList: &allocation,
        AllocationCount: 1,
        ..Default::default()
    };
    assert_eq!(call!(D3DKMTDestroyAllocation2(&destroy)), NtStatus::SUCCESS);
    let mut destroy_paging = D3DDDI_DESTROYPAGINGQUEUE { hPagingQueue: paging.hPagingQueue };
    assert_eq!(call!(D3DKMTDestroyPagingQueue(&mut destroy_paging)), NtStatus::SUCCESS);
    let destroy_context = D3DKMT_DESTROYCONTEXT { hContext: context.hContext };
    assert_eq!(call!(D3DKMTDestroyContext(&destroy_context)), NtStatus::SUCCESS);
}
