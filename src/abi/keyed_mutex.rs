//! Keyed-mutex exports.

use windows_sys::Wdk::Graphics::Direct3D::{
    D3DKMT_ACQUIREKEYEDMUTEX, D3DKMT_ACQUIREKEYEDMUTEX2, D3DKMT_CREATEKEYEDMUTEX, D3DKMT_CREATEKEYEDMUTEX2,
    D3DKMT_DESTROYKEYEDMUTEX, D3DKMT_OPENKEYEDMUTEX, D3DKMT_OPENKEYEDMUTEX2, D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE,
    D3DKMT_RELEASEKEYEDMUTEX, D3DKMT_RELEASEKEYEDMUTEX2,
};

use super::{export, ptr, required, required_ref};
use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};

/// Reads an optional runtime-data buffer: NULL with a nonzero size is
/// `STATUS_INVALID_PARAMETER` (WINE #61).
fn runtime_data(p: *const core::ffi::c_void, size: u32) -> KResult<Vec<u8>> {
    ptr::read_bytes(p, size).ok_or(KernelError::InvalidParameter("NULL pPrivateRuntimeData with a nonzero size"))
}

/// Reads `pTimeout`: NULL waits for ever.
fn timeout(p: *const i64) -> Option<i64> {
    ptr::in_ref(p).copied()
}

export! {
    /// `D3DKMTCreateKeyedMutex`: see [`crate::Process::create_keyed_mutex`].
    /// A zeroed struct is fine (WINE #55): there is no device.
    D3DKMTCreateKeyedMutex(args: *mut D3DKMT_CREATEKEYEDMUTEX) as PFND3DKMT_CREATEKEYEDMUTEX, |process| {
        let args = required(args)?;
        let created = process.create_keyed_mutex(args.InitialValue, &[], false)?;
        args.hKeyedMutex = created.handle.0;
        args.hSharedHandle = created.global;
        Ok(())
    }
}

