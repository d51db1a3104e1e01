//! VidPn ownership and occlusion exports; the rules are in [`crate::vidpn`].

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DKMT_CHECKOCCLUSION, D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP, D3DKMT_SETVIDPNSOURCEOWNER, D3DKMT_SETVIDPNSOURCEOWNER1,
};

use super::{export, ptr, required_ref};
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::process::Process;
use crate::vidpn::OwnerRequest;

/// Decodes a `D3DKMT_SETVIDPNSOURCEOWNER` and applies it. The device is
/// checked first (a zeroed struct is `STATUS_INVALID_PARAMETER`, WINE #32);
/// a count of 0 is an unset whatever the pointers; a nonzero count needs both
/// arrays and may not exceed the adapter's sources; every type is decoded
/// before any source changes.
fn set_owner(process: &Process, args: &D3DKMT_SETVIDPNSOURCEOWNER) -> KResult<()> {
    let device = LocalHandle(args.hDevice);
    let sources = process.device_source_count(device)?;
    let count = args.VidPnSourceCount as usize;
    if count > sources {
        return Err(KernelError::InvalidParameter("VidPnSourceCount is more than the adapter's sources"));
    }
    let types =
        ptr::read_array(args.pType, count).ok_or(KernelError::InvalidParameter("NULL pType with a nonzero count"))?;
    let ids = ptr::read_array(args.pVidPnSourceId, count)
        .ok_or(KernelError::InvalidParameter("NULL pVidPnSourceId with a nonzero count"))?;
    let requests = ids
        .into_iter()
        .zip(types)
        .map(|(id, ty)| Ok((id, OwnerRequest::from_raw(ty)?)))
        .collect::<KResult<Vec<_>>>()?;
    process.set_vidpn_source_owner(device, &requests)
}

export! {
    /// `D3DKMTSetVidPnSourceOwner`: see [`Process::set_vidpn_source_owner`].
    D3DKMTSetVidPnSourceOwner(args: *const D3DKMT_SETVIDPNSOURCEOWNER) as PFND3DKMT_SETVIDPNSOURCEOWNER, |process| {
        set_owner(process, required_ref(args)?)
    }
}

export! {
    /// `D3DKMTSetVidPnSourceOwner1`: as `SetVidPnSourceOwner` on `Version0`.
    /// The `AllowOutputDuplication` flag is accepted and has no effect (there
    /// is no output duplication here).
    D3DKMTSetVidPnSourceOwner1(args: *const D3DKMT_SETVIDPNSOURCEOWNER1) as PFND3DKMT_SETVIDPNSOURCEOWNER1, |process| {
        set_owner(process, &required_ref(args)?.Version0)
    }
}

export! {
    /// `D3DKMTCheckVidPnExclusiveOwnership`: see
    /// [`Process::check_vidpn_exclusive_ownership`]. NULL or a zeroed struct
    /// is `STATUS_INVALID_PARAMETER` (WINE #32).
    D3DKMTCheckVidPnExclusiveOwnership(args: *const D3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP)
        as PFND3DKMT_CHECKVIDPNEXCLUSIVEOWNERSHIP, |process| {
        let args = required_ref(args)?;
        process.check_vidpn_exclusive_ownership(LocalHandle(args.hAdapter), args.VidPnSourceId)
    }
}

export! {
    /// `D3DKMTCheckOcclusion`: see [`Process::check_occlusion`]. NULL or a
    /// NULL hWindow is `STATUS_INVALID_PARAMETER` (WINE #39).
    D3DKMTCheckOcclusion(args: *const D3DKMT_CHECKOCCLUSION) as PFND3DKMT_CHECKOCCLUSION, |process| {
        let args = required_ref(args)?;
        process.check_occlusion(args.hWindow as usize)
    }
}
