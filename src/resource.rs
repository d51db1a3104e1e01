//! Resources and allocations: `D3DKMTCreateAllocation(2)`,
//! `D3DKMTDestroyAllocation(2)`, `D3DKMTQueryResourceInfo`,
//! `D3DKMTOpenResource(2)`, `D3DKMTQueryResourceInfoFromNtHandle`,
//! `D3DKMTOpenResourceFromNtHandle`, `D3DKMTGetSharedResourceAdapterLuid` and
//! `D3DKMTOpenNtHandleFromName`.
//!
//! What Windows does, and what we do:
//! - An allocation is created on a device, alone or as the one allocation of
//!   a new resource (`CreateResource`). Only standard allocations over
//!   existing system memory are emulated (the form Wine's tests use, WINE
//!   A6 baseline); the rules of WINE #67–#83 are checked in the ABI layer
//!   and here. Allocations and resources are children of their device:
//!   destroying the device destroys their handles.
//! - A resource holds its allocations: destroying its handle destroys the
//!   allocation handles made with it (WINE #82), while destroying only an
//!   allocation leaves the resource (WINE #80). No allocation can be added
//!   to an existing resource (WINE #81).
//! - `CreateShared` gives the resource a global handle (WINE #85), unless
//!   `NtSecuritySharing` is set (WINE #90): then it is shared only by
//!   `D3DKMTShareObjects`, alone or with a keyed mutex and a sync object
//!   (WINE #101, #106), as a `DxgkSharedResource` NT object.
//! - Opening needs the runtime-data and resource-driver-data sizes to match
//!   the stored ones exactly (WINE #88), copies the runtime data out, and
//!   hands out each allocation's private driver data, packed into the
//!   caller's total buffer (too small → `STATUS_NO_MEMORY`, WINE #105).
//!   Querying only reports sizes (WINE #86, #103). That per-allocation data
//!   is the fake KMD's answer ([`crate::Kmd::allocation_private_data`]),
//!   nonzero and under 0x400 bytes by default, as WINE #87 requires.
//!
//! References: a resource handle owns one reference to the resource, an
//! allocation handle one to its allocation, and the resource one to each of
//! its allocations; a `DxgkSharedResource` NT object owns one to the resource
//! and, when combined, one to the keyed mutex and one to the sync object.

use std::sync::Arc;

use crate::NtStatus;
use crate::adapter::Luid;
use crate::error::{KResult, KernelError};
use crate::global::{GlobalKind, GlobalName};
use crate::handle::{LocalHandle, NtHandle};
use crate::keyed_mutex::KeyedMutex;
use crate::kmd::AllocationDesc;
use crate::live::{LiveToken, ObjectKind};
use crate::process::{LocalEntry, Process, ProcessState};
use crate::shared::{NtEntry, NtObjectKind, access};
use crate::sync::Graveyard;
use crate::sync_object::{SyncEntry, SyncObject};

/// One allocation.
pub(crate) struct Allocation {
    /// Its size in bytes (a multiple of the 4 KiB page).
    pub(crate) size: u64,
    /// Its memory: CPU address, residency, offers, locks (`crate::residency`).
    pub(crate) memory: crate::residency::AllocationMemory,
    /// The KMD's private data for it, handed out by opens.
    pub(crate) driver_data: Vec<u8>,
    pub(crate) _live: LiveToken,
}

/// One resource: its allocations (fixed at creation) and blobs.
pub(crate) struct Resource {
    /// Index of the adapter of the device it was created on.
    pub(crate) adapter: usize,
    global: Option<GlobalName>,
    /// Created with `NtSecuritySharing`: `ShareObjects` accepts it.
    pub(crate) nt_shareable: bool,
    /// The runtime data given at creation.
    pub(crate) runtime_data: Vec<u8>,
    /// The resource's private driver data (empty for standard allocations).
    pub(crate) driver_data: Vec<u8>,
    pub(crate) allocations: Vec<Arc<Allocation>>,
    pub(crate) _live: LiveToken,
}

