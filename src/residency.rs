//! Allocation memory: residency (`D3DKMTMakeResident`, `D3DKMTEvict`,
//! `D3DKMTQueryAllocationResidency`), offers (`D3DKMTOfferAllocations`,
//! `D3DKMTReclaimAllocations2`), priorities (`D3DKMTSetAllocationPriority`,
//! `D3DKMTGetAllocationPriority`), `D3DKMTUpdateAllocationProperty`,
//! CPU access (`D3DKMTLock2`, `D3DKMTUnlock2`, `D3DKMTInvalidateCache`) and
//! `D3DKMTChangeVideoMemoryReservation`.
//!
//! What Windows does, and what we do:
//! - Residency is counted: each `MakeResident` of an allocation adds one,
//!   each `Evict` takes one away; it is resident while the count is above 0.
//!   New allocations start at 0 (WDDM 2 runtimes make them resident
//!   explicitly; [`crate::GpuPolicies::initial_residency`] can start them at 1). `MakeResident` is a paging operation on its paging queue:
//!   the paging fence advances by one and the value comes back in
//!   `PagingFenceValue`, already reached (the fake GPU runs it at once, so
//!   the call never returns `STATUS_PENDING`); `NumBytesToTrim` is 0.
//!   Evicting an allocation whose count is 0 is `STATUS_INVALID_PARAMETER`.
//!   The count belongs to the allocation, shared by every handle to it.
//! - Our allocations live in system memory (existing heaps), so a resident
//!   allocation counts in the non-local segment group:
//!   `QueryAllocationResidency` reports `RESIDENTINSHAREDMEMORY` (else
//!   `NOTRESIDENT`), and `QueryVideoMemoryInfo`'s non-local `CurrentUsage` is
//!   the size of this process's resident allocations on the adapter. A
//!   `MakeResident` that would take it past the budget is
//!   `STATUS_NO_MEMORY`, so `CurrentUsage <= Budget` always (WINE #26).
//! - An offered allocation's content may be discarded by the memory manager
//!   until it is reclaimed; it does not count as resident meanwhile. Ours is
//!   discarded only when [`crate::Process::trim_offered_allocations`] says so
//!   (deterministic memory pressure). Reclaim reports, per allocation,
//!   `D3DDDI_RECLAIM_RESULT_OK` (0) or `_DISCARDED` (1), which are also the
//!   `FALSE`/`TRUE` of the older `pDiscarded` view of the same array.
//!   Offering an offered allocation, or reclaiming one not offered, is
//!   `STATUS_INVALID_PARAMETER`. A discarded allocation's backing memory (see
//!   below) is freed: the next lock sees zeros; caller-owned memory is never
//!   written.
//! - `Lock2` maps the allocation for the CPU: for existing-heap allocations
//!   the address is the caller's own `pSystemMem`; an allocation made
//!   without system memory (through the Rust API) gets zeroed backing memory
//!   it owns, made at its first lock. Locks are counted; `Unlock2` of an
//!   unlocked allocation is `STATUS_INVALID_PARAMETER`, as is locking an
//!   offered one. Destroying a locked allocation's handle is allowed: the
//!   lock ends with the allocation (backing memory lives until its last
//!   reference goes, so the pointer stays valid as long as any handle does).
//! - Priorities default to `D3DDDI_ALLOCATIONPRIORITY_NORMAL`; 0 is
//!   `STATUS_INVALID_PARAMETER` (any other value is kept as given).
//! - `ChangeVideoMemoryReservation` records the process's reservation per
//!   adapter and segment group; more than `AvailableForReservation` is
//!   `STATUS_INVALID_PARAMETER`. `QueryVideoMemoryInfo` reports it as
//!   `CurrentReservation` (0 until changed, WINE #26).
//!
//! Lists: calls taking `hResource` and an allocation list accept either a
//! resource handle with count 0 (all its allocations, and one priority or
//! status for them all) or a nonempty list of allocation handles of the
//! device; everything is checked before anything changes.

use std::cell::UnsafeCell;
use std::sync::Arc;

use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::process::{LocalEntry, Process, ProcessState};
use crate::resource::Allocation;
use crate::sync::{Level, Mutex};

