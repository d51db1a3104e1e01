//! Policies: every choice Windows leaves undocumented, named and switchable.
//!
//! Each field of [`Policies`] is one choice the research could not pin to an
//! observation on Windows (tagged [INFER] in `windows-semantics.md`). The
//! default is our best reading; a user who knows better sets another value on
//! [`crate::KernelConfig::policies`].

use crate::NtStatus;

/// The kernel's policies. `Policies::default()` gives the documented defaults.
#[derive(Clone, Debug)]
pub struct Policies {
    /// Status for an NT handle that names an object of another type, e.g. a
    /// sync-object NT handle given to `OpenProtectedSessionFromNtHandle`.
    /// Default `STATUS_OBJECT_TYPE_MISMATCH`, the object manager's generic
    /// answer; Windows may map it to `STATUS_INVALID_PARAMETER` (unknown).
    pub wrong_nt_object_type: NtStatus,
    /// Status when `QueryProtectedSessionInfoFromNtHandle` gets a non-NULL blob
    /// buffer smaller than the stored blob. Default `STATUS_BUFFER_TOO_SMALL`.
    /// Either way the caller's struct is left untouched; a caller learns the
    /// sizes with NULL buffers first.
    pub short_blob_buffer: NtStatus,
    /// Which status edges bump a protected session's status fence.
    pub status_fence_bump: StatusFenceBump,
    /// What destroying a device does to the protected sessions created on it.
    pub device_destroy_sessions: DeviceDestroySessions,
    /// When a freed handle value may be handed out again.
    pub handle_reuse: HandleReuse,
    /// Whether processes share one numbering of handle values.
    pub handle_numbering: HandleNumbering,
    /// Maximum live D3DKMT handles per process (a quota): `STATUS_NO_MEMORY`
    /// beyond it. Default 2^24 - 1, the whole index space.
    pub max_local_handles: u32,
    /// Maximum live NT handles per process: `STATUS_NO_MEMORY` beyond it.
    /// Default 2^24 (Windows' per-process handle limit).
    pub max_nt_handles: u32,
    /// What closing a process's last handle to an adapter does to the
    /// process's devices on it.
    pub adapter_close: AdapterClose,
    /// `NumAdapters` reported by `EnumAdapters2`/`3` with a NULL array.
    /// Default 34, as Windows 11 (WINE #17; Windows 10 says 32).
    pub enum_adapters_capacity: u32,
    /// What a CPU signal of a monitored fence to a lower value does.
    pub fence_regression: FenceRegression,
    /// The access a duplicated NT handle gets when `DUPLICATE_SAME_ACCESS` is
    /// not given.
    pub duplicate_access: DuplicateAccess,
    /// How `OpenAdapterFromGdiDisplayName` compares names.
    pub gdi_name_case: GdiNameCase,
    /// What `D3DKMTCheckOcclusion` answers for a (nonzero) window.
    pub occlusion: Occlusion,
    /// Which `PrivateDriverDataSize` values `D3DKMTQueryAdapterInfo` accepts.
    pub adapter_info_size: AdapterInfoSize,
    /// Status of `D3DKMTQueryAdapterInfo` for a `KMTQUERYADAPTERINFOTYPE`
    /// that windows-sys names but we do not answer. Default
    /// `STATUS_NOT_IMPLEMENTED` (Windows would answer; we say we do not
    /// emulate it rather than guess). A value no type has is always
    /// `STATUS_INVALID_PARAMETER`.
    pub unemulated_adapter_info: NtStatus,
    /// Which event handles a `D3DDDI_CPU_NOTIFICATION` sync object accepts.
    pub cpu_notification_event: CpuNotificationEvent,
    /// What device removal and TDR do where Windows is silent.
    pub removal: RemovalPolicies,
    /// The undocumented parts of contexts, queues and submission.
    pub gpu: GpuPolicies,
    /// What keyed mutexes do where Windows is silent.
    pub keyed_mutex: KeyedMutexPolicies,
    /// How long the emulated host holds an object shared with
    /// `D3DKMTShareObjectWithHost` (see `crate::host`).
    pub host_share: HostShareLifetime,
    /// What `D3DKMTCloseDxCoreDevice` does to the calling process.
    pub dxcore_close: DxCoreClose,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            wrong_nt_object_type: NtStatus::OBJECT_TYPE_MISMATCH,
            short_blob_buffer: NtStatus::BUFFER_TOO_SMALL,
            status_fence_bump: StatusFenceBump::default(),
            device_destroy_sessions: DeviceDestroySessions::CloseHandles,
            handle_reuse: HandleReuse::Delayed,
            handle_numbering: HandleNumbering::PerProcessRanges,
            max_local_handles: (1 << 24) - 1,
            max_nt_handles: 1 << 24,
            adapter_close: AdapterClose::DestroyDevices,
            enum_adapters_capacity: 34,
            fence_regression: FenceRegression::Ignore,
            duplicate_access: DuplicateAccess::AsRequested,
            gdi_name_case: GdiNameCase::Insensitive,
            occlusion: Occlusion::SingleMonitorExclusive,
            adapter_info_size: AdapterInfoSize::Exact,
            unemulated_adapter_info: NtStatus::NOT_IMPLEMENTED,
            cpu_notification_event: CpuNotificationEvent::AcceptAny,
            removal: RemovalPolicies::default(),
            gpu: GpuPolicies::default(),
            keyed_mutex: KeyedMutexPolicies::default(),
            host_share: HostShareLifetime::default(),
            dxcore_close: DxCoreClose::default(),
        }
    }
}

