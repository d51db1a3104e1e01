//! Conformance scenarios and raw calls: GPU virtual addresses, residency,
//! offers, priorities, `Lock2`/`Unlock2` and video memory reservations
//! (`crate::gpu_va`, `crate::residency`). The rows are in
//! `fixtures/conformance/memory.tsv`. ros-parity.tsv has no rows for these
//! entry points; their NULL/zeroed/0xA5 statuses are the documented
//! `STATUS_INVALID_PARAMETER` for bad parameters.

use core::ffi::c_void;

use windows_sys::Wdk::Graphics::Direct3D::*;

use super::{JUNK, Scenario};
use crate::NtStatus;
use crate::abi::exports::{
    D3DKMTChangeVideoMemoryReservation, D3DKMTCreateAllocation2, D3DKMTCreatePagingQueue, D3DKMTEvict,
    D3DKMTFreeGpuVirtualAddress, D3DKMTGetAllocationPriority, D3DKMTInvalidateCache, D3DKMTLock2, D3DKMTMakeResident,
    D3DKMTMapGpuVirtualAddress, D3DKMTOfferAllocations, D3DKMTQueryAllocationResidency, D3DKMTQueryVideoMemoryInfo,
    D3DKMTReclaimAllocations2, D3DKMTReserveGpuVirtualAddress, D3DKMTSetAllocationPriority, D3DKMTUnlock2,
    D3DKMTUpdateAllocationProperty, D3DKMTUpdateGpuVirtualAddress,
};

/// A paging queue on `device`: (queue, paging fence).
fn paging_queue(device: u32) -> (u32, u32) {
    let mut args = D3DKMT_CREATEPAGINGQUEUE { hDevice: device, ..Default::default() };
    NtStatus(D3DKMTCreatePagingQueue(&mut args)).unwrap();
    (args.hPagingQueue, args.hSyncObject)
}

/// A one-page allocation on `device` over `memory` (leaked: the rows run
/// once per process).
fn allocation(device: u32) -> u32 {
    let memory: &'static mut [u8] = Box::leak(vec![0u8; 0x1000].into_boxed_slice());
    let mut standard =
        D3DKMT_CREATESTANDARDALLOCATION { Type: D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP, ..Default::default() };
    standard.Anonymous.ExistingHeapData.Size = memory.len();
    let mut info = D3DDDI_ALLOCATIONINFO2::default();
    info.Anonymous1.pSystemMem = memory.as_mut_ptr().cast();
    let mut args = D3DKMT_CREATEALLOCATION { hDevice: device, NumAllocations: 1, ..Default::default() };
    args.Anonymous1.pStandardAllocation = &mut standard;
    args.Anonymous2.pAllocationInfo2 = &mut info;
    args.Flags._bitfield = 1 << 16 | 1 << 5;
    NtStatus(D3DKMTCreateAllocation2(&mut args)).unwrap();
    info.hAllocation
}

fn reserve(owner: u32, base: u64, size: u64) -> D3DDDI_RESERVEGPUVIRTUALADDRESS {
    let mut args = D3DDDI_RESERVEGPUVIRTUALADDRESS {
        BaseAddress: base,
        Size: size,
        VirtualAddress: JUNK as u64,
        ..Default::default()
    };
    args.Anonymous1.hAdapter = owner;
    args
}

fn map_args(queue: u32, base: u64, allocation: u32, pages: u64) -> D3DDDI_MAPGPUVIRTUALADDRESS {
    D3DDDI_MAPGPUVIRTUALADDRESS {
        hPagingQueue: queue,
        BaseAddress: base,
        hAllocation: allocation,
        SizeInPages: pages,
        VirtualAddress: JUNK as u64,
        PagingFenceValue: JUNK as u64,
        ..Default::default()
    }
}

