//! Conformance scenarios and raw calls: Keyed mutexes, allocations and resources, and combined sharing (WINE #54-#91, #101-#107).
//! The rows are in `fixtures/conformance/objects.tsv`.

use core::ffi::c_void;

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::{HANDLE, UNICODE_STRING};

use super::{Check, Ctx, JUNK, SHARED_NT, Scenario};
use crate::abi::exports::{
    D3DKMTAcquireKeyedMutex, D3DKMTAcquireKeyedMutex2, D3DKMTCreateAllocation, D3DKMTCreateAllocation2,
    D3DKMTCreateKeyedMutex, D3DKMTCreateKeyedMutex2, D3DKMTDestroyAllocation, D3DKMTDestroyAllocation2,
    D3DKMTDestroyDevice, D3DKMTDestroyKeyedMutex, D3DKMTDestroySynchronizationObject,
    D3DKMTGetSharedResourceAdapterLuid, D3DKMTOpenKeyedMutex, D3DKMTOpenKeyedMutex2, D3DKMTOpenKeyedMutexFromNtHandle,
    D3DKMTOpenNtHandleFromName, D3DKMTOpenResource, D3DKMTOpenResource2, D3DKMTOpenResourceFromNtHandle,
    D3DKMTQueryResourceInfo, D3DKMTQueryResourceInfoFromNtHandle, D3DKMTReleaseKeyedMutex, D3DKMTReleaseKeyedMutex2,
};
use crate::{NtHandle, NtStatus, access};

/// `D3DKMT_CREATEALLOCATIONFLAGS` bits.
const CREATE_RESOURCE: u32 = 0x1;
const CREATE_SHARED: u32 = 0x2;
const EXISTING_SYSMEM: u32 = 0x20;
const NT_SECURITY_SHARING: u32 = 0x40;
const STANDARD_ALLOCATION: u32 = 0x1_0000;
/// The Wine tests' baseline: a standard allocation over existing memory.
const BASE: u32 = EXISTING_SYSMEM | STANDARD_ALLOCATION;
const RUNTIME: [u8; 4] = *b"rt04";

fn is_local(h: u32) -> bool {
    h != 0 && h & 0x3F == 0 && h & 0xC000_0000 != 0
}

fn is_global(h: u32) -> bool {
    h & 0x3F == 2 && h & 0xC000_0000 != 0
}

/// A `D3DKMTCreateAllocation(2)` call's arguments and the buffers they point
/// at; the pointers are set at call time, so the value may move.
struct Alloc {
    mem: Vec<u64>,
    standard: D3DKMT_CREATESTANDARDALLOCATION,
    info: D3DDDI_ALLOCATIONINFO,
    info2: D3DDDI_ALLOCATIONINFO2,
    runtime: [u8; 4],
    args: D3DKMT_CREATEALLOCATION,
    /// Point `pPrivateRuntimeData` at the 4-byte runtime blob.
    with_runtime: bool,
}

impl Alloc {
    /// The baseline on `device` with `flags` (plus the 4-byte runtime blob
    /// when a resource is created, as Wine's tests do).
    fn new(device: u32, flags: u32) -> Alloc {
        let mut standard =
            D3DKMT_CREATESTANDARDALLOCATION { Type: D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP, ..Default::default() };
        standard.Anonymous.ExistingHeapData.Size = 0x10000;
        let mut args = D3DKMT_CREATEALLOCATION { hDevice: device, NumAllocations: 1, ..Default::default() };
        args.Flags._bitfield = flags;
        args.hPrivateRuntimeResourceHandle = 0x1234 as HANDLE;
        Alloc {
            mem: vec![0; 0x10000 / 8],
            standard,
            info: D3DDDI_ALLOCATIONINFO::default(),
            info2: D3DDDI_ALLOCATIONINFO2::default(),
            runtime: RUNTIME,
            args,
            with_runtime: flags & CREATE_RESOURCE != 0,
        }
    }

    fn prepare(&mut self) {
        self.args.Anonymous1.pStandardAllocation = &mut self.standard;
        self.info.pSystemMem = self.mem.as_ptr().cast();
        self.info2.Anonymous1.pSystemMem = self.mem.as_ptr().cast();
        if self.with_runtime {
            self.args.pPrivateRuntimeData = self.runtime.as_ptr().cast();
            self.args.PrivateRuntimeDataSize = 4;
        }
    }

    /// `D3DKMTCreateAllocation` (v1 allocation info).
    fn call(&mut self) -> NtStatus {
        self.prepare();
        self.args.Anonymous2.pAllocationInfo = &mut self.info;
        NtStatus(D3DKMTCreateAllocation(&mut self.args))
    }

    /// `D3DKMTCreateAllocation2` (v2 allocation info).
    fn call2(&mut self) -> NtStatus {
        self.prepare();
        self.args.Anonymous2.pAllocationInfo2 = &mut self.info2;
        NtStatus(D3DKMTCreateAllocation2(&mut self.args))
    }

    /// Creates it (v1) and returns (hResource, hAllocation, hGlobalShare).
    fn create(device: u32, flags: u32) -> (u32, u32, u32) {
        let mut a = Alloc::new(device, flags);
        a.call().unwrap();
        (a.args.hResource, a.info.hAllocation, a.args.hGlobalShare)
    }
}

fn destroy_allocs(device: u32, resource: u32, list: &[u32]) -> NtStatus {
    let args = D3DKMT_DESTROYALLOCATION {
        hDevice: device,
        hResource: resource,
        phAllocationList: if list.is_empty() { core::ptr::null() } else { list.as_ptr() },
        AllocationCount: list.len() as u32,
    };
    NtStatus(D3DKMTDestroyAllocation(&args))
}

fn create_km(initial: u64) -> D3DKMT_CREATEKEYEDMUTEX {
    let mut args = D3DKMT_CREATEKEYEDMUTEX { InitialValue: initial, hSharedHandle: JUNK, hKeyedMutex: JUNK };
    NtStatus(D3DKMTCreateKeyedMutex(&mut args)).unwrap();
    args
}

fn create_km2(data: &[u8], nt: bool) -> D3DKMT_CREATEKEYEDMUTEX2 {
    let mut args = D3DKMT_CREATEKEYEDMUTEX2 {
        hSharedHandle: JUNK,
        hKeyedMutex: JUNK,
        pPrivateRuntimeData: if data.is_empty() { core::ptr::null_mut() } else { data.as_ptr().cast_mut().cast() },
        PrivateRuntimeDataSize: data.len() as u32,
        ..Default::default()
    };
    args.Flags.Anonymous.Value = u32::from(nt);
    NtStatus(D3DKMTCreateKeyedMutex2(&mut args)).unwrap();
    args
}

