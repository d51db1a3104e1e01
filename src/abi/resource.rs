//! Allocation and resource exports.

use core::ffi::c_void;

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_ALLOCATIONINFO, D3DDDI_ALLOCATIONINFO2, D3DDDI_OPENALLOCATIONINFO, D3DDDI_OPENALLOCATIONINFO2,
    D3DKMT_CREATEALLOCATION, D3DKMT_CREATESTANDARDALLOCATION, D3DKMT_DESTROYALLOCATION, D3DKMT_DESTROYALLOCATION2,
    D3DKMT_GETSHAREDRESOURCEADAPTERLUID, D3DKMT_OPENNTHANDLEFROMNAME, D3DKMT_OPENRESOURCE,
    D3DKMT_OPENRESOURCEFROMNTHANDLE, D3DKMT_QUERYRESOURCEINFO, D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE,
    D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP,
};
use windows_sys::Win32::Foundation::LUID;

use super::{export, ptr, required, required_ref};
use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};
use crate::process::Process;
use crate::resource::{AllocationFlags, AllocationRequest, OpenSizes, OpenedResource, ResourceInfo};

fn invalid(why: &'static str) -> KernelError {
    KernelError::InvalidParameter(why)
}

/// The per-allocation fields `CreateAllocation` reads and writes, for both
/// `D3DDDI_ALLOCATIONINFO` (v1) and `D3DDDI_ALLOCATIONINFO2`.
trait AllocationInfo: Copy {
    fn system_mem(&self) -> usize;
    fn driver_data(&self) -> (*const c_void, u32);
    fn set_handle(&mut self, handle: u32);
}

impl AllocationInfo for D3DDDI_ALLOCATIONINFO {
    fn system_mem(&self) -> usize {
        self.pSystemMem as usize
    }
    fn driver_data(&self) -> (*const c_void, u32) {
        (self.pPrivateDriverData.cast_const(), self.PrivateDriverDataSize)
    }
    fn set_handle(&mut self, handle: u32) {
        self.hAllocation = handle;
    }
}

impl AllocationInfo for D3DDDI_ALLOCATIONINFO2 {
    fn system_mem(&self) -> usize {
        ptr::read_prefix(&self.Anonymous1)
    }
    fn driver_data(&self) -> (*const c_void, u32) {
        (self.pPrivateDriverData.cast_const(), self.PrivateDriverDataSize)
    }
    fn set_handle(&mut self, handle: u32) {
        self.hAllocation = handle;
    }
}

/// `D3DKMTCreateAllocation(2)`, with `I` the allocation-info type.
///
/// Checks, each `STATUS_INVALID_PARAMETER`: `StandardAllocation` and
/// `ExistingSysMem` set (WINE #77; a driver-private description, without
/// `StandardAllocation` but with driver data, is `STATUS_NOT_IMPLEMENTED`);
/// top-level `PrivateDriverDataSize` 0 (WINE #72); `NumAllocations` 1 (WINE
/// #75, #83); the standard description present, of type EXISTINGHEAP, with a
/// page-multiple size, and `pSystemMem` set (WINE #76); then the handle and
/// flag rules of [`crate::Process::create_allocation`].
fn create_allocation<I: AllocationInfo>(process: &Process, args: &mut D3DKMT_CREATEALLOCATION) -> KResult<()> {
    let flags = AllocationFlags::from_bits(ptr::read_prefix(&args.Flags));
    if !flags.standard_allocation {
        if args.PrivateDriverDataSize != 0 {
            return Err(KernelError::NotImplemented("driver-private allocation descriptions"));
        }
        return Err(invalid("no allocation description (StandardAllocation clear, no driver data)"));
    }
    if !flags.existing_sys_mem {
        return Err(invalid("a standard allocation needs ExistingSysMem"));
    }
    if args.PrivateDriverDataSize != 0 {
        return Err(invalid("PrivateDriverDataSize with a standard allocation"));
    }
    if args.NumAllocations != 1 {
        return Err(invalid("a standard allocation takes NumAllocations 1"));
    }
    let standard = ptr::read_prefix::<_, usize>(&args.Anonymous1) as *const D3DKMT_CREATESTANDARDALLOCATION;
    let standard = ptr::in_ref(standard).ok_or(invalid("NULL pStandardAllocation"))?;
    if standard.Type != D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP {
        return Err(invalid("standard allocation type is not EXISTINGHEAP"));
    }
    let size: usize = ptr::read_prefix(&standard.Anonymous);
    let infos = ptr::read_prefix::<_, usize>(&args.Anonymous2) as *mut I;
    let mut info = *ptr::in_ref(infos.cast_const()).ok_or(invalid("NULL pAllocationInfo"))?;
    if info.system_mem() == 0 {
        return Err(invalid("NULL pSystemMem"));
    }
    let (p, n) = info.driver_data();
    let driver_data = ptr::read_bytes(p, n).ok_or(invalid("NULL per-allocation pPrivateDriverData"))?;
    let runtime = ptr::read_bytes(args.pPrivateRuntimeData, args.PrivateRuntimeDataSize)
        .ok_or(invalid("NULL pPrivateRuntimeData with a nonzero size"))?;
    let request = AllocationRequest { size: size as u64, driver_data, system_mem: info.system_mem() };
    let created = process.create_allocation(LocalHandle(args.hDevice), args.hResource, flags, &runtime, &request)?;
    info.set_handle(created.allocation.0);
    ptr::write_array(infos, &[info]);
    if let Some(r) = created.resource {
        args.hResource = r.0;
    }
    args.hGlobalShare = created.global_share;
    Ok(())
}