impl Resource {
    /// Bytes of all allocations' private driver data together.
    pub(crate) fn total_driver_data(&self) -> u32 {
        self.allocations.iter().map(|a| a.driver_data.len() as u32).sum()
    }
}

/// A resource handle's entry.
pub(crate) struct ResourceEntry {
    pub(crate) resource: Arc<Resource>,
    pub(crate) device: u32,
    pub(crate) child_slot: u32,
    /// The allocation handles made with this resource handle and still live.
    pub(crate) allocations: Vec<u32>,
}

/// An allocation handle's entry.
pub(crate) struct AllocationEntry {
    pub(crate) allocation: Arc<Allocation>,
    pub(crate) device: u32,
    pub(crate) child_slot: u32,
    /// The resource handle it was made with, if any.
    pub(crate) resource: Option<u32>,
}

/// The one allocation a `D3DKMTCreateAllocation(2)` call describes (a
/// standard allocation over existing system memory).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllocationRequest {
    /// `ExistingHeapData.Size`: nonzero, a multiple of 4096.
    pub size: u64,
    /// The per-allocation private driver data the UMD passed.
    pub driver_data: Vec<u8>,
    /// `pSystemMem`: the caller's memory behind the allocation, which
    /// `D3DKMTLock2` hands back. 0 (only through this API) makes the
    /// allocation own zeroed backing memory instead (see `crate::residency`).
    pub system_mem: usize,
}

/// Decoded `D3DKMT_CREATEALLOCATIONFLAGS` bits that matter here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocationFlags {
    /// `CreateResource` (bit 0).
    pub create_resource: bool,
    /// `CreateShared` (bit 1).
    pub create_shared: bool,
    /// `ExistingSysMem` (bit 5).
    pub existing_sys_mem: bool,
    /// `NtSecuritySharing` (bit 6).
    pub nt_security_sharing: bool,
    /// `StandardAllocation` (bit 16).
    pub standard_allocation: bool,
}

impl AllocationFlags {
    /// Decodes the raw bitfield.
    pub fn from_bits(bits: u32) -> AllocationFlags {
        AllocationFlags {
            create_resource: bits & 1 != 0,
            create_shared: bits & 2 != 0,
            existing_sys_mem: bits & 0x20 != 0,
            nt_security_sharing: bits & 0x40 != 0,
            standard_allocation: bits & 0x1_0000 != 0,
        }
    }
}

/// What a create returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatedAllocation {
    /// The new resource handle (with `CreateResource`).
    pub resource: Option<LocalHandle>,
    /// The new allocation handle.
    pub allocation: LocalHandle,
    /// The resource's global handle, or 0 (WINE #68, #79, #85, #90).
    pub global_share: u32,
}

/// Sizes a query reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// Stored runtime-data size.
    pub runtime_data_size: u32,
    /// All allocations' driver data together.
    pub total_driver_data_size: u32,
    /// The resource's own driver data size.
    pub resource_driver_data_size: u32,
    /// Number of allocations.
    pub num_allocations: u32,
}

/// The caller's buffer sizes for an open, checked against the stored ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenSizes {
    /// `NumAllocations`: must equal the resource's.
    pub num_allocations: u32,
    /// `PrivateRuntimeDataSize`: must equal the stored size.
    pub runtime_data: u32,
    /// `ResourcePrivateDriverDataSize`: must equal the stored size.
    pub resource_driver_data: u32,
    /// `TotalPrivateDriverDataBufferSize`: must hold every allocation's data.
    pub total_driver_data: u32,
}

/// What an open returns: the new handles and the data to copy out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedResource {
    /// The new resource handle.
    pub resource: LocalHandle,
    /// One new handle per allocation, with its driver data's offset and
    /// size in the total buffer.
    pub allocations: Vec<(LocalHandle, u32, u32)>,
    /// The runtime data.
    pub runtime_data: Vec<u8>,
    /// The resource's driver data.
    pub resource_driver_data: Vec<u8>,
    /// Every allocation's driver data, packed.
    pub total_driver_data: Vec<u8>,
    /// `OpenResourceFromNtHandle` of a combined share: the keyed mutex's new
    /// handle and its runtime data size, else `None`.
    pub keyed_mutex: Option<(LocalHandle, u32)>,
    /// `OpenResourceFromNtHandle` of a combined share: the sync object's new
    /// handle, else `None`.
    pub sync_object: Option<LocalHandle>,
}

