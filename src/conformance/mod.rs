//! The conformance tables: Windows-observed results as data, run against a
//! fresh kernel through the C ABI.
//!
//! `fixtures/conformance.tsv` (the core and protected sessions) and
//! `fixtures/conformance/<area>.tsv` (one per API area, each with its
//! scenarios in the submodule of the same name) have one row per observation: the entry point,
//! the input (`null`, `zeroed` or `a5` for a 1024-byte buffer filled with
//! 0x00 or 0xA5, as the ROS parity table does, or `scenario:NAME` for a
//! sequence of calls written below), the expected status, whether the
//! caller's buffer must come back untouched, and the facts it pins. Each row
//! runs in a new kernel with a new bound process. `d3dkmt-emu conformance`
//! prints the table; the test suite runs it too.

use core::ffi::c_void;

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::*;
use windows_sys::Win32::Foundation::{HANDLE, LUID, UNICODE_STRING};

use crate::abi::exports::D3DKMTGetDeviceState;
use crate::abi::exports::{
    D3DKMTCloseAdapter, D3DKMTCreateDevice, D3DKMTCreateProtectedSession, D3DKMTCreateSynchronizationObject2,
    D3DKMTDestroyDevice, D3DKMTDestroyProtectedSession, D3DKMTDestroySynchronizationObject, D3DKMTEnumAdapters2,
    D3DKMTEnumAdapters3, D3DKMTOpenAdapterFromLuid, D3DKMTOpenProtectedSessionFromNtHandle,
    D3DKMTOpenSyncObjectFromNtHandle2, D3DKMTQueryProtectedSessionInfoFromNtHandle, D3DKMTQueryProtectedSessionStatus,
    D3DKMTSetHwProtectionTeardownRecovery, D3DKMTSetVidPnSourceHwProtection, D3DKMTShareObjects,
    D3DKMTSignalSynchronizationObjectFromCpu, D3DKMTWaitForSynchronizationObjectFromCpu,
};
use crate::{Kernel, KernelConfig, NtStatus, Process};

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The table's file name, for messages.
    pub file: String,
    /// 1-based line number in the file, for messages.
    pub line: usize,
    /// The entry point, e.g. `D3DKMTCreateDevice`.
    pub entry: String,
    /// `null`, `zeroed`, `a5` or `scenario:NAME`.
    pub input: String,
    /// The status Windows gives.
    pub expected: NtStatus,
    /// Whether the caller's buffer must be left byte-for-byte untouched.
    pub untouched: bool,
    /// The facts the row pins, e.g. `WINE #17`.
    pub facts: String,
    /// What the row checks, in words.
    pub note: String,
}

/// What running one row gave.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The row.
    pub row: Row,
    /// The status the call under test returned.
    pub status: NtStatus,
    /// Everything that differed from the row's expectations; empty on a pass.
    pub problems: Vec<String>,
}

impl Outcome {
    /// True when the row passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

mod adapters;
mod gpu;
mod memory;
mod objects;
mod sync;

/// The tables checked into the repository: (file name, text).
pub const TABLES: &[(&str, &str)] = &[
    ("fixtures/conformance.tsv", include_str!("../../fixtures/conformance.tsv")),
    ("fixtures/conformance/adapters.tsv", include_str!("../../fixtures/conformance/adapters.tsv")),
    ("fixtures/conformance/sync.tsv", include_str!("../../fixtures/conformance/sync.tsv")),
    ("fixtures/conformance/objects.tsv", include_str!("../../fixtures/conformance/objects.tsv")),
    ("fixtures/conformance/gpu.tsv", include_str!("../../fixtures/conformance/gpu.tsv")),
    ("fixtures/conformance/memory.tsv", include_str!("../../fixtures/conformance/memory.tsv")),
];

/// The WINE facts of sections A1–A7 (`#1`–`#108` of
/// `wine-conformance-facts.md`) that cannot apply to an in-process fake,
/// with the reason: `fixtures/not-applicable.tsv`.
pub const NOT_APPLICABLE: &str = include_str!("../../fixtures/not-applicable.tsv");

/// The last fact of sections A1–A7.
pub const LAST_SECTION_A7_FACT: u32 = 108;

/// Parses [`NOT_APPLICABLE`]: (fact, reason) pairs.
pub fn not_applicable() -> Result<Vec<(u32, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in NOT_APPLICABLE.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("fact\t") {
            continue;
        }
        let (fact, reason) = line.split_once('\t').ok_or(format!("not-applicable.tsv:{}: want 2 columns", i + 1))?;
        let fact = fact.parse().map_err(|_| format!("not-applicable.tsv:{}: bad fact {fact:?}", i + 1))?;
        out.push((fact, reason.to_string()));
    }
    Ok(out)
}

/// The WINE fact numbers a facts column pins: `WINE #17`, `WINE #4, #53`.
/// A fact cited "(by analogy)" is not pinned.
pub fn wine_facts(facts: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut wine = false;
    for token in facts.split(',').map(str::trim) {
        if token.starts_with("WINE") {
            wine = true;
        } else if !token.starts_with('#') {
            wine = false;
        }
        if !wine || token.contains("analogy") {
            continue;
        }
        if let Some(n) = token.split('#').nth(1).map(|t| t.chars().take_while(char::is_ascii_digit).collect::<String>())
        {
            if let Ok(n) = n.parse() {
                out.push(n);
            }
        }
    }
    out
}