fn open_km2(global: u32, buffer: Option<&mut [u8]>, size: u32) -> (NtStatus, D3DKMT_OPENKEYEDMUTEX2) {
    let mut args = D3DKMT_OPENKEYEDMUTEX2 {
        hSharedHandle: global,
        hKeyedMutex: JUNK,
        pPrivateRuntimeData: buffer.map_or(core::ptr::null_mut(), |b| b.as_mut_ptr().cast()),
        PrivateRuntimeDataSize: size,
    };
    (NtStatus(D3DKMTOpenKeyedMutex2(&mut args)), args)
}

fn destroy_km(h: u32) -> NtStatus {
    NtStatus(D3DKMTDestroyKeyedMutex(&D3DKMT_DESTROYKEYEDMUTEX { hKeyedMutex: h }))
}

/// Acquires with `timeout` (100 ns units; negative is relative; `None` for
/// ever); returns the status and the fence value.
fn acquire(h: u32, key: u64, timeout: Option<i64>) -> (NtStatus, u64) {
    let mut t = timeout.unwrap_or(0);
    let mut args = D3DKMT_ACQUIREKEYEDMUTEX {
        hKeyedMutex: h,
        Key: key,
        pTimeout: if timeout.is_some() { &mut t } else { core::ptr::null_mut() },
        FenceValue: u64::from(JUNK),
    };
    let status = NtStatus(D3DKMTAcquireKeyedMutex(&mut args));
    (status, args.FenceValue)
}

fn release(h: u32, key: u64, fence: u64) -> NtStatus {
    let mut args = D3DKMT_RELEASEKEYEDMUTEX { hKeyedMutex: h, Key: key, FenceValue: fence };
    NtStatus(D3DKMTReleaseKeyedMutex(&mut args))
}

fn share(objects: &[u32]) -> (NtStatus, HANDLE) {
    Ctx::share(objects, access::GENERIC_ALL)
}

fn share_named(objects: &[u32], name: &str) -> (NtStatus, HANDLE) {
    let name: Vec<u16> = name.encode_utf16().collect();
    let s = UNICODE_STRING {
        Length: (name.len() * 2) as u16,
        MaximumLength: (name.len() * 2) as u16,
        Buffer: name.as_ptr().cast_mut(),
    };
    let attributes =
        OBJECT_ATTRIBUTES { Length: size_of::<OBJECT_ATTRIBUTES>() as u32, ObjectName: &s, ..Default::default() };
    let mut nt: HANDLE = core::ptr::null_mut();
    let status = crate::abi::exports::D3DKMTShareObjects(
        objects.len() as u32,
        objects.as_ptr(),
        &attributes,
        access::GENERIC_ALL,
        &mut nt,
    );
    (NtStatus(status), nt)
}

fn open_by_name(name: &str, desired: u32) -> (NtStatus, HANDLE) {
    let name: Vec<u16> = name.encode_utf16().collect();
    let mut s = UNICODE_STRING {
        Length: (name.len() * 2) as u16,
        MaximumLength: (name.len() * 2) as u16,
        Buffer: name.as_ptr().cast_mut(),
    };
    let mut attributes =
        OBJECT_ATTRIBUTES { Length: size_of::<OBJECT_ATTRIBUTES>() as u32, ObjectName: &mut s, ..Default::default() };
    let mut args = D3DKMT_OPENNTHANDLEFROMNAME {
        dwDesiredAccess: desired,
        pObjAttrib: &mut attributes,
        hNtHandle: JUNK as HANDLE,
    };
    let status = NtStatus(D3DKMTOpenNtHandleFromName(&mut args));
    (status, args.hNtHandle)
}

/// Buffers for an open with the exact sizes of a one-allocation resource
/// with 4 bytes of runtime data.
struct OpenBufs {
    runtime: [u8; 0x100],
    resource: [u8; 0x100],
    total: [u8; 0x1000],
    alloc_data: [u8; 0x100],
    info: D3DDDI_OPENALLOCATIONINFO,
    info2: D3DDDI_OPENALLOCATIONINFO2,
}

impl OpenBufs {
    fn new() -> OpenBufs {
        OpenBufs {
            runtime: [0xCC; 0x100],
            resource: [0xCC; 0x100],
            total: [0xCC; 0x1000],
            alloc_data: [0xCC; 0x100],
            info: D3DDDI_OPENALLOCATIONINFO { hAllocation: JUNK, ..Default::default() },
            info2: D3DDDI_OPENALLOCATIONINFO2 { hAllocation: JUNK, ..Default::default() },
        }
    }

    fn open_args(&mut self, device: u32, global: u32, v2: bool) -> D3DKMT_OPENRESOURCE {
        self.info.pPrivateDriverData = self.alloc_data.as_ptr().cast();
        self.info2.pPrivateDriverData = self.alloc_data.as_ptr().cast();
        let mut args = D3DKMT_OPENRESOURCE {
            hDevice: device,
            hGlobalShare: global,
            NumAllocations: 1,
            pPrivateRuntimeData: self.runtime.as_mut_ptr().cast(),
            PrivateRuntimeDataSize: 4,
            pResourcePrivateDriverData: self.resource.as_mut_ptr().cast(),
            ResourcePrivateDriverDataSize: 0,
            pTotalPrivateDriverDataBuffer: self.total.as_mut_ptr().cast(),
            TotalPrivateDriverDataBufferSize: 0x1000,
            hResource: JUNK,
            ..Default::default()
        };
        if v2 {
            args.Anonymous.pOpenAllocationInfo2 = &mut self.info2;
        } else {
            args.Anonymous.pOpenAllocationInfo = &mut self.info;
        }
        args
    }

    fn nt_open_args(&mut self, device: u32, nt: HANDLE) -> D3DKMT_OPENRESOURCEFROMNTHANDLE {
        self.info2.pPrivateDriverData = self.alloc_data.as_ptr().cast();
        D3DKMT_OPENRESOURCEFROMNTHANDLE {
            hDevice: device,
            hNtHandle: nt,
            NumAllocations: 1,
            pOpenAllocationInfo2: &mut self.info2,
            PrivateRuntimeDataSize: 4,
            pPrivateRuntimeData: self.runtime.as_mut_ptr().cast(),
            ResourcePrivateDriverDataSize: 0,
            pResourcePrivateDriverData: self.resource.as_mut_ptr().cast(),
            TotalPrivateDriverDataBufferSize: 0x1000,
            pTotalPrivateDriverDataBuffer: self.total.as_mut_ptr().cast(),
            hResource: JUNK,
            hKeyedMutex: JUNK,
            pKeyedMutexPrivateRuntimeData: core::ptr::null_mut(),
            KeyedMutexPrivateRuntimeDataSize: JUNK,
            hSyncObject: JUNK,
        }
    }
}

