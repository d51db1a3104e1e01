//! VidPn source ownership and occlusion: `D3DKMTSetVidPnSourceOwner`(`1`),
//! `D3DKMTCheckVidPnExclusiveOwnership`, `D3DKMTCheckOcclusion`.
//!
//! Each VidPn source of each adapter has one owner at a time, kernel-wide
//! (the display is shared by every process). On Windows the desktop
//! compositor already holds every source SHARED, so nobody else can get
//! SHARED (WINE #33); a device can take a source EXCLUSIVE or EMULATED from
//! the compositor, and gives it back by asking for UNOWNED, by an unset
//! (no sources), or by being destroyed (WINE #34-#37). The owner is recorded
//! by device: the device's destruction (its handle destroyed, its adapter's
//! last handle closed, its process exited) releases what it holds; see
//! `Device`'s `Drop`.
//!
//! Transitions from one device's point of view ([`transition`]):
//!
//! | source is      | asks EXCLUSIVE | asks EMULATED | asks SHARED | asks UNOWNED |
//! |----------------|----------------|---------------|-------------|--------------|
//! | compositor's   | takes it       | takes it      | IN_USE      | no change    |
//! | EXCLUSIVE, own | no change      | INVALID_PARAM | INVALID_PARAM | releases   |
//! | EMULATED, own  | INVALID_PARAM  | no change     | INVALID_PARAM | releases   |
//! | another's      | IN_USE         | IN_USE        | IN_USE      | no change    |
//!
//! IN_USE is `STATUS_GRAPHICS_VIDPN_SOURCE_IN_USE`, INVALID_PARAM
//! `STATUS_INVALID_PARAMETER`. All cells are WINE #33-#37 except SHARED
//! asked by an EMULATED owner, which no test shows: we answer it as the
//! EXCLUSIVE owner's case (a mode change of an owner is INVALID_PARAMETER).
//!
//! `CheckVidPnExclusiveOwnership` answers `STATUS_GRAPHICS_PRESENT_OCCLUDED`
//! while any device holds the source EXCLUSIVE, and SUCCESS otherwise. Windows
//! may briefly answer `STATUS_GRAPHICS_PRESENT_UNOCCLUDED` after a release
//! and settles to SUCCESS within a second (WINE #38); we answer SUCCESS at
//! once, which is what a caller ends up seeing.

use crate::device::DeviceId;
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::policy::Occlusion;
use crate::process::Process;
use crate::sync::Mutex;

/// Who owns one VidPn source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SourceOwner {
    /// The desktop compositor, which holds it SHARED: no device owns it.
    Compositor,
    /// A device holds it EXCLUSIVE: presentation by others is occluded.
    Exclusive(DeviceId),
    /// A device holds it EMULATED.
    Emulated(DeviceId),
}

impl SourceOwner {
    fn device(self) -> Option<DeviceId> {
        match self {
            SourceOwner::Compositor => None,
            SourceOwner::Exclusive(d) | SourceOwner::Emulated(d) => Some(d),
        }
    }
}

/// What a device asks for one source (`D3DKMT_VIDPNSOURCEOWNER_TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerRequest {
    /// `D3DKMT_VIDPNSOURCEOWNER_UNOWNED` (0): give the source back.
    Unowned,
    /// `D3DKMT_VIDPNSOURCEOWNER_SHARED` (1).
    Shared,
    /// `D3DKMT_VIDPNSOURCEOWNER_EXCLUSIVE` (2).
    Exclusive,
    /// `D3DKMT_VIDPNSOURCEOWNER_EMULATED` (4).
    Emulated,
}

impl OwnerRequest {
    /// Decodes a `D3DKMT_VIDPNSOURCEOWNER_TYPE`. `EXCLUSIVEGDI` (3), anything
    /// above `EMULATED` and negative values are `STATUS_INVALID_PARAMETER`
    /// (WINE #33).
    pub fn from_raw(raw: i32) -> KResult<OwnerRequest> {
        match raw {
            0 => Ok(OwnerRequest::Unowned),
            1 => Ok(OwnerRequest::Shared),
            2 => Ok(OwnerRequest::Exclusive),
            3 => Err(KernelError::InvalidParameter("EXCLUSIVEGDI ownership is for the kernel's own use")),
            4 => Ok(OwnerRequest::Emulated),
            _ => Err(KernelError::InvalidParameter("unknown VidPn source owner type")),
        }
    }
}

