//! The `abi_input` harness: raw bytes poured into the argument structs of
//! the exported entry points.
//!
//! The struct lives in a buffer of the harness's, fully initialised, filled
//! with the input's bytes. The one rule the harness keeps is the calling
//! convention: every pointer field is made NULL or pointed at a live buffer
//! of the harness's, at least as large as the count or size field beside it
//! says (a larger size is cut down first); a timeout pointer is never NULL (a
//! NULL timeout waits forever, which a single-threaded fuzzer cannot end).
//! Handles, sizes within that limit, flags and everything else are the
//! input's; a few `patch` bytes may write one of the world's real handles
//! over any 4-byte field, so calls also reach their deeper checks.
//!
//! After each call: a call that failed left the struct byte for byte as it
//! was, and the process's handle counts and the kernel's live objects and
//! global handles as they were; no call panicked (`STATUS_INTERNAL_ERROR`).
//! At the end the process exits and nothing may be left alive.

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::UNICODE_STRING;

use crate::abi::exports as x;
use crate::trace::specs::ShareObjectsArgs;
use crate::{DeviceLoss, Kernel, KernelConfig, LocalHandle, NtStatus, Process, SessionStatus, SyncFlags, SyncKind};

/// How a pointer field is made valid.
#[derive(Clone, Copy, Debug)]
enum Ptr {
    /// A buffer of `elem`-byte elements, as many as the u32 at `count` says
    /// (cut to fit the harness's buffer).
    Counted { count: usize, elem: usize },
    /// `OBJECT_ATTRIBUTES` naming one of a few names (or with a bad length).
    Attributes,
    /// A 64-bit timeout, never NULL.
    Timeout,
    /// One 8-byte output (a `HANDLE`).
    Out8,
}

/// One fuzzed entry point: its name, struct size, pointer fields, and the call.
pub struct AbiEntry {
    /// The export's name.
    pub name: &'static str,
    size: usize,
    ptrs: &'static [(usize, Ptr)],
    call: fn(*mut c_void) -> i32,
}

impl std::fmt::Debug for AbiEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AbiEntry").field("name", &self.name).field("size", &self.size).finish()
    }
}

macro_rules! entry {
    ($f:ident, $t:ty, [$($ptrs:tt)*]) => {
        AbiEntry { name: stringify!($f), size: size_of::<$t>(), ptrs: &[$($ptrs)*], call: |p| x::$f(p.cast()) }
    };
}

macro_rules! blob {
    ($t:ty, $p:ident, $n:ident) => {
        (offset_of!($t, $p), Ptr::Counted { count: offset_of!($t, $n), elem: 1 })
    };
}

