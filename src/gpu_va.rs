//! GPU virtual address space: `D3DKMTReserveGpuVirtualAddress`,
//! `D3DKMTMapGpuVirtualAddress`, `D3DKMTUpdateGpuVirtualAddress` and
//! `D3DKMTFreeGpuVirtualAddress`.
//!
//! What Windows does, and what we do:
//! - Under WDDM 2 each process has one GPU virtual address space per
//!   adapter, shared by all its devices on that adapter. We keep one
//!   [`VaSpace`] per (process, adapter index) in the process state. A space
//!   spans [`SPACE_START`]..[`SPACE_END`] (our bound: above 4 GiB, below the
//!   addresses our monitored fences get); Windows' range is the driver's.
//! - A **reservation** takes a range of the space: `Size` a nonzero multiple
//!   of 64 KiB, and either a 64 KiB-aligned `BaseAddress` (then
//!   `MinimumAddress`/`MaximumAddress` are ignored) or the lowest free
//!   64 KiB-aligned range in `[MinimumAddress, MaximumAddress)` (0 means the
//!   space's bound). A fixed base overlapping another reservation gets the
//!   [`crate::GpuPolicies::gpu_va_conflict`] status (default
//!   `STATUS_INVALID_PARAMETER`); one outside the space is
//!   `STATUS_INVALID_PARAMETER`; no free range is
//!   `STATUS_NO_MEMORY`. The owner named by the call's union is an adapter
//!   handle (the `D3DKMT` form) or a paging queue (the UMD-callback form); a
//!   reservation made through a paging queue belongs to its device.
//! - A **mapping** puts `SizeInPages` 4 KiB pages of an allocation, from
//!   `OffsetInPages`, at a VA; the pages must lie inside the allocation
//!   (else `STATUS_INVALID_PARAMETER`), and the allocation must belong to
//!   the paging queue's device. With `BaseAddress` 0 a new reservation is
//!   made for it (size rounded up to 64 KiB, belonging to the device); with
//!   a base the range must be page-aligned and lie inside one reservation.
//!   Mapping over mapped pages replaces them (as Windows documents for
//!   `UpdateGpuVirtualAddress`). `Protection` may carry `Write`, `Execute`,
//!   `Zero`, `NoAccess`; a mapping without an allocation needs `Zero` or
//!   `NoAccess`. Each map is a paging operation: the paging queue's fence
//!   advances by one and the call returns that value as `PagingFenceValue`.
//!   The fake GPU runs paging operations at once, so the fence has already
//!   reached the value when the call returns (`STATUS_SUCCESS`, never
//!   `STATUS_PENDING`).
//! - `UpdateGpuVirtualAddress` applies map, map-protect, unmap and copy
//!   operations all or nothing (checked first), then queues a signal of
//!   `hFenceObject` to `FenceValue` on the context's fake-GPU queue, so the
//!   fence moves once the context's earlier work has run. (Windows applies
//!   the operations in queue order too; ours take effect at the call.)
//! - **Free** names exactly one reservation (its base and size); anything
//!   else is `STATUS_INVALID_PARAMETER`. Its mappings go with it.
//! - Destroying an allocation handle unmaps the mappings made through it;
//!   their range stays reserved. Destroying a device frees its reservations
//!   (those made through its paging queues, or by a map with base 0) and the
//!   mappings of its allocations (before its other children go, see
//!   `crate::device`). A reservation made with an adapter handle belongs to
//!   the process's space, not to a device: it lives until freed or until
//!   the process exits, which drops every space (after the process lock is
//!   released, before the handles' objects go).
//! - A lost device (removal, TDR) refuses maps, residency changes and
//!   reclaims through its paging queues with `STATUS_DEVICE_REMOVED`, as
//!   every create does (`crate::removal`); frees and evictions still work.
//!
//! Ownership: a space holds no reference to any object. A mapping names its
//! allocation by handle (and size, checked at map time), so no allocation
//! is dropped under the process lock; destroying the handle unmaps it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::NtStatus;
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::process::{LocalEntry, Process, ProcessState};
use crate::sync_object::SyncObject;

