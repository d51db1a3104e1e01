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
use crate::policy::FenceRegression;
use crate::sync::Mutex;
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
    /// Of those, command buffers (work).
    pub work_completed: u64,
}

#[derive(Default)]
struct QueueState {
    pending: VecDeque<Command>,
    counters: QueueCounters,
}

/// An in-order queue of the fake GPU.
#[derive(Default)]
pub(crate) struct GpuQueue {
    state: Mutex<QueueState>,
}

impl GpuQueue {
    /// Commands queued and not yet run (the front one, if any, is blocked).
    pub(crate) fn pending(&self) -> usize {
        self.state.lock().pending.len()
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
/// sync files pending, and the counters the statistics report.
#[derive(Default)]
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
            let queues: Vec<Arc<GpuQueue>> = {
                let mut blocked = self.blocked.lock();
                blocked.retain(|q| q.upgrade().is_some_and(|q| q.pending() > 0));
                blocked.iter().filter_map(Weak::upgrade).collect()
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
        let devices: Vec<Arc<Device>> = {
            let mut watched = self.watched.lock();
            watched.retain(|d| d.upgrade().is_some_and(|d| !d.sync_files.lock().is_empty()));
            watched.iter().filter_map(Weak::upgrade).collect()
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
            (Arc::clone(&s.sync_entry(f.handle.0).unwrap().object), Arc::clone(&s.sync_entry(g.handle.0).unwrap().object))
        };
        let inner = p.kernel_inner();
        let q = Arc::new(GpuQueue::default());
        let cmds = vec![Command::Wait(vec![(Arc::clone(&fa), 2)]), Command::Work, Command::Signal(vec![(Arc::clone(&ga), 7)])];
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
        assert_eq!(q.counters(), QueueCounters { submitted: 3, completed: 3, work_completed: 1 });
    }
}
