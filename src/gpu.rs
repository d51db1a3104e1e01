//! The fake GPU: in-order command queues that run deterministically.
//!
//! Every context, hardware queue and paging queue owns one [`GpuQueue`]: an
//! in-order list of [`Command`]s. A command runs as soon as everything before
//! it on its queue has run and it is not blocked:
//!
//! - [`Command::Wait`] blocks its queue until each fence it names has reached
//!   its value (a GPU wait: `WaitForSynchronizationObjectFromGpu`,
//!   `SubmitWaitForSyncObjectsToHwQueue`);
//! - [`Command::Signal`] sets each fence to its value (a GPU signal, or a hw
//!   queue's progress fence after a submission), under the kernel's
//!   [`crate::policy::FenceRegression`], and wakes CPU waiters;
//! - [`Command::Work`] is a submitted command buffer: it "runs" (counts as
//!   completed) and does nothing else, since there is no GPU behind it.
//!
//! There is no background thread. Work runs on the submitting thread at
//! submit when nothing blocks it; otherwise on the thread whose signal (CPU
//! or GPU) moves the blocking fence ([`Gpu::kick`]). Fences therefore advance
//! exactly as if the work had run, and a test sees the same order every run.
//!
//! Sync files (`D3DKMTCreateSyncFile`) are watched here too: each kick fires
//! the ones whose fence reached its value (see `crate::sync_file`).
//!
//! Locks: [`Gpu`]'s registries are object-level locks, never held while a
//! queue is pumped; a queue's lock is held while it runs its commands (fence
//! stores and wait-hub notifications only). Finished commands, which hold
//! fence references, are dropped after every lock is released.

use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};

use crate::device::Device;
use crate::error::{KResult, KernelError};
use crate::policy::FenceRegression;
use crate::sync::{Level, Mutex};
use crate::sync_object::{SyncObject, WaitHub};

/// Fences and the values a command names, with references held.
pub(crate) type FenceValues = Vec<(Arc<SyncObject>, u64)>;

/// One command on a fake GPU queue.
pub(crate) enum Command {
    /// Blocks the queue until every fence has reached its value.
    Wait(FenceValues),
    /// Sets every fence to its value.
    Signal(FenceValues),
    /// A submitted command buffer; completes when it reaches the front.
    Work,
}

/// What a queue has seen, for `D3DKMTQueryStatistics` and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounters {
    /// Commands submitted (work, signals and waits).
    pub submitted: u64,
    /// Commands that have run.
    pub completed: u64,
    /// Command buffers (work) submitted.
    pub work_submitted: u64,
    /// Of those, the ones that have run.
    pub work_completed: u64,
}

#[derive(Default)]
struct QueueState {
    pending: VecDeque<Command>,
    counters: QueueCounters,
}

/// An in-order queue of the fake GPU.
pub(crate) struct GpuQueue {
    /// Ranked below objects' own locks: running a signal notifies the wait
    /// hub under it. Taken under a process's state (statistics, leak report).
    state: Mutex<QueueState>,
}

impl Default for GpuQueue {
    fn default() -> Self {
        GpuQueue { state: Mutex::with_level(Level::HandleTable, "fake GPU queue", QueueState::default()) }
    }
}

impl GpuQueue {
    /// Commands queued and not yet run (the front one, if any, is blocked).
    pub(crate) fn pending(&self) -> usize {
        self.state.lock().pending.len()
    }

    /// Calls `f` with each fence a queued command holds (for the leak report).
    pub(crate) fn for_each_fence(&self, mut f: impl FnMut(&SyncObject)) {
        for command in &self.state.lock().pending {
            if let Command::Wait(fences) | Command::Signal(fences) = command {
                fences.iter().for_each(|(fence, _)| f(fence));
            }
        }
    }

    pub(crate) fn counters(&self) -> QueueCounters {
        self.state.lock().counters
    }