/// The entry points `abi_input` fuzzes: every emulated export whose
/// arguments a single-threaded harness can make valid (the CPU wait is left
/// out: it may wait forever by design).
pub static ABI_ENTRIES: &[AbiEntry] = &[
    entry!(
        D3DKMTEnumAdapters2,
        D3DKMT_ENUMADAPTERS2,
        [(
            offset_of!(D3DKMT_ENUMADAPTERS2, pAdapters),
            Ptr::Counted {
                count: offset_of!(D3DKMT_ENUMADAPTERS2, NumAdapters),
                elem: size_of::<D3DKMT_ADAPTERINFO>()
            }
        )]
    ),
    entry!(D3DKMTOpenAdapterFromLuid, D3DKMT_OPENADAPTERFROMLUID, []),
    entry!(D3DKMTCloseAdapter, D3DKMT_CLOSEADAPTER, []),
    entry!(
        D3DKMTQueryAdapterInfo,
        D3DKMT_QUERYADAPTERINFO,
        [blob!(D3DKMT_QUERYADAPTERINFO, pPrivateDriverData, PrivateDriverDataSize)]
    ),
    entry!(D3DKMTCreateDevice, D3DKMT_CREATEDEVICE, []),
    entry!(D3DKMTDestroyDevice, D3DKMT_DESTROYDEVICE, []),
    entry!(D3DKMTGetDeviceState, D3DKMT_GETDEVICESTATE, []),
    entry!(D3DKMTCreateSynchronizationObject, D3DKMT_CREATESYNCHRONIZATIONOBJECT, []),
    entry!(D3DKMTCreateSynchronizationObject2, D3DKMT_CREATESYNCHRONIZATIONOBJECT2, []),
    entry!(D3DKMTOpenSynchronizationObject, D3DKMT_OPENSYNCHRONIZATIONOBJECT, []),
    entry!(D3DKMTDestroySynchronizationObject, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT, []),
    entry!(
        D3DKMTSignalSynchronizationObjectFromCpu,
        D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU,
        [
            (
                offset_of!(D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU, ObjectHandleArray),
                Ptr::Counted { count: offset_of!(D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU, ObjectCount), elem: 4 }
            ),
            (
                offset_of!(D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU, FenceValueArray),
                Ptr::Counted { count: offset_of!(D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU, ObjectCount), elem: 8 }
            ),
        ]
    ),
    entry!(D3DKMTOpenSyncObjectFromNtHandle, D3DKMT_OPENSYNCOBJECTFROMNTHANDLE, []),
    entry!(D3DKMTOpenSyncObjectFromNtHandle2, D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2, []),
    entry!(
        D3DKMTOpenSyncObjectNtHandleFromName,
        D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME,
        [(offset_of!(D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME, pObjAttrib), Ptr::Attributes)]
    ),
    entry!(
        D3DKMTCreateProtectedSession,
        D3DKMT_CREATEPROTECTEDSESSION,
        [
            blob!(D3DKMT_CREATEPROTECTEDSESSION, pPrivateDriverData, PrivateDriverDataSize),
            blob!(D3DKMT_CREATEPROTECTEDSESSION, pPrivateRuntimeData, PrivateRuntimeDataSize),
        ]
    ),
    entry!(D3DKMTDestroyProtectedSession, D3DKMT_DESTROYPROTECTEDSESSION, []),
    entry!(D3DKMTQueryProtectedSessionStatus, D3DKMT_QUERYPROTECTEDSESSIONSTATUS, []),
    entry!(
        D3DKMTQueryProtectedSessionInfoFromNtHandle,
        D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE,
        [
            blob!(D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE, pPrivateDriverData, PrivateDriverDataSize),
            blob!(D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE, pPrivateRuntimeData, PrivateRuntimeDataSize),
        ]
    ),
    entry!(D3DKMTOpenProtectedSessionFromNtHandle, D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE, []),
    entry!(D3DKMTCreateKeyedMutex, D3DKMT_CREATEKEYEDMUTEX, []),
    entry!(
        D3DKMTCreateKeyedMutex2,
        D3DKMT_CREATEKEYEDMUTEX2,
        [blob!(D3DKMT_CREATEKEYEDMUTEX2, pPrivateRuntimeData, PrivateRuntimeDataSize)]
    ),
    entry!(D3DKMTOpenKeyedMutex, D3DKMT_OPENKEYEDMUTEX, []),
    entry!(
        D3DKMTOpenKeyedMutex2,
        D3DKMT_OPENKEYEDMUTEX2,
        [blob!(D3DKMT_OPENKEYEDMUTEX2, pPrivateRuntimeData, PrivateRuntimeDataSize)]
    ),
    entry!(
        D3DKMTOpenKeyedMutexFromNtHandle,
        D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE,
        [blob!(D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE, pPrivateRuntimeData, PrivateRuntimeDataSize)]
    ),
    entry!(D3DKMTDestroyKeyedMutex, D3DKMT_DESTROYKEYEDMUTEX, []),
    entry!(
        D3DKMTAcquireKeyedMutex,
        D3DKMT_ACQUIREKEYEDMUTEX,
        [(offset_of!(D3DKMT_ACQUIREKEYEDMUTEX, pTimeout), Ptr::Timeout)]
    ),
    entry!(
        D3DKMTAcquireKeyedMutex2,
        D3DKMT_ACQUIREKEYEDMUTEX2,
        [
            (offset_of!(D3DKMT_ACQUIREKEYEDMUTEX2, pTimeout), Ptr::Timeout),
            blob!(D3DKMT_ACQUIREKEYEDMUTEX2, pPrivateRuntimeData, PrivateRuntimeDataSize),
        ]
    ),
    AbiEntry {
        name: "D3DKMTShareObjects",
        size: size_of::<ShareObjectsArgs>(),
        ptrs: &[
            (
                offset_of!(ShareObjectsArgs, hObjects),
                Ptr::Counted { count: offset_of!(ShareObjectsArgs, cObjects), elem: 4 },
            ),
            (offset_of!(ShareObjectsArgs, pObjectAttributes), Ptr::Attributes),
            (offset_of!(ShareObjectsArgs, phSharedNtHandle), Ptr::Out8),
        ],
        call: share_objects,
    },
    entry!(D3DKMTReleaseKeyedMutex, D3DKMT_RELEASEKEYEDMUTEX, []),
    entry!(
        D3DKMTReleaseKeyedMutex2,
        D3DKMT_RELEASEKEYEDMUTEX2,
        [blob!(D3DKMT_RELEASEKEYEDMUTEX2, pPrivateRuntimeData, PrivateRuntimeDataSize)]
    ),
];

