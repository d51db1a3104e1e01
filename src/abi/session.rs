//! Protected-session exports.

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DKMT_CREATEPROTECTEDSESSION, D3DKMT_DESTROYPROTECTEDSESSION, D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE,
    D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE, D3DKMT_QUERYPROTECTEDSESSIONSTATUS,
};

use super::{export, ptr, required};
use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};

/// A blob argument: a nonzero size with a NULL pointer is
/// `STATUS_INVALID_PARAMETER`; size 0 is an empty blob whatever the pointer.
fn blob(p: *const core::ffi::c_void, size: u32, what: &'static str) -> KResult<Vec<u8>> {
    ptr::read_bytes(p, size).ok_or(KernelError::InvalidParameter(what))
}

export! {
    /// `D3DKMTCreateProtectedSession`: see
    /// [`crate::Process::create_protected_session`]. NULL, zeroed and
    /// 0xA5-filled structs are `STATUS_INVALID_PARAMETER` (ROS parity); the
    /// blob pointers are read only after both handles are found good.
    D3DKMTCreateProtectedSession(args: *mut D3DKMT_CREATEPROTECTEDSESSION) as PFND3DKMT_CREATEPROTECTEDSESSION,
        |process| {
        let args = required(args)?;
        let handle = process.create_protected_session_with(
            LocalHandle(args.hDevice),
            LocalHandle(args.hSyncObject),
            || {
                Ok((
                    blob(args.pPrivateDriverData, args.PrivateDriverDataSize, "NULL pPrivateDriverData")?,
                    blob(args.pPrivateRuntimeData, args.PrivateRuntimeDataSize, "NULL pPrivateRuntimeData")?,
                ))
            },
        )?;
        args.hHandle = handle.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTDestroyProtectedSession`: see
    /// [`crate::Process::destroy_protected_session`].
    D3DKMTDestroyProtectedSession(args: *mut D3DKMT_DESTROYPROTECTEDSESSION)
        as PFND3DKMT_DESTROYPROTECTEDSESSION, |process| {
        let args = required(args)?;
        process.destroy_protected_session(LocalHandle(args.hHandle))
    }
}

export! {
    /// `D3DKMTQueryProtectedSessionStatus`: see
    /// [`crate::Process::query_protected_session_status`].
    D3DKMTQueryProtectedSessionStatus(args: *mut D3DKMT_QUERYPROTECTEDSESSIONSTATUS)
        as PFND3DKMT_QUERYPROTECTEDSESSIONSTATUS, |process| {
        let args = required(args)?;
        let status = process.query_protected_session_status(LocalHandle(args.hHandle))?;
        args.Status = status as i32;
        Ok(())
    }
}

/// How the info query answers for one blob: with a NULL buffer, just the
/// size; with a large enough buffer, the bytes and the size; with a smaller
/// one, the short-buffer policy's status.
fn plan_blob(
    buffer: *const core::ffi::c_void,
    room: u32,
    stored: &[u8],
    what: &'static str,
    short: crate::NtStatus,
) -> KResult<bool> {
    if buffer.is_null() {
        return Ok(false);
    }
    if (room as usize) < stored.len() {
        return Err(KernelError::BufferTooSmall { what, needed: stored.len() as u32, given: room, status: short });
    }
    Ok(true)
}

export! {
    /// `D3DKMTQueryProtectedSessionInfoFromNtHandle`: copies out the stored
    /// driver and runtime blobs.
    ///
    /// Per blob: a NULL buffer gets only the size; a buffer at least as large
    /// as the blob gets the bytes, and the size field becomes the blob's
    /// size; a smaller one fails with [`crate::Policies::short_blob_buffer`]
    /// and nothing is written. The NT handle is checked first: NULL or
    /// garbage is `STATUS_INVALID_HANDLE` (ROS parity).
    D3DKMTQueryProtectedSessionInfoFromNtHandle(args: *mut D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE)
        as PFND3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE, |process| {
        let args = required(args)?;
        let short = process.kernel_inner().policies.short_blob_buffer;
        process.with_protected_session_blobs(NtHandle::from_ptr(args.hNtHandle), |driver, runtime| {
            let copy_driver =
                plan_blob(args.pPrivateDriverData, args.PrivateDriverDataSize, driver, "driver data", short)?;
            let copy_runtime =
                plan_blob(args.pPrivateRuntimeData, args.PrivateRuntimeDataSize, runtime, "runtime data", short)?;
            if copy_driver {
                ptr::write_bytes(args.pPrivateDriverData, driver);
            }
            if copy_runtime {
                ptr::write_bytes(args.pPrivateRuntimeData, runtime);
            }
            args.PrivateDriverDataSize = driver.len() as u32;
            args.PrivateRuntimeDataSize = runtime.len() as u32;
            Ok(())
        })
    }
}

export! {
    /// `D3DKMTOpenProtectedSessionFromNtHandle`: see
    /// [`crate::Process::open_protected_session_from_nt_handle`].
    D3DKMTOpenProtectedSessionFromNtHandle(args: *mut D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE)
        as PFND3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE, |process| {
        let args = required(args)?;
        let handle = process.open_protected_session_from_nt_handle(NtHandle::from_ptr(args.hNtHandle))?;
        args.hHandle = handle.0;
        Ok(())
    }
}