/// `D3DDDI_ALLOCATIONPRIORITY_NORMAL`.
pub const PRIORITY_NORMAL: u32 = 0x7800_0000;
/// `D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINSHAREDMEMORY`.
pub const RESIDENT_IN_SHARED_MEMORY: i32 = 2;
/// `D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT`.
pub const NOT_RESIDENT: i32 = 3;
/// `D3DDDI_RECLAIM_RESULT_OK`.
pub const RECLAIM_OK: i32 = 0;
/// `D3DDDI_RECLAIM_RESULT_DISCARDED`.
pub const RECLAIM_DISCARDED: i32 = 1;
/// The largest backing memory an allocation without system memory gets: 1 GiB.
pub const MAX_BACKING: u64 = 1 << 30;

/// An allocation's offer state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferState {
    /// In use (never offered, or reclaimed).
    InUse,
    /// Offered with this `D3DKMT_OFFER_PRIORITY`; content still there.
    Offered(i32),
    /// Offered and discarded; reclaim reports it.
    Discarded,
}

/// What [`Process::allocation_memory`] reports about an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocationMemoryInfo {
    /// Its size in bytes.
    pub size: u64,
    /// `MakeResident` count minus `Evict` count.
    pub residency: u32,
    /// Its priority.
    pub priority: u32,
    /// Its offer state.
    pub offer: OfferState,
    /// Outstanding `Lock2` calls.
    pub locks: u32,
    /// The segment set last given by `UpdateAllocationProperty` (0 if none).
    pub segment_set: u32,
    /// Successful `InvalidateCache` calls on it.
    pub invalidations: u64,
}

struct MemState {
    residency: u32,
    priority: u32,
    offer: OfferState,
    locks: u32,
    segment_set: u32,
    invalidations: u64,
    backing: Option<Box<[UnsafeCell<u8>]>>,
}

/// The mutable memory state of one allocation, shared by its handles.
pub(crate) struct AllocationMemory {
    /// The caller's `pSystemMem`, or 0.
    system_mem: usize,
    state: Mutex<MemState>,
}

impl AllocationMemory {
    pub(crate) fn new(system_mem: usize, resident: bool) -> AllocationMemory {
        AllocationMemory {
            system_mem,
            state: Mutex::with_level(
                Level::Object,
                "allocation memory",
                MemState {
                    residency: u32::from(resident),
                    priority: PRIORITY_NORMAL,
                    offer: OfferState::InUse,
                    locks: 0,
                    segment_set: 0,
                    invalidations: 0,
                    backing: None,
                },
            ),
        }
    }

    /// Resident bytes it counts for (its size while resident and in use).
    fn resident(&self) -> bool {
        let s = self.state.lock();
        s.residency > 0 && s.offer == OfferState::InUse
    }
}

fn invalid(why: &'static str) -> KernelError {
    KernelError::InvalidParameter(why)
}

impl ProcessState {
    /// An allocation handle of `device`.
    fn device_allocation(&self, device: u32, handle: u32) -> KResult<&Arc<Allocation>> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::Allocation(a)) if a.device == device => Ok(&a.allocation),
            Some(LocalEntry::Allocation(_)) => Err(invalid("allocation belongs to another device")),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "allocation" }),
        }
    }

    /// The allocations a (resource, list) pair names, each once.
    fn allocation_list(&self, device: u32, resource: u32, list: &[LocalHandle]) -> KResult<Vec<Arc<Allocation>>> {
        if resource != 0 {
            if !list.is_empty() {
                return Err(invalid("hResource with an allocation list"));
            }
            return match self.local.get(resource as u64) {
                Some(LocalEntry::Resource(r)) if r.device == device => Ok(r.resource.allocations.clone()),
                Some(LocalEntry::Resource(_)) => Err(invalid("resource belongs to another device")),
                _ => Err(KernelError::BadLocalHandle { handle: resource, expected: "resource" }),
            };
        }
        if list.is_empty() {
            return Err(invalid("no allocations listed"));
        }
        let mut out: Vec<Arc<Allocation>> = Vec::with_capacity(list.len());
        for h in list {
            let a = self.device_allocation(device, h.0)?;
            if out.iter().any(|o| Arc::ptr_eq(o, a)) {
                return Err(invalid("allocation listed twice"));
            }
            out.push(Arc::clone(a));
        }
        Ok(out)
    }

    /// Bytes of this process's resident allocations on `adapter`, each
    /// allocation counted once however many handles name it.
    pub(crate) fn resident_bytes(&self, adapter: usize) -> u64 {
        let mut seen: Vec<*const Allocation> = Vec::new();
        let mut total = 0u64;
        for (_, entry) in self.local.iter() {
            let LocalEntry::Allocation(a) = entry else { continue };
            let on_adapter = matches!(self.local.get(a.device as u64),
                Some(LocalEntry::Device(d)) if d.device.adapter.index == adapter);
            let p = Arc::as_ptr(&a.allocation);
            if on_adapter && !seen.contains(&p) && a.allocation.memory.resident() {
                seen.push(p);
                total = total.saturating_add(a.allocation.size);
            }
        }
        total
    }

    fn nonlocal_budget(&self, adapter: usize, kernel: &crate::kernel::KernelInner) -> u64 {
        kernel.adapters[adapter].config.segments.shared_system
    }
}

