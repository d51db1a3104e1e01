//! Adapters: `D3DKMTEnumAdapters2`/`3`, `D3DKMTOpenAdapterFromLuid`,
//! `D3DKMTCloseAdapter`.
//!
//! Adapters are configured when the kernel is created and live as long as it.
//! Each open gives the calling process a new local handle that it must close
//! (WINE #18); closing a process's last handle to an adapter destroys the
//! process's devices on it, under [`crate::policy::AdapterClose::DestroyDevices`].

use std::sync::Arc;

use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::policy::AdapterClose;
use crate::process::{LocalEntry, Process};
use crate::sync::Graveyard;

/// A locally unique identifier, as `LUID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Luid {
    /// `LowPart`.
    pub low: u32,
    /// `HighPart`.
    pub high: i32,
}

/// Which adapters `EnumAdapters3` hides unless its filter asks for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AdapterKind {
    /// Render and display: always listed.
    #[default]
    Full,
    /// Compute only: listed with `IncludeComputeOnly`.
    ComputeOnly,
    /// Display only: listed with `IncludeDisplayOnly`.
    DisplayOnly,
}

/// One adapter of a kernel's configuration.
#[derive(Clone, Debug)]
pub struct AdapterConfig {
    /// Its LUID; must be nonzero and unique within the kernel.
    pub luid: Luid,
    /// Whether it supports protected sessions. Without it,
    /// `D3DKMTCreateProtectedSession` answers `STATUS_NOT_SUPPORTED`.
    pub protected_sessions: bool,
    /// Its kind, for `EnumAdapters3` filtering.
    pub kind: AdapterKind,
    /// `NumOfSources` reported by enumeration.
    pub num_sources: u32,
}

impl AdapterConfig {
    /// A full adapter with one source that supports protected sessions.
    pub fn new(luid: Luid) -> Self {
        AdapterConfig { luid, protected_sessions: true, kind: AdapterKind::Full, num_sources: 1 }
    }
}

pub(crate) struct Adapter {
    pub(crate) index: usize,
    pub(crate) config: AdapterConfig,
    /// Running until the KMD stops it; see [`crate::removal`].
    pub(crate) health: crate::removal::AdapterHealthCell,
}

/// One row of an enumeration (`D3DKMT_ADAPTERINFO`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdapterInfo {
    /// A newly opened local handle the caller must close.
    pub handle: LocalHandle,
    /// The adapter's LUID.
    pub luid: Luid,
    /// Its number of VidPn sources.
    pub num_sources: u32,
}

/// Which kinds `EnumAdapters3` lists beyond full adapters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnumFilter {
    /// List compute-only adapters.
    pub include_compute_only: bool,
    /// List display-only adapters.
    pub include_display_only: bool,
}

impl Process {
    fn open_adapter(&self, adapter: &Arc<Adapter>) -> KResult<LocalHandle> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let handle = state.insert_local(LocalEntry::Adapter(Arc::clone(adapter)), &mut graveyard)?;
        *state.adapter_opens.entry(adapter.index).or_insert(0) += 1;
        Ok(handle)
    }

    /// `D3DKMTOpenAdapterFromLuid`: a new local handle to the adapter with
    /// that LUID. An unknown LUID is `STATUS_INVALID_PARAMETER`.
    pub fn open_adapter_from_luid(&self, luid: Luid) -> KResult<LocalHandle> {
        let adapter = self
            .kernel_inner()
            .adapters
            .iter()
            .find(|a| a.config.luid == luid)
            .ok_or(KernelError::InvalidParameter("no adapter has that LUID"))?;
        self.open_adapter(adapter)
    }

    /// `D3DKMTEnumAdapters2`/`3`: opens a handle to every adapter the filter
    /// lists, in configuration order. The caller owns the handles. With
    /// `room` smaller than the count, nothing is opened and the status is
    /// `STATUS_BUFFER_TOO_SMALL` (WINE #19).
    pub fn enum_adapters(&self, filter: EnumFilter, room: usize) -> KResult<Vec<AdapterInfo>> {
        let listed: Vec<&Arc<Adapter>> = self
            .kernel_inner()
            .adapters
            .iter()
            .filter(|a| match a.config.kind {
                AdapterKind::Full => true,
                AdapterKind::ComputeOnly => filter.include_compute_only,
                AdapterKind::DisplayOnly => filter.include_display_only,
            })
            .collect();
        if listed.len() > room {
            return Err(KernelError::BufferTooSmall {
                what: "adapter array",
                needed: listed.len() as u32,
                given: room as u32,
                status: crate::NtStatus::BUFFER_TOO_SMALL,
            });
        }
        let mut out = Vec::with_capacity(listed.len());
        for adapter in listed {
            match self.open_adapter(adapter) {
                Ok(handle) => {
                    out.push(AdapterInfo { handle, luid: adapter.config.luid, num_sources: adapter.config.num_sources })
                }
                Err(e) => {
                    // All or nothing: close what this call opened.
                    for info in out {
                        let _ = self.close_adapter(info.handle);
                    }
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    /// `D3DKMTCloseAdapter`. A handle that is not an open adapter of this
    /// process is `STATUS_INVALID_PARAMETER` (WINE #20).
    pub fn close_adapter(&self, handle: LocalHandle) -> KResult<()> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let adapter = match state.local.get(handle.0 as u64) {
            Some(LocalEntry::Adapter(a)) => Arc::clone(a),
            _ => return Err(KernelError::BadLocalHandle { handle: handle.0, expected: "adapter" }),
        };
        graveyard.bury(state.local.remove(handle.0 as u64).expect("entry checked above"));
        let opens = state.adapter_opens.get_mut(&adapter.index).expect("open adapters are counted");
        *opens -= 1;
        if *opens == 0 {
            state.adapter_opens.remove(&adapter.index);
            if self.kernel_inner().policies.adapter_close == AdapterClose::DestroyDevices {
                let devices: Vec<u64> = state
                    .local
                    .iter()
                    .filter_map(|(h, e)| match e {
                        LocalEntry::Device(d) if d.device.adapter.index == adapter.index => Some(h),
                        _ => None,
                    })
                    .collect();
                for device in devices {
                    state.destroy_device_locked(device, self.kernel_inner(), &mut graveyard);
                }
            }
        }
        drop(state);
        Ok(())
    }
}
