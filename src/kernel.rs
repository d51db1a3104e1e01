//! The fake kernel: configuration, adapters, processes, the KMD, and the
//! kernel-wide registries.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use crate::adapter::{Adapter, AdapterConfig, Luid};
use crate::clock::{Clock, ClockMode};
use crate::error::{KResult, KernelError};
use crate::global::GlobalTable;
use crate::handle::{ChunkPool, Shape};
use crate::kmd::{DefaultKmd, Kmd, SessionKey, SessionStatus};
use crate::live::{LiveCounters, ObjectKind};
use crate::policy::Policies;
use crate::process::{Process, ProcessId};
use crate::session::SessionCore;
use crate::shared::Namespace;
use crate::sync::{Mutex, RwLock};
use crate::sync_object::WaitHub;

/// How to build a [`Kernel`].
#[derive(Clone, Debug)]
pub struct KernelConfig {
    /// The adapters, in enumeration order. May be empty.
    pub adapters: Vec<AdapterConfig>,
    /// Every undocumented choice; see [`Policies`].
    pub policies: Policies,
    /// How the kernel's clock moves: virtual (the default) or real; see
    /// [`crate::clock`].
    pub clock: ClockMode,
}

impl Default for KernelConfig {
    /// One full adapter, LUID `{0x1234, 0}`, supporting protected sessions.
    fn default() -> Self {
        KernelConfig {
            adapters: vec![AdapterConfig::new(Luid { low: 0x1234, high: 0 })],
            policies: Policies::default(),
            clock: ClockMode::Virtual,
        }
    }
}

pub(crate) struct KernelInner {
    pub(crate) id: u64,
    pub(crate) adapters: Vec<Arc<Adapter>>,
    pub(crate) policies: Policies,
    pub(crate) kmd: RwLock<Arc<dyn Kmd>>,
    pub(crate) sessions: Arc<SessionRegistry>,
    pub(crate) namespace: Arc<Namespace>,
    /// Global (KMT) share handles; see [`crate::global`].
    pub(crate) globals: Arc<GlobalTable>,
    pub(crate) wait_hub: Arc<WaitHub>,
    /// The kernel clock; see [`crate::clock`].
    pub(crate) clock: Clock,
    /// The index space of D3DKMT handles, shared out among processes.
    pub(crate) local_chunks: Arc<ChunkPool>,
    /// The index space of NT handles, shared out among processes.
    pub(crate) nt_chunks: Arc<ChunkPool>,
    processes: Mutex<Vec<Weak<crate::process::ProcessInner>>>,
    counters: Mutex<Vec<Arc<LiveCounters>>>,
    next_pid: AtomicU32,
    pub(crate) next_gpu_va: AtomicU64,
    /// Armed faults and the fault log (`crate::fault`).
    pub(crate) faults: crate::fault::Faults,
    /// The call trace (off unless started).
    pub(crate) trace: crate::trace::Tracer,
    /// The fake GPU: blocked queues, pending sync files, counters.
    pub(crate) gpu: crate::gpu::Gpu,
    /// The emulated host's table of shared objects (`crate::host`).
    pub(crate) host: crate::host::HostTable,
}

/// The kernel's session keys → sessions, for the KMD's status callback.
#[derive(Default)]
pub(crate) struct SessionRegistry {
    pub(crate) map: Mutex<HashMap<SessionKey, Weak<SessionCore>>>,
    pub(crate) next: AtomicU64,
}

/// One fake kernel: a reference to it (cloning gives another reference).
///
/// Kernels are fully isolated from each other; any number can exist in one
/// test binary. A kernel lives while any reference to it, or to one of its
/// processes, exists.
#[derive(Clone)]
pub struct Kernel(pub(crate) Arc<KernelInner>);

/// A weak reference to a kernel: what a [`Kmd`] keeps to call back into the
/// kernel that owns it without keeping that kernel alive.
#[derive(Clone, Debug)]
pub struct WeakKernel(Weak<KernelInner>);

impl WeakKernel {
    /// The kernel, if it still exists.
    pub fn upgrade(&self) -> Option<Kernel> {
        self.0.upgrade().map(Kernel)
    }
}

impl std::fmt::Debug for KernelInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelInner").field("id", &self.id).finish()
    }
}