/// A device and a resource created with `flags` | CreateResource | BASE.
fn resource(ctx: &Ctx, flags: u32) -> (u32, u32, u32, u32) {
    let device = ctx.device();
    let (r, a, g) = Alloc::create(device, BASE | CREATE_RESOURCE | flags);
    (device, r, a, g)
}

/// A device and an NT-shareable resource shared alone.
fn shared_resource_nt(ctx: &Ctx) -> (u32, HANDLE) {
    let (device, r, _, _) = resource(ctx, CREATE_SHARED | NT_SECURITY_SHARING);
    let (status, nt) = share(&[r]);
    status.unwrap();
    (device, nt)
}

/// (device, resource, keyed mutex, sync) all NT-shareable; the mutex has 20
/// bytes of runtime data.
fn triple(ctx: &Ctx) -> (u32, u32, u32, u32) {
    let (device, r, _, _) = resource(ctx, CREATE_SHARED | NT_SECURITY_SHARING);
    let km = create_km2(&[7u8; 20], true).hKeyedMutex;
    let sync = ctx.fence(device, SHARED_NT);
    (device, r, km, sync)
}

/// The scenario called `name`, if this area has it.
pub(super) fn scenario(name: &str) -> Option<Scenario> {
    keyed_mutex_scenario(name).or_else(|| allocation_scenario(name)).or_else(|| share_scenario(name))
}

