//! GPU memory end to end: GPU virtual address reservations and mappings
//! with their overlap, alignment and size checks and paging-fence values,
//! residency counts and queries, offers and reclaims, priorities,
//! `Lock2`/`Unlock2` over the allocation's real memory, video memory
//! reservations in `QueryVideoMemoryInfo` (keeping WINE #26's invariants),
//! and teardown with the allocation, the device and the process.
//!
//! The exports are called through windows-sys's declarations, as code
//! written against windows-sys calls them.
#![allow(unsafe_code, reason = "calls the C ABI as a C or windows-sys client does")]

use d3dkmt_emu::{
    AllocationFlags, AllocationRequest, Kernel, KernelConfig, LocalHandle, NtStatus, ObjectKind, OfferState, Process,
    SyncFlags, VaOperation, protection,
};
use windows_sys::Wdk::Graphics::Direct3D::*;

macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument is a reference to a live, aligned,
        // initialised struct, and every pointer field points at as many
        // elements as its count says, valid for the call.
        NtStatus(unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) })
    };
}

const KIB64: u64 = 0x1_0000;

struct Fixture {
    kernel: Kernel,
    process: Process,
    adapter: LocalHandle,
    device: LocalHandle,
    paging: u32,
    paging_fence: u32,
    paging_cpu_va: *const u64,
}

impl Fixture {
    fn paging_fence_value(&self) -> u64 {
        // SAFETY: the paging fence lives as long as the paging queue.
        unsafe { self.paging_cpu_va.read_volatile() }
    }
}

fn fixture() -> Fixture {
    let kernel = Kernel::new(KernelConfig::default());
    let process = kernel.create_process();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = process.create_device(adapter).unwrap();
    let mut pq = D3DKMT_CREATEPAGINGQUEUE { hDevice: device.0, ..Default::default() };
    {
        let _bound = process.enter();
        call!(D3DKMTCreatePagingQueue(&mut pq)).unwrap();
    }
    Fixture {
        kernel,
        process,
        adapter,
        device,
        paging: pq.hPagingQueue,
        paging_fence: pq.hSyncObject,
        paging_cpu_va: pq.FenceValueCPUVirtualAddress.cast_const().cast(),
    }
}

/// A standard existing-heap allocation over `memory`, through the export.
fn allocation(device: LocalHandle, memory: &mut [u8]) -> u32 {
    let mut standard =
        D3DKMT_CREATESTANDARDALLOCATION { Type: D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP, ..Default::default() };
    standard.Anonymous.ExistingHeapData.Size = memory.len();
    let mut info = D3DDDI_ALLOCATIONINFO2::default();
    info.Anonymous1.pSystemMem = memory.as_mut_ptr().cast();
    let mut args = D3DKMT_CREATEALLOCATION { hDevice: device.0, NumAllocations: 1, ..Default::default() };
    args.Anonymous1.pStandardAllocation = &mut standard;
    args.Anonymous2.pAllocationInfo2 = &mut info;
    args.Flags._bitfield = 0x1_0000 | 0x20; // StandardAllocation | ExistingSysMem
    call!(D3DKMTCreateAllocation2(&mut args)).unwrap();
    info.hAllocation
}

fn reserve(owner: u32, base: u64, min: u64, max: u64, size: u64) -> (NtStatus, u64) {
    let mut args = D3DDDI_RESERVEGPUVIRTUALADDRESS {
        BaseAddress: base,
        MinimumAddress: min,
        MaximumAddress: max,
        Size: size,
        ..Default::default()
    };
    args.Anonymous1.hAdapter = owner;
    let status = call!(D3DKMTReserveGpuVirtualAddress(&mut args));
    (status, args.VirtualAddress)
}

fn map(paging: u32, base: u64, allocation: u32, offset_pages: u64, size_pages: u64) -> (NtStatus, u64, u64) {
    let mut args = D3DDDI_MAPGPUVIRTUALADDRESS {
        hPagingQueue: paging,
        BaseAddress: base,
        hAllocation: allocation,
        OffsetInPages: offset_pages,
        SizeInPages: size_pages,
        ..Default::default()
    };
    args.Protection.Anonymous.Value = protection::WRITE;
    let status = call!(D3DKMTMapGpuVirtualAddress(&mut args));
    (status, args.VirtualAddress, args.PagingFenceValue)
}

fn free(adapter: LocalHandle, base: u64, size: u64) -> NtStatus {
    let args = D3DKMT_FREEGPUVIRTUALADDRESS { hAdapter: adapter.0, BaseAddress: base, Size: size };
    call!(D3DKMTFreeGpuVirtualAddress(&args))
}

fn make_resident(paging: u32, list: &[u32]) -> (NtStatus, u64, u64) {
    let mut args = D3DDDI_MAKERESIDENT {
        hPagingQueue: paging,
        NumAllocations: list.len() as u32,
        AllocationList: list.as_ptr(),
        NumBytesToTrim: 77,
        ..Default::default()
    };
    let status = call!(D3DKMTMakeResident(&mut args));
    (status, args.PagingFenceValue, args.NumBytesToTrim)
}

fn evict(device: LocalHandle, list: &[u32]) -> NtStatus {
    let mut args = D3DKMT_EVICT {
        hDevice: device.0,
        NumAllocations: list.len() as u32,
        AllocationList: list.as_ptr(),
        ..Default::default()
    };
    call!(D3DKMTEvict(&mut args))
}