export! {
    /// `D3DKMTCreateAllocation`: see [`create_allocation`] (`D3DDDI_ALLOCATIONINFO`).
    /// `hPrivateRuntimeResourceHandle` and the size fields are left as they
    /// are (WINE #68, #70).
    D3DKMTCreateAllocation(args: *mut D3DKMT_CREATEALLOCATION) as PFND3DKMT_CREATEALLOCATION, |process| {
        create_allocation::<D3DDDI_ALLOCATIONINFO>(process, required(args)?)
    }
}

export! {
    /// `D3DKMTCreateAllocation2`: see [`create_allocation`] (`D3DDDI_ALLOCATIONINFO2`).
    D3DKMTCreateAllocation2(args: *mut D3DKMT_CREATEALLOCATION) as PFND3DKMT_CREATEALLOCATION2, |process| {
        create_allocation::<D3DDDI_ALLOCATIONINFO2>(process, required(args)?)
    }
}

fn destroy(process: &Process, device: u32, resource: u32, list: *const u32, count: u32) -> KResult<()> {
    let list = ptr::read_array(list, count as usize).ok_or(invalid("NULL phAllocationList with a nonzero count"))?;
    let list: Vec<LocalHandle> = list.into_iter().map(LocalHandle).collect();
    let resource = (resource != 0).then_some(LocalHandle(resource));
    process.destroy_allocations(LocalHandle(device), resource, &list)
}

export! {
    /// `D3DKMTDestroyAllocation`: see [`crate::Process::destroy_allocations`].
    D3DKMTDestroyAllocation(args: *const D3DKMT_DESTROYALLOCATION) as PFND3DKMT_DESTROYALLOCATION, |process| {
        let a = required_ref(args)?;
        destroy(process, a.hDevice, a.hResource, a.phAllocationList, a.AllocationCount)
    }
}

export! {
    /// `D3DKMTDestroyAllocation2`: as `DestroyAllocation`; `Flags` (timing
    /// hints) change nothing here.
    D3DKMTDestroyAllocation2(args: *const D3DKMT_DESTROYALLOCATION2) as PFND3DKMT_DESTROYALLOCATION2, |process| {
        let a = required_ref(args)?;
        destroy(process, a.hDevice, a.hResource, a.phAllocationList, a.AllocationCount)
    }
}

export! {
    /// `D3DKMTQueryResourceInfo`: see [`crate::Process::query_resource_info`].
    /// The runtime-data buffer is never written (WINE #86).
    D3DKMTQueryResourceInfo(args: *mut D3DKMT_QUERYRESOURCEINFO) as PFND3DKMT_QUERYRESOURCEINFO, |process| {
        let args = required(args)?;
        let info = process.query_resource_info(LocalHandle(args.hDevice), args.hGlobalShare)?;
        write_info(&info, &mut args.PrivateRuntimeDataSize, &mut args.TotalPrivateDriverDataSize,
            &mut args.ResourcePrivateDriverDataSize, &mut args.NumAllocations);
        Ok(())
    }
}