    /// Runs every command that can run, in order. Returns whether any
    /// signal ran, and the finished commands, to drop with no lock held.
    fn pump(&self, regression: FenceRegression, hub: &WaitHub) -> (bool, Vec<Command>) {
        let mut done = Vec::new();
        let mut signalled = false;
        let mut state = self.state.lock();
        while let Some(front) = state.pending.front() {
            match front {
                Command::Wait(fences) if !fences.iter().all(|(f, v)| f.value() >= *v) => break,
                Command::Wait(_) => {}
                Command::Signal(fences) => {
                    for (fence, value) in fences {
                        fence.signal(*value, regression, hub);
                    }
                    signalled = true;
                }
                Command::Work => state.counters.work_completed += 1,
            }
            state.counters.completed += 1;
            done.push(state.pending.pop_front().expect("front exists"));
        }
        drop(state);
        (signalled, done)
    }
}

/// A sync file waiting for its fence (see `crate::sync_file`).
pub(crate) struct SyncFileWatch {
    pub(crate) fence: Arc<SyncObject>,
    pub(crate) value: u64,
    /// Our copy of the eventfd; written once, when the fence gets there.
    pub(crate) fd: std::os::fd::OwnedFd,
}

/// The kernel's fake GPU: the queues that wait on a fence, the devices with
/// sync files pending, and the counters the statistics report. Its two
/// registries rank with the kernel-wide ones: queue and sync-file locks are
/// taken under them, and they are never taken under a process's state.
pub(crate) struct Gpu {
    /// Queues with commands left (blocked on a fence). Held weakly: a queue
    /// lives as long as its context or hw queue.
    blocked: Mutex<Vec<Weak<GpuQueue>>>,
    /// Devices with sync files not yet fired.
    watched: Mutex<Vec<Weak<Device>>>,
    /// Submissions (`SubmitCommand`, `Render`, `SubmitCommandToHwQueue`), all adapters.
    pub(crate) submissions: AtomicU64,
    /// GPU-queued signals and waits submitted.
    pub(crate) sync_commands: AtomicU64,
    /// `D3DKMTFlushHeapTransitions` calls.
    pub(crate) heap_flushes: AtomicU64,
    /// `D3DKMTEscape` calls that reached the KMD.
    pub(crate) escapes: AtomicU64,
}

impl Default for Gpu {
    fn default() -> Self {
        Gpu {
            blocked: Mutex::with_level(Level::Kernel, "fake GPU blocked queues", Vec::new()),
            watched: Mutex::with_level(Level::Kernel, "fake GPU sync-file devices", Vec::new()),
            submissions: AtomicU64::new(0),
            sync_commands: AtomicU64::new(0),
            heap_flushes: AtomicU64::new(0),
            escapes: AtomicU64::new(0),
        }
    }
}

impl Gpu {
    /// Queues `commands` on `queue` and runs what can run; then lets every
    /// other blocked queue run if a signal ran.
    pub(crate) fn submit(
        &self,
        queue: &Arc<GpuQueue>,
        commands: Vec<Command>,
        regression: FenceRegression,
        hub: &WaitHub,
    ) {
        {
            let mut state = queue.state.lock();
            state.counters.submitted += commands.len() as u64;
            state.counters.work_submitted += commands.iter().filter(|c| matches!(c, Command::Work)).count() as u64;
            state.pending.extend(commands);
        }
        // Registered before the first pump, so a signal racing with this
        // submit either is seen by the pump or kicks this queue.
        self.register(queue);
        let (signalled, done) = queue.pump(regression, hub);
        drop(done);
        if signalled {
            self.kick(regression, hub);
        }
    }

    fn register(&self, queue: &Arc<GpuQueue>) {
        let mut blocked = self.blocked.lock();
        if !blocked.iter().any(|q| core::ptr::eq(q.as_ptr(), Arc::as_ptr(queue))) {
            blocked.push(Arc::downgrade(queue));
        }
    }