fn residency(device: LocalHandle, list: &[u32]) -> (NtStatus, Vec<i32>) {
    let mut out = vec![-1i32; list.len()];
    let args = D3DKMT_QUERYALLOCATIONRESIDENCY {
        hDevice: device.0,
        hResource: 0,
        phAllocationList: list.as_ptr(),
        AllocationCount: list.len() as u32,
        pResidencyStatus: out.as_mut_ptr(),
    };
    let status = call!(D3DKMTQueryAllocationResidency(&args));
    (status, out)
}

fn video_memory(adapter: LocalHandle, group: i32) -> D3DKMT_QUERYVIDEOMEMORYINFO {
    let mut args = D3DKMT_QUERYVIDEOMEMORYINFO { hAdapter: adapter.0, MemorySegmentGroup: group, ..Default::default() };
    call!(D3DKMTQueryVideoMemoryInfo(&mut args)).unwrap();
    args
}

#[test]
fn reservations_check_granularity_overlap_and_range_and_free_only_what_was_reserved() {
    let f = fixture();
    let _bound = f.process.enter();
    let a = f.adapter.0;
    // The lowest free range, 64 KiB-aligned, above the space's start.
    let (status, first) = reserve(a, 0, 0, 0, 4 * KIB64);
    status.unwrap();
    assert_eq!(first, d3dkmt_emu::SPACE_START);
    let (status, second) = reserve(a, 0, 0, 0, KIB64);
    status.unwrap();
    assert_eq!(second, first + 4 * KIB64, "first fit, after the first reservation");
    // Size not a multiple of 64 KiB, or 0; base misaligned.
    assert_eq!(reserve(a, 0, 0, 0, 0x1000).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(reserve(a, 0, 0, 0, 0).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(reserve(a, first + 0x1000 + 8 * KIB64, 0, 0, KIB64).0, NtStatus::INVALID_PARAMETER);
    // A fixed base overlapping a reservation fails; next to it succeeds.
    assert_eq!(reserve(a, first + KIB64, 0, 0, KIB64).0, NtStatus::INVALID_PARAMETER);
    let fixed = first + 16 * KIB64;
    assert_eq!(reserve(a, fixed, 0, 0, 2 * KIB64), (NtStatus::SUCCESS, fixed));
    // Min/max: the lowest free range at or above min; none fits below max.
    let (status, bounded) = reserve(a, 0, fixed, 0, KIB64);
    status.unwrap();
    assert_eq!(bounded, fixed + 2 * KIB64);
    assert_eq!(reserve(a, 0, fixed, fixed + KIB64, KIB64).0, NtStatus::NO_MEMORY, "[fixed, fixed+64K) is taken");
    assert_eq!(reserve(a, 0, fixed, fixed, KIB64).0, NtStatus::INVALID_PARAMETER, "max not above min");
    // Outside the space.
    assert_eq!(reserve(a, 0x1_0000, 0, 0, KIB64).0, NtStatus::INVALID_PARAMETER);
    // A bad owner handle.
    assert_eq!(reserve(0xDEAD, 0, 0, 0, KIB64).0, NtStatus::INVALID_PARAMETER);
    // Free: only exactly a reservation.
    assert_eq!(free(f.adapter, first, KIB64), NtStatus::INVALID_PARAMETER, "part of a reservation");
    assert_eq!(free(f.adapter, first + KIB64, 3 * KIB64), NtStatus::INVALID_PARAMETER);
    assert_eq!(free(f.adapter, 0x5_0000_0000, KIB64), NtStatus::INVALID_PARAMETER, "nothing reserved there");
    free(f.adapter, first, 4 * KIB64).unwrap();
    assert_eq!(free(f.adapter, first, 4 * KIB64), NtStatus::INVALID_PARAMETER, "freed twice");
    // The freed range is handed out again.
    assert_eq!(reserve(a, 0, 0, 0, 2 * KIB64), (NtStatus::SUCCESS, first));
    let reservations = f.process.gpu_va_reservations(f.adapter).unwrap();
    assert_eq!(reservations, vec![(first, 2 * KIB64), (second, KIB64), (fixed, 2 * KIB64), (bounded, KIB64)]);
}

#[test]
fn maps_check_the_allocation_range_and_advance_the_paging_fence() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut memory = vec![0u8; 0x4000];
    let alloc = allocation(f.device, &mut memory);
    let (status, base) = reserve(f.adapter.0, 0, 0, 0, KIB64);
    status.unwrap();
    assert_eq!(f.paging_fence_value(), 0);
    // Map 2 pages from page 1 at base: the fence advances by one per map,
    // and has reached the value when the call returns.
    let (status, va, fence1) = map(f.paging, base, alloc, 1, 2);
    status.unwrap();
    assert_eq!((va, fence1), (base, 1));
    assert_eq!(f.paging_fence_value(), 1);
    // Base 0: a new reservation is made for it.
    let (status, va2, fence2) = map(f.paging, 0, alloc, 0, 4);
    status.unwrap();
    assert_eq!(fence2, 2);
    assert_ne!(va2, base);
    assert!(va2 % KIB64 == 0);
    // Past the allocation's end (4 pages), zero pages, outside any
    // reservation, misaligned: refused, and the fence does not move.
    assert_eq!(map(f.paging, base, alloc, 3, 2).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(map(f.paging, base, alloc, 0, 5).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(map(f.paging, base, alloc, 0, 0).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(
        map(f.paging, base + 15 * 0x1000, alloc, 0, 2).0,
        NtStatus::INVALID_PARAMETER,
        "runs out of the reservation"
    );
    assert_eq!(map(f.paging, 0x9_0000_0000, alloc, 0, 1).0, NtStatus::INVALID_PARAMETER, "not reserved");
    assert_eq!(map(f.paging, base + 0x800, alloc, 0, 1).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(map(f.paging, base, 0xBAD, 0, 1).0, NtStatus::INVALID_PARAMETER, "no such allocation");
    assert_eq!(map(0xBAD, base, alloc, 0, 1).0, NtStatus::INVALID_PARAMETER, "no such paging queue");
    assert_eq!(f.paging_fence_value(), 2);
    let mappings = f.process.gpu_va_mappings(f.adapter).unwrap();
    assert_eq!(mappings.len(), 2);
    assert_eq!((mappings[0].base, mappings[0].size, mappings[0].offset), (base, 0x2000, 0x1000));
    // Mapping over mapped pages replaces them (the first page of the old one).
    let (status, _, fence3) = map(f.paging, base, alloc, 3, 1);
    status.unwrap();
    assert_eq!(fence3, 3);
    let mappings = f.process.gpu_va_mappings(f.adapter).unwrap();
    let spans: Vec<(u64, u64, u64)> = mappings.iter().map(|m| (m.base, m.size, m.offset)).collect();
    assert_eq!(spans[..2], [(base, 0x1000, 0x3000), (base + 0x1000, 0x1000, 0x2000)]);
    // A CPU wait for the returned paging fence value returns at once.
    f.process.wait_from_cpu(f.device, &[(LocalHandle(f.paging_fence), fence3)], false).unwrap();
    // Freeing the reservation unmaps it.
    free(f.adapter, base, KIB64).unwrap();
    assert_eq!(f.process.gpu_va_mappings(f.adapter).unwrap().len(), 1);
}

#[test]
fn another_devices_allocation_cannot_be_mapped_and_spaces_are_per_process() {
    let f = fixture();
    let _bound = f.process.enter();
    let other = f.process.create_device(f.adapter).unwrap();
    let mut memory = vec![0u8; 0x1000];
    let alloc = allocation(other, &mut memory);
    let (status, base) = reserve(f.adapter.0, 0, 0, 0, KIB64);
    status.unwrap();
    assert_eq!(map(f.paging, base, alloc, 0, 1).0, NtStatus::INVALID_PARAMETER);
    // Another process has its own space: the same first address.
    let p2 = f.kernel.create_process();
    let a2 = p2.open_adapter_from_luid(f.kernel.adapter_luids()[0]).unwrap();
    assert_eq!(p2.reserve_gpu_va(a2, 0, 0, 0, KIB64).unwrap(), base);
}

#[test]
fn update_gpu_virtual_address_applies_all_or_nothing_then_signals_the_fence_on_the_context() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut memory = vec![0u8; 0x2000];
    let alloc = LocalHandle(allocation(f.device, &mut memory));
    let mut ctx = D3DKMT_CREATECONTEXTVIRTUAL { hDevice: f.device.0, ..Default::default() };
    call!(D3DKMTCreateContextVirtual(&mut ctx)).unwrap();
    let context = LocalHandle(ctx.hContext);
    let fence = f.process.create_monitored_fence(f.device, SyncFlags::default(), 0).unwrap();
    let base = f.process.reserve_gpu_va(f.adapter, 0, 0, 0, KIB64).unwrap();
    let map = VaOperation::Map { base, size: 0x2000, allocation: alloc, offset: 0, protection: protection::WRITE };
    let bad = VaOperation::Map { base: base + 0x4000, size: 0x3000, allocation: alloc, offset: 0, protection: 0 };
    assert_eq!(
        f.process.update_gpu_va(f.device, context, fence.handle, &[map, bad], 5).unwrap_err().status(),
        NtStatus::INVALID_PARAMETER
    );
    assert!(f.process.gpu_va_mappings(f.adapter).unwrap().is_empty(), "nothing applied");
    assert_eq!(f.process.fence_value(fence.handle).unwrap(), 0);
    let copy = VaOperation::Copy { source: base, size: 0x2000, dest: base + 0x8000 };
    let unmap = VaOperation::Unmap { base, size: 0x1000 };
    f.process.update_gpu_va(f.device, context, fence.handle, &[map, copy, unmap], 5).unwrap();
    assert_eq!(f.process.fence_value(fence.handle).unwrap(), 5, "the fake GPU ran the signal");
    let spans: Vec<(u64, u64, u64)> =
        f.process.gpu_va_mappings(f.adapter).unwrap().iter().map(|m| (m.base, m.size, m.offset)).collect();
    assert_eq!(spans, vec![(base + 0x1000, 0x1000, 0x1000), (base + 0x8000, 0x2000, 0)]);
}

#[test]
fn residency_is_counted_queried_and_reported_as_usage_within_the_budget() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut m1 = vec![0u8; 0x2000];
    let mut m2 = vec![0u8; 0x1000];
    let (a1, a2) = (allocation(f.device, &mut m1), allocation(f.device, &mut m2));
    let nonlocal = D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL;
    let before = video_memory(f.adapter, nonlocal);
    assert_eq!(before.CurrentUsage, 0, "nothing resident yet");
    assert_eq!(residency(f.device, &[a1, a2]), (NtStatus::SUCCESS, vec![3, 3]), "NOTRESIDENT");
    let (status, fence, trim) = make_resident(f.paging, &[a1, a2]);
    status.unwrap();
    assert_eq!((fence, trim), (1, 0));
    let (status, fence, _) = make_resident(f.paging, &[a1]);
    status.unwrap();
    assert_eq!(fence, 2, "each MakeResident is one paging operation");
    assert_eq!(f.process.allocation_memory(LocalHandle(a1)).unwrap().residency, 2);
    assert_eq!(residency(f.device, &[a1, a2]), (NtStatus::SUCCESS, vec![2, 2]), "RESIDENTINSHAREDMEMORY");
    let info = video_memory(f.adapter, nonlocal);
    assert_eq!(info.CurrentUsage, 0x3000);
    assert!(info.CurrentUsage <= info.Budget, "WINE #26");
    assert_eq!(video_memory(f.adapter, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL).CurrentUsage, 0);
    // Evict: counted down; below zero is refused, all or nothing.
    evict(f.device, &[a1, a2]).unwrap();
    assert_eq!(residency(f.device, &[a1, a2]).1, vec![2, 3]);
    assert_eq!(evict(f.device, &[a1, a2]), NtStatus::INVALID_PARAMETER);
    assert_eq!(f.process.allocation_memory(LocalHandle(a1)).unwrap().residency, 1, "untouched");
    evict(f.device, &[a1]).unwrap();
    assert_eq!(video_memory(f.adapter, nonlocal).CurrentUsage, 0);
    // Bad lists.
    assert_eq!(make_resident(f.paging, &[]).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(make_resident(f.paging, &[a1, a1]).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(make_resident(f.paging, &[0xBAD]).0, NtStatus::INVALID_PARAMETER);
    assert_eq!(f.paging_fence_value(), 2);
}

#[test]
fn residency_past_the_budget_is_no_memory() {
    let f = fixture();
    let _bound = f.process.enter();
    let budget = video_memory(f.adapter, D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL).Budget;
    let req = AllocationRequest { size: ((budget / 2) & !0xFFF) + 0x1000, driver_data: Vec::new(), system_mem: 0 };
    let flags = AllocationFlags { standard_allocation: true, existing_sys_mem: true, ..Default::default() };
    let a = f.process.create_allocation(f.device, 0, flags, &[], &req).unwrap().allocation;
    let b = f.process.create_allocation(f.device, 0, flags, &[], &req).unwrap().allocation;
    let q = LocalHandle(f.paging);
    f.process.make_resident(q, &[a]).unwrap();
    assert_eq!(f.process.make_resident(q, &[b]).unwrap_err().status(), NtStatus::NO_MEMORY);
    let info = video_memory(f.adapter, D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL);
    assert!(info.CurrentUsage <= info.Budget, "WINE #26");
}

#[test]
fn lock2_hands_out_the_allocations_memory_and_counts_locks() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut memory = vec![0u8; 0x1000];
    let alloc = allocation(f.device, &mut memory);
    let mut lock = D3DKMT_LOCK2 { hDevice: f.device.0, hAllocation: alloc, ..Default::default() };
    call!(D3DKMTLock2(&mut lock)).unwrap();
    assert_eq!(lock.pData.cast::<u8>(), memory.as_mut_ptr(), "the caller's pSystemMem");
    // SAFETY: pData is the allocation's 4 KiB, ours.
    unsafe { lock.pData.cast::<u32>().add(3).write(0xC0FFEE) };
    assert_eq!(u32::from_le_bytes(memory[12..16].try_into().unwrap()), 0xC0FFEE);
    call!(D3DKMTLock2(&mut lock)).unwrap();
    assert_eq!(f.process.allocation_memory(LocalHandle(alloc)).unwrap().locks, 2);
    let unlock = D3DKMT_UNLOCK2 { hDevice: f.device.0, hAllocation: alloc };
    call!(D3DKMTUnlock2(&unlock)).unwrap();
    call!(D3DKMTUnlock2(&unlock)).unwrap();
    assert_eq!(call!(D3DKMTUnlock2(&unlock)), NtStatus::INVALID_PARAMETER, "not locked");
    let other = f.process.create_device(f.adapter).unwrap();
    let mut wrong = D3DKMT_LOCK2 { hDevice: other.0, hAllocation: alloc, ..Default::default() };
    assert_eq!(call!(D3DKMTLock2(&mut wrong)), NtStatus::INVALID_PARAMETER, "another device's allocation");
    assert!(wrong.pData.is_null(), "untouched on failure");
    // Destroying a locked allocation is allowed.
    call!(D3DKMTLock2(&mut lock)).unwrap();
    let list = [alloc];
    let destroy = D3DKMT_DESTROYALLOCATION2 {
        hDevice: f.device.0,
        phAllocationList: list.as_ptr(),
        AllocationCount: 1,
        ..Default::default()
    };
    call!(D3DKMTDestroyAllocation2(&destroy)).unwrap();
    assert_eq!(f.kernel.live_objects(ObjectKind::Allocation), 0);
}

#[test]
fn allocations_without_system_memory_get_owned_zeroed_backing() {
    let f = fixture();
    let req = AllocationRequest { size: 0x2000, driver_data: Vec::new(), system_mem: 0 };
    let flags = AllocationFlags { standard_allocation: true, existing_sys_mem: true, ..Default::default() };
    let a = f.process.create_allocation(f.device, 0, flags, &[], &req).unwrap().allocation;
    let p = f.process.lock2(f.device, a).unwrap();
    assert!(!p.is_null());
    // SAFETY: the allocation's 8 KiB of backing, live while its handle is.
    unsafe {
        assert_eq!(p.add(0x1FFF).read(), 0);
        p.add(0x1000).write(0x5A);
    }
    f.process.unlock2(f.device, a).unwrap();
    let again = f.process.lock2(f.device, a).unwrap();
    assert_eq!(again, p, "the same memory");
    // SAFETY: as above.
    assert_eq!(unsafe { again.add(0x1000).read() }, 0x5A, "written, read back");
    f.process.unlock2(f.device, a).unwrap();
    // Offered and discarded: reclaim says so, and the content is gone.
    f.process.offer_allocations(f.device, &[], &[a], D3DKMT_OFFER_PRIORITY_LOW).unwrap();
    assert_eq!(f.process.trim_offered_allocations().unwrap(), 1);
    let (results, _) = f.process.reclaim_allocations(LocalHandle(f.paging), &[], &[a]).unwrap();
    assert_eq!(results, vec![D3DDDI_RECLAIM_RESULT_DISCARDED]);
    let fresh = f.process.lock2(f.device, a).unwrap();
    // SAFETY: the allocation's new backing.
    assert_eq!(unsafe { fresh.add(0x1000).read() }, 0, "discarded content reads as zeros");
}

#[test]
fn offers_and_reclaims_report_ok_or_discarded() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut m1 = vec![0u8; 0x1000];
    let mut m2 = vec![0u8; 0x1000];
    let (a1, a2) = (allocation(f.device, &mut m1), allocation(f.device, &mut m2));
    let list = [a1, a2];
    let offer = D3DKMT_OFFERALLOCATIONS {
        hDevice: f.device.0,
        HandleList: list.as_ptr(),
        NumAllocations: 2,
        Priority: D3DKMT_OFFER_PRIORITY_NORMAL,
        ..Default::default()
    };
    call!(D3DKMTOfferAllocations(&offer)).unwrap();
    assert_eq!(f.process.allocation_memory(LocalHandle(a1)).unwrap().offer, OfferState::Offered(2));
    assert_eq!(call!(D3DKMTOfferAllocations(&offer)), NtStatus::INVALID_PARAMETER, "offered twice");
    let mut lock = D3DKMT_LOCK2 { hDevice: f.device.0, hAllocation: a1, ..Default::default() };
    assert_eq!(call!(D3DKMTLock2(&mut lock)), NtStatus::INVALID_PARAMETER, "offered: no CPU access");
    // Offered allocations are not resident.
    let (status, _, _) = make_resident(f.paging, &[a1]);
    status.unwrap();
    assert_eq!(residency(f.device, &[a1]).1, vec![3]);
    // Reclaim the first while in place; trim; then the second was discarded.
    let mut results = [7i32; 2];
    let one = [a1];
    let mut reclaim = D3DKMT_RECLAIMALLOCATIONS2 {
        hPagingQueue: f.paging,
        NumAllocations: 1,
        HandleList: one.as_ptr(),
        ..Default::default()
    };
    reclaim.Anonymous.pResults = results.as_mut_ptr();
    call!(D3DKMTReclaimAllocations2(&mut reclaim)).unwrap();
    assert_eq!(results[0], D3DDDI_RECLAIM_RESULT_OK);
    assert_eq!(reclaim.PagingFenceValue, 2);
    assert_eq!(residency(f.device, &[a1]).1, vec![2], "resident again");
    assert_eq!(f.process.trim_offered_allocations().unwrap(), 1);
    let two = [a2];
    reclaim.HandleList = two.as_ptr();
    call!(D3DKMTReclaimAllocations2(&mut reclaim)).unwrap();
    assert_eq!(results[0], D3DDDI_RECLAIM_RESULT_DISCARDED);
    assert_eq!(reclaim.PagingFenceValue, 3);
    assert_eq!(call!(D3DKMTReclaimAllocations2(&mut reclaim)), NtStatus::INVALID_PARAMETER, "not offered");
    assert_eq!(reclaim.PagingFenceValue, 3, "untouched on failure");
}

#[test]
fn priorities_default_to_normal_and_are_kept() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut memory = vec![0u8; 0x1000];
    let alloc = allocation(f.device, &mut memory);
    let list = [alloc];
    let mut got = [0u32];
    let get = D3DKMT_GETALLOCATIONPRIORITY {
        hDevice: f.device.0,
        phAllocationList: list.as_ptr(),
        AllocationCount: 1,
        pPriorities: got.as_mut_ptr(),
        ..Default::default()
    };
    call!(D3DKMTGetAllocationPriority(&get)).unwrap();
    assert_eq!(got[0], D3DDDI_ALLOCATIONPRIORITY_NORMAL);
    let set_to = [D3DDDI_ALLOCATIONPRIORITY_HIGH];
    let set = D3DKMT_SETALLOCATIONPRIORITY {
        hDevice: f.device.0,
        phAllocationList: list.as_ptr(),
        AllocationCount: 1,
        pPriorities: set_to.as_ptr(),
        ..Default::default()
    };
    call!(D3DKMTSetAllocationPriority(&set)).unwrap();
    call!(D3DKMTGetAllocationPriority(&get)).unwrap();
    assert_eq!(got[0], D3DDDI_ALLOCATIONPRIORITY_HIGH);
    let zero = [0u32];
    let bad = D3DKMT_SETALLOCATIONPRIORITY { pPriorities: zero.as_ptr(), ..set };
    assert_eq!(call!(D3DKMTSetAllocationPriority(&bad)), NtStatus::INVALID_PARAMETER);
    let null = D3DKMT_GETALLOCATIONPRIORITY { pPriorities: core::ptr::null_mut(), ..get };
    assert_eq!(call!(D3DKMTGetAllocationPriority(&null)), NtStatus::INVALID_PARAMETER);
}

#[test]
fn video_memory_reservation_shows_in_query_video_memory_info() {
    let f = fixture();
    let _bound = f.process.enter();
    let local = D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL;
    let before = video_memory(f.adapter, local);
    assert_eq!(before.CurrentReservation, 0, "WINE #26: 0 until changed");
    let change = D3DKMT_CHANGEVIDEOMEMORYRESERVATION {
        hAdapter: f.adapter.0,
        MemorySegmentGroup: local,
        Reservation: before.AvailableForReservation / 2,
        ..Default::default()
    };
    call!(D3DKMTChangeVideoMemoryReservation(&change)).unwrap();
    assert_eq!(video_memory(f.adapter, local).CurrentReservation, before.AvailableForReservation / 2);
    assert_eq!(video_memory(f.adapter, D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL).CurrentReservation, 0);
    let too_much = D3DKMT_CHANGEVIDEOMEMORYRESERVATION { Reservation: before.AvailableForReservation + 1, ..change };
    assert_eq!(call!(D3DKMTChangeVideoMemoryReservation(&too_much)), NtStatus::INVALID_PARAMETER);
    let other_process = D3DKMT_CHANGEVIDEOMEMORYRESERVATION { hProcess: 0xDEAD as _, ..change };
    assert_eq!(call!(D3DKMTChangeVideoMemoryReservation(&other_process)), NtStatus::INVALID_HANDLE, "as WINE #27");
}

#[test]
fn update_allocation_property_keeps_the_segment_set_and_advances_the_paging_fence() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut memory = vec![0u8; 0x1000];
    let alloc = allocation(f.device, &mut memory);
    let mut args = D3DDDI_UPDATEALLOCPROPERTY {
        hPagingQueue: f.paging,
        hAllocation: alloc,
        SupportedSegmentSet: 0b10,
        ..Default::default()
    };
    call!(D3DKMTUpdateAllocationProperty(&mut args)).unwrap();
    assert_eq!(args.PagingFenceValue, 1);
    assert_eq!(f.process.allocation_memory(LocalHandle(alloc)).unwrap().segment_set, 0b10);
    let mut zero = D3DDDI_UPDATEALLOCPROPERTY { SupportedSegmentSet: 0, PagingFenceValue: 9, ..args };
    assert_eq!(call!(D3DKMTUpdateAllocationProperty(&mut zero)), NtStatus::INVALID_PARAMETER);
    assert_eq!(zero.PagingFenceValue, 9);
}

#[test]
fn destroying_an_allocation_unmaps_it_and_destroying_the_device_frees_its_space() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut memory = vec![0u8; 0x2000];
    let alloc = allocation(f.device, &mut memory);
    let (status, base) = reserve(f.adapter.0, 0, 0, 0, KIB64);
    status.unwrap();
    map(f.paging, base, alloc, 0, 2).0.unwrap();
    let (status, through_queue, _) = map(f.paging, 0, alloc, 0, 1);
    status.unwrap();
    assert_eq!(f.process.gpu_va_mappings(f.adapter).unwrap().len(), 2);
    let list = [alloc];
    let destroy = D3DKMT_DESTROYALLOCATION2 {
        hDevice: f.device.0,
        phAllocationList: list.as_ptr(),
        AllocationCount: 1,
        ..Default::default()
    };
    call!(D3DKMTDestroyAllocation2(&destroy)).unwrap();
    assert!(f.process.gpu_va_mappings(f.adapter).unwrap().is_empty(), "unmapped with the allocation");
    assert_eq!(f.process.gpu_va_reservations(f.adapter).unwrap().len(), 2, "the ranges stay reserved");
    // A map with base 0 reserved through the device; the adapter's own stays.
    let alloc2 = allocation(f.device, &mut memory);
    map(f.paging, base, alloc2, 0, 1).0.unwrap();
    f.process.make_resident(LocalHandle(f.paging), &[LocalHandle(alloc2)]).unwrap();
    f.process.destroy_device(f.device).unwrap();
    assert!(f.process.gpu_va_mappings(f.adapter).unwrap().is_empty());
    assert_eq!(f.process.gpu_va_reservations(f.adapter).unwrap(), vec![(base, KIB64)], "freed: {through_queue:#x}");
    assert_eq!(video_memory(f.adapter, D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL).CurrentUsage, 0);
    for kind in [ObjectKind::Allocation, ObjectKind::Device, ObjectKind::PagingQueue] {
        assert_eq!(f.kernel.live_objects(kind), 0, "{kind:?}");
    }
    f.process.exit();
    assert!(f.kernel.leak_report().is_clean(), "{}", f.kernel.leak_report());
}

