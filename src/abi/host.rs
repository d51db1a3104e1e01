//! `D3DKMTShareObjectWithHost` (libdxg only) and `D3DKMTCloseDxCoreDevice`
//! (libdxg only): the exports that talk to what lies outside the process,
//! the WSL host and the `/dev/dxg` connection. See `crate::host` and
//! `crate::dxcore`. windows-sys declares `D3DKMT_SHAREOBJECTWITHHOST` but
//! neither function, so the signatures are ours (`include/d3dkmt_emu.h`).
//! Neither struct carries text: the libdxg layout is the Windows one.

use core::ffi::c_void;

use windows_sys::Wdk::Graphics::Direct3D::D3DKMT_SHAREOBJECTWITHHOST;

use super::{dispatch_with, required};
use crate::handle::LocalHandle;
use crate::support::Entry;

/// `D3DKMTShareObjectWithHost`: gives the emulated host a handle to a sync
/// object created with `NtSecuritySharing`; see
/// [`crate::Process::share_object_with_host`]. Writes `hVailProcessNtHandle`
/// on success; `Reserved` is not read.
#[allow(unsafe_code, reason = "an exported C symbol")]
#[unsafe(no_mangle)]
pub extern "system" fn D3DKMTShareObjectWithHost(
    args: *mut D3DKMT_SHAREOBJECTWITHHOST,
) -> windows_sys::Win32::Foundation::NTSTATUS {
    dispatch_with(Entry::D3DKMTShareObjectWithHost, args as *const c_void, |process| {
        let args = required(args)?;
        let value = process.share_object_with_host(LocalHandle(args.hDevice), LocalHandle(args.hObject))?;
        args.hVailProcessNtHandle = value;
        Ok(())
    })
}

/// `D3DKMTCloseDxCoreDevice`: no arguments, no result (libdxg's signature).
/// Closes the calling process's connection per the kernel's
/// [`crate::DxCoreClose`] policy; see [`crate::Process::close_dxcore_device`].
/// The call is traced; [`crate::last_error`] is cleared by it.
#[allow(unsafe_code, reason = "an exported C symbol")]
#[unsafe(no_mangle)]
pub extern "system" fn D3DKMTCloseDxCoreDevice() {
    let arg = (&crate::trace::specs::NoArgs as *const crate::trace::specs::NoArgs).cast();
    dispatch_with(Entry::D3DKMTCloseDxCoreDevice, arg, |process| {
        process.close_dxcore_device();
        Ok(())
    });
}

#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<D3DKMT_SHAREOBJECTWITHHOST>() == 24);
