//! The table of entry points: what each `D3DKMT*` export does here.
//!
//! Every export goes through [`crate::abi`]'s dispatch with its [`Entry`], and
//! this table says whether we emulate it. A `Stub` row's export returns
//! `STATUS_NOT_IMPLEMENTED` without looking at its arguments, and
//! [`crate::last_error`] says so; nothing pretends to succeed.

/// How much of an entry point is emulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Emulated as Windows behaves, as far as the facts we have go.
    Supported,
    /// Emulated in part; the text says what is missing, and the missing part
    /// answers `STATUS_NOT_IMPLEMENTED`.
    Partial(&'static str),
    /// Exported, but returns `STATUS_NOT_IMPLEMENTED`.
    Stub,
}

macro_rules! entry_points {
    ($($name:ident => $support:expr,)*) => {
        /// One exported entry point (the Windows spelling).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types, reason = "the exact Windows spellings")]
        pub enum Entry {
            $(#[doc = stringify!($name)] $name,)*
        }

        /// Every entry point with its name and support level, in export order.
        pub const ENTRY_POINTS: &[(Entry, &str, Support)] = &[
            $((Entry::$name, stringify!($name), $support),)*
        ];
    };
}

use Support::{Partial, Stub, Supported};

entry_points! {
    D3DKMTEnumAdapters2 => Supported,
    D3DKMTEnumAdapters3 => Supported,
    D3DKMTOpenAdapterFromLuid => Supported,
    D3DKMTCloseAdapter => Supported,
    D3DKMTCreateDevice => Supported,
    D3DKMTDestroyDevice => Supported,
    D3DKMTOpenAdapterFromGdiDisplayName => Supported,
    D3DKMTOpenAdapterFromDeviceName => Supported,
    D3DKMTOpenAdapterFromHdc => Partial("there are no device contexts: a NULL hDc is STATUS_INVALID_PARAMETER, any other hDc STATUS_NOT_IMPLEMENTED"),
    D3DKMTQueryAdapterInfo => Partial("a table of types (UMDRIVERPRIVATE, GETSEGMENTSIZE, ADAPTERGUID, ADAPTERADDRESS, ADAPTERREGISTRYINFO, CHECKDRIVERUPDATESTATUS, DRIVERVERSION, ADAPTERTYPE, PHYSICALADAPTERCOUNT, PHYSICALADAPTERDEVICEIDS, HWDRM_SUPPORT, QUERYREGISTRY for the driver store path, DRIVER_DESCRIPTION, WDDM_2_7_CAPS); other types (and registry values) answer the unemulated_adapter_info policy status (default STATUS_NOT_IMPLEMENTED)"),
    D3DKMTQueryVideoMemoryInfo => Partial("the calling process only (hProcess NULL or (HANDLE)-1); usage and reservations are always 0"),
    D3DKMTSetVidPnSourceOwner => Supported,
    D3DKMTSetVidPnSourceOwner1 => Supported,
    D3DKMTCheckVidPnExclusiveOwnership => Supported,
    D3DKMTCheckOcclusion => Partial("there are no windows: any nonzero hWindow is a visible window, per the occlusion policy"),
    D3DKMTCreateSynchronizationObject2 => Partial("every type but periodic monitored fences (STATUS_NOT_IMPLEMENTED); a CPU-notification object's event is accepted by policy and never signalled"),
    D3DKMTCreateSynchronizationObject => Supported,
    D3DKMTOpenSynchronizationObject => Supported,
    D3DKMTOpenSyncObjectFromNtHandle => Supported,
    D3DKMTOpenSyncObjectNtHandleFromName => Supported,
    D3DKMTDestroySynchronizationObject => Supported,
    D3DKMTSignalSynchronizationObjectFromCpu => Supported,
    D3DKMTWaitForSynchronizationObjectFromCpu => Partial("blocking waits (NULL hAsyncEvent) only; an event handle returns STATUS_NOT_IMPLEMENTED"),
    D3DKMTOpenSyncObjectFromNtHandle2 => Supported,
    D3DKMTCreateProtectedSession => Supported,
    D3DKMTDestroyProtectedSession => Supported,
    D3DKMTQueryProtectedSessionStatus => Supported,
    D3DKMTQueryProtectedSessionInfoFromNtHandle => Supported,
    D3DKMTOpenProtectedSessionFromNtHandle => Supported,
    D3DKMTGetDeviceState => Partial("execution and reset states; present, DWM-present, present-queue and page-fault states return STATUS_NOT_IMPLEMENTED"),
    D3DKMTShareObjects => Partial("one sync object, one protected session, one resource, or (resource, keyed mutex, sync object); see the support notes of the sync objects"),
    CloseHandle => Partial("with the `win32-handles` feature only; closes our NT handles, nothing else"),
    DuplicateHandle => Partial("with the `win32-handles` feature only; duplicates our NT handles between virtual processes"),
    D3DKMTCreateContext => Supported,
    D3DKMTCreateContextVirtual => Supported,
    D3DKMTDestroyContext => Supported,
    D3DKMTCreateHwContext => Partial("per the hw_contexts policy: STATUS_NOT_IMPLEMENTED for every argument by default (as Windows 11), or emulated as libdxg does"),
    D3DKMTDestroyHwContext => Partial("per the hw_contexts policy, as D3DKMTCreateHwContext"),
    D3DKMTCreateHwQueue => Supported,
    D3DKMTDestroyHwQueue => Supported,
    D3DKMTCreatePagingQueue => Partial("the paging fence is real; there are no paging operations to signal it yet"),
    D3DKMTDestroyPagingQueue => Supported,
    D3DKMTSetContextSchedulingPriority => Partial("kept and reported; the fake GPU runs every queue as soon as it can, so priorities change no order"),
    D3DKMTGetContextSchedulingPriority => Supported,
    D3DKMTSetContextInProcessSchedulingPriority => Partial("kept and reported; changes no order on the fake GPU"),
    D3DKMTGetContextInProcessSchedulingPriority => Supported,
    D3DKMTSubmitCommand => Partial("command buffers are GPU virtual addresses with no memory behind them: the KMD sees address, length and private data; primaries and history buffers are ignored"),
    D3DKMTRender => Partial("legacy contexts' command buffers; allocation and patch lists are bounds-checked, not read"),
    D3DKMTSubmitCommandToHwQueue => Supported,
    D3DKMTSubmitSignalSyncObjectsToHwQueue => Supported,
    D3DKMTSubmitWaitForSyncObjectsToHwQueue => Supported,
    D3DKMTSignalSynchronizationObject => Partial("v1 is for mutexes and semaphores, which are not emulated: STATUS_NOT_IMPLEMENTED after the argument checks"),
    D3DKMTWaitForSynchronizationObject => Partial("as D3DKMTSignalSynchronizationObject"),
    D3DKMTSignalSynchronizationObject2 => Partial("fences and monitored fences; EnqueueCpuEvent is STATUS_NOT_IMPLEMENTED"),
    D3DKMTWaitForSynchronizationObject2 => Supported,
    D3DKMTSignalSynchronizationObjectFromGpu => Supported,
    D3DKMTSignalSynchronizationObjectFromGpu2 => Partial("EnqueueCpuEvent is STATUS_NOT_IMPLEMENTED"),
    D3DKMTWaitForSynchronizationObjectFromGpu => Supported,
    D3DKMTEscape => Partial("D3DKMT_ESCAPE_DRIVERPRIVATE, routed to the fake KMD; dxgkrnl's own escape types are STATUS_NOT_IMPLEMENTED"),
    D3DKMTQueryStatistics => Partial("ADAPTER, PROCESS_ADAPTER, NODE and PROCESS_NODE: segment, node and source counts and render-packet counts; other types STATUS_NOT_IMPLEMENTED"),
    D3DKMTQueryClockCalibration => Supported,
    D3DKMTMarkDeviceAsError => Supported,
    D3DKMTFlushHeapTransitions => Supported,
    D3DKMTCreateSyncFile => Supported,
    D3DKMTCreateKeyedMutex => Supported,
    D3DKMTCreateKeyedMutex2 => Supported,
    D3DKMTOpenKeyedMutex => Supported,
    D3DKMTOpenKeyedMutex2 => Supported,
    D3DKMTOpenKeyedMutexFromNtHandle => Supported,
    D3DKMTDestroyKeyedMutex => Supported,
    D3DKMTAcquireKeyedMutex => Supported,
    D3DKMTAcquireKeyedMutex2 => Supported,
    D3DKMTReleaseKeyedMutex => Supported,
    D3DKMTReleaseKeyedMutex2 => Supported,
    D3DKMTCreateAllocation => Partial("one standard allocation over existing system memory (StandardAllocation, ExistingSysMem, EXISTINGHEAP); driver-private allocation descriptions return STATUS_NOT_IMPLEMENTED"),
    D3DKMTCreateAllocation2 => Partial("one standard allocation over existing system memory (StandardAllocation, ExistingSysMem, EXISTINGHEAP); driver-private allocation descriptions return STATUS_NOT_IMPLEMENTED"),
    D3DKMTDestroyAllocation => Supported,
    D3DKMTDestroyAllocation2 => Supported,
    D3DKMTQueryResourceInfo => Supported,
    D3DKMTOpenResource => Supported,
    D3DKMTOpenResource2 => Supported,
    D3DKMTQueryResourceInfoFromNtHandle => Supported,
    D3DKMTOpenResourceFromNtHandle => Supported,
    D3DKMTGetSharedResourceAdapterLuid => Supported,
    D3DKMTOpenNtHandleFromName => Supported,
    D3DKMTReserveGpuVirtualAddress => Supported,
    D3DKMTMapGpuVirtualAddress => Supported,
    D3DKMTFreeGpuVirtualAddress => Supported,
    D3DKMTUpdateGpuVirtualAddress => Partial("operations take effect at the call, not when the context's queue reaches them; the fence signal is queued in order"),
    D3DKMTMakeResident => Supported,
    D3DKMTEvict => Supported,
    D3DKMTQueryAllocationResidency => Supported,
    D3DKMTSetAllocationPriority => Supported,
    D3DKMTGetAllocationPriority => Supported,
    D3DKMTOfferAllocations => Supported,
    D3DKMTReclaimAllocations2 => Supported,
    D3DKMTUpdateAllocationProperty => Partial("records SupportedSegmentSet and advances the paging fence; preferred segments and property flags are not kept"),
    D3DKMTLock2 => Supported,
    D3DKMTUnlock2 => Supported,
    D3DKMTChangeVideoMemoryReservation => Supported,
    D3DKMTInvalidateCache => Supported,
    D3DKMTShareObjectWithHost => Partial("there is no host: the host's handle is an entry in the kernel's host table (Kernel::host_shared_objects), alive per the host_share policy"),
    D3DKMTSetStablePowerState => Supported,
    D3DKMTCloseDxCoreDevice => Supported,
    // BEGIN GENERATED STUBS (tools/gen_stubs.py)
    D3DKMTAdjustFullscreenGamma => Stub,
    D3DKMTCancelPresents => Stub,
    D3DKMTChangeSurfacePointer => Stub,
    D3DKMTCheckExclusiveOwnership => Stub,
    D3DKMTCheckMonitorPowerState => Stub,
    D3DKMTCheckMultiPlaneOverlaySupport => Stub,
    D3DKMTCheckMultiPlaneOverlaySupport2 => Stub,
    D3DKMTCheckMultiPlaneOverlaySupport3 => Stub,
    D3DKMTCheckSharedResourceAccess => Stub,
    D3DKMTConfigureSharedResource => Stub,
    D3DKMTCreateDCFromMemory => Stub,
    D3DKMTCreateOutputDupl => Stub,
    D3DKMTCreateOverlay => Stub,
    D3DKMTCreateTrackedWorkload => Stub,
    D3DKMTDestroyDCFromMemory => Stub,
    D3DKMTDestroyOutputDupl => Stub,
    D3DKMTDestroyOverlay => Stub,
    D3DKMTDestroyTrackedWorkload => Stub,
    D3DKMTEnumAdapters => Stub,
    D3DKMTFlipOverlay => Stub,
    D3DKMTGetAvailableTrackedWorkloadIndex => Stub,
    D3DKMTGetDWMVerticalBlankEvent => Stub,
    D3DKMTGetDisplayModeList => Stub,
    D3DKMTGetMultiPlaneOverlayCaps => Stub,
    D3DKMTGetMultisampleMethodList => Stub,
    D3DKMTGetOverlayState => Stub,
    D3DKMTGetPostCompositionCaps => Stub,
    D3DKMTGetPresentHistory => Stub,
    D3DKMTGetPresentQueueEvent => Stub,
    D3DKMTGetProcessDeviceRemovalSupport => Stub,
    D3DKMTGetProcessSchedulingPriorityClass => Stub,
    D3DKMTGetResourcePresentPrivateDriverData => Stub,
    D3DKMTGetRuntimeData => Stub,
    D3DKMTGetScanLine => Stub,
    D3DKMTGetSharedPrimaryHandle => Stub,
    D3DKMTGetTrackedWorkloadStatistics => Stub,
    D3DKMTInvalidateActiveVidPn => Stub,
    D3DKMTLock => Stub,
    D3DKMTOutputDuplGetFrameInfo => Stub,
    D3DKMTOutputDuplGetMetaData => Stub,
    D3DKMTOutputDuplGetPointerShapeData => Stub,
    D3DKMTOutputDuplPresent => Stub,
    D3DKMTOutputDuplPresentToHwQueue => Stub,
    D3DKMTOutputDuplReleaseFrame => Stub,
    D3DKMTPinResources => Stub,
    D3DKMTPollDisplayChildren => Stub,
    D3DKMTPresent => Stub,
    D3DKMTPresentMultiPlaneOverlay => Stub,
    D3DKMTPresentMultiPlaneOverlay2 => Stub,
    D3DKMTPresentMultiPlaneOverlay3 => Stub,
    D3DKMTPresentRedirected => Stub,
    D3DKMTQueryFSEBlock => Stub,
    D3DKMTQueryProcessOfferInfo => Stub,
    D3DKMTQueryRemoteVidPnSourceFromGdiDisplayName => Stub,
    D3DKMTQueryVidPnExclusiveOwnership => Stub,
    D3DKMTReclaimAllocations => Stub,
    D3DKMTRegisterTrimNotification => Stub,
    D3DKMTRegisterVailProcess => Stub,
    D3DKMTReleaseProcessVidPnSourceOwners => Stub,
    D3DKMTResetTrackedWorkloadStatistics => Stub,
    D3DKMTSetDisplayMode => Stub,
    D3DKMTSetDisplayPrivateDriverFormat => Stub,
    D3DKMTSetFSEBlock => Stub,
    D3DKMTSetGammaRamp => Stub,
    D3DKMTSetHwProtectionTeardownRecovery => Stub,
    D3DKMTSetMonitorColorSpaceTransform => Stub,
    D3DKMTSetProcessSchedulingPriorityClass => Stub,
    D3DKMTSetQueuedLimit => Stub,
    D3DKMTSetSyncRefreshCountWaitTarget => Stub,
    D3DKMTSetVidPnSourceHwProtection => Stub,
    D3DKMTSetVidPnSourceOwner2 => Stub,
    D3DKMTShareObjectsInternal => Stub,
    D3DKMTSharedPrimaryLockNotification => Stub,
    D3DKMTSharedPrimaryUnLockNotification => Stub,
    D3DKMTSubmitPresentBltToHwQueue => Stub,
    D3DKMTSubmitPresentToHwQueue => Stub,
    D3DKMTTrimProcessCommitment => Stub,
    D3DKMTUnlock => Stub,
    D3DKMTUnpinResources => Stub,
    D3DKMTUnregisterTrimNotification => Stub,
    D3DKMTUpdateOverlay => Stub,
    D3DKMTUpdateTrackedWorkload => Stub,
    D3DKMTWaitForIdle => Stub,
    D3DKMTWaitForVerticalBlankEvent => Stub,
    D3DKMTWaitForVerticalBlankEvent2 => Stub,
    // END GENERATED STUBS
}

impl Entry {
    /// The exported name, e.g. `"D3DKMTCreateDevice"`.
    pub fn name(self) -> &'static str {
        ENTRY_POINTS[self as usize].1
    }

    /// How much of it is emulated.
    pub fn support(self) -> Support {
        ENTRY_POINTS[self as usize].2
    }

    /// The entry point with that exported name.
    pub fn from_name(name: &str) -> Option<Entry> {
        ENTRY_POINTS.iter().find(|(_, n, _)| *n == name).map(|(e, _, _)| *e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_entry() {
        for (i, (entry, name, _)) in ENTRY_POINTS.iter().enumerate() {
            assert_eq!(*entry as usize, i);
            assert_eq!(entry.name(), *name);
            assert_eq!(Entry::from_name(name), Some(*entry));
        }
    }
}