/// A `DxgkSharedResource` NT object's contents: a resource alone, or a
/// resource, keyed mutex and sync object shared together (WINE #106).
pub(crate) struct SharedResource {
    pub(crate) resource: Arc<Resource>,
    pub(crate) keyed_mutex: Option<Arc<KeyedMutex>>,
    pub(crate) sync: Option<Arc<SyncObject>>,
}

impl ProcessState {
    fn resource_entry(&self, handle: u32) -> KResult<&ResourceEntry> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::Resource(r)) => Ok(r),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "resource" }),
        }
    }

    /// What `D3DKMTShareObjects` shares when its first object is a resource,
    /// a keyed mutex or an allocation: `None` when it is none of these (the
    /// caller then tries the other kinds). Only (resource) and (resource,
    /// keyed mutex, sync object) are accepted, each created with
    /// `NtSecuritySharing`; anything else is `STATUS_INVALID_PARAMETER`
    /// (WINE #65, #101, #106).
    pub(crate) fn resource_share(&self, objects: &[LocalHandle]) -> Option<KResult<NtObjectKind>> {
        let first = self.local.get(objects.first()?.0 as u64)?;
        if !matches!(first, LocalEntry::Resource(_) | LocalEntry::KeyedMutex(_) | LocalEntry::Allocation(_)) {
            return None;
        }
        let bad = |why| Some(Err(KernelError::InvalidParameter(why)));
        let LocalEntry::Resource(r) = first else {
            return bad("a keyed mutex or allocation is shared only as part of its resource");
        };
        if !r.resource.nt_shareable {
            return bad("resource not created with NtSecuritySharing");
        }
        let (keyed_mutex, sync) = match objects {
            [_] => (None, None),
            [_, m, s] => {
                let Some(LocalEntry::KeyedMutex(m)) = self.local.get(m.0 as u64) else {
                    return bad("the second object must be a keyed mutex");
                };
                let Some(LocalEntry::SyncObject(s)) = self.local.get(s.0 as u64) else {
                    return bad("the third object must be a sync object");
                };
                if !m.mutex.nt_shareable || !s.object.nt_shareable {
                    return bad("keyed mutex or sync object not created with NtSecuritySharing");
                }
                (Some(Arc::clone(&m.mutex)), Some(Arc::clone(&s.object)))
            }
            _ => return bad("a resource shares alone or as (resource, keyed mutex, sync object)"),
        };
        Some(Ok(NtObjectKind::Resource(SharedResource { resource: Arc::clone(&r.resource), keyed_mutex, sync })))
    }

    /// Inserts handles for `resource` and each of its allocations, resource
    /// first (WINE #79), on `device`. On failure nothing stays inserted.
    fn insert_resource(
        &mut self,
        resource: Arc<Resource>,
        device: u32,
        graveyard: &mut Graveyard<LocalEntry>,
    ) -> KResult<(LocalHandle, Vec<LocalHandle>)> {
        let allocations = resource.allocations.clone();
        let entry = ResourceEntry { resource, device, child_slot: 0, allocations: Vec::new() };
        let handle = self.insert_local(LocalEntry::Resource(entry), graveyard)?;
        let mut made = Vec::with_capacity(allocations.len());
        for allocation in allocations {
            let entry = AllocationEntry { allocation, device, child_slot: 0, resource: Some(handle.0) };
            match self.insert_local(LocalEntry::Allocation(entry), graveyard) {
                Ok(h) => made.push(h),
                Err(e) => {
                    for h in made {
                        graveyard.bury(self.remove_local(h.0).expect("just inserted"));
                    }
                    graveyard.bury(self.remove_local(handle.0).expect("just inserted"));
                    return Err(e);
                }
            }
        }
        if let Some(LocalEntry::Resource(r)) = self.local.get_mut(handle.0 as u64) {
            r.allocations = made.iter().map(|h| h.0).collect();
        }
        Ok((handle, made))
    }

    /// Removes a resource handle and its allocation handles.
    fn destroy_resource_locked(&mut self, handle: u32, graveyard: &mut Graveyard<LocalEntry>) {
        let Some(entry) = self.remove_local(handle) else { return };
        if let LocalEntry::Resource(r) = &entry {
            for &a in &r.allocations {
                self.memory.forget_allocation(a);
                if let Some(removed) = self.remove_local(a) {
                    graveyard.bury(removed);
                }
            }
        }
        graveyard.bury(entry);
    }

    /// Removes an allocation handle and unlinks it from its resource handle.
    fn destroy_allocation_locked(&mut self, handle: u32, graveyard: &mut Graveyard<LocalEntry>) {
        let Some(entry) = self.remove_local(handle) else { return };
        // Its GPU VA mappings go (the ranges stay reserved, `crate::gpu_va`).
        self.memory.forget_allocation(handle);
        if let LocalEntry::Allocation(AllocationEntry { resource: Some(r), .. }) = &entry {
            if let Some(LocalEntry::Resource(r)) = self.local.get_mut(*r as u64) {
                r.allocations.retain(|&a| a != handle);
            }
        }
        graveyard.bury(entry);
    }
}

