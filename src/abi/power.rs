//! `D3DKMTSetStablePowerState`; see `crate::power`. The struct carries no
//! text: the libdxg layout is the Windows one.

use windows_sys::Wdk::Graphics::Direct3D::D3DKMT_SETSTABLEPOWERSTATE;

use super::{export, required_ref};
use crate::handle::LocalHandle;

export! {
    /// `D3DKMTSetStablePowerState`: see [`crate::Process::set_stable_power_state`].
    /// Any nonzero `Enabled` is TRUE. Writes nothing.
    D3DKMTSetStablePowerState(args: *const D3DKMT_SETSTABLEPOWERSTATE) as PFND3DKMT_SETSTABLEPOWERSTATE, |process| {
        let a = required_ref(args)?;
        process.set_stable_power_state(LocalHandle(a.hAdapter), a.Enabled != 0)
    }
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<D3DKMT_SETSTABLEPOWERSTATE>() == 8);
