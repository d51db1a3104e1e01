//! Per-entry-point descriptions of the argument structs: what the trace
//! decodes, and what a replay rebuilds. See the module docs of
//! [`crate::trace`] for how to add one.
//!
//! Offsets come from `offset_of!` on the windows-sys structs, so a
//! description cannot drift from the layout. Values are assembled and taken
//! apart in little-endian byte order (x86_64 and aarch64, the targets of
//! this crate).

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::{HANDLE, UNICODE_STRING};

use super::{Fields, Value};
use crate::abi::ptr;
use crate::handle::LocalHandle;
use crate::process::Process;
use crate::resource::AllocationFlags;
use crate::support::Entry;

/// A field's width in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum W {
    U8,
    U32,
    U64,
}

impl W {
    fn bytes(self) -> usize {
        match self {
            W::U8 => 1,
            W::U32 => 4,
            W::U64 => 8,
        }
    }
}

/// What a field holds (see [`Value`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum K {
    Int,
    Handle,
    Nt,
    Ptr,
    Addr,
    /// A global (KMT) share handle: kernel-wide, renumbered by a replay.
    Global,
    /// A file descriptor the export hands out (a sync file's).
    Fd,
}

/// Which way a field goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum D {
    In,
    Out,
    InOut,
}

/// One field of an argument struct.
pub(crate) struct F {
    pub(crate) name: &'static str,
    pub(crate) off: usize,
    pub(crate) w: W,
    pub(crate) k: K,
    pub(crate) d: D,
}

/// A check made before the call, with the calling process and the copied
/// argument struct: true when the export is known to read the memory a
/// pre-call extra describes (a handle it looks up first is good, a size it
/// checks first is in range...). It may look up handles; it changes nothing.
pub(crate) type Guard = fn(&Process, &[u8]) -> bool;

