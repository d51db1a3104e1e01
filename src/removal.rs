//! Device removal and TDR (timeout detection and recovery), driven by the
//! fake KMD, and what user mode sees of them.
//!
//! What Windows documents:
//! - `D3DKMTCreateDevice`, `D3DKMTCreateSynchronizationObject2`,
//!   `D3DKMTCreateKeyedMutex2`, `D3DKMTCreateAllocation2` and
//!   `D3DKMTOpenSynchronizationObject` fail with `STATUS_DEVICE_REMOVED` when
//!   the adapter was stopped or the display device was reset.
//! - After a GPU reset, dxgkrnl signals every monitored fence that a reset
//!   device could signal to its maximum value, unless the fence was created
//!   with `NoSignalMaxValueOnTdr` (`D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS`).
//! - `D3DKMTGetDeviceState` with `D3DKMT_DEVICESTATE_EXECUTION` reports one
//!   of `D3DKMT_DEVICEEXECUTION_STATE`: ACTIVE, RESET, HUNG, STOPPED,
//!   ERROR_OUTOFMEMORY, ERROR_DMAFAULT, ERROR_DMAPAGEFAULT; and it may itself
//!   return `STATUS_DEVICE_REMOVED`.
//!
//! What we chose where Windows is silent (each a named policy in
//! [`crate::policy::RemovalPolicies`]): whether a device survives a TDR,
//! what a removal does to protected sessions, and what CPU signals and waits
//! on a removed device return.
//!
//! The model: a device's [`DeviceHealth`] is `Active` until the KMD loses it
//! ([`Kernel::remove_device`], [`Kernel::reset_device`]) or stops its adapter
//! ([`Kernel::remove_adapter`]); a lost device never comes back (the app
//! destroys it and creates a new one, which fails while the adapter is
//! stopped). Destroy calls keep working on a lost device, so clean-up always
//! succeeds.
//!
//! **For every create path**: take the device with
//! [`ProcessState::device_for_create`] instead of [`ProcessState::device`];
//! it is the one place that turns a lost device, or a stopped adapter, into
//! `STATUS_DEVICE_REMOVED`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::adapter::{Adapter, Luid};
use crate::device::Device;
use crate::error::{KResult, KernelError};
use crate::handle::LocalHandle;
use crate::kernel::{Kernel, KernelInner};
use crate::kmd::SessionStatus;
use crate::policy::{FenceRegression, RemovalSessions, RemovedDeviceSync, TdrOutcome};
use crate::process::{LocalEntry, Process, ProcessId, ProcessState};
use crate::session::SessionCore;
use crate::shared::NtObjectKind;
use crate::sync_object::SyncObject;

/// Why a device stopped for good: the failure states of
/// `D3DKMT_DEVICEEXECUTION_STATE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceLoss {
    /// `D3DKMT_DEVICEEXECUTION_RESET` (2): a TDR reset the device.
    Reset,
    /// `D3DKMT_DEVICEEXECUTION_HUNG` (3): the device hung and cannot go on.
    Hung,
    /// `D3DKMT_DEVICEEXECUTION_STOPPED` (4): the adapter was stopped.
    Stopped,
    /// `D3DKMT_DEVICEEXECUTION_ERROR_OUTOFMEMORY` (5).
    OutOfMemory,
    /// `D3DKMT_DEVICEEXECUTION_ERROR_DMAFAULT` (6).
    DmaFault,
    /// `D3DKMT_DEVICEEXECUTION_ERROR_DMAPAGEFAULT` (7).
    DmaPageFault,
}

impl DeviceLoss {
    /// The loss for a raw `D3DKMT_DEVICEEXECUTION_STATE`, if it is one (2..=7).
    pub fn from_raw(raw: i32) -> Option<DeviceLoss> {
        Some(match raw {
            2 => DeviceLoss::Reset,
            3 => DeviceLoss::Hung,
            4 => DeviceLoss::Stopped,
            5 => DeviceLoss::OutOfMemory,
            6 => DeviceLoss::DmaFault,
            7 => DeviceLoss::DmaPageFault,
            _ => return None,
        })
    }
}

/// A device's execution health: a state machine with one move, from
/// `Active` to `Lost`. A lost device stays lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceHealth {
    /// `D3DKMT_DEVICEEXECUTION_ACTIVE` (1).
    Active,
    /// Removed, reset or faulted: creates on it fail with
    /// `STATUS_DEVICE_REMOVED`.
    Lost(DeviceLoss),
}