/// The scenario called `name`, if this area has it.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "memory_reserve_overlap" => |ctx, c| {
            let adapter = ctx.adapter();
            let mut first = reserve(adapter, 0, 0x2_0000);
            c.that(NtStatus(D3DKMTReserveGpuVirtualAddress(&mut first)).is_ok(), "first reserve failed");
            let mut overlap = reserve(adapter, first.VirtualAddress + 0x1_0000, 0x1_0000);
            let status = NtStatus(D3DKMTReserveGpuVirtualAddress(&mut overlap));
            c.that(overlap.VirtualAddress == JUNK as u64, "VirtualAddress written on failure");
            status
        },
        "memory_reserve_unaligned_size" => |ctx, c| {
            let mut args = reserve(ctx.adapter(), 0, 0x1000);
            let status = NtStatus(D3DKMTReserveGpuVirtualAddress(&mut args));
            c.that(args.VirtualAddress == JUNK as u64, "VirtualAddress written on failure");
            status
        },
        "memory_map_past_allocation" => |ctx, c| {
            let adapter = ctx.adapter();
            let device = ctx.device();
            let (queue, _) = paging_queue(device);
            let alloc = allocation(device);
            let mut r = reserve(adapter, 0, 0x1_0000);
            NtStatus(D3DKMTReserveGpuVirtualAddress(&mut r)).unwrap();
            let mut args = map_args(queue, r.VirtualAddress, alloc, 2);
            let status = NtStatus(D3DKMTMapGpuVirtualAddress(&mut args));
            c.that(args.PagingFenceValue == JUNK as u64, "PagingFenceValue written on failure");
            status
        },
        "memory_map_paging_fence_advances" => |ctx, c| {
            let adapter = ctx.adapter();
            let device = ctx.device();
            let (queue, fence) = paging_queue(device);
            let alloc = allocation(device);
            let mut r = reserve(adapter, 0, 0x1_0000);
            NtStatus(D3DKMTReserveGpuVirtualAddress(&mut r)).unwrap();
            let mut first = map_args(queue, r.VirtualAddress, alloc, 1);
            c.that(NtStatus(D3DKMTMapGpuVirtualAddress(&mut first)).is_ok(), "first map failed");
            let mut second = map_args(queue, r.VirtualAddress + 0x1000, alloc, 1);
            let status = NtStatus(D3DKMTMapGpuVirtualAddress(&mut second));
            c.that((first.PagingFenceValue, second.PagingFenceValue) == (1, 2), "paging fence values not 1, 2");
            c.that(ctx.a.fence_value(crate::LocalHandle(fence)) == Ok(2), "the paging fence is not at 2");
            status
        },
        "memory_free_twice" => |ctx, c| {
            let adapter = ctx.adapter();
            let mut r = reserve(adapter, 0, 0x1_0000);
            NtStatus(D3DKMTReserveGpuVirtualAddress(&mut r)).unwrap();
            let free =
                D3DKMT_FREEGPUVIRTUALADDRESS { hAdapter: adapter, BaseAddress: r.VirtualAddress, Size: 0x1_0000 };
            c.that(NtStatus(D3DKMTFreeGpuVirtualAddress(&free)).is_ok(), "first free failed");
            NtStatus(D3DKMTFreeGpuVirtualAddress(&free))
        },
        "memory_evict_not_resident" => |ctx, _| {
            let device = ctx.device();
            let alloc = allocation(device);
            let mut args =
                D3DKMT_EVICT { hDevice: device, NumAllocations: 1, AllocationList: &alloc, ..Default::default() };
            NtStatus(D3DKMTEvict(&mut args))
        },
        "memory_resident_usage_within_budget" => |ctx, c| {
            let adapter = ctx.adapter();
            let device = ctx.device();
            let (queue, _) = paging_queue(device);
            let alloc = allocation(device);
            let mut args = D3DDDI_MAKERESIDENT {
                hPagingQueue: queue,
                NumAllocations: 1,
                AllocationList: &alloc,
                ..Default::default()
            };
            let status = NtStatus(D3DKMTMakeResident(&mut args));
            let mut info = D3DKMT_QUERYVIDEOMEMORYINFO {
                hAdapter: adapter,
                MemorySegmentGroup: D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL,
                ..Default::default()
            };
            NtStatus(D3DKMTQueryVideoMemoryInfo(&mut info)).unwrap();
            c.that(
                info.CurrentUsage == 0x1000,
                format!("CurrentUsage {:#x}, not the resident page", info.CurrentUsage),
            );
            c.that(info.CurrentUsage <= info.Budget, "CurrentUsage above Budget (WINE #26)");
            c.that(info.CurrentReservation == 0, "CurrentReservation not 0 (WINE #26)");
            status
        },
        "memory_unlock_unlocked" => |ctx, _| {
            let device = ctx.device();
            let alloc = allocation(device);
            NtStatus(D3DKMTUnlock2(&D3DKMT_UNLOCK2 { hDevice: device, hAllocation: alloc }))
        },
        "memory_lock_gives_system_memory" => |ctx, c| {
            let device = ctx.device();
            let alloc = allocation(device);
            let mut lock = D3DKMT_LOCK2 { hDevice: device, hAllocation: alloc, ..Default::default() };
            let status = NtStatus(D3DKMTLock2(&mut lock));
            c.that(!lock.pData.is_null(), "pData is NULL");
            status
        },
        "memory_reclaim_not_offered" => |ctx, c| {
            let device = ctx.device();
            let (queue, _) = paging_queue(device);
            let alloc = allocation(device);
            let mut args = D3DKMT_RECLAIMALLOCATIONS2 {
                hPagingQueue: queue,
                NumAllocations: 1,
                HandleList: &alloc,
                PagingFenceValue: JUNK as u64,
                ..Default::default()
            };
            let status = NtStatus(D3DKMTReclaimAllocations2(&mut args));
            c.that(args.PagingFenceValue == JUNK as u64, "PagingFenceValue written on failure");
            status
        },
        "memory_reservation_over_available" => |ctx, _| {
            let args = D3DKMT_CHANGEVIDEOMEMORYRESERVATION {
                hAdapter: ctx.adapter(),
                Reservation: u64::MAX,
                ..Default::default()
            };
            NtStatus(D3DKMTChangeVideoMemoryReservation(&args))
        },
        "memory_invalidate_cache_counts" => |ctx, c| {
            let device = ctx.device();
            let alloc = allocation(device);
            let args = D3DKMT_INVALIDATECACHE { hDevice: device, hAllocation: alloc, Offset: 0x800, Length: 0x800 };
            let status = NtStatus(D3DKMTInvalidateCache(&args));
            let info = ctx.a.allocation_memory(crate::LocalHandle(alloc));
            c.that(info.is_ok_and(|i| i.invalidations == 1), "the invalidation was not counted");
            status
        },
        "memory_invalidate_cache_past_end" => |ctx, c| {
            let device = ctx.device();
            let alloc = allocation(device);
            let args = D3DKMT_INVALIDATECACHE { hDevice: device, hAllocation: alloc, Offset: 0x800, Length: 0x801 };
            let status = NtStatus(D3DKMTInvalidateCache(&args));
            let info = ctx.a.allocation_memory(crate::LocalHandle(alloc));
            c.that(info.is_ok_and(|i| i.invalidations == 0), "a refused invalidation was counted");
            status
        },
        "memory_invalidate_cache_overflow" => |ctx, _| {
            let device = ctx.device();
            let alloc = allocation(device);
            let args = D3DKMT_INVALIDATECACHE { hDevice: device, hAllocation: alloc, Offset: usize::MAX, Length: 2 };
            NtStatus(D3DKMTInvalidateCache(&args))
        },
        "memory_invalidate_cache_other_device" => |ctx, _| {
            let device = ctx.device();
            let other = ctx.device();
            let alloc = allocation(device);
            let args = D3DKMT_INVALIDATECACHE { hDevice: other, hAllocation: alloc, Offset: 0, Length: 0x1000 };
            NtStatus(D3DKMTInvalidateCache(&args))
        },
        "memory_invalidate_cache_lost_device" => |ctx, _| {
            let device = ctx.device();
            let alloc = allocation(device);
            let loss = crate::DeviceLoss::Hung;
            ctx.kernel.remove_device(ctx.a.id(), crate::LocalHandle(device), loss).unwrap();
            let args = D3DKMT_INVALIDATECACHE { hDevice: device, hAllocation: alloc, Offset: 0, Length: 0x1000 };
            NtStatus(D3DKMTInvalidateCache(&args))
        },
        _ => return None,
    })
}