/// Every row of every checked-in table, in [`TABLES`] order.
pub fn rows() -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (file, text) in TABLES {
        rows.extend(parse_named(file, text)?);
    }
    Ok(rows)
}

/// Parses one table; `#` lines and blank lines are skipped, the header too.
pub fn parse(text: &str) -> Result<Vec<Row>, String> {
    parse_named("<table>", text)
}

/// [`parse`], naming the file in rows and messages.
pub fn parse_named(file: &str, text: &str) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("entry\t") {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 6 {
            return Err(format!("{file}:{line_no}: {} columns, want 6", cols.len()));
        }
        let expected =
            NtStatus::parse(cols[2]).ok_or_else(|| format!("{file}:{line_no}: unknown status {:?}", cols[2]))?;
        let untouched = match cols[3] {
            "yes" => true,
            "no" => false,
            other => return Err(format!("{file}:{line_no}: untouched must be yes or no, not {other:?}")),
        };
        rows.push(Row {
            file: file.to_string(),
            line: line_no,
            entry: cols[0].to_string(),
            input: cols[1].to_string(),
            expected,
            untouched,
            facts: cols[4].to_string(),
            note: cols[5].to_string(),
        });
    }
    Ok(rows)
}

/// Runs every row, each against a fresh kernel.
pub fn run_all(rows: &[Row]) -> Vec<Outcome> {
    rows.iter().map(run_row).collect()
}

/// Runs one row against a fresh kernel.
pub fn run_row(row: &Row) -> Outcome {
    let ctx = Ctx::new(KernelConfig::default());
    let _bound = ctx.a.enter();
    let mut problems = Vec::new();
    let status = match row.input.as_str() {
        "null" | "zeroed" | "a5" => match raw_call(&row.entry, &row.input) {
            Some((status, untouched)) => {
                if row.untouched && !untouched {
                    problems.push("the caller's buffer was modified".to_string());
                }
                status
            }
            None => {
                problems.push(format!("no raw call for {} with {}", row.entry, row.input));
                NtStatus(0)
            }
        },
        other => match other.strip_prefix("scenario:").and_then(|name| scenario(name)) {
            Some(f) => {
                let mut check = Check { problems: &mut problems };
                f(&ctx, &mut check)
            }
            None => {
                problems.push(format!("unknown input {other:?}"));
                NtStatus(0)
            }
        },
    };
    if status != row.expected {
        problems.insert(0, format!("status {status}, expected {}", row.expected));
    }
    if let Some((_, why)) = crate::last_error().filter(|_| status != row.expected && status.is_err()) {
        problems.push(format!("last error: {why}"));
    }
    drop(_bound);
    ctx.a.exit();
    Outcome { row: row.clone(), status, problems }
}

/// Calls `entry` with NULL or a 1024-byte buffer of 0x00 or 0xA5; returns the
/// status and whether the buffer came back unchanged.
fn raw_call(entry: &str, input: &str) -> Option<(NtStatus, bool)> {
    let fill = match input {
        "zeroed" => Some(0u8),
        "a5" => Some(0xA5),
        _ => None,
    };
    let mut buffer = [0u64; 128];
    if let Some(byte) = fill {
        buffer.fill(u64::from_ne_bytes([byte; 8]));
    }
    let before = buffer;
    let p: *mut c_void = if fill.is_some() { buffer.as_mut_ptr().cast() } else { core::ptr::null_mut() };
    let status = match entry {
        "D3DKMTEnumAdapters2" => D3DKMTEnumAdapters2(p.cast()),
        "D3DKMTEnumAdapters3" => D3DKMTEnumAdapters3(p.cast()),
        "D3DKMTOpenAdapterFromLuid" => D3DKMTOpenAdapterFromLuid(p.cast()),
        "D3DKMTCloseAdapter" => D3DKMTCloseAdapter(p.cast()),
        "D3DKMTCreateDevice" => D3DKMTCreateDevice(p.cast()),
        "D3DKMTDestroyDevice" => D3DKMTDestroyDevice(p.cast()),
        "D3DKMTGetDeviceState" => D3DKMTGetDeviceState(p.cast()),
        "D3DKMTCreateSynchronizationObject2" => D3DKMTCreateSynchronizationObject2(p.cast()),
        "D3DKMTDestroySynchronizationObject" => D3DKMTDestroySynchronizationObject(p.cast()),
        "D3DKMTSignalSynchronizationObjectFromCpu" => D3DKMTSignalSynchronizationObjectFromCpu(p.cast()),
        "D3DKMTWaitForSynchronizationObjectFromCpu" => D3DKMTWaitForSynchronizationObjectFromCpu(p.cast()),
        "D3DKMTOpenSyncObjectFromNtHandle2" => D3DKMTOpenSyncObjectFromNtHandle2(p.cast()),
        "D3DKMTCreateProtectedSession" => D3DKMTCreateProtectedSession(p.cast()),
        "D3DKMTDestroyProtectedSession" => D3DKMTDestroyProtectedSession(p.cast()),
        "D3DKMTQueryProtectedSessionStatus" => D3DKMTQueryProtectedSessionStatus(p.cast()),
        "D3DKMTQueryProtectedSessionInfoFromNtHandle" => D3DKMTQueryProtectedSessionInfoFromNtHandle(p.cast()),
        "D3DKMTOpenProtectedSessionFromNtHandle" => D3DKMTOpenProtectedSessionFromNtHandle(p.cast()),
        "D3DKMTSetHwProtectionTeardownRecovery" => D3DKMTSetHwProtectionTeardownRecovery(p.cast()),
        "D3DKMTSetVidPnSourceHwProtection" => D3DKMTSetVidPnSourceHwProtection(p.cast()),
        _ => adapters::raw_call(entry, p)
            .or_else(|| sync::raw_call(entry, p))
            .or_else(|| objects::raw_call(entry, p))
            .or_else(|| gpu::raw_call(entry, p))
            .or_else(|| memory::raw_call(entry, p))?,
    };
    Some((NtStatus(status), buffer == before))
}