impl DeviceHealth {
    /// The `D3DKMT_DEVICEEXECUTION_STATE` value `D3DKMTGetDeviceState` reports.
    pub fn execution_state(self) -> i32 {
        match self {
            DeviceHealth::Active => 1,
            DeviceHealth::Lost(DeviceLoss::Reset) => 2,
            DeviceHealth::Lost(DeviceLoss::Hung) => 3,
            DeviceHealth::Lost(DeviceLoss::Stopped) => 4,
            DeviceHealth::Lost(DeviceLoss::OutOfMemory) => 5,
            DeviceHealth::Lost(DeviceLoss::DmaFault) => 6,
            DeviceHealth::Lost(DeviceLoss::DmaPageFault) => 7,
        }
    }

    /// The state after losing the device for `why`. Losing a device that is
    /// already lost is refused (`STATUS_DEVICE_REMOVED`): it keeps its first
    /// reason.
    pub fn lose(self, why: DeviceLoss) -> KResult<DeviceHealth> {
        match self {
            DeviceHealth::Active => Ok(DeviceHealth::Lost(why)),
            DeviceHealth::Lost(_) => Err(KernelError::DeviceRemoved("the device is already lost")),
        }
    }

    /// True unless `Active`.
    pub fn is_lost(self) -> bool {
        self != DeviceHealth::Active
    }

    fn encode(self) -> u8 {
        self.execution_state() as u8
    }

    fn decode(raw: u8) -> DeviceHealth {
        DeviceLoss::from_raw(raw as i32).map_or(DeviceHealth::Active, DeviceHealth::Lost)
    }
}

/// A device's health, readable without a lock (blocked CPU waits check it
/// while holding the wait hub's lock). Moves only through [`DeviceHealth::lose`].
#[derive(Debug)]
pub(crate) struct HealthCell(AtomicU8);

impl Default for HealthCell {
    fn default() -> Self {
        HealthCell(AtomicU8::new(DeviceHealth::Active.encode()))
    }
}

impl HealthCell {
    pub(crate) fn get(&self) -> DeviceHealth {
        DeviceHealth::decode(self.0.load(Ordering::SeqCst))
    }

    /// Makes the one legal move; fails, changing nothing, if it is illegal.
    pub(crate) fn lose(&self, why: DeviceLoss) -> KResult<()> {
        let next = self.get().lose(why)?;
        self.0
            .compare_exchange(DeviceHealth::Active.encode(), next.encode(), Ordering::SeqCst, Ordering::SeqCst)
            .map(drop)
            .map_err(|_| KernelError::DeviceRemoved("the device is already lost"))
    }
}

/// An adapter's health: `Running` until the KMD stops it, for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AdapterHealth {
    /// Devices may be created on it.
    Running,
    /// Removed (surprise removal, driver stop): every device on it is lost
    /// with [`DeviceLoss::Stopped`], and `D3DKMTCreateDevice` on it fails
    /// with `STATUS_DEVICE_REMOVED`.
    Stopped,
}

/// An adapter's [`AdapterHealth`], readable without a lock.
#[derive(Debug, Default)]
pub(crate) struct AdapterHealthCell(std::sync::atomic::AtomicBool);

impl AdapterHealthCell {
    pub(crate) fn get(&self) -> AdapterHealth {
        if self.0.load(Ordering::SeqCst) { AdapterHealth::Stopped } else { AdapterHealth::Running }
    }

    /// Running → Stopped; stopping a stopped adapter is `STATUS_DEVICE_REMOVED`.
    fn stop(&self) -> KResult<()> {
        if self.0.swap(true, Ordering::SeqCst) {
            return Err(KernelError::DeviceRemoved("the adapter is already stopped"));
        }
        Ok(())
    }
}

impl Adapter {
    /// Fails with `STATUS_DEVICE_REMOVED` once the adapter is stopped.
    pub(crate) fn check_running(&self) -> KResult<()> {
        match self.health.get() {
            AdapterHealth::Running => Ok(()),
            AdapterHealth::Stopped => Err(KernelError::DeviceRemoved("the adapter was stopped")),
        }
    }
}

