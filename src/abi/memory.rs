//! GPU memory exports: GPU virtual addresses, residency, offers,
//! priorities, allocation properties, `Lock2`/`Unlock2` and video memory
//! reservations. The semantics are in `crate::gpu_va` and
//! `crate::residency`.
//!
//! Each export decodes everything first (NULL, counts, the arrays), calls
//! the core, and writes its outputs last, so a failed call leaves the
//! caller's struct and arrays untouched. No struct here carries WCHAR text,
//! so the libdxg (Linux) layout is the Windows one.

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MAKERESIDENT, D3DDDI_MAPGPUVIRTUALADDRESS, D3DDDI_RESERVEGPUVIRTUALADDRESS, D3DDDI_UPDATEALLOCPROPERTY,
    D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY, D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP,
    D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT, D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION,
    D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP, D3DKMT_CHANGEVIDEOMEMORYRESERVATION, D3DKMT_EVICT,
    D3DKMT_FREEGPUVIRTUALADDRESS, D3DKMT_GETALLOCATIONPRIORITY, D3DKMT_INVALIDATECACHE, D3DKMT_LOCK2,
    D3DKMT_OFFERALLOCATIONS, D3DKMT_QUERYALLOCATIONRESIDENCY, D3DKMT_RECLAIMALLOCATIONS2, D3DKMT_SETALLOCATIONPRIORITY,
    D3DKMT_UNLOCK2, D3DKMT_UPDATEGPUVIRTUALADDRESS,
};

use super::{export, ptr, required, required_ref};
use crate::adapter::MemoryGroup;
use crate::error::{KResult, KernelError};
use crate::gpu_va::{MapRequest, VaOperation};
use crate::handle::LocalHandle;

/// The most allocations (or resources) one call lists, and the most
/// operations one `UpdateGpuVirtualAddress` carries: our bound (Windows has
/// one, undocumented). More is `STATUS_INVALID_PARAMETER`, checked before
/// any array is read.
pub const MAX_LIST: u32 = 0x1_0000;

/// The current-process pseudo-handle, `(HANDLE)-1`.
const CURRENT_PROCESS: usize = usize::MAX;

fn invalid(why: &'static str) -> KernelError {
    KernelError::InvalidParameter(why)
}

/// Reads a list of `count` (at most [`MAX_LIST`]) handles; a NULL list with
/// a nonzero count is `STATUS_INVALID_PARAMETER`.
fn handles(p: *const u32, count: u32, what: &'static str) -> KResult<Vec<LocalHandle>> {
    if count > MAX_LIST {
        return Err(invalid("too many handles listed"));
    }
    let list = ptr::read_array(p, count as usize).ok_or(invalid(what))?;
    Ok(list.into_iter().map(LocalHandle).collect())
}

/// How many entries a (resource, list) call answers: one for a resource,
/// else the list's length.
fn answers(resource: u32, count: u32) -> usize {
    if resource != 0 { 1 } else { count as usize }
}

export! {
    /// `D3DKMTReserveGpuVirtualAddress`: see [`crate::Process::reserve_gpu_va`].
    /// The union names an adapter handle or a paging queue; writes
    /// `VirtualAddress`. `ReservationType` and `DriverProtection` are kept
    /// nowhere (every reservation is no-access until mapped).
    D3DKMTReserveGpuVirtualAddress(args: *mut D3DDDI_RESERVEGPUVIRTUALADDRESS) as PFND3DKMT_RESERVEGPUVIRTUALADDRESS, |process| {
        let args = required(args)?;
        let owner: u32 = ptr::read_prefix(&args.Anonymous1);
        let kind: i32 = ptr::read_prefix(&args.Anonymous2);
        if !(0..=2).contains(&kind) {
            return Err(invalid("ReservationType is not a D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE"));
        }
        let va = process.reserve_gpu_va(LocalHandle(owner), args.BaseAddress, args.MinimumAddress,
            args.MaximumAddress, args.Size)?;
        args.VirtualAddress = va;
        Ok(())
    }
}

export! {
    /// `D3DKMTMapGpuVirtualAddress`: see [`crate::Process::map_gpu_va`].
    /// Writes `VirtualAddress` and `PagingFenceValue`.
    D3DKMTMapGpuVirtualAddress(args: *mut D3DDDI_MAPGPUVIRTUALADDRESS) as PFND3DKMT_MAPGPUVIRTUALADDRESS, |process| {
        let args = required(args)?;
        let req = MapRequest {
            base: args.BaseAddress,
            min: args.MinimumAddress,
            max: args.MaximumAddress,
            allocation: LocalHandle(args.hAllocation),
            offset_pages: args.OffsetInPages,
            size_pages: args.SizeInPages,
            protection: ptr::read_prefix(&args.Protection),
        };
        let (va, fence) = process.map_gpu_va(LocalHandle(args.hPagingQueue), &req)?;
        args.VirtualAddress = va;
        args.PagingFenceValue = fence;
        Ok(())
    }
}