fn keyed_mutex_scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "km_create_zeroed" => |_, c| {
            let mut args = D3DKMT_CREATEKEYEDMUTEX { hSharedHandle: JUNK, hKeyedMutex: JUNK, ..Default::default() };
            let status = NtStatus(D3DKMTCreateKeyedMutex(&mut args));
            c.that(is_local(args.hKeyedMutex), format!("hKeyedMutex {:#x} not local (WINE #1)", args.hKeyedMutex));
            c.that(
                is_global(args.hSharedHandle),
                format!("hSharedHandle {:#x} not global (WINE #3)", args.hSharedHandle),
            );
            status
        },
        "km_open_local_handle" => |_, _| {
            let km = create_km(0);
            let mut args = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: 0, hKeyedMutex: km.hKeyedMutex };
            NtStatus(D3DKMTOpenKeyedMutex(&mut args))
        },
        "km_open_global" => |_, c| {
            let km = create_km(0);
            let mut args = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: JUNK };
            let status = NtStatus(D3DKMTOpenKeyedMutex(&mut args));
            c.that(is_local(args.hKeyedMutex) && args.hKeyedMutex != km.hKeyedMutex, "no new local handle (WINE #4)");
            status
        },
        "km_open_global_other_process" => |ctx, c| {
            let km = create_km(0);
            let _b = ctx.b.enter();
            let mut args = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: JUNK };
            let status = NtStatus(D3DKMTOpenKeyedMutex(&mut args));
            c.that(is_local(args.hKeyedMutex), "no local handle in the other process");
            status
        },
        "km_dead_process_keeps_nothing" => |ctx, c| {
            let km = create_km(0);
            {
                let _b = ctx.b.enter();
                let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: 0 };
                c.that(NtStatus(D3DKMTOpenKeyedMutex(&mut open)).is_ok(), "B's open failed");
            }
            // B exits without destroying its handle; A destroys its last one.
            ctx.b.exit();
            c.that(destroy_km(km.hKeyedMutex).is_ok(), "A's destroy failed");
            let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: JUNK };
            NtStatus(D3DKMTOpenKeyedMutex(&mut open))
        },
        "km_destroy_twice" => |_, c| {
            let km = create_km(0);
            c.that(destroy_km(km.hKeyedMutex).is_ok(), "first destroy failed");
            destroy_km(km.hKeyedMutex)
        },
        "km_destroy_global" => |_, c| {
            let km = create_km(0);
            let status = destroy_km(km.hSharedHandle);
            let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: JUNK };
            c.that(NtStatus(D3DKMTOpenKeyedMutex(&mut open)).is_ok(), "global unusable after a destroy attempt");
            status
        },
        "km_open_after_destroy" => |ctx, c| {
            let km = create_km(0);
            let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: JUNK };
            NtStatus(D3DKMTOpenKeyedMutex(&mut open)).unwrap();
            destroy_km(km.hKeyedMutex).unwrap();
            c.that(NtStatus(D3DKMTOpenKeyedMutex(&mut open)).is_ok(), "WINE #7: an opened handle keeps it openable");
            destroy_km(open.hKeyedMutex).unwrap();
            // The second open above made another handle; destroy every one.
            for (h, _) in ctx.a.local_handles() {
                let _ = destroy_km(h.0);
            }
            c.that(ctx.kernel.live_global_handles() == 0, "global handle outlived the mutex");
            open.hKeyedMutex = JUNK;
            let status = NtStatus(D3DKMTOpenKeyedMutex(&mut open));
            c.that(open.hKeyedMutex == JUNK, "hKeyedMutex written on failure");
            status
        },
        "km2_create_zeroed" => |_, c| {
            let mut args = D3DKMT_CREATEKEYEDMUTEX2 { hSharedHandle: JUNK, hKeyedMutex: JUNK, ..Default::default() };
            let status = NtStatus(D3DKMTCreateKeyedMutex2(&mut args));
            c.that(is_local(args.hKeyedMutex), "no local handle");
            c.that(is_global(args.hSharedHandle), "no global handle (WINE #3)");
            status
        },
        "km2_open_global" => |_, c| {
            let km = create_km2(&[], false);
            let (status, args) = open_km2(km.hSharedHandle, None, 0);
            c.that(is_local(args.hKeyedMutex), "no local handle");
            status
        },
        "km2_open_size_without_buffer" => |_, _| {
            let km = create_km2(&[], false);
            open_km2(km.hSharedHandle, None, 64).0
        },
        "km2_open_no_data_64" => |_, c| {
            let km = create_km2(&[], false);
            let mut buf = [0xCCu8; 64];
            let (status, args) = open_km2(km.hSharedHandle, Some(&mut buf), 64);
            c.that(args.PrivateRuntimeDataSize == 64, "size shrunk (WINE #62)");
            status
        },
        "km2_open_6_size0" => |_, c| {
            let km = create_km2(b"sixsix", false);
            let (status, args) = open_km2(km.hSharedHandle, None, 0);
            c.that(args.PrivateRuntimeDataSize == 0, "size changed");
            status
        },
        "km2_open_6_null64" => |_, _| {
            let km = create_km2(b"sixsix", false);
            open_km2(km.hSharedHandle, None, 64).0
        },
        "km2_open_6_size5" => |_, _| {
            let km = create_km2(b"sixsix", false);
            let mut buf = [0xCCu8; 64];
            open_km2(km.hSharedHandle, Some(&mut buf), 5).0
        },
        "km2_open_6_exact" => |_, c| {
            let km = create_km2(b"sixsix", false);
            let mut buf = [0xCCu8; 64];
            let (status, args) = open_km2(km.hSharedHandle, Some(&mut buf), 6);
            c.that(args.PrivateRuntimeDataSize == 6, "size changed");
            c.that(buf == [0xCC; 64], "runtime data copied back (Windows does not)");
            status
        },
        "km2_nt_security_sharing" => |_, c| {
            let mut args = D3DKMT_CREATEKEYEDMUTEX2 { hSharedHandle: JUNK, hKeyedMutex: JUNK, ..Default::default() };
            args.Flags.Anonymous.Value = 1;
            let status = NtStatus(D3DKMTCreateKeyedMutex2(&mut args));
            c.that(is_local(args.hKeyedMutex), "no local handle");
            c.that(args.hSharedHandle == 0, format!("hSharedHandle {:#x}, want 0", args.hSharedHandle));
            status
        },
        "km_share_alone_local" => |_, _| share(&[create_km(0).hKeyedMutex]).0,
        "km_share_alone_global" => |_, _| share(&[create_km(0).hSharedHandle]).0,
        "km_share_alone_nt" => |_, _| share(&[create_km2(&[], true).hKeyedMutex]).0,
        "km_acquire_initial_key" => |_, c| {
            let km = create_km(5);
            let (status, fence) = acquire(km.hKeyedMutex, 5, None);
            c.that(fence == 0, format!("fence {fence}, want 0 before any release"));
            status
        },
        "km_acquire_wrong_key_times_out" => |_, c| {
            let km = create_km(0);
            let mut args = D3DKMT_ACQUIREKEYEDMUTEX { hKeyedMutex: km.hKeyedMutex, Key: 1, ..Default::default() };
            let mut t: i64 = 0;
            args.pTimeout = &mut t;
            args.FenceValue = 77;
            let status = NtStatus(D3DKMTAcquireKeyedMutex(&mut args));
            c.that(args.FenceValue == 77, "FenceValue written on timeout");
            status
        },
        "km_acquire_ten_seconds_virtual" => |_, c| {
            let km = create_km(0);
            let wall = std::time::Instant::now();
            let (status, _) = acquire(km.hKeyedMutex, 1, Some(-100_000_000));
            c.that(wall.elapsed() < std::time::Duration::from_secs(1), "a 10 s virtual timeout took wall time");
            status
        },
        "km_acquire_owned_times_out" => |_, c| {
            let km = create_km(0);
            c.that(acquire(km.hKeyedMutex, 0, None).0.is_ok(), "first acquire failed");
            acquire(km.hKeyedMutex, 0, Some(-10_000)).0
        },
        "km_release_fence_round_trip" => |_, c| {
            let km = create_km(0);
            acquire(km.hKeyedMutex, 0, None).0.unwrap();
            release(km.hKeyedMutex, 1, 42).unwrap();
            let (status, fence) = acquire(km.hKeyedMutex, 1, Some(0));
            c.that(fence == 42, format!("fence {fence}, want 42"));
            status
        },
        "km_release_not_owner" => |_, _| {
            let km = create_km(0);
            release(km.hKeyedMutex, 1, 1)
        },
        "km_release_other_handle" => |_, c| {
            let km = create_km(0);
            let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: 0 };
            NtStatus(D3DKMTOpenKeyedMutex(&mut open)).unwrap();
            c.that(acquire(km.hKeyedMutex, 0, None).0.is_ok(), "acquire failed");
            release(open.hKeyedMutex, 1, 1)
        },
        "km2_runtime_data_round_trip" => |_, c| {
            let km = create_km(0);
            acquire(km.hKeyedMutex, 0, None).0.unwrap();
            let mut data = *b"handoff!";
            let mut rel = D3DKMT_RELEASEKEYEDMUTEX2 {
                hKeyedMutex: km.hKeyedMutex,
                Key: 3,
                FenceValue: 9,
                pPrivateRuntimeData: data.as_mut_ptr().cast(),
                PrivateRuntimeDataSize: 8,
            };
            NtStatus(D3DKMTReleaseKeyedMutex2(&mut rel)).unwrap();
            let mut small = [0u8; 4];
            let mut acq = D3DKMT_ACQUIREKEYEDMUTEX2 {
                hKeyedMutex: km.hKeyedMutex,
                Key: 3,
                pPrivateRuntimeData: small.as_mut_ptr().cast(),
                PrivateRuntimeDataSize: 4,
                ..Default::default()
            };
            c.that(
                NtStatus(D3DKMTAcquireKeyedMutex2(&mut acq)) == NtStatus::BUFFER_TOO_SMALL,
                "short buffer not refused",
            );
            let mut out = [0u8; 16];
            acq.pPrivateRuntimeData = out.as_mut_ptr().cast();
            acq.PrivateRuntimeDataSize = 16;
            let status = NtStatus(D3DKMTAcquireKeyedMutex2(&mut acq));
            c.that(&out[..8] == b"handoff!", "runtime data not handed over");
            c.that(acq.FenceValue == 9, "fence not handed over");
            status
        },
        "km_abandoned_by_exit" => |ctx, c| {
            let km = create_km(0);
            {
                let _b = ctx.b.enter();
                let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: 0 };
                NtStatus(D3DKMTOpenKeyedMutex(&mut open)).unwrap();
                c.that(acquire(open.hKeyedMutex, 0, None).0.is_ok(), "B's acquire failed");
            }
            ctx.b.exit();
            c.that(release(km.hKeyedMutex, 0, 0) == NtStatus::ABANDONED, "release after abandonment");
            acquire(km.hKeyedMutex, 0, Some(0)).0
        },
        "km_abandoned_by_destroy" => |_, _| {
            let km = create_km(0);
            let mut open = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: km.hSharedHandle, hKeyedMutex: 0 };
            NtStatus(D3DKMTOpenKeyedMutex(&mut open)).unwrap();
            acquire(open.hKeyedMutex, 0, None).0.unwrap();
            destroy_km(open.hKeyedMutex).unwrap();
            acquire(km.hKeyedMutex, 0, None).0
        },
        _ => return None,
    })
}