/// A fresh kernel with two processes; rows act as `a` unless they bind `b`.
pub(crate) struct Ctx {
    kernel: Kernel,
    a: Process,
    b: Process,
}

/// Collects expectation failures other than the status.
struct Check<'a> {
    problems: &'a mut Vec<String>,
}

impl Check<'_> {
    fn that(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.problems.push(what.into());
        }
    }
}

type Scenario = fn(&Ctx, &mut Check<'_>) -> NtStatus;

const JUNK: u32 = 0x1ead_beed;
const SHARED_NT: u32 = 0x3;

impl Ctx {
    fn new(config: KernelConfig) -> Ctx {
        let kernel = Kernel::new(config);
        let a = kernel.create_process();
        let b = kernel.create_process();
        Ctx { kernel, a, b }
    }

    fn luid(&self) -> LUID {
        let l = self.kernel.adapter_luids()[0];
        LUID { LowPart: l.low, HighPart: l.high }
    }

    fn adapter(&self) -> u32 {
        let mut args = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: self.luid(), hAdapter: 0 };
        NtStatus(D3DKMTOpenAdapterFromLuid(&mut args)).unwrap();
        args.hAdapter
    }

    fn device(&self) -> u32 {
        let mut args = D3DKMT_CREATEDEVICE::default();
        args.Anonymous.hAdapter = self.adapter();
        NtStatus(D3DKMTCreateDevice(&mut args)).unwrap();
        args.hDevice
    }

    fn fence_args(device: u32, flags: u32, initial: u64) -> D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
        let mut args = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: device, ..Default::default() };
        args.Info.Type = D3DDDI_MONITORED_FENCE;
        args.Info.Flags.Anonymous.Value = flags;
        args.Info.Anonymous.MonitoredFence.InitialFenceValue = initial;
        args
    }

    fn fence(&self, device: u32, flags: u32) -> u32 {
        let mut args = Self::fence_args(device, flags, 0);
        NtStatus(D3DKMTCreateSynchronizationObject2(&mut args)).unwrap();
        args.hSyncObject
    }

    fn session_args(device: u32, fence: u32, driver: &[u8], runtime: &[u8]) -> D3DKMT_CREATEPROTECTEDSESSION {
        D3DKMT_CREATEPROTECTEDSESSION {
            hDevice: device,
            hSyncObject: fence,
            pPrivateDriverData: driver.as_ptr().cast(),
            PrivateDriverDataSize: driver.len() as u32,
            pPrivateRuntimeData: runtime.as_ptr().cast(),
            PrivateRuntimeDataSize: runtime.len() as u32,
            hHandle: JUNK,
        }
    }

    /// Device, shared fence and a session with blobs `DRV` and `RUNTIME`.
    fn session(&self) -> (u32, u32, u32) {
        let device = self.device();
        let fence = self.fence(device, SHARED_NT);
        let mut args = Self::session_args(device, fence, b"DRV", b"RUNTIME");
        NtStatus(D3DKMTCreateProtectedSession(&mut args)).unwrap();
        (device, fence, args.hHandle)
    }

    fn share(objects: &[u32], access: u32) -> (NtStatus, HANDLE) {
        let mut nt: HANDLE = core::ptr::null_mut();
        let status = D3DKMTShareObjects(objects.len() as u32, objects.as_ptr(), core::ptr::null(), access, &mut nt);
        (NtStatus(status), nt)
    }

    fn shared_session(&self) -> HANDLE {
        let (_, _, session) = self.session();
        let (status, nt) = Self::share(&[session], crate::access::GENERIC_ALL);
        status.unwrap();
        nt
    }
}

/// A copy of a windows-sys struct's bytes, for untouched checks.
fn bytes_of<T>(v: &T) -> Vec<u8> {
    crate::abi::ptr::read_bytes((v as *const T).cast(), size_of::<T>() as u32).expect("a reference is not NULL")
}