export! {
    /// `D3DKMTFreeGpuVirtualAddress`: see [`crate::Process::free_gpu_va`].
    D3DKMTFreeGpuVirtualAddress(args: *const D3DKMT_FREEGPUVIRTUALADDRESS) as PFND3DKMT_FREEGPUVIRTUALADDRESS, |process| {
        let a = required_ref(args)?;
        process.free_gpu_va(LocalHandle(a.hAdapter), a.BaseAddress, a.Size)
    }
}

/// Decodes one `UpdateGpuVirtualAddress` operation. A map's
/// `AllocationSizeInBytes` must be 0 or `SizeInBytes` (no tiling here).
fn operation(op: &D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION) -> KResult<VaOperation> {
    let u = &op.Anonymous;
    let at = |offset: usize| -> u64 { ptr::read_at(u, offset) };
    match op.OperationType {
        D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP | D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT => {
            let size = at(8);
            let alloc_size = at(32);
            if alloc_size != 0 && alloc_size != size {
                return Err(invalid("AllocationSizeInBytes is neither 0 nor SizeInBytes"));
            }
            let protection = if op.OperationType == D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT {
                at(40)
            } else {
                crate::gpu_va::protection::WRITE
            };
            Ok(VaOperation::Map {
                base: at(0),
                size,
                allocation: LocalHandle(ptr::read_at(u, 16)),
                offset: at(24),
                protection,
            })
        }
        D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP => Ok(VaOperation::Unmap { base: at(0), size: at(8) }),
        D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY => Ok(VaOperation::Copy { source: at(0), size: at(8), dest: at(16) }),
        _ => Err(invalid("unknown OperationType")),
    }
}

export! {
    /// `D3DKMTUpdateGpuVirtualAddress`: see [`crate::Process::update_gpu_va`].
    /// `NumOperations` must be 1 to [`MAX_LIST`].
    D3DKMTUpdateGpuVirtualAddress(args: *const D3DKMT_UPDATEGPUVIRTUALADDRESS) as PFND3DKMT_UPDATEGPUVIRTUALADDRESS, |process| {
        let a = required_ref(args)?;
        if a.NumOperations == 0 || a.NumOperations > MAX_LIST {
            return Err(invalid("NumOperations must be 1 to 65536"));
        }
        let raw = ptr::read_array(a.Operations.cast_const(), a.NumOperations as usize)
            .ok_or(invalid("NULL Operations"))?;
        let ops = raw.iter().map(operation).collect::<KResult<Vec<_>>>()?;
        process.update_gpu_va(LocalHandle(a.hDevice), LocalHandle(a.hContext), LocalHandle(a.hFenceObject), &ops,
            a.FenceValue)
    }
}

export! {
    /// `D3DKMTMakeResident`: see [`crate::Process::make_resident`]. Writes
    /// `PagingFenceValue` and `NumBytesToTrim` (0). `PriorityList` is not read.
    D3DKMTMakeResident(args: *mut D3DDDI_MAKERESIDENT) as PFND3DKMT_MAKERESIDENT, |process| {
        let args = required(args)?;
        let list = handles(args.AllocationList, args.NumAllocations, "NULL AllocationList")?;
        let fence = process.make_resident(LocalHandle(args.hPagingQueue), &list)?;
        args.PagingFenceValue = fence;
        args.NumBytesToTrim = 0;
        Ok(())
    }
}

export! {
    /// `D3DKMTEvict`: see [`crate::Process::evict`]. Writes `NumBytesToTrim` (0).
    D3DKMTEvict(args: *mut D3DKMT_EVICT) as PFND3DKMT_EVICT, |process| {
        let args = required(args)?;
        let list = handles(args.AllocationList, args.NumAllocations, "NULL AllocationList")?;
        process.evict(LocalHandle(args.hDevice), &list)?;
        args.NumBytesToTrim = 0;
        Ok(())
    }
}

