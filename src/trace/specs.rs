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
use crate::support::Entry;

/// A field's width in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum W {
    U32,
    U64,
}

impl W {
    fn bytes(self) -> usize {
        match self {
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
    InArray { name: &'static str, ptr: usize, count: usize, w: W, k: K, max: u32, also: &'static [usize] },
    /// `count` (after the call) rows of `row` bytes the export wrote at `ptr`.
    OutRows { name: &'static str, ptr: usize, count: usize, row: usize, fields: &'static [F] },
    /// One value the export writes through the pointer at `ptr`.
    OutSlot { name: &'static str, ptr: usize, w: W, k: K },
    /// The object name in the `OBJECT_ATTRIBUTES` at `ptr`, recorded after a
    /// successful call (as an input).
    ObjectName { name: &'static str, ptr: usize },
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
type CreateVirtual = D3DKMT_CREATECONTEXTVIRTUAL;
type CreateHwQueue = D3DKMT_CREATEHWQUEUE;
type SubmitHw = D3DKMT_SUBMITCOMMANDTOHWQUEUE;
type WaitHw = D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE;
type Clock = D3DKMT_QUERYCLOCKCALIBRATION;

static ADAPTER_ROW: &[F] = fields!(D3DKMT_ADAPTERINFO {
    hAdapter: U32 Handle Out,
    AdapterLuid.LowPart: U32 Int Out,
    AdapterLuid.HighPart: U32 Int Out,
    NumOfSources: U32 Int Out,
    bPrecisePresentRegionsPreferred: U32 Int Out,
});

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
        Info.SharedHandle: U32 Int Out,
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
            w: W::U32, k: K::Handle, max: 32, also: &[],
        },
        X::InArray {
            name: "*FenceValueArray",
            ptr: o!(Signal, FenceValueArray),
            count: o!(Signal, ObjectCount),
            w: W::U64, k: K::Int, max: 32, also: &[o!(Signal, ObjectHandleArray)],
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
            w: W::U32, k: K::Handle, max: 32, also: &[],
        },
        X::InArray {
            name: "*FenceValueArray",
            ptr: o!(Wait, FenceValueArray),
            count: o!(Wait, ObjectCount),
            w: W::U64, k: K::Int, max: 32, also: &[o!(Wait, ObjectHandleArray)],
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
            w: W::U32, k: K::Handle, max: 32, also: &[o!(WaitHw, FenceValueArray)],
        },
        X::InArray {
            name: "*FenceValueArray",
            ptr: o!(WaitHw, FenceValueArray),
            count: o!(WaitHw, ObjectCount),
            w: W::U64, k: K::Int, max: 32, also: &[o!(WaitHw, ObjectHandleArray)],
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
            w: W::U32, k: K::Handle, max: 3, also: &[o!(Share, phSharedNtHandle)],
        },
        X::ObjectName { name: "pObjectAttributes->ObjectName", ptr: o!(Share, pObjectAttributes) },
        X::OutSlot { name: "*phSharedNtHandle", ptr: o!(Share, phSharedNtHandle), w: W::U64, k: K::Nt },
    ] call call_share_objects),
];

/// The description of `entry`, if it has one.
pub(crate) fn find(entry: Entry) -> Option<&'static Spec> {
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

fn object_name(attributes: u64) -> Option<String> {
    let attributes = ptr::in_ref(core::ptr::with_exposed_provenance::<OBJECT_ATTRIBUTES>(attributes as usize))?;
    let name = ptr::in_ref::<UNICODE_STRING>(attributes.ObjectName)?;
    let bytes = ptr::read_bytes(name.Buffer.cast(), name.Length.into())?;
    crate::wchar::Wchar::NATIVE.decode_counted(&bytes)
}

impl Spec {
    fn raw(&self, arg: *const c_void) -> Option<Vec<u8>> {
        if arg.is_null() {
            return None;
        }
        ptr::read_bytes(arg, self.size as u32)
    }

    /// The inputs, read before the call.
    pub(crate) fn decode_input(&self, arg: *const c_void) -> Fields {
        let Some(raw) = self.raw(arg) else { return vec![("args".into(), Value::Ptr(false))] };
        let mut out: Fields = Vec::new();
        for f in self.fields.iter().filter(|f| f.d != D::Out) {
            out.push((f.name.into(), value(f.k, get(&raw, f.off, f.w))));
        }
        for x in self.extras {
            if let X::InArray { name, ptr, count, w, k, max, also } = *x {
                let n = get(&raw, count, W::U32);
                let ready = also.iter().chain([&ptr]).all(|&p| get(&raw, p, W::U64) != 0);
                if ready && (1..=max as u64).contains(&n) {
                    let data = bytes_at(get(&raw, ptr, W::U64), n as usize * w.bytes());
                    out.push((name.into(), elements(&data, n as usize, w, k)));
                }
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
                X::OutSlot { name, ptr, w, k } if at(ptr) != 0 => {
                    output.push((name.into(), value(k, get(&bytes_at(at(ptr), w.bytes()), 0, w))));
                }
                X::ObjectName { name, ptr } if at(ptr) != 0 => {
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
        for x in self.extras {
            match *x {
                X::InBlob { name, ptr, size } | X::OutBlob { name, ptr, size } => {
                    if let Some(Value::Bytes(b)) = find(name).filter(|_| matches!(x, X::InBlob { .. })) {
                        let addr = built.buffer(b.len().max(1));
                        built.fill(addr, b);
                        put(&mut built.words, ptr, W::U64, addr);
                    } else if get_in(&built, ptr, W::U64) != 0 {
                        let len = (get_in(&built, size, W::U32) as usize).min(1 << 20);
                        let addr = built.buffer(len.max(1));
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::InArray { name, ptr, count, w, max, .. } => {
                    if let Some(Value::List(items)) = find(name) {
                        let addr = built.buffer(items.len().max(1) * w.bytes());
                        let bytes: Vec<u8> =
                            items.iter().flat_map(|v| raw(v).to_le_bytes()[..w.bytes()].to_vec()).collect();
                        built.fill(addr, &bytes);
                        put(&mut built.words, ptr, W::U64, addr);
                    } else if get_in(&built, ptr, W::U64) != 0 {
                        let n = (get_in(&built, count, W::U32) as usize).min(max as usize);
                        let addr = built.buffer(n.max(1) * w.bytes());
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::OutRows { ptr, count, row, .. } => {
                    if get_in(&built, ptr, W::U64) != 0 {
                        let n = (get_in(&built, count, W::U32) as usize).min(4096);
                        let addr = built.buffer(n.max(1) * row);
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::OutSlot { ptr, .. } => {
                    if get_in(&built, ptr, W::U64) != 0 {
                        let addr = built.buffer(8);
                        put(&mut built.words, ptr, W::U64, addr);
                    }
                }
                X::ObjectName { name, ptr } => {
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