impl Process {
    /// `D3DKMTMakeResident` through a paging queue: adds one to each
    /// allocation's residency count; returns the paging fence value.
    pub fn make_resident(&self, paging_queue: LocalHandle, allocations: &[LocalHandle]) -> KResult<u64> {
        let fence = {
            let state = self.lock_live()?;
            let (device, adapter, fence) = state.paging_queue_for_work(paging_queue.0)?;
            let list = state.allocation_list(device, 0, allocations)?;
            let adding: u64 = list.iter().filter(|a| !a.memory.resident()).map(|a| a.size).sum();
            let budget = state.nonlocal_budget(adapter, self.kernel_inner());
            if state.resident_bytes(adapter).saturating_add(adding) > budget {
                return Err(KernelError::NoMemory("residency would exceed the budget"));
            }
            for a in &list {
                let mut s = a.memory.state.lock();
                s.residency = s.residency.saturating_add(1);
            }
            drop(state);
            drop(list);
            fence
        };
        Ok(self.advance_paging_fence(&fence))
    }

    /// `D3DKMTEvict`: takes one from each allocation's residency count.
    pub fn evict(&self, device: LocalHandle, allocations: &[LocalHandle]) -> KResult<()> {
        let state = self.lock_live()?;
        state.device(device.0)?;
        let list = state.allocation_list(device.0, 0, allocations)?;
        if list.iter().any(|a| a.memory.state.lock().residency == 0) {
            return Err(invalid("evicting an allocation that is not resident"));
        }
        for a in &list {
            a.memory.state.lock().residency -= 1;
        }
        Ok(())
    }

    /// `D3DKMTQueryAllocationResidency`: one status per allocation (one for
    /// a resource).
    pub fn query_allocation_residency(
        &self,
        device: LocalHandle,
        resource: u32,
        allocations: &[LocalHandle],
    ) -> KResult<Vec<i32>> {
        let state = self.lock_live()?;
        state.device(device.0)?;
        let list = state.allocation_list(device.0, resource, allocations)?;
        let status = |a: &Arc<Allocation>| if a.memory.resident() { RESIDENT_IN_SHARED_MEMORY } else { NOT_RESIDENT };
        Ok(if resource != 0 {
            vec![if list.iter().all(|a| status(a) == RESIDENT_IN_SHARED_MEMORY) {
                RESIDENT_IN_SHARED_MEMORY
            } else {
                NOT_RESIDENT
            }]
        } else {
            list.iter().map(status).collect()
        })
    }

    /// `D3DKMTSetAllocationPriority`: one priority per allocation, or one for
    /// all of a resource's.
    pub fn set_allocation_priority(
        &self,
        device: LocalHandle,
        resource: u32,
        allocations: &[LocalHandle],
        priorities: &[u32],
    ) -> KResult<()> {
        let state = self.lock_live()?;
        state.device(device.0)?;
        let list = state.allocation_list(device.0, resource, allocations)?;
        let wanted = if resource != 0 { 1 } else { list.len() };
        if priorities.len() != wanted {
            return Err(invalid("wrong number of priorities"));
        }
        if priorities.contains(&0) {
            return Err(invalid("priority 0"));
        }
        for (i, a) in list.iter().enumerate() {
            a.memory.state.lock().priority = priorities[if resource != 0 { 0 } else { i }];
        }
        Ok(())
    }

    /// `D3DKMTGetAllocationPriority`: as set, read back.
    pub fn get_allocation_priority(
        &self,
        device: LocalHandle,
        resource: u32,
        allocations: &[LocalHandle],
    ) -> KResult<Vec<u32>> {
        let state = self.lock_live()?;
        state.device(device.0)?;
        let list = state.allocation_list(device.0, resource, allocations)?;
        let all: Vec<u32> = list.iter().map(|a| a.memory.state.lock().priority).collect();
        Ok(if resource != 0 { all.into_iter().take(1).collect() } else { all })
    }