/// Calls `entry` with the raw argument `p` (NULL or a 1024-byte buffer).
pub(super) fn raw_call(entry: &str, p: *mut c_void) -> Option<i32> {
    Some(match entry {
        "D3DKMTReserveGpuVirtualAddress" => D3DKMTReserveGpuVirtualAddress(p.cast()),
        "D3DKMTMapGpuVirtualAddress" => D3DKMTMapGpuVirtualAddress(p.cast()),
        "D3DKMTFreeGpuVirtualAddress" => D3DKMTFreeGpuVirtualAddress(p.cast()),
        "D3DKMTUpdateGpuVirtualAddress" => D3DKMTUpdateGpuVirtualAddress(p.cast()),
        "D3DKMTMakeResident" => D3DKMTMakeResident(p.cast()),
        "D3DKMTEvict" => D3DKMTEvict(p.cast()),
        "D3DKMTQueryAllocationResidency" => D3DKMTQueryAllocationResidency(p.cast()),
        "D3DKMTSetAllocationPriority" => D3DKMTSetAllocationPriority(p.cast()),
        "D3DKMTGetAllocationPriority" => D3DKMTGetAllocationPriority(p.cast()),
        "D3DKMTOfferAllocations" => D3DKMTOfferAllocations(p.cast()),
        "D3DKMTReclaimAllocations2" => D3DKMTReclaimAllocations2(p.cast()),
        "D3DKMTUpdateAllocationProperty" => D3DKMTUpdateAllocationProperty(p.cast()),
        "D3DKMTLock2" => D3DKMTLock2(p.cast()),
        "D3DKMTUnlock2" => D3DKMTUnlock2(p.cast()),
        "D3DKMTChangeVideoMemoryReservation" => D3DKMTChangeVideoMemoryReservation(p.cast()),
        "D3DKMTInvalidateCache" => D3DKMTInvalidateCache(p.cast()),
        _ => return None,
    })
}