fn allocation_scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "alloc_baseline" => |ctx, c| {
            let mut a = Alloc::new(ctx.device(), BASE);
            a.args.hGlobalShare = JUNK;
            let status = a.call();
            c.that(a.args.hGlobalShare == 0, "hGlobalShare not 0 (WINE #68)");
            c.that(a.args.hResource == 0, "hResource changed");
            c.that(is_local(a.info.hAllocation), "no local hAllocation");
            c.that(a.args.hPrivateRuntimeResourceHandle as usize == 0x1234, "hPrivateRuntimeResourceHandle written");
            status
        },
        "alloc2_baseline" => |ctx, c| {
            let mut a = Alloc::new(ctx.device(), BASE);
            let status = a.call2();
            c.that(is_local(a.info2.hAllocation), "no local hAllocation");
            c.that(a.args.PrivateRuntimeDataSize == 0 && a.args.PrivateDriverDataSize == 0, "sizes changed");
            c.that(a.info2.PrivateDriverDataSize == 0, "per-allocation size changed (WINE #70)");
            let list = [a.info2.hAllocation];
            let d2 = D3DKMT_DESTROYALLOCATION2 {
                hDevice: a.args.hDevice,
                phAllocationList: list.as_ptr(),
                AllocationCount: 1,
                ..Default::default()
            };
            c.that(NtStatus(D3DKMTDestroyAllocation2(&d2)).is_ok(), "DestroyAllocation2 failed");
            c.that(NtStatus(D3DKMTDestroyAllocation2(&d2)).is_err(), "DestroyAllocation2 twice succeeded");
            status
        },
        "alloc_private_data_accepted" => |ctx, c| {
            let mut a = Alloc::new(ctx.device(), BASE);
            let drv = *b"drvdat";
            a.info2.pPrivateDriverData = drv.as_ptr().cast_mut().cast();
            a.info2.PrivateDriverDataSize = 6;
            c.that(a.call2().is_ok(), "per-allocation private data refused");
            let mut b = Alloc::new(a.args.hDevice, BASE);
            b.with_runtime = true;
            b.call2()
        },
        "alloc_driver_data_size" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE);
            a.args.PrivateDriverDataSize = 6;
            a.call()
        },
        "alloc_no_device" => |_, _| Alloc::new(0, BASE).call(),
        "alloc_bogus_resource" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE);
            a.args.hResource = JUNK;
            a.call()
        },
        "alloc_bogus_resource_create" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE | CREATE_RESOURCE);
            a.args.hResource = JUNK;
            a.call()
        },
        "alloc_num0" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE);
            a.args.NumAllocations = 0;
            a.call()
        },
        "alloc_num2" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE);
            a.args.NumAllocations = 2;
            a.call()
        },
        "alloc_type0" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE);
            a.standard.Type = 0;
            a.call()
        },
        "alloc_no_sysmem" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE);
            a.prepare();
            a.info.pSystemMem = core::ptr::null();
            a.args.Anonymous2.pAllocationInfo = &mut a.info;
            NtStatus(D3DKMTCreateAllocation(&mut a.args))
        },
        "alloc_size_not_page" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE);
            a.standard.Anonymous.ExistingHeapData.Size = 0x1100;
            a.call()
        },
        "alloc_no_existing_sysmem" => |ctx, _| Alloc::new(ctx.device(), STANDARD_ALLOCATION).call(),
        "alloc_not_standard" => |ctx, _| Alloc::new(ctx.device(), EXISTING_SYSMEM).call(),
        "alloc_shared_without_resource" => |ctx, _| Alloc::new(ctx.device(), BASE | CREATE_SHARED).call(),
        "alloc_create_resource" => |ctx, c| {
            let mut a = Alloc::new(ctx.device(), BASE | CREATE_RESOURCE);
            let status = a.call();
            let (r, al) = (a.args.hResource, a.info.hAllocation);
            c.that(is_local(r), "no local hResource");
            c.that(al == r + 0x40, format!("allocation {al:#x} not resource {r:#x} + 0x40 (WINE #2, #79)"));
            c.that(a.args.hGlobalShare == 0, "hGlobalShare not 0");
            status
        },
        "destroy_alloc_count0" => |ctx, _| destroy_allocs(ctx.device(), 0, &[]),
        "destroy_alloc_null_list" => |ctx, _| {
            let args = D3DKMT_DESTROYALLOCATION {
                hDevice: ctx.device(),
                hResource: 0,
                phAllocationList: core::ptr::null(),
                AllocationCount: 1,
            };
            NtStatus(D3DKMTDestroyAllocation(&args))
        },
        "destroy_alloc_twice" => |ctx, c| {
            let device = ctx.device();
            let (_, a, _) = Alloc::create(device, BASE);
            c.that(destroy_allocs(device, 0, &[a]).is_ok(), "first destroy failed");
            destroy_allocs(device, 0, &[a])
        },
        "destroy_resource_twice" => |ctx, c| {
            let (device, r, a, _) = resource(ctx, 0);
            c.that(destroy_allocs(device, 0, &[a]).is_ok(), "allocation destroy failed");
            c.that(destroy_allocs(device, r, &[]).is_ok(), "resource outlived... destroy failed (WINE #80)");
            destroy_allocs(device, r, &[])
        },
        "alloc_add_to_resource" => |ctx, _| {
            let (device, r, _, _) = resource(ctx, 0);
            let mut a = Alloc::new(device, BASE);
            a.args.hResource = r;
            a.call()
        },
        "destroy_resource_destroys_allocations" => |ctx, c| {
            let (device, r, a, _) = resource(ctx, 0);
            c.that(destroy_allocs(device, r, &[]).is_ok(), "resource destroy failed");
            c.that(ctx.kernel.live_objects(crate::ObjectKind::Allocation) == 0, "allocation outlived its resource");
            destroy_allocs(device, 0, &[a])
        },
        "alloc_resource_num0" => |ctx, _| {
            let mut a = Alloc::new(ctx.device(), BASE | CREATE_RESOURCE);
            a.args.NumAllocations = 0;
            a.call()
        },
        "device_destroy_frees_allocations" => |ctx, c| {
            let (device, r, a, _) = resource(ctx, 0);
            let (_, lone, _) = Alloc::create(device, BASE);
            c.that(NtStatus(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device })).is_ok(), "destroy device");
            c.that(ctx.kernel.live_objects(crate::ObjectKind::Resource) == 0, "resource outlived its device");
            c.that(ctx.kernel.live_objects(crate::ObjectKind::Allocation) == 0, "allocation outlived its device");
            let device2 = ctx.device();
            c.that(destroy_allocs(device2, r, &[]).is_err(), "resource handle still valid");
            c.that(destroy_allocs(device2, 0, &[lone]).is_err(), "allocation handle still valid");
            destroy_allocs(device2, 0, &[a])
        },
        "query_local_handle" => |ctx, _| {
            let (device, r, _, _) = resource(ctx, CREATE_SHARED);
            let mut q = D3DKMT_QUERYRESOURCEINFO { hDevice: device, hGlobalShare: r, ..Default::default() };
            NtStatus(D3DKMTQueryResourceInfo(&mut q))
        },
        "open_local_handle" => |ctx, _| {
            let (device, r, _, _) = resource(ctx, CREATE_SHARED);
            let mut bufs = OpenBufs::new();
            let mut args = bufs.open_args(device, r, false);
            NtStatus(D3DKMTOpenResource(&mut args))
        },
        "alloc_create_shared" => |ctx, c| {
            let mut a = Alloc::new(ctx.device(), BASE | CREATE_RESOURCE | CREATE_SHARED);
            let status = a.call();
            c.that(is_global(a.args.hGlobalShare), format!("hGlobalShare {:#x} not global", a.args.hGlobalShare));
            c.that(is_local(a.args.hResource) && is_local(a.info.hAllocation), "no local handles");
            status
        },
        "resource_global_lifetime" => |ctx, c| {
            let (device, r, _, g) = resource(ctx, CREATE_SHARED);
            destroy_allocs(device, r, &[]).unwrap();
            c.that(ctx.kernel.live_global_handles() == 0, "global handle outlived the resource");
            let mut q = D3DKMT_QUERYRESOURCEINFO { hDevice: device, hGlobalShare: g, ..Default::default() };
            NtStatus(D3DKMTQueryResourceInfo(&mut q))
        },
        "query_resource_info" => |ctx, c| {
            let (device, _, _, g) = resource(ctx, CREATE_SHARED);
            let mut buf = [0xCCu8; 0x100];
            let mut q = D3DKMT_QUERYRESOURCEINFO {
                hDevice: device,
                hGlobalShare: g,
                pPrivateRuntimeData: buf.as_mut_ptr().cast(),
                PrivateRuntimeDataSize: 0x100,
                ..Default::default()
            };
            let status = NtStatus(D3DKMTQueryResourceInfo(&mut q));
            c.that(q.PrivateRuntimeDataSize == 4, format!("PrivateRuntimeDataSize {}", q.PrivateRuntimeDataSize));
            c.that(buf == [0xCC; 0x100], "runtime buffer written");
            c.that(q.TotalPrivateDriverDataSize > 0 && q.TotalPrivateDriverDataSize < 0x1000, "total driver data size");
            c.that(q.ResourcePrivateDriverDataSize == 0, "resource driver data size");
            c.that(q.NumAllocations == 1, "NumAllocations");
            status
        },
        "open_resource" => |ctx, c| open_resource_checked(ctx, c, false),
        "open_resource2" => |ctx, c| open_resource_checked(ctx, c, true),
        "open_resource_num0" => |ctx, _| open_resource_with(ctx, |a| a.NumAllocations = 0),
        "open_resource_runtime_plus1" => |ctx, _| open_resource_with(ctx, |a| a.PrivateRuntimeDataSize += 1),
        "open_resource_resdata_plus1" => |ctx, _| open_resource_with(ctx, |a| a.ResourcePrivateDriverDataSize += 1),
        "open_resource_total_short" => |ctx, _| open_resource_with(ctx, |a| a.TotalPrivateDriverDataBufferSize = 1),
        "alloc_nt_security_sharing" => |ctx, c| {
            let mut a = Alloc::new(ctx.device(), BASE | CREATE_RESOURCE | CREATE_SHARED | NT_SECURITY_SHARING);
            a.args.hGlobalShare = JUNK;
            let status = a.call();
            c.that(a.args.hGlobalShare == 0, "hGlobalShare not 0 (WINE #90)");
            c.that(is_local(a.args.hResource) && is_local(a.info.hAllocation), "no local handles");
            status
        },
        _ => return None,
    })
}

