//! An adapter's stable power state: `D3DKMTSetStablePowerState`.
//!
//! What Windows does: the call (behind D3D12's `SetStablePowerState`, a
//! developer tool) asks the driver to hold the GPU at a fixed clock, so
//! timings are repeatable; it names an adapter handle and `Enabled`. What
//! libdxg does on WSL: nothing; it returns `STATUS_SUCCESS` without an ioctl,
//! whatever it is given (libdxg-exports.tsv).
//!
//! What we do: the Windows reading, with the bookkeeping a test can see. A
//! NULL argument or an `hAdapter` that is not an adapter handle of the
//! caller is `STATUS_INVALID_PARAMETER` (libdxg would say success: we answer
//! bad input rather than obey it). Otherwise the request is recorded for the
//! calling process and the adapter (any nonzero `Enabled` is TRUE):
//! [`Process::stable_power_state`] reads it back, and
//! [`Kernel::stable_power_state`] says whether any live process holds the
//! adapter stable. There are no clocks on the fake GPU, so nothing else
//! changes. A request stands until the process disables it or exits
//! (closing adapter handles does not end it: Windows documents no link).
//! Developer mode, which Windows requires for D3D12's call, is not checked.

use crate::adapter::Luid;
use crate::error::KResult;
use crate::handle::LocalHandle;
use crate::kernel::Kernel;
use crate::process::Process;

impl Process {
    /// `D3DKMTSetStablePowerState`: records (or withdraws) this process's
    /// request to hold the adapter of `adapter` in a stable power state.
    pub fn set_stable_power_state(&self, adapter: LocalHandle, enabled: bool) -> KResult<()> {
        let mut state = self.lock_live()?;
        let index = state.adapter(adapter.0)?.index;
        if enabled {
            state.stable_power.insert(index);
        } else {
            state.stable_power.remove(&index);
        }
        Ok(())
    }

    /// Whether this process holds the adapter of `adapter` in a stable power state.
    pub fn stable_power_state(&self, adapter: LocalHandle) -> KResult<bool> {
        let state = self.lock_live()?;
        let index = state.adapter(adapter.0)?.index;
        Ok(state.stable_power.contains(&index))
    }
}

impl Kernel {
    /// Whether any live process holds the adapter `luid` in a stable power
    /// state (false for an unknown LUID).
    pub fn stable_power_state(&self, luid: Luid) -> bool {
        let Some(index) = self.0.adapters.iter().position(|a| a.config.luid == luid) else { return false };
        self.processes().iter().any(|p| p.lock_live().is_ok_and(|s| s.stable_power.contains(&index)))
    }
}
