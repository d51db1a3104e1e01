//! `D3DKMTGetDeviceState`: what user mode sees of device removal and TDR
//! (see [`crate::removal`]).

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DKMT_DEVICERESET_STATE, D3DKMT_DEVICERESET_STATE_0, D3DKMT_DEVICESTATE_EXECUTION, D3DKMT_DEVICESTATE_PAGE_FAULT,
    D3DKMT_DEVICESTATE_PRESENT, D3DKMT_DEVICESTATE_PRESENT_DWM, D3DKMT_DEVICESTATE_PRESENT_QUEUE,
    D3DKMT_DEVICESTATE_RESET, D3DKMT_GETDEVICESTATE,
};

use super::{export, required};
use crate::error::KernelError;
use crate::handle::LocalHandle;

export! {
    /// `D3DKMTGetDeviceState`.
    ///
    /// The device handle is checked first: NULL struct, zero or bad handle
    /// are `STATUS_INVALID_PARAMETER`. Then by `StateType`:
    /// - `D3DKMT_DEVICESTATE_EXECUTION`: `ExecutionState` gets the device's
    ///   [`crate::DeviceHealth::execution_state`], `ACTIVE` or the reason it
    ///   was lost (`STOPPED` after an adapter removal). Always succeeds, so a
    ///   caller can learn why its device went.
    /// - `D3DKMT_DEVICESTATE_RESET`: `ResetState.Value` is 0 (no desktop
    ///   switch: we model no desktops); a lost device is
    ///   `STATUS_DEVICE_REMOVED`, the status the function page lists for a
    ///   stopped adapter or reset display device.
    /// - The present, DWM-present, present-queue and page-fault states:
    ///   presentation and page faults are not emulated,
    ///   `STATUS_NOT_IMPLEMENTED`.
    /// - Any other value: `STATUS_INVALID_PARAMETER`.
    ///
    /// Nothing is written on failure.
    D3DKMTGetDeviceState(args: *mut D3DKMT_GETDEVICESTATE) as PFND3DKMT_GETDEVICESTATE, |process| {
        let args = required(args)?;
        let health = process.device_health(LocalHandle(args.hDevice))?;
        match args.StateType {
            D3DKMT_DEVICESTATE_EXECUTION => {
                args.Anonymous.ExecutionState = health.execution_state();
                Ok(())
            }
            D3DKMT_DEVICESTATE_RESET => {
                if health.is_lost() {
                    return Err(KernelError::DeviceRemoved("the device was removed or reset"));
                }
                args.Anonymous.ResetState =
                    D3DKMT_DEVICERESET_STATE { Anonymous: D3DKMT_DEVICERESET_STATE_0 { Value: 0 } };
                Ok(())
            }
            D3DKMT_DEVICESTATE_PRESENT
            | D3DKMT_DEVICESTATE_PRESENT_DWM
            | D3DKMT_DEVICESTATE_PRESENT_QUEUE
            | D3DKMT_DEVICESTATE_PAGE_FAULT => {
                Err(KernelError::NotImplemented("present and page-fault device states"))
            }
            _ => Err(KernelError::InvalidParameter("unknown StateType")),
        }
    }
}
