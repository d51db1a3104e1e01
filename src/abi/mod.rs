//! The C ABI: the `D3DKMT*` exports and the `d3dkmt_emu_*` control API.
//!
//! Every export does the same five things, through one dispatch function: catch any
//! panic (it becomes `STATUS_INTERNAL_ERROR`, never an unwind into C); decode
//! and check its arguments (NULL, sizes, handles) into typed values; call one
//! safe core function on the calling thread's process; map the error to its
//! status; and write outputs only on success, so a failed call leaves the
//! caller's struct untouched. Each `D3DKMT*` export is checked at compile
//! time against its windows-sys `PFND3DKMT_*` type.

pub(crate) mod ptr;

mod adapter;
pub mod control;
mod device;
mod device_state;
mod gpu;
mod host;
mod keyed_mutex;
pub mod linux;
pub(crate) mod memory;
mod power;
mod resource;
mod session;
mod share;
mod stubs;
mod sync;
mod vidpn;
#[cfg(feature = "win32-handles")]
mod win32;

/// Every `D3DKMT*` export, for the crate's own callers (the conformance
/// runner). They are not public Rust API: each takes raw pointers, so a safe
/// Rust path to them would be unsound. Rust code reaches them as C does,
/// through windows-sys's `unsafe` declarations, which resolve to these symbols.
pub(crate) mod exports {
    pub use super::adapter::{
        D3DKMTCloseAdapter, D3DKMTEnumAdapters2, D3DKMTEnumAdapters3, D3DKMTOpenAdapterFromDeviceName,
        D3DKMTOpenAdapterFromGdiDisplayName, D3DKMTOpenAdapterFromHdc, D3DKMTOpenAdapterFromLuid,
        D3DKMTQueryAdapterInfo, D3DKMTQueryVideoMemoryInfo,
    };
    #[allow(unused_imports, reason = "exported under the Windows names by the libdxg build; tested here")]
    pub use super::adapter::{libdxg_OpenAdapterFromDeviceName, libdxg_OpenAdapterFromGdiDisplayName};
    pub use super::device::{D3DKMTCreateDevice, D3DKMTDestroyDevice};
    pub use super::device_state::D3DKMTGetDeviceState;
    pub use super::gpu::{
        D3DKMTCreateContext, D3DKMTCreateContextVirtual, D3DKMTCreateHwContext, D3DKMTCreateHwQueue,
        D3DKMTCreatePagingQueue, D3DKMTCreateSyncFile, D3DKMTDestroyContext, D3DKMTDestroyHwContext,
        D3DKMTDestroyHwQueue, D3DKMTDestroyPagingQueue, D3DKMTEscape, D3DKMTFlushHeapTransitions,
        D3DKMTGetContextInProcessSchedulingPriority, D3DKMTGetContextSchedulingPriority, D3DKMTMarkDeviceAsError,
        D3DKMTQueryClockCalibration, D3DKMTQueryStatistics, D3DKMTRender, D3DKMTSetContextInProcessSchedulingPriority,
        D3DKMTSetContextSchedulingPriority, D3DKMTSignalSynchronizationObject, D3DKMTSignalSynchronizationObject2,
        D3DKMTSignalSynchronizationObjectFromGpu, D3DKMTSignalSynchronizationObjectFromGpu2, D3DKMTSubmitCommand,
        D3DKMTSubmitCommandToHwQueue, D3DKMTSubmitSignalSyncObjectsToHwQueue, D3DKMTSubmitWaitForSyncObjectsToHwQueue,
        D3DKMTWaitForSynchronizationObject, D3DKMTWaitForSynchronizationObject2,
        D3DKMTWaitForSynchronizationObjectFromGpu,
    };
    pub use super::host::{D3DKMTCloseDxCoreDevice, D3DKMTShareObjectWithHost};
    pub use super::keyed_mutex::{
        D3DKMTAcquireKeyedMutex, D3DKMTAcquireKeyedMutex2, D3DKMTCreateKeyedMutex, D3DKMTCreateKeyedMutex2,
        D3DKMTDestroyKeyedMutex, D3DKMTOpenKeyedMutex, D3DKMTOpenKeyedMutex2, D3DKMTOpenKeyedMutexFromNtHandle,
        D3DKMTReleaseKeyedMutex, D3DKMTReleaseKeyedMutex2,
    };
    pub use super::memory::D3DKMTInvalidateCache;
    pub use super::memory::{
        D3DKMTChangeVideoMemoryReservation, D3DKMTEvict, D3DKMTFreeGpuVirtualAddress, D3DKMTGetAllocationPriority,
        D3DKMTLock2, D3DKMTMakeResident, D3DKMTMapGpuVirtualAddress, D3DKMTOfferAllocations,
        D3DKMTQueryAllocationResidency, D3DKMTReclaimAllocations2, D3DKMTReserveGpuVirtualAddress,
        D3DKMTSetAllocationPriority, D3DKMTUnlock2, D3DKMTUpdateAllocationProperty, D3DKMTUpdateGpuVirtualAddress,
    };
    pub use super::power::D3DKMTSetStablePowerState;
    pub use super::resource::{
        D3DKMTCreateAllocation, D3DKMTCreateAllocation2, D3DKMTDestroyAllocation, D3DKMTDestroyAllocation2,
        D3DKMTGetSharedResourceAdapterLuid, D3DKMTOpenNtHandleFromName, D3DKMTOpenResource, D3DKMTOpenResource2,
        D3DKMTOpenResourceFromNtHandle, D3DKMTQueryResourceInfo, D3DKMTQueryResourceInfoFromNtHandle,
    };
    pub use super::session::{
        D3DKMTCreateProtectedSession, D3DKMTDestroyProtectedSession, D3DKMTOpenProtectedSessionFromNtHandle,
        D3DKMTQueryProtectedSessionInfoFromNtHandle, D3DKMTQueryProtectedSessionStatus,
    };
    pub use super::share::D3DKMTShareObjects;
    pub use super::stubs::*;
    pub use super::sync::{
        D3DKMTCreateSynchronizationObject, D3DKMTOpenSyncObjectFromNtHandle, D3DKMTOpenSyncObjectNtHandleFromName,
        D3DKMTOpenSynchronizationObject,
    };
    pub use super::sync::{
        D3DKMTCreateSynchronizationObject2, D3DKMTDestroySynchronizationObject, D3DKMTOpenSyncObjectFromNtHandle2,
        D3DKMTSignalSynchronizationObjectFromCpu, D3DKMTWaitForSynchronizationObjectFromCpu,
    };
    pub use super::vidpn::{
        D3DKMTCheckOcclusion, D3DKMTCheckVidPnExclusiveOwnership, D3DKMTSetVidPnSourceOwner, D3DKMTSetVidPnSourceOwner1,
    };
}

