//! The fake kernel-mode driver (KMD): the protected-session DDIs and the
//! status callback, played by the test.
//!
//! On Windows dxgkrnl calls the display driver's `DxgkDdiCreateProtectedSession`
//! when a session is created and `DxgkDdiDestroyProtectedSession` when its last
//! reference goes; the driver reports status changes with
//! `DxgkCbSetProtectedSessionStatus`. Here a test implements [`Kmd`] (or, from
//! C, fills a callback table) and calls [`crate::Kernel::set_protected_session_status`].
//!
//! Two handle spaces exist, as on Windows: the kernel's [`SessionKey`], which
//! the KMD is given at create time and passes to the status callback, and the
//! KMD's own handle, which it returns from create and gets back on destroy.

use crate::{Kernel, Luid, NtStatus};

/// The kernel's own handle for a protected session (dxgkrnl's handle, the one
/// `DxgkCbSetProtectedSessionStatus` takes). Unique within a kernel, never 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey(pub u64);

/// A protected session's status (`D3DKMT_PROTECTED_SESSION_STATUS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum SessionStatus {
    /// `D3DKMT_PROTECTED_SESSION_STATUS_OK` (0).
    Ok = 0,
    /// `D3DKMT_PROTECTED_SESSION_STATUS_INVALID` (1).
    Invalid = 1,
}

impl SessionStatus {
    /// The status for a raw value, if it is one.
    pub fn from_raw(raw: i32) -> Option<SessionStatus> {
        match raw {
            0 => Some(SessionStatus::Ok),
            1 => Some(SessionStatus::Invalid),
            _ => None,
        }
    }
}

/// What the create DDI sees (`DXGKARG_CREATEPROTECTEDSESSION`).
pub struct CreateSessionArgs<'a> {
    /// The adapter the session's device is on.
    pub adapter: Luid,
    /// The kernel creating the session, for calls back into it (e.g.
    /// [`Kernel::set_protected_session_status`]). A KMD that must reach the
    /// kernel later keeps a [`crate::WeakKernel`], not a `Kernel`: the kernel
    /// owns its KMD, so a strong reference would keep both alive forever.
    pub kernel: Kernel,
    /// The kernel's handle for the session, for status callbacks.
    pub session: SessionKey,
    /// The driver blob the UMD passed. The KMD may rewrite it in place; the
    /// kernel stores it as it is when the DDI returns, and that is what
    /// `QueryProtectedSessionInfoFromNtHandle` later hands out.
    pub driver_data: &'a mut [u8],
}

/// The kernel's own handle for a context or hardware queue, unique across
/// kernels, never 0: what the GPU-work callbacks of [`Kmd`] name them by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContextKey(pub u64);

/// What the create-context DDI sees (`DxgkDdiCreateContext`).
pub struct CreateContextArgs<'a> {
    /// The adapter the context's device is on.
    pub adapter: Luid,
    /// The kernel's handle for the new context.
    pub context: ContextKey,
    /// Which create call made it.
    pub kind: crate::ContextKind,
    /// `NodeOrdinal` (checked against the adapter's node count).
    pub node_ordinal: u32,
    /// `EngineAffinity`.
    pub engine_affinity: u32,
    /// The raw `D3DDDI_CREATECONTEXTFLAGS` (or `_CREATEHWCONTEXTFLAGS`) bits.
    pub flags: u32,
    /// `ClientHint` (`D3DKMT_CLIENTHINT`; 0 for hardware contexts).
    pub client_hint: i32,
    /// The UMD's private driver data. The KMD may rewrite it in place; for
    /// `D3DKMTCreateContext` the rewritten bytes go back to the caller.
    pub driver_data: &'a mut [u8],
}

/// One submission, as the KMD sees it (`DxgkDdiSubmitCommand` and the
/// hardware-queue submit), before the fake GPU runs it.
pub struct Submission<'a> {
    /// The adapter.
    pub adapter: Luid,
    /// The context submitted to (for a hardware queue, the queue's context).
    pub context: ContextKey,
    /// The hardware queue submitted to, if any.
    pub hw_queue: Option<ContextKey>,
    /// The context's node.
    pub node_ordinal: u32,
    /// The command buffer's GPU virtual address (`SubmitCommand`,
    /// `SubmitCommandToHwQueue`), or its offset in the context's command
    /// buffer (`Render`).
    pub command_buffer: u64,
    /// Its length in bytes.
    pub command_length: u32,
    /// The command buffer's bytes, when they are in memory we can read:
    /// `D3DKMTRender`'s, in the legacy context's command buffer. GPU virtual
    /// addresses have no memory behind them here, so other submissions give
    /// `None`.
    pub command_bytes: Option<&'a [u8]>,
    /// The UMD's private driver data for this submission.
    pub private_data: &'a [u8],
    /// The progress-fence value a hardware-queue submission will signal.
    pub progress_fence_value: Option<u64>,
}