fn scenario(name: &str) -> Option<Scenario> {
    core_scenario(name)
        .or_else(|| adapters::scenario(name))
        .or_else(|| sync::scenario(name))
        .or_else(|| objects::scenario(name))
        .or_else(|| gpu::scenario(name))
        .or_else(|| memory::scenario(name))
}

/// Scenarios of the core table (`fixtures/conformance.tsv`).
fn core_scenario(name: &str) -> Option<Scenario> {
    Some(match name {
        "local_handles_step_0x40" => |ctx, c| {
            let adapter = ctx.adapter();
            let device = ctx.device();
            let fence = ctx.fence(device, 0);
            let mut destroy = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence };
            NtStatus(D3DKMTDestroySynchronizationObject(&destroy)).unwrap();
            let again = ctx.fence(device, 0);
            for h in [adapter, device, fence, again] {
                c.that(h != 0 && h & 0x3F == 0 && h & 0xC000_0000 != 0, format!("{h:#x} is not local-shaped"));
            }
            // ctx.device() opened a second adapter handle before the device.
            c.that(device == adapter + 0x80, format!("device {device:#x} after adapter {adapter:#x}"));
            c.that(fence == device + 0x40, format!("fence {fence:#x} after device {device:#x}"));
            c.that(again == fence + 0x40, format!("no +0x40 after a destroy: {again:#x} after {fence:#x}"));
            destroy.hSyncObject = again;
            NtStatus(D3DKMTDestroySynchronizationObject(&destroy))
        },
        "outputs_overwritten" => |ctx, c| {
            let mut open = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: ctx.luid(), hAdapter: JUNK };
            NtStatus(D3DKMTOpenAdapterFromLuid(&mut open)).unwrap();
            let mut dev = D3DKMT_CREATEDEVICE { hDevice: JUNK, ..Default::default() };
            dev.Anonymous.hAdapter = open.hAdapter;
            NtStatus(D3DKMTCreateDevice(&mut dev)).unwrap();
            let mut fence = Ctx::fence_args(dev.hDevice, SHARED_NT, 0);
            fence.hSyncObject = JUNK;
            fence.Info.SharedHandle = JUNK;
            let status = NtStatus(D3DKMTCreateSynchronizationObject2(&mut fence));
            for (what, v) in [("hAdapter", open.hAdapter), ("hDevice", dev.hDevice), ("hSyncObject", fence.hSyncObject)]
            {
                c.that(v != JUNK && v != 0, format!("{what} not written"));
            }
            c.that(fence.Info.SharedHandle == 0, "SharedHandle of an NT-shared fence is not 0 (WINE #53)");
            status
        },
        "nt_handle_shape" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, SHARED_NT);
            let (status, nt) = Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS);
            let v = nt as usize as u64;
            c.that(v != 0 && v % 4 == 0 && v & 0xC000_0000 == 0, format!("NT handle {v:#x} is D3DKMT-shaped"));
            status
        },
        "enum2_capacity" => |_, c| {
            let mut args = D3DKMT_ENUMADAPTERS2 { NumAdapters: 0, pAdapters: core::ptr::null_mut() };
            let status = NtStatus(D3DKMTEnumAdapters2(&mut args));
            c.that(args.NumAdapters == 34, format!("NumAdapters {} with a NULL array, want 34", args.NumAdapters));
            status
        },
        "enum2_list" => |_, c| {
            let mut infos = vec![D3DKMT_ADAPTERINFO::default(); 34];
            let mut args = D3DKMT_ENUMADAPTERS2 { NumAdapters: 34, pAdapters: infos.as_mut_ptr() };
            let status = NtStatus(D3DKMTEnumAdapters2(&mut args));
            c.that(args.NumAdapters == 1, format!("NumAdapters {}", args.NumAdapters));
            let info = infos[0];
            c.that(info.hAdapter & 0x3F == 0 && info.hAdapter != 0, "hAdapter not a local handle");
            c.that(info.AdapterLuid.LowPart != 0 || info.AdapterLuid.HighPart != 0, "zero LUID");
            let close = D3DKMT_CLOSEADAPTER { hAdapter: info.hAdapter };
            c.that(D3DKMTCloseAdapter(&close) == 0, "CloseAdapter on an enumerated handle failed");
            c.that(D3DKMTCloseAdapter(&close) != 0, "CloseAdapter twice succeeded");
            status
        },
        "enum2_zero_room" => |_, c| {
            let mut infos = vec![D3DKMT_ADAPTERINFO::default(); 4];
            let mut args = D3DKMT_ENUMADAPTERS2 { NumAdapters: 0, pAdapters: infos.as_mut_ptr() };
            let before = bytes_of(&args);
            let status = NtStatus(D3DKMTEnumAdapters2(&mut args));
            c.that(bytes_of(&args) == before, "struct modified on failure");
            status
        },
        "enum3_filters" => |_, c| {
            let mut infos = vec![D3DKMT_ADAPTERINFO::default(); 4];
            let mut args = D3DKMT_ENUMADAPTERS3 { NumAdapters: 4, pAdapters: infos.as_mut_ptr(), ..Default::default() };
            let status = NtStatus(D3DKMTEnumAdapters3(&mut args));
            c.that(args.NumAdapters == 1, format!("NumAdapters {}", args.NumAdapters));
            status
        },
        "open_from_luid" => |ctx, c| {
            let mut args = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: ctx.luid(), hAdapter: JUNK };
            let status = NtStatus(D3DKMTOpenAdapterFromLuid(&mut args));
            c.that(args.hAdapter != JUNK && args.hAdapter & 0x3F == 0, "no local hAdapter");
            let close = D3DKMT_CLOSEADAPTER { hAdapter: args.hAdapter };
            c.that(D3DKMTCloseAdapter(&close) == 0, "CloseAdapter failed");
            status
        },
        "open_unknown_luid" => |_, c| {
            let mut args =
                D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: LUID { LowPart: 0x9999, HighPart: 7 }, hAdapter: JUNK };
            let status = NtStatus(D3DKMTOpenAdapterFromLuid(&mut args));
            c.that(args.hAdapter == JUNK, "hAdapter written on failure");
            status
        },
        "create_device_legacy_outputs" => |ctx, c| {
            let mut args = D3DKMT_CREATEDEVICE {
                hDevice: JUNK,
                pCommandBuffer: 8 as *mut c_void,
                CommandBufferSize: 8,
                pAllocationList: 8 as *mut _,
                AllocationListSize: 8,
                pPatchLocationList: 8 as *mut _,
                PatchLocationListSize: 8,
                ..Default::default()
            };
            args.Anonymous.hAdapter = ctx.adapter();
            let status = NtStatus(D3DKMTCreateDevice(&mut args));
            c.that(args.pCommandBuffer.is_null() && args.CommandBufferSize == 0, "command buffer not NULL/0");
            c.that(args.pAllocationList.is_null() && args.AllocationListSize == 0, "allocation list not NULL/0");
            c.that(args.pPatchLocationList.is_null() && args.PatchLocationListSize == 0, "patch list not NULL/0");
            status
        },
        "destroy_device_twice" => |ctx, _| {
            let args = D3DKMT_DESTROYDEVICE { hDevice: ctx.device() };
            NtStatus(D3DKMTDestroyDevice(&args)).unwrap();
            NtStatus(D3DKMTDestroyDevice(&args))
        },
        "device_destroy_closes_children" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, 0);
            NtStatus(D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: device })).unwrap();
            c.that(ctx.kernel.live_objects(crate::ObjectKind::SyncObject) == 0, "fence outlived its device");
            NtStatus(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence }))
        },
        "destroy_sync_twice" => |ctx, _| {
            let fence = ctx.fence(ctx.device(), 0);
            let args = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence };
            NtStatus(D3DKMTDestroySynchronizationObject(&args)).unwrap();
            NtStatus(D3DKMTDestroySynchronizationObject(&args))
        },
        "sync2_type_without_device" => |_, c| {
            let mut args = Ctx::fence_args(0, 0, 0);
            let before = bytes_of(&args);
            let status = NtStatus(D3DKMTCreateSynchronizationObject2(&mut args));
            c.that(bytes_of(&args) == before, "struct modified on failure");
            status
        },
        "sync2_device_without_type" => |ctx, _| {
            let mut args = Ctx::fence_args(ctx.device(), 0, 0);
            args.Info.Type = 0;
            NtStatus(D3DKMTCreateSynchronizationObject2(&mut args))
        },
        "monitored_fence_create" => |ctx, c| {
            let mut args = Ctx::fence_args(ctx.device(), 0, 42);
            args.hSyncObject = JUNK;
            let status = NtStatus(D3DKMTCreateSynchronizationObject2(&mut args));
            // MonitoredFence: InitialFenceValue @0, CPU VA @8, GPU VA @16.
            let cpu_va: usize = crate::abi::ptr::read_at(&args.Info.Anonymous, 8);
            let gpu_va: u64 = crate::abi::ptr::read_at(&args.Info.Anonymous, 16);
            let va = read_u64(cpu_va as *mut c_void);
            c.that(va == Some(42), format!("CPU VA reads {va:?}, want 42"));
            c.that(gpu_va != 0, "no GPU VA");
            c.that(args.hSyncObject != JUNK, "hSyncObject not written");
            status
        },
        "nt_sharing_without_shared" => |ctx, _| {
            let mut args = Ctx::fence_args(ctx.device(), 0x2, 0);
            NtStatus(D3DKMTCreateSynchronizationObject2(&mut args))
        },
        "monitored_fence_global_share" => |ctx, _| {
            let mut args = Ctx::fence_args(ctx.device(), 0x1, 0);
            NtStatus(D3DKMTCreateSynchronizationObject2(&mut args))
        },
        "signal_and_wait_from_cpu" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, 0);
            let value = 7u64;
            let signal = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
                hDevice: device,
                ObjectCount: 1,
                ObjectHandleArray: &fence,
                FenceValueArray: &value,
                ..Default::default()
            };
            NtStatus(D3DKMTSignalSynchronizationObjectFromCpu(&signal)).unwrap();
            c.that(ctx.a.fence_value(crate::LocalHandle(fence)) == Ok(7), "fence not at 7");
            let wait = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
                hDevice: device,
                ObjectCount: 1,
                ObjectHandleArray: &fence,
                FenceValueArray: &value,
                ..Default::default()
            };
            NtStatus(D3DKMTWaitForSynchronizationObjectFromCpu(&wait))
        },
        "share_unshared_fence" => |ctx, _| {
            let fence = ctx.fence(ctx.device(), 0);
            Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS).0
        },
        "share_stale_handle" => |ctx, _| {
            let fence = ctx.fence(ctx.device(), SHARED_NT);
            NtStatus(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence }))
                .unwrap();
            Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS).0
        },
        "share_two_fences" => |ctx, _| {
            let device = ctx.device();
            let (f1, f2) = (ctx.fence(device, SHARED_NT), ctx.fence(device, SHARED_NT));
            Ctx::share(&[f1, f2], crate::access::SYNC_ALL_ACCESS).0
        },
        "destroy_sync_with_nt_handle" => |ctx, _| {
            let fence = ctx.fence(ctx.device(), SHARED_NT);
            let (_, nt) = Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS);
            let args = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: nt as usize as u32 };
            NtStatus(D3DKMTDestroySynchronizationObject(&args))
        },
        "nt_handle_keeps_fence_alive" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, SHARED_NT);
            let (_, nt) = Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS);
            NtStatus(D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: fence }))
                .unwrap();
            c.that(
                ctx.kernel.live_objects(crate::ObjectKind::SyncObject) == 1,
                "fence died with its last D3DKMT handle",
            );
            let mut open = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt, hDevice: device, ..Default::default() };
            NtStatus(D3DKMTOpenSyncObjectFromNtHandle2(&mut open))
        },
        "open_sync2_without_device" => |ctx, _| {
            let fence = ctx.fence(ctx.device(), SHARED_NT);
            let (_, nt) = Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS);
            let mut open = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt, hDevice: 0, ..Default::default() };
            NtStatus(D3DKMTOpenSyncObjectFromNtHandle2(&mut open))
        },
        "open_sync2_flags_cleared" => |ctx, c| {
            let device = ctx.device();
            let fence = ctx.fence(device, SHARED_NT);
            let (_, nt) = Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS);
            let mut open = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt, hDevice: device, ..Default::default() };
            open.Flags.Anonymous.Value = SHARED_NT;
            open.hSyncObject = JUNK;
            let status = NtStatus(D3DKMTOpenSyncObjectFromNtHandle2(&mut open));
            let flags: u32 = crate::abi::ptr::read_prefix(&open.Flags);
            c.that(flags & 3 == 0, "Shared/NtSecuritySharing reported set after open");
            c.that(open.hSyncObject != JUNK && open.hSyncObject != fence, "no new local handle");
            // The opened handle can be shared again (WINE #97).
            c.that(Ctx::share(&[open.hSyncObject], crate::access::READ_CONTROL).0.is_ok(), "reshare failed");
            status
        },
        "open_sync2_closed_nt_handle" => |ctx, _| {
            let device = ctx.device();
            let fence = ctx.fence(device, SHARED_NT);
            let (_, nt) = Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS);
            ctx.a.close_nt_handle(crate::NtHandle::from_ptr(nt)).unwrap();
            let mut open = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 { hNtHandle: nt, hDevice: device, ..Default::default() };
            NtStatus(D3DKMTOpenSyncObjectFromNtHandle2(&mut open))
        },
        "session_round_trip" => |ctx, c| {
            let nt = ctx.shared_session();
            let nt_b = ctx
                .a
                .duplicate_nt_handle(
                    crate::NtHandle::from_ptr(nt),
                    &ctx.b,
                    0,
                    crate::DuplicateOptions { close_source: true, same_access: true },
                )
                .expect("duplicate");
            let _b = ctx.b.enter();
            let mut info =
                D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE { hNtHandle: nt_b.as_ptr(), ..Default::default() };
            NtStatus(D3DKMTQueryProtectedSessionInfoFromNtHandle(&mut info)).unwrap();
            c.that(info.PrivateDriverDataSize == 3 && info.PrivateRuntimeDataSize == 7, "blob sizes");
            let (mut drv, mut rt) = ([0u8; 3], [0u8; 7]);
            info.pPrivateDriverData = drv.as_mut_ptr().cast();
            info.pPrivateRuntimeData = rt.as_mut_ptr().cast();
            NtStatus(D3DKMTQueryProtectedSessionInfoFromNtHandle(&mut info)).unwrap();
            c.that(&drv == b"DRV" && &rt == b"RUNTIME", "blobs not copied out");
            let mut open = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: nt_b.as_ptr(), hHandle: JUNK };
            let status = NtStatus(D3DKMTOpenProtectedSessionFromNtHandle(&mut open));
            let mut query = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: open.hHandle, Status: 7 };
            c.that(D3DKMTQueryProtectedSessionStatus(&mut query) == 0 && query.Status == 0, "status not OK");
            status
        },
        "session_not_supported" => |_, c| {
            let mut config = KernelConfig::default();
            config.adapters[0].protected_sessions = false;
            let other = Ctx::new(config);
            let _bound = other.a.enter();
            let device = other.device();
            let fence = other.fence(device, 0);
            let mut args = Ctx::session_args(device, fence, b"x", b"");
            let before = bytes_of(&args);
            let status = NtStatus(D3DKMTCreateProtectedSession(&mut args));
            c.that(bytes_of(&args) == before, "struct modified on failure");
            status
        },
        "session_fence_not_a_fence" => |ctx, _| {
            let device = ctx.device();
            let mut args = Ctx::session_args(device, device, b"", b"");
            NtStatus(D3DKMTCreateProtectedSession(&mut args))
        },
        "session_null_blob_with_size" => |ctx, _| {
            let device = ctx.device();
            let fence = ctx.fence(device, 0);
            let mut args = Ctx::session_args(device, fence, b"", b"");
            args.pPrivateDriverData = core::ptr::null();
            args.PrivateDriverDataSize = 4;
            NtStatus(D3DKMTCreateProtectedSession(&mut args))
        },
        "session_destroy_twice" => |ctx, _| {
            let (_, _, session) = ctx.session();
            let mut args = D3DKMT_DESTROYPROTECTEDSESSION { hHandle: session };
            NtStatus(D3DKMTDestroyProtectedSession(&mut args)).unwrap();
            NtStatus(D3DKMTDestroyProtectedSession(&mut args))
        },
        "session_foreign_handle" => |ctx, c| {
            let (_, _, session) = ctx.session();
            let _b = ctx.b.enter();
            let mut query = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: session, Status: 7 };
            let status = NtStatus(D3DKMTQueryProtectedSessionStatus(&mut query));
            c.that(query.Status == 7, "Status written on failure");
            status
        },
        "session_closed_nt_handle" => |ctx, _| {
            let nt = ctx.shared_session();
            ctx.a.close_nt_handle(crate::NtHandle::from_ptr(nt)).unwrap();
            let mut open = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: nt, hHandle: JUNK };
            NtStatus(D3DKMTOpenProtectedSessionFromNtHandle(&mut open))
        },
        "session_foreign_nt_handle" => |ctx, _| {
            let nt = ctx.shared_session();
            let _b = ctx.b.enter();
            let mut info = D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE { hNtHandle: nt, ..Default::default() };
            NtStatus(D3DKMTQueryProtectedSessionInfoFromNtHandle(&mut info))
        },
        "session_wrong_type_nt_handle" => |ctx, _| {
            let fence = ctx.fence(ctx.device(), SHARED_NT);
            let (_, nt) = Ctx::share(&[fence], crate::access::SYNC_ALL_ACCESS);
            let mut open = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: nt, hHandle: JUNK };
            NtStatus(D3DKMTOpenProtectedSessionFromNtHandle(&mut open))
        },
        "session_info_short_buffer" => |ctx, c| {
            let nt = ctx.shared_session();
            let mut drv = [0u8; 2];
            let mut info = D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE {
                hNtHandle: nt,
                pPrivateDriverData: drv.as_mut_ptr().cast(),
                PrivateDriverDataSize: 2,
                ..Default::default()
            };
            let before = bytes_of(&info);
            let status = NtStatus(D3DKMTQueryProtectedSessionInfoFromNtHandle(&mut info));
            c.that(bytes_of(&info) == before && drv == [0, 0], "struct or buffer modified on failure");
            status
        },
        "session_nt_handle_without_read" => |ctx, _| {
            let (_, _, session) = ctx.session();
            let (status, nt) = Ctx::share(&[session], 0);
            status.unwrap();
            let mut open = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: nt, hHandle: JUNK };
            NtStatus(D3DKMTOpenProtectedSessionFromNtHandle(&mut open))
        },
        "session_status_fence_bumps" => |ctx, c| {
            let (_, fence, session) = ctx.session();
            let key = ctx.a.protected_session_key(crate::LocalHandle(session)).expect("key");
            let fence = crate::LocalHandle(fence);
            let v0 = ctx.a.fence_value(fence).unwrap_or(u64::MAX);
            c.that(ctx.kernel.set_protected_session_status(key, crate::SessionStatus::Invalid).is_ok(), "set INVALID");
            let mut query = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: session, Status: 7 };
            let status = NtStatus(D3DKMTQueryProtectedSessionStatus(&mut query));
            c.that(query.Status == 1, "status not INVALID");
            c.that(ctx.a.fence_value(fence) == Ok(v0 + 1), "no fence bump on OK→INVALID");
            let _ = ctx.kernel.set_protected_session_status(key, crate::SessionStatus::Invalid);
            c.that(ctx.a.fence_value(fence) == Ok(v0 + 1), "a non-change bumped the fence");
            let _ = ctx.kernel.set_protected_session_status(key, crate::SessionStatus::Ok);
            c.that(ctx.a.fence_value(fence) == Ok(v0 + 2), "no fence bump on INVALID→OK");
            status
        },
        "share_objects_null_out" => |ctx, _| {
            let fence = ctx.fence(ctx.device(), SHARED_NT);
            NtStatus(D3DKMTShareObjects(1, &fence, core::ptr::null(), 0, core::ptr::null_mut()))
        },
        "share_objects_zero_count" => |_, _| {
            let mut nt: HANDLE = core::ptr::null_mut();
            NtStatus(D3DKMTShareObjects(0, core::ptr::null(), core::ptr::null(), 0, &mut nt))
        },
        "share_objects_bad_attributes" => |ctx, _| {
            let fence = ctx.fence(ctx.device(), SHARED_NT);
            let attributes = OBJECT_ATTRIBUTES { Length: 7, ..Default::default() };
            let mut nt: HANDLE = core::ptr::null_mut();
            NtStatus(D3DKMTShareObjects(1, &fence, &attributes, 0, &mut nt))
        },
        "share_objects_name_collision" => |ctx, c| {
            let device = ctx.device();
            let (f1, f2) = (ctx.fence(device, SHARED_NT), ctx.fence(device, SHARED_NT));
            let name: Vec<u16> = "\\BaseNamedObjects\\Fence".encode_utf16().collect();
            let upper: Vec<u16> = "\\BASENAMEDOBJECTS\\FENCE".encode_utf16().collect();
            let share = |h: &u32, n: &[u16]| {
                let s = UNICODE_STRING {
                    Length: (n.len() * 2) as u16,
                    MaximumLength: (n.len() * 2) as u16,
                    Buffer: n.as_ptr().cast_mut(),
                };
                let attributes = OBJECT_ATTRIBUTES {
                    Length: size_of::<OBJECT_ATTRIBUTES>() as u32,
                    ObjectName: &s,
                    ..Default::default()
                };
                let mut nt: HANDLE = core::ptr::null_mut();
                (NtStatus(D3DKMTShareObjects(1, h, &attributes, crate::access::SYNC_ALL_ACCESS, &mut nt)), nt)
            };
            let (first, nt) = share(&f1, &name);
            c.that(first.is_ok(), "first named share failed");
            let status = share(&f2, &upper).0;
            // The name goes with the last NT handle (WINE #100).
            ctx.a.close_nt_handle(crate::NtHandle::from_ptr(nt)).expect("close");
            c.that(share(&f2, &upper).0.is_ok(), "name not freed by the last NT handle");
            status
        },
        _ => return None,
    })
}