export! {
    /// `D3DKMTQueryAllocationResidency`: see
    /// [`crate::Process::query_allocation_residency`]; one status per listed
    /// allocation, or one for `hResource`, written to `pResidencyStatus`.
    D3DKMTQueryAllocationResidency(args: *const D3DKMT_QUERYALLOCATIONRESIDENCY) as PFND3DKMT_QUERYALLOCATIONRESIDENCY, |process| {
        let a = required_ref(args)?;
        let list = handles(a.phAllocationList, a.AllocationCount, "NULL phAllocationList")?;
        if a.pResidencyStatus.is_null() {
            return Err(invalid("NULL pResidencyStatus"));
        }
        let status = process.query_allocation_residency(LocalHandle(a.hDevice), a.hResource, &list)?;
        debug_assert_eq!(status.len(), answers(a.hResource, a.AllocationCount));
        ptr::write_array(a.pResidencyStatus, &status);
        Ok(())
    }
}

export! {
    /// `D3DKMTSetAllocationPriority`: see [`crate::Process::set_allocation_priority`].
    D3DKMTSetAllocationPriority(args: *const D3DKMT_SETALLOCATIONPRIORITY) as PFND3DKMT_SETALLOCATIONPRIORITY, |process| {
        let a = required_ref(args)?;
        let list = handles(a.phAllocationList, a.AllocationCount, "NULL phAllocationList")?;
        let priorities = ptr::read_array(a.pPriorities, answers(a.hResource, a.AllocationCount))
            .ok_or(invalid("NULL pPriorities"))?;
        process.set_allocation_priority(LocalHandle(a.hDevice), a.hResource, &list, &priorities)
    }
}

export! {
    /// `D3DKMTGetAllocationPriority`: see [`crate::Process::get_allocation_priority`].
    D3DKMTGetAllocationPriority(args: *const D3DKMT_GETALLOCATIONPRIORITY) as PFND3DKMT_GETALLOCATIONPRIORITY, |process| {
        let a = required_ref(args)?;
        let list = handles(a.phAllocationList, a.AllocationCount, "NULL phAllocationList")?;
        if a.pPriorities.is_null() {
            return Err(invalid("NULL pPriorities"));
        }
        let priorities = process.get_allocation_priority(LocalHandle(a.hDevice), a.hResource, &list)?;
        ptr::write_array(a.pPriorities, &priorities);
        Ok(())
    }
}

/// The (resources, allocations) lists of an offer or reclaim: `count`
/// entries of whichever array is given (not both).
fn offer_lists(
    resources: *const u32,
    allocations: *const u32,
    count: u32,
) -> KResult<(Vec<LocalHandle>, Vec<LocalHandle>)> {
    match (resources.is_null(), allocations.is_null()) {
        (false, true) => Ok((handles(resources, count, "NULL pResources")?, Vec::new())),
        (true, false) => Ok((Vec::new(), handles(allocations, count, "NULL HandleList")?)),
        _ => Err(invalid("give exactly one of pResources and HandleList")),
    }
}

export! {
    /// `D3DKMTOfferAllocations`: see [`crate::Process::offer_allocations`].
    /// `Flags` (timing hints) change nothing.
    D3DKMTOfferAllocations(args: *const D3DKMT_OFFERALLOCATIONS) as PFND3DKMT_OFFERALLOCATIONS, |process| {
        let a = required_ref(args)?;
        let (resources, allocations) = offer_lists(a.pResources.cast_const(), a.HandleList, a.NumAllocations)?;
        process.offer_allocations(LocalHandle(a.hDevice), &resources, &allocations, a.Priority)
    }
}

export! {
    /// `D3DKMTReclaimAllocations2`: see [`crate::Process::reclaim_allocations`].
    /// Writes one `D3DDDI_RECLAIM_RESULT` per allocation to `pResults` (when
    /// not NULL) and `PagingFenceValue`.
    D3DKMTReclaimAllocations2(args: *mut D3DKMT_RECLAIMALLOCATIONS2) as PFND3DKMT_RECLAIMALLOCATIONS2, |process| {
        let args = required(args)?;
        let (resources, allocations) =
            offer_lists(args.pResources.cast_const(), args.HandleList, args.NumAllocations)?;
        let results_ptr = ptr::read_prefix::<_, usize>(&args.Anonymous) as *mut i32;
        let (results, fence) = process.reclaim_allocations(LocalHandle(args.hPagingQueue), &resources, &allocations)?;
        if !results_ptr.is_null() {
            ptr::write_array(results_ptr, &results);
        }
        args.PagingFenceValue = fence;
        Ok(())
    }
}

