//! The executor: runs ops through the C ABI and checks the kernel against
//! the model after every step.
//!
//! Every `D3DKMT*` call goes through the exported symbol, with the calling
//! thread bound to the op's process, exactly as C code calls it; NT-handle
//! close and duplicate, device removal and process exit go through the
//! `d3dkmt_emu_*` control API; the KMD's status flip through
//! [`Kernel::set_protected_session_status`], as a KMD calls it.

use std::collections::{BTreeMap, BTreeSet};
use std::ptr::null_mut;

use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MONITORED_FENCE, D3DDDI_SYNCHRONIZATION_MUTEX, D3DKMT_ACQUIREKEYEDMUTEX, D3DKMT_CLOSEADAPTER,
    D3DKMT_CREATEDEVICE, D3DKMT_CREATEKEYEDMUTEX, D3DKMT_CREATEKEYEDMUTEX2, D3DKMT_CREATEPROTECTEDSESSION,
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2, D3DKMT_DESTROYDEVICE, D3DKMT_DESTROYKEYEDMUTEX,
    D3DKMT_DESTROYPROTECTEDSESSION, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT, D3DKMT_OPENADAPTERFROMLUID,
    D3DKMT_OPENKEYEDMUTEX, D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE, D3DKMT_OPENSYNCHRONIZATIONOBJECT,
    D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2, D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME,
    D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE, D3DKMT_QUERYPROTECTEDSESSIONSTATUS, D3DKMT_RELEASEKEYEDMUTEX,
    D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU, D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU,
};
use windows_sys::Wdk::Graphics::Direct3D::{D3DKMT_CREATECONTEXTVIRTUAL, D3DKMT_DESTROYCONTEXT};
use windows_sys::Win32::Foundation::{HANDLE, LUID, UNICODE_STRING};

use super::model::{KeyedMutexState, Model, NAMES, Object};
use super::ops::{FAULT_ENTRIES, FAULT_STATUSES, Op, PROCESSES, Sel};
use crate::abi::control::{
    d3dkmt_emu_kmd_remove_device, d3dkmt_emu_nt_close, d3dkmt_emu_nt_duplicate, d3dkmt_emu_process,
    d3dkmt_emu_process_exit,
};
use crate::abi::exports as x;
use crate::abi::ptr::{bytes_of, read_at};
use crate::{HandleKind, Kernel, LocalHandle, NtStatus, ObjectKind, Process, SessionKey, SessionStatus};

/// The blobs every fuzzed session is created with.
const DRIVER_DATA: &[u8] = b"fuzz-driver";
const RUNTIME_DATA: &[u8] = b"fuzz-runtime";

/// What one step did: the status the kernel answered (equal to the model's
/// prediction, or the step failed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The status.
    pub status: NtStatus,
}

/// Counters of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Ops run.
    pub ops: u64,
    /// Individual invariant comparisons made.
    pub checks: u64,
}

/// Runs ops against one kernel with [`PROCESSES`] fresh processes, checking
/// each against the model.
pub struct Executor {
    kernel: Kernel,
    procs: Vec<Process>,
    /// The same processes as control-API handles.
    controls: Vec<d3dkmt_emu_process>,
    model: Model,
    luid: LUID,
    /// The last value seen of each fence, to check fences only grow.
    seen: Vec<u64>,
    /// Counters.
    pub stats: Stats,
    /// The armed faults (disarmed when the executor goes).
    faults: Vec<crate::FaultGuard>,
    /// Keeps the thread a participant of the kernel's clock for the whole
    /// run, so that each op's own binding is a cheap nested one.
    _anchor: crate::Binding,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor").field("kernel", &self.kernel).field("stats", &self.stats).finish()
    }
}

/// Returns `Err(message)` from the enclosing function if `a != b`.
macro_rules! ensure_eq {
    ($a:expr, $b:expr, $($why:tt)+) => {{
        let (a, b) = (&$a, &$b);
        if a != b {
            return Err(format!("{}: kernel {:?}, model {:?}", format!($($why)+), a, b));
        }
    }};
}

fn kind_of(o: &Object) -> HandleKind {
    match o {
        Object::Adapter => HandleKind::Adapter,
        Object::Device { .. } => HandleKind::Device,
        Object::Fence { .. } | Object::SyncMutex { .. } => HandleKind::SyncObject,
        Object::Session { .. } => HandleKind::ProtectedSession,
        Object::KeyedMutex { .. } => HandleKind::KeyedMutex,
        Object::Context => HandleKind::Context,
    }
}

/// Calls an export on `args`; returns its status, and whether the struct
/// came back byte for byte as it went in.
fn call<T: Copy>(args: &mut T, f: extern "system" fn(*mut T) -> i32) -> (NtStatus, bool) {
    let before = bytes_of(args);
    let status = NtStatus(f(args));
    (status, bytes_of(args) == before)
}

fn call_ref<T: Copy>(args: &T, f: extern "system" fn(*const T) -> i32) -> (NtStatus, bool) {
    let before = bytes_of(args);
    let status = NtStatus(f(args));
    (status, bytes_of(args) == before)
}

impl Executor {
    /// A fresh kernel of [`crate::KernelConfig::default`] and its processes.
    pub fn new_default() -> Executor {
        Executor::new(Kernel::new(crate::KernelConfig::default()))
    }