/// A `D3DKMTEscape` of type `D3DKMT_ESCAPE_DRIVERPRIVATE`, as the KMD sees it
/// (`DxgkDdiEscape`).
pub struct EscapeArgs<'a> {
    /// The adapter named by `hAdapter`.
    pub adapter: Luid,
    /// `hDevice`, if nonzero (a device of the calling process on that adapter).
    pub device: Option<u32>,
    /// `hContext`'s kernel handle, if nonzero.
    pub context: Option<ContextKey>,
    /// The raw `D3DDDI_ESCAPEFLAGS` bits.
    pub flags: u32,
    /// The private data, in and out: what the KMD leaves here is copied back
    /// to the caller's buffer when the call succeeds.
    pub data: &'a mut [u8],
}

/// The kernel-mode driver, played by the test: protected sessions, and the
/// GPU-work DDIs. Every method has a default, so an implementation
/// overrides only what it checks.
///
/// Called with no kernel lock held, so an implementation may call back into
/// the kernel (for example [`crate::Kernel::set_protected_session_status`]).
pub trait Kmd: Send + Sync {
    /// `DxgkDdiCreateProtectedSession`: returns the KMD's handle for the
    /// session, or a failure status that `D3DKMTCreateProtectedSession` then
    /// returns unchanged. The default accepts every session.
    fn create_protected_session(&self, args: &mut CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
        Ok(args.session.0)
    }

    /// `DxgkDdiDestroyProtectedSession`: runs once, when the last reference
    /// to the session (any process's handle or NT handle) goes. The session
    /// key is already dead: a status set on it fails.
    fn destroy_protected_session(&self, adapter: Luid, kmd_session: u64) {
        let _ = (adapter, kmd_session);
    }

    /// `DxgkDdiCreateContext`: a failure status is what the create call
    /// returns, and no context is made. The default accepts every context.
    fn create_context(&self, args: &mut CreateContextArgs<'_>) -> Result<(), NtStatus> {
        let _ = args;
        Ok(())
    }

    /// `DxgkDdiDestroyContext`: runs once, when the context's last
    /// reference goes (its handle, and the hardware queues on it).
    fn destroy_context(&self, adapter: Luid, context: ContextKey) {
        let _ = (adapter, context);
    }

    /// A submission, before it is queued: a failure status is what the
    /// submit call returns, and nothing is queued. The default accepts all.
    fn submit(&self, submission: &Submission<'_>) -> Result<(), NtStatus> {
        let _ = submission;
        Ok(())
    }

    /// `DxgkDdiEscape` for `D3DKMT_ESCAPE_DRIVERPRIVATE`: a failure status is
    /// what `D3DKMTEscape` returns (and the caller's buffer stays untouched).
    /// The default accepts every escape and leaves the data as it is.
    fn escape(&self, args: &mut EscapeArgs<'_>) -> Result<(), NtStatus> {
        let _ = args;
        Ok(())
    }
    /// The private driver data the KMD keeps for a new allocation on
    /// `adapter`, which `D3DKMTOpenResource(2)` and
    /// `D3DKMTOpenResourceFromNtHandle` hand to openers, and whose sizes the
    /// resource queries report. Called with no kernel lock held. The default
    /// is [`default_allocation_private_data`]; answer per adapter to model
    /// different drivers.
    fn allocation_private_data(&self, adapter: Luid, desc: &AllocationDesc<'_>) -> Vec<u8> {
        let _ = adapter;
        default_allocation_private_data(desc)
    }
}

/// What the KMD is told about a new allocation (`DxgkDdiCreateAllocation`).
#[derive(Clone, Copy, Debug)]
pub struct AllocationDesc<'a> {
    /// Its size in bytes.
    pub size: u64,
    /// The per-allocation private driver data the UMD passed (may be empty).
    pub umd_driver_data: &'a [u8],
}

/// The default per-allocation private driver data: 0x40 bytes, the size
/// (u64, little-endian) then the UMD data's length (u32), then zeros.
/// Nonzero and under 0x400 bytes, as Windows' drivers give (WINE #87).
pub fn default_allocation_private_data(desc: &AllocationDesc<'_>) -> Vec<u8> {
    let mut data = vec![0u8; 0x40];
    data[..8].copy_from_slice(&desc.size.to_le_bytes());
    data[8..12].copy_from_slice(&(desc.umd_driver_data.len() as u32).to_le_bytes());
    data
}

/// The KMD a kernel starts with: accepts every session, does nothing on destroy.
#[derive(Default, Debug, Clone, Copy)]
pub struct DefaultKmd;

impl Kmd for DefaultKmd {}