export! {
    /// `D3DKMTUpdateAllocationProperty`: see
    /// [`crate::Process::update_allocation_property`]. Writes `PagingFenceValue`.
    D3DKMTUpdateAllocationProperty(args: *mut D3DDDI_UPDATEALLOCPROPERTY) as PFND3DKMT_UPDATEALLOCATIONPROPERTY, |process| {
        let args = required(args)?;
        let fence = process.update_allocation_property(LocalHandle(args.hPagingQueue), LocalHandle(args.hAllocation),
            args.SupportedSegmentSet)?;
        args.PagingFenceValue = fence;
        Ok(())
    }
}

export! {
    /// `D3DKMTLock2`: see [`crate::Process::lock2`]. Writes `pData`.
    D3DKMTLock2(args: *mut D3DKMT_LOCK2) as PFND3DKMT_LOCK2, |process| {
        let args = required(args)?;
        let p = process.lock2(LocalHandle(args.hDevice), LocalHandle(args.hAllocation))?;
        args.pData = p.cast();
        Ok(())
    }
}

export! {
    /// `D3DKMTUnlock2`: see [`crate::Process::unlock2`].
    D3DKMTUnlock2(args: *const D3DKMT_UNLOCK2) as PFND3DKMT_UNLOCK2, |process| {
        let a = required_ref(args)?;
        process.unlock2(LocalHandle(a.hDevice), LocalHandle(a.hAllocation))
    }
}

export! {
    /// `D3DKMTInvalidateCache`: see [`crate::Process::invalidate_cache`].
    /// Writes nothing.
    D3DKMTInvalidateCache(args: *const D3DKMT_INVALIDATECACHE) as PFND3DKMT_INVALIDATECACHE, |process| {
        let a = required_ref(args)?;
        process.invalidate_cache(LocalHandle(a.hDevice), LocalHandle(a.hAllocation), a.Offset as u64, a.Length as u64)
    }
}

export! {
    /// `D3DKMTChangeVideoMemoryReservation`: see
    /// [`crate::Process::change_video_memory_reservation`]. `hProcess` must
    /// be NULL or the current-process pseudo-handle (as for
    /// `QueryVideoMemoryInfo`, WINE #27), else `STATUS_INVALID_HANDLE`.
    D3DKMTChangeVideoMemoryReservation(args: *const D3DKMT_CHANGEVIDEOMEMORYRESERVATION) as PFND3DKMT_CHANGEVIDEOMEMORYRESERVATION, |process| {
        let a = required_ref(args)?;
        let h = a.hProcess as usize;
        if h != 0 && h != CURRENT_PROCESS {
            return Err(KernelError::BadNtHandle(h as u64));
        }
        let group = MemoryGroup::from_raw(a.MemorySegmentGroup)?;
        process.change_video_memory_reservation(LocalHandle(a.hAdapter), a.PhysicalAdapterIndex, group, a.Reservation)
    }
}

// The x86_64 sizes `include/d3dkmt_emu.h` asserts, checked against windows-sys.
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<D3DDDI_RESERVEGPUVIRTUALADDRESS>() == 72);
    assert!(size_of::<D3DDDI_MAPGPUVIRTUALADDRESS>() == 104);
    assert!(size_of::<D3DKMT_FREEGPUVIRTUALADDRESS>() == 24);
    assert!(size_of::<D3DKMT_UPDATEGPUVIRTUALADDRESS>() == 56);
    assert!(size_of::<D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION>() == 64);
    assert!(size_of::<D3DDDI_MAKERESIDENT>() == 48);
    assert!(size_of::<D3DKMT_EVICT>() == 32);
    assert!(size_of::<D3DKMT_LOCK2>() == 24);
    assert!(size_of::<D3DKMT_UNLOCK2>() == 8);
    assert!(size_of::<D3DKMT_INVALIDATECACHE>() == 24);
    assert!(size_of::<D3DKMT_OFFERALLOCATIONS>() == 40);
    assert!(size_of::<D3DKMT_RECLAIMALLOCATIONS2>() == 40);
    assert!(size_of::<D3DKMT_QUERYALLOCATIONRESIDENCY>() == 32);
    assert!(size_of::<D3DKMT_SETALLOCATIONPRIORITY>() == 32);
    assert!(size_of::<D3DKMT_GETALLOCATIONPRIORITY>() == 32);
    assert!(size_of::<D3DKMT_CHANGEVIDEOMEMORYRESERVATION>() == 32);
    assert!(size_of::<D3DDDI_UPDATEALLOCPROPERTY>() == 40);
};