/// Lowest address a space hands out: 4 GiB.
pub const SPACE_START: u64 = 0x1_0000_0000;
/// End (exclusive) of a space: where the fake fence addresses begin.
pub const SPACE_END: u64 = 0x0000_7F00_0000_0000;
/// Reservation granularity: 64 KiB.
pub const VA_GRANULARITY: u64 = 0x1_0000;
/// Mapping granularity: one 4 KiB page.
pub const PAGE: u64 = 0x1000;

/// `D3DDDIGPUVIRTUALADDRESS_PROTECTION_TYPE` bits.
pub mod protection {
    /// `Write`.
    pub const WRITE: u64 = 1;
    /// `Execute`.
    pub const EXECUTE: u64 = 2;
    /// `Zero`: reads return zero.
    pub const ZERO: u64 = 4;
    /// `NoAccess`.
    pub const NO_ACCESS: u64 = 8;
    /// Every bit we accept.
    pub const ALL: u64 = WRITE | EXECUTE | ZERO | NO_ACCESS;
}

struct Reserved {
    end: u64,
    /// The device it was made through (a paging queue's), if any.
    device: Option<u32>,
}

/// One mapped range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First VA.
    pub base: u64,
    /// Bytes mapped.
    pub size: u64,
    /// The allocation handle mapped (0 for a `Zero`/`NoAccess` mapping).
    pub allocation: LocalHandle,
    /// Offset in the allocation, in bytes.
    pub offset: u64,
    /// The protection bits.
    pub protection: u64,
    device: u32,
}

/// One process's GPU VA space on one adapter.
#[derive(Default)]
pub(crate) struct VaSpace {
    reserved: BTreeMap<u64, Reserved>,
    mapped: BTreeMap<u64, Mapping>,
}

impl Clone for Reserved {
    fn clone(&self) -> Reserved {
        Reserved { end: self.end, device: self.device }
    }
}

impl Clone for VaSpace {
    fn clone(&self) -> VaSpace {
        VaSpace { reserved: self.reserved.clone(), mapped: self.mapped.clone() }
    }
}

fn invalid(why: &'static str) -> KernelError {
    KernelError::InvalidParameter(why)
}

fn align_up(v: u64, a: u64) -> Option<u64> {
    v.checked_add(a - 1).map(|x| x & !(a - 1))
}

impl VaSpace {
    /// The reservation containing `[start, end)`, as its base.
    fn containing(&self, start: u64, end: u64) -> Option<u64> {
        let (&base, r) = self.reserved.range(..=start).next_back()?;
        (r.end >= end).then_some(base)
    }

    fn overlaps_reserved(&self, start: u64, end: u64) -> bool {
        self.reserved.range(..end).next_back().is_some_and(|(_, r)| r.end > start)
    }

    /// The lowest free 64 KiB-aligned range of `size` in `[min, max)`.
    fn find_free(&self, min: u64, max: u64, size: u64) -> Option<u64> {
        let hi = if max == 0 { SPACE_END } else { max.min(SPACE_END) };
        let mut lo = align_up(min.max(SPACE_START), VA_GRANULARITY)?;
        for (&base, r) in self.reserved.range(..) {
            if r.end <= lo {
                continue;
            }
            if base >= lo.checked_add(size)? {
                break;
            }
            lo = align_up(r.end, VA_GRANULARITY)?;
        }
        (lo.checked_add(size)? <= hi).then_some(lo)
    }