/// The next owner of a source `current` when `device` asks `request`; see
/// the module table.
pub(crate) fn transition(current: SourceOwner, device: DeviceId, request: OwnerRequest) -> KResult<SourceOwner> {
    use OwnerRequest as R;
    use SourceOwner as S;
    let own = current.device() == Some(device);
    let foreign = current.device().is_some() && !own;
    Ok(match (request, current) {
        (R::Unowned, _) if own => S::Compositor,
        (R::Unowned, _) => current,
        (_, _) if foreign => return Err(KernelError::VidPnSourceInUse),
        (R::Shared, S::Compositor) => return Err(KernelError::VidPnSourceInUse),
        (R::Shared, _) => return Err(KernelError::InvalidParameter("an owner cannot switch to SHARED")),
        (R::Exclusive, S::Compositor) => S::Exclusive(device),
        (R::Emulated, S::Compositor) => S::Emulated(device),
        (R::Exclusive, S::Exclusive(_)) | (R::Emulated, S::Emulated(_)) => current,
        (R::Exclusive, S::Emulated(_)) | (R::Emulated, S::Exclusive(_)) => {
            return Err(KernelError::InvalidParameter("an owner cannot switch between EXCLUSIVE and EMULATED"));
        }
    })
}

/// The owners of one adapter's VidPn sources.
pub(crate) struct VidPn {
    sources: Mutex<Vec<SourceOwner>>,
}

impl VidPn {
    pub(crate) fn new(num_sources: u32) -> VidPn {
        VidPn { sources: Mutex::new(vec![SourceOwner::Compositor; num_sources as usize]) }
    }

    fn source_count(&self) -> usize {
        self.sources.lock().len()
    }

    /// Applies `requests` in order, all or nothing: on the first failure no
    /// source changes. An empty list releases every source `device` holds.
    fn set(&self, device: DeviceId, requests: &[(u32, OwnerRequest)]) -> KResult<()> {
        let mut sources = self.sources.lock();
        if requests.is_empty() {
            release(&mut sources, device);
            return Ok(());
        }
        let mut next = sources.clone();
        for &(source, request) in requests {
            let slot = next
                .get_mut(source as usize)
                .ok_or(KernelError::InvalidParameter("VidPn source id beyond the adapter's sources"))?;
            *slot = transition(*slot, device, request)?;
        }
        *sources = next;
        Ok(())
    }

    /// Gives back every source `device` holds (its destruction).
    pub(crate) fn release(&self, device: DeviceId) {
        release(&mut self.sources.lock(), device);
    }

    fn owner(&self, source: u32) -> Option<SourceOwner> {
        self.sources.lock().get(source as usize).copied()
    }

    fn any_exclusive(&self) -> bool {
        self.sources.lock().iter().any(|s| matches!(s, SourceOwner::Exclusive(_)))
    }
}

fn release(sources: &mut [SourceOwner], device: DeviceId) {
    for s in sources.iter_mut().filter(|s| s.device() == Some(device)) {
        *s = SourceOwner::Compositor;
    }
}

impl Process {
    /// `D3DKMTSetVidPnSourceOwner`: `device` asks for each (source, type) in
    /// order, all or nothing (see the module table). An empty list is an
    /// unset: the device gives back every source it holds on its adapter,
    /// and a device that holds none changes nothing (WINE #34, #37).
    ///
    /// Statuses: SUCCESS; `STATUS_INVALID_PARAMETER` for a bad device
    /// handle, a source id beyond the adapter's sources, an invalid type or
    /// a mode change (WINE #32, #33, #35); `STATUS_GRAPHICS_VIDPN_SOURCE_IN_USE`
    /// for SHARED or a source another device holds (WINE #33, #36).
    pub fn set_vidpn_source_owner(&self, device: LocalHandle, requests: &[(u32, OwnerRequest)]) -> KResult<()> {
        // Process lock, then the adapter's VidPn lock (object level).
        let state = self.lock_live()?;
        let device = state.device(device.0)?;
        device.adapter.vidpn.set(device.id, requests)
    }

    /// How many VidPn sources the device's adapter has (the most a
    /// `SetVidPnSourceOwner` call may list).
    pub(crate) fn device_source_count(&self, device: LocalHandle) -> KResult<usize> {
        Ok(self.lock_live()?.device(device.0)?.adapter.vidpn.source_count())
    }