impl Device {
    /// Fails with `STATUS_DEVICE_REMOVED` if the device is lost or its
    /// adapter stopped.
    pub(crate) fn check_usable(&self) -> KResult<()> {
        if self.health.get().is_lost() {
            return Err(KernelError::DeviceRemoved("the device was removed or reset"));
        }
        self.adapter.check_running()
    }
}

impl ProcessState {
    /// **The device check of every create path.** Looks up a device handle of
    /// this process, as [`ProcessState::device`] does (a bad handle is
    /// `STATUS_INVALID_PARAMETER`), and then fails with
    /// `STATUS_DEVICE_REMOVED` if the device is lost or its adapter stopped.
    /// Call it under the same lock as the insert of the new object, so a
    /// removal either sees the new object or the create sees the removal.
    pub(crate) fn device_for_create(&self, handle: u32) -> KResult<&Arc<Device>> {
        let device = self.device(handle)?;
        device.check_usable()?;
        Ok(device)
    }

    /// What a CPU signal or wait naming `handle` may use: the device, unless
    /// it is lost and [`RemovedDeviceSync::Fail`] is in force.
    pub(crate) fn device_for_sync(&self, handle: u32, policy: RemovedDeviceSync) -> KResult<&Arc<Device>> {
        let device = self.device(handle)?;
        if policy == RemovedDeviceSync::Fail {
            device.check_usable()?;
        }
        Ok(device)
    }

    /// The fences a device could signal (its sync children whose handle may
    /// signal) and the sessions created on it, for a TDR's consequences.
    fn device_children(&self, handle: u32, fences: &mut Victims<SyncObject>, sessions: &mut Victims<SessionCore>) {
        let Some(LocalEntry::Device(d)) = self.local.get(handle as u64) else { return };
        for &child in &d.children {
            match self.local.get(child as u64) {
                Some(LocalEntry::SyncObject(s)) if s.can_signal => fences.add(&s.object),
                Some(LocalEntry::ProtectedSession(s)) => sessions.add(&s.session.core),
                _ => {}
            }
        }
    }
}

/// Objects a removal acts on, each once (by address).
struct Victims<T>(HashMap<usize, Arc<T>>);

impl<T> Default for Victims<T> {
    fn default() -> Self {
        Victims(HashMap::new())
    }
}

impl<T> Victims<T> {
    fn add(&mut self, object: &Arc<T>) {
        self.0.entry(Arc::as_ptr(object) as usize).or_insert_with(|| Arc::clone(object));
    }
}

/// The consequences of a TDR or removal, run with no lock held: sessions
/// first (per [`RemovalSessions`]), then fences to `u64::MAX` (unless
/// `NoSignalMaxValueOnTdr`), so a status fence that takes the maximum ends
/// there; then every CPU waiter rechecks (and waits on a lost device end,
/// per [`RemovedDeviceSync`]).
fn apply_consequences(kernel: &KernelInner, fences: Victims<SyncObject>, sessions: Victims<SessionCore>) {
    let policies = &kernel.policies;
    if policies.removal.sessions == RemovalSessions::Invalidate {
        for session in sessions.0.into_values() {
            // A session being destroyed refuses the status; nothing to do then.
            let _ = session.set_status(SessionStatus::Invalid, policies);
        }
    }
    for fence in fences.0.into_values() {
        if !fence.no_signal_max_value_on_tdr {
            fence.signal(u64::MAX, FenceRegression::Ignore, &kernel.wait_hub);
        }
    }
    // GPU waits on those fences, and sync files, are released too.
    kernel.gpu.kick(policies.fence_regression, &kernel.wait_hub);
    kernel.wait_hub.wake_all();
}

impl Process {
    /// The execution health of a device handle of this process (what
    /// `D3DKMTGetDeviceState` reports for `D3DKMT_DEVICESTATE_EXECUTION`).
    /// A device whose adapter was stopped is `Lost(Stopped)`.
    pub fn device_health(&self, device: LocalHandle) -> KResult<DeviceHealth> {
        let state = self.lock_live()?;
        let device = state.device(device.0)?;
        Ok(device.health.get())
    }

    /// The KMD loses one device of this process (see [`Kernel::remove_device`]).
    fn lose_device(&self, device: LocalHandle, why: Option<DeviceLoss>) -> KResult<()> {
        let mut fences = Victims::default();
        let mut sessions = Victims::default();
        {
            let state = self.lock_live()?;
            let d = state.device(device.0)?;
            match why {
                Some(why) => d.health.lose(why)?,
                // A TDR the device survives: only a live device can be reset.
                None => d.check_usable()?,
            }
            state.device_children(device.0, &mut fences, &mut sessions);
        }
        apply_consequences(self.kernel_inner(), fences, sessions);
        Ok(())
    }
}