    /// Reserves a range; returns its base.
    fn reserve(
        &mut self,
        base: u64,
        min: u64,
        max: u64,
        size: u64,
        device: Option<u32>,
        conflict: NtStatus,
    ) -> KResult<u64> {
        if size == 0 || size % VA_GRANULARITY != 0 {
            return Err(invalid("Size is not a nonzero multiple of 64 KiB"));
        }
        let base = if base != 0 {
            if base % VA_GRANULARITY != 0 {
                return Err(invalid("BaseAddress is not 64 KiB-aligned"));
            }
            let end = base.checked_add(size).ok_or(invalid("BaseAddress + Size overflows"))?;
            if base < SPACE_START || end > SPACE_END {
                return Err(invalid("range outside the GPU virtual address space"));
            }
            if self.overlaps_reserved(base, end) {
                return Err(KernelError::GpuVaConflict(conflict));
            }
            base
        } else {
            if max != 0 && max <= min {
                return Err(invalid("MaximumAddress is not above MinimumAddress"));
            }
            self.find_free(min, max, size).ok_or(KernelError::NoMemory("no free GPU virtual address range"))?
        };
        self.reserved.insert(base, Reserved { end: base + size, device });
        Ok(base)
    }

    /// Removes the mapped pages in `[start, end)`, splitting mappings that
    /// straddle an edge.
    fn unmap_range(&mut self, start: u64, end: u64) {
        let hit: Vec<u64> =
            self.mapped.range(..end).rev().take_while(|(_, m)| m.base + m.size > start).map(|(&b, _)| b).collect();
        // `take_while` stops at the first mapping ending before `start`;
        // mappings never overlap, so none further down can reach it.
        for b in hit {
            let m = self.mapped.remove(&b).expect("listed");
            let m_end = m.base + m.size;
            if m.base < start {
                self.mapped.insert(m.base, Mapping { size: start - m.base, ..m });
            }
            if m_end > end {
                let cut = end - m.base;
                let offset = if m.allocation.0 == 0 { 0 } else { m.offset + cut };
                self.mapped.insert(end, Mapping { base: end, size: m_end - end, offset, ..m });
            }
        }
    }

    fn map(&mut self, m: Mapping) {
        self.unmap_range(m.base, m.base + m.size);
        self.mapped.insert(m.base, m);
    }

    /// Frees exactly one reservation and its mappings.
    fn free(&mut self, base: u64, size: u64) -> KResult<()> {
        match self.reserved.get(&base) {
            Some(r) if Some(r.end) == base.checked_add(size) => {}
            _ => return Err(invalid("BaseAddress and Size name no reservation")),
        }
        self.reserved.remove(&base);
        self.unmap_range(base, base + size);
        Ok(())
    }

    fn forget_allocation(&mut self, handle: u32) {
        self.mapped.retain(|_, m| m.allocation.0 != handle);
    }

    fn forget_device(&mut self, device: u32) {
        self.mapped.retain(|_, m| m.device != device);
        let gone: Vec<(u64, u64)> =
            self.reserved.iter().filter(|(_, r)| r.device == Some(device)).map(|(&b, r)| (b, r.end)).collect();
        for (b, e) in gone {
            self.reserved.remove(&b);
            self.unmap_range(b, e);
        }
    }

    /// `(base, size)` of each reservation.
    pub(crate) fn reservations(&self) -> Vec<(u64, u64)> {
        self.reserved.iter().map(|(&b, r)| (b, r.end - b)).collect()
    }
}

/// Per-process GPU memory state: VA spaces and video memory reservations.
#[derive(Default)]
pub(crate) struct ProcessMemory {
    spaces: HashMap<usize, VaSpace>,
    /// `ChangeVideoMemoryReservation` amounts by (adapter index, segment group).
    pub(crate) video_reservations: HashMap<(usize, u32), u64>,
}

impl ProcessMemory {
    /// Unmaps what was mapped through a destroyed allocation handle.
    pub(crate) fn forget_allocation(&mut self, handle: u32) {
        for space in self.spaces.values_mut() {
            space.forget_allocation(handle);
        }
    }

    /// Frees a destroyed device's reservations and mappings.
    pub(crate) fn forget_device(&mut self, device: u32) {
        for space in self.spaces.values_mut() {
            space.forget_device(device);
        }
    }