fn write_info(info: &ResourceInfo, runtime: &mut u32, total: &mut u32, resource: &mut u32, count: &mut u32) {
    *runtime = info.runtime_data_size;
    *total = info.total_driver_data_size;
    *resource = info.resource_driver_data_size;
    *count = info.num_allocations;
}

/// The caller's buffers of an open, checked before anything is created:
/// a NULL buffer with a nonzero size, or a NULL allocation array, is
/// `STATUS_INVALID_PARAMETER` (WINE #105).
struct OpenBuffers {
    infos: usize,
    runtime: *mut c_void,
    resource: *mut c_void,
    total: *mut c_void,
    sizes: OpenSizes,
}

impl OpenBuffers {
    fn check(self) -> KResult<OpenBuffers> {
        if self.infos == 0 {
            return Err(invalid("NULL pOpenAllocationInfo"));
        }
        for (p, n, what) in [
            (self.runtime, self.sizes.runtime_data, "NULL pPrivateRuntimeData"),
            (self.resource, self.sizes.resource_driver_data, "NULL pResourcePrivateDriverData"),
            (self.total, self.sizes.total_driver_data, "NULL pTotalPrivateDriverDataBuffer"),
        ] {
            if p.is_null() && n != 0 {
                return Err(invalid(what));
            }
        }
        Ok(self)
    }

    /// Writes the opened resource's data and per-allocation entries; each
    /// allocation's `pPrivateDriverData` points at its part of the total
    /// buffer (the caller's own allocation-data buffers are untouched).
    /// Returns the total driver data size.
    fn write<T: Copy>(&self, opened: &OpenedResource, set: impl Fn(&mut T, u32, *const c_void, u32)) -> u32 {
        ptr::write_bytes(self.runtime, &opened.runtime_data);
        ptr::write_bytes(self.resource, &opened.resource_driver_data);
        ptr::write_bytes(self.total, &opened.total_driver_data);
        let infos = self.infos as *mut T;
        let mut list = ptr::read_array(infos.cast_const(), opened.allocations.len()).expect("checked non-NULL");
        for (info, &(h, offset, size)) in list.iter_mut().zip(&opened.allocations) {
            let data = self.total.cast::<u8>().wrapping_add(offset as usize).cast_const().cast();
            set(info, h.0, data, size);
        }
        ptr::write_array(infos, &list);
        opened.total_driver_data.len() as u32
    }
}

fn set_info(info: &mut D3DDDI_OPENALLOCATIONINFO, h: u32, data: *const c_void, size: u32) {
    info.hAllocation = h;
    info.pPrivateDriverData = data;
    info.PrivateDriverDataSize = size;
}

fn set_info2(info: &mut D3DDDI_OPENALLOCATIONINFO2, h: u32, data: *const c_void, size: u32) {
    info.hAllocation = h;
    info.pPrivateDriverData = data;
    info.PrivateDriverDataSize = size;
}

fn open_resource(process: &Process, args: &mut D3DKMT_OPENRESOURCE, v2: bool) -> KResult<()> {
    let buffers = OpenBuffers {
        infos: ptr::read_prefix(&args.Anonymous),
        runtime: args.pPrivateRuntimeData,
        resource: args.pResourcePrivateDriverData,
        total: args.pTotalPrivateDriverDataBuffer,
        sizes: OpenSizes {
            num_allocations: args.NumAllocations,
            runtime_data: args.PrivateRuntimeDataSize,
            resource_driver_data: args.ResourcePrivateDriverDataSize,
            total_driver_data: args.TotalPrivateDriverDataBufferSize,
        },
    }
    .check()?;
    let opened = process.open_resource(LocalHandle(args.hDevice), args.hGlobalShare, &buffers.sizes)?;
    args.TotalPrivateDriverDataBufferSize =
        if v2 { buffers.write(&opened, set_info2) } else { buffers.write(&opened, set_info) };
    args.hResource = opened.resource.0;
    Ok(())
}

export! {
    /// `D3DKMTOpenResource`: see [`crate::Process::open_resource`]
    /// (`D3DDDI_OPENALLOCATIONINFO`). `hGlobalShare` is left as it is;
    /// `TotalPrivateDriverDataBufferSize` becomes the bytes written.
    D3DKMTOpenResource(args: *mut D3DKMT_OPENRESOURCE) as PFND3DKMT_OPENRESOURCE, |process| {
        open_resource(process, required(args)?, false)
    }
}