/// `D3DKMTShareObjects` takes its arguments one by one: the harness fuzzes
/// them as this struct (the trace's view of the call).
fn share_objects(p: *mut c_void) -> i32 {
    match crate::abi::ptr::in_ref(p as *const ShareObjectsArgs) {
        Some(a) => {
            x::D3DKMTShareObjects(a.cObjects, a.hObjects, a.pObjectAttributes, a.dwDesiredAccess, a.phSharedNtHandle)
        }
        None => NtStatus::INVALID_PARAMETER.0,
    }
}

/// The harness's buffers: big enough for every pointer field's contents.
const ROOM: usize = 512;
const NAMES: [&str; 3] = ["\\BaseNamedObjects\\AbiFence", "\\BaseNamedObjects\\abifence", "\\BaseNamedObjects\\Nope"];

/// A world: one process holding real objects of every kind the entries take.
struct World {
    kernel: Kernel,
    process: Process,
    /// Real handle values (D3DKMT, global and NT) to patch in.
    reals: Vec<u64>,
}

fn world(flags: u8) -> World {
    let kernel = Kernel::new(KernelConfig::default());
    let process = kernel.create_process();
    let p = &process;
    let adapter = p.open_adapter_from_luid(kernel.adapter_luids()[0]).expect("adapter");
    let device = p.create_device(adapter).expect("device");
    let nt_flags = SyncFlags { shared: true, nt_security_sharing: true, ..SyncFlags::default() };
    let fence = p.create_monitored_fence(device, nt_flags, 0).expect("fence").handle;
    let session = p.create_protected_session(device, fence, b"driver", b"runtime").expect("session");
    let nt_session = p.share_objects(&[session], None, crate::access::GENERIC_ALL).expect("share session");
    let nt_fence = p.share_objects(&[fence], Some(NAMES[0]), crate::access::GENERIC_READ).expect("share fence");
    let km = p.create_keyed_mutex(0, b"km-data", false).expect("keyed mutex");
    let shared = SyncFlags { shared: true, ..SyncFlags::default() };
    let mutex = p.create_sync_object(device, SyncKind::Mutex { initial_state: false }, shared).expect("mutex");
    if flags & 1 != 0 {
        let key = p.protected_session_key(session).expect("key");
        kernel.set_protected_session_status(key, SessionStatus::Invalid).expect("status");
    }
    if flags & 2 != 0 {
        kernel.remove_device(p.id(), device, DeviceLoss::Hung).expect("removal");
    }
    let reals = vec![
        u64::from(adapter.0),
        u64::from(device.0),
        u64::from(fence.0),
        u64::from(session.0),
        u64::from(km.handle.0),
        u64::from(km.global),
        u64::from(mutex.handle.0),
        u64::from(mutex.global.unwrap_or(0)),
        nt_session.0,
        nt_fence.0,
    ];
    if flags & 4 != 0 {
        p.exit();
    }
    World { kernel, process, reals }
}

/// A view of the world that a failed call must leave as it was.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    local: usize,
    nt: usize,
    live: i64,
    globals: usize,
}

fn snapshot(w: &World) -> Snapshot {
    Snapshot {
        local: w.process.local_handle_count(),
        nt: w.process.nt_handle_count(),
        live: w.kernel.total_live_objects(),
        globals: w.kernel.live_global_handles(),
    }
}

fn read_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

fn write(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

/// A byte reader that yields zeros once the input runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn fill(&mut self, out: &mut [u8]) {
        let n = out.len().min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        out[n..].fill(0);
        self.0 = &self.0[n..];
    }
}