/// Checks an open's sizes against a resource (WINE #88, #105).
fn check_open_sizes(resource: &Resource, sizes: &OpenSizes) -> KResult<()> {
    if sizes.num_allocations == 0 || sizes.num_allocations as usize != resource.allocations.len() {
        return Err(KernelError::InvalidParameter("NumAllocations is not the resource's allocation count"));
    }
    if sizes.runtime_data as usize != resource.runtime_data.len() {
        return Err(KernelError::InvalidParameter("PrivateRuntimeDataSize is not the stored size"));
    }
    if sizes.resource_driver_data as usize != resource.driver_data.len() {
        return Err(KernelError::InvalidParameter("ResourcePrivateDriverDataSize is not the stored size"));
    }
    let needed = resource.total_driver_data();
    if sizes.total_driver_data < needed {
        return Err(KernelError::BufferTooSmall {
            what: "TotalPrivateDriverDataBuffer",
            needed,
            given: sizes.total_driver_data,
            status: NtStatus::NO_MEMORY,
        });
    }
    Ok(())
}

fn info_of(resource: &Resource) -> ResourceInfo {
    ResourceInfo {
        runtime_data_size: resource.runtime_data.len() as u32,
        total_driver_data_size: resource.total_driver_data(),
        resource_driver_data_size: resource.driver_data.len() as u32,
        num_allocations: resource.allocations.len() as u32,
    }
}