static NEXT_KERNEL_ID: AtomicU64 = AtomicU64::new(1);
static DEFAULT: OnceLock<(Kernel, Process)> = OnceLock::new();

fn default_pair() -> &'static (Kernel, Process) {
    DEFAULT.get_or_init(|| {
        // C programs that link us unchanged expect Windows' timing.
        let kernel = Kernel::new(KernelConfig { clock: ClockMode::Real, ..KernelConfig::default() });
        let process = kernel.create_process();
        (kernel, process)
    })
}

/// The kernel that unbound threads call into: created on first use with
/// [`KernelConfig::default`] and never destroyed.
pub fn default_kernel() -> &'static Kernel {
    &default_pair().0
}

/// The default kernel's default process (id 1): the process of every thread
/// that is not bound to one.
pub fn default_process() -> &'static Process {
    &default_pair().1
}

impl std::fmt::Debug for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernel").field("id", &self.0.id).finish()
    }
}

impl Kernel {
    /// A new kernel with the given adapters and policies, and no processes.
    /// (Only the default kernel has a default process.)
    ///
    /// # Panics
    /// If two adapters share a LUID, one has the zero LUID, an output is
    /// misconfigured (see [`AdapterConfig`]), a handle quota is 0, or a policy status is a success status (it must be a failure).
    pub fn new(config: KernelConfig) -> Kernel {
        if let Err(why) = config.policies.check() {
            panic!("bad kernel policies: {why}");
        }
        let adapters = Adapter::build(config.adapters);
        Kernel(Arc::new(KernelInner {
            id: NEXT_KERNEL_ID.fetch_add(1, Ordering::Relaxed),
            adapters,
            policies: config.policies,
            kmd: RwLock::new(Arc::new(DefaultKmd)),
            sessions: Arc::new(SessionRegistry { map: Mutex::default(), next: AtomicU64::new(1) }),
            namespace: Arc::new(Namespace::default()),
            wait_hub: Arc::new(WaitHub::default()),
            globals: Arc::new(GlobalTable::default()),
            clock: Clock::new(config.clock),
            local_chunks: Arc::new(ChunkPool::new(Shape::Local)),
            nt_chunks: Arc::new(ChunkPool::new(Shape::Nt)),
            processes: Mutex::new(Vec::new()),
            counters: Mutex::new(Vec::new()),
            next_pid: AtomicU32::new(1),
            next_gpu_va: AtomicU64::new(0x0000_7F00_0000_0000),
            faults: crate::fault::Faults::default(),
            trace: crate::trace::Tracer::default(),
            gpu: crate::gpu::Gpu::default(),
            host: crate::host::HostTable::default(),
        }))
    }

    /// A weak reference, for a KMD or anything else the kernel owns.
    pub fn downgrade(&self) -> WeakKernel {
        WeakKernel(Arc::downgrade(&self.0))
    }

    /// A number identifying this kernel within the test binary.
    pub fn id(&self) -> u64 {
        self.0.id
    }

    /// The kernel's policies.
    pub fn policies(&self) -> &Policies {
        &self.0.policies
    }

    /// The configured adapters' LUIDs, in enumeration order.
    pub fn adapter_luids(&self) -> Vec<Luid> {
        self.0.adapters.iter().map(|a| a.config.luid).collect()
    }

    /// A new virtual process with empty handle tables. Process ids start at 1.
    pub fn create_process(&self) -> Process {
        let pid = ProcessId(self.0.next_pid.fetch_add(1, Ordering::Relaxed));
        let counters = Arc::new(LiveCounters::new(pid));
        {
            let mut all = self.0.counters.lock();
            // Counters only the list holds belong to gone processes whose
            // objects are all gone too: they count nothing any more.
            all.retain(|c| Arc::strong_count(c) > 1);
            all.push(Arc::clone(&counters));
        }
        let process = Process::new(&self.0, pid, counters);
        let mut processes = self.0.processes.lock();
        processes.retain(|p| p.strong_count() > 0);
        processes.push(Arc::downgrade(&process.0));
        drop(processes);
        if crate::trace::enabled(&self.0) {
            let op = crate::trace::Op::ProcessCreate;
            crate::trace::event(&self.0, pid.0, op, Vec::new(), Vec::new(), crate::NtStatus::SUCCESS);
        }
        process
    }