/// Runs the `abi_input` harness on `data`: a world byte (bit 0: the session
/// is INVALID, bit 1: the device was removed, bit 2: the process exited),
/// then up to 16 calls, each an entry byte, the struct's bytes, a pointer
/// byte (bit i: pointer field i is NULL) and two (field, real handle) patch
/// byte pairs. `Err` says which invariant broke.
pub fn run_abi_input(data: &[u8]) -> Result<(), String> {
    let mut input = Input(data);
    let w = world(input.byte());
    let result = {
        let _bound = w.process.enter();
        (0..16).take_while(|_| !input.0.is_empty()).try_for_each(|_| one_call(&w, &mut input))
    };
    result?;
    w.process.exit();
    if w.kernel.total_live_objects() != 0 || w.kernel.live_global_handles() != 0 {
        return Err(format!(
            "after exit: {} objects, {} global handles alive",
            w.kernel.total_live_objects(),
            w.kernel.live_global_handles()
        ));
    }
    Ok(())
}

fn one_call(w: &World, input: &mut Input<'_>) -> Result<(), String> {
    let entry = &ABI_ENTRIES[input.byte() as usize % ABI_ENTRIES.len()];
    // The struct, 8-byte aligned, in a fully initialised buffer.
    let mut words = [0u64; 32];
    let mut bytes = [0u8; 256];
    input.fill(&mut bytes[..entry.size]);
    let nulls = input.byte();
    for _ in 0..2 {
        let (field, which) = (input.byte() as usize, input.byte() as usize);
        if entry.size >= 4 && which < 2 * w.reals.len() {
            let at = (field * 4) % (entry.size - 3) / 4 * 4;
            let real = w.reals[which % w.reals.len()];
            // Handles are 4 bytes, NT handles 8 (where 8 fit).
            if real > u64::from(u32::MAX) && at + 8 <= entry.size {
                write(&mut bytes, at, &real.to_le_bytes());
            } else {
                write(&mut bytes, at, &(real as u32).to_le_bytes());
            }
        }
    }
    // Pointer fields: NULL or the harness's buffers, with their counts cut.
    let mut blobs = [[0u8; ROOM]; 3];
    for (i, blob) in blobs.iter_mut().enumerate() {
        blob.fill(0x3C + i as u8);
    }
    let timeout: i64 = i64::from(input.byte() as i8) * 1000;
    let units: Vec<Vec<u16>> = NAMES.iter().map(|n| n.encode_utf16().collect()).collect();
    let which_name = input.byte() as usize;
    let name_units = &units[which_name % units.len()];
    let string = UNICODE_STRING {
        Length: (name_units.len() * 2) as u16,
        MaximumLength: (name_units.len() * 2) as u16,
        Buffer: name_units.as_ptr().cast_mut(),
    };
    let attributes = OBJECT_ATTRIBUTES {
        Length: if which_name & 0x80 != 0 { 3 } else { size_of::<OBJECT_ATTRIBUTES>() as u32 },
        ObjectName: &string,
        ..Default::default()
    };
    let mut blob_ptrs = blobs.iter_mut().map(|b| b.as_mut_ptr());
    for (i, (at, kind)) in entry.ptrs.iter().enumerate() {
        let null = nulls & (1 << i) != 0;
        let address: usize = match kind {
            Ptr::Timeout => &timeout as *const i64 as usize,
            _ if null => 0,
            Ptr::Out8 => blob_ptrs.next().map_or(0, |p| p as usize),
            Ptr::Attributes => &attributes as *const OBJECT_ATTRIBUTES as usize,
            Ptr::Counted { count, elem } => {
                let n = read_u32(&bytes, *count) as usize;
                if n * elem > ROOM {
                    write(&mut bytes, *count, &((n % (ROOM / elem + 1)) as u32).to_le_bytes());
                }
                blob_ptrs.next().map_or(0, |p| p as usize)
            }
        };
        write(&mut bytes, *at, &address.to_le_bytes());
    }
    for (i, word) in words.iter_mut().enumerate() {
        *word = u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    }
    let before_words = words;
    let before_blobs = blobs;
    let before = snapshot(w);
    let status = NtStatus((entry.call)(words.as_mut_ptr().cast()));
    if status == NtStatus::INTERNAL_ERROR {
        let why = crate::last_error().map(|(_, m)| m).unwrap_or_default();
        return Err(format!("{}: a panic ({why})", entry.name));
    }
    if status != NtStatus::SUCCESS {
        if words != before_words {
            return Err(format!("{}: answered {status} and changed the struct", entry.name));
        }
        if blobs != before_blobs {
            return Err(format!("{}: answered {status} and wrote through a pointer", entry.name));
        }
        let after = snapshot(w);
        if after != before {
            return Err(format!("{}: answered {status} and changed the world: {before:?} -> {after:?}", entry.name));
        }
    }
    let _ = LocalHandle(0);
    Ok(())
}