use core::ffi::c_void;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::NtStatus;
use crate::error::{KResult, KernelError};
use crate::process::{Process, with_current};
use crate::support::Entry;

/// Why a call failed: the error (plain data, so recording it costs a store),
/// or a caught panic, whose message is kept aside.
#[derive(Clone, Copy)]
enum Failure {
    Error(KernelError),
    Panic,
}

thread_local! {
    static LAST_ERROR: Cell<Option<(Entry, Failure)>> = const { Cell::new(None) };
    static PANIC_MESSAGE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Why the calling thread's last failed `D3DKMT*` call failed: the entry
/// point and a sentence naming the argument or rule. Cleared by each call.
pub fn last_error() -> Option<(Entry, String)> {
    let (entry, failure) = LAST_ERROR.with(Cell::get)?;
    let message = match failure {
        Failure::Error(error) => error.to_string(),
        Failure::Panic => PANIC_MESSAGE.try_with(|m| m.borrow().clone()).unwrap_or_default(),
    };
    Some((entry, message))
}

/// The one choke point every `D3DKMT*` export goes through, for exports
/// whose argument the trace does not decode.
pub(crate) fn dispatch(entry: Entry, call: impl FnOnce(&Process) -> KResult<()>) -> i32 {
    dispatch_with(entry, core::ptr::null(), call)
}

/// The choke point, given the export's argument pointer (for the trace to
/// decode; it is never dereferenced here).
///
/// In order: the exited-process check, then the testing powers' hooks
/// ([`crate::fault::intercept`] may answer in the call's place, with the
/// caller's struct untouched), then the call, then the trace record.
pub(crate) fn dispatch_with(entry: Entry, arg: *const c_void, call: impl FnOnce(&Process) -> KResult<()>) -> i32 {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        with_current(|process| {
            // Every call made as an exited process fails the same way, even
            // one (like a capacity query) that would touch no process state.
            if process.0.dxcore_closed.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(KernelError::Unsuccessful("the process closed its dxg device (D3DKMTCloseDxCoreDevice)"));
            }
            if process.0.exited.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(KernelError::ProcessExited);
            }
            let pending = crate::trace::begin(process, entry, arg);
            let call_scope = crate::live::CallScope::enter(process, entry);
            let result = match crate::fault::intercept(process, &call_scope) {
                Some(injected) => Err(injected),
                None => call(process),
            };
            crate::trace::finish(pending, &result);
            result
        })
    }));
    let (status, failure) = match outcome {
        Ok(Ok(())) => (NtStatus::SUCCESS, None),
        Ok(Err(error)) => (error.status(), Some(Failure::Error(error))),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let message = format!("internal error (a bug in d3dkmt-emu): {what}");
            let _ = PANIC_MESSAGE.try_with(|m| {
                if let Ok(mut m) = m.try_borrow_mut() {
                    *m = message;
                }
            });
            (NtStatus::INTERNAL_ERROR, Some(Failure::Panic))
        }
    };
    LAST_ERROR.with(|l| l.set(failure.map(|f| (entry, f))));
    status.0
}