    /// Every process of this kernel that is still referenced, exited or not.
    pub fn processes(&self) -> Vec<Process> {
        self.0.processes.lock().iter().filter_map(|p| p.upgrade().map(Process)).collect()
    }

    /// Installs the fake kernel-mode driver. Sessions already created keep the
    /// KMD they were created with, and call its destroy DDI.
    pub fn set_kmd(&self, kmd: Arc<dyn Kmd>) {
        *self.0.kmd.write() = kmd;
    }

    /// How many kernel objects of `kind` are alive in this kernel.
    pub fn live_objects(&self, kind: ObjectKind) -> i64 {
        self.0.counters.lock().iter().map(|c| c.get(kind)).sum()
    }

    /// The kernel clock's time since the kernel was created.
    pub fn now(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.clock.now_ns())
    }

    /// Advances a virtual clock by `by`, ending the waits whose deadline it
    /// passes. A real clock cannot be moved: `STATUS_NOT_SUPPORTED`.
    pub fn advance(&self, by: std::time::Duration) -> Result<(), crate::NtStatus> {
        match self.0.clock.mode() {
            ClockMode::Virtual => {
                self.0.wait_hub.advance(&self.0.clock, by);
                Ok(())
            }
            ClockMode::Real => Err(crate::NtStatus::NOT_SUPPORTED),
        }
    }

    /// The kernel clock's system time, in `FILETIME` units (100 ns since
    /// 1601-01-01 UTC): what absolute NT timeouts are measured against. A
    /// virtual clock starts at [`crate::clock::VIRTUAL_EPOCH_FILETIME`]; a
    /// real one at the system time the kernel was created.
    pub fn system_time(&self) -> u64 {
        self.0.clock.system_time()
    }

    /// How this kernel's clock moves.
    pub fn clock_mode(&self) -> ClockMode {
        self.0.clock.mode()
    }

    /// How many global (KMT) share handles name a live object.
    pub fn live_global_handles(&self) -> usize {
        self.0.globals.len()
    }

    /// How many kernel objects of any kind are alive.
    pub fn total_live_objects(&self) -> i64 {
        ObjectKind::ALL.iter().map(|&k| self.live_objects(k)).sum()
    }

    /// `DxgkCbSetProtectedSessionStatus`: the KMD sets a session's status.
    ///
    /// A change bumps the session's status fence by one, on the edges
    /// [`Policies::status_fence_bump`] names, and wakes its waiters; setting
    /// the status the session already has changes nothing. A key that names
    /// no live session (never created, or already destroyed; the KMD must not
    /// call this during or after destroy) is `STATUS_INVALID_HANDLE`.
    pub fn set_protected_session_status(&self, session: SessionKey, status: SessionStatus) -> KResult<()> {
        let found = self.0.sessions.map.lock().get(&session).and_then(Weak::upgrade);
        let result = match found {
            Some(core) => core.set_status(status, &self.0.policies),
            None => Err(KernelError::BadNtHandle(session.0)),
        };
        if crate::trace::enabled(&self.0) {
            use crate::trace::Value;
            let input = vec![("key".into(), Value::Key(session.0)), ("status".into(), Value::Int(status as u64))];
            let op = crate::trace::Op::SessionStatus;
            crate::trace::event(&self.0, 0, op, input, Vec::new(), crate::trace::status_of(&result));
        }
        result
    }

    /// A session's current status, as the kernel sees it (no process needed).
    pub fn protected_session_status(&self, session: SessionKey) -> KResult<SessionStatus> {
        let found = self.0.sessions.map.lock().get(&session).and_then(Weak::upgrade);
        Ok(found.ok_or(KernelError::BadNtHandle(session.0))?.status())
    }

    /// Keys of every protected session alive in this kernel, in creation order.
    pub fn protected_sessions(&self) -> Vec<SessionKey> {
        let map = self.0.sessions.map.lock();
        let mut keys: Vec<SessionKey> =
            map.iter().filter(|(_, w)| w.upgrade().is_some_and(|c| !c.is_destroyed())).map(|(k, _)| *k).collect();
        keys.sort();
        keys
    }
}