#[test]
fn policies_name_the_initial_residency_and_the_conflict_status() {
    let conflicting = NtStatus(0xC000_0018_u32 as i32); // STATUS_CONFLICTING_ADDRESSES
    let gpu = d3dkmt_emu::GpuPolicies {
        initial_residency: d3dkmt_emu::InitialResidency::Resident,
        gpu_va_conflict: conflicting,
        ..Default::default()
    };
    let policies = d3dkmt_emu::Policies { gpu, ..Default::default() };
    let kernel = Kernel::new(KernelConfig { policies, ..KernelConfig::default() });
    let process = kernel.create_process();
    let adapter = process.open_adapter_from_luid(kernel.adapter_luids()[0]).unwrap();
    let device = process.create_device(adapter).unwrap();
    let req = AllocationRequest { size: 0x1000, driver_data: Vec::new(), system_mem: 0 };
    let flags = AllocationFlags { standard_allocation: true, existing_sys_mem: true, ..Default::default() };
    let a = process.create_allocation(device, 0, flags, &[], &req).unwrap().allocation;
    assert_eq!(process.allocation_memory(a).unwrap().residency, 1, "resident at creation");
    assert_eq!(process.query_allocation_residency(device, 0, &[a]).unwrap(), vec![2]);
    process.evict(device, &[a]).unwrap();
    let base = process.reserve_gpu_va(adapter, 0, 0, 0, KIB64).unwrap();
    assert_eq!(process.reserve_gpu_va(adapter, base, 0, 0, KIB64).unwrap_err().status(), conflicting);
}

