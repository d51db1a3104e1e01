//! Garbage in, status out: arbitrary bytes in the argument struct of every
//! emulated export. The project rule is that bad input is answered, never
//! obeyed: no call crashes (a caught panic, `STATUS_INTERNAL_ERROR`, counts as
//! one), and a call that fails leaves the caller's struct and buffers byte for
//! byte as they were and the calling process as it was: the same D3DKMT
//! handles, the same NT handles, the same live objects in the kernel.
//!
//! Each case builds a fresh kernel with one process holding real objects (an
//! adapter handle, a device, a monitored fence created `Shared |
//! NtSecuritySharing`, a protected session on them, NT handles to the session
//! and the fence with all access and with none, the fence opened again with
//! `NoSignal | NoWait`, and a second adapter, without protected sessions, with
//! a device and a fence of its own); sometimes the session has been made
//! INVALID, the KMD has removed the first device, or the process has exited. It fills the struct with random bytes,
//! then sets the handle fields, part of the time, to zero, a real handle, a
//! real handle with a few bits flipped, or any value, so that the calls reach
//! their deeper checks and sometimes succeed.
//!
//! The one thing the fuzzer respects is the calling convention: a pointer
//! field is NULL or points at a live, aligned buffer of the test's, as large
//! as the count or size field beside it says. Handle fields (`HANDLE`s
//! included) are not pointers to memory and may hold anything.
//!
//! `PROPTEST_CASES` sets the number of cases per export (default 64).
#![allow(unsafe_code, reason = "fills windows-sys structs with arbitrary bytes and calls the C ABI as C does")]

use std::marker::PhantomData;
use std::ptr::{null, null_mut, without_provenance_mut};
use std::sync::mpsc;
use std::time::Duration;

use d3dkmt_emu::{
    AdapterConfig, AdapterKind, AllocationFlags, AllocationRequest, DeviceLoss, HandleKind, Kernel, KernelConfig,
    LocalHandle, Luid, NtHandle, NtStatus, ObjectKind, OwnerRequest, Process, SessionStatus, SyncFlags, SyncKind,
    access,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_ALLOCATIONINFO, D3DDDI_ALLOCATIONINFO2, D3DDDI_OPENALLOCATIONINFO, D3DDDI_OPENALLOCATIONINFO2,
    D3DKMT_ACQUIREKEYEDMUTEX, D3DKMT_ACQUIREKEYEDMUTEX2, D3DKMT_CREATEALLOCATION, D3DKMT_CREATEKEYEDMUTEX,
    D3DKMT_CREATEKEYEDMUTEX2, D3DKMT_CREATESTANDARDALLOCATION, D3DKMT_DESTROYALLOCATION, D3DKMT_DESTROYALLOCATION2,
    D3DKMT_DESTROYKEYEDMUTEX, D3DKMT_GETSHAREDRESOURCEADAPTERLUID, D3DKMT_OPENKEYEDMUTEX, D3DKMT_OPENKEYEDMUTEX2,
    D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE, D3DKMT_OPENNTHANDLEFROMNAME, D3DKMT_OPENRESOURCE,
    D3DKMT_OPENRESOURCEFROMNTHANDLE, D3DKMT_QUERYRESOURCEINFO, D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE,
    D3DKMT_RELEASEKEYEDMUTEX, D3DKMT_RELEASEKEYEDMUTEX2,
};
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_ALLOCATIONLIST, D3DDDI_PATCHLOCATIONLIST, D3DKMT_ADAPTERINFO, D3DKMT_CLOSEADAPTER, D3DKMT_CREATEDEVICE,
    D3DKMT_CREATEPROTECTEDSESSION, D3DKMT_CREATESYNCHRONIZATIONOBJECT, D3DKMT_CREATESYNCHRONIZATIONOBJECT2,
    D3DKMT_DESTROYDEVICE, D3DKMT_DESTROYPROTECTEDSESSION, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT, D3DKMT_ENUMADAPTERS2,
    D3DKMT_ENUMADAPTERS3, D3DKMT_GETDEVICESTATE, D3DKMT_OPENADAPTERFROMLUID, D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE,
    D3DKMT_OPENSYNCHRONIZATIONOBJECT, D3DKMT_OPENSYNCOBJECTFROMNTHANDLE, D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2,
    D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME, D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE,
    D3DKMT_QUERYPROTECTEDSESSIONSTATUS, D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU,
};
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MAKERESIDENT, D3DDDI_MAPGPUVIRTUALADDRESS, D3DDDI_RESERVEGPUVIRTUALADDRESS, D3DDDI_UPDATEALLOCPROPERTY,
    D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION, D3DKMT_CHANGEVIDEOMEMORYRESERVATION, D3DKMT_EVICT,
    D3DKMT_FREEGPUVIRTUALADDRESS, D3DKMT_GETALLOCATIONPRIORITY, D3DKMT_LOCK2, D3DKMT_OFFERALLOCATIONS,
    D3DKMT_QUERYALLOCATIONRESIDENCY, D3DKMT_RECLAIMALLOCATIONS2, D3DKMT_SETALLOCATIONPRIORITY, D3DKMT_UNLOCK2,
    D3DKMT_UPDATEGPUVIRTUALADDRESS,
};
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DKMT_CHECKOCCLUSION, D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP, D3DKMT_OPENADAPTERFROMDEVICENAME,
    D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME, D3DKMT_OPENADAPTERFROMHDC, D3DKMT_QUERYADAPTERINFO,
    D3DKMT_QUERYVIDEOMEMORYINFO, D3DKMT_SETVIDPNSOURCEOWNER, D3DKMT_SETVIDPNSOURCEOWNER1,
};
use windows_sys::Win32::Foundation::{HANDLE, UNICODE_STRING};

/// Calls a `D3DKMT*` export through windows-sys's declaration.
macro_rules! call {
    ($f:ident($($arg:expr),*)) => {
        // SAFETY: every pointer argument, and every pointer field of the
        // structs they point at, is NULL or points at a live, aligned,
        // initialised buffer the test owns, at least as large as the count or
        // size field beside it states, valid for the whole call (the one rule
        // the fuzzer keeps); the export keeps none of them.
        unsafe { windows_sys::Wdk::Graphics::Direct3D::$f($($arg),*) }
    };
}

// ---------------------------------------------------------------------------
// Structs made of arbitrary bytes

/// C structs of integers, raw pointers, and unions and arrays of them.
///
/// # Safety
/// Implement only for `#[repr(C)]` types whose every field accepts any
/// initialised bit pattern: no references, `bool`s, enums or other niches.
unsafe trait Plain: Copy {}

macro_rules! plain {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: a windows-sys `#[repr(C)]` struct of integers, raw pointers
        // and `HANDLE`s (raw pointers), and unions of them: any bits will do.
        unsafe impl Plain for $t {}
    )*};
}

plain!(
    D3DDDI_RESERVEGPUVIRTUALADDRESS,
    D3DDDI_MAPGPUVIRTUALADDRESS,
    D3DKMT_FREEGPUVIRTUALADDRESS,
    D3DKMT_UPDATEGPUVIRTUALADDRESS,
    D3DDDI_MAKERESIDENT,
    D3DKMT_EVICT,
    D3DKMT_QUERYALLOCATIONRESIDENCY,
    D3DKMT_SETALLOCATIONPRIORITY,
    D3DKMT_GETALLOCATIONPRIORITY,
    D3DKMT_OFFERALLOCATIONS,
    D3DKMT_RECLAIMALLOCATIONS2,
    D3DDDI_UPDATEALLOCPROPERTY,
    D3DKMT_LOCK2,
    D3DKMT_UNLOCK2,
    D3DKMT_CHANGEVIDEOMEMORYRESERVATION,
    D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION,
    D3DKMT_ENUMADAPTERS2,
    D3DKMT_ENUMADAPTERS3,
    D3DKMT_OPENADAPTERFROMLUID,
    D3DKMT_CLOSEADAPTER,
    D3DKMT_CREATEDEVICE,
    D3DKMT_DESTROYDEVICE,
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2,
    D3DKMT_DESTROYSYNCHRONIZATIONOBJECT,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU,
    D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2,
    D3DKMT_CREATESYNCHRONIZATIONOBJECT,
    D3DKMT_OPENSYNCHRONIZATIONOBJECT,
    D3DKMT_OPENSYNCOBJECTFROMNTHANDLE,
    D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME,
    D3DKMT_CREATEPROTECTEDSESSION,
    D3DKMT_DESTROYPROTECTEDSESSION,
    D3DKMT_QUERYPROTECTEDSESSIONSTATUS,
    D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE,
    D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE,
    // Its union holds a `bool` in one member, but a union is valid whatever
    // its bytes; the other fields are integers.
    D3DKMT_GETDEVICESTATE,
    D3DKMT_CREATEKEYEDMUTEX,
    D3DKMT_CREATEKEYEDMUTEX2,
    D3DKMT_OPENKEYEDMUTEX,
    D3DKMT_OPENKEYEDMUTEX2,
    D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE,
    D3DKMT_DESTROYKEYEDMUTEX,
    D3DKMT_ACQUIREKEYEDMUTEX,
    D3DKMT_ACQUIREKEYEDMUTEX2,
    D3DKMT_RELEASEKEYEDMUTEX,
    D3DKMT_RELEASEKEYEDMUTEX2,
    D3DKMT_CREATEALLOCATION,
    D3DKMT_CREATESTANDARDALLOCATION,
    D3DDDI_ALLOCATIONINFO,
    D3DDDI_ALLOCATIONINFO2,
    D3DKMT_DESTROYALLOCATION,
    D3DKMT_DESTROYALLOCATION2,
    D3DKMT_QUERYRESOURCEINFO,
    D3DKMT_OPENRESOURCE,
    D3DDDI_OPENALLOCATIONINFO,
    D3DDDI_OPENALLOCATIONINFO2,
    D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE,
    D3DKMT_OPENRESOURCEFROMNTHANDLE,
    D3DKMT_GETSHAREDRESOURCEADAPTERLUID,
    D3DKMT_OPENNTHANDLEFROMNAME,
    OBJECT_ATTRIBUTES,
    UNICODE_STRING,
    D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME,
    D3DKMT_OPENADAPTERFROMDEVICENAME,
    D3DKMT_OPENADAPTERFROMHDC,
    D3DKMT_QUERYADAPTERINFO,
    D3DKMT_QUERYVIDEOMEMORYINFO,
    D3DKMT_SETVIDPNSOURCEOWNER,
    D3DKMT_SETVIDPNSOURCEOWNER1,
    D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP,
    D3DKMT_CHECKOCCLUSION,
);

plain!(
    D3DKMT_CREATECONTEXT,
    D3DKMT_CREATECONTEXTVIRTUAL,
    D3DKMT_DESTROYCONTEXT,
    D3DKMT_CREATEHWQUEUE,
    D3DKMT_DESTROYHWQUEUE,
    D3DKMT_CREATEPAGINGQUEUE,
    D3DDDI_DESTROYPAGINGQUEUE,
    D3DKMT_SETCONTEXTSCHEDULINGPRIORITY,
    D3DKMT_GETCONTEXTSCHEDULINGPRIORITY,
    D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY,
    D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY,
    D3DKMT_SUBMITCOMMAND,
    D3DKMT_RENDER,
    D3DKMT_SUBMITCOMMANDTOHWQUEUE,
    D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE,
    D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECT,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECT,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU,
    D3DKMT_ESCAPE,
    D3DKMT_QUERYSTATISTICS,
    D3DKMT_QUERYCLOCKCALIBRATION,
    D3DKMT_MARKDEVICEASERROR,
    D3DKMT_FLUSHHEAPTRANSITIONS,
    D3DKMT_CREATESYNCFILE,
    D3DKMT_CREATEHWCONTEXT,
    D3DKMT_DESTROYHWCONTEXT,
);

/// A `T` made of arbitrary bytes, kept in `u64` words the test owns: so every
/// byte, padding included, stays initialised, and the whole can be compared
/// before and after a call with safe code.
struct Garbage<T: Plain> {
    words: Vec<u64>,
    _type: PhantomData<T>,
}

impl<T: Plain> Garbage<T> {
    /// `bytes` must be `size_of::<T>()` long.
    fn new(bytes: &[u8]) -> Self {
        const { assert!(align_of::<T>() <= align_of::<u64>()) };
        assert_eq!(bytes.len(), size_of::<T>(), "one byte per byte of the struct");
        let mut padded = bytes.to_vec();
        padded.resize(size_of::<T>().div_ceil(8) * 8, 0);
        let words = padded.chunks_exact(8).map(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes"))).collect();
        Garbage { words, _type: PhantomData }
    }

    fn get(&self) -> &T {
        // SAFETY: `words` holds at least size_of::<T>() initialised bytes,
        // aligned for T (checked in `new`); T accepts any bits (`Plain`); the
        // borrow of `self` keeps the words alive and unaliased by writers.
        unsafe { &*self.words.as_ptr().cast::<T>() }
    }

    fn get_mut(&mut self) -> &mut T {
        // SAFETY: as `get`, with the exclusive borrow of `self`.
        unsafe { &mut *self.words.as_mut_ptr().cast::<T>() }
    }

    fn as_mut_ptr(&mut self) -> *mut T {
        self.words.as_mut_ptr().cast()
    }

    /// Every byte of the struct (and of the tail of its last word).
    fn bytes(&self) -> Vec<u64> {
        self.words.clone()
    }
}

fn bytes_of<T>() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), size_of::<T>())
}

fn handle_value(v: u64) -> HANDLE {
    without_provenance_mut(v as usize)
}

fn handle_bits(h: HANDLE) -> u64 {
    h.addr() as u64
}

// ---------------------------------------------------------------------------
// The fixture

const DRIVER_BLOB: &[u8] = b"driver-blob";
const RUNTIME_BLOB: &[u8] = b"runtime";
const FENCE_START: u64 = 10;

/// The fixture's D3DKMT handles, as `Pick::Real` indexes them.
const ADAPTER: usize = 0;
const DEVICE: usize = 1;
const FENCE: usize = 2;
const SESSION: usize = 3;
/// The fence again, opened from its NT handle with `NoSignal | NoWait`.
const RESTRICTED: usize = 4;
/// A compute-only adapter without protected sessions, a device and a plain
/// fence on it.
const ADAPTER2: usize = 5;
const DEVICE2: usize = 6;
const FENCE2: usize = 7;
/// The GPU-work cases' extra objects on `DEVICE` (see `gpu_fixture`): a
/// virtual context with a hardware queue, a paging queue and a legacy
/// context, indexed after the fixture's own eight handles.
const CONTEXT: usize = 8;
const HW_QUEUE: usize = 9;
const PAGING_QUEUE: usize = 10;
const LEGACY_CONTEXT: usize = 11;

/// The fixture's NT handles, as `Pick::Real` indexes them (modulo 4).
const SESSION_NT: usize = 0;
const FENCE_NT: usize = 1;
/// NT handles to the session and the fence with no access at all.
const SESSION_NT_NO_ACCESS: usize = 2;
const FENCE_NT_NO_ACCESS: usize = 3;

struct Fixture {
    kernel: Kernel,
    process: Process,
    /// Indexed by `ADAPTER` to `FENCE2`.
    locals: [u32; 8],
    /// Indexed by `SESSION_NT` to `FENCE_NT_NO_ACCESS`.
    nts: [u64; 4],
}

/// How the fixture's world differs from the plain one.
#[derive(Clone, Copy, Debug)]
struct World {
    /// The KMD has set the session's status to INVALID (the fence moved on).
    invalid_session: bool,
    /// The process has exited: every call must fail and change nothing.
    exited: bool,
    /// The KMD has removed `DEVICE` (a hang): its fences are at their
    /// maximum, its session INVALID, and creates on it fail.
    removed_device: bool,
}

fn world() -> impl Strategy<Value = World> {
    (prop::bool::weighted(0.3), prop::bool::weighted(0.05), prop::bool::weighted(0.15))
        .prop_map(|(invalid_session, exited, removed_device)| World { invalid_session, exited, removed_device })
}

fn fixture(world: World) -> Fixture {
    let second = AdapterConfig {
        protected_sessions: false,
        kind: AdapterKind::ComputeOnly,
        ..AdapterConfig::new(Luid { low: 0x5678, high: 0 })
    };
    let mut config = KernelConfig::default();
    config.adapters.push(second);
    let kernel = Kernel::new(config);
    let process = kernel.create_process();
    let luids = kernel.adapter_luids();
    let adapter = process.open_adapter_from_luid(luids[0]).unwrap();
    let device = process.create_device(adapter).unwrap();
    let shared = SyncFlags::from_bits(0x3);
    let fence = process.create_monitored_fence(device, shared, FENCE_START).unwrap().handle;
    let session = process.create_protected_session(device, fence, DRIVER_BLOB, RUNTIME_BLOB).unwrap();
    let session_nt = process.share_objects(&[session], None, access::GENERIC_ALL).unwrap();
    let fence_nt = process.share_objects(&[fence], None, access::GENERIC_ALL).unwrap();
    let session_nt_no_access = process.share_objects(&[session], None, 0).unwrap();
    let fence_nt_no_access = process.share_objects(&[fence], None, 0).unwrap();
    let no_signal_no_wait = SyncFlags::from_bits(0x30);
    let restricted = process.open_sync_object_from_nt_handle(fence_nt, device, no_signal_no_wait).unwrap().handle;
    let adapter2 = process.open_adapter_from_luid(luids[1]).unwrap();
    let device2 = process.create_device(adapter2).unwrap();
    let fence2 = process.create_monitored_fence(device2, SyncFlags::default(), 0).unwrap().handle;
    if world.invalid_session {
        let key = process.protected_session_key(session).unwrap();
        kernel.set_protected_session_status(key, SessionStatus::Invalid).unwrap();
    }
    if world.removed_device {
        kernel.remove_device(process.id(), device, DeviceLoss::Hung).unwrap();
    }
    if world.exited {
        process.exit();
    }
    let locals = [adapter, device, fence, session, restricted, adapter2, device2, fence2].map(|h| h.0);
    let nts = [session_nt, fence_nt, session_nt_no_access, fence_nt_no_access].map(|h| h.0);
    Fixture { kernel, process, locals, nts }
}