    /// Creates [`PROCESSES`] processes on `kernel`. The model assumes the
    /// kernel's default policies, that its first adapter supports protected
    /// sessions, that its KMD accepts every session, and that no object is
    /// alive in it yet.
    pub fn new(kernel: Kernel) -> Executor {
        let procs: Vec<Process> = (0..PROCESSES).map(|_| kernel.create_process()).collect();
        let controls = procs.iter().map(|p| d3dkmt_emu_process(p.clone())).collect();
        let l = kernel.adapter_luids()[0];
        let anchor = procs[0].enter();
        Executor {
            _anchor: anchor,
            faults: Vec::new(),
            luid: LUID { LowPart: l.low, HighPart: l.high },
            kernel,
            procs,
            controls,
            model: Model::new(),
            seen: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// The kernel under test.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// The processes, in op order.
    pub fn processes(&self) -> &[Process] {
        &self.procs
    }

    /// The model, as it stands.
    pub fn model(&self) -> &Model {
        &self.model
    }

    fn control(&self, p: usize) -> *const d3dkmt_emu_process {
        &self.controls[p]
    }

    // ----------------------------------------------------------------------
    // Resolving symbolic handles

    fn local(&self, p: usize, sel: Sel, want: impl Fn(&Object) -> bool) -> u32 {
        let mp = &self.model.procs[p];
        match sel {
            Sel::Live(i) => {
                // No allocation: count, then take the n-th.
                let is_wanted = |(_, r): &(&u32, &super::model::LocalRef)| want(&self.model.objects[r.obj]);
                let wanted = mp.local.iter().filter(is_wanted).count();
                if wanted > 0 {
                    mp.local.iter().filter(is_wanted).nth(i as usize % wanted).map_or(0, |(h, _)| *h)
                } else {
                    mp.local.keys().nth(i as usize % mp.local.len().max(1)).copied().unwrap_or(0)
                }
            }
            Sel::Stale(i) => mp.stale_local.get(i as usize % mp.stale_local.len().max(1)).copied().unwrap_or(0),
            Sel::Foreign(i) => {
                let other = &self.model.procs[(p + 1 + i as usize % (PROCESSES - 1)) % PROCESSES];
                let all: Vec<u32> = other.local.keys().copied().collect();
                all.get(i as usize / 2 % all.len().max(1)).copied().unwrap_or(0)
            }
            Sel::Garbage(v) => v,
        }
    }

    /// An NT handle: `Live` picks among those whose object `want`s, or any.
    fn nt(&self, p: usize, sel: Sel, want: impl Fn(&Object) -> bool) -> u64 {
        let mp = &self.model.procs[p];
        match sel {
            Sel::Live(i) => {
                let target = |r: &super::model::NtRef| &self.model.objects[self.model.nts[r.nt].target];
                let wanted = mp.nt.values().filter(|r| want(target(r))).count();
                if wanted > 0 {
                    mp.nt.iter().filter(|(_, r)| want(target(r))).nth(i as usize % wanted).map_or(0, |(h, _)| *h)
                } else {
                    mp.nt.keys().nth(i as usize % mp.nt.len().max(1)).copied().unwrap_or(0)
                }
            }
            Sel::Stale(i) => mp.stale_nt.get(i as usize % mp.stale_nt.len().max(1)).copied().unwrap_or(0),
            Sel::Foreign(i) => {
                let other = &self.model.procs[(p + 1 + i as usize % (PROCESSES - 1)) % PROCESSES];
                let all: Vec<u64> = other.nt.keys().copied().collect();
                all.get(i as usize / 2 % all.len().max(1)).copied().unwrap_or(0)
            }
            Sel::Garbage(v) => u64::from(v),
        }
    }

    fn global(&self, p: usize, sel: Sel, keyed: bool) -> u32 {
        let globals: Vec<u32> = self
            .model
            .globals
            .iter()
            .filter(|(_, o)| matches!(self.model.objects[*o], Object::KeyedMutex { .. }) == keyed)
            .map(|(g, _)| *g)
            .collect();
        match sel {
            Sel::Live(i) | Sel::Stale(i) => globals.get(i as usize % globals.len().max(1)).copied().unwrap_or(0),
            // A local handle is not a global handle.
            Sel::Foreign(i) => self.local(p, Sel::Live(i), |_| true),
            Sel::Garbage(v) => v,
        }
    }

    fn session_key(&self, sel: Sel) -> u64 {
        let keys: Vec<u64> = self
            .model
            .sessions
            .iter()
            .filter_map(|&o| match self.model.objects[o] {
                Object::Session { key, .. } => Some(key),
                _ => None,
            })
            .collect();
        match sel {
            Sel::Live(i) | Sel::Stale(i) | Sel::Foreign(i) => {
                keys.get(i as usize % keys.len().max(1)).copied().unwrap_or(0)
            }
            Sel::Garbage(v) => u64::from(v),
        }
    }

    // ----------------------------------------------------------------------
    // Running one op

    /// Runs one op: resolves it, calls the kernel, compares the status and
    /// outputs with the model's, updates the model, and checks the
    /// invariants. `Err` says what differed.
    pub fn step(&mut self, op: &Op) -> Result<Outcome, String> {
        self.stats.ops += 1;
        let status = self.run(op)?;
        if status == NtStatus::SUCCESS {
            self.check()?;
        } else {
            self.check_counts()?;
        }
        Ok(Outcome { status })
    }

    fn run(&mut self, op: &Op) -> Result<NtStatus, String> {
        let is_device = |o: &Object| matches!(o, Object::Device { .. });
        let is_adapter = |o: &Object| matches!(o, Object::Adapter);
        let is_sync = |o: &Object| matches!(o, Object::Fence { .. } | Object::SyncMutex { .. });
        let is_fence = |o: &Object| matches!(o, Object::Fence { .. });
        let is_session = |o: &Object| matches!(o, Object::Session { .. });
        let is_keyed = |o: &Object| matches!(o, Object::KeyedMutex { .. });
        let p = op.process().unwrap_or(0);
        // An armed fault answers the call in its place: that status, no effect.
        // A wait that would block is skipped, and so does not spend a fault.
        let skipped = match *op {
            Op::Wait { device, sync, value, .. } => {
                let d = self.local(p, device, |o| matches!(o, Object::Device { .. }));
                let h = self.local(p, sync, |o| matches!(o, Object::Fence { .. }));
                self.model.expect_wait(p, d, h, u64::from(value)).is_none()
            }
            _ => false,
        };
        let injected = entry_of(op).filter(|_| !skipped).and_then(|entry| self.model.take_fault(p, entry));
        // Every D3DKMT call acts as the bound process.
        let process = self.procs[p].clone();
        let _bound = process.enter();
        let (status, untouched, expected) = match *op {
            Op::OpenAdapter { .. } => {
                let e = injected.unwrap_or_else(|| self.model.expect_open_adapter(p));
                let mut a = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: self.luid, hAdapter: 0 };
                let (s, u) = call(&mut a, x::D3DKMTOpenAdapterFromLuid);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_open_adapter(p, a.hAdapter)?;
                }
                (s, u, e)
            }
            Op::CloseAdapter { adapter, .. } => {
                let h = self.local(p, adapter, is_adapter);
                let e = injected.unwrap_or_else(|| self.model.expect_close_adapter(p, h));
                let a = D3DKMT_CLOSEADAPTER { hAdapter: h };
                let (s, u) = call_ref(&a, x::D3DKMTCloseAdapter);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_close_adapter(p, h);
                }
                (s, u, e)
            }
            Op::CreateDevice { adapter, .. } => {
                let h = self.local(p, adapter, is_adapter);
                let e = injected.unwrap_or_else(|| self.model.expect_create_device(p, h));
                let mut a = D3DKMT_CREATEDEVICE { hDevice: 0, ..Default::default() };
                a.Anonymous.hAdapter = h;
                let (s, u) = call(&mut a, x::D3DKMTCreateDevice);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_create_device(p, a.hDevice)?;
                }
                (s, u, e)
            }
            Op::DestroyDevice { device, .. } => {
                let h = self.local(p, device, is_device);
                let e = injected.unwrap_or_else(|| self.model.expect_destroy_device(p, h));
                let a = D3DKMT_DESTROYDEVICE { hDevice: h };
                let (s, u) = call_ref(&a, x::D3DKMTDestroyDevice);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_destroy_device(p, h);
                }
                (s, u, e)
            }
            Op::CreateFence { device, nt_shared, initial, .. } => {
                let d = self.local(p, device, is_device);
                let e = injected.unwrap_or_else(|| self.model.expect_create_sync(p, d));
                let mut a = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: d, ..Default::default() };
                a.Info.Type = D3DDDI_MONITORED_FENCE;
                a.Info.Flags.Anonymous.Value = if nt_shared { 0x3 } else { 0 };
                a.Info.Anonymous.MonitoredFence.InitialFenceValue = u64::from(initial);
                let (s, u) = call(&mut a, x::D3DKMTCreateSynchronizationObject2);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    if a.Info.SharedHandle != 0 {
                        return Err(format!(
                            "a monitored fence came back with global handle {:#x}",
                            a.Info.SharedHandle
                        ));
                    }
                    // MonitoredFence: InitialFenceValue, then FenceValueCPUVirtualAddress.
                    let cpu_va: u64 = read_at(&a.Info.Anonymous, 8);
                    self.model.apply_create_fence(p, d, a.hSyncObject, nt_shared, u64::from(initial), cpu_va)?;
                }
                (s, u, e)
            }
            Op::CreateSyncMutex { device, shared, .. } => {
                let d = self.local(p, device, is_device);
                let e = injected.unwrap_or_else(|| self.model.expect_create_sync(p, d));
                let mut a = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 { hDevice: d, ..Default::default() };
                a.Info.Type = D3DDDI_SYNCHRONIZATION_MUTEX;
                a.Info.Flags.Anonymous.Value = u32::from(shared);
                let (s, u) = call(&mut a, x::D3DKMTCreateSynchronizationObject2);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_create_sync_mutex(p, d, a.hSyncObject, shared, a.Info.SharedHandle)?;
                }
                (s, u, e)
            }
            Op::OpenSyncGlobal { global, .. } => {
                let g = self.global(p, global, false);
                let e = injected.unwrap_or_else(|| self.model.expect_open_sync_global(p, g));
                let mut a = D3DKMT_OPENSYNCHRONIZATIONOBJECT { hSharedHandle: g, ..Default::default() };
                let (s, u) = call(&mut a, x::D3DKMTOpenSynchronizationObject);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_open_sync_global(p, g, a.hSyncObject)?;
                }
                (s, u, e)
            }
            Op::DestroySync { sync, .. } => {
                let h = self.local(p, sync, is_sync);
                let e = injected.unwrap_or_else(|| self.model.expect_destroy_sync(p, h));
                let a = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: h };
                let (s, u) = call_ref(&a, x::D3DKMTDestroySynchronizationObject);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_close(p, h);
                }
                (s, u, e)
            }
            Op::Signal { device, sync, value, .. } => {
                let d = self.local(p, device, is_device);
                let h = self.local(p, sync, is_fence);
                let e = injected.unwrap_or_else(|| self.model.expect_signal(p, d, h));
                let handles = [h];
                let values = [u64::from(value)];
                let a = D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU {
                    hDevice: d,
                    ObjectCount: 1,
                    ObjectHandleArray: handles.as_ptr(),
                    FenceValueArray: values.as_ptr(),
                    ..Default::default()
                };
                let (s, u) = call_ref(&a, x::D3DKMTSignalSynchronizationObjectFromCpu);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_signal(p, h, u64::from(value));
                }
                (s, u, e)
            }
            Op::CreateContext { device, .. } => {
                let d = self.local(p, device, is_device);
                let e = injected.unwrap_or_else(|| self.model.expect_create_sync(p, d));
                let mut a = D3DKMT_CREATECONTEXTVIRTUAL { hDevice: d, ..Default::default() };
                let (s, u) = call(&mut a, x::D3DKMTCreateContextVirtual);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_create_context(p, d, a.hContext)?;
                }
                (s, u, e)
            }
            Op::DestroyContext { context, .. } => {
                let h = self.local(p, context, |o| matches!(o, Object::Context));
                let e = injected.unwrap_or_else(|| self.model.expect_destroy_context(p, h));
                let a = D3DKMT_DESTROYCONTEXT { hContext: h };
                let (s, u) = call_ref(&a, x::D3DKMTDestroyContext);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_close(p, h);
                }
                (s, u, e)
            }
            Op::Wait { device, sync, value, .. } => {
                let d = self.local(p, device, is_device);
                let h = self.local(p, sync, is_fence);
                // A wait that would block is not made: nothing ends it here.
                let Some(e) = self.model.expect_wait(p, d, h, u64::from(value)) else {
                    return Ok(NtStatus::SUCCESS);
                };
                let e = injected.unwrap_or(e);
                let handles = [h];
                let values = [u64::from(value)];
                let a = D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU {
                    hDevice: d,
                    ObjectCount: 1,
                    ObjectHandleArray: handles.as_ptr(),
                    FenceValueArray: values.as_ptr(),
                    ..Default::default()
                };
                let (s, u) = call_ref(&a, x::D3DKMTWaitForSynchronizationObjectFromCpu);
                (s, u, e)
            }
            Op::CreateSession { device, fence, .. } => {
                let d = self.local(p, device, is_device);
                let f = self.local(p, fence, is_fence);
                let e = injected.unwrap_or_else(|| self.model.expect_create_session(p, d, f));
                let mut a = D3DKMT_CREATEPROTECTEDSESSION {
                    hDevice: d,
                    hSyncObject: f,
                    pPrivateDriverData: DRIVER_DATA.as_ptr().cast(),
                    PrivateDriverDataSize: DRIVER_DATA.len() as u32,
                    pPrivateRuntimeData: RUNTIME_DATA.as_ptr().cast(),
                    PrivateRuntimeDataSize: RUNTIME_DATA.len() as u32,
                    hHandle: 0,
                };
                let (s, u) = call(&mut a, x::D3DKMTCreateProtectedSession);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    let key = process.protected_session_key(LocalHandle(a.hHandle)).map_err(|e| e.to_string())?;
                    self.model.apply_create_session(p, d, f, a.hHandle, key.0)?;
                }
                (s, u, e)
            }
            Op::DestroySession { session, .. } => {
                let h = self.local(p, session, is_session);
                let e = injected.unwrap_or_else(|| self.model.expect_session_handle(p, h));
                let mut a = D3DKMT_DESTROYPROTECTEDSESSION { hHandle: h };
                let (s, u) = call(&mut a, x::D3DKMTDestroyProtectedSession);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_close(p, h);
                }
                (s, u, e)
            }
            Op::QueryStatus { session, .. } => {
                let h = self.local(p, session, is_session);
                let e = injected.unwrap_or_else(|| self.model.expect_session_handle(p, h));
                let mut a = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: h, Status: -1 };
                let (s, u) = call(&mut a, x::D3DKMTQueryProtectedSessionStatus);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    let want = self.model.session_status(p, h).map(|s| s as i32);
                    ensure_eq!(Some(a.Status), want, "QueryProtectedSessionStatus of {h:#x}");
                }
                (s, u, e)
            }
            Op::Share { object, access, name, .. } => {
                let h =
                    self.local(p, object, |o| matches!(o, Object::Fence { nt_shareable: true, .. }) || is_session(o));
                let name = name.map(|n| NAMES[n as usize % NAMES.len()]);
                let e = injected.unwrap_or_else(|| self.model.expect_share(p, h, name));
                let (s, nt, untouched) = share(h, name, access.mask());
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_share(p, h, access, name, nt)?;
                }
                (s, untouched, e)
            }
            Op::OpenSyncFromNt { nt, device, .. } => {
                let n = self.nt(p, nt, is_fence);
                let d = self.local(p, device, is_device);
                let e = injected.unwrap_or_else(|| self.model.expect_open_sync_nt(p, n, d));
                let mut a = D3DKMT_OPENSYNCOBJECTFROMNTHANDLE2 {
                    hNtHandle: n as usize as HANDLE,
                    hDevice: d,
                    ..Default::default()
                };
                let (s, u) = call(&mut a, x::D3DKMTOpenSyncObjectFromNtHandle2);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    // MonitoredFence: FenceValueCPUVirtualAddress first.
                    let cpu_va: u64 = read_at(&a.Anonymous, 0);
                    self.model.apply_open_sync_nt(p, n, d, a.hSyncObject, cpu_va)?;
                }
                (s, u, e)
            }
            Op::OpenSessionFromNt { nt, .. } => {
                let n = self.nt(p, nt, is_session);
                let e = injected.unwrap_or_else(|| self.model.expect_session_nt(p, n));
                let mut a = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: n as usize as HANDLE, hHandle: 0 };
                let (s, u) = call(&mut a, x::D3DKMTOpenProtectedSessionFromNtHandle);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_open_session_nt(p, n, a.hHandle)?;
                }
                (s, u, e)
            }
            Op::QueryInfo { nt, .. } => {
                let n = self.nt(p, nt, is_session);
                let e = injected.unwrap_or_else(|| self.model.expect_session_nt(p, n));
                let mut driver = [0u8; 64];
                let mut runtime = [0u8; 64];
                let mut a = D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE {
                    hNtHandle: n as usize as HANDLE,
                    pPrivateDriverData: driver.as_mut_ptr().cast(),
                    PrivateDriverDataSize: 64,
                    pPrivateRuntimeData: runtime.as_mut_ptr().cast(),
                    PrivateRuntimeDataSize: 64,
                };
                let (s, u) = call(&mut a, x::D3DKMTQueryProtectedSessionInfoFromNtHandle);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    let got = &runtime[..a.PrivateRuntimeDataSize.min(64) as usize];
                    ensure_eq!(got, RUNTIME_DATA, "runtime data of NT handle {n:#x}");
                    ensure_eq!(&driver[..a.PrivateDriverDataSize.min(64) as usize], DRIVER_DATA, "driver data");
                } else if s.is_err() && (driver != [0; 64] || runtime != [0; 64]) {
                    return Err("a failed QueryProtectedSessionInfoFromNtHandle wrote a blob".into());
                }
                (s, u, e)
            }
            Op::OpenNtFromName { name, .. } => {
                let name = NAMES[name as usize % NAMES.len()];
                let e = injected.unwrap_or_else(|| self.model.expect_open_name(p, name));
                let (s, nt, u) = open_name(name);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_open_name(p, name, nt)?;
                }
                (s, u, e)
            }
            Op::Duplicate { nt, to, close_source, access, .. } => {
                let to = to as usize % PROCESSES;
                let n = self.nt(p, nt, |_| true);
                let e = injected.unwrap_or_else(|| self.model.expect_duplicate(p, n, to));
                let mut out: HANDLE = 0x5A5A as HANDLE;
                let options = if access.is_none() { 2 } else { 0 } | u32::from(close_source);
                let s = NtStatus(d3dkmt_emu_nt_duplicate(
                    self.control(p),
                    n as usize as HANDLE,
                    self.control(to),
                    &mut out,
                    access.map_or(0, |a| a.mask()),
                    options,
                ));
                let u = out == 0x5A5A as HANDLE;
                if s == e && !self.model.procs[p].exited {
                    self.model.apply_duplicate(
                        p,
                        n,
                        to,
                        close_source,
                        access,
                        (s == NtStatus::SUCCESS).then_some(out as usize as u64),
                    )?;
                }
                (s, u, e)
            }
            Op::CloseNt { nt, .. } => {
                let n = self.nt(p, nt, |_| true);
                let e = injected.unwrap_or_else(|| self.model.expect_close_nt(p, n));
                let s = NtStatus(d3dkmt_emu_nt_close(self.control(p), n as usize as HANDLE));
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_close_nt(p, n);
                }
                (s, true, e)
            }
            Op::SetStatus { session, invalid } => {
                let key = self.session_key(session);
                let status = if invalid { SessionStatus::Invalid } else { SessionStatus::Ok };
                let e = injected.unwrap_or_else(|| self.model.expect_set_status(key));
                let s = match self.kernel.set_protected_session_status(SessionKey(key), status) {
                    Ok(()) => NtStatus::SUCCESS,
                    Err(err) => err.status(),
                };
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_set_status(key, status);
                }
                (s, true, e)
            }
            Op::CreateKeyedMutex { initial_key, nt_shared, .. } => {
                let e = injected.unwrap_or_else(|| self.model.expect_create_keyed_mutex(p));
                let key = u64::from(initial_key % 4);
                let (s, u, h, g) = if nt_shared {
                    let mut a = D3DKMT_CREATEKEYEDMUTEX2 { InitialValue: key, ..Default::default() };
                    a.Flags.Anonymous.Value = 1;
                    let (s, u) = call(&mut a, x::D3DKMTCreateKeyedMutex2);
                    (s, u, a.hKeyedMutex, a.hSharedHandle)
                } else {
                    let mut a = D3DKMT_CREATEKEYEDMUTEX { InitialValue: key, ..Default::default() };
                    let (s, u) = call(&mut a, x::D3DKMTCreateKeyedMutex);
                    (s, u, a.hKeyedMutex, a.hSharedHandle)
                };
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_create_keyed_mutex(p, h, key, nt_shared, g)?;
                }
                (s, u, e)
            }
            Op::OpenKeyedMutex { global, .. } => {
                let g = self.global(p, global, true);
                let e = injected.unwrap_or_else(|| self.model.expect_open_keyed_mutex(p, g));
                let mut a = D3DKMT_OPENKEYEDMUTEX { hSharedHandle: g, hKeyedMutex: 0 };
                let (s, u) = call(&mut a, x::D3DKMTOpenKeyedMutex);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_open_keyed_mutex(p, g, a.hKeyedMutex)?;
                }
                (s, u, e)
            }
            Op::Acquire { mutex, key, .. } => {
                let h = self.local(p, mutex, is_keyed);
                let key = u64::from(key % 4);
                let e = injected.unwrap_or_else(|| self.model.expect_acquire(p, h, key));
                let mut timeout: i64 = 0;
                let mut a =
                    D3DKMT_ACQUIREKEYEDMUTEX { hKeyedMutex: h, Key: key, pTimeout: &mut timeout, FenceValue: 0 };
                let (s, u) = call(&mut a, x::D3DKMTAcquireKeyedMutex);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    let fence = self.model.keyed_mutex_fence(p, h);
                    ensure_eq!(Some(a.FenceValue), fence, "fence value acquired with keyed mutex {h:#x}");
                    self.model.apply_keyed_mutex(p, h, KeyedMutexState::Owned { process: p, handle: h });
                }
                (s, u, e)
            }
            Op::Release { mutex, key, .. } => {
                let h = self.local(p, mutex, is_keyed);
                let key = u64::from(key % 4);
                let e = injected.unwrap_or_else(|| self.model.expect_release(p, h));
                let mut a = D3DKMT_RELEASEKEYEDMUTEX { hKeyedMutex: h, Key: key, FenceValue: key + 1 };
                let (s, u) = call(&mut a, x::D3DKMTReleaseKeyedMutex);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_keyed_mutex(p, h, KeyedMutexState::Released { key, fence: key + 1 });
                }
                (s, u, e)
            }
            Op::DestroyKeyedMutex { mutex, .. } => {
                let h = self.local(p, mutex, is_keyed);
                let e = injected.unwrap_or_else(|| self.model.expect_destroy_keyed_mutex(p, h));
                let a = D3DKMT_DESTROYKEYEDMUTEX { hKeyedMutex: h };
                let (s, u) = call_ref(&a, x::D3DKMTDestroyKeyedMutex);
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_close(p, h);
                }
                (s, u, e)
            }
            Op::RemoveDevice { device, .. } => {
                let d = self.local(p, device, is_device);
                let e = injected.unwrap_or_else(|| self.model.expect_remove_device(p, d));
                let s = NtStatus(d3dkmt_emu_kmd_remove_device(self.control(p), d, 3));
                if s == NtStatus::SUCCESS && e == NtStatus::SUCCESS {
                    self.model.apply_remove_device(p, d);
                }
                (s, true, e)
            }
            Op::InjectFault { entry, status, .. } => {
                let entry = FAULT_ENTRIES[entry as usize % FAULT_ENTRIES.len()];
                let status = FAULT_STATUSES[status as usize % FAULT_STATUSES.len()];
                if !self.model.fault_pending(p, entry) {
                    let fault = crate::Fault::status(status).on(entry).in_process(process.id()).nth(1);
                    self.faults.push(self.kernel.arm(fault));
                    self.model.faults.push((p, entry, status));
                }
                (NtStatus::SUCCESS, true, NtStatus::SUCCESS)
            }
            Op::Exit { .. } => {
                d3dkmt_emu_process_exit(self.control(p));
                self.model.apply_exit(p);
                (NtStatus::SUCCESS, true, NtStatus::SUCCESS)
            }
        };
        if status != expected {
            let why = crate::last_error().map(|(_, why)| why).unwrap_or_default();
            return Err(format!("status {status}, model expected {expected} ({why})"));
        }
        if status != NtStatus::SUCCESS && !untouched {
            return Err(format!("a call that answered {status} changed the caller's struct"));
        }
        Ok(status)
    }

    // ----------------------------------------------------------------------
    // Invariants

    /// The cheap check after a step that failed (the model changed nothing):
    /// each process's handle counts and the live-object counters. A failed
    /// call that changed a table without changing its size is caught by the
    /// next full [`Executor::check`] (after the next success, and at the
    /// end), since the model's tables did not move.
    pub fn check_counts(&mut self) -> Result<(), String> {
        for (i, process) in self.procs.iter().enumerate() {
            let mp = &self.model.procs[i];
            ensure_eq!(process.local_handle_count(), mp.local.len(), "D3DKMT handle count of process {i}");
            ensure_eq!(process.nt_handle_count(), mp.nt.len(), "NT handle count of process {i}");
        }
        // A failed call may still change the model (a duplicate's
        // DUPLICATE_CLOSE_SOURCE closes the source whatever the outcome).
        let alive = self.model.alive();
        let live: i64 = self.model.counts(&alive).iter().sum();
        ensure_eq!(self.kernel.total_live_objects(), live, "live objects");
        self.stats.checks += 2 * PROCESSES as u64 + 1;
        Ok(())
    }

    /// Checks every invariant: each process's handle tables equal the
    /// model's (so no two live handles alias, and a failed call changed no
    /// table), the live-object counters and global handles equal what the
    /// model says is reachable, every session's status and every fence's
    /// value equal the model's, and no fence went down.
    pub fn check(&mut self) -> Result<(), String> {
        let model = &self.model;
        let mut checks = 0u64;
        for (i, process) in self.procs.iter().enumerate() {
            let mp = &model.procs[i];
            // Compared in place, sorted, with no map built per step.
            let mut handles = process.local_handles();
            handles.sort_unstable_by_key(|(h, _)| h.0);
            if handles.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(format!("process {i} has two live D3DKMT handles with one value"));
            }
            let same = handles.len() == mp.local.len()
                && handles
                    .iter()
                    .zip(&mp.local)
                    .all(|((h, k), (mh, r))| h.0 == *mh && *k == kind_of(&model.objects[r.obj]));
            if !same {
                let model_view: BTreeMap<u32, HandleKind> =
                    mp.local.iter().map(|(h, r)| (*h, kind_of(&model.objects[r.obj]))).collect();
                let kernel_view: BTreeMap<u32, HandleKind> = handles.iter().map(|(h, k)| (h.0, *k)).collect();
                return Err(format!("D3DKMT handles of process {i}: kernel {kernel_view:?}, model {model_view:?}"));
            }
            let mut nts = process.nt_handles();
            nts.sort_unstable_by_key(|h| h.0);
            if nts.len() != mp.nt.len() || nts.iter().zip(mp.nt.keys()).any(|(h, m)| h.0 != *m) {
                let nts: BTreeSet<u64> = nts.into_iter().map(|h| h.0).collect();
                let model_nts: BTreeSet<u64> = mp.nt.keys().copied().collect();
                return Err(format!("NT handles of process {i}: kernel {nts:?}, model {model_nts:?}"));
            }
            checks += 2;
        }
        let alive = model.alive();
        let counts = model.counts(&alive);
        for kind in ObjectKind::ALL {
            ensure_eq!(self.kernel.live_objects(kind), counts[kind as usize], "live {}s", kind.name());
        }
        ensure_eq!(self.kernel.live_global_handles(), model.live_globals(&alive), "live global handles");
        checks += ObjectKind::ALL.len() as u64 + 1;
        for &o in &model.sessions {
            if let (true, Object::Session { status, key, .. }) = (alive.objects[o], &model.objects[o]) {
                let got = self.kernel.protected_session_status(SessionKey(*key)).map_err(|e| e.to_string())?;
                ensure_eq!(got, *status, "status of session {key}");
                checks += 1;
            }
        }
        // Each session's status fence, through the first handle to it.
        for (i, process) in self.procs.iter().enumerate() {
            for (h, r) in &model.procs[i].local {
                if let Object::Session { fence, .. } = model.objects[r.obj] {
                    let Object::Fence { value, .. } = model.objects[fence] else { continue };
                    let got = process.protected_session_fence_value(LocalHandle(*h)).map_err(|e| e.to_string())?;
                    ensure_eq!(got, value, "status fence of session handle {h:#x} in process {i}");
                    checks += 1;
                }
            }
        }
        for (i, process) in self.procs.iter().enumerate() {
            for (h, r) in &model.procs[i].local {
                if let Object::Fence { value, .. } = model.objects[r.obj] {
                    let got = process.fence_value(LocalHandle(*h)).map_err(|e| e.to_string())?;
                    ensure_eq!(got, value, "value of fence {h:#x} in process {i}");
                    if self.seen.len() <= r.obj {
                        self.seen.resize(r.obj + 1, 0);
                    }
                    let last = &mut self.seen[r.obj];
                    if got < *last {
                        return Err(format!("fence {h:#x} went down from {last} to {got}"));
                    }
                    *last = got;
                    checks += 1;
                }
            }
        }
        self.stats.checks += checks;
        Ok(())
    }

    /// After a failure, for a reproducer's trace: closes, through the C ABI,
    /// every handle the model says each live process holds (children, then
    /// devices, then adapters), ignoring the statuses. A kernel that lost
    /// or kept a handle the model did not answers one of these differently,
    /// so replaying the trace on a fixed kernel diverges there.
    pub fn probe(&mut self) {
        for p in 0..PROCESSES {
            if self.model.procs[p].exited {
                continue;
            }
            let _bound = self.procs[p].enter();
            for pass in 0..3 {
                let handles: Vec<(u32, Object)> =
                    self.model.procs[p].local.iter().map(|(h, r)| (*h, self.model.objects[r.obj].clone())).collect();
                for (h, object) in handles {
                    match (pass, object) {
                        (0, Object::Fence { .. } | Object::SyncMutex { .. }) => {
                            x::D3DKMTDestroySynchronizationObject(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT {
                                hSyncObject: h,
                            });
                        }
                        (0, Object::Session { .. }) => {
                            x::D3DKMTDestroyProtectedSession(&mut D3DKMT_DESTROYPROTECTEDSESSION { hHandle: h });
                        }
                        (0, Object::Context) => {
                            x::D3DKMTDestroyContext(&D3DKMT_DESTROYCONTEXT { hContext: h });
                        }
                        (0, Object::KeyedMutex { .. }) => {
                            x::D3DKMTDestroyKeyedMutex(&D3DKMT_DESTROYKEYEDMUTEX { hKeyedMutex: h });
                        }
                        (1, Object::Device { .. }) => {
                            x::D3DKMTDestroyDevice(&D3DKMT_DESTROYDEVICE { hDevice: h });
                        }
                        (2, Object::Adapter) => {
                            x::D3DKMTCloseAdapter(&D3DKMT_CLOSEADAPTER { hAdapter: h });
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Every process exits; then nothing may be left alive: no object, no
    /// global handle, and the kernel's leak report is clean.
    pub fn finish(&mut self) -> Result<(), String> {
        for p in 0..PROCESSES {
            self.step(&Op::Exit { p: p as u8 })?;
        }
        if self.kernel.total_live_objects() != 0 || self.kernel.live_global_handles() != 0 {
            return Err(format!(
                "after every process exited: {} objects and {} global handles alive",
                self.kernel.total_live_objects(),
                self.kernel.live_global_handles()
            ));
        }
        let report = self.kernel.leak_report();
        if !report.is_clean() {
            return Err(format!("the leak report is not clean: {report:?}"));
        }
        Ok(())
    }
}

/// The `D3DKMT*` export an op calls, if it calls one (faults fire only there).
fn entry_of(op: &Op) -> Option<crate::Entry> {
    use crate::Entry as E;
    Some(match op {
        Op::OpenAdapter { .. } => E::D3DKMTOpenAdapterFromLuid,
        Op::CloseAdapter { .. } => E::D3DKMTCloseAdapter,
        Op::CreateDevice { .. } => E::D3DKMTCreateDevice,
        Op::DestroyDevice { .. } => E::D3DKMTDestroyDevice,
        Op::CreateFence { .. } | Op::CreateSyncMutex { .. } => E::D3DKMTCreateSynchronizationObject2,
        Op::OpenSyncGlobal { .. } => E::D3DKMTOpenSynchronizationObject,
        Op::DestroySync { .. } => E::D3DKMTDestroySynchronizationObject,
        Op::Signal { .. } => E::D3DKMTSignalSynchronizationObjectFromCpu,
        Op::Wait { .. } => E::D3DKMTWaitForSynchronizationObjectFromCpu,
        Op::CreateContext { .. } => E::D3DKMTCreateContextVirtual,
        Op::DestroyContext { .. } => E::D3DKMTDestroyContext,
        Op::CreateSession { .. } => E::D3DKMTCreateProtectedSession,
        Op::DestroySession { .. } => E::D3DKMTDestroyProtectedSession,
        Op::QueryStatus { .. } => E::D3DKMTQueryProtectedSessionStatus,
        Op::Share { .. } => E::D3DKMTShareObjects,
        Op::OpenSyncFromNt { .. } => E::D3DKMTOpenSyncObjectFromNtHandle2,
        Op::OpenSessionFromNt { .. } => E::D3DKMTOpenProtectedSessionFromNtHandle,
        Op::QueryInfo { .. } => E::D3DKMTQueryProtectedSessionInfoFromNtHandle,
        Op::OpenNtFromName { .. } => E::D3DKMTOpenSyncObjectNtHandleFromName,
        Op::CreateKeyedMutex { nt_shared: false, .. } => E::D3DKMTCreateKeyedMutex,
        Op::CreateKeyedMutex { nt_shared: true, .. } => E::D3DKMTCreateKeyedMutex2,
        Op::OpenKeyedMutex { .. } => E::D3DKMTOpenKeyedMutex,
        Op::Acquire { .. } => E::D3DKMTAcquireKeyedMutex,
        Op::Release { .. } => E::D3DKMTReleaseKeyedMutex,
        Op::DestroyKeyedMutex { .. } => E::D3DKMTDestroyKeyedMutex,
        Op::Duplicate { .. }
        | Op::CloseNt { .. }
        | Op::SetStatus { .. }
        | Op::RemoveDevice { .. }
        | Op::Exit { .. }
        | Op::InjectFault { .. } => return None,
    })
}

/// `D3DKMTShareObjects` of one handle; returns the status, the NT handle
/// and whether the output was left alone.
fn share(h: u32, name: Option<&str>, access: u32) -> (NtStatus, u64, bool) {
    let units: Vec<u16> = name.unwrap_or("").encode_utf16().collect();
    let bytes = (units.len() * 2) as u16;
    let string = UNICODE_STRING { Length: bytes, MaximumLength: bytes, Buffer: units.as_ptr().cast_mut() };
    let attributes =
        OBJECT_ATTRIBUTES { Length: size_of::<OBJECT_ATTRIBUTES>() as u32, ObjectName: &string, ..Default::default() };
    let mut out: HANDLE = 0x5A5A as HANDLE;
    let objects = [h];
    let attrs: *const OBJECT_ATTRIBUTES = if name.is_some() { &attributes } else { core::ptr::null() };
    let s = NtStatus(x::D3DKMTShareObjects(1, objects.as_ptr(), attrs, access, &mut out));
    (s, out as usize as u64, out == 0x5A5A as HANDLE)
}

/// `D3DKMTOpenSyncObjectNtHandleFromName` with `GENERIC_ALL`.
fn open_name(name: &str) -> (NtStatus, u64, bool) {
    let units: Vec<u16> = name.encode_utf16().collect();
    let bytes = (units.len() * 2) as u16;
    let string = UNICODE_STRING { Length: bytes, MaximumLength: bytes, Buffer: units.as_ptr().cast_mut() };
    let mut attributes =
        OBJECT_ATTRIBUTES { Length: size_of::<OBJECT_ATTRIBUTES>() as u32, ObjectName: &string, ..Default::default() };
    let mut a = D3DKMT_OPENSYNCOBJECTNTHANDLEFROMNAME {
        dwDesiredAccess: crate::access::GENERIC_ALL,
        pObjAttrib: &mut attributes,
        hNtHandle: null_mut(),
    };
    let (s, u) = call(&mut a, x::D3DKMTOpenSyncObjectNtHandleFromName);
    (s, a.hNtHandle as usize as u64, u)
}