/// Reads a `u64` at a CPU VA a call returned, through the pointer fence.
fn read_u64(p: *mut c_void) -> Option<u64> {
    crate::abi::ptr::read_array(p.cast::<u64>().cast_const(), 1).map(|v| v[0])
}

/// Prints the outcomes as a table, and a summary line; returns true if all passed.
pub fn report(outcomes: &[Outcome], out: &mut impl std::io::Write) -> std::io::Result<bool> {
    let width = outcomes.iter().map(|o| o.row.entry.len()).max().unwrap_or(10);
    let input_width = outcomes.iter().map(|o| o.row.input.len()).max().unwrap_or(10);
    writeln!(out, "{:<4}  {:<width$}  {:<input_width$}  {:<28}  facts", "", "entry point", "input", "status")?;
    for o in outcomes {
        let mark = if o.passed() { "ok" } else { "FAIL" };
        let name = o.status.name().map(str::to_string).unwrap_or_else(|| format!("{:#010X}", o.status.0 as u32));
        writeln!(
            out,
            "{mark:<4}  {:<width$}  {:<input_width$}  {name:<28}  {}",
            o.row.entry, o.row.input, o.row.facts
        )?;
        for p in &o.problems {
            writeln!(out, "        {}:{}: {p}", o.row.file, o.row.line)?;
        }
    }
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let failed = outcomes.len() - passed;
    let pinned: std::collections::BTreeSet<u32> = outcomes
        .iter()
        .filter(|o| o.passed())
        .flat_map(|o| wine_facts(&o.row.facts))
        .filter(|&n| (1..=LAST_SECTION_A7_FACT).contains(&n))
        .collect();
    let na: std::collections::BTreeSet<u32> =
        not_applicable().unwrap_or_default().into_iter().map(|(n, _)| n).collect();
    let elsewhere: Vec<String> = (1..=LAST_SECTION_A7_FACT)
        .filter(|n| !pinned.contains(n) && !na.contains(n))
        .map(|n| format!("#{n}"))
        .collect();
    writeln!(
        out,
        "\nWINE facts of sections A1-A7 (#1-#{LAST_SECTION_A7_FACT}): {} pinned by passing rows here, {} not applicable \
         (fixtures/not-applicable.tsv), {} pinned only by integration tests (tests/facts.rs checks){}{}",
        pinned.len(),
        na.len(),
        elsewhere.len(),
        if elsewhere.is_empty() { "" } else { ": " },
        elsewhere.join(" ")
    )?;
    writeln!(out, "conformance: {passed} passed, {failed} failed")?;
    Ok(failed == 0)
}