    /// A fence moved (CPU signal, GPU signal, removal): runs every blocked
    /// queue until none can move, then fires the sync files now satisfied.
    pub(crate) fn kick(&self, regression: FenceRegression, hub: &WaitHub) {
        loop {
            // Upgraded under the lock, dropped after it: one may be a
            // queue's last reference, whose commands hold fences.
            let queues: Vec<Arc<GpuQueue>> = {
                let mut blocked = self.blocked.lock();
                let live: Vec<Arc<GpuQueue>> = blocked.iter().filter_map(Weak::upgrade).collect();
                blocked.clear();
                blocked.extend(live.iter().filter(|q| q.pending() > 0).map(Arc::downgrade));
                live
            };
            let mut again = false;
            let mut finished = Vec::new();
            for queue in &queues {
                let (signalled, done) = queue.pump(regression, hub);
                again |= signalled;
                finished.push(done);
            }
            drop(finished);
            drop(queues);
            if !again {
                break;
            }
        }
        self.fire_sync_files();
    }

    /// Starts watching `device`'s sync files.
    pub(crate) fn watch(&self, device: &Arc<Device>) {
        let mut watched = self.watched.lock();
        if !watched.iter().any(|d| core::ptr::eq(d.as_ptr(), Arc::as_ptr(device))) {
            watched.push(Arc::downgrade(device));
        }
    }

    /// Fires every pending sync file whose fence has reached its value.
    pub(crate) fn fire_sync_files(&self) {
        // As in `kick`: a device's last reference is dropped after the lock.
        let devices: Vec<Arc<Device>> = {
            let mut watched = self.watched.lock();
            let live: Vec<Arc<Device>> = watched.iter().filter_map(Weak::upgrade).collect();
            watched.clear();
            watched.extend(live.iter().filter(|d| !d.sync_files.lock().is_empty()).map(Arc::downgrade));
            live
        };
        for device in &devices {
            let fired: Vec<SyncFileWatch> = {
                let mut files = device.sync_files.lock();
                let (fired, kept) = std::mem::take(&mut *files).into_iter().partition(|w| w.fence.value() >= w.value);
                *files = kept;
                fired
            };
            for watch in &fired {
                crate::sync_file::fire(&watch.fd);
            }
            drop(fired);
        }
        drop(devices);
    }
}

/// What `D3DKMTQueryStatistics` reports (see [`crate::Process::gpu_statistics`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuStatistics {
    /// The adapter's nodes ([`crate::AdapterConfig::node_count`]).
    pub node_count: u32,
    /// The adapter's VidPn sources.
    pub vidpn_source_count: u32,
    /// Its memory segments: 1 for video memory (if any) plus 1 for shared
    /// system memory (if any).
    pub segment_count: u32,
    /// Command buffers submitted to the node (or every node), by the
    /// process or by all: `QueuePacket[D3DKMT_ClientRenderBuffer].PacketSubmited`.
    pub packets_submitted: u64,
    /// Of those, the ones that have run: `...PacketCompleted`.
    pub packets_completed: u64,
}

/// The `D3DKMT_DEVICE_ERROR_REASON` values.
const DEVICE_ERROR_REASON_GENERIC: i32 = windows_sys::Wdk::Graphics::Direct3D::D3DKMT_DEVICE_ERROR_REASON_GENERIC;
const DEVICE_ERROR_REASON_DRIVER_ERROR: i32 =
    windows_sys::Wdk::Graphics::Direct3D::D3DKMT_DEVICE_ERROR_REASON_DRIVER_ERROR;

impl crate::Process {
    /// Command buffers submitted and completed on this process's contexts
    /// and hardware queues on `adapter` (and `node`, if given).
    fn packet_counts(&self, adapter: usize, node: Option<u32>) -> (u64, u64) {
        use crate::process::LocalEntry;
        let Ok(state) = self.lock_live() else { return (0, 0) };
        let mut sum = (0, 0);
        for (_, entry) in state.local.iter() {
            let (context, queue) = match entry {
                LocalEntry::Context(c) => (&c.context, &c.context.queue),
                LocalEntry::HwQueue(q) => (&q.queue.context, &q.queue.queue),
                _ => continue,
            };
            if context.device.adapter.index != adapter || node.is_some_and(|n| n != context.node_ordinal) {
                continue;
            }
            let c = queue.counters();
            sum.0 += c.work_submitted;
            sum.1 += c.work_completed;
        }
        sum
    }