impl Process {
    /// `D3DKMTCreateAllocation(2)`: one standard allocation over existing
    /// system memory on `device`, alone or in a new resource.
    ///
    /// `existing_resource` is the caller's `hResource`, which must be 0: a
    /// live resource handle is `STATUS_INVALID_PARAMETER` (WINE #81), any
    /// other value `STATUS_INVALID_HANDLE` (WINE #74). `CreateShared` needs
    /// `CreateResource` (WINE #78) and `NtSecuritySharing` needs
    /// `CreateShared`. `runtime_data` is stored with a new resource.
    pub fn create_allocation(
        &self,
        device: LocalHandle,
        existing_resource: u32,
        flags: AllocationFlags,
        runtime_data: &[u8],
        request: &AllocationRequest,
    ) -> KResult<CreatedAllocation> {
        if flags.create_shared && !flags.create_resource {
            return Err(KernelError::InvalidParameter("CreateShared requires CreateResource"));
        }
        if flags.nt_security_sharing && !flags.create_shared {
            return Err(KernelError::InvalidParameter("NtSecuritySharing requires CreateShared"));
        }
        if request.size == 0 || request.size % 0x1000 != 0 {
            return Err(KernelError::InvalidParameter("ExistingHeapData.Size is not a nonzero multiple of 4096"));
        }
        let kernel = self.kernel_inner();
        let check = |state: &ProcessState| -> KResult<usize> {
            let adapter = state.device_for_create(device.0)?.adapter.index;
            if existing_resource != 0 {
                return Err(match state.local.get(existing_resource as u64) {
                    Some(LocalEntry::Resource(_)) => {
                        KernelError::InvalidParameter("allocations cannot be added to an existing resource")
                    }
                    _ => KernelError::BadResourceHandle(existing_resource),
                });
            }
            Ok(adapter)
        };
        let adapter = check(&*self.lock_live()?)?;
        // The KMD is called with no lock held.
        let kmd = Arc::clone(&*kernel.kmd.read());
        let desc = AllocationDesc { size: request.size, umd_driver_data: &request.driver_data };
        let driver_data = kmd.allocation_private_data(kernel.adapters[adapter].config.luid, &desc);
        let allocation = Arc::new(Allocation {
            size: request.size,
            memory: crate::residency::AllocationMemory::new(
                request.system_mem,
                kernel.policies.gpu.initial_residency == crate::policy::InitialResidency::Resident,
            ),
            driver_data,
            _live: LiveToken::new(&self.0.live, ObjectKind::Allocation),
        });
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        if check(&state)? != adapter {
            return Err(KernelError::BadLocalHandle { handle: device.0, expected: "device" });
        }
        if !flags.create_resource {
            let entry = AllocationEntry { allocation, device: device.0, child_slot: 0, resource: None };
            let handle = state.insert_local(LocalEntry::Allocation(entry), &mut graveyard)?;
            return Ok(CreatedAllocation { resource: None, allocation: handle, global_share: 0 });
        }
        let build = |global| Resource {
            adapter,
            global,
            nt_shareable: flags.nt_security_sharing,
            runtime_data: runtime_data.to_vec(),
            driver_data: Vec::new(),
            allocations: vec![Arc::clone(&allocation)],
            _live: LiveToken::new(&self.0.live, ObjectKind::Resource),
        };
        let resource = if flags.create_shared && !flags.nt_security_sharing {
            let mut failed = None;
            let resource = Arc::new_cyclic(|weak| match kernel.globals.register(GlobalKind::Resource, weak) {
                Ok(name) => build(Some(name)),
                Err(e) => {
                    failed = Some(e);
                    build(None)
                }
            });
            if let Some(e) = failed {
                drop(state);
                drop(resource);
                return Err(e);
            }
            resource
        } else {
            Arc::new(build(None))
        };
        let global_share = resource.global.as_ref().map_or(0, GlobalName::handle);
        let (handle, allocations) = state.insert_resource(resource, device.0, &mut graveyard)?;
        Ok(CreatedAllocation { resource: Some(handle), allocation: allocations[0], global_share })
    }