    /// `D3DKMTOfferAllocations`: `resources` or `allocations` (one of them
    /// empty), with a `D3DKMT_OFFER_PRIORITY` of 1 to 4.
    pub fn offer_allocations(
        &self,
        device: LocalHandle,
        resources: &[LocalHandle],
        allocations: &[LocalHandle],
        priority: i32,
    ) -> KResult<()> {
        if !(1..=4).contains(&priority) {
            return Err(invalid("Priority is not a D3DKMT_OFFER_PRIORITY"));
        }
        let state = self.lock_live()?;
        state.device(device.0)?;
        let list = state.offer_list(device.0, resources, allocations)?;
        if list.iter().any(|a| a.memory.state.lock().offer != OfferState::InUse) {
            return Err(invalid("allocation already offered"));
        }
        if list.iter().any(|a| a.memory.state.lock().locks != 0) {
            return Err(invalid("a locked allocation cannot be offered"));
        }
        for a in &list {
            a.memory.state.lock().offer = OfferState::Offered(priority);
        }
        Ok(())
    }

    /// `D3DKMTReclaimAllocations2` through a paging queue: one result per
    /// allocation (`D3DDDI_RECLAIM_RESULT_OK` or `_DISCARDED`), and the paging
    /// fence value.
    pub fn reclaim_allocations(
        &self,
        paging_queue: LocalHandle,
        resources: &[LocalHandle],
        allocations: &[LocalHandle],
    ) -> KResult<(Vec<i32>, u64)> {
        let (results, fence) = {
            let state = self.lock_live()?;
            let (device, _, fence) = state.paging_queue_for_work(paging_queue.0)?;
            let list = state.offer_list(device, resources, allocations)?;
            if list.iter().any(|a| a.memory.state.lock().offer == OfferState::InUse) {
                return Err(invalid("reclaiming an allocation that is not offered"));
            }
            let mut results = Vec::with_capacity(list.len());
            for a in &list {
                let mut s = a.memory.state.lock();
                results.push(if s.offer == OfferState::Discarded { RECLAIM_DISCARDED } else { RECLAIM_OK });
                s.offer = OfferState::InUse;
            }
            (results, fence)
        };
        Ok((results, self.advance_paging_fence(&fence)))
    }

    /// Memory pressure, on demand: discards the content of every allocation
    /// this process has offered (its backing memory, if it owns any, is
    /// freed). Returns how many were discarded.
    pub fn trim_offered_allocations(&self) -> KResult<usize> {
        let mut freed = Vec::new();
        let n = {
            let state = self.lock_live()?;
            let mut n = 0;
            for (_, entry) in state.local.iter() {
                let LocalEntry::Allocation(a) = entry else { continue };
                let mut s = a.allocation.memory.state.lock();
                if matches!(s.offer, OfferState::Offered(_)) {
                    s.offer = OfferState::Discarded;
                    freed.extend(s.backing.take());
                    n += 1;
                }
            }
            n
        };
        drop(freed);
        Ok(n)
    }

    /// `D3DKMTUpdateAllocationProperty` through a paging queue: records the
    /// supported segment set (nonzero) and returns the paging fence value.
    pub fn update_allocation_property(
        &self,
        paging_queue: LocalHandle,
        allocation: LocalHandle,
        segment_set: u32,
    ) -> KResult<u64> {
        if segment_set == 0 {
            return Err(invalid("SupportedSegmentSet is 0"));
        }
        let fence = {
            let state = self.lock_live()?;
            let (device, _, fence) = state.paging_queue_for_work(paging_queue.0)?;
            state.device_allocation(device, allocation.0)?.memory.state.lock().segment_set = segment_set;
            fence
        };
        Ok(self.advance_paging_fence(&fence))
    }

    /// `D3DKMTLock2`: the CPU address of the allocation's memory.
    pub fn lock2(&self, device: LocalHandle, allocation: LocalHandle) -> KResult<*mut u8> {
        let state = self.lock_live()?;
        state.device(device.0)?;
        let a = state.device_allocation(device.0, allocation.0)?;
        let mut s = a.memory.state.lock();
        if s.offer != OfferState::InUse {
            return Err(invalid("locking an offered allocation"));
        }
        let p = if a.memory.system_mem != 0 {
            a.memory.system_mem as *mut u8
        } else {
            if s.backing.is_none() {
                if a.size > MAX_BACKING {
                    return Err(KernelError::NoMemory("allocation too large to back"));
                }
                s.backing = Some((0..a.size).map(|_| UnsafeCell::new(0u8)).collect());
            }
            // The cells are ours; the CPU writes through them like a GPU
            // mapping, which `UnsafeCell` permits.
            s.backing.as_ref().map_or(core::ptr::null_mut(), |b| UnsafeCell::raw_get(b.as_ptr()))
        };
        s.locks = s.locks.checked_add(1).ok_or(invalid("too many locks"))?;
        Ok(p)
    }