export! {
    /// `D3DKMTCreateKeyedMutex2`: with runtime data and `NtSecuritySharing`
    /// (bit 0 of `Flags`), which gives no global handle (WINE #60, #64).
    D3DKMTCreateKeyedMutex2(args: *mut D3DKMT_CREATEKEYEDMUTEX2) as PFND3DKMT_CREATEKEYEDMUTEX2, |process| {
        let args = required(args)?;
        let data = runtime_data(args.pPrivateRuntimeData, args.PrivateRuntimeDataSize)?;
        let flags: u32 = ptr::read_prefix(&args.Flags);
        let created = process.create_keyed_mutex(args.InitialValue, &data, flags & 1 != 0)?;
        args.hKeyedMutex = created.handle.0;
        args.hSharedHandle = created.global;
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenKeyedMutex`: see [`crate::Process::open_keyed_mutex`].
    D3DKMTOpenKeyedMutex(args: *mut D3DKMT_OPENKEYEDMUTEX) as PFND3DKMT_OPENKEYEDMUTEX, |process| {
        let args = required(args)?;
        let (handle, _) = process.open_keyed_mutex(args.hSharedHandle)?;
        args.hKeyedMutex = handle.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenKeyedMutex2`: as `OpenKeyedMutex`, with the runtime-data
    /// size rules of WINE #61–#63. The buffer and its size are left as they
    /// are: the data is not copied back.
    D3DKMTOpenKeyedMutex2(args: *mut D3DKMT_OPENKEYEDMUTEX2) as PFND3DKMT_OPENKEYEDMUTEX2, |process| {
        let args = required(args)?;
        if args.PrivateRuntimeDataSize != 0 && args.pPrivateRuntimeData.is_null() {
            return Err(KernelError::InvalidParameter("NULL pPrivateRuntimeData with a nonzero size"));
        }
        let (handle, _) = process.open_keyed_mutex_checked(args.hSharedHandle, args.PrivateRuntimeDataSize)?;
        args.hKeyedMutex = handle.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTOpenKeyedMutexFromNtHandle`: a new handle to the keyed mutex of
    /// a combined resource share; see
    /// [`crate::Process::open_keyed_mutex_from_nt_handle`]. A zeroed struct
    /// (NULL NT handle) is `STATUS_INVALID_HANDLE`.
    D3DKMTOpenKeyedMutexFromNtHandle(args: *mut D3DKMT_OPENKEYEDMUTEXFROMNTHANDLE)
        as PFND3DKMT_OPENKEYEDMUTEXFROMNTHANDLE, |process| {
        let args = required(args)?;
        if args.PrivateRuntimeDataSize != 0 && args.pPrivateRuntimeData.is_null() {
            return Err(KernelError::InvalidParameter("NULL pPrivateRuntimeData with a nonzero size"));
        }
        let handle = process.open_keyed_mutex_from_nt_handle(NtHandle::from_ptr(args.hNtHandle))?;
        args.hKeyedMutex = handle.0;
        Ok(())
    }
}

export! {
    /// `D3DKMTDestroyKeyedMutex`: see [`crate::Process::destroy_keyed_mutex`].
    D3DKMTDestroyKeyedMutex(args: *const D3DKMT_DESTROYKEYEDMUTEX) as PFND3DKMT_DESTROYKEYEDMUTEX, |process| {
        let args = required_ref(args)?;
        process.destroy_keyed_mutex(LocalHandle(args.hKeyedMutex))
    }
}

export! {
    /// `D3DKMTAcquireKeyedMutex`: see [`crate::Process::acquire_keyed_mutex`].
    /// `FenceValue` is written on success only (not on `STATUS_TIMEOUT` or
    /// `STATUS_ABANDONED`).
    D3DKMTAcquireKeyedMutex(args: *mut D3DKMT_ACQUIREKEYEDMUTEX) as PFND3DKMT_ACQUIREKEYEDMUTEX, |process| {
        let args = required(args)?;
        let got = process.acquire_keyed_mutex(LocalHandle(args.hKeyedMutex), args.Key, timeout(args.pTimeout), None)?;
        args.FenceValue = got.fence_value;
        Ok(())
    }
}

export! {
    /// `D3DKMTAcquireKeyedMutex2`: as `AcquireKeyedMutex`, and the runtime
    /// data of the release that handed over the mutex is copied into
    /// `pPrivateRuntimeData` (a buffer of `PrivateRuntimeDataSize` bytes that
    /// must hold it, else `STATUS_BUFFER_TOO_SMALL` and the mutex is not
    /// taken; size 0 copies nothing). The size field is left as it is.
    D3DKMTAcquireKeyedMutex2(args: *mut D3DKMT_ACQUIREKEYEDMUTEX2) as PFND3DKMT_ACQUIREKEYEDMUTEX2, |process| {
        let args = required(args)?;
        if args.PrivateRuntimeDataSize != 0 && args.pPrivateRuntimeData.is_null() {
            return Err(KernelError::InvalidParameter("NULL pPrivateRuntimeData with a nonzero size"));
        }
        let room = (args.PrivateRuntimeDataSize != 0).then_some(args.PrivateRuntimeDataSize);
        let got = process.acquire_keyed_mutex(LocalHandle(args.hKeyedMutex), args.Key, timeout(args.pTimeout), room)?;
        if room.is_some() {
            ptr::write_bytes(args.pPrivateRuntimeData, &got.runtime_data);
        }
        args.FenceValue = got.fence_value;
        Ok(())
    }
}

export! {
    /// `D3DKMTReleaseKeyedMutex`: see [`crate::Process::release_keyed_mutex`].
    D3DKMTReleaseKeyedMutex(args: *mut D3DKMT_RELEASEKEYEDMUTEX) as PFND3DKMT_RELEASEKEYEDMUTEX, |process| {
        let args = required(args)?;
        process.release_keyed_mutex(LocalHandle(args.hKeyedMutex), args.Key, args.FenceValue, &[])
    }
}

export! {
    /// `D3DKMTReleaseKeyedMutex2`: as `ReleaseKeyedMutex`, storing the
    /// runtime data for the next acquirer's `AcquireKeyedMutex2`.
    D3DKMTReleaseKeyedMutex2(args: *mut D3DKMT_RELEASEKEYEDMUTEX2) as PFND3DKMT_RELEASEKEYEDMUTEX2, |process| {
        let args = required(args)?;
        let data = runtime_data(args.pPrivateRuntimeData, args.PrivateRuntimeDataSize)?;
        process.release_keyed_mutex(LocalHandle(args.hKeyedMutex), args.Key, args.FenceValue, &data)
    }
}