/// Memory behind a pointer field (offsets are of fields of the struct).
pub(crate) enum X {
    /// `size` bytes at `ptr`, read by the export: recorded after a
    /// successful call (as an input).
    InBlob { name: &'static str, ptr: usize, size: usize },
    /// Bytes the export wrote at `ptr`; the `size` field holds their count
    /// after the call.
    OutBlob { name: &'static str, ptr: usize, size: usize },
    /// `count` elements at `ptr`, read before the call exactly when the
    /// export reads them: `ptr` and every `also` pointer non-NULL, and
    /// `count` in 1..=`max`.
    /// With a `guard`, also only when it holds.
    InArray {
        name: &'static str,
        ptr: usize,
        count: usize,
        w: W,
        k: K,
        max: u32,
        also: &'static [usize],
        guard: Option<Guard>,
    },
    /// `count` (after the call) rows of `row` bytes the export wrote at `ptr`.
    OutRows { name: &'static str, ptr: usize, count: usize, row: usize, fields: &'static [F] },
    /// One value the export writes through the pointer at `ptr`.
    OutSlot { name: &'static str, ptr: usize, w: W, k: K },
    /// The object name in the `OBJECT_ATTRIBUTES` at `ptr`: recorded after a
    /// successful call (as an input), or with `before`, before the call,
    /// through the same checks the export makes (`Length`, no
    /// `RootDirectory`, a well-formed `UNICODE_STRING`) and only as far as
    /// they pass, for exports that read the name first thing.
    ObjectName { name: &'static str, ptr: usize, before: bool },
    /// One value the export reads through the pointer at `ptr` (a timeout):
    /// read before the call when `ptr` is not NULL and `guard` (if any)
    /// holds.
    InSlot { name: &'static str, ptr: usize, w: W, k: K, guard: Option<Guard> },
    /// `size` bytes at `ptr` the export reads as input first thing (and
    /// may then overwrite, recorded by an `OutBlob` of the same name): read
    /// before the call when `ptr` is not NULL, the size is at most `max` and
    /// `guard` holds.
    InBlobBefore { name: &'static str, ptr: usize, size: usize, max: u32, guard: Guard },
    /// A UTF-16 string of `units` units inside the struct at `off`: text up
    /// to its NUL when it is well-formed (NUL-terminated, valid, zero after
    /// the NUL), else its raw bytes. Read before the call.
    InlineText { name: &'static str, off: usize, units: usize },
    /// A NUL-terminated UTF-16 string at `ptr`, read before the call as the
    /// export reads it: at most `max` units, the NUL included.
    WideStr { name: &'static str, ptr: usize, max: usize },
    /// A fixed array of `max` elements inside the struct at `off`, of which
    /// the export reads the first `count` (a field) when `count` is in
    /// 1..=`max` (`BroadcastContext[64]`, v1/v2 `ObjectHandleArray[32]`):
    /// those are recorded, before the call (the struct is copied anyway).
    InlineArray { name: &'static str, off: usize, count: usize, w: W, k: K, max: u32 },
    /// `size` bytes inside the struct at `off` that the export writes whole
    /// (`QueryStatistics`'s `QueryResult`): recorded after a successful
    /// call as an output, without their trailing zero bytes.
    InlineOut { name: &'static str, off: usize, size: usize },
    /// A struct of `size` bytes at `ptr` that the export reads and writes
    /// in place (fields named `name->Field`). Its `In` fields are recorded
    /// before the call when `before` holds (the export reads the struct
    /// whatever follows), else after a successful call; its `Out` fields
    /// after a successful call; each `blobs` entry `(pointer field, size
    /// field)` as the bytes it points at (an input, `*name->Field`), after
    /// a successful call. See the module docs of [`crate::replay`] for what
    /// a failed call's missing memory costs.
    Struct {
        name: &'static str,
        ptr: usize,
        size: usize,
        fields: &'static [F],
        blobs: &'static [(&'static str, usize, usize)],
        before: Option<Guard>,
    },
}

/// One entry point's description.
pub(crate) struct Spec {
    pub(crate) entry: Entry,
    /// Size of the argument struct.
    pub(crate) size: usize,
    pub(crate) fields: &'static [F],
    pub(crate) extras: &'static [X],
    /// Also record the session key of the session this output handle names.
    pub(crate) session_key_of: Option<&'static str>,
    /// Calls the export with an argument struct (for the replay).
    pub(crate) call: fn(*mut c_void) -> i32,
}

/// `D3DKMTShareObjects`'s arguments, gathered into one struct so the
/// dispatch point can hand them to the trace like any other export's.
#[repr(C)]
#[allow(non_snake_case, reason = "the Windows parameter names")]
pub(crate) struct ShareObjectsArgs {
    pub(crate) cObjects: u32,
    pub(crate) hObjects: *const u32,
    pub(crate) pObjectAttributes: *const OBJECT_ATTRIBUTES,
    pub(crate) dwDesiredAccess: u32,
    pub(crate) phSharedNtHandle: *mut HANDLE,
}

fn call_share_objects(p: *mut c_void) -> i32 {
    match ptr::in_ref(p as *const ShareObjectsArgs) {
        Some(a) => crate::abi::exports::D3DKMTShareObjects(
            a.cObjects,
            a.hObjects,
            a.pObjectAttributes,
            a.dwDesiredAccess,
            a.phSharedNtHandle,
        ),
        None => {
            crate::abi::exports::D3DKMTShareObjects(0, core::ptr::null(), core::ptr::null(), 0, core::ptr::null_mut())
        }
    }
}

/// The (empty) argument of an export that takes none
/// (`D3DKMTCloseDxCoreDevice`): the dispatch point hands the trace a
/// pointer to this, so the record shows a call with no fields, not a NULL
/// argument.
#[repr(C)]
pub(crate) struct NoArgs;

fn call_close_dxcore_device(_: *mut c_void) -> i32 {
    crate::abi::exports::D3DKMTCloseDxCoreDevice();
    0
}

fn call_share_object_with_host(p: *mut c_void) -> i32 {
    crate::abi::exports::D3DKMTShareObjectWithHost(p.cast())
}

macro_rules! fields {
    ($ty:ty { $($first:ident $(. $rest:ident)* : $w:ident $k:ident $d:ident),* $(,)? }) => {
        &[$(F {
            name: concat!(stringify!($first) $(, ".", stringify!($rest))*),
            off: offset_of!($ty, $first $(. $rest)*),
            w: W::$w,
            k: K::$k,
            d: D::$d,
        }),*]
    };
}

macro_rules! o {
    ($ty:ty, $($path:tt)+) => {
        offset_of!($ty, $($path)+)
    };
}

macro_rules! key_of {
    () => {
        None
    };
    ($key:literal) => {
        Some($key)
    };
}

macro_rules! spec {
    ($entry:ident: $ty:ty { $($fields:tt)* } extras [$($x:expr),* $(,)?] $(key $key:literal)?) => {
        spec!($entry: $ty { $($fields)* } extras [$($x),*] $(key $key)? call |p| crate::abi::exports::$entry(p as _))
    };
    ($entry:ident: $ty:ty { $($fields:tt)* } extras [$($x:expr),* $(,)?] $(key $key:literal)? call $call:expr) => {
        Spec {
            entry: Entry::$entry,
            size: size_of::<$ty>(),
            fields: fields!($ty { $($fields)* }),
            extras: &[$($x),*],
            session_key_of: key_of!($($key)?),
            call: $call,
        }
    };
}

type CreateSync = D3DKMT_CREATESYNCHRONIZATIONOBJECT2;
type Signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU;
type Wait = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU;
type CreateSession = D3DKMT_CREATEPROTECTEDSESSION;
type SessionInfo = D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE;
type Share = ShareObjectsArgs;
type GdiName = D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME;
type DeviceName = D3DKMT_OPENADAPTERFROMDEVICENAME;
type AdapterInfo = D3DKMT_QUERYADAPTERINFO;
type Owner = D3DKMT_SETVIDPNSOURCEOWNER;
type Owner1 = D3DKMT_SETVIDPNSOURCEOWNER1;
type SyncFromName = D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME;
type Acquire = D3DKMT_ACQUIREKEYEDMUTEX;
type Acquire2 = D3DKMT_ACQUIREKEYEDMUTEX2;
type CreateMutex2 = D3DKMT_CREATEKEYEDMUTEX2;
type Release2 = D3DKMT_RELEASEKEYEDMUTEX2;
type CreateAlloc = D3DKMT_CREATEALLOCATION;
type DestroyAlloc = D3DKMT_DESTROYALLOCATION;
type DestroyAlloc2 = D3DKMT_DESTROYALLOCATION2;
type OpenRes = D3DKMT_OPENRESOURCE;
type OpenResNt = D3DKMT_OPENRESOURCEFROMNTHANDLE;
type NtFromName = D3DKMT_OPENNTHANDLEFROMNAME;

/// The longest device path `OpenAdapterFromDeviceName` reads, in UTF-16
/// units with the NUL (the export's own limit).
const MAX_DEVICE_PATH: usize = 1024;

/// `QueryAdapterInfo` reads its buffer as input (before overwriting it) for
/// `PHYSICALADAPTERDEVICEIDS` only, once the adapter handle is found good
/// and the size is in range: recorded then, and only that small.
fn reads_device_ids_input(process: &Process, raw: &[u8]) -> bool {
    get(raw, offset_of!(AdapterInfo, Type), W::U32) == KMTQAITYPE_PHYSICALADAPTERDEVICEIDS as u64
        && process.adapter(LocalHandle(get(raw, offset_of!(AdapterInfo, hAdapter), W::U32) as u32)).is_ok()
}

/// `SetVidPnSourceOwner(1)` reads its arrays once the device is found good
/// and the count is no more than its adapter's sources.
fn reads_owner_arrays(process: &Process, raw: &[u8]) -> bool {
    let device = LocalHandle(get(raw, offset_of!(Owner, hDevice), W::U32) as u32);
    let count = get(raw, offset_of!(Owner, VidPnSourceCount), W::U32) as usize;
    process.device_source_count(device).is_ok_and(|sources| count <= sources)
}

/// `CreateAllocation(2)` reads its standard description once the flags say
/// StandardAllocation and ExistingSysMem, with no top-level driver data and
/// one allocation.
fn reads_standard_allocation(_: &Process, raw: &[u8]) -> bool {
    let flags = AllocationFlags::from_bits(get(raw, offset_of!(CreateAlloc, Flags), W::U32) as u32);
    flags.standard_allocation
        && flags.existing_sys_mem
        && get(raw, offset_of!(CreateAlloc, PrivateDriverDataSize), W::U32) == 0
        && get(raw, offset_of!(CreateAlloc, NumAllocations), W::U32) == 1
}

/// ... and its allocation info once the description is an existing heap.
fn reads_allocation_info(process: &Process, raw: &[u8]) -> bool {
    let standard = get(raw, offset_of!(CreateAlloc, Anonymous1), W::U64) as usize;
    reads_standard_allocation(process, raw)
        && ptr::in_ref(core::ptr::with_exposed_provenance::<D3DKMT_CREATESTANDARDALLOCATION>(standard))
            .is_some_and(|s| s.Type == D3DKMT_STANDARDALLOCATIONTYPE_EXISTINGHEAP)
}

/// `AcquireKeyedMutex2` reads `pTimeout` once the runtime-data buffer is
/// found consistent (size 0, or a buffer).
fn reads_acquire2_timeout(_: &Process, raw: &[u8]) -> bool {
    get(raw, offset_of!(Acquire2, PrivateRuntimeDataSize), W::U32) == 0
        || get(raw, offset_of!(Acquire2, pPrivateRuntimeData), W::U64) != 0
}

type CreateVirtual = D3DKMT_CREATECONTEXTVIRTUAL;
type CreateHwQueue = D3DKMT_CREATEHWQUEUE;
type SubmitHw = D3DKMT_SUBMITCOMMANDTOHWQUEUE;
type WaitHw = D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE;
type Clock = D3DKMT_QUERYCLOCKCALIBRATION;

type CreateLegacy = D3DKMT_CREATECONTEXT;
type CreateHw = D3DKMT_CREATEHWCONTEXT;
type Submit = D3DKMT_SUBMITCOMMAND;
type Render = D3DKMT_RENDER;
type SignalHw = D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE;
type Signal1 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECT;
type Wait1 = D3DKMT_WAITFORSYNCHRONIZATIONOBJECT;
type Signal2 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2;
type Wait2 = D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2;
type SignalGpu = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU;
type SignalGpu2 = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2;
type WaitGpu = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU;
type Escape = D3DKMT_ESCAPE;
type Statistics = D3DKMT_QUERYSTATISTICS;
type SyncFile = D3DKMT_CREATESYNCFILE;

/// The most private driver data the GPU-work exports read.
const MAX_PRIVATE_DATA: u32 = crate::context::MAX_PRIVATE_DATA;
/// `D3DDDI_MAX_BROADCAST_CONTEXT`: the most broadcast contexts or queues.
const MAX_BROADCAST: u32 = 64;
/// `D3DDDI_MAX_OBJECT_SIGNALED` / `_WAITED_ON`: the most objects.
const MAX_OBJECTS: u32 = 32;
/// `D3DDDICB_SIGNALFLAGS.EnqueueCpuEvent`.
const ENQUEUE_CPU_EVENT: u64 = 0x4;

/// `CreateContext` and `Render` read their private driver data right after
/// the NULL check of the struct (under the size checks `InBlobBefore`
/// makes itself).
fn always(_: &Process, _: &[u8]) -> bool {
    true
}

/// `CreateHwContext` reads anything only when hardware contexts are
/// emulated ([`crate::HwContexts`]); by default (as Windows 11) it refuses
/// every call first.
fn hw_contexts_emulated(process: &Process, _: &[u8]) -> bool {
    process.kernel_inner().policies.gpu.hw_contexts != crate::policy::HwContexts::NotImplemented
}

/// `SubmitCommand` reads its private data once `BroadcastContextCount` is
/// in 1..=64 and `NumPrimaries` at most 16.
fn reads_submit_data(_: &Process, raw: &[u8]) -> bool {
    (1..=MAX_BROADCAST as u64).contains(&get(raw, offset_of!(Submit, BroadcastContextCount), W::U32))
        && get(raw, offset_of!(Submit, NumPrimaries), W::U32) <= 16
}

/// `SubmitSignalSyncObjectsToHwQueue` reads its object arrays once it has
/// read the queue array (count in 1..=64, not NULL).
fn reads_hw_queue_objects(_: &Process, raw: &[u8]) -> bool {
    (1..=MAX_BROADCAST as u64).contains(&get(raw, offset_of!(SignalHw, BroadcastHwQueueCount), W::U32))
        && get(raw, offset_of!(SignalHw, BroadcastHwQueueArray), W::U64) != 0
}

/// `SignalSynchronizationObjectFromGpu2` reads its object arrays once it has
/// read the context array (count in 1..=64, not NULL), unless
/// `EnqueueCpuEvent` is set (refused without reading them).
fn reads_gpu2_objects(_: &Process, raw: &[u8]) -> bool {
    (1..=MAX_BROADCAST as u64).contains(&get(raw, offset_of!(SignalGpu2, BroadcastContextCount), W::U32))
        && get(raw, offset_of!(SignalGpu2, BroadcastContextArray), W::U64) != 0
        && get(raw, offset_of!(SignalGpu2, Flags), W::U32) & ENQUEUE_CPU_EVENT == 0
}

/// `Escape` reads its private data when its size is not 0.
fn reads_escape_data(_: &Process, raw: &[u8]) -> bool {
    get(raw, offset_of!(Escape, PrivateDriverDataSize), W::U32) != 0
}

static ADAPTER_ROW: &[F] = fields!(D3DKMT_ADAPTERINFO {
    hAdapter: U32 Handle Out,
    AdapterLuid.LowPart: U32 Int Out,
    AdapterLuid.HighPart: U32 Int Out,
    NumOfSources: U32 Int Out,
    bPrecisePresentRegionsPreferred: U32 Int Out,
});

static ALLOCATION_INFO_ROW: &[F] = fields!(D3DDDI_ALLOCATIONINFO {
    hAllocation: U32 Handle Out,
    pSystemMem: U64 Ptr In,
    pPrivateDriverData: U64 Ptr In,
    PrivateDriverDataSize: U32 Int In,
    VidPnSourceId: U32 Int In,
    Flags.Value: U32 Int In,
});

static ALLOCATION_INFO2_ROW: &[F] = fields!(D3DDDI_ALLOCATIONINFO2 {
    hAllocation: U32 Handle Out,
    Anonymous1.pSystemMem: U64 Ptr In,
    pPrivateDriverData: U64 Ptr In,
    PrivateDriverDataSize: U32 Int In,
    VidPnSourceId: U32 Int In,
    Flags.Value: U32 Int In,
});

static STANDARD_ALLOCATION: &[F] = fields!(D3DKMT_CREATESTANDARDALLOCATION {
    Type: U32 Int In,
    Anonymous.ExistingHeapData.Size: U64 Int In,
    Flags: U32 Int In,
});

/// `pPrivateDriverData` of an allocation-info row.
static ALLOCATION_BLOB: &[(&str, usize, usize)] = &[(
    "pPrivateDriverData",
    offset_of!(D3DDDI_ALLOCATIONINFO, pPrivateDriverData),
    offset_of!(D3DDDI_ALLOCATIONINFO, PrivateDriverDataSize),
)];
static ALLOCATION2_BLOB: &[(&str, usize, usize)] = &[(
    "pPrivateDriverData",
    offset_of!(D3DDDI_ALLOCATIONINFO2, pPrivateDriverData),
    offset_of!(D3DDDI_ALLOCATIONINFO2, PrivateDriverDataSize),
)];

// The driver-data pointer an open writes points into the caller's own total
// buffer: recorded as NULL or not (its address changes from run to run).
static OPEN_ALLOCATION_ROW: &[F] = fields!(D3DDDI_OPENALLOCATIONINFO {
    hAllocation: U32 Handle Out,
    pPrivateDriverData: U64 Ptr Out,
    PrivateDriverDataSize: U32 Int Out,
});

static OPEN_ALLOCATION2_ROW: &[F] = fields!(D3DDDI_OPENALLOCATIONINFO2 {
    hAllocation: U32 Handle Out,
    pPrivateDriverData: U64 Ptr Out,
    PrivateDriverDataSize: U32 Int Out,
});

macro_rules! create_allocation {
    ($entry:ident, $info:literal, $row:ty, $fields:expr, $blob:expr) => {
        spec!($entry: CreateAlloc {
            hDevice: U32 Handle In,
            hResource: U32 Handle InOut,
            hGlobalShare: U32 Global Out,
            pPrivateRuntimeData: U64 Ptr In,
            PrivateRuntimeDataSize: U32 Int In,
            Anonymous1.pStandardAllocation: U64 Ptr In,
            PrivateDriverDataSize: U32 Int In,
            NumAllocations: U32 Int In,
            Anonymous2.pAllocationInfo: U64 Ptr In,
            Flags: U32 Int In,
        } extras [
            X::InBlob {
                name: "*pPrivateRuntimeData",
                ptr: o!(CreateAlloc, pPrivateRuntimeData),
                size: o!(CreateAlloc, PrivateRuntimeDataSize),
            },
            X::Struct {
                name: "pStandardAllocation",
                ptr: o!(CreateAlloc, Anonymous1),
                size: size_of::<D3DKMT_CREATESTANDARDALLOCATION>(),
                fields: STANDARD_ALLOCATION,
                blobs: &[],
                before: Some(reads_standard_allocation),
            },
            X::Struct {
                name: $info,
                ptr: o!(CreateAlloc, Anonymous2),
                size: size_of::<$row>(),
                fields: $fields,
                blobs: $blob,
                before: Some(reads_allocation_info),
            },
        ] call |p| crate::abi::exports::$entry(p as _))
    };
}

macro_rules! open_resource {
    ($entry:ident, $row:ty, $fields:expr) => {
        spec!($entry: OpenRes {
            hDevice: U32 Handle In,
            hGlobalShare: U32 Global In,
            NumAllocations: U32 Int In,
            Anonymous.pOpenAllocationInfo: U64 Ptr In,
            pPrivateRuntimeData: U64 Ptr In,
            PrivateRuntimeDataSize: U32 Int In,
            pResourcePrivateDriverData: U64 Ptr In,
            ResourcePrivateDriverDataSize: U32 Int In,
            pTotalPrivateDriverDataBuffer: U64 Ptr In,
            TotalPrivateDriverDataBufferSize: U32 Int InOut,
            hResource: U32 Handle Out,
        } extras [
            X::OutRows {
                name: "pOpenAllocationInfo",
                ptr: o!(OpenRes, Anonymous),
                count: o!(OpenRes, NumAllocations),
                row: size_of::<$row>(),
                fields: $fields,
            },
            X::OutBlob {
                name: "*pPrivateRuntimeData",
                ptr: o!(OpenRes, pPrivateRuntimeData),
                size: o!(OpenRes, PrivateRuntimeDataSize),
            },
            X::OutBlob {
                name: "*pResourcePrivateDriverData",
                ptr: o!(OpenRes, pResourcePrivateDriverData),
                size: o!(OpenRes, ResourcePrivateDriverDataSize),
            },
            X::OutBlob {
                name: "*pTotalPrivateDriverDataBuffer",
                ptr: o!(OpenRes, pTotalPrivateDriverDataBuffer),
                size: o!(OpenRes, TotalPrivateDriverDataBufferSize),
            },
        ])
    };
}

/// Every decoded entry point.
pub(crate) static SPECS: &[Spec] = &[
    spec!(D3DKMTEnumAdapters2: D3DKMT_ENUMADAPTERS2 {
        NumAdapters: U32 Int InOut,
        pAdapters: U64 Ptr In,
    } extras [X::OutRows {
        name: "pAdapters",
        ptr: o!(D3DKMT_ENUMADAPTERS2, pAdapters),
        count: o!(D3DKMT_ENUMADAPTERS2, NumAdapters),
        row: size_of::<D3DKMT_ADAPTERINFO>(),
        fields: ADAPTER_ROW,
    }]),
    spec!(D3DKMTEnumAdapters3: D3DKMT_ENUMADAPTERS3 {
        Filter: U64 Int In,
        NumAdapters: U32 Int InOut,
        pAdapters: U64 Ptr In,
    } extras [X::OutRows {
        name: "pAdapters",
        ptr: o!(D3DKMT_ENUMADAPTERS3, pAdapters),
        count: o!(D3DKMT_ENUMADAPTERS3, NumAdapters),
        row: size_of::<D3DKMT_ADAPTERINFO>(),
        fields: ADAPTER_ROW,
    }]),
    spec!(D3DKMTOpenAdapterFromLuid: D3DKMT_OPENADAPTERFROMLUID {
        AdapterLuid.LowPart: U32 Int In,
        AdapterLuid.HighPart: U32 Int In,
        hAdapter: U32 Handle Out,
    } extras []),
    spec!(D3DKMTCloseAdapter: D3DKMT_CLOSEADAPTER { hAdapter: U32 Handle In } extras []),
    spec!(D3DKMTCreateDevice: D3DKMT_CREATEDEVICE {
        Anonymous.hAdapter: U32 Handle In,
        Flags: U32 Int In,
        hDevice: U32 Handle Out,
        pCommandBuffer: U64 Ptr Out,
        CommandBufferSize: U32 Int Out,
        pAllocationList: U64 Ptr Out,
        AllocationListSize: U32 Int Out,
        pPatchLocationList: U64 Ptr Out,
        PatchLocationListSize: U32 Int Out,
    } extras []),
    spec!(D3DKMTDestroyDevice: D3DKMT_DESTROYDEVICE { hDevice: U32 Handle In } extras []),
    spec!(D3DKMTCreateSynchronizationObject2: CreateSync {
        hDevice: U32 Handle In,
        Info.Type: U32 Int In,
        Info.Flags: U32 Int In,
        Info.Anonymous.MonitoredFence.InitialFenceValue: U64 Int In,
        Info.Anonymous.MonitoredFence.FenceValueCPUVirtualAddress: U64 Ptr Out,
        Info.Anonymous.MonitoredFence.FenceValueGPUVirtualAddress: U64 Addr Out,
        Info.SharedHandle: U32 Global Out,
        hSyncObject: U32 Handle Out,
    } extras []),
    spec!(D3DKMTDestroySynchronizationObject: D3DKMT_DESTROYSYNCHRONIZATIONOBJECT {
        hSyncObject: U32 Handle In,
    } extras []),
    spec!(D3DKMTSignalSynchronizationObjectFromCpu: Signal {
        hDevice: U32 Handle In,
        ObjectCount: U32 Int In,
        ObjectHandleArray: U64 Ptr In,
        FenceValueArray: U64 Ptr In,
        Flags: U32 Int In,
    } extras [
        X::InArray {
            name: "*ObjectHandleArray",
            ptr: o!(Signal, ObjectHandleArray),
            count: o!(Signal, ObjectCount),
            w: W::U32, k: K::Handle, max: 32, also: &[], guard: None,
        },
        X::InArray {
            name: "*FenceValueArray",
            ptr: o!(Signal, FenceValueArray),
            count: o!(Signal, ObjectCount),
            w: W::U64, k: K::Int, max: 32, also: &[o!(Signal, ObjectHandleArray)], guard: None,
        },
    ]),
    spec!(D3DKMTWaitForSynchronizationObjectFromCpu: Wait {
        hDevice: U32 Handle In,
        ObjectCount: U32 Int In,
        ObjectHandleArray: U64 Ptr In,
        FenceValueArray: U64 Ptr In,
        hAsyncEvent: U64 Ptr In,
        Flags: U32 Int In,
    } extras [
        X::InArray {
            name: "*ObjectHandleArray",
            ptr: o!(Wait, ObjectHandleArray),
            count: o!(Wait, ObjectCount),
            w: W::U32, k: K::Handle, max: 32, also: &[], guard: None,
        },
        X::InArray {
            name: "*FenceValueArray",
            ptr: o!(Wait, FenceValueArray),
            count: o!(Wait, ObjectCount),
            w: W::U64, k: K::Int, max: 32, also: &[o!(Wait, ObjectHandleArray)], guard: None,
        },
    ]),
    spec!(D3DKMTOpenSyncObjectFromNtHandle2: D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 {
        hNtHandle: U64 Nt In,
        hDevice: U32 Handle In,
        Flags: U32 Int InOut,
        hSyncObject: U32 Handle Out,
        Anonymous.MonitoredFence.FenceValueCPUVirtualAddress: U64 Ptr Out,
        Anonymous.MonitoredFence.FenceValueGPUVirtualAddress: U64 Addr Out,
    } extras []),
    spec!(D3DKMTCreateProtectedSession: CreateSession {
        hDevice: U32 Handle In,
        hSyncObject: U32 Handle In,
        pPrivateDriverData: U64 Ptr In,
        PrivateDriverDataSize: U32 Int In,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int In,
        hHandle: U32 Handle Out,
    } extras [
        X::InBlob {
            name: "*pPrivateDriverData",
            ptr: o!(CreateSession, pPrivateDriverData),
            size: o!(CreateSession, PrivateDriverDataSize),
        },
        X::InBlob {
            name: "*pPrivateRuntimeData",
            ptr: o!(CreateSession, pPrivateRuntimeData),
            size: o!(CreateSession, PrivateRuntimeDataSize),
        },
    ] key "hHandle"),
    spec!(D3DKMTDestroyProtectedSession: D3DKMT_DESTROYPROTECTEDSESSION { hHandle: U32 Handle In } extras []),
    spec!(D3DKMTCreateContextVirtual: CreateVirtual {
        hDevice: U32 Handle In,
        NodeOrdinal: U32 Int In,
        EngineAffinity: U32 Int In,
        Flags: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        PrivateDriverDataSize: U32 Int In,
        ClientHint: U32 Int In,
        hContext: U32 Handle Out,
    } extras [X::InBlob {
        name: "*pPrivateDriverData",
        ptr: o!(CreateVirtual, pPrivateDriverData),
        size: o!(CreateVirtual, PrivateDriverDataSize),
    }]),
    spec!(D3DKMTDestroyContext: D3DKMT_DESTROYCONTEXT { hContext: U32 Handle In } extras []),
    spec!(D3DKMTCreateHwQueue: CreateHwQueue {
        hHwContext: U32 Handle In,
        Flags: U32 Int In,
        PrivateDriverDataSize: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        hHwQueue: U32 Handle Out,
        hHwQueueProgressFence: U32 Handle Out,
        HwQueueProgressFenceCPUVirtualAddress: U64 Ptr Out,
        HwQueueProgressFenceGPUVirtualAddress: U64 Addr Out,
    } extras [X::InBlob {
        name: "*pPrivateDriverData",
        ptr: o!(CreateHwQueue, pPrivateDriverData),
        size: o!(CreateHwQueue, PrivateDriverDataSize),
    }]),
    spec!(D3DKMTDestroyHwQueue: D3DKMT_DESTROYHWQUEUE { hHwQueue: U32 Handle In } extras []),
    spec!(D3DKMTCreatePagingQueue: D3DKMT_CREATEPAGINGQUEUE {
        hDevice: U32 Handle In,
        Priority: U32 Int In,
        hPagingQueue: U32 Handle Out,
        hSyncObject: U32 Handle Out,
        FenceValueCPUVirtualAddress: U64 Ptr Out,
        PhysicalAdapterIndex: U32 Int In,
    } extras []),
    spec!(D3DKMTDestroyPagingQueue: D3DDDI_DESTROYPAGINGQUEUE { hPagingQueue: U32 Handle In } extras []),
    spec!(D3DKMTSetContextSchedulingPriority: D3DKMT_SETCONTEXTSCHEDULINGPRIORITY {
        hContext: U32 Handle In,
        Priority: U32 Int In,
    } extras []),
    spec!(D3DKMTGetContextSchedulingPriority: D3DKMT_GETCONTEXTSCHEDULINGPRIORITY {
        hContext: U32 Handle In,
        Priority: U32 Int Out,
    } extras []),
    spec!(D3DKMTSubmitCommandToHwQueue: SubmitHw {
        hHwQueue: U32 Handle In,
        HwQueueProgressFenceId: U64 Int In,
        CommandBuffer: U64 Addr In,
        CommandLength: U32 Int In,
        PrivateDriverDataSize: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        NumPrimaries: U32 Int In,
    } extras [X::InBlob {
        name: "*pPrivateDriverData",
        ptr: o!(SubmitHw, pPrivateDriverData),
        size: o!(SubmitHw, PrivateDriverDataSize),
    }]),
    spec!(D3DKMTSubmitWaitForSyncObjectsToHwQueue: WaitHw {
        hHwQueue: U32 Handle In,
        ObjectCount: U32 Int In,
        ObjectHandleArray: U64 Ptr In,
        FenceValueArray: U64 Ptr In,
    } extras [
        X::InArray {
            name: "*ObjectHandleArray",
            ptr: o!(WaitHw, ObjectHandleArray),
            count: o!(WaitHw, ObjectCount),
            w: W::U32, k: K::Handle, max: 32, also: &[o!(WaitHw, FenceValueArray)], guard: None,
        },
        X::InArray {
            name: "*FenceValueArray",
            ptr: o!(WaitHw, FenceValueArray),
            count: o!(WaitHw, ObjectCount),
            w: W::U64, k: K::Int, max: 32, also: &[o!(WaitHw, ObjectHandleArray)], guard: None,
        },
    ]),
    spec!(D3DKMTQueryClockCalibration: Clock {
        hAdapter: U32 Handle In,
        NodeOrdinal: U32 Int In,
        PhysicalAdapterIndex: U32 Int In,
        ClockData.GpuFrequency: U64 Int Out,
        ClockData.GpuClockCounter: U64 Int Out,
        ClockData.CpuClockCounter: U64 Int Out,
    } extras []),
    spec!(D3DKMTMarkDeviceAsError: D3DKMT_MARKDEVICEASERROR {
        hDevice: U32 Handle In,
        Reason: U32 Int In,
    } extras []),
    spec!(D3DKMTFlushHeapTransitions: D3DKMT_FLUSHHEAPTRANSITIONS { hAdapter: U32 Handle In } extras []),
    spec!(D3DKMTQueryProtectedSessionStatus: D3DKMT_QUERYPROTECTEDSESSIONSTATUS {
        hHandle: U32 Handle In,
        Status: U32 Int Out,
    } extras []),
    spec!(D3DKMTQueryProtectedSessionInfoFromNtHandle: SessionInfo {
        hNtHandle: U64 Nt In,
        pPrivateDriverData: U64 Ptr In,
        PrivateDriverDataSize: U32 Int InOut,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int InOut,
    } extras [
        X::OutBlob {
            name: "*pPrivateDriverData",
            ptr: o!(SessionInfo, pPrivateDriverData),
            size: o!(SessionInfo, PrivateDriverDataSize),
        },
        X::OutBlob {
            name: "*pPrivateRuntimeData",
            ptr: o!(SessionInfo, pPrivateRuntimeData),
            size: o!(SessionInfo, PrivateRuntimeDataSize),
        },
    ]),
    spec!(D3DKMTOpenProtectedSessionFromNtHandle: D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE {
        hNtHandle: U64 Nt In,
        hHandle: U32 Handle Out,
    } extras [] key "hHandle"),
    spec!(D3DKMTShareObjects: Share {
        cObjects: U32 Int In,
        hObjects: U64 Ptr In,
        pObjectAttributes: U64 Ptr In,
        dwDesiredAccess: U32 Int In,
        phSharedNtHandle: U64 Ptr In,
    } extras [
        X::InArray {
            name: "*hObjects",
            ptr: o!(Share, hObjects),
            count: o!(Share, cObjects),
            w: W::U32, k: K::Handle, max: 3, also: &[o!(Share, phSharedNtHandle)], guard: None,
        },
        X::ObjectName { name: "pObjectAttributes->ObjectName", ptr: o!(Share, pObjectAttributes), before: false },
        X::OutSlot { name: "*phSharedNtHandle", ptr: o!(Share, phSharedNtHandle), w: W::U64, k: K::Nt },
    ] call call_share_objects),
    // Adapters.
    spec!(D3DKMTOpenAdapterFromGdiDisplayName: GdiName {
        hAdapter: U32 Handle Out,
        AdapterLuid.LowPart: U32 Int Out,
        AdapterLuid.HighPart: U32 Int Out,
        VidPnSourceId: U32 Int Out,
    } extras [X::InlineText { name: "DeviceName", off: o!(GdiName, DeviceName), units: 32 }]),
    spec!(D3DKMTOpenAdapterFromDeviceName: DeviceName {
        pDeviceName: U64 Ptr In,
        hAdapter: U32 Handle Out,
        AdapterLuid.LowPart: U32 Int Out,
        AdapterLuid.HighPart: U32 Int Out,
    } extras [X::WideStr { name: "*pDeviceName", ptr: o!(DeviceName, pDeviceName), max: MAX_DEVICE_PATH }]),
    spec!(D3DKMTOpenAdapterFromHdc: D3DKMT_OPENADAPTERFROMHDC {
        hDc: U64 Int In,
        hAdapter: U32 Handle Out,
        AdapterLuid.LowPart: U32 Int Out,
        AdapterLuid.HighPart: U32 Int Out,
        VidPnSourceId: U32 Int Out,
    } extras []),
    spec!(D3DKMTQueryAdapterInfo: AdapterInfo {
        hAdapter: U32 Handle In,
        Type: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        PrivateDriverDataSize: U32 Int In,
    } extras [
        X::InBlobBefore {
            name: "*pPrivateDriverData",
            ptr: o!(AdapterInfo, pPrivateDriverData),
            size: o!(AdapterInfo, PrivateDriverDataSize),
            max: 64,
            guard: reads_device_ids_input,
        },
        X::OutBlob {
            name: "*pPrivateDriverData",
            ptr: o!(AdapterInfo, pPrivateDriverData),
            size: o!(AdapterInfo, PrivateDriverDataSize),
        },
    ]),
    spec!(D3DKMTQueryVideoMemoryInfo: D3DKMT_QUERYVIDEOMEMORYINFO {
        hProcess: U64 Int In,
        hAdapter: U32 Handle In,
        MemorySegmentGroup: U32 Int In,
        PhysicalAdapterIndex: U32 Int In,
        Budget: U64 Int Out,
        CurrentUsage: U64 Int Out,
        CurrentReservation: U64 Int Out,
        AvailableForReservation: U64 Int Out,
    } extras []),
    // VidPn ownership and occlusion.
    spec!(D3DKMTSetVidPnSourceOwner: Owner {
        hDevice: U32 Handle In,
        pType: U64 Ptr In,
        pVidPnSourceId: U64 Ptr In,
        VidPnSourceCount: U32 Int In,
    } extras [
        X::InArray {
            name: "*pType",
            ptr: o!(Owner, pType),
            count: o!(Owner, VidPnSourceCount),
            w: W::U32, k: K::Int, max: 1024, also: &[], guard: Some(reads_owner_arrays),
        },
        X::InArray {
            name: "*pVidPnSourceId",
            ptr: o!(Owner, pVidPnSourceId),
            count: o!(Owner, VidPnSourceCount),
            w: W::U32, k: K::Int, max: 1024, also: &[o!(Owner, pType)], guard: Some(reads_owner_arrays),
        },
    ]),
    spec!(D3DKMTSetVidPnSourceOwner1: Owner1 {
        Version0.hDevice: U32 Handle In,
        Version0.pType: U64 Ptr In,
        Version0.pVidPnSourceId: U64 Ptr In,
        Version0.VidPnSourceCount: U32 Int In,
        Flags: U32 Int In,
    } extras [
        X::InArray {
            name: "*Version0.pType",
            ptr: o!(Owner1, Version0.pType),
            count: o!(Owner1, Version0.VidPnSourceCount),
            w: W::U32, k: K::Int, max: 1024, also: &[], guard: Some(reads_owner_arrays),
        },
        X::InArray {
            name: "*Version0.pVidPnSourceId",
            ptr: o!(Owner1, Version0.pVidPnSourceId),
            count: o!(Owner1, Version0.VidPnSourceCount),
            w: W::U32, k: K::Int, max: 1024, also: &[o!(Owner1, Version0.pType)], guard: Some(reads_owner_arrays),
        },
    ]),
    spec!(D3DKMTCheckVidPnExclusiveOwnership: D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP {
        hAdapter: U32 Handle In,
        VidPnSourceId: U32 Int In,
    } extras []),
    spec!(D3DKMTCheckOcclusion: D3DKMT_CHECKOCCLUSION { hWindow: U64 Int In } extras []),
    // Sync objects. v1's union is recorded as the semaphore's two counts;
    // a mutex's `InitialState` is the first of them.
    spec!(D3DKMTCreateSynchronizationObject: D3DKMT_CREATESYNCHRONIZATIONOBJECT {
        hDevice: U32 Handle In,
        Info.Type: U32 Int In,
        Info.Anonymous.Semaphore.MaxCount: U32 Int In,
        Info.Anonymous.Semaphore.InitialCount: U32 Int In,
        hSyncObject: U32 Handle Out,
    } extras []),
    spec!(D3DKMTOpenSynchronizationObject: D3DKMT_OPENSYNCHRONIZATIONOBJECT {
        hSharedHandle: U32 Global In,
        hSyncObject: U32 Handle Out,
    } extras []),
    spec!(D3DKMTOpenSyncObjectFromNtHandle: D3DKMT_OPENSYNCOBJECTFROMNTHANDLE {
        hNtHandle: U64 Nt In,
        hSyncObject: U32 Handle Out,
    } extras []),
    spec!(D3DKMTOpenSyncObjectNtHandleFromName: SyncFromName {
        dwDesiredAccess: U32 Int In,
        pObjAttrib: U64 Ptr In,
        hNtHandle: U64 Nt Out,
    } extras [X::ObjectName { name: "pObjAttrib->ObjectName", ptr: o!(SyncFromName, pObjAttrib), before: true }]),
    // Keyed mutexes.
    spec!(D3DKMTCreateKeyedMutex: D3DKMT_CREATEKEYEDMUTEX {
        InitialValue: U64 Int In,
        hSharedHandle: U32 Global Out,
        hKeyedMutex: U32 Handle Out,
    } extras []),
    spec!(D3DKMTCreateKeyedMutex2: CreateMutex2 {
        InitialValue: U64 Int In,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int In,
        Flags: U32 Int In,
        hSharedHandle: U32 Global Out,
        hKeyedMutex: U32 Handle Out,
    } extras [X::InBlob {
        name: "*pPrivateRuntimeData",
        ptr: o!(CreateMutex2, pPrivateRuntimeData),
        size: o!(CreateMutex2, PrivateRuntimeDataSize),
    }]),
    spec!(D3DKMTOpenKeyedMutex: D3DKMT_OPENKEYEDMUTEX {
        hSharedHandle: U32 Global In,
        hKeyedMutex: U32 Handle Out,
    } extras []),
    spec!(D3DKMTOpenKeyedMutex2: D3DKMT_OPENKEYEDMUTEX2 {
        hSharedHandle: U32 Global In,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int In,
        hKeyedMutex: U32 Handle Out,
    } extras []),
    spec!(D3DKMTOpenKeyedMutexFromNtHandle: D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE {
        hNtHandle: U64 Nt In,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int In,
        hKeyedMutex: U32 Handle Out,
    } extras []),
    spec!(D3DKMTDestroyKeyedMutex: D3DKMT_DESTROYKEYEDMUTEX { hKeyedMutex: U32 Handle In } extras []),
    spec!(D3DKMTAcquireKeyedMutex: Acquire {
        hKeyedMutex: U32 Handle In,
        Key: U64 Int In,
        pTimeout: U64 Ptr In,
        FenceValue: U64 Int Out,
    } extras [X::InSlot { name: "*pTimeout", ptr: o!(Acquire, pTimeout), w: W::U64, k: K::Int, guard: None }]),
    spec!(D3DKMTAcquireKeyedMutex2: Acquire2 {
        hKeyedMutex: U32 Handle In,
        Key: U64 Int In,
        pTimeout: U64 Ptr In,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int In,
        FenceValue: U64 Int Out,
    } extras [
        X::InSlot {
            name: "*pTimeout",
            ptr: o!(Acquire2, pTimeout),
            w: W::U64, k: K::Int, guard: Some(reads_acquire2_timeout),
        },
        X::OutBlob {
            name: "*pPrivateRuntimeData",
            ptr: o!(Acquire2, pPrivateRuntimeData),
            size: o!(Acquire2, PrivateRuntimeDataSize),
        },
    ]),
    spec!(D3DKMTReleaseKeyedMutex: D3DKMT_RELEASEKEYEDMUTEX {
        hKeyedMutex: U32 Handle In,
        Key: U64 Int In,
        FenceValue: U64 Int In,
    } extras []),
    spec!(D3DKMTReleaseKeyedMutex2: Release2 {
        hKeyedMutex: U32 Handle In,
        Key: U64 Int In,
        FenceValue: U64 Int In,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int In,
    } extras [X::InBlob {
        name: "*pPrivateRuntimeData",
        ptr: o!(Release2, pPrivateRuntimeData),
        size: o!(Release2, PrivateRuntimeDataSize),
    }]),
    // Allocations and resources.
    create_allocation!(
        D3DKMTCreateAllocation,
        "pAllocationInfo",
        D3DDDI_ALLOCATIONINFO,
        ALLOCATION_INFO_ROW,
        ALLOCATION_BLOB
    ),
    create_allocation!(
        D3DKMTCreateAllocation2,
        "pAllocationInfo2",
        D3DDDI_ALLOCATIONINFO2,
        ALLOCATION_INFO2_ROW,
        ALLOCATION2_BLOB
    ),
    spec!(D3DKMTDestroyAllocation: DestroyAlloc {
        hDevice: U32 Handle In,
        hResource: U32 Handle In,
        phAllocationList: U64 Ptr In,
        AllocationCount: U32 Int In,
    } extras [X::InArray {
        name: "*phAllocationList",
        ptr: o!(DestroyAlloc, phAllocationList),
        count: o!(DestroyAlloc, AllocationCount),
        w: W::U32, k: K::Handle, max: u32::MAX, also: &[], guard: None,
    }]),
    spec!(D3DKMTDestroyAllocation2: DestroyAlloc2 {
        hDevice: U32 Handle In,
        hResource: U32 Handle In,
        phAllocationList: U64 Ptr In,
        AllocationCount: U32 Int In,
        Flags: U32 Int In,
    } extras [X::InArray {
        name: "*phAllocationList",
        ptr: o!(DestroyAlloc2, phAllocationList),
        count: o!(DestroyAlloc2, AllocationCount),
        w: W::U32, k: K::Handle, max: u32::MAX, also: &[], guard: None,
    }]),
    spec!(D3DKMTQueryResourceInfo: D3DKMT_QUERYRESOURCEINFO {
        hDevice: U32 Handle In,
        hGlobalShare: U32 Global In,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int InOut,
        TotalPrivateDriverDataSize: U32 Int Out,
        ResourcePrivateDriverDataSize: U32 Int Out,
        NumAllocations: U32 Int Out,
    } extras []),
    open_resource!(D3DKMTOpenResource, D3DDDI_OPENALLOCATIONINFO, OPEN_ALLOCATION_ROW),
    open_resource!(D3DKMTOpenResource2, D3DDDI_OPENALLOCATIONINFO2, OPEN_ALLOCATION2_ROW),
    spec!(D3DKMTQueryResourceInfoFromNtHandle: D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE {
        hDevice: U32 Handle In,
        hNtHandle: U64 Nt In,
        pPrivateRuntimeData: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int InOut,
        TotalPrivateDriverDataSize: U32 Int Out,
        ResourcePrivateDriverDataSize: U32 Int Out,
        NumAllocations: U32 Int Out,
    } extras []),
    spec!(D3DKMTOpenResourceFromNtHandle: OpenResNt {
        hDevice: U32 Handle In,
        hNtHandle: U64 Nt In,
        NumAllocations: U32 Int In,
        pOpenAllocationInfo2: U64 Ptr In,
        PrivateRuntimeDataSize: U32 Int In,
        pPrivateRuntimeData: U64 Ptr In,
        ResourcePrivateDriverDataSize: U32 Int In,
        pResourcePrivateDriverData: U64 Ptr In,
        TotalPrivateDriverDataBufferSize: U32 Int InOut,
        pTotalPrivateDriverDataBuffer: U64 Ptr In,
        pKeyedMutexPrivateRuntimeData: U64 Ptr In,
        hResource: U32 Handle Out,
        hKeyedMutex: U32 Handle Out,
        KeyedMutexPrivateRuntimeDataSize: U32 Int Out,
        hSyncObject: U32 Handle Out,
    } extras [
        X::OutRows {
            name: "pOpenAllocationInfo2",
            ptr: o!(OpenResNt, pOpenAllocationInfo2),
            count: o!(OpenResNt, NumAllocations),
            row: size_of::<D3DDDI_OPENALLOCATIONINFO2>(),
            fields: OPEN_ALLOCATION2_ROW,
        },
        X::OutBlob {
            name: "*pPrivateRuntimeData",
            ptr: o!(OpenResNt, pPrivateRuntimeData),
            size: o!(OpenResNt, PrivateRuntimeDataSize),
        },
        X::OutBlob {
            name: "*pResourcePrivateDriverData",
            ptr: o!(OpenResNt, pResourcePrivateDriverData),
            size: o!(OpenResNt, ResourcePrivateDriverDataSize),
        },
        X::OutBlob {
            name: "*pTotalPrivateDriverDataBuffer",
            ptr: o!(OpenResNt, pTotalPrivateDriverDataBuffer),
            size: o!(OpenResNt, TotalPrivateDriverDataBufferSize),
        },
    ]),
    spec!(D3DKMTGetSharedResourceAdapterLuid: D3DKMT_GETSHAREDRESOURCEADAPTERLUID {
        hGlobalShare: U32 Global In,
        hNtHandle: U64 Nt In,
        AdapterLuid.LowPart: U32 Int Out,
        AdapterLuid.HighPart: U32 Int Out,
    } extras []),
    spec!(D3DKMTOpenNtHandleFromName: NtFromName {
        dwDesiredAccess: U32 Int In,
        pObjAttrib: U64 Ptr In,
        hNtHandle: U64 Nt Out,
    } extras [X::ObjectName { name: "pObjAttrib->ObjectName", ptr: o!(NtFromName, pObjAttrib), before: true }]),
    // GPU work: legacy and hardware contexts, submission, GPU-queued
    // signals and waits, escapes, statistics, sync files. The command
    // buffer a legacy context hands out is in our memory: `Render`'s
    // command bytes are not recorded (the default KMD a replay runs does
    // not look at them), nor are a submission's command-buffer contents
    // (`Commands`/`CommandBuffer` are GPU VAs, passed as recorded).
    spec!(D3DKMTCreateContext: CreateLegacy {
        hDevice: U32 Handle In,
        NodeOrdinal: U32 Int In,
        EngineAffinity: U32 Int In,
        Flags: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        PrivateDriverDataSize: U32 Int In,
        ClientHint: U32 Int In,
        hContext: U32 Handle Out,
        pCommandBuffer: U64 Ptr Out,
        CommandBufferSize: U32 Int Out,
        pAllocationList: U64 Ptr Out,
        AllocationListSize: U32 Int Out,
        pPatchLocationList: U64 Ptr Out,
        PatchLocationListSize: U32 Int Out,
        CommandBuffer: U64 Addr Out,
    } extras [
        X::InBlobBefore {
            name: "*pPrivateDriverData",
            ptr: o!(CreateLegacy, pPrivateDriverData),
            size: o!(CreateLegacy, PrivateDriverDataSize),
            max: MAX_PRIVATE_DATA,
            guard: always,
        },
        X::OutBlob {
            name: "*pPrivateDriverData",
            ptr: o!(CreateLegacy, pPrivateDriverData),
            size: o!(CreateLegacy, PrivateDriverDataSize),
        },
    ]),
    spec!(D3DKMTCreateHwContext: CreateHw {
        hDevice: U32 Handle In,
        NodeOrdinal: U32 Int In,
        EngineAffinity: U32 Int In,
        Flags: U32 Int In,
        PrivateDriverDataSize: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        hHwContext: U32 Handle Out,
    } extras [X::InBlobBefore {
        name: "*pPrivateDriverData",
        ptr: o!(CreateHw, pPrivateDriverData),
        size: o!(CreateHw, PrivateDriverDataSize),
        max: MAX_PRIVATE_DATA,
        guard: hw_contexts_emulated,
    }]),
    spec!(D3DKMTDestroyHwContext: D3DKMT_DESTROYHWCONTEXT { hHwContext: U32 Handle In } extras []),
    spec!(D3DKMTSetContextInProcessSchedulingPriority: D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY {
        hContext: U32 Handle In,
        Priority: U32 Int In,
    } extras []),
    spec!(D3DKMTGetContextInProcessSchedulingPriority: D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY {
        hContext: U32 Handle In,
        Priority: U32 Int Out,
    } extras []),
    spec!(D3DKMTSubmitCommand: Submit {
        Commands: U64 Addr In,
        CommandLength: U32 Int In,
        Flags: U32 Int In,
        PresentHistoryToken: U64 Int In,
        BroadcastContextCount: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        PrivateDriverDataSize: U32 Int In,
        NumPrimaries: U32 Int In,
        NumHistoryBuffers: U32 Int In,
        HistoryBufferArray: U64 Ptr In,
    } extras [
        X::InlineArray {
            name: "BroadcastContext",
            off: o!(Submit, BroadcastContext),
            count: o!(Submit, BroadcastContextCount),
            w: W::U32, k: K::Handle, max: MAX_BROADCAST,
        },
        X::InBlobBefore {
            name: "*pPrivateDriverData",
            ptr: o!(Submit, pPrivateDriverData),
            size: o!(Submit, PrivateDriverDataSize),
            max: MAX_PRIVATE_DATA,
            guard: reads_submit_data,
        },
    ]),
    // `Render`'s union is read as `hContext`; `BroadcastContext` and
    // `QueuedBufferCount` are not read (nor written) by the export.
    spec!(D3DKMTRender: Render {
        Anonymous.hContext: U32 Handle In,
        CommandOffset: U32 Int In,
        CommandLength: U32 Int In,
        AllocationCount: U32 Int In,
        PatchLocationCount: U32 Int In,
        Flags: U32 Int In,
        PresentHistoryToken: U64 Int In,
        BroadcastContextCount: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        PrivateDriverDataSize: U32 Int In,
        pNewCommandBuffer: U64 Ptr Out,
        NewCommandBufferSize: U32 Int Out,
        pNewAllocationList: U64 Ptr Out,
        NewAllocationListSize: U32 Int Out,
        pNewPatchLocationList: U64 Ptr Out,
        NewPatchLocationListSize: U32 Int Out,
        NewCommandBuffer: U64 Addr Out,
    } extras [X::InBlobBefore {
        name: "*pPrivateDriverData",
        ptr: o!(Render, pPrivateDriverData),
        size: o!(Render, PrivateDriverDataSize),
        max: MAX_PRIVATE_DATA,
        guard: always,
    }]),
    spec!(D3DKMTSubmitSignalSyncObjectsToHwQueue: SignalHw {
        Flags: U32 Int In,
        BroadcastHwQueueCount: U32 Int In,
        BroadcastHwQueueArray: U64 Ptr In,
        ObjectCount: U32 Int In,
        ObjectHandleArray: U64 Ptr In,
        FenceValueArray: U64 Ptr In,
    } extras [
        X::InArray {
            name: "*BroadcastHwQueueArray",
            ptr: o!(SignalHw, BroadcastHwQueueArray),
            count: o!(SignalHw, BroadcastHwQueueCount),
            w: W::U32, k: K::Handle, max: MAX_BROADCAST, also: &[], guard: None,
        },
        X::InArray {
            name: "*ObjectHandleArray",
            ptr: o!(SignalHw, ObjectHandleArray),
            count: o!(SignalHw, ObjectCount),
            w: W::U32, k: K::Handle, max: MAX_OBJECTS, also: &[], guard: Some(reads_hw_queue_objects),
        },
        X::InArray {
            name: "*FenceValueArray",
            ptr: o!(SignalHw, FenceValueArray),
            count: o!(SignalHw, ObjectCount),
            w: W::U64, k: K::Int, max: MAX_OBJECTS,
            also: &[o!(SignalHw, ObjectHandleArray)], guard: Some(reads_hw_queue_objects),
        },
    ]),
    // v1 signal and wait: mutexes and semaphores (not emulated).
    spec!(D3DKMTSignalSynchronizationObject: Signal1 {
        hContext: U32 Handle In,
        ObjectCount: U32 Int In,
        Flags: U32 Int In,
    } extras [X::InlineArray {
        name: "ObjectHandleArray",
        off: o!(Signal1, ObjectHandleArray),
        count: o!(Signal1, ObjectCount),
        w: W::U32, k: K::Handle, max: MAX_OBJECTS,
    }]),
    spec!(D3DKMTWaitForSynchronizationObject: Wait1 {
        hContext: U32 Handle In,
        ObjectCount: U32 Int In,
    } extras [X::InlineArray {
        name: "ObjectHandleArray",
        off: o!(Wait1, ObjectHandleArray),
        count: o!(Wait1, ObjectCount),
        w: W::U32, k: K::Handle, max: MAX_OBJECTS,
    }]),
    // v2: the union is read as `Fence.FenceValue` (with `EnqueueCpuEvent`,
    // refused, it would be an event handle: the same bits, recorded as a
    // number).
    spec!(D3DKMTSignalSynchronizationObject2: Signal2 {
        hContext: U32 Handle In,
        ObjectCount: U32 Int In,
        Flags: U32 Int In,
        BroadcastContextCount: U32 Int In,
        Anonymous.Fence.FenceValue: U64 Int In,
    } extras [
        X::InlineArray {
            name: "ObjectHandleArray",
            off: o!(Signal2, ObjectHandleArray),
            count: o!(Signal2, ObjectCount),
            w: W::U32, k: K::Handle, max: MAX_OBJECTS,
        },
        X::InlineArray {
            name: "BroadcastContext",
            off: o!(Signal2, BroadcastContext),
            count: o!(Signal2, BroadcastContextCount),
            w: W::U32, k: K::Handle, max: MAX_BROADCAST,
        },
    ]),
    spec!(D3DKMTWaitForSynchronizationObject2: Wait2 {
        hContext: U32 Handle In,
        ObjectCount: U32 Int In,
        Anonymous.Fence.FenceValue: U64 Int In,
    } extras [X::InlineArray {
        name: "ObjectHandleArray",
        off: o!(Wait2, ObjectHandleArray),
        count: o!(Wait2, ObjectCount),
        w: W::U32, k: K::Handle, max: MAX_OBJECTS,
    }]),
    spec!(D3DKMTSignalSynchronizationObjectFromGpu: SignalGpu {
        hContext: U32 Handle In,
        ObjectCount: U32 Int In,
        ObjectHandleArray: U64 Ptr In,
        Anonymous.MonitoredFenceValueArray: U64 Ptr In,
    } extras [
        X::InArray {
            name: "*ObjectHandleArray",
            ptr: o!(SignalGpu, ObjectHandleArray),
            count: o!(SignalGpu, ObjectCount),
            w: W::U32, k: K::Handle, max: MAX_OBJECTS, also: &[], guard: None,
        },
        X::InArray {
            name: "*MonitoredFenceValueArray",
            ptr: o!(SignalGpu, Anonymous.MonitoredFenceValueArray),
            count: o!(SignalGpu, ObjectCount),
            w: W::U64, k: K::Int, max: MAX_OBJECTS, also: &[o!(SignalGpu, ObjectHandleArray)], guard: None,
        },
    ]),
    // The union is read as `MonitoredFenceValueArray` (recorded as NULL or
    // not); with `EnqueueCpuEvent` (refused) it is never read.
    spec!(D3DKMTSignalSynchronizationObjectFromGpu2: SignalGpu2 {
        ObjectCount: U32 Int In,
        ObjectHandleArray: U64 Ptr In,
        Flags: U32 Int In,
        BroadcastContextCount: U32 Int In,
        BroadcastContextArray: U64 Ptr In,
        Anonymous.MonitoredFenceValueArray: U64 Ptr In,
    } extras [
        X::InArray {
            name: "*BroadcastContextArray",
            ptr: o!(SignalGpu2, BroadcastContextArray),
            count: o!(SignalGpu2, BroadcastContextCount),
            w: W::U32, k: K::Handle, max: MAX_BROADCAST, also: &[], guard: None,
        },
        X::InArray {
            name: "*ObjectHandleArray",
            ptr: o!(SignalGpu2, ObjectHandleArray),
            count: o!(SignalGpu2, ObjectCount),
            w: W::U32, k: K::Handle, max: MAX_OBJECTS, also: &[], guard: Some(reads_gpu2_objects),
        },
        X::InArray {
            name: "*MonitoredFenceValueArray",
            ptr: o!(SignalGpu2, Anonymous.MonitoredFenceValueArray),
            count: o!(SignalGpu2, ObjectCount),
            w: W::U64, k: K::Int, max: MAX_OBJECTS,
            also: &[o!(SignalGpu2, ObjectHandleArray)], guard: Some(reads_gpu2_objects),
        },
    ]),
    spec!(D3DKMTWaitForSynchronizationObjectFromGpu: WaitGpu {
        hContext: U32 Handle In,
        ObjectCount: U32 Int In,
        ObjectHandleArray: U64 Ptr In,
        Anonymous.MonitoredFenceValueArray: U64 Ptr In,
    } extras [
        X::InArray {
            name: "*ObjectHandleArray",
            ptr: o!(WaitGpu, ObjectHandleArray),
            count: o!(WaitGpu, ObjectCount),
            w: W::U32, k: K::Handle, max: MAX_OBJECTS, also: &[], guard: None,
        },
        X::InArray {
            name: "*MonitoredFenceValueArray",
            ptr: o!(WaitGpu, Anonymous.MonitoredFenceValueArray),
            count: o!(WaitGpu, ObjectCount),
            w: W::U64, k: K::Int, max: MAX_OBJECTS, also: &[o!(WaitGpu, ObjectHandleArray)], guard: None,
        },
    ]),
    // The KMD's answer comes back in the same buffer: an output blob of the
    // size given.
    spec!(D3DKMTEscape: Escape {
        hAdapter: U32 Handle In,
        hDevice: U32 Handle In,
        Type: U32 Int In,
        Flags: U32 Int In,
        pPrivateDriverData: U64 Ptr In,
        PrivateDriverDataSize: U32 Int In,
        hContext: U32 Handle In,
    } extras [
        X::InBlobBefore {
            name: "*pPrivateDriverData",
            ptr: o!(Escape, pPrivateDriverData),
            size: o!(Escape, PrivateDriverDataSize),
            max: MAX_PRIVATE_DATA,
            guard: reads_escape_data,
        },
        X::OutBlob {
            name: "*pPrivateDriverData",
            ptr: o!(Escape, pPrivateDriverData),
            size: o!(Escape, PrivateDriverDataSize),
        },
    ]),
    // The query union is read as its first 32 bits (`QueryNode.NodeId`,
    // a segment id...); `hProcess` is compared with NULL and the
    // current-process pseudo-handle, so it is a number.
    spec!(D3DKMTQueryStatistics: Statistics {
        Type: U32 Int In,
        AdapterLuid.LowPart: U32 Int In,
        AdapterLuid.HighPart: U32 Int In,
        hProcess: U64 Int In,
        Anonymous.QueryNode.NodeId: U32 Int In,
    } extras [X::InlineOut {
        name: "QueryResult",
        off: o!(Statistics, QueryResult),
        size: size_of::<D3DKMT_QUERYSTATISTICS_RESULT>(),
    }]),
    // A sync file is a new descriptor on every run (`fd:`, not compared).
    spec!(D3DKMTCreateSyncFile: SyncFile {
        hDevice: U32 Handle In,
        hMonitoredFence: U32 Handle In,
        FenceValue: U64 Int In,
        hSyncFile: U64 Fd Out,
    } extras []),
    // Device state. `Anonymous.ExecutionState` is the union's first 32
    // bits, whichever state was asked for (`ResetState.Value` for RESET).
    spec!(D3DKMTGetDeviceState: D3DKMT_GETDEVICESTATE {
        hDevice: U32 Handle In,
        StateType: U32 Int In,
        Anonymous.ExecutionState: U32 Int Out,
    } extras []),
    // GPU memory (`crate::abi::memory`). Output arrays (residency statuses,
    // priorities, reclaim results) are not recorded.
    spec!(D3DKMTReserveGpuVirtualAddress: D3DDDI_RESERVEGPUVIRTUALADDRESS {
        Anonymous1.hAdapter: U32 Handle In,
        BaseAddress: U64 Addr In,
        MinimumAddress: U64 Addr In,
        MaximumAddress: U64 Addr In,
        Size: U64 Int In,
        Anonymous2.ReservationType: U32 Int In,
        Anonymous3.DriverProtection: U64 Int In,
        VirtualAddress: U64 Addr Out,
    } extras []),
    spec!(D3DKMTMapGpuVirtualAddress: D3DDDI_MAPGPUVIRTUALADDRESS {
        hPagingQueue: U32 Handle In,
        BaseAddress: U64 Addr In,
        MinimumAddress: U64 Addr In,
        MaximumAddress: U64 Addr In,
        hAllocation: U32 Handle In,
        OffsetInPages: U64 Int In,
        SizeInPages: U64 Int In,
        Protection.Anonymous.Value: U64 Int In,
        DriverProtection: U64 Int In,
        VirtualAddress: U64 Addr Out,
        PagingFenceValue: U64 Int Out,
    } extras []),
    spec!(D3DKMTFreeGpuVirtualAddress: D3DKMT_FREEGPUVIRTUALADDRESS {
        hAdapter: U32 Handle In,
        BaseAddress: U64 Addr In,
        Size: U64 Int In,
    } extras []),
    spec!(D3DKMTUpdateGpuVirtualAddress: D3DKMT_UPDATEGPUVIRTUALADDRESS {
        hDevice: U32 Handle In,
        hContext: U32 Handle In,
        hFenceObject: U32 Handle In,
        NumOperations: U32 Int In,
        Operations: U64 Ptr In,
        FenceValue: U64 Int In,
        Flags.Value: U32 Int In,
    } extras []),
    spec!(D3DKMTMakeResident: D3DDDI_MAKERESIDENT {
        hPagingQueue: U32 Handle In,
        NumAllocations: U32 Int In,
        AllocationList: U64 Ptr In,
        PriorityList: U64 Ptr In,
        PagingFenceValue: U64 Int Out,
        NumBytesToTrim: U64 Int Out,
    } extras [X::InArray {
        name: "*AllocationList",
        ptr: o!(D3DDDI_MAKERESIDENT, AllocationList),
        count: o!(D3DDDI_MAKERESIDENT, NumAllocations),
        w: W::U32, k: K::Handle, max: crate::abi::memory::MAX_LIST, also: &[], guard: None,
    }]),
    spec!(D3DKMTEvict: D3DKMT_EVICT {
        hDevice: U32 Handle In,
        NumAllocations: U32 Int In,
        AllocationList: U64 Ptr In,
        NumBytesToTrim: U64 Int Out,
    } extras [X::InArray {
        name: "*AllocationList",
        ptr: o!(D3DKMT_EVICT, AllocationList),
        count: o!(D3DKMT_EVICT, NumAllocations),
        w: W::U32, k: K::Handle, max: crate::abi::memory::MAX_LIST, also: &[], guard: None,
    }]),
    spec!(D3DKMTQueryAllocationResidency: D3DKMT_QUERYALLOCATIONRESIDENCY {
        hDevice: U32 Handle In,
        hResource: U32 Handle In,
        phAllocationList: U64 Ptr In,
        AllocationCount: U32 Int In,
        pResidencyStatus: U64 Ptr In,
    } extras [X::InArray {
        name: "*phAllocationList",
        ptr: o!(D3DKMT_QUERYALLOCATIONRESIDENCY, phAllocationList),
        count: o!(D3DKMT_QUERYALLOCATIONRESIDENCY, AllocationCount),
        w: W::U32, k: K::Handle, max: crate::abi::memory::MAX_LIST, also: &[], guard: None,
    }]),
    spec!(D3DKMTSetAllocationPriority: D3DKMT_SETALLOCATIONPRIORITY {
        hDevice: U32 Handle In,
        hResource: U32 Handle In,
        phAllocationList: U64 Ptr In,
        AllocationCount: U32 Int In,
        pPriorities: U64 Ptr In,
    } extras [X::InArray {
        name: "*phAllocationList",
        ptr: o!(D3DKMT_SETALLOCATIONPRIORITY, phAllocationList),
        count: o!(D3DKMT_SETALLOCATIONPRIORITY, AllocationCount),
        w: W::U32, k: K::Handle, max: crate::abi::memory::MAX_LIST, also: &[], guard: None,
    }]),
    spec!(D3DKMTGetAllocationPriority: D3DKMT_GETALLOCATIONPRIORITY {
        hDevice: U32 Handle In,
        hResource: U32 Handle In,
        phAllocationList: U64 Ptr In,
        AllocationCount: U32 Int In,
        pPriorities: U64 Ptr In,
    } extras [X::InArray {
        name: "*phAllocationList",
        ptr: o!(D3DKMT_GETALLOCATIONPRIORITY, phAllocationList),
        count: o!(D3DKMT_GETALLOCATIONPRIORITY, AllocationCount),
        w: W::U32, k: K::Handle, max: crate::abi::memory::MAX_LIST, also: &[], guard: None,
    }]),
    spec!(D3DKMTOfferAllocations: D3DKMT_OFFERALLOCATIONS {
        hDevice: U32 Handle In,
        pResources: U64 Ptr In,
        HandleList: U64 Ptr In,
        NumAllocations: U32 Int In,
        Priority: U32 Int In,
        Flags.Anonymous.Value: U32 Int In,
    } extras [X::InArray {
        name: "*HandleList",
        ptr: o!(D3DKMT_OFFERALLOCATIONS, HandleList),
        count: o!(D3DKMT_OFFERALLOCATIONS, NumAllocations),
        w: W::U32, k: K::Handle, max: crate::abi::memory::MAX_LIST, also: &[], guard: None,
    }]),
    spec!(D3DKMTReclaimAllocations2: D3DKMT_RECLAIMALLOCATIONS2 {
        hPagingQueue: U32 Handle In,
        NumAllocations: U32 Int In,
        pResources: U64 Ptr In,
        HandleList: U64 Ptr In,
        Anonymous.pResults: U64 Ptr In,
        PagingFenceValue: U64 Int Out,
    } extras [X::InArray {
        name: "*HandleList",
        ptr: o!(D3DKMT_RECLAIMALLOCATIONS2, HandleList),
        count: o!(D3DKMT_RECLAIMALLOCATIONS2, NumAllocations),
        w: W::U32, k: K::Handle, max: crate::abi::memory::MAX_LIST, also: &[], guard: None,
    }]),
    spec!(D3DKMTUpdateAllocationProperty: D3DDDI_UPDATEALLOCPROPERTY {
        hPagingQueue: U32 Handle In,
        hAllocation: U32 Handle In,
        SupportedSegmentSet: U32 Int In,
        PagingFenceValue: U64 Int Out,
    } extras []),
    spec!(D3DKMTLock2: D3DKMT_LOCK2 {
        hDevice: U32 Handle In,
        hAllocation: U32 Handle In,
        pData: U64 Ptr Out,
    } extras []),
    spec!(D3DKMTUnlock2: D3DKMT_UNLOCK2 {
        hDevice: U32 Handle In,
        hAllocation: U32 Handle In,
    } extras []),
    spec!(D3DKMTInvalidateCache: D3DKMT_INVALIDATECACHE {
        hDevice: U32 Handle In,
        hAllocation: U32 Handle In,
        Offset: U64 Int In,
        Length: U64 Int In,
    } extras []),
    // libdxg's extras (`crate::host`, `crate::power`, `crate::dxcore`). The
    // host handle is a kernel-wide counter, the same on a replay into a
    // fresh kernel, so it is a number.
    spec!(D3DKMTShareObjectWithHost: D3DKMT_SHAREOBJECTWITHHOST {
        hDevice: U32 Handle In,
        hObject: U32 Handle In,
        Reserved: U64 Int In,
        hVailProcessNtHandle: U64 Int Out,
    } extras [] call call_share_object_with_host),
    spec!(D3DKMTSetStablePowerState: D3DKMT_SETSTABLEPOWERSTATE {
        hAdapter: U32 Handle In,
        Enabled: U32 Int In,
    } extras []),
    spec!(D3DKMTCloseDxCoreDevice: NoArgs {} extras [] call call_close_dxcore_device),
    spec!(D3DKMTChangeVideoMemoryReservation: D3DKMT_CHANGEVIDEOMEMORYRESERVATION {
        hProcess: U64 Int In,
        hAdapter: U32 Handle In,
        MemorySegmentGroup: U32 Int In,
        Reservation: U64 Int In,
        PhysicalAdapterIndex: U32 Int In,
    } extras []),
];

/// A size or count field of a record being rebuilt, checked against the
/// memory the replay can give it: the recorded bytes or items, or a cap. A
/// record whose field claims more (a hand-edited or corrupt trace) is
/// refused, so the export never reads or writes past a replay buffer.
fn fits(claimed: u64, room: usize, what: &str) -> Result<usize, String> {
    usize::try_from(claimed).ok().filter(|&n| n <= room).ok_or_else(|| {
        format!("{what}: the record's size or count {claimed:#x} exceeds the {room} recorded or allowed")
    })
}

/// The description of `entry`, if it has one. The descriptions follow the
/// Windows (windows-sys) layouts; in the libdxg build (4-byte `WCHAR`, see
/// `crate::wchar`) the entry points whose structs carry inline or pointed-to
/// text have other layouts, so they are recorded opaque there.
pub(crate) fn find(entry: Entry) -> Option<&'static Spec> {
    if cfg!(d3dkmt_wchar32)
        && matches!(entry, Entry::D3DKMTOpenAdapterFromGdiDisplayName | Entry::D3DKMTOpenAdapterFromDeviceName)
    {
        return None;
    }
    SPECS.iter().find(|s| s.entry == entry)
}

/// Reads a `w`-wide little-endian value at byte `off` of `raw`.
fn get(raw: &[u8], off: usize, w: W) -> u64 {
    raw[off..off + w.bytes()].iter().rev().fold(0, |v, &b| v << 8 | b as u64)
}

fn value(k: K, v: u64) -> Value {
    match k {
        K::Int => Value::Int(v),
        K::Handle => Value::Handle(v as u32),
        K::Nt => Value::Nt(v),
        K::Ptr => Value::Ptr(v != 0),
        K::Addr => Value::Addr(v),
        K::Global => Value::Global(v as u32),
        K::Fd => Value::Fd(v),
    }
}

/// `len` bytes at address `addr` of the caller's memory.
fn bytes_at(addr: u64, len: usize) -> Vec<u8> {
    let Ok(len) = u32::try_from(len) else { return Vec::new() };
    ptr::read_bytes(core::ptr::with_exposed_provenance(addr as usize), len).unwrap_or_default()
}

fn elements(raw: &[u8], count: usize, w: W, k: K) -> Value {
    Value::List((0..count).map(|i| value(k, get(raw, i * w.bytes(), w))).collect())
}

/// The name in the `OBJECT_ATTRIBUTES` at `attributes`, read only as far as
/// the export's own checks (`abi::share::object_name`) let it read.
fn object_name(attributes: u64) -> Option<String> {
    let attributes = ptr::in_ref(core::ptr::with_exposed_provenance::<OBJECT_ATTRIBUTES>(attributes as usize))?;
    if attributes.Length as usize != size_of::<OBJECT_ATTRIBUTES>() || !attributes.RootDirectory.is_null() {
        return None;
    }
    let name = ptr::in_ref::<UNICODE_STRING>(attributes.ObjectName)?;
    let wide = crate::wchar::Wchar::NATIVE;
    if name.Length as usize % wide.size() != 0 || name.Length > name.MaximumLength || name.Length == 0 {
        return None;
    }
    let bytes = ptr::read_bytes(name.Buffer.cast(), name.Length.into())?;
    wide.decode_counted(&bytes)
}

/// An inline UTF-16 array: its text when well-formed, else its bytes.
fn inline_text(raw: &[u8]) -> Value {
    let units: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    if let Some(len) = units.iter().position(|&u| u == 0)
        && units[len..].iter().all(|&u| u == 0)
        && let Ok(text) = String::from_utf16(&units[..len])
    {
        return Value::Str(text);
    }
    Value::Bytes(raw.to_vec())
}

/// The name of field `field` of the struct at pointer `name`.
fn member(name: &str, field: &str) -> String {
    format!("{name}->{field}")
}

/// At most this many rows are recorded or rebuilt.
const MAX_ROWS: usize = 4096;

impl Spec {
    fn raw(&self, arg: *const c_void) -> Option<Vec<u8>> {
        if arg.is_null() {
            return None;
        }
        ptr::read_bytes(arg, self.size as u32)
    }

    /// The inputs, read before the call (by `process`, for the guards).
    pub(crate) fn decode_input(&self, process: &Process, arg: *const c_void) -> Fields {
        let Some(raw) = self.raw(arg) else { return vec![("args".into(), Value::Ptr(false))] };
        let mut out: Fields = Vec::new();
        for f in self.fields.iter().filter(|f| f.d != D::Out) {
            out.push((f.name.into(), value(f.k, get(&raw, f.off, f.w))));
        }
        let at = |off| get(&raw, off, W::U64);
        let guarded = |guard: Option<Guard>| guard.is_none_or(|g| g(process, &raw));
        for x in self.extras {
            match *x {
                X::InArray { name, ptr, count, w, k, max, also, guard } => {
                    let n = get(&raw, count, W::U32);
                    let ready = also.iter().chain([&ptr]).all(|&p| at(p) != 0);
                    if ready && (1..=max as u64).contains(&n) && guarded(guard) {
                        let data = bytes_at(at(ptr), n as usize * w.bytes());
                        out.push((name.into(), elements(&data, n as usize, w, k)));
                    }
                }
                X::InSlot { name, ptr, w, k, guard } if at(ptr) != 0 && guarded(guard) => {
                    out.push((name.into(), value(k, get(&bytes_at(at(ptr), w.bytes()), 0, w))));
                }
                X::InBlobBefore { name, ptr, size, max, guard } => {
                    let n = get(&raw, size, W::U32);
                    if at(ptr) != 0 && n <= max as u64 && guard(process, &raw) {
                        out.push((name.into(), Value::Bytes(bytes_at(at(ptr), n as usize))));
                    }
                }
                X::InlineText { name, off, units } => out.push((name.into(), inline_text(&raw[off..off + units * 2]))),
                X::InlineArray { name, off, count, w, k, max } => {
                    let n = get(&raw, count, W::U32);
                    if (1..=max as u64).contains(&n) {
                        let n = n as usize;
                        out.push((name.into(), elements(&raw[off..off + n * w.bytes()], n, w, k)));
                    }
                }
                X::WideStr { name, ptr, max } if at(ptr) != 0 => {
                    let p = core::ptr::with_exposed_provenance::<u16>(at(ptr) as usize);
                    if let Some((units, _)) = ptr::read_wide_z(p, max) {
                        out.push((name.into(), Value::Str(String::from_utf16_lossy(&units))));
                    }
                }
                X::ObjectName { name, ptr, before: true } if at(ptr) != 0 => {
                    if let Some(text) = object_name(at(ptr)) {
                        out.push((name.into(), Value::Str(text)));
                    }
                }
                X::Struct { name, ptr, size, fields, before: Some(guard), .. }
                    if at(ptr) != 0 && guard(process, &raw) =>
                {
                    let r = bytes_at(at(ptr), size);
                    for f in fields.iter().filter(|f| f.d != D::Out) {
                        out.push((member(name, f.name), value(f.k, get(&r, f.off, f.w))));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// After a successful call: inputs only known now (blobs the export has
    /// read) and the outputs.
    pub(crate) fn decode_after(&self, process: &Process, arg: *const c_void) -> (Fields, Fields) {
        let (mut input, mut output): (Fields, Fields) = (Vec::new(), Vec::new());
        let Some(raw) = self.raw(arg) else { return (input, output) };
        for f in self.fields.iter().filter(|f| f.d != D::In) {
            output.push((f.name.into(), value(f.k, get(&raw, f.off, f.w))));
        }
        let at = |off| get(&raw, off, W::U64);
        for x in self.extras {
            match *x {
                X::InBlob { name, ptr, size } if at(ptr) != 0 => {
                    input.push((name.into(), Value::Bytes(bytes_at(at(ptr), get(&raw, size, W::U32) as usize))));
                }
                X::OutBlob { name, ptr, size } if at(ptr) != 0 => {
                    output.push((name.into(), Value::Bytes(bytes_at(at(ptr), get(&raw, size, W::U32) as usize))));
                }
                X::OutRows { name, ptr, count, row, fields } if at(ptr) != 0 => {
                    let n = get(&raw, count, W::U32) as usize;
                    let rows = bytes_at(at(ptr), n * row);
                    for (i, r) in rows.chunks_exact(row).enumerate() {
                        for f in fields {
                            output.push((format!("{name}[{i}].{}", f.name), value(f.k, get(r, f.off, f.w))));
                        }
                    }
                }
                X::Struct { name, ptr, size, fields, blobs, before } if at(ptr) != 0 => {
                    let r = bytes_at(at(ptr), size);
                    for f in fields {
                        let v = value(f.k, get(&r, f.off, f.w));
                        if f.d != D::Out && before.is_none() {
                            input.push((member(name, f.name), v.clone()));
                        }
                        if f.d != D::In {
                            output.push((member(name, f.name), v));
                        }
                    }
                    for &(field, p, n) in blobs {
                        let (p, n) = (get(&r, p, W::U64), get(&r, n, W::U32) as usize);
                        if p != 0 {
                            input.push((format!("*{}", member(name, field)), Value::Bytes(bytes_at(p, n))));
                        }
                    }
                }
                X::InlineOut { name, off, size } => {
                    let bytes = &raw[off..off + size];
                    let len = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
                    output.push((name.into(), Value::Bytes(bytes[..len].to_vec())));
                }
                X::OutSlot { name, ptr, w, k } if at(ptr) != 0 => {
                    output.push((name.into(), value(k, get(&bytes_at(at(ptr), w.bytes()), 0, w))));
                }
                X::ObjectName { name, ptr, before: false } if at(ptr) != 0 => {
                    if let Some(text) = object_name(at(ptr)) {
                        input.push((name.into(), Value::Str(text)));
                    }
                }
                _ => {}
            }
        }
        if let Some(field) = self.session_key_of {
            let handle = output.iter().find(|(n, _)| n == field).map(|(_, v)| v.clone());
            if let Some(Value::Handle(h)) = handle
                && let Ok(key) = process.protected_session_key(LocalHandle(h))
            {
                output.push(("session_key".into(), Value::Key(key.0)));
            }
        }
        (input, output)
    }

    /// Rebuilds the argument struct from recorded inputs, for a replay.
    /// `raw` turns a recorded handle, key or number into the value to pass.
    pub(crate) fn build(&self, input: &Fields, raw: &dyn Fn(&Value) -> u64) -> Result<Built, String> {
        let find = |name: &str| input.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let mut built = Built { words: vec![0; self.size.div_ceil(8)], keep: Vec::new(), null: false };
        if find("args") == Some(&Value::Ptr(false)) {
            built.null = true;
            return Ok(built);
        }
        for f in self.fields.iter().filter(|f| f.d != D::Out) {
            let v = find(f.name).ok_or_else(|| format!("the record has no input field {}", f.name))?;
            let bits = match v {
                Value::Ptr(true) => built.buffer(256),
                Value::Ptr(false) => 0,
                other => raw(other),
            };
            put(&mut built.words, f.off, f.w, bits);
        }
        let get_in = |built: &Built, off: usize, w: W| get_words(&built.words, off, w);
        // Pointers an input extra has already given a filled buffer.
        let mut filled: Vec<usize> = Vec::new();
        for x in self.extras {
            match *x {
                X::InBlob { name, ptr, size } | X::OutBlob { name, ptr, size } => {
                    if let Some(Value::Bytes(b)) = find(name).filter(|_| matches!(x, X::InBlob { .. })) {
                        fits(get_in(&built, size, W::U32), b.len(), name)?;
                        let addr = built.buffer(b.len().max(1));
                        built.fill(addr, b);
                        put(&mut built.words, ptr, W::U64, addr);
                    } else if get_in(&built, ptr, W::U64) != 0 && !filled.contains(&ptr) {
                        let len = fits(get_in(&built, size, W::U32), 1 << 20, name)?;
                        let addr = built.buffer(len.max(1));
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::InBlobBefore { name, ptr, size, .. } => {
                    if let Some(Value::Bytes(b)) = find(name) {
                        let len = fits(get_in(&built, size, W::U32), 1 << 20, name)?;
                        let addr = built.buffer(b.len().max(len).max(1));
                        built.fill(addr, b);
                        put(&mut built.words, ptr, W::U64, addr);
                        filled.push(ptr);
                    }
                }
                X::InSlot { name, ptr, w, .. } => {
                    if let Some(v) = find(name) {
                        let addr = built.buffer(8);
                        built.fill(addr, &raw(v).to_le_bytes()[..w.bytes()]);
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::InlineText { name, off, units } => {
                    let bytes: Vec<u8> = match find(name) {
                        Some(Value::Str(text)) => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                        Some(Value::Bytes(b)) => b.clone(),
                        _ => Vec::new(),
                    };
                    for (i, &b) in bytes.iter().take(units * 2).enumerate() {
                        put(&mut built.words, off + i, W::U8, b as u64);
                    }
                }
                X::InlineArray { name, off, count, w, max, .. } => {
                    if let Some(Value::List(items)) = find(name) {
                        fits(get_in(&built, count, W::U32), items.len(), name)?;
                        fits(items.len() as u64, max as usize, name)?;
                        for (i, v) in items.iter().enumerate() {
                            put(&mut built.words, off + i * w.bytes(), w, raw(v));
                        }
                    }
                }
                X::InlineOut { .. } => {}
                X::WideStr { name, ptr, max } => {
                    if let Some(Value::Str(text)) = find(name) {
                        let mut units: Vec<u16> = text.encode_utf16().collect();
                        if units.len() < max {
                            units.push(0);
                        }
                        let bytes: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
                        let addr = built.buffer(bytes.len().max(2));
                        built.fill(addr, &bytes);
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::InArray { name, ptr, count, w, max, .. } => {
                    if let Some(Value::List(items)) = find(name) {
                        fits(get_in(&built, count, W::U32), items.len(), name)?;
                        let addr = built.buffer(items.len().max(1) * w.bytes());
                        let bytes: Vec<u8> =
                            items.iter().flat_map(|v| raw(v).to_le_bytes()[..w.bytes()].to_vec()).collect();
                        built.fill(addr, &bytes);
                        put(&mut built.words, ptr, W::U64, addr);
                    } else if get_in(&built, ptr, W::U64) != 0 {
                        // Not recorded: the export will not read it either.
                        let n = fits(get_in(&built, count, W::U32), (max as usize).min(1 << 16), name)?;
                        let addr = built.buffer(n.max(1) * w.bytes());
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::OutRows { ptr, count, row, .. } => {
                    if get_in(&built, ptr, W::U64) != 0 {
                        let n = fits(get_in(&built, count, W::U32), MAX_ROWS, "output rows")?;
                        let addr = built.buffer(n.max(1) * row);
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::Struct { name, ptr, size, fields, blobs, .. } => {
                    if get_in(&built, ptr, W::U64) == 0 {
                        continue;
                    }
                    let mut words = vec![0u64; size.div_ceil(8)];
                    for f in fields.iter().filter(|f| f.d != D::Out) {
                        let bits = match find(&member(name, f.name)) {
                            Some(Value::Ptr(true)) => built.buffer(256),
                            Some(Value::Ptr(false)) | None => 0,
                            Some(other) => raw(other),
                        };
                        put(&mut words, f.off, f.w, bits);
                    }
                    for &(field, p, n) in blobs {
                        if let Some(Value::Bytes(b)) = find(&format!("*{}", member(name, field))) {
                            fits(get_words(&words, n, W::U32), b.len(), field)?;
                            let addr = built.buffer(b.len().max(1));
                            built.fill(addr, b);
                            put(&mut words, p, W::U64, addr);
                        } else if get_words(&words, p, W::U64) != 0 {
                            // Not recorded (a failed call): as many zero bytes
                            // as the size member says, so the export reads
                            // only memory of ours.
                            let len = fits(get_words(&words, n, W::U32), 1 << 20, field)?;
                            let addr = built.buffer(len.max(1));
                            put(&mut words, p, W::U64, addr);
                        }
                    }
                    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                    let addr = built.buffer(bytes.len());
                    built.fill(addr, &bytes);
                    put(&mut built.words, ptr, W::U64, addr);
                }
                X::OutSlot { ptr, .. } => {
                    if get_in(&built, ptr, W::U64) != 0 {
                        let addr = built.buffer(8);
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::ObjectName { name, ptr, .. } => {
                    if get_in(&built, ptr, W::U64) != 0 {
                        let attributes = built.buffer(size_of::<OBJECT_ATTRIBUTES>());
                        let mut a = vec![0u8; size_of::<OBJECT_ATTRIBUTES>()];
                        a[..4].copy_from_slice(&(size_of::<OBJECT_ATTRIBUTES>() as u32).to_le_bytes());
                        if let Some(Value::Str(text)) = find(name) {
                            let units: Vec<u8> = crate::wchar::Wchar::NATIVE.encode(text);
                            let buffer = built.buffer(units.len().max(2));
                            built.fill(buffer, &units);
                            let string = built.buffer(size_of::<UNICODE_STRING>());
                            let mut s = vec![0u8; size_of::<UNICODE_STRING>()];
                            let len = units.len() as u16;
                            s[..2].copy_from_slice(&len.to_le_bytes());
                            s[2..4].copy_from_slice(&len.to_le_bytes());
                            let at = offset_of!(UNICODE_STRING, Buffer);
                            s[at..at + 8].copy_from_slice(&buffer.to_le_bytes());
                            built.fill(string, &s);
                            let at = offset_of!(OBJECT_ATTRIBUTES, ObjectName);
                            a[at..at + 8].copy_from_slice(&string.to_le_bytes());
                        }
                        built.fill(attributes, &a);
                        put(&mut built.words, ptr, W::U64, attributes);
                    }
                }
            }
        }
        Ok(built)
    }
}

fn get_words(words: &[u64], off: usize, w: W) -> u64 {
    (0..w.bytes()).rev().fold(0, |v, i| v << 8 | (words[(off + i) / 8] >> ((off + i) % 8 * 8)) & 0xFF)
}

fn put(words: &mut [u64], off: usize, w: W, v: u64) {
    for i in 0..w.bytes() {
        let (word, shift) = ((off + i) / 8, (off + i) % 8 * 8);
        words[word] = words[word] & !(0xFF << shift) | (v >> (i * 8) & 0xFF) << shift;
    }
}

/// An argument struct rebuilt for a replay, with the buffers its pointers
/// point at (kept alive here, 8-byte aligned).
pub(crate) struct Built {
    words: Vec<u64>,
    keep: Vec<Vec<u64>>,
    null: bool,
}

impl Built {
    /// A new zeroed buffer of at least `len` bytes; its address.
    fn buffer(&mut self, len: usize) -> u64 {
        let mut b = vec![0u64; len.div_ceil(8).max(1)];
        let addr = b.as_mut_ptr().expose_provenance() as u64;
        self.keep.push(b);
        addr
    }

    /// Copies `data` into the buffer at `addr`.
    fn fill(&mut self, addr: u64, data: &[u8]) {
        let b = self.keep.iter_mut().find(|b| b.as_ptr().addr() as u64 == addr).expect("a buffer of ours");
        for (i, &byte) in data.iter().enumerate() {
            let (word, shift) = (i / 8, i % 8 * 8);
            b[word] = b[word] & !(0xFF << shift) | (byte as u64) << shift;
        }
    }

    /// The struct pointer to pass (NULL if the record had none).
    pub(crate) fn arg(&mut self) -> *mut c_void {
        if self.null { core::ptr::null_mut() } else { self.words.as_mut_ptr().cast() }
    }
}