export! {
    /// `D3DKMTOpenResource2`: as `OpenResource`, with
    /// `D3DDDI_OPENALLOCATIONINFO2` (WINE #89).
    D3DKMTOpenResource2(args: *mut D3DKMT_OPENRESOURCE) as PFND3DKMT_OPENRESOURCE2, |process| {
        open_resource(process, required(args)?, true)
    }
}

export! {
    /// `D3DKMTQueryResourceInfoFromNtHandle`: see
    /// [`crate::Process::query_resource_info_from_nt_handle`]. Whatever the
    /// sizes given, only sizes come back (WINE #103).
    D3DKMTQueryResourceInfoFromNtHandle(args: *mut D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE)
        as PFND3DKMT_QUERYRESOURCEINFOFROMNTHANDLE, |process| {
        let args = required(args)?;
        let info =
            process.query_resource_info_from_nt_handle(LocalHandle(args.hDevice), NtHandle::from_ptr(args.hNtHandle))?;
        write_info(&info, &mut args.PrivateRuntimeDataSize, &mut args.TotalPrivateDriverDataSize,
            &mut args.ResourcePrivateDriverDataSize, &mut args.NumAllocations);
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenResourceFromNtHandle`: see
    /// [`crate::Process::open_resource_from_nt_handle`]. `hKeyedMutex`,
    /// `hSyncObject` and `KeyedMutexPrivateRuntimeDataSize` come back 0 for
    /// a resource shared alone (WINE #104); `pKeyedMutexPrivateRuntimeData`
    /// is never written.
    D3DKMTOpenResourceFromNtHandle(args: *mut D3DKMT_OPENRESOURCEFROMNTHANDLE)
        as PFND3DKMT_OPENRESOURCEFROMNTHANDLE, |process| {
        let args = required(args)?;
        let buffers = OpenBuffers {
            infos: args.pOpenAllocationInfo2 as usize,
            runtime: args.pPrivateRuntimeData,
            resource: args.pResourcePrivateDriverData,
            total: args.pTotalPrivateDriverDataBuffer,
            sizes: OpenSizes {
                num_allocations: args.NumAllocations,
                runtime_data: args.PrivateRuntimeDataSize,
                resource_driver_data: args.ResourcePrivateDriverDataSize,
                total_driver_data: args.TotalPrivateDriverDataBufferSize,
            },
        }
        .check()?;
        let opened = process.open_resource_from_nt_handle(
            LocalHandle(args.hDevice),
            NtHandle::from_ptr(args.hNtHandle),
            &buffers.sizes,
        )?;
        args.TotalPrivateDriverDataBufferSize = buffers.write(&opened, set_info2);
        args.hResource = opened.resource.0;
        let (mutex, mutex_size) = opened.keyed_mutex.map_or((0, 0), |(h, n)| (h.0, n));
        args.hKeyedMutex = mutex;
        args.KeyedMutexPrivateRuntimeDataSize = mutex_size;
        args.hSyncObject = opened.sync_object.map_or(0, |h| h.0);
        Ok(())
    }
}

export! {
    /// `D3DKMTGetSharedResourceAdapterLuid`: see
    /// [`crate::Process::shared_resource_adapter_luid`].
    D3DKMTGetSharedResourceAdapterLuid(args: *mut D3DKMT_GETSHAREDRESOURCEADAPTERLUID)
        as PFND3DKMT_GETSHAREDRESOURCEADAPTERLUID, |process| {
        let args = required(args)?;
        let luid = process.shared_resource_adapter_luid(args.hGlobalShare, NtHandle::from_ptr(args.hNtHandle))?;
        args.AdapterLuid = LUID { LowPart: luid.low, HighPart: luid.high };
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenNtHandleFromName`: see
    /// [`crate::Process::open_nt_handle_from_name`]. NULL or nameless object
    /// attributes are `STATUS_INVALID_PARAMETER` (WINE #102).
    D3DKMTOpenNtHandleFromName(args: *mut D3DKMT_OPENNTHANDLEFROMNAME) as PFND3DKMT_OPENNTHANDLEFROMNAME, |process| {
        let args = required(args)?;
        let name = super::share::object_name(args.pObjAttrib)?.ok_or(invalid("no object name"))?;
        let nt = process.open_nt_handle_from_name(&name, args.dwDesiredAccess)?;
        args.hNtHandle = nt.as_ptr();
        Ok(())
    }
}