impl Policies {
    /// Checks the policies make sense: statuses that stand for failures are
    /// failure statuses, and quotas are nonzero.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.wrong_nt_object_type.is_ok() {
            return Err("wrong_nt_object_type must be a failure status");
        }
        if self.short_blob_buffer.is_ok() {
            return Err("short_blob_buffer must be a failure status");
        }
        if self.gpu.gpu_va_conflict.is_ok() {
            return Err("gpu.gpu_va_conflict must be a failure status");
        }
        if self.keyed_mutex.short_runtime_data.is_ok() {
            return Err("keyed_mutex.short_runtime_data must be a failure status");
        }
        if self.unemulated_adapter_info.is_ok() {
            return Err("unemulated_adapter_info must be a failure status");
        }
        if self.max_local_handles == 0 || self.max_nt_handles == 0 {
            return Err("handle quotas must be nonzero");
        }
        if self.gpu.priority_range.0 > self.gpu.priority_range.1 {
            return Err("gpu.priority_range must not be empty");
        }
        Ok(())
    }
}

/// Which protected-session status changes bump the status fence by one.
///
/// The D3D12 spec says the fence is incremented when content becomes invalid,
/// and that an app waits for a bump before reusing a resource after INVALID;
/// bumping on both edges satisfies both. Setting the status a session already
/// has is not a change and never bumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusFenceBump {
    /// OK → INVALID bumps the fence. Default true.
    pub on_invalidate: bool,
    /// INVALID → OK bumps the fence. Default true.
    pub on_revalidate: bool,
}

impl Default for StatusFenceBump {
    fn default() -> Self {
        StatusFenceBump { on_invalidate: true, on_revalidate: true }
    }
}

/// What `D3DKMTDestroyDevice` does to sessions created on the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceDestroySessions {
    /// Default: the session handles the device's `CreateProtectedSession`
    /// calls returned are closed with it, like every other child. The session
    /// itself lives on while NT handles or other processes' handles hold it.
    CloseHandles,
    /// Session handles are process-scoped and outlive their device.
    KeepHandles,
}

/// When a freed handle value may be handed out again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleReuse {
    /// Default: after the next-fit cursor wraps round (see `handle` docs).
    Delayed,
    /// Never: every value is used once; the index space is a lifetime quota.
    Never,
}