    pub(crate) fn space(&self, adapter: usize) -> Option<&VaSpace> {
        self.spaces.get(&adapter)
    }
}

/// A `MapGpuVirtualAddress` request, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapRequest {
    /// `BaseAddress` (0: reserve a new range).
    pub base: u64,
    /// `MinimumAddress`, for a new range.
    pub min: u64,
    /// `MaximumAddress` (exclusive; 0 means no bound), for a new range.
    pub max: u64,
    /// `hAllocation` (0 with `Zero`/`NoAccess`).
    pub allocation: LocalHandle,
    /// `OffsetInPages`.
    pub offset_pages: u64,
    /// `SizeInPages`.
    pub size_pages: u64,
    /// `Protection` bits.
    pub protection: u64,
}

/// One `UpdateGpuVirtualAddress` operation, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaOperation {
    /// Map (or map with protection) `size` bytes of an allocation from `offset` at `base`.
    Map {
        /// First VA.
        base: u64,
        /// Bytes.
        size: u64,
        /// The allocation (0 for a `Zero`/`NoAccess` mapping).
        allocation: LocalHandle,
        /// Offset in the allocation, in bytes.
        offset: u64,
        /// Protection bits.
        protection: u64,
    },
    /// Unmap `size` bytes at `base` (the range stays reserved).
    Unmap {
        /// First VA.
        base: u64,
        /// Bytes.
        size: u64,
    },
    /// Copy the mappings of `size` bytes from `source` to `dest`.
    Copy {
        /// Source VA.
        source: u64,
        /// Bytes.
        size: u64,
        /// Destination VA.
        dest: u64,
    },
}

impl ProcessState {
    /// Checks a mapping (`[base, base+size)` of `allocation` from `offset`,
    /// for `device`) against the allocation and the reservations of `space`.
    fn check_mapping(&self, space: &VaSpace, want: Mapping) -> KResult<Mapping> {
        let Mapping { base, size, allocation, offset, protection, device } = want;
        if protection & !protection::ALL != 0 {
            return Err(invalid("unknown Protection bits"));
        }
        if size == 0 || size % PAGE != 0 || base % PAGE != 0 || offset % PAGE != 0 {
            return Err(invalid("address, size or offset not page-aligned, or size 0"));
        }
        let end = base.checked_add(size).ok_or(invalid("mapping overflows"))?;
        if allocation.0 == 0 {
            if protection & (protection::ZERO | protection::NO_ACCESS) == 0 {
                return Err(invalid("a mapping without an allocation needs Zero or NoAccess"));
            }
        } else {
            let entry = match self.local.get(allocation.0 as u64) {
                Some(LocalEntry::Allocation(a)) => a,
                _ => return Err(KernelError::BadLocalHandle { handle: allocation.0, expected: "allocation" }),
            };
            if entry.device != device {
                return Err(invalid("allocation belongs to another device"));
            }
            if offset.checked_add(size).is_none_or(|e| e > entry.allocation.size) {
                return Err(invalid("mapping runs past the end of the allocation"));
            }
        }
        if space.containing(base, end).is_none() {
            return Err(invalid("range not inside one reserved range"));
        }
        let offset = if allocation.0 == 0 { 0 } else { offset };
        Ok(Mapping { base, size, allocation, offset, protection, device })
    }

    /// The adapter index and owning device of a reserve's owner handle.
    fn va_owner(&self, owner: u32) -> KResult<(usize, Option<u32>)> {
        match self.local.get(owner as u64) {
            Some(LocalEntry::Adapter(a)) => Ok((a.index, None)),
            Some(LocalEntry::PagingQueue(p)) => {
                let device = p.device;
                Ok((self.device_for_create(device)?.adapter.index, Some(device)))
            }
            _ => Err(KernelError::BadLocalHandle { handle: owner, expected: "adapter or paging queue" }),
        }
    }

