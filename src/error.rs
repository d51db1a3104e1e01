//! The kernel's internal error type, and its one mapping to [`NtStatus`].

use crate::NtStatus;

/// Why a kernel call failed.
///
/// Each variant says which argument or rule failed, for traces and test
/// messages; [`KernelError::status`] is the only place that turns it into the
/// NTSTATUS the caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KernelError {
    /// A NULL pointer, a bad size, a bad flag combination, or a field that
    /// Windows rejects: `STATUS_INVALID_PARAMETER`.
    #[error("invalid parameter: {0}")]
    InvalidParameter(&'static str),
    /// A D3DKMT handle that names nothing of the expected type in the calling
    /// process (stale, destroyed, foreign or of another kind):
    /// `STATUS_INVALID_PARAMETER`, as Windows answers for D3DKMT handles.
    #[error("no {expected} with D3DKMT handle {handle:#010x} in this process")]
    BadLocalHandle {
        /// The handle value given.
        handle: u32,
        /// The object kind the call wanted.
        expected: &'static str,
    },
    /// An NT handle that names nothing in the calling process:
    /// `STATUS_INVALID_HANDLE`.
    #[error("no NT handle {0:#x} in this process")]
    BadNtHandle(u64),
    /// An NT handle to an object of another type. The status is the kernel's
    /// [`crate::Policies::wrong_nt_object_type`].
    #[error("NT handle names a {found}, not a {expected}")]
    WrongNtObjectType {
        /// The NT object type the call wanted.
        expected: &'static str,
        /// The NT object type the handle names.
        found: &'static str,
        /// The status the policy chose.
        status: NtStatus,
    },
    /// The handle lacks an access right: `STATUS_ACCESS_DENIED`.
    #[error("access denied: {0}")]
    AccessDenied(&'static str),
    /// A caller's buffer is too small; the status is the one the policy named.
    #[error("buffer too small: {what} needs {needed} bytes, got {given}")]
    BufferTooSmall {
        /// Which buffer.
        what: &'static str,
        /// Bytes needed.
        needed: u32,
        /// Bytes given.
        given: u32,
        /// The status the policy chose.
        status: NtStatus,
    },
    /// The adapter or driver does not support the request: `STATUS_NOT_SUPPORTED`.
    #[error("not supported: {0}")]
    NotSupported(&'static str),
    /// A name already in use: `STATUS_OBJECT_NAME_COLLISION`.
    #[error("object name already exists")]
    NameCollision,
    /// No object has the name: `STATUS_OBJECT_NAME_NOT_FOUND`.
    #[error("no object has that name")]
    NameNotFound,
    /// A handle table is full: `STATUS_NO_MEMORY`.
    #[error("handle table full")]
    TableFull,
    /// GPU memory ran out (no free GPU VA range, residency past the
    /// budget): `STATUS_NO_MEMORY`.
    #[error("out of GPU memory: {0}")]
    NoMemory(&'static str),
    /// A fixed GPU VA reservation overlaps another: the status of
    /// [`crate::GpuPolicies::gpu_va_conflict`].
    #[error("GPU virtual address range overlaps a reservation")]
    GpuVaConflict(NtStatus),
    /// The calling virtual process has exited: `STATUS_PROCESS_IS_TERMINATING`.
    #[error("the virtual process has exited")]
    ProcessExited,
    /// The part of the call that this crate does not emulate:
    /// `STATUS_NOT_IMPLEMENTED`.
    #[error("not emulated: {0}")]
    NotImplemented(&'static str),
    /// A status the fake kernel-mode driver returned, passed through.
    #[error("the kernel-mode driver returned {0}")]
    Driver(NtStatus),
    /// A part of an entry point we do not emulate, answered with the status
    /// a policy names (e.g. [`crate::Policies::unemulated_adapter_info`]).
    #[error("not emulated: {what}")]
    Unemulated {
        /// What is not emulated.
        what: &'static str,
        /// The status the policy chose.
        status: NtStatus,
    },
    /// A failure Windows reports as the generic `STATUS_UNSUCCESSFUL`
    /// (`OpenAdapterFromGdiDisplayName`'s answer to a bad name, WINE #9-#11).
    #[error("unsuccessful: {0}")]
    Unsuccessful(&'static str),
    /// Another owner holds the VidPn source: `STATUS_GRAPHICS_VIDPN_SOURCE_IN_USE`.
    #[error("the VidPn source is owned by another")]
    VidPnSourceInUse,
    /// Presentation is occluded: `STATUS_GRAPHICS_PRESENT_OCCLUDED`.
    #[error("occluded: {0}")]
    Occluded(&'static str),
    /// A global (KMT) share handle that names no live object of the expected
    /// kind: `STATUS_INVALID_PARAMETER` (WINE #50, #51, #59).
    #[error("no live {expected} with global handle {handle:#010x}")]
    BadGlobalHandle {
        /// The handle value given.
        handle: u32,
        /// The object kind the call wanted.
        expected: &'static str,
    },
    /// A resource handle (`hResource` of `CreateAllocation`) that names
    /// nothing: `STATUS_INVALID_HANDLE` (WINE #74).
    #[error("no resource with D3DKMT handle {0:#010x} in this process")]
    BadResourceHandle(u32),
    /// A keyed mutex whose owner went away holding it: `STATUS_ABANDONED`
    /// (a success-class status, as on Windows; nothing is written).
    #[error("the keyed mutex was abandoned")]
    Abandoned,
    /// A wait's timeout passed: `STATUS_TIMEOUT` (a success-class status, as
    /// on Windows; nothing is written).
    #[error("timed out")]
    Timeout,
    /// The device was removed or reset, or its adapter stopped (see
    /// `crate::removal`): `STATUS_DEVICE_REMOVED`.
    #[error("device removed: {0}")]
    DeviceRemoved(&'static str),
    /// An armed fault answered the call in its place (see `crate::fault`);
    /// the status is whatever the fault was armed with, even a success one.
    #[error("fault injected: {0}")]
    Injected(NtStatus),
}

impl KernelError {
    /// A failure status from the KMD. A status that counts as success
    /// (severity success or informational) cannot be a failure: it becomes
    /// `STATUS_UNSUCCESSFUL`, so the caller never sees success without outputs.
    pub(crate) fn driver(status: NtStatus) -> KernelError {
        KernelError::Driver(if status.is_ok() { NtStatus::UNSUCCESSFUL } else { status })
    }

    /// The NTSTATUS the caller sees for this error.
    pub fn status(&self) -> NtStatus {
        match self {
            KernelError::InvalidParameter(_)
            | KernelError::BadLocalHandle { .. }
            | KernelError::BadGlobalHandle { .. } => NtStatus::INVALID_PARAMETER,
            KernelError::BadNtHandle(_) | KernelError::BadResourceHandle(_) => NtStatus::INVALID_HANDLE,
            KernelError::Abandoned => NtStatus::ABANDONED,
            KernelError::Timeout => NtStatus::TIMEOUT,
            KernelError::WrongNtObjectType { status, .. } => *status,
            KernelError::AccessDenied(_) => NtStatus::ACCESS_DENIED,
            KernelError::BufferTooSmall { status, .. } => *status,
            KernelError::NotSupported(_) => NtStatus::NOT_SUPPORTED,
            KernelError::NameCollision => NtStatus::OBJECT_NAME_COLLISION,
            KernelError::NameNotFound => NtStatus::OBJECT_NAME_NOT_FOUND,
            KernelError::TableFull | KernelError::NoMemory(_) => NtStatus::NO_MEMORY,
            KernelError::GpuVaConflict(status) => *status,
            KernelError::ProcessExited => NtStatus::PROCESS_IS_TERMINATING,
            KernelError::NotImplemented(_) => NtStatus::NOT_IMPLEMENTED,
            KernelError::DeviceRemoved(_) => NtStatus::DEVICE_REMOVED,
            KernelError::Driver(status) | KernelError::Injected(status) => *status,
            KernelError::Unemulated { status, .. } => *status,
            KernelError::Unsuccessful(_) => NtStatus::UNSUCCESSFUL,
            KernelError::VidPnSourceInUse => NtStatus::GRAPHICS_VIDPN_SOURCE_IN_USE,
            KernelError::Occluded(_) => NtStatus::GRAPHICS_PRESENT_OCCLUDED,
        }
    }
}

impl From<KernelError> for NtStatus {
    fn from(error: KernelError) -> NtStatus {
        error.status()
    }
}

/// The result of a kernel call.
pub type KResult<T> = Result<T, KernelError>;
