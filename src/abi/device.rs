//! Device exports.

use windows_sys::Wdk::Graphics::Direct3D::{D3DKMT_CREATEDEVICE, D3DKMT_DESTROYDEVICE};

use super::{export, ptr, required, required_ref};
use crate::handle::LocalHandle;

export! {
    /// `D3DKMTCreateDevice`: see [`crate::Process::create_device`]. The legacy
    /// command-buffer, allocation-list and patch-list outputs come back NULL
    /// and 0, as on WDDM 2 (WINE #30).
    D3DKMTCreateDevice(args: *mut D3DKMT_CREATEDEVICE) as PFND3DKMT_CREATEDEVICE, |process| {
        let args = required(args)?;
        let adapter: u32 = ptr::read_prefix(&args.Anonymous);
        let device = process.create_device(LocalHandle(adapter))?;
        args.hDevice = device.0;
        args.pCommandBuffer = core::ptr::null_mut();
        args.CommandBufferSize = 0;
        args.pAllocationList = core::ptr::null_mut();
        args.AllocationListSize = 0;
        args.pPatchLocationList = core::ptr::null_mut();
        args.PatchLocationListSize = 0;
        Ok(())
    }
}

export! {
    /// `D3DKMTDestroyDevice`: see [`crate::Process::destroy_device`].
    D3DKMTDestroyDevice(args: *const D3DKMT_DESTROYDEVICE) as PFND3DKMT_DESTROYDEVICE, |process| {
        let args = required_ref(args)?;
        process.destroy_device(LocalHandle(args.hDevice))
    }
}