#[test]
fn a_lost_device_refuses_paging_work_but_frees_and_evicts() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut memory = vec![0u8; 0x1000];
    let alloc = allocation(f.device, &mut memory);
    let (status, base) = reserve(f.adapter.0, 0, 0, 0, KIB64);
    status.unwrap();
    make_resident(f.paging, &[alloc]).0.unwrap();
    f.kernel.remove_device(f.process.id(), f.device, d3dkmt_emu::DeviceLoss::Hung).unwrap();
    assert_eq!(map(f.paging, base, alloc, 0, 1).0, NtStatus::DEVICE_REMOVED);
    assert_eq!(make_resident(f.paging, &[alloc]).0, NtStatus::DEVICE_REMOVED);
    evict(f.device, &[alloc]).unwrap();
    free(f.adapter, base, KIB64).unwrap();
}

fn invalidate(device: u32, allocation: u32, offset: usize, length: usize) -> NtStatus {
    let args = D3DKMT_INVALIDATECACHE { hDevice: device, hAllocation: allocation, Offset: offset, Length: length };
    call!(D3DKMTInvalidateCache(&args))
}

#[test]
fn invalidate_cache_checks_the_range_and_counts_on_coherent_memory() {
    let f = fixture();
    let _bound = f.process.enter();
    let mut memory = vec![0u8; 0x2000];
    let alloc = allocation(f.device, &mut memory);
    let invalidations = || f.process.allocation_memory(LocalHandle(alloc)).unwrap().invalidations;
    // Within the allocation, edges included (a zero length at the very end).
    for (offset, length) in [(0, 0x2000), (0x1fff, 1), (0x2000, 0), (0x800, 0x800)] {
        assert_eq!(invalidate(f.device.0, alloc, offset, length), NtStatus::SUCCESS, "{offset:#x}+{length:#x}");
    }
    assert_eq!(invalidations(), 4);
    // Past the end, or overflowing.
    for (offset, length) in [(0x2000, 1), (0x1001, 0x1000), (0, 0x2001), (usize::MAX, 1), (1, usize::MAX), (0x3000, 0)]
    {
        let status = invalidate(f.device.0, alloc, offset, length);
        assert_eq!(status, NtStatus::INVALID_PARAMETER, "{offset:#x}+{length:#x}");
    }
    // Bad handles: not a device, not an allocation, another device's.
    let other = f.process.create_device(f.adapter).unwrap();
    assert_eq!(invalidate(0, alloc, 0, 1), NtStatus::INVALID_PARAMETER);
    assert_eq!(invalidate(f.adapter.0, alloc, 0, 1), NtStatus::INVALID_PARAMETER);
    assert_eq!(invalidate(f.device.0, f.paging, 0, 1), NtStatus::INVALID_PARAMETER);
    assert_eq!(invalidate(f.device.0, alloc ^ 0x40, 0, 1), NtStatus::INVALID_PARAMETER);
    assert_eq!(invalidate(other.0, alloc, 0, 1), NtStatus::INVALID_PARAMETER);
    // SAFETY: NULL is answered, never followed.
    assert_eq!(NtStatus(unsafe { D3DKMTInvalidateCache(core::ptr::null()) }), NtStatus::INVALID_PARAMETER);
    assert_eq!(invalidations(), 4, "failed calls are not counted");
    // The memory is coherent: what the CPU wrote is what it reads after.
    let mut lock = D3DKMT_LOCK2 { hDevice: f.device.0, hAllocation: alloc, ..Default::default() };
    call!(D3DKMTLock2(&mut lock)).unwrap();
    // SAFETY: pData is the allocation's 8 KiB, ours.
    unsafe { lock.pData.cast::<u8>().add(0x1234).write(0x5A) };
    assert_eq!(invalidate(f.device.0, alloc, 0x1000, 0x1000), NtStatus::SUCCESS);
    assert_eq!(memory[0x1234], 0x5A);
    // A lost device: the removal status, as for creates.
    f.kernel.remove_device(f.process.id(), f.device, d3dkmt_emu::DeviceLoss::Hung).unwrap();
    assert_eq!(invalidate(f.device.0, alloc, 0, 1), NtStatus::DEVICE_REMOVED);
    assert_eq!(invalidations(), 5);
}