/// Whether processes share one numbering of handle values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleNumbering {
    /// Default: processes take their handle values from chunks of one
    /// kernel-wide pool, so no two live processes hold the same value and a
    /// handle passed to the wrong process names nothing there and fails.
    /// (Values still step by 0x40 within a process, chunk by chunk.)
    PerProcessRanges,
    /// Every process starts at the same value, as on Windows.
    Shared,
}

/// What closing a process's last handle to an adapter does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterClose {
    /// Default, as Microsoft's WSL dxgkrnl: the process's devices on that
    /// adapter are destroyed, with their children.
    DestroyDevices,
    /// Devices keep the adapter alive.
    KeepDevices,
}

/// What a CPU signal of a monitored fence to a lower value does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FenceRegression {
    /// Default: the fence keeps its higher value; the call still succeeds.
    Ignore,
    /// The fence takes the lower value.
    Store,
}

/// The access of a duplicate made without `DUPLICATE_SAME_ACCESS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DuplicateAccess {
    /// Default: the access asked for, as Windows grants it under the default
    /// security of D3DKMT shared objects.
    AsRequested,
    /// At most the source handle's access: asking for more is
    /// `STATUS_ACCESS_DENIED`.
    SubsetOfSource,
}

/// How GDI display names (`\\.\DISPLAY1`) are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GdiNameCase {
    /// Default: ASCII case is ignored, as Windows' display-device names
    /// (object-manager paths) are; `\\.\display1` opens `\\.\DISPLAY1`.
    Insensitive,
    /// Names must match exactly.
    Exact,
}

impl GdiNameCase {
    /// Whether `name` (configured) matches `asked`.
    pub fn matches(self, name: &str, asked: &str) -> bool {
        match self {
            GdiNameCase::Insensitive => name.eq_ignore_ascii_case(asked),
            GdiNameCase::Exact => name == asked,
        }
    }
}

/// What `D3DKMTCheckOcclusion` answers for a nonzero window handle. There are
/// no windows here: every nonzero HWND stands for a visible window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Occlusion {
    /// Default, as WINE #41: `STATUS_GRAPHICS_PRESENT_OCCLUDED` while a
    /// device holds some VidPn source EXCLUSIVE and exactly one output (of
    /// all adapters) is attached to the desktop; SUCCESS otherwise. Window
    /// state never matters (WINE #40).
    SingleMonitorExclusive,
    /// Always SUCCESS.
    Never,
}

/// Which buffer sizes `D3DKMTQueryAdapterInfo` accepts for a type's output.
/// One byte short is `STATUS_INVALID_PARAMETER` either way (WINE #24).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterInfoSize {
    /// Default: exactly the type's size; larger is `STATUS_INVALID_PARAMETER`
    /// too (the kernel checks the size against the type; nothing observed
    /// says a larger buffer is accepted).
    Exact,
    /// At least the type's size; the output fills the first bytes and the
    /// rest of the buffer is left as it was.
    AtLeast,
}

/// Which event handles `D3DKMTCreateSynchronizationObject2` accepts for a
/// `D3DDDI_CPU_NOTIFICATION` object.
///
/// Windows takes a Win32 event handle: NULL is `STATUS_INVALID_HANDLE`
/// (WINE #47) under every variant, and a real event works. This crate has no
/// Win32 events, so it cannot tell a real event from junk. Under any variant
/// the event is never signalled: nothing here signals a CPU-notification
/// object (that takes GPU-queued signals, which are not emulated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuNotificationEvent {
    /// Default: any nonzero value is taken as an event handle and kept.
    AcceptAny,
    /// Every event handle is `STATUS_INVALID_HANDLE`: CPU-notification
    /// objects cannot be created (for tests that must not depend on them).
    RejectAll,
}

/// The undocumented parts of device removal and TDR (see `crate::removal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RemovalPolicies {
    /// Whether a device hit by a TDR survives it.
    pub tdr: TdrOutcome,
    /// What a removal or TDR does to the protected sessions on the device.
    pub sessions: RemovalSessions,
    /// What CPU signals and waits naming a removed device do.
    pub sync: RemovedDeviceSync,
}