/// What a handle field is set to.
#[derive(Clone, Copy, Debug)]
enum Pick {
    /// Left as the random bytes made it.
    Garbage,
    Zero,
    /// One of the fixture's real handles (index taken modulo their number).
    Real(usize),
    /// A real handle with these bits flipped.
    Flipped(usize, u64),
    Any(u64),
}

fn pick() -> impl Strategy<Value = Pick> {
    let bits = prop_oneof![(0..64u32).prop_map(|b| 1u64 << b), 1..0x40u64];
    prop_oneof![
        2 => Just(Pick::Garbage),
        1 => Just(Pick::Zero),
        5 => (0..8usize).prop_map(Pick::Real),
        2 => (0..8usize, bits).prop_map(|(i, b)| Pick::Flipped(i, b)),
        1 => any::<u64>().prop_map(Pick::Any),
    ]
}

/// Like `pick`, but half the time one of the real handles of the kind the
/// field wants, so that calls get past their handle checks often enough.
fn favour(reals: &'static [usize]) -> impl Strategy<Value = Pick> {
    prop_oneof![proptest::sample::select(reals).prop_map(Pick::Real), pick()]
}

const ADAPTERS: &[usize] = &[ADAPTER, ADAPTER, ADAPTER2];
const DEVICES: &[usize] = &[DEVICE, DEVICE, DEVICE2];
const FENCES: &[usize] = &[FENCE, FENCE, RESTRICTED, FENCE2];
const SESSIONS: &[usize] = &[SESSION];
const SESSION_NTS: &[usize] = &[SESSION_NT, SESSION_NT, SESSION_NT_NO_ACCESS];
const FENCE_NTS: &[usize] = &[FENCE_NT, FENCE_NT, FENCE_NT_NO_ACCESS];
const CONTEXTS: &[usize] = &[CONTEXT, CONTEXT, LEGACY_CONTEXT];
const HW_QUEUES: &[usize] = &[HW_QUEUE];
const PAGING_QUEUES: &[usize] = &[PAGING_QUEUE];

/// A value for a 32-bit field that is not a handle: as the bytes made it, or
/// one of a few interesting ones.
fn pick_u32(interesting: &'static [u32]) -> impl Strategy<Value = Option<u32>> {
    prop_oneof![
        2 => Just(None),
        3 => proptest::sample::select(interesting).prop_map(Some),
        1 => any::<u32>().prop_map(Some),
    ]
}

fn fence_value() -> impl Strategy<Value = u64> {
    prop_oneof![2 => 0..=2 * FENCE_START, 1 => any::<u64>(), 1 => Just(u64::MAX)]
}

impl Fixture {
    fn local(&self, pick: Pick, garbage: u32) -> u32 {
        let real = &self.locals;
        match pick {
            Pick::Garbage => garbage,
            Pick::Zero => 0,
            Pick::Real(i) => real[i % real.len()],
            Pick::Flipped(i, bits) => real[i % real.len()] ^ bits as u32,
            Pick::Any(v) => v as u32,
        }
    }

    fn nt(&self, pick: Pick, garbage: HANDLE) -> HANDLE {
        let real = &self.nts;
        handle_value(match pick {
            Pick::Garbage => return garbage,
            Pick::Zero => 0,
            Pick::Real(i) => real[i % real.len()],
            Pick::Flipped(i, bits) => real[i % real.len()] ^ bits,
            Pick::Any(v) => v,
        })
    }

    fn state(&self) -> State {
        let local = self.process.local_handles();
        let of_kind = |kind| local.iter().filter(move |(_, k)| *k == kind).map(|(h, _)| *h);
        State {
            fences: of_kind(HandleKind::SyncObject).map(|h| self.process.fence_value(h).ok()).collect(),
            sessions: of_kind(HandleKind::ProtectedSession)
                .map(|h| self.process.query_protected_session_status(h).ok())
                .collect(),
            nt: self.process.nt_handles(),
            live: ObjectKind::ALL.map(|k| self.kernel.live_objects(k)),
            total: self.kernel.total_live_objects(),
            local,
        }
    }
}

/// The calling process's state, as far as a failed call must not change it.
#[derive(Debug, PartialEq)]
struct State {
    local: Vec<(LocalHandle, HandleKind)>,
    nt: Vec<NtHandle>,
    live: [i64; ObjectKind::ALL.len()],
    total: i64,
    /// The value of each sync-object handle's fence, in `local`'s order.
    fences: Vec<Option<u64>>,
    /// The status of each protected-session handle's session.
    sessions: Vec<Option<SessionStatus>>,
}