    /// A paging queue's device, adapter and fence, the device usable.
    pub(crate) fn paging_queue_for_work(&self, queue: u32) -> KResult<(u32, usize, Arc<SyncObject>)> {
        match self.local.get(queue as u64) {
            Some(LocalEntry::PagingQueue(p)) => {
                let adapter = self.device_for_create(p.device)?.adapter.index;
                Ok((p.device, adapter, Arc::clone(&p.paging.fence)))
            }
            _ => Err(KernelError::BadLocalHandle { handle: queue, expected: "paging queue" }),
        }
    }
}

impl Process {
    /// Advances a paging queue's fence by one paging operation (which the
    /// fake GPU runs at once) and returns the new value. Call with no lock
    /// held: queues waiting on the fence run now.
    pub(crate) fn advance_paging_fence(&self, fence: &SyncObject) -> u64 {
        let kernel = self.kernel_inner();
        let value = fence.bump(&kernel.wait_hub);
        kernel.gpu.kick(kernel.policies.fence_regression, &kernel.wait_hub);
        value
    }

    /// `D3DKMTReserveGpuVirtualAddress`: reserves `size` bytes at `base`, or
    /// the lowest free range in `[min, max)`, in the VA space of `owner`'s
    /// adapter (an adapter handle or a paging queue). Returns the base.
    pub fn reserve_gpu_va(&self, owner: LocalHandle, base: u64, min: u64, max: u64, size: u64) -> KResult<u64> {
        let mut state = self.lock_live()?;
        let (adapter, device) = state.va_owner(owner.0)?;
        let conflict = self.kernel_inner().policies.gpu.gpu_va_conflict;
        state.memory.spaces.entry(adapter).or_default().reserve(base, min, max, size, device, conflict)
    }

    /// `D3DKMTMapGpuVirtualAddress` through a paging queue: returns the VA
    /// and the paging fence value the map completes at.
    pub fn map_gpu_va(&self, paging_queue: LocalHandle, req: &MapRequest) -> KResult<(u64, u64)> {
        let size = req.size_pages.checked_mul(PAGE).ok_or(invalid("SizeInPages overflows"))?;
        let offset = req.offset_pages.checked_mul(PAGE).ok_or(invalid("OffsetInPages overflows"))?;
        if size == 0 {
            return Err(invalid("SizeInPages is 0"));
        }
        let (va, fence) = {
            let mut state = self.lock_live()?;
            let (device, adapter, fence) = state.paging_queue_for_work(paging_queue.0)?;
            let mut space = state.memory.spaces.get(&adapter).cloned().unwrap_or_default();
            let base = if req.base == 0 {
                let rounded = align_up(size, VA_GRANULARITY).ok_or(invalid("SizeInPages overflows"))?;
                space.reserve(0, req.min, req.max, rounded, Some(device), NtStatus::INVALID_PARAMETER)?
            } else {
                req.base
            };
            let want = Mapping { base, size, allocation: req.allocation, offset, protection: req.protection, device };
            let mapping = state.check_mapping(&space, want)?;
            space.map(mapping);
            state.memory.spaces.insert(adapter, space);
            (base, fence)
        };
        let value = self.advance_paging_fence(&fence);
        Ok((va, value))
    }

    /// `D3DKMTFreeGpuVirtualAddress`: frees the reservation `[base, base+size)`
    /// of `adapter`'s space (an adapter handle), with its mappings.
    pub fn free_gpu_va(&self, adapter: LocalHandle, base: u64, size: u64) -> KResult<()> {
        let mut state = self.lock_live()?;
        let index = state.adapter(adapter.0)?.index;
        match state.memory.spaces.get_mut(&index) {
            Some(space) => space.free(base, size),
            None => Err(invalid("BaseAddress and Size name no reservation")),
        }
    }