/// Whether a device hit by a TDR (`Kernel::reset_device`) survives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TdrOutcome {
    /// Default: the device is lost, reporting `D3DKMT_DEVICEEXECUTION_RESET`,
    /// and creates on it fail with `STATUS_DEVICE_REMOVED` (the create pages
    /// list "the display device was reset" under that status). The app
    /// destroys it and creates a new one, as D3D runtimes do after a TDR.
    #[default]
    DeviceLost,
    /// The device stays `ACTIVE` and usable; only the fences and sessions
    /// feel the reset.
    DeviceSurvives,
}

/// What a removal or TDR does to the protected sessions created on the
/// device (or, for an adapter removal, on the adapter). Microsoft names
/// sleep/resume and tamper detection as what makes a session INVALID; TDR and
/// removal are not named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RemovalSessions {
    /// Default: the session becomes INVALID, with a status-fence bump per
    /// [`StatusFenceBump`], as if the KMD had called
    /// `DxgkCbSetProtectedSessionStatus(INVALID)`; every process that holds
    /// the session sees it.
    #[default]
    Invalidate,
    /// Sessions keep their status (the KMD reports it itself, if at all).
    Keep,
}

/// What `D3DKMTSignalSynchronizationObjectFromCpu` and
/// `D3DKMTWaitForSynchronizationObjectFromCpu` do when their `hDevice` is
/// lost (or its adapter stopped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RemovedDeviceSync {
    /// Default: new calls fail with `STATUS_DEVICE_REMOVED`, and a blocked
    /// wait whose fences have not all reached their values when the device is
    /// lost ends with `STATUS_DEVICE_REMOVED` (one whose fences jumped to the
    /// maximum is satisfied and succeeds).
    #[default]
    Fail,
    /// They work as on a live device (a wait on a `NoSignalMaxValueOnTdr`
    /// fence may then block until someone else signals it).
    Proceed,
}

/// The undocumented parts of the GPU-work surface (see `crate::context`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpuPolicies {
    /// What `D3DKMTCreateHwContext` and `D3DKMTDestroyHwContext` do.
    pub hw_contexts: HwContexts,
    /// The lowest and highest `Priority` that `D3DKMTSetContextSchedulingPriority`
    /// and `D3DKMTSetContextInProcessSchedulingPriority` accept; others are
    /// `STATUS_INVALID_PARAMETER` (documented status; the range is not).
    /// Default -7..=7.
    pub priority_range: (i32, i32),
    /// The loss `D3DKMTMarkDeviceAsError` inflicts, as `D3DKMTGetDeviceState`
    /// then reports it. Windows does not say; default
    /// [`crate::DeviceLoss::Hung`] (the device cannot go on, by its own report).
    pub mark_device_as_error: crate::removal::DeviceLoss,
    /// Whether a new allocation starts resident (see `crate::residency`).
    pub initial_residency: InitialResidency,
    /// Status of a `ReserveGpuVirtualAddress` at a fixed base that overlaps
    /// another reservation. Windows documents no status for it; default
    /// `STATUS_INVALID_PARAMETER` (the documented status for bad
    /// parameters; `STATUS_CONFLICTING_ADDRESSES` is the other candidate).
    pub gpu_va_conflict: NtStatus,
}

impl Default for GpuPolicies {
    fn default() -> Self {
        GpuPolicies {
            hw_contexts: HwContexts::default(),
            priority_range: (-7, 7),
            mark_device_as_error: crate::removal::DeviceLoss::Hung,
            initial_residency: InitialResidency::default(),
            gpu_va_conflict: NtStatus::INVALID_PARAMETER,
        }
    }
}

/// Whether `CreateAllocation(2)` leaves the new allocation resident.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum InitialResidency {
    /// Default: not resident (residency count 0) until `MakeResident`, as
    /// WDDM 2 runtimes manage residency explicitly; `QueryVideoMemoryInfo`'s
    /// `CurrentUsage` then counts only what the process made resident.
    #[default]
    NotResident,
    /// Resident at creation (residency count 1), as the WDDM 1 memory
    /// manager treated allocations; one `Evict` undoes it.
    Resident,
}