/// The rule, for one call: no panic; on failure, `memory` (the caller's struct
/// and buffers) and the process as they were, and `last_error` names the
/// export; on success, the process's tables still make sense.
fn judge<M: PartialEq + std::fmt::Debug>(
    f: &Fixture,
    entry: &str,
    status: i32,
    before: &State,
    memory_before: &M,
    memory_after: &M,
) -> Result<(), TestCaseError> {
    let status = NtStatus(status);
    prop_assert_ne!(status, NtStatus::INTERNAL_ERROR, "{} panicked: {:?}", entry, d3dkmt_emu::last_error());
    let after = f.state();
    if status.is_err() {
        prop_assert_eq!(memory_before, memory_after, "{} failed with {} but wrote the caller's memory", entry, status);
        prop_assert_eq!(before, &after, "{} failed with {} but changed the process", entry, status);
        let named = d3dkmt_emu::last_error().map(|(e, _)| e.name());
        prop_assert_eq!(named, Some(entry), "last_error after a failed {}", entry);
    } else {
        let mut local: Vec<u32> = after.local.iter().map(|(h, _)| h.0).collect();
        local.sort_unstable();
        local.dedup();
        prop_assert_eq!(local.len(), after.local.len(), "{} succeeded: duplicate D3DKMT handles {:?}", entry, after);
        let mut nt: Vec<u64> = after.nt.iter().map(|h| h.0).collect();
        nt.sort_unstable();
        nt.dedup();
        prop_assert_eq!(nt.len(), after.nt.len(), "{} succeeded: duplicate NT handles {:?}", entry, after);
        prop_assert!(after.live.iter().all(|&n| n >= 0) && after.total >= 0, "{} succeeded: {:?}", entry, after);
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        // A failure prints its shrunk input; no regressions file is written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs `call`; if it has not returned within 3 s it is stuck in a CPU wait
/// the test did not mean to block: exiting the process ends the wait (with
/// `STATUS_PROCESS_IS_TERMINATING`), and the second value says so.
fn with_watchdog(process: &Process, call: impl FnOnce() -> i32) -> (i32, bool) {
    let (done, wait) = mpsc::channel::<()>();
    let process = process.clone();
    let dog = std::thread::spawn(move || {
        let stuck = wait.recv_timeout(Duration::from_secs(3)) == Err(mpsc::RecvTimeoutError::Timeout);
        if stuck {
            process.exit();
        }
        stuck
    });
    let status = call();
    drop(done);
    (status, dog.join().expect("the watchdog does not panic"))
}

// `D3DKMT_ADAPTERINFO` arrays are kept as `u32` words, five a row.
const _: () = assert!(size_of::<D3DKMT_ADAPTERINFO>() == 20 && align_of::<D3DKMT_ADAPTERINFO>() == 4);

/// A sync-object handle array and a fence-value array, either possibly NULL,
/// for the CPU signal and wait.
#[derive(Clone, Debug)]
struct FenceArrays {
    count: usize,
    handles: Option<Vec<Pick>>,
    values: Option<Vec<u64>>,
}

fn fence_arrays() -> impl Strategy<Value = FenceArrays> {
    let count = prop_oneof![3 => 1..=3usize, 1 => 0..=40usize];
    (count, prop::bool::weighted(0.8), prop::bool::weighted(0.8), vec(favour(FENCES), 40), vec(fence_value(), 40))
        .prop_map(|(count, with_handles, with_values, handles, values)| FenceArrays {
            count,
            handles: with_handles.then(|| handles[..count].to_vec()),
            values: with_values.then(|| values[..count].to_vec()),
        })
}

/// A blob or out-buffer argument: NULL, or a buffer of this many random bytes.
fn blob() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop::option::weighted(0.8, vec(any::<u8>(), 0..=64))
}

/// An adapter-info array: NULL, or this many rows of random `u32` words.
fn adapter_array() -> impl Strategy<Value = Option<Vec<u32>>> {
    let rows = prop_oneof![3 => 0..=2usize, 1 => 0..=40usize];
    prop::option::weighted(0.8, rows.prop_flat_map(|n| vec(any::<u32>(), n * 5)))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn enum_adapters2(world in world(), bytes in bytes_of::<D3DKMT_ENUMADAPTERS2>(), rows in adapter_array()) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_ENUMADAPTERS2>::new(&bytes);
        let mut rows = rows;
        match &mut rows {
            Some(r) => {
                args.get_mut().NumAdapters = (r.len() / 5) as u32;
                args.get_mut().pAdapters = r.as_mut_ptr().cast();
            }
            None => args.get_mut().pAdapters = null_mut(),
        }
        let (before, memory) = (f.state(), (args.bytes(), rows.clone()));
        let status = call!(D3DKMTEnumAdapters2(args.as_mut_ptr()));
        judge(&f, "D3DKMTEnumAdapters2", status, &before, &memory, &(args.bytes(), rows))?;
    }

    #[test]
    fn enum_adapters3(
        world in world(),
        bytes in bytes_of::<D3DKMT_ENUMADAPTERS3>(),
        filter in prop::option::of(0..4u64),
        rows in adapter_array(),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_ENUMADAPTERS3>::new(&bytes);
        if let Some(filter) = filter {
            args.get_mut().Filter.Value = filter;
        }
        let mut rows = rows;
        match &mut rows {
            Some(r) => {
                args.get_mut().NumAdapters = (r.len() / 5) as u32;
                args.get_mut().pAdapters = r.as_mut_ptr().cast();
            }
            None => args.get_mut().pAdapters = null_mut(),
        }
        let (before, memory) = (f.state(), (args.bytes(), rows.clone()));
        let status = call!(D3DKMTEnumAdapters3(args.as_mut_ptr()));
        judge(&f, "D3DKMTEnumAdapters3", status, &before, &memory, &(args.bytes(), rows))?;
    }

    #[test]
    fn open_adapter_from_luid(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENADAPTERFROMLUID>(),
        luid in pick(),
        h in pick(),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENADAPTERFROMLUID>::new(&bytes);
        let luids = f.kernel.adapter_luids();
        let real = |i: usize| {
            let l = luids[i % luids.len()];
            (u64::from(l.high as u32) << 32) | u64::from(l.low)
        };
        let a = args.get_mut();
        let garbage = (u64::from(a.AdapterLuid.HighPart as u32) << 32) | u64::from(a.AdapterLuid.LowPart);
        let value = match luid {
            Pick::Garbage => garbage,
            Pick::Zero => 0,
            Pick::Real(i) => real(i),
            Pick::Flipped(i, bits) => real(i) ^ bits,
            Pick::Any(v) => v,
        };
        a.AdapterLuid.LowPart = value as u32;
        a.AdapterLuid.HighPart = (value >> 32) as i32;
        a.hAdapter = f.local(h, a.hAdapter);
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTOpenAdapterFromLuid(args.as_mut_ptr()));
        judge(&f, "D3DKMTOpenAdapterFromLuid", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn close_adapter(world in world(), bytes in bytes_of::<D3DKMT_CLOSEADAPTER>(), h in favour(ADAPTERS)) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_CLOSEADAPTER>::new(&bytes);
        args.get_mut().hAdapter = f.local(h, args.get().hAdapter);
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTCloseAdapter(args.as_mut_ptr()));
        judge(&f, "D3DKMTCloseAdapter", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn create_device(
        world in world(),
        bytes in bytes_of::<D3DKMT_CREATEDEVICE>(),
        h in favour(ADAPTERS),
        outs in [prop::bool::weighted(0.5), prop::bool::weighted(0.5), prop::bool::weighted(0.5)],
        sizes in [0..=64u32, 0..=16u32, 0..=16u32],
        scratch in vec(any::<u64>(), 64),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_CREATEDEVICE>::new(&bytes);
        // The legacy outputs point at buffers of the test's, as large as
        // their size fields say (command buffer in bytes, at most 64; the
        // allocation and patch-location lists in entries, at most 16). The
        // `hAdapter`/`pAdapter` union is read as `hAdapter`, as user mode
        // passes it; its upper half stays garbage.
        const { assert!(16 * size_of::<D3DDDI_PATCHLOCATIONLIST>() <= 64 * 8) };
        const { assert!(16 * size_of::<D3DDDI_ALLOCATIONLIST>() <= 64 * 8) };
        let mut buffers = [scratch.clone(), scratch.clone(), scratch];
        let [command, allocations, patches] = &mut buffers;
        let a = args.get_mut();
        // SAFETY: reading a union of a u32 and a pointer: any bits are a u32.
        let garbage = unsafe { a.Anonymous.hAdapter };
        a.Anonymous.hAdapter = f.local(h, garbage);
        a.pCommandBuffer = if outs[0] { command.as_mut_ptr().cast() } else { null_mut() };
        a.pAllocationList = if outs[1] { allocations.as_mut_ptr().cast() } else { null_mut() };
        a.pPatchLocationList = if outs[2] { patches.as_mut_ptr().cast() } else { null_mut() };
        if outs[0] {
            a.CommandBufferSize = sizes[0];
        }
        if outs[1] {
            a.AllocationListSize = sizes[1];
        }
        if outs[2] {
            a.PatchLocationListSize = sizes[2];
        }
        let (before, memory) = (f.state(), (args.bytes(), buffers.clone()));
        let status = call!(D3DKMTCreateDevice(args.as_mut_ptr()));
        judge(&f, "D3DKMTCreateDevice", status, &before, &memory, &(args.bytes(), buffers))?;
    }

    #[test]
    fn destroy_device(world in world(), bytes in bytes_of::<D3DKMT_DESTROYDEVICE>(), h in favour(DEVICES)) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_DESTROYDEVICE>::new(&bytes);
        args.get_mut().hDevice = f.local(h, args.get().hDevice);
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTDestroyDevice(args.as_mut_ptr()));
        judge(&f, "D3DKMTDestroyDevice", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn create_synchronization_object2(
        world in world(),
        bytes in bytes_of::<D3DKMT_CREATESYNCHRONIZATIONOBJECT2>(),
        device in favour(DEVICES),
        ty in pick_u32(&[5, 1, 2, 3, 4, 6, 0, 7]),
        flags in pick_u32(&[0, 1, 2, 3, 0x13, 0x23, 0x43]),
        cpu_va in prop::option::of(any::<u64>()),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_CREATESYNCHRONIZATIONOBJECT2>::new(&bytes);
        // The fence-value CPU address is an output; it points at a word of
        // the test's, or is NULL. Its place depends on the union member the
        // type selects (periodic monitored fences have it 8 bytes further).
        let mut out = [cpu_va.unwrap_or(0)];
        let out_ptr = if cpu_va.is_some() { out.as_mut_ptr().cast() } else { null_mut() };
        let a = args.get_mut();
        a.hDevice = f.local(device, a.hDevice);
        if let Some(ty) = ty {
            a.Info.Type = ty as i32;
        }
        if let Some(flags) = flags {
            a.Info.Flags.Anonymous.Value = flags;
        }
        if a.Info.Type == 6 {
            a.Info.Anonymous.PeriodicMonitoredFence.FenceValueCPUVirtualAddress = out_ptr;
        } else {
            a.Info.Anonymous.MonitoredFence.FenceValueCPUVirtualAddress = out_ptr;
        }
        let (before, memory) = (f.state(), (args.bytes(), out));
        let status = call!(D3DKMTCreateSynchronizationObject2(args.as_mut_ptr()));
        judge(&f, "D3DKMTCreateSynchronizationObject2", status, &before, &memory, &(args.bytes(), out))?;
    }

    #[test]
    fn destroy_synchronization_object(
        world in world(),
        bytes in bytes_of::<D3DKMT_DESTROYSYNCHRONIZATIONOBJECT>(),
        h in favour(FENCES),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_DESTROYSYNCHRONIZATIONOBJECT>::new(&bytes);
        args.get_mut().hSyncObject = f.local(h, args.get().hSyncObject);
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTDestroySynchronizationObject(args.as_mut_ptr()));
        judge(&f, "D3DKMTDestroySynchronizationObject", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn signal_synchronization_object_from_cpu(
        world in world(),
        bytes in bytes_of::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU>(),
        device in favour(DEVICES),
        arrays in fence_arrays(),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU>::new(&bytes);
        let handles: Option<Vec<u32>> = arrays.handles.as_ref().map(|p| p.iter().map(|&p| f.local(p, 0)).collect());
        let values = arrays.values.clone();
        let a = args.get_mut();
        a.hDevice = f.local(device, a.hDevice);
        if handles.is_some() || values.is_some() {
            a.ObjectCount = arrays.count as u32;
        }
        a.ObjectHandleArray = handles.as_ref().map_or(null(), |h| h.as_ptr());
        a.FenceValueArray = values.as_ref().map_or(null(), |v| v.as_ptr());
        let (before, memory) = (f.state(), (args.bytes(), handles.clone(), values.clone()));
        let status = call!(D3DKMTSignalSynchronizationObjectFromCpu(args.as_mut_ptr()));
        let after = (args.bytes(), handles, values);
        judge(&f, "D3DKMTSignalSynchronizationObjectFromCpu", status, &before, &memory, &after)?;
    }

    #[test]
    fn wait_for_synchronization_object_from_cpu(
        world in world(),
        bytes in bytes_of::<D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU>(),
        device in favour(DEVICES),
        arrays in fence_arrays(),
        event in prop::option::weighted(0.3, any::<u64>()),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU>::new(&bytes);
        let handles: Option<Vec<u32>> = arrays.handles.as_ref().map(|p| p.iter().map(|&p| f.local(p, 0)).collect());
        let mut values = arrays.values.clone();
        // A wait with no event on a value a fence has not reached blocks for
        // good: without an event, every value waited on a sync object is one
        // its fence has reached. (An exited process's wait fails at once.)
        let event = event.map_or(null_mut(), handle_value);
        if event.is_null() {
            if let (Some(h), Some(v)) = (&handles, &mut values) {
                for (h, v) in h.iter().zip(v.iter_mut()) {
                    if let Ok(reached) = f.process.fence_value(LocalHandle(*h)) {
                        *v %= reached.saturating_add(1).max(1);
                    }
                }
            }
        }
        let a = args.get_mut();
        a.hDevice = f.local(device, a.hDevice);
        if handles.is_some() || values.is_some() {
            a.ObjectCount = arrays.count as u32;
        }
        a.ObjectHandleArray = handles.as_ref().map_or(null(), |h| h.as_ptr());
        a.FenceValueArray = values.as_ref().map_or(null(), |v| v.as_ptr());
        a.hAsyncEvent = event;
        let (before, memory) = (f.state(), (args.bytes(), handles.clone(), values.clone()));
        let ptr = args.as_mut_ptr();
        let (status, stuck) = with_watchdog(&f.process, || call!(D3DKMTWaitForSynchronizationObjectFromCpu(ptr)));
        prop_assert!(!stuck, "the wait blocked on values the fence had reached");
        let after = (args.bytes(), handles, values);
        judge(&f, "D3DKMTWaitForSynchronizationObjectFromCpu", status, &before, &memory, &after)?;
    }

    #[test]
    fn open_sync_object_from_nt_handle2(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2>(),
        nt in favour(FENCE_NTS),
        device in favour(DEVICES),
        flags in pick_u32(&[0, 1, 2, 3, 0x10, 0x20, 0x30]),
        cpu_va in prop::option::of(any::<u64>()),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2>::new(&bytes);
        let mut out = [cpu_va.unwrap_or(0)];
        let a = args.get_mut();
        a.hNtHandle = f.nt(nt, a.hNtHandle);
        a.hDevice = f.local(device, a.hDevice);
        if let Some(flags) = flags {
            a.Flags.Anonymous.Value = flags;
        }
        a.Anonymous.MonitoredFence.FenceValueCPUVirtualAddress =
            if cpu_va.is_some() { out.as_mut_ptr().cast() } else { null_mut() };
        let (before, memory) = (f.state(), (args.bytes(), out));
        let status = call!(D3DKMTOpenSyncObjectFromNtHandle2(args.as_mut_ptr()));
        judge(&f, "D3DKMTOpenSyncObjectFromNtHandle2", status, &before, &memory, &(args.bytes(), out))?;
    }

    #[test]
    fn create_protected_session(
        world in world(),
        bytes in bytes_of::<D3DKMT_CREATEPROTECTEDSESSION>(),
        device in favour(DEVICES),
        fence in favour(FENCES),
        driver in blob(),
        runtime in blob(),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_CREATEPROTECTEDSESSION>::new(&bytes);
        let a = args.get_mut();
        a.hDevice = f.local(device, a.hDevice);
        a.hSyncObject = f.local(fence, a.hSyncObject);
        a.pPrivateDriverData = driver.as_ref().map_or(null(), |d| d.as_ptr().cast());
        a.pPrivateRuntimeData = runtime.as_ref().map_or(null(), |d| d.as_ptr().cast());
        if let Some(d) = &driver {
            a.PrivateDriverDataSize = d.len() as u32;
        }
        if let Some(r) = &runtime {
            a.PrivateRuntimeDataSize = r.len() as u32;
        }
        let (before, memory) = (f.state(), (args.bytes(), driver.clone(), runtime.clone()));
        let status = call!(D3DKMTCreateProtectedSession(args.as_mut_ptr()));
        judge(&f, "D3DKMTCreateProtectedSession", status, &before, &memory, &(args.bytes(), driver, runtime))?;
    }

    #[test]
    fn destroy_protected_session(
        world in world(),
        bytes in bytes_of::<D3DKMT_DESTROYPROTECTEDSESSION>(),
        h in favour(SESSIONS),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_DESTROYPROTECTEDSESSION>::new(&bytes);
        args.get_mut().hHandle = f.local(h, args.get().hHandle);
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTDestroyProtectedSession(args.as_mut_ptr()));
        judge(&f, "D3DKMTDestroyProtectedSession", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn get_device_state(
        world in world(),
        bytes in bytes_of::<D3DKMT_GETDEVICESTATE>(),
        h in favour(DEVICES),
        state_type in pick_u32(&[0, 1, 1, 2, 3, 3, 4, 5, 6, 7]),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_GETDEVICESTATE>::new(&bytes);
        args.get_mut().hDevice = f.local(h, args.get().hDevice);
        if let Some(t) = state_type {
            args.get_mut().StateType = t as i32;
        }
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTGetDeviceState(args.as_mut_ptr()));
        judge(&f, "D3DKMTGetDeviceState", status, &before, &memory, &args.bytes())?;
        if NtStatus(status).is_ok() && args.get().StateType == 1 {
            let health = f.process.device_health(LocalHandle(args.get().hDevice)).unwrap();
            // SAFETY: the member an EXECUTION query writes, an i32.
            prop_assert_eq!(unsafe { args.get().Anonymous.ExecutionState }, health.execution_state());
        }
    }

    #[test]
    fn query_protected_session_status(
        world in world(),
        bytes in bytes_of::<D3DKMT_QUERYPROTECTEDSESSIONSTATUS>(),
        h in favour(SESSIONS),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_QUERYPROTECTEDSESSIONSTATUS>::new(&bytes);
        args.get_mut().hHandle = f.local(h, args.get().hHandle);
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTQueryProtectedSessionStatus(args.as_mut_ptr()));
        judge(&f, "D3DKMTQueryProtectedSessionStatus", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn query_protected_session_info_from_nt_handle(
        world in world(),
        bytes in bytes_of::<D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE>(),
        nt in favour(SESSION_NTS),
        driver in blob(),
        runtime in blob(),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE>::new(&bytes);
        let (mut driver, mut runtime) = (driver, runtime);
        let a = args.get_mut();
        a.hNtHandle = f.nt(nt, a.hNtHandle);
        // The out-buffers are typed `const` in windows-sys, but written to.
        a.pPrivateDriverData = driver.as_mut().map_or(null(), |d| d.as_mut_ptr().cast_const().cast());
        a.pPrivateRuntimeData = runtime.as_mut().map_or(null(), |d| d.as_mut_ptr().cast_const().cast());
        if let Some(d) = &driver {
            a.PrivateDriverDataSize = d.len() as u32;
        }
        if let Some(r) = &runtime {
            a.PrivateRuntimeDataSize = r.len() as u32;
        }
        let (before, memory) = (f.state(), (args.bytes(), driver.clone(), runtime.clone()));
        let status = call!(D3DKMTQueryProtectedSessionInfoFromNtHandle(args.as_mut_ptr()));
        let after = (args.bytes(), driver, runtime);
        judge(&f, "D3DKMTQueryProtectedSessionInfoFromNtHandle", status, &before, &memory, &after)?;
    }

    #[test]
    fn open_protected_session_from_nt_handle(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE>(),
        nt in favour(SESSION_NTS),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE>::new(&bytes);
        args.get_mut().hNtHandle = f.nt(nt, args.get().hNtHandle);
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTOpenProtectedSessionFromNtHandle(args.as_mut_ptr()));
        judge(&f, "D3DKMTOpenProtectedSessionFromNtHandle", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn share_objects(
        world in world(),
        count in any::<u32>(),
        objects in prop::option::weighted(0.8, share_list()),
        attributes in prop::option::weighted(0.6, share_attributes()),
        access in prop_oneof![
            proptest::sample::select(&[access::GENERIC_ALL, access::GENERIC_READ, 0, access::SYNC_ALL_ACCESS][..]),
            any::<u32>(),
        ],
        out in prop::option::weighted(0.9, any::<u64>()),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        // With a NULL object array the count stays garbage.
        let handles: Option<Vec<u32>> = objects.as_ref().map(|o| o.iter().map(|&p| f.local(p, 0)).collect());
        let count = handles.as_ref().map_or(count, |h| h.len() as u32);
        let mut attributes = attributes.map(ShareAttributes::build);
        let mut slot = [handle_value(out.unwrap_or(0))];
        let memory_of = |attributes: &Option<BuiltAttributes>, slot: &[HANDLE; 1]| {
            (attributes.as_ref().map(BuiltAttributes::bytes), handles.clone(), handle_bits(slot[0]))
        };
        let (before, memory) = (f.state(), memory_of(&attributes, &slot));
        let status = call!(D3DKMTShareObjects(
            count,
            handles.as_ref().map_or(null(), |h| h.as_ptr()),
            attributes.as_mut().map_or(null(), |a| a.attributes.as_mut_ptr().cast_const()),
            access,
            if out.is_some() { slot.as_mut_ptr() } else { null_mut() }
        ));
        judge(&f, "D3DKMTShareObjects", status, &before, &memory, &memory_of(&attributes, &slot))?;
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn create_synchronization_object(
        world in world(),
        bytes in bytes_of::<D3DKMT_CREATESYNCHRONIZATIONOBJECT>(),
        device in favour(DEVICES),
        ty in pick_u32(&[1, 2, 3, 5, 0, 4, 7]),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_CREATESYNCHRONIZATIONOBJECT>::new(&bytes);
        let a = args.get_mut();
        a.hDevice = f.local(device, a.hDevice);
        if let Some(ty) = ty {
            a.Info.Type = ty as i32;
        }
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTCreateSynchronizationObject(args.as_mut_ptr()));
        judge(&f, "D3DKMTCreateSynchronizationObject", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn open_synchronization_object(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENSYNCHRONIZATIONOBJECT>(),
        which in 0..5u32,
        bit in 0..32u32,
    ) {
        let f = fixture(world);
        // A mutex with a global handle (not in an exited process).
        let global = f.global_mutex();
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENSYNCHRONIZATIONOBJECT>::new(&bytes);
        let a = args.get_mut();
        a.hSharedHandle = match which {
            0 | 1 => global,
            2 => global ^ (1 << bit),
            3 => f.locals[FENCE],
            _ => a.hSharedHandle,
        };
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTOpenSynchronizationObject(args.as_mut_ptr()));
        judge(&f, "D3DKMTOpenSynchronizationObject", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn open_sync_object_from_nt_handle(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENSYNCOBJECTFROMNTHANDLE>(),
        nt in favour(FENCE_NTS),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENSYNCOBJECTFROMNTHANDLE>::new(&bytes);
        let a = args.get_mut();
        a.hNtHandle = f.nt(nt, a.hNtHandle);
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTOpenSyncObjectFromNtHandle(args.as_mut_ptr()));
        judge(&f, "D3DKMTOpenSyncObjectFromNtHandle", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn open_sync_object_nt_handle_from_name(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME>(),
        attributes in prop::option::weighted(0.9, share_attributes()),
        real_name in prop::option::weighted(0.5, (any::<bool>(), 0..3usize)),
        access in prop_oneof![
            proptest::sample::select(&[0x2_0000, access::GENERIC_ALL, 0, access::SYNC_ALL_ACCESS][..]),
            any::<u32>(),
        ],
    ) {
        let f = fixture(world);
        // The fence and the session, shared under names (not in an exited process).
        let names = f.named_objects();
        let _bound = f.process.enter();
        let mut attributes = attributes.map(|mut a| {
            // Often the name of a real object, in either case.
            if let (Some((upper, i)), Some(name)) = (real_name, a.name.as_mut()) {
                let real = NAMES[i % NAMES.len()];
                let real = if upper { real.to_uppercase() } else { real.to_string() };
                let mut units: Vec<u16> = real.encode_utf16().collect();
                name.length = (units.len() * 2) as u16;
                name.maximum = name.maximum.max(name.length);
                units.resize(32, 0);
                name.buffer = Some(units);
            }
            a.build()
        });
        let mut args = Garbage::<D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME>::new(&bytes);
        let a = args.get_mut();
        a.dwDesiredAccess = access;
        a.pObjAttrib = attributes.as_mut().map_or(null_mut(), |b| b.attributes.as_mut_ptr());
        let memory_of = |args: &Garbage<D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME>, attributes: &Option<BuiltAttributes>| {
            (args.bytes(), attributes.as_ref().map(BuiltAttributes::bytes))
        };
        let (before, memory) = (f.state(), memory_of(&args, &attributes));
        let status = call!(D3DKMTOpenSyncObjectNtHandleFromName(args.as_mut_ptr()));
        judge(&f, "D3DKMTOpenSyncObjectNtHandleFromName", status, &before, &memory, &memory_of(&args, &attributes))?;
        drop(names);
    }
}

/// Names the `open_sync_object_nt_handle_from_name` case gives real objects
/// (all within `ShareName`'s 32 units).
const NAMES: [&str; 3] = ["\\BaseNamedObjects\\Fence", "\\BaseNamedObjects\\Session", "\\BaseNamedObjects\\Mutex"];

impl Fixture {
    /// A mutex created `Shared` (a global handle); 0 in an exited process.
    fn global_mutex(&self) -> u32 {
        let device = LocalHandle(self.locals[DEVICE]);
        let kind = SyncKind::Mutex { initial_state: false };
        self.process.create_sync_object(device, kind, SyncFlags::from_bits(0x1)).map_or(0, |c| c.global.unwrap_or(0))
    }

    /// NT handles to the fence, the session and a mutex, named by `NAMES`
    /// (none in an exited process).
    fn named_objects(&self) -> Vec<NtHandle> {
        let device = LocalHandle(self.locals[DEVICE]);
        let mutex = self.process.create_sync_object(
            device,
            SyncKind::Mutex { initial_state: false },
            SyncFlags::from_bits(0x3),
        );
        let objects =
            [Ok(LocalHandle(self.locals[FENCE])), Ok(LocalHandle(self.locals[SESSION])), mutex.map(|m| m.handle)];
        objects
            .into_iter()
            .zip(NAMES)
            .filter_map(|(h, name)| self.process.share_objects(&[h.ok()?], Some(name), access::GENERIC_ALL).ok())
            .collect()
    }
}

/// `D3DKMTShareObjects`' object array: mostly one to three entries, mostly
/// the fence or the session.
fn share_list() -> impl Strategy<Value = Vec<Pick>> {
    let one = prop_oneof![Just(Pick::Real(FENCE)), Just(Pick::Real(SESSION)), favour(FENCES), pick()];
    let len = prop_oneof![3 => 1..=3usize, 1 => 0..=40usize];
    len.prop_flat_map(move |n| vec(one.clone(), n))
}

/// `OBJECT_ATTRIBUTES` for `D3DKMTShareObjects`, before its pointers are set.
#[derive(Clone, Debug)]
struct ShareAttributes {
    bytes: Vec<u8>,
    /// `Length` set to the struct's size (else left as the bytes made it).
    right_length: bool,
    /// `RootDirectory` set to NULL (else left as the bytes made it).
    no_root: bool,
    /// `ObjectName`: NULL, or this.
    name: Option<ShareName>,
    /// `SecurityDescriptor` and `SecurityQualityOfService`: NULL or a buffer
    /// (the emulation reads neither).
    security: [bool; 2],
}

/// A `UNICODE_STRING` for `ObjectName`.
#[derive(Clone, Debug)]
struct ShareName {
    bytes: Vec<u8>,
    /// `Length` and `MaximumLength`, at most 64 bytes each.
    length: u16,
    maximum: u16,
    /// `Buffer`: NULL, or these 32 UTF-16 units (64 bytes).
    buffer: Option<Vec<u16>>,
}

fn share_attributes() -> impl Strategy<Value = ShareAttributes> {
    let letters = prop_oneof![0x41..0x5Bu16, 0x61..0x7Bu16];
    let units = prop_oneof![vec(any::<u16>(), 32), vec(letters, 32)];
    let lengths = prop_oneof![(0..=32u16).prop_map(|n| n * 2), 0..=64u16];
    let name = (bytes_of::<UNICODE_STRING>(), lengths.clone(), lengths, prop::option::weighted(0.9, units))
        .prop_map(|(bytes, length, maximum, buffer)| ShareName { bytes, length, maximum, buffer });
    (
        bytes_of::<OBJECT_ATTRIBUTES>(),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
        prop::option::weighted(0.7, name),
        [any::<bool>(), any::<bool>()],
    )
        .prop_map(|(bytes, right_length, no_root, name, security)| ShareAttributes {
            bytes,
            right_length,
            no_root,
            name,
            security,
        })
}

/// `OBJECT_ATTRIBUTES` and what its pointers point at, all owned here.
struct BuiltAttributes {
    attributes: Garbage<OBJECT_ATTRIBUTES>,
    name: Option<Garbage<UNICODE_STRING>>,
    units: Option<Vec<u16>>,
    security: [Vec<u64>; 2],
}

impl ShareAttributes {
    fn build(self) -> BuiltAttributes {
        let mut attributes = Garbage::<OBJECT_ATTRIBUTES>::new(&self.bytes);
        let mut security = [vec![0u64; 8], vec![0u64; 8]];
        let (mut name, mut units) = (None, None);
        if let Some(given) = self.name {
            let mut string = Garbage::<UNICODE_STRING>::new(&given.bytes);
            units = given.buffer;
            let s = string.get_mut();
            s.Length = given.length;
            s.MaximumLength = given.maximum;
            s.Buffer = units.as_mut().map_or(null_mut(), |u| u.as_mut_ptr());
            name = Some(string);
        }
        let a = attributes.get_mut();
        if self.right_length {
            a.Length = size_of::<OBJECT_ATTRIBUTES>() as u32;
        }
        if self.no_root {
            a.RootDirectory = null_mut();
        }
        a.ObjectName = name.as_ref().map_or(null(), |n| n.get());
        let [sd, qos] = &mut security;
        a.SecurityDescriptor = if self.security[0] { sd.as_ptr().cast() } else { null() };
        a.SecurityQualityOfService = if self.security[1] { qos.as_ptr().cast() } else { null() };
        BuiltAttributes { attributes, name, units, security }
    }
}

/// Every byte of a `BuiltAttributes`.
#[derive(Debug, PartialEq)]
struct AttributesBytes {
    attributes: Vec<u64>,
    name: Option<Vec<u64>>,
    units: Option<Vec<u16>>,
    security: [Vec<u64>; 2],
}

impl BuiltAttributes {
    fn bytes(&self) -> AttributesBytes {
        AttributesBytes {
            attributes: self.attributes.bytes(),
            name: self.name.as_ref().map(Garbage::bytes),
            units: self.units.clone(),
            security: self.security.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// Adapters by name, adapter queries, VidPn ownership and occlusion

/// What VidPn ownership looks like from the calling process: the
/// exclusive-ownership check of source 0 of both adapters, and occlusion.
fn vidpn_view(f: &Fixture) -> Vec<Result<(), d3dkmt_emu::KernelError>> {
    let mut view: Vec<_> = [ADAPTER, ADAPTER2]
        .iter()
        .map(|&i| f.process.check_vidpn_exclusive_ownership(LocalHandle(f.locals[i]), 0))
        .collect();
    view.push(f.process.check_occlusion(1));
    view
}

/// Part of the time, the fixture's first device holds source 0 EXCLUSIVE.
fn maybe_hold(f: &Fixture, hold: bool) {
    if hold {
        let _ = f.process.set_vidpn_source_owner(LocalHandle(f.locals[DEVICE]), &[(0, OwnerRequest::Exclusive)]);
    }
}

/// A UTF-16 string with a NUL: one of the fixture's names, or random units.
fn wide_name(real: &'static [&'static str]) -> impl Strategy<Value = Vec<u16>> {
    prop_oneof![
        proptest::sample::select(real).prop_map(|s| s.encode_utf16().chain([0]).collect()),
        vec(any::<u16>(), 0..80).prop_map(|mut v| {
            v.push(0);
            v
        }),
    ]
}

const OWNER_TYPES: &[i32] = &[-1, 0, 1, 2, 3, 4, 5, 0x7FFF_FFFF];

/// Owner-type and source-id arrays of `count` entries, either possibly NULL.
fn owner_arrays() -> impl Strategy<Value = (u32, Option<Vec<i32>>, Option<Vec<u32>>)> {
    (
        prop_oneof![3 => 0..=2u32, 1 => any::<u32>()],
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
        vec(proptest::sample::select(OWNER_TYPES), 2),
        vec(prop_oneof![3 => 0..2u32, 1 => any::<u32>()], 2),
    )
        .prop_map(|(count, with_types, with_ids, types, ids)| {
            // Arrays hold `count` entries when `count` is small; a large count
            // only comes with NULL arrays (the calling convention).
            let fits = count <= 2;
            let types = (fits && with_types).then(|| types[..count as usize].to_vec());
            let ids = (fits && with_ids).then(|| ids[..count as usize].to_vec());
            (count, types, ids)
        })
}

fn set_owner_fields(
    f: &Fixture,
    a: &mut D3DKMT_SETVIDPNSOURCEOWNER,
    h: Pick,
    count: u32,
    types: &Option<Vec<i32>>,
    ids: &Option<Vec<u32>>,
) {
    a.hDevice = f.local(h, a.hDevice);
    a.VidPnSourceCount = count;
    a.pType = types.as_ref().map_or(null(), |t| t.as_ptr());
    a.pVidPnSourceId = ids.as_ref().map_or(null(), |i| i.as_ptr());
}

const INFO_TYPES: &[i32] = &[0, 3, 4, 6, 8, 11, 13, 15, 30, 31, 44, 48, 65, 70, 80, 81, -1];
const INFO_SIZES: &[u32] = &[0, 1, 3, 4, 5, 12, 16, 24, 28, 2080, 8192];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn open_adapter_from_gdi_display_name(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME>(),
        name in prop::option::of(wide_name(&["\\\\.\\DISPLAY1", "\\\\.\\display2", "\\\\.\\DISPLAY3", ""])),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENADAPTERFROMGDIDISPLAYNAME>::new(&bytes);
        if let Some(name) = name {
            let slots = &mut args.get_mut().DeviceName;
            for (slot, unit) in slots.iter_mut().zip(name) {
                *slot = unit;
            }
        }
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTOpenAdapterFromGdiDisplayName(args.as_mut_ptr()));
        judge(&f, "D3DKMTOpenAdapterFromGdiDisplayName", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn open_adapter_from_device_name(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENADAPTERFROMDEVICENAME>(),
        path in prop::option::weighted(0.8, prop_oneof![
            Just(None),
            wide_name(&["", "\\\\?\\PCI#VEN_1414&DEV_008C&SUBSYS_00000000&REV_00#4&d3d0e0&0&0000#{1ca05180-a699-450a-9a0c-de4fbe3ddd89}"]).prop_map(Some),
        ]),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENADAPTERFROMDEVICENAME>::new(&bytes);
        // The fixture's first adapter's real arrival path, part of the time.
        let real: Vec<u16> = {
            let config = f.process.adapter_config(LocalHandle(f.locals[ADAPTER])).ok();
            let instance = config.and_then(|c| c.device_instance).unwrap_or_default();
            format!("\\\\?\\{instance}#{}", d3dkmt_emu::DISPLAY_DEVICE_ARRIVAL).encode_utf16().chain([0]).collect()
        };
        let path = match path {
            None => None,
            Some(None) => Some(real),
            Some(Some(p)) => Some(p),
        };
        args.get_mut().pDeviceName = path.as_ref().map_or(null(), |p| p.as_ptr());
        let (before, memory) = (f.state(), (args.bytes(), path.clone()));
        let status = call!(D3DKMTOpenAdapterFromDeviceName(args.as_mut_ptr()));
        judge(&f, "D3DKMTOpenAdapterFromDeviceName", status, &before, &memory, &(args.bytes(), path))?;
    }

    #[test]
    fn open_adapter_from_hdc(world in world(), bytes in bytes_of::<D3DKMT_OPENADAPTERFROMHDC>(), null_dc in any::<bool>()) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENADAPTERFROMHDC>::new(&bytes);
        if null_dc {
            args.get_mut().hDc = null_mut();
        }
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTOpenAdapterFromHdc(args.as_mut_ptr()));
        prop_assert!(NtStatus(status).is_err(), "there are no DCs, yet OpenAdapterFromHdc succeeded");
        judge(&f, "D3DKMTOpenAdapterFromHdc", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn query_adapter_info(
        world in world(),
        bytes in bytes_of::<D3DKMT_QUERYADAPTERINFO>(),
        h in favour(ADAPTERS),
        ty in pick_u32(&[0, 3, 4, 6, 8, 11, 13, 15, 30, 31, 44, 48, 65, 70, 80, 81]),
        ty_real in proptest::sample::select(INFO_TYPES),
        size in prop_oneof![proptest::sample::select(INFO_SIZES), 0..9000u32],
        buffer in prop::option::weighted(0.9, any::<u8>()),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_QUERYADAPTERINFO>::new(&bytes);
        let mut data = buffer.map(|fill| vec![fill; size as usize]);
        let a = args.get_mut();
        a.hAdapter = f.local(h, a.hAdapter);
        a.Type = ty.map_or(ty_real, |t| t as i32);
        a.pPrivateDriverData = data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        if data.is_some() {
            a.PrivateDriverDataSize = size;
        }
        let (before, memory) = (f.state(), (args.bytes(), data.clone()));
        let status = call!(D3DKMTQueryAdapterInfo(args.as_mut_ptr()));
        judge(&f, "D3DKMTQueryAdapterInfo", status, &before, &memory, &(args.bytes(), data))?;
    }

    #[test]
    fn query_video_memory_info(
        world in world(),
        bytes in bytes_of::<D3DKMT_QUERYVIDEOMEMORYINFO>(),
        h in favour(ADAPTERS),
        process in prop_oneof![Just(Some(0u64)), Just(Some(u64::MAX)), Just(None), any::<u64>().prop_map(Some)],
        group in pick_u32(&[0, 1, 2]),
        index in pick_u32(&[0, 1, 99]),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        let mut args = Garbage::<D3DKMT_QUERYVIDEOMEMORYINFO>::new(&bytes);
        let a = args.get_mut();
        a.hAdapter = f.local(h, a.hAdapter);
        if let Some(p) = process {
            a.hProcess = handle_value(p);
        }
        if let Some(g) = group {
            a.MemorySegmentGroup = g as i32;
        }
        if let Some(i) = index {
            a.PhysicalAdapterIndex = i;
        }
        let (before, memory) = (f.state(), args.bytes());
        let status = call!(D3DKMTQueryVideoMemoryInfo(args.as_mut_ptr()));
        if NtStatus(status).is_ok() {
            let a = args.get();
            prop_assert!(a.Budget >= a.AvailableForReservation && a.CurrentUsage <= a.Budget && a.CurrentReservation == 0);
        }
        judge(&f, "D3DKMTQueryVideoMemoryInfo", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn set_vidpn_source_owner(
        world in world(),
        hold in any::<bool>(),
        bytes in bytes_of::<D3DKMT_SETVIDPNSOURCEOWNER>(),
        h in favour(DEVICES),
        (count, types, ids) in owner_arrays(),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        maybe_hold(&f, hold);
        let mut args = Garbage::<D3DKMT_SETVIDPNSOURCEOWNER>::new(&bytes);
        set_owner_fields(&f, args.get_mut(), h, count, &types, &ids);
        let (before, memory) = (f.state(), (args.bytes(), types.clone(), ids.clone(), vidpn_view(&f)));
        let status = call!(D3DKMTSetVidPnSourceOwner(args.as_mut_ptr()));
        judge(&f, "D3DKMTSetVidPnSourceOwner", status, &before, &memory, &(args.bytes(), types, ids, vidpn_view(&f)))?;
    }

    #[test]
    fn set_vidpn_source_owner1(
        world in world(),
        hold in any::<bool>(),
        bytes in bytes_of::<D3DKMT_SETVIDPNSOURCEOWNER1>(),
        h in favour(DEVICES),
        (count, types, ids) in owner_arrays(),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        maybe_hold(&f, hold);
        let mut args = Garbage::<D3DKMT_SETVIDPNSOURCEOWNER1>::new(&bytes);
        set_owner_fields(&f, &mut args.get_mut().Version0, h, count, &types, &ids);
        let (before, memory) = (f.state(), (args.bytes(), types.clone(), ids.clone(), vidpn_view(&f)));
        let status = call!(D3DKMTSetVidPnSourceOwner1(args.as_mut_ptr()));
        judge(&f, "D3DKMTSetVidPnSourceOwner1", status, &before, &memory, &(args.bytes(), types, ids, vidpn_view(&f)))?;
    }

    #[test]
    fn check_vidpn_exclusive_ownership(
        world in world(),
        hold in any::<bool>(),
        bytes in bytes_of::<D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP>(),
        h in favour(ADAPTERS),
        source in pick_u32(&[0, 1]),
    ) {
        let f = fixture(world);
        let _bound = f.process.enter();
        maybe_hold(&f, hold);
        let mut args = Garbage::<D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP>::new(&bytes);
        let a = args.get_mut();
        a.hAdapter = f.local(h, a.hAdapter);
        if let Some(s) = source {
            a.VidPnSourceId = s;
        }
        let (before, memory) = (f.state(), (args.bytes(), vidpn_view(&f)));
        let status = call!(D3DKMTCheckVidPnExclusiveOwnership(args.as_mut_ptr()));
        judge(&f, "D3DKMTCheckVidPnExclusiveOwnership", status, &before, &memory, &(args.bytes(), vidpn_view(&f)))?;
    }

    #[test]
    fn check_occlusion(world in world(), hold in any::<bool>(), bytes in bytes_of::<D3DKMT_CHECKOCCLUSION>(), null_window in any::<bool>()) {
        let f = fixture(world);
        let _bound = f.process.enter();
        maybe_hold(&f, hold);
        let mut args = Garbage::<D3DKMT_CHECKOCCLUSION>::new(&bytes);
        if null_window {
            args.get_mut().hWindow = null_mut();
        }
        let (before, memory) = (f.state(), (args.bytes(), vidpn_view(&f)));
        let status = call!(D3DKMTCheckOcclusion(args.as_mut_ptr()));
        judge(&f, "D3DKMTCheckOcclusion", status, &before, &memory, &(args.bytes(), vidpn_view(&f)))?;
    }
}

// ---------------------------------------------------------------------------
// The GPU-work exports (src/abi/gpu.rs)

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_DESTROYPAGINGQUEUE, D3DKMT_CREATECONTEXT, D3DKMT_CREATECONTEXTVIRTUAL, D3DKMT_CREATEHWCONTEXT,
    D3DKMT_CREATEHWQUEUE, D3DKMT_CREATEPAGINGQUEUE, D3DKMT_CREATESYNCFILE, D3DKMT_DESTROYCONTEXT,
    D3DKMT_DESTROYHWCONTEXT, D3DKMT_DESTROYHWQUEUE, D3DKMT_ESCAPE, D3DKMT_FLUSHHEAPTRANSITIONS,
    D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY, D3DKMT_GETCONTEXTSCHEDULINGPRIORITY, D3DKMT_MARKDEVICEASERROR,
    D3DKMT_QUERYCLOCKCALIBRATION, D3DKMT_QUERYSTATISTICS, D3DKMT_RENDER, D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY,
    D3DKMT_SETCONTEXTSCHEDULINGPRIORITY, D3DKMT_SIGNALSYNCHRONIZATIONOBJECT, D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU, D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2, D3DKMT_SUBMITCOMMAND,
    D3DKMT_SUBMITCOMMANDTOHWQUEUE, D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE, D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECT, D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2,
    D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU,
};

unsafe extern "system" {
    /// Ours: windows-sys declares the struct, not the function.
    fn D3DKMTCreateSyncFile(args: *mut D3DKMT_CREATESYNCFILE) -> i32;
}

/// A private-data buffer of the test's: NULL with size 0, or a buffer of
/// `size` bytes (at most 256).
fn private(bytes: &[u8], on: bool) -> (Vec<u8>, *mut core::ffi::c_void, u32) {
    let mut data = bytes.to_vec();
    if !on || data.is_empty() {
        return (data, null_mut(), 0);
    }
    let p = data.as_mut_ptr().cast();
    let n = data.len() as u32;
    (data, p, n)
}

/// The fixture with the GPU-work objects: created on the live device before
/// the world's removal and exit are applied.
struct GpuWorld {
    f: Fixture,
    /// The fixture's eight handles, then `CONTEXT` to `LEGACY_CONTEXT`.
    locals: [u32; 12],
}

impl std::ops::Deref for GpuWorld {
    type Target = Fixture;
    fn deref(&self) -> &Fixture {
        &self.f
    }
}

impl GpuWorld {
    /// As `Fixture::local`, over the twelve handles.
    fn local(&self, pick: Pick, garbage: u32) -> u32 {
        let real = &self.locals;
        match pick {
            Pick::Garbage => garbage,
            Pick::Zero => 0,
            Pick::Real(i) => real[i % real.len()],
            Pick::Flipped(i, bits) => real[i % real.len()] ^ bits as u32,
            Pick::Any(v) => v as u32,
        }
    }
}

fn gpu_fixture(world: World) -> GpuWorld {
    let f = fixture(World { exited: false, removed_device: false, ..world });
    let p = &f.process;
    let device = LocalHandle(f.locals[DEVICE]);
    let params = d3dkmt_emu::ContextParams::default();
    let context = p.create_context(device, d3dkmt_emu::ContextKind::Virtual, &params).unwrap().handle;
    let hw_queue = p.create_hw_queue(context, 0).unwrap().handle;
    let paging_queue = p.create_paging_queue(device, 0, 0).unwrap().handle;
    let legacy = p.create_context(device, d3dkmt_emu::ContextKind::Legacy, &params).unwrap().handle;
    let mut locals = [0u32; 12];
    locals[..8].copy_from_slice(&f.locals);
    locals[8..].copy_from_slice(&[context, hw_queue, paging_queue, legacy].map(|h| h.0));
    if world.removed_device {
        f.kernel.remove_device(p.id(), device, DeviceLoss::Hung).unwrap();
    }
    if world.exited {
        p.exit();
    }
    GpuWorld { f, locals }
}

/// Handle and value arrays of the test's, `count` long.
fn fence_objects(f: &GpuWorld, picks: &[Pick], values: &[u64]) -> (Vec<u32>, Vec<u64>) {
    (picks.iter().map(|&p| f.local(p, 0)).collect(), values.to_vec())
}

/// Runs `call` on a garbage `T` after `set` fixed its handle and pointer
/// fields, and judges it; `extra` is any buffer of the test's the call may
/// write (compared on failure).
fn run<T: Plain, X: Clone + PartialEq + std::fmt::Debug>(
    f: &GpuWorld,
    entry: &str,
    bytes: &[u8],
    extra: X,
    set: impl FnOnce(&mut T, &GpuWorld),
    call: impl FnOnce(*mut T) -> i32,
) -> Result<(), TestCaseError> {
    let mut args = Garbage::<T>::new(bytes);
    set(args.get_mut(), f);
    let (before, memory) = (f.state(), (args.bytes(), extra.clone()));
    let status = call(args.as_mut_ptr());
    judge(&f.f, entry, status, &before, &memory, &(args.bytes(), extra))
}

fn object_picks() -> impl Strategy<Value = Vec<Pick>> {
    vec(favour(FENCES), 0..4)
}

// ---------------------------------------------------------------------------
// Keyed mutexes, allocations and resources

/// The extra objects of the keyed-mutex and resource cases, indexed after
/// the fixture's own eight handles (`Pick::Real(i)` with i >= 8).
const KM: usize = 8;
/// A keyed mutex created with `NtSecuritySharing`, part of `TRIPLE_NT`.
const KM_NT: usize = 9;
/// A resource with a global handle, and its allocation.
const RESOURCE: usize = 10;
const ALLOCATION: usize = 11;
/// A resource created `NtSecuritySharing`, and its allocation.
const RESOURCE_NT: usize = 12;
const ALLOCATION_NT: usize = 13;
/// A standalone allocation.
const LONE_ALLOCATION: usize = 14;
/// Global handles (not D3DKMT local handles, but picked the same way).
const KM_GLOBAL: usize = 15;
const RESOURCE_GLOBAL: usize = 16;

/// NT handles after the fixture's four: the (resource, mutex, fence) share,
/// named `\Objects\Surface`, and the NT resource alone with no access.
const TRIPLE_NT: usize = 4;
const RESOURCE_NT_NO_ACCESS: usize = 5;

const KMS: &[usize] = &[KM, KM, KM_NT];
const RESOURCES: &[usize] = &[RESOURCE, RESOURCE_NT];
const ALLOCATIONS: &[usize] = &[ALLOCATION, ALLOCATION_NT, LONE_ALLOCATION];
const KM_GLOBALS: &[usize] = &[KM_GLOBAL];
const RESOURCE_GLOBALS: &[usize] = &[RESOURCE_GLOBAL];
const RESOURCE_NTS: &[usize] = &[TRIPLE_NT, TRIPLE_NT, RESOURCE_NT_NO_ACCESS];

struct Objects {
    f: Fixture,
    locals: [u32; 17],
    nts: [u64; 6],
}

fn objects(world: World) -> Objects {
    let f = fixture(World { exited: false, removed_device: false, ..world });
    let p = &f.process;
    let device = LocalHandle(f.locals[DEVICE]);
    let km = p.create_keyed_mutex(0, b"km-data", false).unwrap();
    let km_nt = p.create_keyed_mutex(0, b"", true).unwrap();
    let request = AllocationRequest { size: 0x1000, driver_data: b"umd".to_vec(), system_mem: 0 };
    let flags = AllocationFlags {
        create_resource: true,
        create_shared: true,
        existing_sys_mem: true,
        standard_allocation: true,
        nt_security_sharing: false,
    };
    let shared = p.create_allocation(device, 0, flags, b"rt04", &request).unwrap();
    let nt_flags = AllocationFlags { nt_security_sharing: true, ..flags };
    let nt_res = p.create_allocation(device, 0, nt_flags, b"rt04", &request).unwrap();
    let lone_flags = AllocationFlags { create_resource: false, create_shared: false, ..flags };
    let lone = p.create_allocation(device, 0, lone_flags, b"", &request).unwrap();
    let resource_nt = nt_res.resource.unwrap();
    let triple = p
        .share_objects(
            &[resource_nt, km_nt.handle, LocalHandle(f.locals[FENCE])],
            Some("\\Objects\\Surface"),
            access::GENERIC_ALL,
        )
        .unwrap();
    let no_access = p.share_objects(&[resource_nt], None, 0).unwrap();
    if world.removed_device {
        f.kernel.remove_device(p.id(), device, DeviceLoss::Hung).unwrap();
    }
    if world.exited {
        p.exit();
    }
    let mut locals = [0u32; 17];
    locals[..8].copy_from_slice(&f.locals);
    locals[8..].copy_from_slice(&[
        km.handle.0,
        km_nt.handle.0,
        shared.resource.unwrap().0,
        shared.allocation.0,
        resource_nt.0,
        nt_res.allocation.0,
        lone.allocation.0,
        km.global,
        shared.global_share,
    ]);
    let mut nts = [0u64; 6];
    nts[..4].copy_from_slice(&f.nts);
    nts[4..].copy_from_slice(&[triple.0, no_access.0]);
    Objects { f, locals, nts }
}

impl Objects {
    fn local(&self, pick: Pick, garbage: u32) -> u32 {
        let real = &self.locals;
        match pick {
            Pick::Garbage => garbage,
            Pick::Zero => 0,
            Pick::Real(i) => real[i % real.len()],
            Pick::Flipped(i, bits) => real[i % real.len()] ^ bits as u32,
            Pick::Any(v) => v as u32,
        }
    }

    fn nt(&self, pick: Pick, garbage: HANDLE) -> HANDLE {
        let real = &self.nts;
        handle_value(match pick {
            Pick::Garbage => return garbage,
            Pick::Zero => 0,
            Pick::Real(i) => real[i % real.len()],
            Pick::Flipped(i, bits) => real[i % real.len()] ^ bits,
            Pick::Any(v) => v,
        })
    }
}

/// A buffer argument and its size: NULL or a buffer of random bytes, with
/// the size field the buffer's length, or (for a NULL buffer) 0 or garbage.
fn sized_blob() -> impl Strategy<Value = (Option<Vec<u8>>, u32)> {
    (blob(), prop_oneof![3 => Just(0u32), 1 => 1..0x100u32]).prop_map(|(b, n)| {
        let size = b.as_ref().map_or(n, |b| b.len() as u32);
        (b, size)
    })
}

/// A `pTimeout` value: a wait that always ends (the virtual clock jumps to
/// any finite deadline when the test's thread blocks).
fn timeout_value() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), -1_000_000..=0i64, any::<i64>()]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn create_context_virtual(world in world(), bytes in bytes_of::<D3DKMT_CREATECONTEXTVIRTUAL>(), d in favour(DEVICES),
        node in pick_u32(&[0, 1, 2]), data in vec(any::<u8>(), 0..64), on in any::<bool>()) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let (data, p, n) = private(&data, on);
        run::<D3DKMT_CREATECONTEXTVIRTUAL, _>(&f, "D3DKMTCreateContextVirtual", &bytes, data.clone(), |a, f| {
            a.hDevice = f.local(d, a.hDevice);
            if let Some(node) = node { a.NodeOrdinal = node; }
            a.pPrivateDriverData = p;
            a.PrivateDriverDataSize = n;
        }, |a| call!(D3DKMTCreateContextVirtual(a)))?;
    }

    #[test]
    fn create_context(world in world(), bytes in bytes_of::<D3DKMT_CREATECONTEXT>(), d in favour(DEVICES),
        data in vec(any::<u8>(), 0..64), on in any::<bool>()) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let (data, p, n) = private(&data, on);
        let mut buffer = data.clone();
        let (p, n) = if p.is_null() { (p, n) } else { (buffer.as_mut_ptr().cast(), n) };
        run::<D3DKMT_CREATECONTEXT, _>(&f, "D3DKMTCreateContext", &bytes, data, |a, f| {
            a.hDevice = f.local(d, a.hDevice);
            a.NodeOrdinal %= 3;
            a.pPrivateDriverData = p;
            a.PrivateDriverDataSize = n;
        }, |a| call!(D3DKMTCreateContext(a)))?;
        drop(buffer);
    }

    #[test]
    fn destroy_context(world in world(), bytes in bytes_of::<D3DKMT_DESTROYCONTEXT>(), h in favour(CONTEXTS)) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        run::<D3DKMT_DESTROYCONTEXT, _>(&f, "D3DKMTDestroyContext", &bytes, (), |a, f| a.hContext = f.local(h, a.hContext),
            |a| call!(D3DKMTDestroyContext(a)))?;
    }

    #[test]
    fn hw_contexts(world in world(), create in bytes_of::<D3DKMT_CREATEHWCONTEXT>(), destroy in bytes_of::<D3DKMT_DESTROYHWCONTEXT>()) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        run::<D3DKMT_CREATEHWCONTEXT, _>(&f, "D3DKMTCreateHwContext", &create, (), |_, _| {}, |a| call!(D3DKMTCreateHwContext(a)))?;
        run::<D3DKMT_DESTROYHWCONTEXT, _>(&f, "D3DKMTDestroyHwContext", &destroy, (), |_, _| {}, |a| call!(D3DKMTDestroyHwContext(a)))?;
    }

    #[test]
    fn create_hw_queue(world in world(), bytes in bytes_of::<D3DKMT_CREATEHWQUEUE>(), h in favour(CONTEXTS),
        data in vec(any::<u8>(), 0..32), on in any::<bool>()) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let (data, p, n) = private(&data, on);
        run::<D3DKMT_CREATEHWQUEUE, _>(&f, "D3DKMTCreateHwQueue", &bytes, data.clone(), |a, f| {
            a.hHwContext = f.local(h, a.hHwContext);
            a.pPrivateDriverData = p;
            a.PrivateDriverDataSize = n;
        }, |a| call!(D3DKMTCreateHwQueue(a)))?;
    }

    #[test]
    fn destroy_queues(world in world(), hw in bytes_of::<D3DKMT_DESTROYHWQUEUE>(), paging in bytes_of::<D3DDDI_DESTROYPAGINGQUEUE>(),
        h in favour(HW_QUEUES), p in favour(PAGING_QUEUES)) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        run::<D3DKMT_DESTROYHWQUEUE, _>(&f, "D3DKMTDestroyHwQueue", &hw, (), |a, f| a.hHwQueue = f.local(h, a.hHwQueue),
            |a| call!(D3DKMTDestroyHwQueue(a)))?;
        run::<D3DDDI_DESTROYPAGINGQUEUE, _>(&f, "D3DKMTDestroyPagingQueue", &paging, (),
            |a, f| a.hPagingQueue = f.local(p, a.hPagingQueue), |a| call!(D3DKMTDestroyPagingQueue(a)))?;
    }

    #[test]
    fn create_paging_queue(world in world(), bytes in bytes_of::<D3DKMT_CREATEPAGINGQUEUE>(), d in favour(DEVICES),
        priority in pick_u32(&[0, 1, 0xFFFF_FFFF, 2])) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        run::<D3DKMT_CREATEPAGINGQUEUE, _>(&f, "D3DKMTCreatePagingQueue", &bytes, (), |a, f| {
            a.hDevice = f.local(d, a.hDevice);
            if let Some(priority) = priority { a.Priority = priority as i32; a.PhysicalAdapterIndex = 0; }
        }, |a| call!(D3DKMTCreatePagingQueue(a)))?;
    }

    #[test]
    fn context_priorities(world in world(), set in bytes_of::<D3DKMT_SETCONTEXTSCHEDULINGPRIORITY>(),
        get in bytes_of::<D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY>(), h in favour(CONTEXTS), priority in pick_u32(&[0, 7, 8, 0xFFFF_FFF9])) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        run::<D3DKMT_SETCONTEXTSCHEDULINGPRIORITY, _>(&f, "D3DKMTSetContextSchedulingPriority", &set, (), |a, f| {
            a.hContext = f.local(h, a.hContext);
            if let Some(p) = priority { a.Priority = p as i32; }
        }, |a| call!(D3DKMTSetContextSchedulingPriority(a)))?;
        run::<D3DKMT_SETCONTEXTINPROCESSSCHEDULINGPRIORITY, _>(&f, "D3DKMTSetContextInProcessSchedulingPriority", &set, (), |a, f| {
            a.hContext = f.local(h, a.hContext);
        }, |a| call!(D3DKMTSetContextInProcessSchedulingPriority(a)))?;
        run::<D3DKMT_GETCONTEXTSCHEDULINGPRIORITY, _>(&f, "D3DKMTGetContextSchedulingPriority", &get, (),
            |a, f| a.hContext = f.local(h, a.hContext), |a| call!(D3DKMTGetContextSchedulingPriority(a)))?;
        run::<D3DKMT_GETCONTEXTINPROCESSSCHEDULINGPRIORITY, _>(&f, "D3DKMTGetContextInProcessSchedulingPriority", &get, (),
            |a, f| a.hContext = f.local(h, a.hContext), |a| call!(D3DKMTGetContextInProcessSchedulingPriority(a)))?;
    }

    #[test]
    fn submissions(world in world(), cmd in bytes_of::<D3DKMT_SUBMITCOMMAND>(), hw in bytes_of::<D3DKMT_SUBMITCOMMANDTOHWQUEUE>(),
        render in bytes_of::<D3DKMT_RENDER>(), c in favour(CONTEXTS), q in favour(HW_QUEUES), count in pick_u32(&[1, 2, 0, 65]),
        data in vec(any::<u8>(), 0..32), on in any::<bool>()) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let (data, p, n) = private(&data, on);
        run::<D3DKMT_SUBMITCOMMAND, _>(&f, "D3DKMTSubmitCommand", &cmd, data.clone(), |a, f| {
            a.BroadcastContext[0] = f.local(c, a.BroadcastContext[0]);
            a.BroadcastContext[1] = f.local(c, a.BroadcastContext[1]);
            if let Some(count) = count { a.BroadcastContextCount = count; a.NumPrimaries %= 17; }
            a.pPrivateDriverData = p;
            a.PrivateDriverDataSize = n;
            a.HistoryBufferArray = null_mut();
            a.NumHistoryBuffers = 0;
        }, |a| call!(D3DKMTSubmitCommand(a)))?;
        run::<D3DKMT_SUBMITCOMMANDTOHWQUEUE, _>(&f, "D3DKMTSubmitCommandToHwQueue", &hw, data.clone(), |a, f| {
            a.hHwQueue = f.local(q, a.hHwQueue);
            a.NumPrimaries %= 17;
            a.WrittenPrimaries = null();
            a.pPrivateDriverData = p;
            a.PrivateDriverDataSize = n;
        }, |a| call!(D3DKMTSubmitCommandToHwQueue(a)))?;
        run::<D3DKMT_RENDER, _>(&f, "D3DKMTRender", &render, data.clone(), |a, f| {
            // SAFETY: a union of two u32 handles: any bits are one.
            let garbage = unsafe { a.Anonymous.hContext };
            a.Anonymous.hContext = f.local(c, garbage);
            a.CommandOffset %= 0x1_1000;
            a.CommandLength %= 0x1_1000;
            a.pPrivateDriverData = p;
            a.PrivateDriverDataSize = n;
        }, |a| call!(D3DKMTRender(a)))?;
    }

    #[test]
    fn hw_queue_sync(world in world(), sig in bytes_of::<D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE>(),
        wait in bytes_of::<D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE>(), q in favour(HW_QUEUES), picks in object_picks(),
        values in vec(fence_value(), 4)) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let (handles, values) = fence_objects(&f, &picks, &values[..picks.len()]);
        let queues = [f.local(q, 0)];
        run::<D3DKMT_SUBMITSIGNALSYNCOBJECTSTOHWQUEUE, _>(&f, "D3DKMTSubmitSignalSyncObjectsToHwQueue", &sig, (), |a, _| {
            a.BroadcastHwQueueCount = 1;
            a.BroadcastHwQueueArray = queues.as_ptr();
            a.ObjectCount = handles.len() as u32;
            a.ObjectHandleArray = if handles.is_empty() { null() } else { handles.as_ptr() };
            a.FenceValueArray = if handles.is_empty() { null() } else { values.as_ptr() };
        }, |a| call!(D3DKMTSubmitSignalSyncObjectsToHwQueue(a)))?;
        run::<D3DKMT_SUBMITWAITFORSYNCOBJECTSTOHWQUEUE, _>(&f, "D3DKMTSubmitWaitForSyncObjectsToHwQueue", &wait, (), |a, f| {
            a.hHwQueue = f.local(q, a.hHwQueue);
            a.ObjectCount = handles.len() as u32;
            a.ObjectHandleArray = if handles.is_empty() { null() } else { handles.as_ptr() };
            a.FenceValueArray = if handles.is_empty() { null() } else { values.as_ptr() };
        }, |a| call!(D3DKMTSubmitWaitForSyncObjectsToHwQueue(a)))?;
    }

    #[test]
    fn gpu_sync(world in world(), sig in bytes_of::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU>(),
        sig2 in bytes_of::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2>(), wait in bytes_of::<D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU>(),
        c in favour(CONTEXTS), picks in object_picks(), values in vec(fence_value(), 4)) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let (handles, values) = fence_objects(&f, &picks, &values[..picks.len()]);
        let contexts = [f.local(c, 0)];
        let (hp, vp) = if handles.is_empty() { (null(), null()) } else { (handles.as_ptr(), values.as_ptr()) };
        run::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU, _>(&f, "D3DKMTSignalSynchronizationObjectFromGpu", &sig, (), |a, f| {
            a.hContext = f.local(c, a.hContext);
            a.ObjectCount = handles.len() as u32;
            a.ObjectHandleArray = hp;
            a.Anonymous.MonitoredFenceValueArray = vp;
        }, |a| call!(D3DKMTSignalSynchronizationObjectFromGpu(a)))?;
        run::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU2, _>(&f, "D3DKMTSignalSynchronizationObjectFromGpu2", &sig2, (), |a, _| {
            a.BroadcastContextCount = 1;
            a.BroadcastContextArray = contexts.as_ptr();
            a.ObjectCount = handles.len() as u32;
            a.ObjectHandleArray = hp;
            a.Anonymous.MonitoredFenceValueArray = vp;
        }, |a| call!(D3DKMTSignalSynchronizationObjectFromGpu2(a)))?;
        run::<D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU, _>(&f, "D3DKMTWaitForSynchronizationObjectFromGpu", &wait, (), |a, f| {
            a.hContext = f.local(c, a.hContext);
            a.ObjectCount = handles.len() as u32;
            a.ObjectHandleArray = hp;
            a.Anonymous.MonitoredFenceValueArray = vp;
        }, |a| call!(D3DKMTWaitForSynchronizationObjectFromGpu(a)))?;
    }

    #[test]
    fn legacy_gpu_sync(world in world(), s1 in bytes_of::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECT>(), s2 in bytes_of::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2>(),
        w1 in bytes_of::<D3DKMT_WAITFORSYNCHRONIZATIONOBJECT>(), w2 in bytes_of::<D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2>(),
        c in favour(CONTEXTS), o in favour(FENCES), count in pick_u32(&[1, 0, 33])) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        run::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECT, _>(&f, "D3DKMTSignalSynchronizationObject", &s1, (), |a, f| {
            a.hContext = f.local(c, a.hContext);
            a.ObjectHandleArray[0] = f.local(o, a.ObjectHandleArray[0]);
            if let Some(n) = count { a.ObjectCount = n; }
        }, |a| call!(D3DKMTSignalSynchronizationObject(a)))?;
        run::<D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2, _>(&f, "D3DKMTSignalSynchronizationObject2", &s2, (), |a, f| {
            a.hContext = f.local(c, a.hContext);
            a.ObjectHandleArray[0] = f.local(o, a.ObjectHandleArray[0]);
            if let Some(n) = count { a.ObjectCount = n; a.BroadcastContextCount = 0; }
        }, |a| call!(D3DKMTSignalSynchronizationObject2(a)))?;
        run::<D3DKMT_WAITFORSYNCHRONIZATIONOBJECT, _>(&f, "D3DKMTWaitForSynchronizationObject", &w1, (), |a, f| {
            a.hContext = f.local(c, a.hContext);
            a.ObjectHandleArray[0] = f.local(o, a.ObjectHandleArray[0]);
            if let Some(n) = count { a.ObjectCount = n; }
        }, |a| call!(D3DKMTWaitForSynchronizationObject(a)))?;
        run::<D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2, _>(&f, "D3DKMTWaitForSynchronizationObject2", &w2, (), |a, f| {
            a.hContext = f.local(c, a.hContext);
            a.ObjectHandleArray[0] = f.local(o, a.ObjectHandleArray[0]);
            if let Some(n) = count { a.ObjectCount = n; }
        }, |a| call!(D3DKMTWaitForSynchronizationObject2(a)))?;
    }

    #[test]
    fn escape(world in world(), bytes in bytes_of::<D3DKMT_ESCAPE>(), ad in favour(ADAPTERS), d in favour(DEVICES),
        c in favour(CONTEXTS), ty in pick_u32(&[0, 4]), data in vec(any::<u8>(), 0..64), on in any::<bool>()) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let (data, p, n) = private(&data, on);
        let mut buffer = data.clone();
        let p = if p.is_null() { p } else { buffer.as_mut_ptr().cast() };
        run::<D3DKMT_ESCAPE, _>(&f, "D3DKMTEscape", &bytes, data, |a, f| {
            a.hAdapter = f.local(ad, a.hAdapter);
            a.hDevice = f.local(d, a.hDevice);
            a.hContext = f.local(c, a.hContext);
            if let Some(ty) = ty { a.Type = ty as i32; }
            a.pPrivateDriverData = p;
            a.PrivateDriverDataSize = n;
        }, |a| call!(D3DKMTEscape(a)))?;
        drop(buffer);
    }

    #[test]
    fn adapter_queries(world in world(), stats in bytes_of::<D3DKMT_QUERYSTATISTICS>(), clock in bytes_of::<D3DKMT_QUERYCLOCKCALIBRATION>(),
        flush in bytes_of::<D3DKMT_FLUSHHEAPTRANSITIONS>(), ad in favour(ADAPTERS), ty in pick_u32(&[0, 2, 5, 6, 3]), real_luid in any::<bool>(),
        node in pick_u32(&[0, 1, 2])) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let luid = f.kernel.adapter_luids()[0];
        run::<D3DKMT_QUERYSTATISTICS, _>(&f, "D3DKMTQueryStatistics", &stats, (), |a, _| {
            if let Some(ty) = ty { a.Type = ty as i32; a.hProcess = null_mut(); }
            if real_luid { a.AdapterLuid.LowPart = luid.low; a.AdapterLuid.HighPart = luid.high; }
            if let Some(node) = node { a.Anonymous.QueryNode.NodeId = node; }
        }, |a| call!(D3DKMTQueryStatistics(a)))?;
        run::<D3DKMT_QUERYCLOCKCALIBRATION, _>(&f, "D3DKMTQueryClockCalibration", &clock, (), |a, f| {
            a.hAdapter = f.local(ad, a.hAdapter);
            if let Some(node) = node { a.NodeOrdinal = node; a.PhysicalAdapterIndex = 0; }
        }, |a| call!(D3DKMTQueryClockCalibration(a)))?;
        run::<D3DKMT_FLUSHHEAPTRANSITIONS, _>(&f, "D3DKMTFlushHeapTransitions", &flush, (),
            |a, f| a.hAdapter = f.local(ad, a.hAdapter), |a| call!(D3DKMTFlushHeapTransitions(a)))?;
    }

    #[test]
    fn mark_device_as_error(world in world(), bytes in bytes_of::<D3DKMT_MARKDEVICEASERROR>(), d in favour(DEVICES),
        reason in pick_u32(&[0x8000_0000, 0x8000_0006, 0])) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        run::<D3DKMT_MARKDEVICEASERROR, _>(&f, "D3DKMTMarkDeviceAsError", &bytes, (), |a, f| {
            a.hDevice = f.local(d, a.hDevice);
            if let Some(r) = reason { a.Reason = r as i32; }
        }, |a| call!(D3DKMTMarkDeviceAsError(a)))?;
    }

    #[test]
    fn create_sync_file(world in world(), bytes in bytes_of::<D3DKMT_CREATESYNCFILE>(), d in favour(DEVICES), o in favour(FENCES),
        value in fence_value()) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let mut fd = None;
        run::<D3DKMT_CREATESYNCFILE, _>(&f, "D3DKMTCreateSyncFile", &bytes, (), |a, f| {
            a.hDevice = f.local(d, a.hDevice);
            a.hMonitoredFence = f.local(o, a.hMonitoredFence);
            a.FenceValue = value;
        }, |a| {
            // SAFETY: `a` points at the test's live, aligned struct.
            let status = unsafe { D3DKMTCreateSyncFile(a) };
            if status >= 0 {
                // SAFETY: as above; the call succeeded, so hSyncFile is ours.
                fd = Some(unsafe { (*a).hSyncFile });
            }
            status
        })?;
        if let Some(fd) = fd {
            // SAFETY: the descriptor the call handed us, closed once.
            drop(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) });
        }
    }

    #[test]
    fn create_keyed_mutex(world in world(), bytes in bytes_of::<D3DKMT_CREATEKEYEDMUTEX>()) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_CREATEKEYEDMUTEX>::new(&bytes);
        let (before, memory) = (o.f.state(), args.bytes());
        let status = call!(D3DKMTCreateKeyedMutex(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTCreateKeyedMutex", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn create_keyed_mutex2(
        world in world(),
        bytes in bytes_of::<D3DKMT_CREATEKEYEDMUTEX2>(),
        (data, size) in sized_blob(),
        flags in pick_u32(&[0, 1]),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_CREATEKEYEDMUTEX2>::new(&bytes);
        let mut data = data;
        let a = args.get_mut();
        a.pPrivateRuntimeData = data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = size;
        if let Some(flags) = flags {
            a.Flags.Anonymous.Value = flags;
        }
        let (before, memory) = (o.f.state(), (args.bytes(), data.clone()));
        let status = call!(D3DKMTCreateKeyedMutex2(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTCreateKeyedMutex2", status, &before, &memory, &(args.bytes(), data))?;
    }

    #[test]
    fn open_keyed_mutex(world in world(), bytes in bytes_of::<D3DKMT_OPENKEYEDMUTEX>(), g in favour(KM_GLOBALS)) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENKEYEDMUTEX>::new(&bytes);
        args.get_mut().hSharedHandle = o.local(g, args.get().hSharedHandle);
        let (before, memory) = (o.f.state(), args.bytes());
        let status = call!(D3DKMTOpenKeyedMutex(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTOpenKeyedMutex", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn open_keyed_mutex2(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENKEYEDMUTEX2>(),
        g in favour(KM_GLOBALS),
        (data, size) in sized_blob(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENKEYEDMUTEX2>::new(&bytes);
        let mut data = data;
        let a = args.get_mut();
        a.hSharedHandle = o.local(g, a.hSharedHandle);
        a.pPrivateRuntimeData = data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = size;
        let (before, memory) = (o.f.state(), (args.bytes(), data.clone()));
        let status = call!(D3DKMTOpenKeyedMutex2(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTOpenKeyedMutex2", status, &before, &memory, &(args.bytes(), data))?;
    }

    #[test]
    fn open_keyed_mutex_from_nt_handle(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE>(),
        nt in favour(RESOURCE_NTS),
        (data, size) in sized_blob(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE>::new(&bytes);
        let mut data = data;
        let a = args.get_mut();
        a.hNtHandle = o.nt(nt, a.hNtHandle);
        a.pPrivateRuntimeData = data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = size;
        let (before, memory) = (o.f.state(), (args.bytes(), data.clone()));
        let status = call!(D3DKMTOpenKeyedMutexFromNtHandle(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTOpenKeyedMutexFromNtHandle", status, &before, &memory, &(args.bytes(), data))?;
    }

    #[test]
    fn destroy_keyed_mutex(world in world(), bytes in bytes_of::<D3DKMT_DESTROYKEYEDMUTEX>(), h in favour(KMS)) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_DESTROYKEYEDMUTEX>::new(&bytes);
        args.get_mut().hKeyedMutex = o.local(h, args.get().hKeyedMutex);
        let (before, memory) = (o.f.state(), args.bytes());
        let status = call!(D3DKMTDestroyKeyedMutex(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTDestroyKeyedMutex", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn acquire_keyed_mutex(
        world in world(),
        bytes in bytes_of::<D3DKMT_ACQUIREKEYEDMUTEX>(),
        h in favour(KMS),
        key in prop_oneof![Just(0u64), any::<u64>()],
        timeout in timeout_value(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_ACQUIREKEYEDMUTEX>::new(&bytes);
        let mut t = [timeout];
        let a = args.get_mut();
        a.hKeyedMutex = o.local(h, a.hKeyedMutex);
        a.Key = key;
        a.pTimeout = t.as_mut_ptr();
        let (before, memory) = (o.f.state(), (args.bytes(), t));
        let (status, stuck) = with_watchdog(&o.f.process, || call!(D3DKMTAcquireKeyedMutex(args.as_mut_ptr())));
        prop_assert!(!stuck, "an acquire with a timeout blocked");
        judge(&o.f, "D3DKMTAcquireKeyedMutex", status, &before, &memory, &(args.bytes(), t))?;
    }

    #[test]
    fn acquire_keyed_mutex2(
        world in world(),
        bytes in bytes_of::<D3DKMT_ACQUIREKEYEDMUTEX2>(),
        h in favour(KMS),
        key in prop_oneof![Just(0u64), any::<u64>()],
        timeout in timeout_value(),
        (data, size) in sized_blob(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_ACQUIREKEYEDMUTEX2>::new(&bytes);
        let (mut t, mut data) = ([timeout], data);
        let a = args.get_mut();
        a.hKeyedMutex = o.local(h, a.hKeyedMutex);
        a.Key = key;
        a.pTimeout = t.as_mut_ptr();
        a.pPrivateRuntimeData = data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = size;
        let (before, memory) = (o.f.state(), (args.bytes(), t, data.clone()));
        let (status, stuck) = with_watchdog(&o.f.process, || call!(D3DKMTAcquireKeyedMutex2(args.as_mut_ptr())));
        prop_assert!(!stuck, "an acquire with a timeout blocked");
        judge(&o.f, "D3DKMTAcquireKeyedMutex2", status, &before, &memory, &(args.bytes(), t, data))?;
    }

    #[test]
    fn release_keyed_mutex(
        world in world(),
        bytes in bytes_of::<D3DKMT_RELEASEKEYEDMUTEX>(),
        h in favour(KMS),
        acquired in any::<bool>(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_RELEASEKEYEDMUTEX>::new(&bytes);
        let handle = o.local(h, args.get().hKeyedMutex);
        if acquired {
            let _ = o.f.process.acquire_keyed_mutex(LocalHandle(handle), 0, Some(0), None);
        }
        args.get_mut().hKeyedMutex = handle;
        let (before, memory) = (o.f.state(), args.bytes());
        let status = call!(D3DKMTReleaseKeyedMutex(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTReleaseKeyedMutex", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn release_keyed_mutex2(
        world in world(),
        bytes in bytes_of::<D3DKMT_RELEASEKEYEDMUTEX2>(),
        h in favour(KMS),
        acquired in any::<bool>(),
        (data, size) in sized_blob(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_RELEASEKEYEDMUTEX2>::new(&bytes);
        let handle = o.local(h, args.get().hKeyedMutex);
        if acquired {
            let _ = o.f.process.acquire_keyed_mutex(LocalHandle(handle), 0, Some(0), None);
        }
        let mut data = data;
        let a = args.get_mut();
        a.hKeyedMutex = handle;
        a.pPrivateRuntimeData = data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = size;
        let (before, memory) = (o.f.state(), (args.bytes(), data.clone()));
        let status = call!(D3DKMTReleaseKeyedMutex2(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTReleaseKeyedMutex2", status, &before, &memory, &(args.bytes(), data))?;
    }

    #[test]
    fn create_allocation(
        world in world(),
        v2 in any::<bool>(),
        bytes in bytes_of::<D3DKMT_CREATEALLOCATION>(),
        standard_bytes in bytes_of::<D3DKMT_CREATESTANDARDALLOCATION>(),
        info_bytes in bytes_of::<D3DDDI_ALLOCATIONINFO2>(),
        device in favour(DEVICES),
        resource in prop_oneof![3 => Just(Pick::Zero), 1 => favour(RESOURCES)],
        flags in pick_u32(&[0x1_0020, 0x1_0021, 0x1_0023, 0x1_0063, 0x1_0002, 0x20, 0x1_0000]),
        num in pick_u32(&[1, 0, 2]),
        with_standard in prop::bool::weighted(0.9),
        with_info in prop::bool::weighted(0.9),
        sysmem in prop::bool::weighted(0.9),
        heap_size in pick_u32(&[0x1000, 0x10000, 0x1100, 0]),
        ty in pick_u32(&[1, 0, 2]),
        (runtime, runtime_size) in sized_blob(),
        (driver, driver_size) in sized_blob(),
        top_driver_size in pick_u32(&[0, 0, 6]),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_CREATEALLOCATION>::new(&bytes);
        let mut standard = Garbage::<D3DKMT_CREATESTANDARDALLOCATION>::new(&standard_bytes);
        // One info buffer large enough for either version.
        let mut info = Garbage::<D3DDDI_ALLOCATIONINFO2>::new(&info_bytes);
        let mut memory_words = vec![0u64; 0x10];
        let (mut runtime, mut driver) = (runtime, driver);
        let s = standard.get_mut();
        if let Some(ty) = ty {
            s.Type = ty as i32;
        }
        if let Some(size) = heap_size {
            s.Anonymous.ExistingHeapData.Size = size as usize;
        }
        let sys = if sysmem { memory_words.as_mut_ptr().cast() } else { null_mut() };
        let drv = driver.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        if v2 {
            let i = info.get_mut();
            i.Anonymous1.pSystemMem = sys;
            i.pPrivateDriverData = drv;
            i.PrivateDriverDataSize = driver_size;
        } else {
            let i = info.words.as_mut_ptr().cast::<D3DDDI_ALLOCATIONINFO>();
            // SAFETY: `info` holds 96 bytes, aligned for u64, and
            // D3DDDI_ALLOCATIONINFO (40 bytes, pointer-aligned) is plain.
            let i = unsafe { &mut *i };
            i.pSystemMem = sys;
            i.pPrivateDriverData = drv;
            i.PrivateDriverDataSize = driver_size;
        }
        let a = args.get_mut();
        a.hDevice = o.local(device, a.hDevice);
        a.hResource = o.local(resource, a.hResource);
        if let Some(flags) = flags {
            a.Flags._bitfield = flags;
        }
        if let Some(num) = num {
            a.NumAllocations = num;
        }
        a.pPrivateRuntimeData = runtime.as_mut().map_or(null(), |d| d.as_mut_ptr().cast_const().cast());
        a.PrivateRuntimeDataSize = runtime_size;
        a.PrivateDriverDataSize = top_driver_size.unwrap_or(a.PrivateDriverDataSize);
        if a.PrivateDriverDataSize != 0 && a.Flags._bitfield & 0x1_0000 == 0 {
            // The union is then pPrivateDriverData: point it at a buffer that
            // large (the emulation does not read it).
            a.PrivateDriverDataSize = a.PrivateDriverDataSize.min(0x40);
        }
        a.Anonymous1.pStandardAllocation = if with_standard { standard.as_mut_ptr() } else { null_mut() };
        a.Anonymous2.pAllocationInfo2 = if with_info { info.as_mut_ptr() } else { null_mut() };
        if a.NumAllocations > 1 && with_info {
            a.NumAllocations = 1 + (a.NumAllocations % 2) * 5; // 1 or 6: only 1 fits, and 6 is refused unread
        }
        a.hPrivateRuntimeResourceHandle = handle_value(0x77);
        let memory_of = |args: &Garbage<D3DKMT_CREATEALLOCATION>, info: &Garbage<D3DDDI_ALLOCATIONINFO2>| {
            (args.bytes(), standard.bytes(), info.bytes(), runtime.clone(), driver.clone())
        };
        let (before, memory) = (o.f.state(), memory_of(&args, &info));
        let status = if v2 {
            call!(D3DKMTCreateAllocation2(args.as_mut_ptr()))
        } else {
            call!(D3DKMTCreateAllocation(args.as_mut_ptr()))
        };
        let entry = if v2 { "D3DKMTCreateAllocation2" } else { "D3DKMTCreateAllocation" };
        judge(&o.f, entry, status, &before, &memory, &memory_of(&args, &info))?;
    }

    #[test]
    fn destroy_allocation(
        world in world(),
        v2 in any::<bool>(),
        bytes in bytes_of::<D3DKMT_DESTROYALLOCATION2>(),
        device in favour(DEVICES),
        resource in prop_oneof![Just(Pick::Zero), favour(RESOURCES)],
        list in prop::option::weighted(0.8, vec(favour(ALLOCATIONS), 0..4)),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_DESTROYALLOCATION2>::new(&bytes);
        let handles: Option<Vec<u32>> = list.as_ref().map(|l| l.iter().map(|&p| o.local(p, 0)).collect());
        let a = args.get_mut();
        a.hDevice = o.local(device, a.hDevice);
        a.hResource = o.local(resource, a.hResource);
        a.phAllocationList = handles.as_ref().map_or(null(), |h| h.as_ptr());
        if let Some(h) = &handles {
            a.AllocationCount = h.len() as u32;
        }
        let (before, memory) = (o.f.state(), (args.bytes(), handles.clone()));
        // D3DKMT_DESTROYALLOCATION is the v2 struct's prefix.
        let status = if v2 {
            call!(D3DKMTDestroyAllocation2(args.as_mut_ptr()))
        } else {
            call!(D3DKMTDestroyAllocation(args.as_mut_ptr().cast::<D3DKMT_DESTROYALLOCATION>()))
        };
        let entry = if v2 { "D3DKMTDestroyAllocation2" } else { "D3DKMTDestroyAllocation" };
        judge(&o.f, entry, status, &before, &memory, &(args.bytes(), handles))?;
    }

    #[test]
    fn query_resource_info(
        world in world(),
        bytes in bytes_of::<D3DKMT_QUERYRESOURCEINFO>(),
        device in favour(DEVICES),
        g in favour(RESOURCE_GLOBALS),
        (data, size) in sized_blob(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_QUERYRESOURCEINFO>::new(&bytes);
        let mut data = data;
        let a = args.get_mut();
        a.hDevice = o.local(device, a.hDevice);
        a.hGlobalShare = o.local(g, a.hGlobalShare);
        a.pPrivateRuntimeData = data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = size;
        let (before, memory) = (o.f.state(), (args.bytes(), data.clone()));
        let status = call!(D3DKMTQueryResourceInfo(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTQueryResourceInfo", status, &before, &memory, &(args.bytes(), data))?;
    }

    #[test]
    fn open_resource(
        world in world(),
        v2 in any::<bool>(),
        bytes in bytes_of::<D3DKMT_OPENRESOURCE>(),
        info_bytes in bytes_of::<D3DDDI_OPENALLOCATIONINFO2>(),
        device in favour(DEVICES),
        g in favour(RESOURCE_GLOBALS),
        with_info in prop::bool::weighted(0.9),
        num in pick_u32(&[1, 0, 2]),
        (runtime, runtime_size) in sized_blob(),
        (resource_data, resource_size) in sized_blob(),
        total in prop::option::weighted(0.9, prop_oneof![Just(0x40usize), Just(0x3F), 0..0x100usize]),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENRESOURCE>::new(&bytes);
        let mut info = Garbage::<D3DDDI_OPENALLOCATIONINFO2>::new(&info_bytes);
        let (mut runtime, mut resource_data) = (runtime, resource_data);
        let mut total = total.map(|n| vec![0xEEu8; n]);
        let a = args.get_mut();
        a.hDevice = o.local(device, a.hDevice);
        a.hGlobalShare = o.local(g, a.hGlobalShare);
        // Only one allocation's room: a count above 1 is refused unread
        // (the resources have one allocation).
        a.NumAllocations = num.unwrap_or(a.NumAllocations).min(2);
        a.Anonymous.pOpenAllocationInfo2 = if with_info { info.as_mut_ptr() } else { null_mut() };
        a.pPrivateRuntimeData = runtime.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = runtime_size;
        a.pResourcePrivateDriverData = resource_data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.ResourcePrivateDriverDataSize = resource_size;
        a.pTotalPrivateDriverDataBuffer = total.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        if let Some(t) = &total {
            a.TotalPrivateDriverDataBufferSize = t.len() as u32;
        }
        let memory_of = |args: &Garbage<D3DKMT_OPENRESOURCE>, info: &Garbage<D3DDDI_OPENALLOCATIONINFO2>,
            total: &Option<Vec<u8>>| (args.bytes(), info.bytes(), runtime.clone(), resource_data.clone(), total.clone());
        let (before, memory) = (o.f.state(), memory_of(&args, &info, &total));
        let status = if v2 {
            call!(D3DKMTOpenResource2(args.as_mut_ptr()))
        } else {
            // D3DDDI_OPENALLOCATIONINFO is smaller than the v2 buffer.
            const { assert!(size_of::<D3DDDI_OPENALLOCATIONINFO>() <= size_of::<D3DDDI_OPENALLOCATIONINFO2>()) };
            call!(D3DKMTOpenResource(args.as_mut_ptr()))
        };
        let entry = if v2 { "D3DKMTOpenResource2" } else { "D3DKMTOpenResource" };
        judge(&o.f, entry, status, &before, &memory, &memory_of(&args, &info, &total))?;
    }

    #[test]
    fn query_resource_info_from_nt_handle(
        world in world(),
        bytes in bytes_of::<D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE>(),
        device in favour(DEVICES),
        nt in favour(RESOURCE_NTS),
        (data, size) in sized_blob(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_QUERYRESOURCEINFOFROMNTHANDLE>::new(&bytes);
        let mut data = data;
        let a = args.get_mut();
        a.hDevice = o.local(device, a.hDevice);
        a.hNtHandle = o.nt(nt, a.hNtHandle);
        a.pPrivateRuntimeData = data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = size;
        let (before, memory) = (o.f.state(), (args.bytes(), data.clone()));
        let status = call!(D3DKMTQueryResourceInfoFromNtHandle(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTQueryResourceInfoFromNtHandle", status, &before, &memory, &(args.bytes(), data))?;
    }

    #[test]
    fn open_resource_from_nt_handle(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENRESOURCEFROMNTHANDLE>(),
        info_bytes in bytes_of::<D3DDDI_OPENALLOCATIONINFO2>(),
        device in favour(DEVICES),
        nt in favour(RESOURCE_NTS),
        with_info in prop::bool::weighted(0.9),
        num in pick_u32(&[1, 0, 2]),
        (runtime, runtime_size) in sized_blob(),
        (resource_data, resource_size) in sized_blob(),
        total in prop::option::weighted(0.9, prop_oneof![Just(0x40usize), Just(0x3F), 0..0x100usize]),
        (km_data, km_size) in sized_blob(),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENRESOURCEFROMNTHANDLE>::new(&bytes);
        let mut info = Garbage::<D3DDDI_OPENALLOCATIONINFO2>::new(&info_bytes);
        let (mut runtime, mut resource_data, mut km_data) = (runtime, resource_data, km_data);
        let mut total = total.map(|n| vec![0xEEu8; n]);
        let a = args.get_mut();
        a.hDevice = o.local(device, a.hDevice);
        a.hNtHandle = o.nt(nt, a.hNtHandle);
        a.NumAllocations = num.unwrap_or(a.NumAllocations).min(2);
        a.pOpenAllocationInfo2 = if with_info { info.as_mut_ptr() } else { null_mut() };
        a.pPrivateRuntimeData = runtime.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.PrivateRuntimeDataSize = runtime_size;
        a.pResourcePrivateDriverData = resource_data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.ResourcePrivateDriverDataSize = resource_size;
        a.pTotalPrivateDriverDataBuffer = total.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        if let Some(t) = &total {
            a.TotalPrivateDriverDataBufferSize = t.len() as u32;
        }
        a.pKeyedMutexPrivateRuntimeData = km_data.as_mut().map_or(null_mut(), |d| d.as_mut_ptr().cast());
        a.KeyedMutexPrivateRuntimeDataSize = km_size;
        let memory_of = |args: &Garbage<D3DKMT_OPENRESOURCEFROMNTHANDLE>,
            info: &Garbage<D3DDDI_OPENALLOCATIONINFO2>, total: &Option<Vec<u8>>, km: &Option<Vec<u8>>| {
            (args.bytes(), info.bytes(), runtime.clone(), resource_data.clone(), total.clone(), km.clone())
        };
        let (before, memory) = (o.f.state(), memory_of(&args, &info, &total, &km_data));
        let status = call!(D3DKMTOpenResourceFromNtHandle(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTOpenResourceFromNtHandle", status, &before, &memory, &memory_of(&args, &info, &total, &km_data))?;
    }

    #[test]
    fn get_shared_resource_adapter_luid(
        world in world(),
        bytes in bytes_of::<D3DKMT_GETSHAREDRESOURCEADAPTERLUID>(),
        g in prop_oneof![Just(Pick::Zero), favour(RESOURCE_GLOBALS)],
        nt in favour(RESOURCE_NTS),
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_GETSHAREDRESOURCEADAPTERLUID>::new(&bytes);
        let a = args.get_mut();
        a.hGlobalShare = o.local(g, a.hGlobalShare);
        a.hNtHandle = o.nt(nt, a.hNtHandle);
        let (before, memory) = (o.f.state(), args.bytes());
        let status = call!(D3DKMTGetSharedResourceAdapterLuid(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTGetSharedResourceAdapterLuid", status, &before, &memory, &args.bytes())?;
    }

    #[test]
    fn open_nt_handle_from_name(
        world in world(),
        bytes in bytes_of::<D3DKMT_OPENNTHANDLEFROMNAME>(),
        attributes in prop::option::weighted(0.8, share_attributes()),
        real_name in any::<bool>(),
        desired in prop_oneof![
            proptest::sample::select(&[access::GENERIC_ALL, access::GENERIC_READ, 0][..]),
            any::<u32>(),
        ],
    ) {
        let o = objects(world);
        let _bound = o.f.process.enter();
        let mut args = Garbage::<D3DKMT_OPENNTHANDLEFROMNAME>::new(&bytes);
        let mut attributes = attributes.map(|mut a| {
            if real_name {
                if let Some(name) = a.name.as_mut() {
                    let units: Vec<u16> = "\\OBJECTS\\surface".encode_utf16().collect();
                    let mut buffer = units.clone();
                    buffer.resize(32, 0);
                    name.buffer = Some(buffer);
                    name.length = (units.len() * 2) as u16;
                    name.maximum = 64;
                }
            }
            a.build()
        });
        let a = args.get_mut();
        a.dwDesiredAccess = desired;
        a.pObjAttrib = attributes.as_mut().map_or(null_mut(), |x| x.attributes.as_mut_ptr());
        let memory_of = |args: &Garbage<D3DKMT_OPENNTHANDLEFROMNAME>, attributes: &Option<BuiltAttributes>| {
            (args.bytes(), attributes.as_ref().map(BuiltAttributes::bytes))
        };
        let (before, memory) = (o.f.state(), memory_of(&args, &attributes));
        let status = call!(D3DKMTOpenNtHandleFromName(args.as_mut_ptr()));
        judge(&o.f, "D3DKMTOpenNtHandleFromName", status, &before, &memory, &memory_of(&args, &attributes))?;
    }
}

// ---------------------------------------------------------------------------
// GPU memory: virtual addresses, residency, offers, priorities, Lock2

/// The GPU-work fixture plus an allocation (alone), a resource with its
/// allocation, a 64 KiB reservation with the lone allocation mapped at its
/// start, and the lone allocation made resident once; indexed after the
/// GPU-work handles.
struct MemWorld {
    g: GpuWorld,
    extra: [u32; 3],
    va: u64,
}

const MEM_ALLOCATION: usize = 12;
const MEM_RESOURCE: usize = 13;
const MEM_RESOURCE_ALLOCATION: usize = 14;
const MEM_ALLOCATIONS: &[usize] = &[MEM_ALLOCATION, MEM_ALLOCATION, MEM_RESOURCE_ALLOCATION];
const MEM_RESOURCES: &[usize] = &[MEM_RESOURCE];

/// What a failed memory call must leave as it was, besides handles and objects.
#[derive(Debug, PartialEq)]
struct MemState {
    mappings: Vec<d3dkmt_emu::Mapping>,
    reservations: Vec<(u64, u64)>,
    allocations: Vec<Option<d3dkmt_emu::AllocationMemoryInfo>>,
    video: Option<(u64, u64)>,
}

impl MemWorld {
    fn local(&self, pick: Pick, garbage: u32) -> u32 {
        let mut real = self.g.locals.to_vec();
        real.extend_from_slice(&self.extra);
        match pick {
            Pick::Garbage => garbage,
            Pick::Zero => 0,
            Pick::Real(i) => real[i % real.len()],
            Pick::Flipped(i, bits) => real[i % real.len()] ^ bits as u32,
            Pick::Any(v) => v as u32,
        }
    }

    fn mem_state(&self) -> MemState {
        let p = &self.g.process;
        let adapter = LocalHandle(self.g.locals[ADAPTER]);
        let info = p.query_video_memory_info(adapter, 0, d3dkmt_emu::MemoryGroup::Local).ok();
        MemState {
            mappings: p.gpu_va_mappings(adapter).unwrap_or_default(),
            reservations: p.gpu_va_reservations(adapter).unwrap_or_default(),
            allocations: [self.extra[0], self.extra[2]].map(|a| p.allocation_memory(LocalHandle(a)).ok()).to_vec(),
            video: info.map(|i| (i.current_usage, i.current_reservation)),
        }
    }
}

fn mem_fixture(world: World) -> MemWorld {
    let g = gpu_fixture(World { exited: false, removed_device: false, ..world });
    let p = &g.process;
    let device = LocalHandle(g.locals[DEVICE]);
    let request = AllocationRequest { size: 0x2000, driver_data: b"umd".to_vec(), system_mem: 0 };
    let flags = AllocationFlags { existing_sys_mem: true, standard_allocation: true, ..AllocationFlags::default() };
    let lone = p.create_allocation(device, 0, flags, b"", &request).unwrap().allocation;
    let with = AllocationFlags { create_resource: true, ..flags };
    let res = p.create_allocation(device, 0, with, b"rt", &request).unwrap();
    let queue = LocalHandle(g.locals[PAGING_QUEUE]);
    let adapter = LocalHandle(g.locals[ADAPTER]);
    let va = p.reserve_gpu_va(adapter, 0, 0, 0, 0x1_0000).unwrap();
    let req = d3dkmt_emu::MapRequest {
        base: va,
        min: 0,
        max: 0,
        allocation: lone,
        offset_pages: 0,
        size_pages: 1,
        protection: d3dkmt_emu::protection::WRITE,
    };
    p.map_gpu_va(queue, &req).unwrap();
    p.make_resident(queue, &[lone]).unwrap();
    if world.removed_device {
        g.kernel.remove_device(p.id(), device, DeviceLoss::Hung).unwrap();
    }
    if world.exited {
        p.exit();
    }
    MemWorld { extra: [lone.0, res.resource.unwrap().0, res.allocation.0], g, va }
}

/// As `run`, and a failed call must also leave the GPU memory state alone.
fn run_mem<T: Plain>(
    m: &MemWorld,
    entry: &str,
    bytes: &[u8],
    set: impl FnOnce(&mut T, &MemWorld),
    call: impl FnOnce(*mut T) -> i32,
) -> Result<(), TestCaseError> {
    run_mem_status(m, entry, bytes, set, call).map(drop)
}

/// As `run_mem`; returns the status, for the caller to check its output arrays.
fn run_mem_status<T: Plain>(
    m: &MemWorld,
    entry: &str,
    bytes: &[u8],
    set: impl FnOnce(&mut T, &MemWorld),
    call: impl FnOnce(*mut T) -> i32,
) -> Result<NtStatus, TestCaseError> {
    let mut args = Garbage::<T>::new(bytes);
    set(args.get_mut(), m);
    let (before, memory, mem) = (m.g.state(), args.bytes(), m.mem_state());
    let status = call(args.as_mut_ptr());
    judge(&m.g.f, entry, status, &before, &memory, &args.bytes())?;
    if NtStatus(status).is_err() {
        prop_assert_eq!(mem, m.mem_state(), "{} failed but changed the GPU memory state", entry);
    }
    Ok(NtStatus(status))
}

/// A handle list of the test's: picks among the allocations.
fn allocation_list() -> impl Strategy<Value = Vec<Pick>> {
    vec(favour(MEM_ALLOCATIONS), 0..4)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reserve_gpu_va(world in world(), bytes in bytes_of::<D3DDDI_RESERVEGPUVIRTUALADDRESS>(), owner in favour(&[ADAPTER, PAGING_QUEUE]),
        size in pick_u32(&[0x1_0000, 0x2_0000, 0x1000, 0]), fixed in any::<bool>()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        run_mem::<D3DDDI_RESERVEGPUVIRTUALADDRESS>(&m, "D3DKMTReserveGpuVirtualAddress", &bytes, |a, m| {
            a.Anonymous1.hAdapter = m.local(owner, 0);
            if let Some(size) = size {
                a.Size = u64::from(size);
                a.Anonymous2.ReservationType = 0;
                a.BaseAddress = if fixed { m.va } else { 0 };
                a.MinimumAddress = 0;
                a.MaximumAddress = 0;
            }
        }, |a| call!(D3DKMTReserveGpuVirtualAddress(a)))?;
    }

    #[test]
    fn map_gpu_va(world in world(), bytes in bytes_of::<D3DDDI_MAPGPUVIRTUALADDRESS>(), q in favour(PAGING_QUEUES),
        alloc in favour(MEM_ALLOCATIONS), pages in pick_u32(&[1, 2, 3, 0]), at_va in any::<bool>()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        run_mem::<D3DDDI_MAPGPUVIRTUALADDRESS>(&m, "D3DKMTMapGpuVirtualAddress", &bytes, |a, m| {
            a.hPagingQueue = m.local(q, a.hPagingQueue);
            a.hAllocation = m.local(alloc, a.hAllocation);
            if let Some(pages) = pages {
                a.SizeInPages = u64::from(pages);
                a.OffsetInPages %= 3;
                a.BaseAddress = if at_va { m.va + 0x1000 } else { 0 };
                a.MinimumAddress = 0;
                a.MaximumAddress = 0;
                a.Protection.Anonymous.Value = u64::from(pages) & 0xF;
            }
        }, |a| call!(D3DKMTMapGpuVirtualAddress(a)))?;
    }

    #[test]
    fn free_gpu_va(world in world(), bytes in bytes_of::<D3DKMT_FREEGPUVIRTUALADDRESS>(), h in favour(ADAPTERS), exact in any::<bool>()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        run_mem::<D3DKMT_FREEGPUVIRTUALADDRESS>(&m, "D3DKMTFreeGpuVirtualAddress", &bytes, |a, m| {
            a.hAdapter = m.local(h, a.hAdapter);
            if exact { a.BaseAddress = m.va; a.Size = 0x1_0000; }
        }, |a| call!(D3DKMTFreeGpuVirtualAddress(a)))?;
    }

    #[test]
    fn update_gpu_va(world in world(), bytes in bytes_of::<D3DKMT_UPDATEGPUVIRTUALADDRESS>(),
        ops in vec(bytes_of::<D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION>(), 0..3), d in favour(DEVICES), c in favour(CONTEXTS),
        fence in favour(FENCES), alloc in favour(MEM_ALLOCATIONS), tame in any::<bool>()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        let mut ops: Vec<D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION> = ops.iter().map(|b| *Garbage::<D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION>::new(b).get()).collect();
        if tame {
            for (i, op) in ops.iter_mut().enumerate() {
                op.OperationType = (i % 4) as i32;
                op.Anonymous.Map.BaseAddress = m.va + 0x1000 * i as u64;
                op.Anonymous.Map.SizeInBytes = 0x1000;
                op.Anonymous.Map.hAllocation = m.local(alloc, 0);
                op.Anonymous.Map.AllocationOffsetInBytes = 0;
                op.Anonymous.Map.AllocationSizeInBytes = 0;
            }
        }
        let before = ops.iter().map(bytes_of_op).collect::<Vec<_>>();
        let p = if ops.is_empty() { null_mut() } else { ops.as_mut_ptr() };
        let n = ops.len() as u32;
        let status = run_mem_status::<D3DKMT_UPDATEGPUVIRTUALADDRESS>(&m, "D3DKMTUpdateGpuVirtualAddress", &bytes, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.hContext = m.local(c, a.hContext);
            a.hFenceObject = m.local(fence, a.hFenceObject);
            a.Operations = p;
            a.NumOperations = if p.is_null() { a.NumOperations } else { n };
        }, |a| call!(D3DKMTUpdateGpuVirtualAddress(a)))?;
        prop_assert_eq!(before, ops.iter().map(bytes_of_op).collect::<Vec<_>>(), "{} wrote its operations", status);
    }

    #[test]
    fn make_resident_and_evict(world in world(), mr in bytes_of::<D3DDDI_MAKERESIDENT>(), ev in bytes_of::<D3DKMT_EVICT>(),
        q in favour(PAGING_QUEUES), d in favour(DEVICES), list in allocation_list()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        let handles: Vec<u32> = list.iter().map(|&p| m.local(p, 0)).collect();
        let (p, n) = (if handles.is_empty() { null() } else { handles.as_ptr() }, handles.len() as u32);
        run_mem::<D3DDDI_MAKERESIDENT>(&m, "D3DKMTMakeResident", &mr, |a, m| {
            a.hPagingQueue = m.local(q, a.hPagingQueue);
            a.AllocationList = p;
            a.PriorityList = null();
            if !p.is_null() { a.NumAllocations = n; }
        }, |a| call!(D3DKMTMakeResident(a)))?;
        run_mem::<D3DKMT_EVICT>(&m, "D3DKMTEvict", &ev, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.AllocationList = p;
            if !p.is_null() { a.NumAllocations = n; }
        }, |a| call!(D3DKMTEvict(a)))?;
    }

    #[test]
    fn residency_and_priorities(world in world(), q in bytes_of::<D3DKMT_QUERYALLOCATIONRESIDENCY>(),
        set in bytes_of::<D3DKMT_SETALLOCATIONPRIORITY>(), get in bytes_of::<D3DKMT_GETALLOCATIONPRIORITY>(),
        d in favour(DEVICES), r in favour(MEM_RESOURCES), use_resource in any::<bool>(), list in allocation_list(),
        priority in any::<u32>(), out in any::<bool>()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        let handles: Vec<u32> = list.iter().map(|&p| m.local(p, 0)).collect();
        let (p, n) = (if handles.is_empty() { null() } else { handles.as_ptr() }, handles.len() as u32);
        let room = handles.len().max(1);
        let mut status = vec![-1i32; room];
        let status_ptr = if out { status.as_mut_ptr() } else { null_mut() };
        let result = run_mem_status::<D3DKMT_QUERYALLOCATIONRESIDENCY>(&m, "D3DKMTQueryAllocationResidency", &q, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.hResource = if use_resource { m.local(r, a.hResource) } else { 0 };
            a.phAllocationList = p;
            a.AllocationCount = if use_resource { 0 } else if p.is_null() { a.AllocationCount } else { n };
            a.pResidencyStatus = status_ptr;
        }, |a| call!(D3DKMTQueryAllocationResidency(a)))?;
        if result.is_err() {
            prop_assert!(status.iter().all(|&s| s == -1), "a failed residency query wrote statuses");
        }
        let priorities = vec![priority; room];
        run_mem::<D3DKMT_SETALLOCATIONPRIORITY>(&m, "D3DKMTSetAllocationPriority", &set, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.hResource = if use_resource { m.local(r, a.hResource) } else { 0 };
            a.phAllocationList = p;
            a.AllocationCount = if use_resource { 0 } else if p.is_null() { a.AllocationCount } else { n };
            a.pPriorities = if out { priorities.as_ptr() } else { null() };
        }, |a| call!(D3DKMTSetAllocationPriority(a)))?;
        let mut got = vec![0u32; room];
        let got_ptr = if out { got.as_mut_ptr() } else { null_mut() };
        let result = run_mem_status::<D3DKMT_GETALLOCATIONPRIORITY>(&m, "D3DKMTGetAllocationPriority", &get, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.hResource = if use_resource { m.local(r, a.hResource) } else { 0 };
            a.phAllocationList = p;
            a.AllocationCount = if use_resource { 0 } else if p.is_null() { a.AllocationCount } else { n };
            a.pPriorities = got_ptr;
        }, |a| call!(D3DKMTGetAllocationPriority(a)))?;
        if result.is_err() {
            prop_assert!(got.iter().all(|&p| p == 0), "a failed priority query wrote priorities");
        }
    }

    #[test]
    fn offer_and_reclaim(world in world(), offer in bytes_of::<D3DKMT_OFFERALLOCATIONS>(), reclaim in bytes_of::<D3DKMT_RECLAIMALLOCATIONS2>(),
        d in favour(DEVICES), q in favour(PAGING_QUEUES), list in allocation_list(), by_resource in any::<bool>(),
        r in favour(MEM_RESOURCES), priority in pick_u32(&[1, 2, 4, 0, 5]), results in any::<bool>()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        let handles: Vec<u32> =
            if by_resource { vec![m.local(r, 0)] } else { list.iter().map(|&p| m.local(p, 0)).collect() };
        let mut handles_mut = handles.clone();
        let (p, n) = (if handles.is_empty() { null() } else { handles.as_ptr() }, handles.len() as u32);
        let resources_ptr = if by_resource { handles_mut.as_mut_ptr() } else { null_mut() };
        run_mem::<D3DKMT_OFFERALLOCATIONS>(&m, "D3DKMTOfferAllocations", &offer, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.pResources = resources_ptr;
            a.HandleList = if by_resource { null() } else { p };
            if !p.is_null() { a.NumAllocations = n; }
            if let Some(priority) = priority { a.Priority = priority as i32; }
        }, |a| call!(D3DKMTOfferAllocations(a)))?;
        let mut out = vec![7i32; handles.len().max(1)];
        let out_ptr = if results { out.as_mut_ptr() } else { null_mut() };
        let result = run_mem_status::<D3DKMT_RECLAIMALLOCATIONS2>(&m, "D3DKMTReclaimAllocations2", &reclaim, |a, m| {
            a.hPagingQueue = m.local(q, a.hPagingQueue);
            a.pResources = resources_ptr;
            a.HandleList = if by_resource { null() } else { p };
            if !p.is_null() { a.NumAllocations = n; }
            a.Anonymous.pResults = out_ptr;
        }, |a| call!(D3DKMTReclaimAllocations2(a)))?;
        if result.is_err() {
            prop_assert!(out.iter().all(|&r| r == 7), "a failed reclaim wrote results");
        }
        drop(handles_mut);
    }

    #[test]
    fn update_allocation_property(world in world(), bytes in bytes_of::<D3DDDI_UPDATEALLOCPROPERTY>(), q in favour(PAGING_QUEUES),
        alloc in favour(MEM_ALLOCATIONS)) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        run_mem::<D3DDDI_UPDATEALLOCPROPERTY>(&m, "D3DKMTUpdateAllocationProperty", &bytes, |a, m| {
            a.hPagingQueue = m.local(q, a.hPagingQueue);
            a.hAllocation = m.local(alloc, a.hAllocation);
        }, |a| call!(D3DKMTUpdateAllocationProperty(a)))?;
    }

    #[test]
    fn lock2_and_unlock2(world in world(), lock in bytes_of::<D3DKMT_LOCK2>(), unlock in bytes_of::<D3DKMT_UNLOCK2>(),
        d in favour(DEVICES), alloc in favour(MEM_ALLOCATIONS)) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        run_mem::<D3DKMT_UNLOCK2>(&m, "D3DKMTUnlock2", &unlock, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.hAllocation = m.local(alloc, a.hAllocation);
        }, |a| call!(D3DKMTUnlock2(a)))?;
        run_mem::<D3DKMT_LOCK2>(&m, "D3DKMTLock2", &lock, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.hAllocation = m.local(alloc, a.hAllocation);
        }, |a| call!(D3DKMTLock2(a)))?;
    }

    #[test]
    fn change_video_memory_reservation(world in world(), bytes in bytes_of::<D3DKMT_CHANGEVIDEOMEMORYRESERVATION>(),
        h in favour(ADAPTERS), me in any::<bool>(), small in any::<bool>()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        run_mem::<D3DKMT_CHANGEVIDEOMEMORYRESERVATION>(&m, "D3DKMTChangeVideoMemoryReservation", &bytes, |a, m| {
            a.hAdapter = m.local(h, a.hAdapter);
            if me { a.hProcess = null_mut(); }
            if small { a.Reservation %= 0x10_0000; a.MemorySegmentGroup &= 1; a.PhysicalAdapterIndex = 0; }
        }, |a| call!(D3DKMTChangeVideoMemoryReservation(a)))?;
    }
}

fn bytes_of_op(op: &D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION) -> Vec<u8> {
    // SAFETY: a plain windows-sys struct of integers, read as its bytes.
    unsafe {
        std::slice::from_raw_parts(
            (op as *const D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION).cast::<u8>(),
            size_of::<D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION>(),
        )
    }
    .to_vec()
}

// ---------------------------------------------------------------------------
// libdxg's last entry points: InvalidateCache, ShareObjectWithHost,
// SetStablePowerState, CloseDxCoreDevice

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DKMT_INVALIDATECACHE, D3DKMT_SETSTABLEPOWERSTATE, D3DKMT_SHAREOBJECTWITHHOST,
};

plain!(D3DKMT_INVALIDATECACHE, D3DKMT_SETSTABLEPOWERSTATE, D3DKMT_SHAREOBJECTWITHHOST);

unsafe extern "system" {
    /// Ours: windows-sys declares the struct, not the function.
    fn D3DKMTShareObjectWithHost(args: *mut D3DKMT_SHAREOBJECTWITHHOST) -> i32;
    /// Ours (libdxg's signature): no arguments, no result.
    fn D3DKMTCloseDxCoreDevice();
}

/// Every adapter's stable power state as the fixture's process holds it.
fn stable_power(f: &Fixture) -> Vec<Result<bool, d3dkmt_emu::KernelError>> {
    [ADAPTER, ADAPTER2].map(|a| f.process.stable_power_state(LocalHandle(f.locals[a]))).to_vec()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn invalidate_cache(world in world(), bytes in bytes_of::<D3DKMT_INVALIDATECACHE>(), d in favour(DEVICES),
        alloc in favour(MEM_ALLOCATIONS), small in any::<bool>()) {
        let m = mem_fixture(world);
        let _bound = m.g.process.enter();
        run_mem::<D3DKMT_INVALIDATECACHE>(&m, "D3DKMTInvalidateCache", &bytes, |a, m| {
            a.hDevice = m.local(d, a.hDevice);
            a.hAllocation = m.local(alloc, a.hAllocation);
            if small { a.Offset %= 0x3000; a.Length %= 0x3000; }
        }, |a| call!(D3DKMTInvalidateCache(a)))?;
    }

    #[test]
    fn share_object_with_host(world in world(), bytes in bytes_of::<D3DKMT_SHAREOBJECTWITHHOST>(), d in favour(DEVICES),
        o in favour(FENCES)) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let table = f.kernel.host_shared_objects();
        let mut status = 0;
        run::<D3DKMT_SHAREOBJECTWITHHOST, _>(&f, "D3DKMTShareObjectWithHost", &bytes, (), |a, f| {
            a.hDevice = f.local(d, a.hDevice);
            a.hObject = f.local(o, a.hObject);
        }, |a| {
            // SAFETY: `a` points at the test's live, aligned struct.
            status = unsafe { D3DKMTShareObjectWithHost(a) };
            status
        })?;
        let after = f.kernel.host_shared_objects();
        if NtStatus(status).is_err() {
            prop_assert_eq!(table, after, "a failed share changed the host table");
        } else {
            prop_assert_eq!(after.len(), table.len() + 1, "a share did not add one host-table entry");
        }
    }

    #[test]
    fn set_stable_power_state(world in world(), bytes in bytes_of::<D3DKMT_SETSTABLEPOWERSTATE>(), h in favour(ADAPTERS)) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let before = stable_power(&f);
        let mut status = 0;
        run::<D3DKMT_SETSTABLEPOWERSTATE, _>(&f, "D3DKMTSetStablePowerState", &bytes, (), |a, f| {
            a.hAdapter = f.local(h, a.hAdapter);
        }, |a| {
            status = call!(D3DKMTSetStablePowerState(a));
            status
        })?;
        if NtStatus(status).is_err() {
            prop_assert_eq!(before, stable_power(&f), "a failed call changed the stable power state");
        }
    }

    /// No arguments to garble: in any world, the close leaves the process
    /// holding nothing (or, already exited, as it was), and garbage given to
    /// a later call is answered `STATUS_UNSUCCESSFUL` with the struct untouched.
    #[test]
    fn close_dxcore_device(world in world(), bytes in bytes_of::<D3DKMT_OPENADAPTERFROMLUID>()) {
        let f = gpu_fixture(world);
        let _bound = f.process.enter();
        let exited = f.process.has_exited();
        // SAFETY: takes no arguments.
        unsafe { D3DKMTCloseDxCoreDevice() };
        prop_assert_eq!(f.process.dxcore_device_closed(), !exited);
        prop_assert!(f.process.has_exited());
        prop_assert!(f.process.local_handles().is_empty() && f.process.nt_handles().is_empty());
        let mut args = Garbage::<D3DKMT_OPENADAPTERFROMLUID>::new(&bytes);
        let memory = args.bytes();
        let status = NtStatus(call!(D3DKMTOpenAdapterFromLuid(args.as_mut_ptr())));
        let expected = if exited { NtStatus::PROCESS_IS_TERMINATING } else { NtStatus::UNSUCCESSFUL };
        prop_assert_eq!(status, expected);
        prop_assert_eq!(memory, args.bytes(), "the struct was written after the close");
    }
}
