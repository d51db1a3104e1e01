//! `CloseHandle` and `DuplicateHandle` under their Win32 names (feature
//! `win32-handles`), for code written against Windows that closes and
//! duplicates the NT handles `D3DKMTShareObjects` gives.
//!
//! They handle our NT handles only. A process handle is either the
//! current-process pseudo-handle `(HANDLE)-1`, or a value from
//! `d3dkmt_emu_process_win32_handle`. On failure they return FALSE, and
//! `d3dkmt_emu_last_error` says why (there is no Win32 `GetLastError` here).

use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::core::BOOL;

use super::control::d3dkmt_emu_process;
use super::{dispatch, ptr};
use crate::error::KernelError;
use crate::handle::NtHandle;
use crate::shared::DuplicateOptions;
use crate::support::Entry;
use crate::{KResult, Process};

/// Tag of the process handles `d3dkmt_emu_process_win32_handle` makes: the
/// tag, the kernel's id in bits 32..62 and the process id in bits 0..32, so a
/// handle made for one kernel names nothing in another.
const PROCESS_HANDLE_TAG: u64 = 0x4000_0000_0000_0000;

fn process_handle(process: &Process) -> u64 {
    PROCESS_HANDLE_TAG | (process.kernel().id() & 0x3FFF_FFFF) << 32 | process.id().0 as u64
}

fn process_from_handle(current: &Process, h: HANDLE) -> KResult<Process> {
    let v = h as usize as u64;
    if v == u64::MAX {
        return Ok(current.clone());
    }
    let pid = v as u32;
    let found = current.kernel().processes().into_iter().find(|p| p.id().0 == pid);
    found.filter(|p| process_handle(p) == v).ok_or(KernelError::BadNtHandle(v))
}

/// A Win32-style process handle for `process`, for `DuplicateHandle`. It is a
/// plain value: nothing to close.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "C" fn d3dkmt_emu_process_win32_handle(process: *const d3dkmt_emu_process) -> HANDLE {
    match ptr::in_ref(process) {
        Some(p) => process_handle(&p.0) as usize as HANDLE,
        None => core::ptr::null_mut(),
    }
}

/// `CloseHandle` for an NT handle of the calling thread's process.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "system" fn CloseHandle(handle: HANDLE) -> BOOL {
    let status = dispatch(Entry::CloseHandle, |process| process.close_nt_handle(NtHandle::from_ptr(handle)));
    (status >= 0) as BOOL
}

/// `DuplicateHandle` for NT handles between virtual processes.
/// `bInheritHandle` is ignored: virtual processes have no children.
#[unsafe(no_mangle)]
#[allow(unsafe_code, reason = "an exported C symbol")]
pub extern "system" fn DuplicateHandle(
    source_process: HANDLE,
    source: HANDLE,
    target_process: HANDLE,
    target: *mut HANDLE,
    desired_access: u32,
    _inherit: BOOL,
    options: u32,
) -> BOOL {
    let status = dispatch(Entry::DuplicateHandle, |process| {
        let from = process_from_handle(process, source_process)?;
        let options = DuplicateOptions::from_bits(options)?;
        let to = match process_from_handle(process, target_process) {
            Ok(to) => to,
            Err(e) => {
                if options.close_source {
                    // Closed whatever the outcome, as Windows does.
                    let _ = from.close_nt_handle(NtHandle::from_ptr(source));
                }
                return Err(e);
            }
        };
        if target.is_null() && !options.close_source {
            return Err(KernelError::InvalidParameter("NULL lpTargetHandle"));
        }
        let new = from.duplicate_nt_handle(NtHandle::from_ptr(source), &to, desired_access, options)?;
        if !ptr::write_out(target, new.as_ptr()) {
            // Windows allows a NULL target with DUPLICATE_CLOSE_SOURCE: close only.
            to.close_nt_handle(new)?;
        }
        Ok(())
    });
    (status >= 0) as BOOL
}