    /// `D3DKMTCheckVidPnExclusiveOwnership`: `STATUS_GRAPHICS_PRESENT_OCCLUDED`
    /// while a device (of any process) holds the source EXCLUSIVE, SUCCESS
    /// otherwise (WINE #34, #38). A bad adapter handle or source id is
    /// `STATUS_INVALID_PARAMETER` (WINE #32).
    pub fn check_vidpn_exclusive_ownership(&self, adapter: LocalHandle, source: u32) -> KResult<()> {
        let adapter = self.adapter(adapter)?;
        match adapter.vidpn.owner(source) {
            None => Err(KernelError::InvalidParameter("VidPn source id beyond the adapter's sources")),
            Some(SourceOwner::Exclusive(_)) => Err(KernelError::Occluded("a device holds the source EXCLUSIVE")),
            Some(_) => Ok(()),
        }
    }

    /// `D3DKMTCheckOcclusion` for the window `hwnd`. NULL is
    /// `STATUS_INVALID_PARAMETER` (WINE #39). There are no windows here: any
    /// other value stands for a visible window, and the answer follows the
    /// kernel's [`Occlusion`] policy (by default, as WINE #41:
    /// `STATUS_GRAPHICS_PRESENT_OCCLUDED` while some device holds a source
    /// EXCLUSIVE and exactly one output is attached to the desktop; SUCCESS
    /// otherwise, whatever the window's state, as WINE #40 observes).
    pub fn check_occlusion(&self, hwnd: usize) -> KResult<()> {
        if hwnd == 0 {
            return Err(KernelError::InvalidParameter("NULL hWnd"));
        }
        let kernel = self.kernel_inner();
        match kernel.policies.occlusion {
            Occlusion::Never => Ok(()),
            Occlusion::SingleMonitorExclusive => {
                let monitors: usize = kernel.adapters.iter().map(|a| a.attached_outputs()).sum();
                let exclusive = kernel.adapters.iter().any(|a| a.vidpn.any_exclusive());
                if monitors == 1 && exclusive {
                    Err(KernelError::Occluded("a device holds the only monitor's source EXCLUSIVE"))
                } else {
                    Ok(())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: DeviceId = DeviceId(1);
    const B: DeviceId = DeviceId(2);

    #[test]
    fn transitions_follow_the_table() {
        use OwnerRequest as R;
        use SourceOwner as S;
        let in_use = Err(KernelError::VidPnSourceInUse);
        assert_eq!(transition(S::Compositor, A, R::Shared), in_use);
        assert_eq!(transition(S::Compositor, A, R::Exclusive), Ok(S::Exclusive(A)));
        assert_eq!(transition(S::Compositor, A, R::Emulated), Ok(S::Emulated(A)));
        assert_eq!(transition(S::Compositor, A, R::Unowned), Ok(S::Compositor));
        assert_eq!(transition(S::Exclusive(A), A, R::Exclusive), Ok(S::Exclusive(A)));
        assert!(matches!(transition(S::Exclusive(A), A, R::Emulated), Err(KernelError::InvalidParameter(_))));
        assert!(matches!(transition(S::Exclusive(A), A, R::Shared), Err(KernelError::InvalidParameter(_))));
        assert!(matches!(transition(S::Emulated(A), A, R::Exclusive), Err(KernelError::InvalidParameter(_))));
        assert_eq!(transition(S::Exclusive(A), A, R::Unowned), Ok(S::Compositor));
        assert_eq!(transition(S::Exclusive(A), B, R::Unowned), Ok(S::Exclusive(A)));
        assert_eq!(transition(S::Exclusive(A), B, R::Exclusive), in_use);
        assert_eq!(transition(S::Emulated(A), B, R::Emulated), in_use);
        assert_eq!(transition(S::Emulated(A), B, R::Shared), in_use);
    }

    #[test]
    fn set_is_all_or_nothing() {
        let v = VidPn::new(2);
        v.set(A, &[(1, OwnerRequest::Exclusive)]).unwrap();
        let r = v.set(B, &[(0, OwnerRequest::Exclusive), (1, OwnerRequest::Exclusive)]);
        assert_eq!(r, Err(KernelError::VidPnSourceInUse));
        assert_eq!(v.owner(0), Some(SourceOwner::Compositor));
        v.release(A);
        assert_eq!(v.owner(1), Some(SourceOwner::Compositor));
    }
}