    /// `D3DKMTDestroyAllocation(2)`: destroys `resource`'s handle with its
    /// allocation handles (WINE #82), and the listed allocation handles, all
    /// or nothing. Every handle must be this device's; the listed allocations
    /// must belong to `resource` when one is given. Count 0 and no resource
    /// is a no-op (WINE #69). A bad or repeated handle is
    /// `STATUS_INVALID_PARAMETER` (WINE #69, #80).
    pub fn destroy_allocations(
        &self,
        device: LocalHandle,
        resource: Option<LocalHandle>,
        allocations: &[LocalHandle],
    ) -> KResult<()> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.device(device.0)?;
        if let Some(r) = resource {
            let entry = state.resource_entry(r.0)?;
            if entry.device != device.0 {
                return Err(KernelError::InvalidParameter("resource belongs to another device"));
            }
        }
        for (i, a) in allocations.iter().enumerate() {
            let Some(LocalEntry::Allocation(entry)) = state.local.get(a.0 as u64) else {
                return Err(KernelError::BadLocalHandle { handle: a.0, expected: "allocation" });
            };
            if entry.device != device.0 {
                return Err(KernelError::InvalidParameter("allocation belongs to another device"));
            }
            if resource.is_some_and(|r| entry.resource != Some(r.0)) {
                return Err(KernelError::InvalidParameter("allocation does not belong to hResource"));
            }
            if allocations[..i].contains(a) {
                return Err(KernelError::InvalidParameter("allocation listed twice"));
            }
        }
        for a in allocations {
            state.destroy_allocation_locked(a.0, &mut graveyard);
        }
        if let Some(r) = resource {
            state.destroy_resource_locked(r.0, &mut graveyard);
        }
        drop(state);
        Ok(())
    }

    /// `D3DKMTQueryResourceInfo`: the sizes of the resource a global handle
    /// names; copies nothing (WINE #86). A local handle or a dead global is
    /// `STATUS_INVALID_PARAMETER` (WINE #84).
    pub fn query_resource_info(&self, device: LocalHandle, global: u32) -> KResult<ResourceInfo> {
        self.check_device(device)?;
        let resource: Arc<Resource> = self.kernel_inner().globals.open(global, GlobalKind::Resource)?;
        Ok(info_of(&resource))
    }

    /// `D3DKMTOpenResource(2)`: new handles, on `device`, to the resource a
    /// global handle names and to each of its allocations (WINE #87, #89).
    pub fn open_resource(&self, device: LocalHandle, global: u32, sizes: &OpenSizes) -> KResult<OpenedResource> {
        let resource: Arc<Resource> = {
            self.check_device(device)?;
            self.kernel_inner().globals.open(global, GlobalKind::Resource)?
        };
        self.open_shared(device, SharedParts { resource, keyed_mutex: None, sync: None }, sizes)
    }

    fn shared_resource(&self, nt: NtHandle) -> KResult<SharedParts> {
        let state = self.lock_live()?;
        let (object, granted) = state.nt_object(nt, self.kernel_inner(), NtObjectKind::RESOURCE)?;
        drop(state);
        if granted & access::READ_CONTROL == 0 {
            return Err(KernelError::AccessDenied("NT handle lacks STANDARD_RIGHTS_READ"));
        }
        let NtObjectKind::Resource(shared) = &object.kind else { unreachable!("type checked") };
        Ok(SharedParts {
            resource: Arc::clone(&shared.resource),
            keyed_mutex: shared.keyed_mutex.clone(),
            sync: shared.sync.clone(),
        })
    }

    /// `D3DKMTQueryResourceInfoFromNtHandle`: as [`Process::query_resource_info`]
    /// through an NT handle (WINE #103).
    pub fn query_resource_info_from_nt_handle(&self, device: LocalHandle, nt: NtHandle) -> KResult<ResourceInfo> {
        self.check_device(device)?;
        Ok(info_of(&self.shared_resource(nt)?.resource))
    }

    /// `D3DKMTOpenResourceFromNtHandle`: as [`Process::open_resource`]
    /// through an NT handle, plus new handles to the keyed mutex and sync
    /// object of a combined share (WINE #104, #107).
    pub fn open_resource_from_nt_handle(
        &self,
        device: LocalHandle,
        nt: NtHandle,
        sizes: &OpenSizes,
    ) -> KResult<OpenedResource> {
        self.check_device(device)?;
        let parts = self.shared_resource(nt)?;
        self.open_shared(device, parts, sizes)
    }

    fn open_shared(&self, device: LocalHandle, parts: SharedParts, sizes: &OpenSizes) -> KResult<OpenedResource> {
        let resource = parts.resource;
        check_open_sizes(&resource, sizes)?;
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.device_for_create(device.0)?;
        let (handle, made) = state.insert_resource(Arc::clone(&resource), device.0, &mut graveyard)?;
        let undo = |state: &mut ProcessState, graveyard: &mut Graveyard<LocalEntry>, extra: &[LocalHandle]| {
            for h in extra {
                if let Some(e) = state.remove_local(h.0) {
                    graveyard.bury(e);
                }
            }
            state.destroy_resource_locked(handle.0, graveyard);
        };
        let keyed_mutex = match parts.keyed_mutex {
            Some(m) => {
                let size = m.runtime_data.len() as u32;
                match state.insert_keyed_mutex(m, self, &mut graveyard) {
                    Ok(h) => Some((h, size)),
                    Err(e) => {
                        undo(&mut state, &mut graveyard, &[]);
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        let sync_object = match parts.sync {
            Some(object) => {
                let entry =
                    SyncEntry { object, device: Some(device.0), child_slot: 0, can_signal: true, can_wait: true };
                match state.insert_local(LocalEntry::SyncObject(entry), &mut graveyard) {
                    Ok(h) => Some(h),
                    Err(e) => {
                        let extra: Vec<LocalHandle> = keyed_mutex.iter().map(|k| k.0).collect();
                        undo(&mut state, &mut graveyard, &extra);
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        drop(state);
        let mut total = Vec::with_capacity(resource.total_driver_data() as usize);
        let mut allocations = Vec::with_capacity(made.len());
        for (h, a) in made.into_iter().zip(&resource.allocations) {
            allocations.push((h, total.len() as u32, a.driver_data.len() as u32));
            total.extend_from_slice(&a.driver_data);
        }
        Ok(OpenedResource {
            resource: handle,
            allocations,
            runtime_data: resource.runtime_data.clone(),
            resource_driver_data: resource.driver_data.clone(),
            total_driver_data: total,
            keyed_mutex,
            sync_object,
        })
    }

    /// `D3DKMTOpenKeyedMutexFromNtHandle`: a new handle to the keyed mutex
    /// of a combined resource share. An NT handle to a share without one is
    /// `STATUS_INVALID_PARAMETER` (Wine's server answers so, WINE B4).
    pub fn open_keyed_mutex_from_nt_handle(&self, nt: NtHandle) -> KResult<LocalHandle> {
        let SharedParts { resource, keyed_mutex, sync } = self.shared_resource(nt)?;
        // Dropped before the lock is taken.
        drop((resource, sync));
        let mutex = keyed_mutex.ok_or(KernelError::InvalidParameter("the shared resource has no keyed mutex"))?;
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.insert_keyed_mutex(mutex, self, &mut graveyard)
    }

    /// `D3DKMTGetSharedResourceAdapterLuid`: the LUID of the adapter a
    /// shared resource was created on, by global handle (when nonzero) or
    /// NT handle.
    pub fn shared_resource_adapter_luid(&self, global: u32, nt: NtHandle) -> KResult<Luid> {
        let kernel = self.kernel_inner();
        let resource = if global != 0 {
            kernel.globals.open::<Resource>(global, GlobalKind::Resource)?
        } else if nt.0 != 0 {
            self.shared_resource(nt)?.resource
        } else {
            return Err(KernelError::InvalidParameter("neither hGlobalShare nor hNtHandle given"));
        };
        Ok(kernel.adapters[resource.adapter].config.luid)
    }

    /// `D3DKMTOpenNtHandleFromName`: a new NT handle to the named
    /// `DxgkSharedResource`, with `access` (generic rights mapped). The name
    /// is matched case-insensitively; a missing one is
    /// `STATUS_OBJECT_NAME_NOT_FOUND`, access 0 `STATUS_ACCESS_DENIED`
    /// (WINE #102). A name of another object type gets the
    /// `wrong_nt_object_type` policy's status.
    pub fn open_nt_handle_from_name(&self, name: &str, access: u32) -> KResult<NtHandle> {
        let kernel = self.kernel_inner();
        let object = kernel.namespace.lookup(name).ok_or(KernelError::NameNotFound)?;
        let found = object.kind.type_name();
        if found != NtObjectKind::RESOURCE {
            return Err(KernelError::WrongNtObjectType {
                expected: NtObjectKind::RESOURCE,
                found,
                status: kernel.policies.wrong_nt_object_type,
            });
        }
        let granted = object.kind.map_generic(access);
        if granted == 0 {
            return Err(KernelError::AccessDenied("no access asked for"));
        }
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.insert_nt(NtEntry { object, access: granted }, &mut graveyard)
    }
}

/// The parts of a share an open gives handles to.
struct SharedParts {
    resource: Arc<Resource>,
    keyed_mutex: Option<Arc<KeyedMutex>>,
    sync: Option<Arc<SyncObject>>,
}