    /// `D3DKMTQueryStatistics` for the adapter with `luid`: the counters we
    /// keep. `node` restricts the packet counts to one node; `all_processes`
    /// sums them over every live process of the kernel (the adapter and
    /// node types) rather than this one (the process types). An unknown
    /// LUID, or a node past the adapter's, is `STATUS_INVALID_PARAMETER`.
    pub fn gpu_statistics(&self, luid: crate::Luid, node: Option<u32>, all_processes: bool) -> KResult<GpuStatistics> {
        let kernel = self.kernel_inner();
        let adapter = kernel
            .adapters
            .iter()
            .find(|a| a.config.luid == luid)
            .ok_or(KernelError::InvalidParameter("no adapter has that LUID"))?;
        let config = &adapter.config;
        if node.is_some_and(|n| n >= config.node_count) {
            return Err(KernelError::InvalidParameter("NodeId names no node of the adapter"));
        }
        drop(self.lock_live()?);
        let (submitted, completed) = if all_processes {
            let processes = crate::Kernel(Arc::clone(kernel)).processes();
            let sum = processes
                .iter()
                .map(|p| p.packet_counts(adapter.index, node))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            drop(processes);
            sum
        } else {
            self.packet_counts(adapter.index, node)
        };
        let segments = u32::from(config.segments.dedicated_video > 0) + u32::from(config.segments.shared_system > 0);
        Ok(GpuStatistics {
            node_count: config.node_count,
            vidpn_source_count: config.num_sources,
            segment_count: segments,
            packets_submitted: submitted,
            packets_completed: completed,
        })
    }

    /// `D3DKMTQueryClockCalibration`: (GPU frequency, GPU counter, CPU
    /// counter) read at one instant of the kernel clock (virtual by
    /// default, see [`crate::ClockMode`]). The GPU counter ticks at 1 GHz
    /// (it is the kernel time in nanoseconds); the CPU counter is the
    /// kernel time in the 100 ns units of Windows' `QueryPerformanceCounter`
    /// (10 MHz). `adapter` must be an adapter handle of this process, `node`
    /// one of its nodes and `physical` 0, or it is `STATUS_INVALID_PARAMETER`.
    pub fn clock_calibration(&self, adapter: crate::LocalHandle, node: u32, physical: u32) -> KResult<(u64, u64, u64)> {
        let state = self.lock_live()?;
        let adapter = state.adapter(adapter.0)?;
        if node >= adapter.config.node_count {
            return Err(KernelError::InvalidParameter("NodeOrdinal names no node of the adapter"));
        }
        if physical != 0 {
            return Err(KernelError::InvalidParameter("PhysicalAdapterIndex names no physical adapter"));
        }
        drop(state);
        let now = self.kernel_inner().clock.now_ns();
        Ok((1_000_000_000, now, now / 100))
    }

    /// `D3DKMTMarkDeviceAsError`: the UMD reports its device broken. The
    /// device is lost with [`crate::GpuPolicies::mark_device_as_error`],
    /// with a removal's consequences (`crate::removal`). A `Reason` that is
    /// not a `D3DKMT_DEVICE_ERROR_REASON`, or a bad device handle, is
    /// `STATUS_INVALID_PARAMETER`; a device already lost is
    /// `STATUS_DEVICE_REMOVED` and keeps its first reason.
    pub fn mark_device_as_error(&self, device: crate::LocalHandle, reason: i32) -> KResult<()> {
        self.check_device(device)?;
        if reason != DEVICE_ERROR_REASON_GENERIC && reason != DEVICE_ERROR_REASON_DRIVER_ERROR {
            return Err(KernelError::InvalidParameter("Reason is not a D3DKMT_DEVICE_ERROR_REASON"));
        }
        self.remove_device_by_kmd(device, self.kernel_inner().policies.gpu.mark_device_as_error)
    }