/// Opens a shared resource with exact sizes and checks WINE #87's outputs.
fn open_resource_checked(ctx: &Ctx, c: &mut Check<'_>, v2: bool) -> NtStatus {
    let (device, _, _, g) = resource(ctx, CREATE_SHARED);
    let mut bufs = OpenBufs::new();
    let mut args = bufs.open_args(device, g, v2);
    let status = if v2 { NtStatus(D3DKMTOpenResource2(&mut args)) } else { NtStatus(D3DKMTOpenResource(&mut args)) };
    c.that(args.hGlobalShare == g, "hGlobalShare changed");
    c.that(is_local(args.hResource), "no local hResource");
    c.that(bufs.runtime[..4] == RUNTIME, "runtime data not copied");
    c.that(args.PrivateRuntimeDataSize == 4, "PrivateRuntimeDataSize");
    c.that(args.TotalPrivateDriverDataBufferSize > 0, "TotalPrivateDriverDataBufferSize 0");
    c.that(bufs.total[..8] == 0x10000u64.to_le_bytes(), "driver-data buffer not written");
    c.that(args.ResourcePrivateDriverDataSize == 0 && bufs.resource == [0xCC; 0x100], "resource data touched");
    let (h, size) = if v2 {
        (bufs.info2.hAllocation, bufs.info2.PrivateDriverDataSize)
    } else {
        (bufs.info.hAllocation, bufs.info.PrivateDriverDataSize)
    };
    c.that(is_local(h), "no local allocation handle");
    c.that(size > 0 && size < 0x400, format!("allocation PrivateDriverDataSize {size:#x}"));
    c.that(bufs.alloc_data == [0xCC; 0x100], "allocation-data buffer touched");
    status
}

fn open_resource_with(ctx: &Ctx, change: fn(&mut D3DKMT_OPENRESOURCE)) -> NtStatus {
    let (device, _, _, g) = resource(ctx, CREATE_SHARED);
    let mut bufs = OpenBufs::new();
    let mut args = bufs.open_args(device, g, false);
    change(&mut args);
    let before = super::bytes_of(&args);
    let status = NtStatus(D3DKMTOpenResource(&mut args));
    if status.is_err() && super::bytes_of(&args) != before {
        return NtStatus::INTERNAL_ERROR;
    }
    status
}

