//! # d3dkmt-emu
//!
//! An in-process fake of the Windows graphics kernel as user mode sees it:
//! the `D3DKMT*` thunks (gdi32 on Windows, libdxg on WSL) and the dxgkrnl
//! objects behind them. Link your driver, runtime or translation layer
//! against this crate instead of gdi32 or libdxg, and its tests run on any
//! Linux machine, with no Windows, no GPU and no `/dev/dxg`.
//!
//! ## What is emulated
//!
//! - Many isolated [`Kernel`]s in one binary, each with configured adapters,
//!   [`Policies`] for every undocumented choice, and virtual [`Process`]es with
//!   their own D3DKMT and NT handle tables. A thread acts as the process it is
//!   [bound](Process::enter) to; an unbound thread as the default process of
//!   the [default kernel](kernel::default_kernel), so existing code runs with
//!   no set-up.
//! - Adapters, devices, monitored fences (with a real CPU-readable value, CPU
//!   signal and blocking CPU wait), protected sessions with their status fence
//!   and the fake kernel-mode driver ([`Kmd`]), NT-handle sharing, close and
//!   duplicate across processes.
//! - Keyed mutexes (global handles, key/fence handoff, timeouts on the kernel
//!   clock, abandonment when the owner goes), standard allocations and
//!   resources (global handles, opens with the KMD's private driver data),
//!   and `D3DKMTShareObjects` of a resource alone or with its keyed mutex and
//!   a monitored fence, opened again by NT handle or by name.
//! - GPU work on a deterministic fake GPU: contexts (legacy, virtual,
//!   hardware by policy), hardware queues with their progress fences, paging
//!   queues, submission the fake [`Kmd`] observes, GPU-queued signals and
//!   waits that block a queue until a fence moves, escapes, statistics, clock
//!   calibration and sync files (see the `context`, `hw_queue` and `gpu`
//!   modules' docs).
//! - Windows-shaped handles and Windows' statuses for bad input; see
//!   [`support::ENTRY_POINTS`] for what each export does.
//!
//! ## A protected session across two processes
//!
//! ```
//! use d3dkmt_emu::{access, DuplicateOptions, Kernel, KernelConfig, SessionStatus, SyncFlags};
//!
//! let kernel = Kernel::new(KernelConfig::default());
//! let (a, b) = (kernel.create_process(), kernel.create_process());
//!
//! // Process A: adapter, device, status fence, session; share it with B.
//! let adapter = a.open_adapter_from_luid(kernel.adapter_luids()[0])?;
//! let device = a.create_device(adapter)?;
//! let shared = SyncFlags { shared: true, nt_security_sharing: true, ..SyncFlags::default() };
//! let fence = a.create_monitored_fence(device, shared, 0)?;
//! let session = a.create_protected_session(device, fence.handle, b"driver", b"runtime")?;
//! let nt = a.share_objects(&[session], None, access::GENERIC_ALL)?;
//! let same = DuplicateOptions { close_source: true, same_access: true };
//! let nt_in_b = a.duplicate_nt_handle(nt, &b, 0, same)?;
//!
//! // Process B: read the blobs, open the session.
//! assert_eq!(b.query_protected_session_info(nt_in_b)?.runtime_data, b"runtime");
//! let opened = b.open_protected_session_from_nt_handle(nt_in_b)?;
//!
//! // The test, as the kernel-mode driver, invalidates it; B sees it, and
//! // the status fence moved.
//! kernel.set_protected_session_status(a.protected_session_key(session)?, SessionStatus::Invalid)?;
//! assert_eq!(b.query_protected_session_status(opened)?, SessionStatus::Invalid);
//! assert_eq!(a.fence_value(fence.handle)?, 1);
//!
//! // Exits close everything; nothing is left alive.
//! a.exit();
//! b.exit();
//! assert_eq!(kernel.total_live_objects(), 0);
//! # Ok::<(), d3dkmt_emu::KernelError>(())
//! ```
//!
//! The same calls through the C ABI are the `D3DKMT*` exports, acting as the
//! thread's bound process ([`Process::enter`]). Rust code written against
//! windows-sys reaches them through windows-sys's own declarations, which on
//! Linux name no library and so resolve to this crate's symbols.
//!
//! ## What is not (yet)
//!
//! Periodic monitored fences, driver-private allocation descriptions, GPU
//! virtual addresses and residency arrive in later issues; their entry
//! points answer `STATUS_NOT_IMPLEMENTED` (see `d3dkmt-emu support`).
//!
//! ## Fault injection, the sweep, and leak checks
//!
//! [`Kernel::arm`] makes chosen calls of one kernel fail with a chosen
//! status (the Nth, every one, or at random from a seed), answered at the
//! dispatch point before the call runs, so nothing changes. [`Sweep`] runs a
//! test body once per injectable point with that point failing, and checks
//! that each run ends with the injected status and leaves nothing alive;
//! [`Kernel::leak_report`] names each live object's creator call and holders.
//!
//! ```
//! use d3dkmt_emu::{Kernel, NtStatus, Sweep};
//!
//! let report = Sweep::new().run(|kernel: &Kernel| {
//!     let p = kernel.create_process();
//!     // Through the Rust API nothing is injectable; a body calls the
//!     // D3DKMT* exports as the code under test does.
//!     p.exit();
//!     Ok::<(), NtStatus>(())
//! });
//! report.assert_clean();
//! assert!(report.points.is_empty());
//! ```
//!
//! ## Fuzzing
//!
//! [`fuzz`] holds a reference model of the kernel's bookkeeping, an op
//! vocabulary over three virtual processes, and a runner that drives op
//! sequences through the C ABI and checks every step against the model
//! ([`fuzz::Runner::after_each`] runs your own checks too); `d3dkmt-emu
//! fuzz` runs it in process, and `fuzz/` holds the cargo-fuzz targets.
//!
//! ## References
//!
//! Ownership: every object is reference counted. A D3DKMT handle, an NT
//! handle, a protected session (for its status fence) and an NT object (for
//! what it wraps) each own one reference; an object lives exactly while one
//! exists. Nothing is dropped while a table lock is held (see `sync`).