    /// `D3DKMTFlushHeapTransitions`: there are no heaps to flush; the call
    /// checks its adapter handle (`STATUS_INVALID_PARAMETER` if it is not
    /// one of this process's, as Windows answers a zeroed struct) and is
    /// counted.
    pub fn flush_heap_transitions(&self, adapter: crate::LocalHandle) -> KResult<()> {
        self.lock_live()?.adapter(adapter.0)?;
        self.kernel_inner().gpu.heap_flushes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// `D3DKMTEscape` with `D3DKMT_ESCAPE_DRIVERPRIVATE`: routes `data` to
    /// the KMD ([`crate::Kmd::escape`]), which may rewrite it; returns it as
    /// the KMD left it. `adapter` must be an adapter handle of this process;
    /// a nonzero `device` a device of this process on that adapter; a nonzero
    /// `context` a context of that device (or of any device on the adapter
    /// when `device` is 0). Else `STATUS_INVALID_PARAMETER`.
    pub fn escape(
        &self,
        adapter: crate::LocalHandle,
        device: u32,
        context: u32,
        flags: u32,
        mut data: Vec<u8>,
    ) -> KResult<Vec<u8>> {
        let (luid, key) = {
            let state = self.lock_live()?;
            let adapter = Arc::clone(state.adapter(adapter.0)?);
            if device != 0 && !Arc::ptr_eq(&state.device(device)?.adapter, &adapter) {
                return Err(KernelError::InvalidParameter("hDevice is on another adapter"));
            }
            let key = if context != 0 {
                let entry = state.context_entry(context)?;
                let on_device = device == 0 || entry.device == device;
                if !on_device || !Arc::ptr_eq(&entry.context.device.adapter, &adapter) {
                    return Err(KernelError::InvalidParameter("hContext is not on hDevice"));
                }
                Some(entry.context.key)
            } else {
                None
            };
            (adapter.config.luid, key)
        };
        let kernel = self.kernel_inner();
        let kmd = Arc::clone(&*kernel.kmd.read());
        kernel.gpu.escapes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut args = crate::kmd::EscapeArgs {
            adapter: luid,
            device: (device != 0).then_some(device),
            context: key,
            flags,
            data: &mut data,
        };
        kmd.escape(&mut args).map_err(KernelError::driver)?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_wait_holds_back_later_commands_until_its_fence_moves() {
        let k = crate::Kernel::new(crate::KernelConfig::default());
        let p = k.create_process();
        let a = p.open_adapter_from_luid(k.adapter_luids()[0]).unwrap();
        let d = p.create_device(a).unwrap();
        let f = p.create_monitored_fence(d, Default::default(), 0).unwrap();
        let g = p.create_monitored_fence(d, Default::default(), 0).unwrap();
        let (fa, ga) = {
            let s = p.lock_live().unwrap();
            (
                Arc::clone(&s.sync_entry(f.handle.0).unwrap().object),
                Arc::clone(&s.sync_entry(g.handle.0).unwrap().object),
            )
        };
        let inner = p.kernel_inner();
        let q = Arc::new(GpuQueue::default());
        let cmds =
            vec![Command::Wait(vec![(Arc::clone(&fa), 2)]), Command::Work, Command::Signal(vec![(Arc::clone(&ga), 7)])];
        inner.gpu.submit(&q, cmds, FenceRegression::Ignore, &inner.wait_hub);
        assert_eq!(q.pending(), 3);
        assert_eq!(ga.value(), 0);
        fa.signal(1, FenceRegression::Ignore, &inner.wait_hub);
        inner.gpu.kick(FenceRegression::Ignore, &inner.wait_hub);
        assert_eq!(q.pending(), 3, "1 < 2: still blocked");
        fa.signal(2, FenceRegression::Ignore, &inner.wait_hub);
        inner.gpu.kick(FenceRegression::Ignore, &inner.wait_hub);
        assert_eq!(q.pending(), 0);
        assert_eq!(ga.value(), 7);
        assert_eq!(q.counters(), QueueCounters { submitted: 3, completed: 3, work_submitted: 1, work_completed: 1 });
    }
}