impl Kernel {
    fn live_process(&self, process: ProcessId) -> KResult<Process> {
        self.processes()
            .into_iter()
            .find(|p| p.id() == process && !p.has_exited())
            .ok_or(KernelError::InvalidParameter("no live process has that id"))
    }

    /// The KMD removes a device of a process for good, for `why` (a hang, a
    /// fault, a reset it does not survive...). Then:
    /// - creates on the device fail with `STATUS_DEVICE_REMOVED`;
    /// - every monitored fence it could signal (its sync-object handles that
    ///   may signal, created or opened on it) jumps to `u64::MAX`, unless
    ///   created with `NoSignalMaxValueOnTdr`, and CPU waiters wake;
    /// - protected sessions created on it follow
    ///   [`RemovalSessions`] (default: INVALID, with a status-fence bump),
    ///   as every process that opened them sees;
    /// - `D3DKMTGetDeviceState` reports `why`;
    /// - destroys work as before.
    ///
    /// Statuses: `STATUS_INVALID_PARAMETER` for an unknown or exited process
    /// or a handle that is not a device of it; `STATUS_DEVICE_REMOVED` if the
    /// device is already lost (it keeps its first reason, and nothing runs
    /// again).
    pub fn remove_device(&self, process: ProcessId, device: LocalHandle, why: DeviceLoss) -> KResult<()> {
        self.live_process(process)?.remove_device_by_kmd(device, why)
    }

    /// A TDR hits a device of a process: its fences jump to their maximum and
    /// its sessions follow [`RemovalSessions`], as for [`Kernel::remove_device`].
    /// Whether the device survives is [`TdrOutcome`]: by default it is lost
    /// with [`DeviceLoss::Reset`]; with [`TdrOutcome::DeviceSurvives`] it
    /// stays `Active` and usable. Statuses as for `remove_device`.
    pub fn reset_device(&self, process: ProcessId, device: LocalHandle) -> KResult<()> {
        let process = self.live_process(process)?;
        process.reset_device_by_kmd(device)
    }

    /// The KMD stops an adapter for good (surprise removal, driver stop):
    /// every device on it, in every process, is lost with
    /// [`DeviceLoss::Stopped`] (a device already lost keeps its reason);
    /// every monitored fence on the adapter jumps to `u64::MAX` (unless
    /// `NoSignalMaxValueOnTdr`), wherever it is held from (handles, NT
    /// handles, sessions); every protected session on it follows
    /// [`RemovalSessions`]; `D3DKMTCreateDevice` on it fails with
    /// `STATUS_DEVICE_REMOVED`. Enumeration and opening still list it (we do
    /// not model the LUID going away).
    ///
    /// Statuses: `STATUS_INVALID_PARAMETER` for an unknown LUID,
    /// `STATUS_DEVICE_REMOVED` if it is already stopped.
    pub fn remove_adapter(&self, luid: Luid) -> KResult<()> {
        let result = self.stop_adapter(luid);
        if crate::trace::enabled(&self.0) {
            let input = vec![
                ("AdapterLuid.LowPart".into(), crate::trace::Value::Int(luid.low as u64)),
                ("AdapterLuid.HighPart".into(), crate::trace::Value::Int(luid.high as u32 as u64)),
            ];
            let status = crate::trace::status_of(&result);
            crate::trace::event(&self.0, 0, crate::trace::Op::RemoveAdapter, input, Vec::new(), status);
        }
        result
    }