fn from_nt_with(ctx: &Ctx, change: fn(&mut D3DKMT_OPENRESOURCEFROMNTHANDLE)) -> NtStatus {
    let (device, nt) = shared_resource_nt(ctx);
    let mut bufs = OpenBufs::new();
    let mut args = bufs.nt_open_args(device, nt);
    change(&mut args);
    let before = super::bytes_of(&args);
    let status = NtStatus(D3DKMTOpenResourceFromNtHandle(&mut args));
    if status.is_err() && super::bytes_of(&args) != before {
        return NtStatus::INTERNAL_ERROR;
    }
    status
}

fn share_scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "share_allocation" => |ctx, _| {
            let (_, _, a, _) = resource(ctx, CREATE_SHARED | NT_SECURITY_SHARING);
            share(&[a]).0
        },
        "share_resource_plain" => |ctx, _| share(&[resource(ctx, 0).1]).0,
        "share_resource_global" => |ctx, _| share(&[resource(ctx, CREATE_SHARED).1]).0,
        "share_resource_nt" => |ctx, c| {
            let (_, r, _, _) = resource(ctx, CREATE_SHARED | NT_SECURITY_SHARING);
            let (status, nt) = share_named(&[r], "\\BaseNamedObjects\\Res");
            let ty = ctx.a.nt_handle_type_name(NtHandle::from_ptr(nt));
            c.that(ty == Ok("DxgkSharedResource"), format!("type {ty:?}"));
            status
        },
        "open_name_missing" => |_, _| open_by_name("\\BaseNamedObjects\\Nope", access::GENERIC_ALL).0,
        "open_name_access0" => |ctx, _| {
            let (_, r, _, _) = resource(ctx, CREATE_SHARED | NT_SECURITY_SHARING);
            share_named(&[r], "\\BaseNamedObjects\\Res").0.unwrap();
            open_by_name("\\BASENAMEDOBJECTS\\res", 0).0
        },
        "open_name_generic_all" => |ctx, c| {
            let (_, r, _, _) = resource(ctx, CREATE_SHARED | NT_SECURITY_SHARING);
            share_named(&[r], "\\BaseNamedObjects\\Res").0.unwrap();
            let (status, nt) = open_by_name("\\BASENAMEDOBJECTS\\res", access::GENERIC_ALL);
            let v = nt as usize as u64;
            c.that(v != 0 && v % 4 == 0 && v & 0xC000_0000 == 0, "not an NT-shaped handle (WINE #5)");
            status
        },
        "query_from_nt_junk_sizes" => |ctx, c| {
            let (device, nt) = shared_resource_nt(ctx);
            let mut q = D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE {
                hDevice: device,
                hNtHandle: nt,
                pPrivateRuntimeData: core::ptr::null_mut(),
                PrivateRuntimeDataSize: 0xdeadbeef,
                TotalPrivateDriverDataSize: 0xdeadbeef,
                ResourcePrivateDriverDataSize: 0xdeadbeef,
                NumAllocations: 0xdeadbeef,
            };
            let status = NtStatus(D3DKMTQueryResourceInfoFromNtHandle(&mut q));
            c.that(q.PrivateRuntimeDataSize == 4, "PrivateRuntimeDataSize");
            c.that(q.TotalPrivateDriverDataSize > 0 && q.TotalPrivateDriverDataSize < 0x1000, "total size");
            c.that(q.ResourcePrivateDriverDataSize == 0 && q.NumAllocations == 1, "resource size / count");
            for size in [0, 0x100] {
                let mut buf = [0xCCu8; 0x100];
                q.pPrivateRuntimeData = buf.as_mut_ptr().cast();
                q.PrivateRuntimeDataSize = size;
                c.that(NtStatus(D3DKMTQueryResourceInfoFromNtHandle(&mut q)).is_ok(), "query with a buffer");
                c.that(q.PrivateRuntimeDataSize == 4 && buf == [0xCC; 0x100], "query copied data or size wrong");
            }
            status
        },
        "open_from_nt_resource_only" => |ctx, c| {
            let (device, nt) = shared_resource_nt(ctx);
            let mut bufs = OpenBufs::new();
            let mut args = bufs.nt_open_args(device, nt);
            let status = NtStatus(D3DKMTOpenResourceFromNtHandle(&mut args));
            c.that(bufs.runtime[..4] == RUNTIME && args.PrivateRuntimeDataSize == 4, "runtime data");
            c.that(args.ResourcePrivateDriverDataSize == 0 && args.TotalPrivateDriverDataBufferSize > 0, "sizes");
            c.that(is_local(args.hResource), "no hResource");
            c.that(args.hKeyedMutex == 0 && args.hSyncObject == 0, "mutex or sync handle not 0");
            c.that(args.KeyedMutexPrivateRuntimeDataSize == 0, "KeyedMutexPrivateRuntimeDataSize not 0");
            c.that(is_local(bufs.info2.hAllocation) && bufs.info2.PrivateDriverDataSize > 0, "allocation outputs");
            status
        },
        "open_from_nt_null_infos" => |ctx, _| from_nt_with(ctx, |a| a.pOpenAllocationInfo2 = core::ptr::null_mut()),
        "open_from_nt_num0" => |ctx, _| from_nt_with(ctx, |a| a.NumAllocations = 0),
        "open_from_nt_null_runtime" => |ctx, _| from_nt_with(ctx, |a| a.pPrivateRuntimeData = core::ptr::null_mut()),
        "open_from_nt_runtime_plus1" => |ctx, _| from_nt_with(ctx, |a| a.PrivateRuntimeDataSize += 1),
        "open_from_nt_null_total" => {
            |ctx, _| from_nt_with(ctx, |a| a.pTotalPrivateDriverDataBuffer = core::ptr::null_mut())
        }
        "open_from_nt_total_short" => |ctx, _| from_nt_with(ctx, |a| a.TotalPrivateDriverDataBufferSize = 0x3F),
        "share_triple" => |ctx, c| {
            let (_, r, km, sync) = triple(ctx);
            let (status, nt) = share(&[r, km, sync]);
            let ty = ctx.a.nt_handle_type_name(NtHandle::from_ptr(nt));
            c.that(ty == Ok("DxgkSharedResource"), format!("type {ty:?}"));
            status
        },
        "share_rrr" => |ctx, _| {
            let (_, r, _, _) = triple(ctx);
            share(&[r, r, r]).0
        },
        "share_resource_mutex" => |ctx, _| {
            let (_, r, km, _) = triple(ctx);
            share(&[r, km]).0
        },
        "share_resource_sync" => |ctx, _| {
            let (_, r, _, sync) = triple(ctx);
            share(&[r, sync]).0
        },
        "share_mutex_sync" => |ctx, _| {
            let (_, _, km, sync) = triple(ctx);
            share(&[km, sync]).0
        },
        "share_four" => |ctx, _| {
            let (_, r, km, sync) = triple(ctx);
            let mut nt: HANDLE = core::ptr::null_mut();
            let objects = [r, km, sync, sync];
            NtStatus(crate::abi::exports::D3DKMTShareObjects(
                4,
                objects.as_ptr(),
                core::ptr::null(),
                access::GENERIC_ALL,
                &mut nt,
            ))
        },
        "share_resource_sync_mutex" => |ctx, _| {
            let (_, r, km, sync) = triple(ctx);
            share(&[r, sync, km]).0
        },
        "combined_share_survives" => |ctx, c| {
            let (device, r, km, sync) = triple(ctx);
            let (status, nt) = share(&[r, km, sync]);
            status.unwrap();
            c.that(destroy_km(km).is_ok(), "destroy mutex");
            let ds = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: sync };
            c.that(NtStatus(D3DKMTDestroySynchronizationObject(&ds)).is_ok(), "destroy sync");
            c.that(destroy_allocs(device, r, &[]).is_ok(), "destroy resource");
            let mut q = D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE { hDevice: device, hNtHandle: nt, ..Default::default() };
            c.that(NtStatus(D3DKMTQueryResourceInfoFromNtHandle(&mut q)).is_ok(), "query after destroying all");
            let mut bufs = OpenBufs::new();
            let mut args = bufs.nt_open_args(device, nt);
            let status = NtStatus(D3DKMTOpenResourceFromNtHandle(&mut args));
            c.that(is_local(args.hResource), "no hResource");
            c.that(is_local(args.hKeyedMutex), "no hKeyedMutex");
            c.that(is_local(args.hSyncObject), "no hSyncObject");
            c.that(args.KeyedMutexPrivateRuntimeDataSize == 20, "KeyedMutexPrivateRuntimeDataSize not 20");
            c.that(acquire(args.hKeyedMutex, 0, Some(0)).0.is_ok(), "the reopened mutex does not acquire");
            status
        },
        "adapter_luid_by_global" => |ctx, c| {
            let (_, _, _, g) = resource(ctx, CREATE_SHARED);
            let mut args = D3DKMT_GETSHAREDRESOURCEADAPTERLUID { hGlobalShare: g, ..Default::default() };
            let status = NtStatus(D3DKMTGetSharedResourceAdapterLuid(&mut args));
            c.that(args.AdapterLuid.LowPart == ctx.luid().LowPart, "wrong LUID");
            status
        },
        "adapter_luid_by_nt" => |ctx, c| {
            let (_, nt) = shared_resource_nt(ctx);
            let mut args = D3DKMT_GETSHAREDRESOURCEADAPTERLUID { hNtHandle: nt, ..Default::default() };
            let status = NtStatus(D3DKMTGetSharedResourceAdapterLuid(&mut args));
            c.that(args.AdapterLuid.LowPart == ctx.luid().LowPart, "wrong LUID");
            status
        },
        "km_from_nt_combined" => |ctx, c| {
            let (_, r, km, sync) = triple(ctx);
            let (status, nt) = share(&[r, km, sync]);
            status.unwrap();
            let mut args = D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE { hNtHandle: nt, hKeyedMutex: JUNK, ..Default::default() };
            let status = NtStatus(D3DKMTOpenKeyedMutexFromNtHandle(&mut args));
            c.that(is_local(args.hKeyedMutex), "no hKeyedMutex");
            status
        },
        _ => return None,
    })
}