    /// `D3DKMTUpdateGpuVirtualAddress`: applies `ops` (all or nothing) to the
    /// VA space of `device`'s adapter, then queues a signal of `fence` to
    /// `fence_value` on `context`'s fake-GPU queue.
    pub fn update_gpu_va(
        &self,
        device: LocalHandle,
        context: LocalHandle,
        fence: LocalHandle,
        ops: &[VaOperation],
        fence_value: u64,
    ) -> KResult<()> {
        if ops.is_empty() {
            return Err(invalid("NumOperations is 0"));
        }
        let (queue, fences) = {
            let mut state = self.lock_live()?;
            let adapter = state.device_for_create(device.0)?.adapter.index;
            let entry = state.context_entry(context.0)?;
            if entry.device != device.0 {
                return Err(invalid("context belongs to another device"));
            }
            let queue = Arc::clone(&entry.context.queue);
            let fences = state.gpu_fences(&[(fence.0, fence_value)], true)?;
            let mut space = state.memory.spaces.get(&adapter).cloned().unwrap_or_default();
            for op in ops {
                match *op {
                    VaOperation::Map { base, size, allocation, offset, protection } => {
                        let want = Mapping { base, size, allocation, offset, protection, device: device.0 };
                        let m = state.check_mapping(&space, want)?;
                        space.map(m);
                    }
                    VaOperation::Unmap { base, size } => {
                        let end = base.checked_add(size).ok_or(invalid("unmap overflows"))?;
                        if size == 0 || base % PAGE != 0 || size % PAGE != 0 || space.containing(base, end).is_none() {
                            return Err(invalid("unmap range not page-aligned inside one reserved range"));
                        }
                        space.unmap_range(base, end);
                    }
                    VaOperation::Copy { source, size, dest } => {
                        let (s_end, d_end) = match (source.checked_add(size), dest.checked_add(size)) {
                            (Some(s), Some(d)) => (s, d),
                            _ => return Err(invalid("copy overflows")),
                        };
                        if size == 0 || source % PAGE != 0 || dest % PAGE != 0 || size % PAGE != 0 {
                            return Err(invalid("copy not page-aligned, or size 0"));
                        }
                        if space.containing(source, s_end).is_none() || space.containing(dest, d_end).is_none() {
                            return Err(invalid("copy range not inside one reserved range"));
                        }
                        let mut pieces: Vec<Mapping> = Vec::new();
                        for m in space.mapped.values() {
                            let (lo, hi) = (m.base.max(source), (m.base + m.size).min(s_end));
                            if lo < hi {
                                let offset = if m.allocation.0 == 0 { 0 } else { m.offset + (lo - m.base) };
                                pieces.push(Mapping { base: lo - source + dest, size: hi - lo, offset, ..*m });
                            }
                        }
                        space.unmap_range(dest, d_end);
                        for p in pieces {
                            space.mapped.insert(p.base, p);
                        }
                    }
                }
            }
            state.memory.spaces.insert(adapter, space);
            (queue, fences)
        };
        let kernel = self.kernel_inner();
        kernel.gpu.sync_commands.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        kernel.gpu.submit(
            &queue,
            vec![crate::gpu::Command::Signal(fences)],
            kernel.policies.fence_regression,
            &kernel.wait_hub,
        );
        Ok(())
    }

    /// The mappings of this process's VA space on an adapter handle's
    /// adapter, in address order (for tests and reports).
    pub fn gpu_va_mappings(&self, adapter: LocalHandle) -> KResult<Vec<Mapping>> {
        let state = self.lock_live()?;
        let index = state.adapter(adapter.0)?.index;
        Ok(state.memory.space(index).map(|s| s.mapped.values().copied().collect()).unwrap_or_default())
    }

    /// The reservations `(base, size)` of this process's VA space on an
    /// adapter handle's adapter, in address order.
    pub fn gpu_va_reservations(&self, adapter: LocalHandle) -> KResult<Vec<(u64, u64)>> {
        let state = self.lock_live()?;
        let index = state.adapter(adapter.0)?.index;
        Ok(state.memory.space(index).map(VaSpace::reservations).unwrap_or_default())
    }
}