pub mod abi;
mod adapter;
pub mod clock;
mod context;
mod device;
mod dxcore;
mod error;
mod fault;
mod global;
mod gpu;
mod gpu_va;
mod handle;
mod host;
mod hw_queue;
pub mod kernel;
mod keyed_mutex;
mod kmd;
mod live;
mod policy;
mod power;
mod process;
mod removal;
pub mod replay;
mod residency;
mod resource;
mod session;
mod shared;
mod status;
pub mod support;
mod sweep;
mod sync;
mod sync_file;
mod sync_object;
pub mod trace;
mod vidpn;
pub mod wchar;

pub mod conformance;
pub mod coverage;
// Not in the libdxg-ABI builds (dxg/, dxcore/): they are drop-in C libraries.
#[cfg(not(d3dkmt_wchar32))]
pub mod fuzz;

pub use abi::last_error;
pub use adapter::{
    AdapterConfig, AdapterInfo, AdapterKind, DEFAULT_DRIVER_STORE_PATH, DEVINTERFACE_DISPLAY_ADAPTER,
    DISPLAY_DEVICE_ARRIVAL, DeviceIds, EnumFilter, GdiOpen, Luid, MemoryGroup, OutputConfig, PciAddress, SegmentSizes,
    VideoMemoryInfo,
};
pub use clock::ClockMode;
pub use context::{ContextKind, ContextParams, CreatedContext, LegacyBuffers, MAX_PRIVATE_DATA};
pub use error::{KResult, KernelError};
pub use fault::{FAULT_LOG_CAPACITY, Fault, FaultGuard, FaultId, FaultRecord, When, creates_or_opens};
pub use gpu::{GpuStatistics, QueueCounters};
pub use gpu_va::{MapRequest, Mapping, PAGE, SPACE_END, SPACE_START, VA_GRANULARITY, VaOperation, protection};
pub use handle::{LocalHandle, NtHandle};
pub use host::{HOST_HANDLE_BASE, HostSharedObject};
pub use hw_queue::{CreatedHwQueue, CreatedPagingQueue};
pub use kernel::{Kernel, KernelConfig, WeakKernel};
pub use keyed_mutex::{CreatedKeyedMutex, KeyedMutexAcquired, Timeout};
pub use kmd::{
    AllocationDesc, ContextKey, CreateContextArgs, CreateSessionArgs, DefaultKmd, EscapeArgs, Kmd, SessionKey,
    SessionStatus, Submission, default_allocation_private_data,
};
pub use live::{CallSite, Creator, Holder, LeakReport, LiveObject, ObjectId, ObjectKind};
pub use policy::{
    AdapterClose, AdapterInfoSize, CpuNotificationEvent, DeviceDestroySessions, DuplicateAccess, FenceRegression,
    GdiNameCase, HandleNumbering, HandleReuse, Occlusion, Policies, StatusFenceBump,
};
pub use policy::{DxCoreClose, HostShareLifetime};
pub use policy::{GpuPolicies, HwContexts, InitialResidency};
pub use policy::{
    KeyedMutexOwner, KeyedMutexPolicies, RemovalPolicies, RemovalSessions, RemovedDeviceSync, TdrOutcome,
};
pub use process::{Binding, HandleKind, Process, ProcessId, current as current_process};
pub use removal::{AdapterHealth, DeviceHealth, DeviceLoss};
pub use residency::{AllocationMemoryInfo, OfferState};
pub use resource::{AllocationFlags, AllocationRequest, CreatedAllocation, OpenSizes, OpenedResource, ResourceInfo};
pub use session::SessionInfo;
pub use shared::{DuplicateOptions, access};
pub use status::NtStatus;
pub use support::{Entry, Support};
pub use sweep::{RunOutcome, Sweep, SweepReport};
pub use sync_object::{CreatedSync, MonitoredFence, SyncFlags, SyncKind};
pub use trace::{Record, Trace, TraceConfig};
pub use vidpn::OwnerRequest;