    /// [`Kernel::remove_adapter`], untraced.
    fn stop_adapter(&self, luid: Luid) -> KResult<()> {
        let inner = &self.0;
        let adapter = inner
            .adapters
            .iter()
            .find(|a| a.config.luid == luid)
            .ok_or(KernelError::InvalidParameter("no adapter has that LUID"))?;
        adapter.health.stop()?;
        let index = adapter.index;
        let mut fences = Victims::default();
        let mut sessions = Victims::default();
        // Kernel registry first, then each process alone: the lock order.
        // Sessions are sorted after the lock, so none is dropped under it.
        let all_sessions: Vec<Arc<SessionCore>> =
            inner.sessions.map.lock().values().filter_map(std::sync::Weak::upgrade).collect();
        for core in &all_sessions {
            if core.fence.adapter == index {
                fences.add(&core.fence);
                sessions.add(core);
            }
        }
        drop(all_sessions);
        let processes = self.processes();
        for process in &processes {
            let state = process.0.state.lock();
            for (_, entry) in state.local.iter() {
                match entry {
                    LocalEntry::Device(d) if d.device.adapter.index == index => {
                        let _ = d.device.health.lose(DeviceLoss::Stopped);
                    }
                    LocalEntry::SyncObject(s) if s.object.adapter == index => fences.add(&s.object),
                    _ => {}
                }
            }
            for (_, entry) in state.nt.iter() {
                if let NtObjectKind::SyncObject(s) = &entry.object.kind {
                    if s.adapter == index {
                        fences.add(s);
                    }
                }
            }
        }
        apply_consequences(inner, fences, sessions);
        // Process references go last, after every lock: one may be the last.
        drop(processes);
        Ok(())
    }

    /// The health of the adapter with that LUID, if there is one.
    pub fn adapter_health(&self, luid: Luid) -> Option<AdapterHealth> {
        self.0.adapters.iter().find(|a| a.config.luid == luid).map(|a| a.health.get())
    }
}

impl Process {
    /// [`Kernel::reset_device`] for a device of this process (the C control
    /// API names processes, not ids).
    pub(crate) fn reset_device_by_kmd(&self, device: LocalHandle) -> KResult<()> {
        let result = match self.kernel_inner().policies.removal.tdr {
            TdrOutcome::DeviceLost => self.lose_device(device, Some(DeviceLoss::Reset)),
            TdrOutcome::DeviceSurvives => self.lose_device(device, None),
        };
        self.trace_kmd(crate::trace::Op::ResetDevice, device, None, &result);
        result
    }

    /// [`Kernel::remove_device`] for a device of this process.
    pub(crate) fn remove_device_by_kmd(&self, device: LocalHandle, why: DeviceLoss) -> KResult<()> {
        let result = self.lose_device(device, Some(why));
        self.trace_kmd(crate::trace::Op::RemoveDevice, device, Some(why), &result);
        result
    }

    /// Records a KMD removal or reset of a device of this process, so that a
    /// replay does it again (see [`crate::trace`]).
    fn trace_kmd(&self, op: crate::trace::Op, device: LocalHandle, why: Option<DeviceLoss>, result: &KResult<()>) {
        use crate::trace::Value;
        let kernel = self.kernel_inner();
        if crate::trace::enabled(kernel) {
            let mut input = vec![("device".into(), Value::Handle(device.0))];
            if let Some(why) = why {
                input.push(("reason".into(), Value::Int(DeviceHealth::Lost(why).execution_state() as u64)));
            }
            crate::trace::event(kernel, self.id().0, op, input, Vec::new(), crate::trace::status_of(result));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_lost_once_and_keeps_its_first_reason() {
        let cell = HealthCell::default();
        assert_eq!(cell.get(), DeviceHealth::Active);
        assert_eq!(cell.get().execution_state(), 1);
        cell.lose(DeviceLoss::Hung).unwrap();
        assert_eq!(cell.get(), DeviceHealth::Lost(DeviceLoss::Hung));
        assert_eq!(cell.lose(DeviceLoss::Stopped).map_err(|e| e.status()), Err(crate::NtStatus::DEVICE_REMOVED));
        assert_eq!(cell.get().execution_state(), 3);
    }

    #[test]
    fn execution_states_round_trip() {
        for raw in 2..=7 {
            let loss = DeviceLoss::from_raw(raw).unwrap();
            assert_eq!(DeviceHealth::Lost(loss).execution_state(), raw);
            assert_eq!(DeviceHealth::decode(DeviceHealth::Lost(loss).encode()), DeviceHealth::Lost(loss));
        }
        assert_eq!(DeviceLoss::from_raw(1), None, "ACTIVE is no loss");
        assert_eq!(DeviceLoss::from_raw(8), None);
    }

    #[test]
    fn an_adapter_stops_once() {
        let cell = AdapterHealthCell::default();
        assert_eq!(cell.get(), AdapterHealth::Running);
        cell.stop().unwrap();
        assert_eq!(cell.get(), AdapterHealth::Stopped);
        assert!(cell.stop().is_err());
    }
}