/// A GPU memory cycle through the exports, for the fault sweep: each call
/// fails once in turn, the failure is passed on, and process exit leaves
/// nothing behind (mappings, residency and locks included).
fn memory_cycle(kernel: &Kernel) -> Result<(), NtStatus> {
    let process = kernel.create_process();
    let mut memory = vec![0u8; 0x2000];
    let result = process.run(|| -> Result<(), NtStatus> {
        let luid = kernel.adapter_luids()[0];
        let mut open = D3DKMT_OPENADAPTERFROMLUID::default();
        open.AdapterLuid.LowPart = luid.low;
        open.AdapterLuid.HighPart = luid.high;
        call!(D3DKMTOpenAdapterFromLuid(&mut open)).ok()?;
        let mut device = D3DKMT_CREATEDEVICE::default();
        device.Anonymous.hAdapter = open.hAdapter;
        call!(D3DKMTCreateDevice(&mut device)).ok()?;
        let mut paging = D3DKMT_CREATEPAGINGQUEUE { hDevice: device.hDevice, ..Default::default() };
        call!(D3DKMTCreatePagingQueue(&mut paging)).ok()?;
        let mut standard =
            D3DKMT_CREATESTANDARDALLOCATION { Type: D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP, ..Default::default() };
        standard.Anonymous.ExistingHeapData.Size = memory.len();
        let mut info = D3DDDI_ALLOCATIONINFO2::default();
        info.Anonymous1.pSystemMem = memory.as_mut_ptr().cast();
        let mut create = D3DKMT_CREATEALLOCATION { hDevice: device.hDevice, NumAllocations: 1, ..Default::default() };
        create.Anonymous1.pStandardAllocation = &mut standard;
        create.Anonymous2.pAllocationInfo2 = &mut info;
        create.Flags._bitfield = 0x1_0000 | 0x20;
        call!(D3DKMTCreateAllocation2(&mut create)).ok()?;
        let alloc = info.hAllocation;
        let (status, base) = reserve(open.hAdapter, 0, 0, 0, KIB64);
        status.ok()?;
        map(paging.hPagingQueue, base, alloc, 0, 2).0.ok()?;
        make_resident(paging.hPagingQueue, &[alloc]).0.ok()?;
        let mut lock = D3DKMT_LOCK2 { hDevice: device.hDevice, hAllocation: alloc, ..Default::default() };
        call!(D3DKMTLock2(&mut lock)).ok()?;
        let offer = [alloc];
        let unlock = D3DKMT_UNLOCK2 { hDevice: device.hDevice, hAllocation: alloc };
        call!(D3DKMTUnlock2(&unlock)).ok()?;
        let invalidate =
            D3DKMT_INVALIDATECACHE { hDevice: device.hDevice, hAllocation: alloc, Offset: 0, Length: 0x2000 };
        call!(D3DKMTInvalidateCache(&invalidate)).ok()?;
        let args = D3DKMT_OFFERALLOCATIONS {
            hDevice: device.hDevice,
            HandleList: offer.as_ptr(),
            NumAllocations: 1,
            Priority: D3DKMT_OFFER_PRIORITY_LOW,
            ..Default::default()
        };
        call!(D3DKMTOfferAllocations(&args)).ok()?;
        Ok(())
    });
    process.exit();
    result
}

#[test]
fn sweep_over_a_memory_cycle_is_clean() {
    let report = d3dkmt_emu::Sweep::new().every_entry_point().run(memory_cycle);
    report.assert_clean();
    let entries: Vec<d3dkmt_emu::Entry> = report.points.iter().map(|p| p.entry).collect();
    for entry in [
        d3dkmt_emu::Entry::D3DKMTReserveGpuVirtualAddress,
        d3dkmt_emu::Entry::D3DKMTMapGpuVirtualAddress,
        d3dkmt_emu::Entry::D3DKMTMakeResident,
        d3dkmt_emu::Entry::D3DKMTLock2,
        d3dkmt_emu::Entry::D3DKMTInvalidateCache,
        d3dkmt_emu::Entry::D3DKMTOfferAllocations,
    ] {
        assert!(entries.contains(&entry), "{entry:?} is a sweep point: {entries:?}");
    }
    for run in &report.runs {
        assert!(run.leaks.is_clean(), "{}", run.leaks);
    }
}