/// What `D3DKMTCreateHwContext` / `D3DKMTDestroyHwContext` do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HwContexts {
    /// Default: `STATUS_NOT_IMPLEMENTED` for every argument, NULL included,
    /// as Windows 11 answers (ros-parity.tsv, terminal stubs). Hardware
    /// queues are then created on contexts from `D3DKMTCreateContextVirtual`.
    #[default]
    NotImplemented,
    /// Hardware contexts are created as libdxg (WSL) does: a context on a
    /// node, which hardware queues can be created on.
    Emulated,
}

/// Keyed-mutex choices Windows does not document (the Wine test suite has
/// no acquire/release checks, WINE #66).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyedMutexPolicies {
    /// Who owns an acquired keyed mutex, and so who may release it and
    /// whose going abandons it.
    pub owner: KeyedMutexOwner,
    /// Status of `AcquireKeyedMutex2` when its runtime-data buffer cannot
    /// hold the data the releaser passed (the mutex is then not taken).
    /// Default `STATUS_BUFFER_TOO_SMALL`.
    pub short_runtime_data: NtStatus,
}

impl Default for KeyedMutexPolicies {
    fn default() -> Self {
        KeyedMutexPolicies { owner: KeyedMutexOwner::Handle, short_runtime_data: NtStatus::BUFFER_TOO_SMALL }
    }
}

/// Who owns an acquired keyed mutex.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KeyedMutexOwner {
    /// Default: the handle that acquired it. Only that handle may release
    /// it; destroying that handle, or its process's exit, abandons it.
    /// (Wine's model has the acquiring thread own it; a handle is the
    /// closest thing a call names.)
    #[default]
    Handle,
    /// The acquiring process: any of its handles to the mutex may release
    /// it. Its exit abandons it, and so does destroying its last handle to
    /// the mutex (nothing could release it after that); destroying one of
    /// several handles does not.
    Process,
}

/// How long the emulated host holds a sync object shared with
/// `D3DKMTShareObjectWithHost`. On WSL the host opens its own NT handle to
/// the object and closes it when it likes; nothing documents when, and we
/// have no host. The kernel's host table (`Kernel::host_shared_objects`)
/// follows this policy; the kernel's going ends every entry either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HostShareLifetime {
    /// Default: the host holds no reference of its own. An entry stands
    /// while the sharing process still has both handles it named (`hDevice`
    /// and `hObject`, naming the same device and object): destroying the
    /// sync object's handle, destroying the device, or the process's exit
    /// ends it. Guest objects are never kept alive by the host, so leak
    /// checks see only guest references.
    #[default]
    GuestHandles,
    /// The host holds a reference to the object until the kernel drops (a
    /// host that never closes its handle): the object outlives every guest
    /// handle to it, and the entry stands whatever the guest destroys.
    UntilKernelDrops,
}

/// What `D3DKMTCloseDxCoreDevice` (libdxg only, no arguments) does. libdxg
/// closes the process's `/dev/dxg` descriptor for good (it also runs as the
/// library's destructor): every later `D3DKMT*` call of the process answers
/// `STATUS_UNSUCCESSFUL`, and nothing reopens it; closing the descriptor
/// makes dxgkrnl destroy every object the process held there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DxCoreClose {
    /// Default, as libdxg: the calling virtual process is closed: its
    /// objects are torn down as at [`crate::Process::exit`], and every later
    /// `D3DKMT*` call made as it answers `STATUS_UNSUCCESSFUL` (not the
    /// exited process's `STATUS_PROCESS_IS_TERMINATING`). A C program runs as
    /// the default process, which this closes for the rest of the program,
    /// exactly as libdxg would.
    #[default]
    CloseProcess,
    /// The call does nothing (it is still traced): for a test binary whose
    /// shared default process must outlive a client's cleanup call.
    Ignore,
}