/// Calls `entry` with the raw argument pointer `p` (NULL or a 1024-byte
/// buffer), if it is an entry point of this area.
pub(super) fn raw_call(entry: &str, p: *mut c_void) -> Option<i32> {
    Some(match entry {
        "D3DKMTCreateKeyedMutex" => D3DKMTCreateKeyedMutex(p.cast()),
        "D3DKMTCreateKeyedMutex2" => D3DKMTCreateKeyedMutex2(p.cast()),
        "D3DKMTOpenKeyedMutex" => D3DKMTOpenKeyedMutex(p.cast()),
        "D3DKMTOpenKeyedMutex2" => D3DKMTOpenKeyedMutex2(p.cast()),
        "D3DKMTOpenKeyedMutexFromNtHandle" => D3DKMTOpenKeyedMutexFromNtHandle(p.cast()),
        "D3DKMTDestroyKeyedMutex" => D3DKMTDestroyKeyedMutex(p.cast()),
        "D3DKMTAcquireKeyedMutex" => D3DKMTAcquireKeyedMutex(p.cast()),
        "D3DKMTAcquireKeyedMutex2" => D3DKMTAcquireKeyedMutex2(p.cast()),
        "D3DKMTReleaseKeyedMutex" => D3DKMTReleaseKeyedMutex(p.cast()),
        "D3DKMTReleaseKeyedMutex2" => D3DKMTReleaseKeyedMutex2(p.cast()),
        "D3DKMTCreateAllocation" => D3DKMTCreateAllocation(p.cast()),
        "D3DKMTCreateAllocation2" => D3DKMTCreateAllocation2(p.cast()),
        "D3DKMTDestroyAllocation" => D3DKMTDestroyAllocation(p.cast()),
        "D3DKMTDestroyAllocation2" => D3DKMTDestroyAllocation2(p.cast()),
        "D3DKMTQueryResourceInfo" => D3DKMTQueryResourceInfo(p.cast()),
        "D3DKMTOpenResource" => D3DKMTOpenResource(p.cast()),
        "D3DKMTOpenResource2" => D3DKMTOpenResource2(p.cast()),
        "D3DKMTQueryResourceInfoFromNtHandle" => D3DKMTQueryResourceInfoFromNtHandle(p.cast()),
        "D3DKMTOpenResourceFromNtHandle" => D3DKMTOpenResourceFromNtHandle(p.cast()),
        "D3DKMTGetSharedResourceAdapterLuid" => D3DKMTGetSharedResourceAdapterLuid(p.cast()),
        "D3DKMTOpenNtHandleFromName" => D3DKMTOpenNtHandleFromName(p.cast()),
        _ => return None,
    })
}
