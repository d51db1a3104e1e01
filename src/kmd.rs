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

/// The protected-session side of a kernel-mode driver.
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