    /// `D3DKMTUnlock2`: ends one lock.
    pub fn unlock2(&self, device: LocalHandle, allocation: LocalHandle) -> KResult<()> {
        let state = self.lock_live()?;
        state.device(device.0)?;
        let a = state.device_allocation(device.0, allocation.0)?;
        let mut s = a.memory.state.lock();
        if s.locks == 0 {
            return Err(invalid("allocation is not locked"));
        }
        s.locks -= 1;
        Ok(())
    }

    /// `D3DKMTInvalidateCache`: the CPU caches over `length` bytes at
    /// `offset` of an allocation of `device` are to be invalidated. The
    /// range must lie within the allocation (`offset + length <= size`,
    /// without overflow; a zero length at most at the end is accepted),
    /// else `STATUS_INVALID_PARAMETER`, as is a bad device or allocation
    /// handle; a lost device is `STATUS_DEVICE_REMOVED`.
    ///
    /// Our allocations are plain system memory the CPU and the fake GPU see
    /// coherently, so there is nothing to invalidate: the call only counts
    /// ([`AllocationMemoryInfo::invalidations`]).
    pub fn invalidate_cache(
        &self,
        device: LocalHandle,
        allocation: LocalHandle,
        offset: u64,
        length: u64,
    ) -> KResult<()> {
        let state = self.lock_live()?;
        state.device_for_create(device.0)?;
        let a = state.device_allocation(device.0, allocation.0)?;
        if offset.checked_add(length).is_none_or(|end| end > a.size) {
            return Err(invalid("Offset + Length is past the end of the allocation"));
        }
        let mut s = a.memory.state.lock();
        s.invalidations = s.invalidations.saturating_add(1);
        Ok(())
    }

    /// What the memory manager knows of an allocation handle of this process.
    pub fn allocation_memory(&self, allocation: LocalHandle) -> KResult<AllocationMemoryInfo> {
        let state = self.lock_live()?;
        let a = match state.local.get(allocation.0 as u64) {
            Some(LocalEntry::Allocation(a)) => &a.allocation,
            _ => return Err(KernelError::BadLocalHandle { handle: allocation.0, expected: "allocation" }),
        };
        let s = a.memory.state.lock();
        Ok(AllocationMemoryInfo {
            size: a.size,
            residency: s.residency,
            priority: s.priority,
            offer: s.offer,
            locks: s.locks,
            segment_set: s.segment_set,
            invalidations: s.invalidations,
        })
    }

    /// `D3DKMTChangeVideoMemoryReservation` for this process on an adapter
    /// handle: records `reservation` bytes for the segment group.
    pub fn change_video_memory_reservation(
        &self,
        adapter: LocalHandle,
        physical_adapter: u32,
        group: crate::adapter::MemoryGroup,
        reservation: u64,
    ) -> KResult<()> {
        let available = self.query_video_memory_info(adapter, physical_adapter, group)?.available_for_reservation;
        if reservation > available {
            return Err(invalid("Reservation exceeds AvailableForReservation"));
        }
        let mut state = self.lock_live()?;
        let index = state.adapter(adapter.0)?.index;
        state.memory.video_reservations.insert((index, group as u32), reservation);
        Ok(())
    }
}

impl ProcessState {
    fn offer_list(
        &self,
        device: u32,
        resources: &[LocalHandle],
        allocations: &[LocalHandle],
    ) -> KResult<Vec<Arc<Allocation>>> {
        match (resources.is_empty(), allocations.is_empty()) {
            (false, true) => {
                let mut out: Vec<Arc<Allocation>> = Vec::new();
                for (i, r) in resources.iter().enumerate() {
                    if resources[..i].contains(r) {
                        return Err(invalid("resource listed twice"));
                    }
                    out.extend(self.allocation_list(device, r.0, &[])?);
                }
                Ok(out)
            }
            (true, false) => self.allocation_list(device, 0, allocations),
            _ => Err(invalid("give either resources or allocations")),
        }
    }
}