/// Decodes a required argument pointer: NULL is `STATUS_INVALID_PARAMETER`.
pub(crate) fn required<'a, T>(p: *mut T) -> KResult<&'a mut T> {
    ptr::in_mut(p).ok_or(KernelError::InvalidParameter("NULL argument"))
}

/// Decodes a required read-only argument pointer.
pub(crate) fn required_ref<'a, T>(p: *const T) -> KResult<&'a T> {
    ptr::in_ref(p).ok_or(KernelError::InvalidParameter("NULL argument"))
}

/// Defines a `D3DKMT*` export taking one struct pointer, checked against its
/// windows-sys PFN type.
macro_rules! export {
    ($(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) as $pfn:ident, |$process:ident| $body:block) => {
        $(#[$doc])*
        #[allow(unsafe_code, reason = "an exported C symbol")]
        #[unsafe(no_mangle)]
        pub extern "system" fn $name($arg: $ty) -> windows_sys::Win32::Foundation::NTSTATUS {
            $crate::abi::dispatch_with($crate::support::Entry::$name, $arg as *const core::ffi::c_void, |$process| $body)
        }
        const _: windows_sys::Wdk::Graphics::Direct3D::$pfn = Some($name);
    };
    // An export whose struct carries WCHAR text: exported under its name by
    // the Windows-layout build only; the libdxg build exports the
    // `libdxg_export!` twin of it under that name instead (see crate::wchar).
    (@windows_layout $(#[$doc:meta])* $name:ident($arg:ident: $ty:ty) as $pfn:ident, |$process:ident| $body:block) => {
        $(#[$doc])*
        #[allow(unsafe_code, reason = "an exported C symbol")]
        #[cfg_attr(not(d3dkmt_wchar32), unsafe(no_mangle))]
        #[allow(non_snake_case, reason = "the Windows names")]
        pub extern "system" fn $name($arg: $ty) -> windows_sys::Win32::Foundation::NTSTATUS {
            $crate::abi::dispatch_with($crate::support::Entry::$name, $arg as *const core::ffi::c_void, |$process| $body)
        }
        const _: windows_sys::Wdk::Graphics::Direct3D::$pfn = Some($name);
    };
}
pub(crate) use export;

/// Defines the libdxg-layout (4-byte WCHAR, [`linux`]) twin of a
/// `D3DKMT*` export: `libdxg_<Name>`, exported as `D3DKMT<Name>` by the
/// libdxg build (`libdxg.so`, `libdxcore.so`) and an ordinary function in
/// the Windows-layout build, where the tests call it.
macro_rules! libdxg_export {
    ($(#[$doc:meta])* $name:ident = $entry:ident($arg:ident: $ty:ty), |$process:ident| $body:block) => {
        $(#[$doc])*
        #[allow(unsafe_code, reason = "an exported C symbol")]
        #[cfg_attr(d3dkmt_wchar32, unsafe(export_name = stringify!($entry)))]
        #[cfg_attr(not(d3dkmt_wchar32), allow(dead_code, reason = "exported by the libdxg build"))]
        #[allow(non_snake_case, reason = "the Windows names")]
        pub extern "system" fn $name($arg: $ty) -> windows_sys::Win32::Foundation::NTSTATUS {
            $crate::abi::dispatch_with($crate::support::Entry::$entry, $arg as *const core::ffi::c_void, |$process| $body)
        }
    };
}
pub(crate) use libdxg_export;
