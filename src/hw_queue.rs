//! Hardware queues (`D3DKMTCreateHwQueue`, `D3DKMTDestroyHwQueue`, the
//! `Submit*ToHwQueue` calls) and paging queues (`D3DKMTCreatePagingQueue`,
//! `D3DKMTDestroyPagingQueue`).
//!
//! What Windows does, and what we do:
//! - A hardware queue is created on a context (one from
//!   `D3DKMTCreateContextVirtual`, or `D3DKMTCreateHwContext` when
//!   [`crate::HwContexts::Emulated`]) and has its own **progress fence**: a
//!   monitored fence whose handle, CPU address and GPU address the create
//!   returns. `D3DKMTSubmitCommandToHwQueue` names the value the fence takes
//!   when the submitted work completes; on the fake GPU that is as soon as
//!   nothing queued before it waits. The progress fence's handle is a child
//!   of the device like any sync object (a removal or TDR jumps it to its
//!   maximum); destroying the queue destroys it.
//! - Each hardware queue is its own in-order queue on the fake GPU
//!   ([`crate::gpu`]), separate from its context's.
//! - A paging queue has a **paging fence**, a monitored fence (handle and CPU
//!   address returned) that paging operations signal: `MapGpuVirtualAddress`,
//!   `MakeResident`, `ReclaimAllocations2` and `UpdateAllocationProperty`
//!   each advance it by one and return the new value, which the fake GPU has
//!   already reached (see `crate::gpu_va`, `crate::residency`). `Priority` must be one of
//!   `D3DDDI_PAGINGQUEUE_PRIORITY` (-1, 0, 1) and `PhysicalAdapterIndex` 0,
//!   or it is `STATUS_INVALID_PARAMETER`.
//!
//! Ownership: a hardware queue's entry holds the [`HwQueue`], which holds
//! its context and its progress fence; the fence's handle holds it too.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::context::{Context, MAX_PRIVATE_DATA, SubmitArgs, next_key};
use crate::error::{KResult, KernelError};
use crate::gpu::{Command, GpuQueue, QueueCounters};
use crate::handle::LocalHandle;
use crate::kmd::{ContextKey, Submission};
use crate::live::{LiveToken, ObjectKind};
use crate::process::{LocalEntry, Process, ProcessState};
use crate::sync::Graveyard;
use crate::sync_object::{SyncEntry, SyncObject};

pub(crate) struct HwQueue {
    pub(crate) key: ContextKey,
    pub(crate) context: Arc<Context>,
    pub(crate) progress: Arc<SyncObject>,
    pub(crate) queue: Arc<GpuQueue>,
    pub(crate) _live: LiveToken,
}

/// A hardware queue's handle-table entry.
pub(crate) struct HwQueueEntry {
    pub(crate) queue: Arc<HwQueue>,
    pub(crate) device: u32,
    pub(crate) child_slot: u32,
    /// The context's handle.
    pub(crate) context: u32,
    /// The progress fence's handle.
    pub(crate) fence: u32,
}

pub(crate) struct PagingQueue {
    pub(crate) fence: Arc<SyncObject>,
    pub(crate) priority: i32,
    pub(crate) _live: LiveToken,
}

/// A paging queue's handle-table entry.
pub(crate) struct PagingQueueEntry {
    pub(crate) paging: Arc<PagingQueue>,
    pub(crate) device: u32,
    pub(crate) child_slot: u32,
    /// The paging fence's handle.
    pub(crate) fence: u32,
}

/// What creating a hardware queue returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatedHwQueue {
    /// The queue's handle.
    pub handle: LocalHandle,
    /// Its progress fence's handle.
    pub fence: LocalHandle,
    /// Where the progress fence's value can be read.
    pub cpu_va: *const u64,
    /// The progress fence's fake GPU virtual address.
    pub gpu_va: u64,
}

/// What creating a paging queue returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreatedPagingQueue {
    /// The queue's handle.
    pub handle: LocalHandle,
    /// Its paging fence's handle.
    pub fence: LocalHandle,
    /// Where the paging fence's value can be read.
    pub cpu_va: *const u64,
}

impl ProcessState {
    pub(crate) fn hw_queue_entry(&self, handle: u32) -> KResult<&HwQueueEntry> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::HwQueue(q)) => Ok(q),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "hardware queue" }),
        }
    }

    /// Removes the handle of `fence` if it still names `object` (the caller
    /// may have destroyed it on its own).
    fn remove_own_fence(&mut self, fence: u32, object: &Arc<SyncObject>, graveyard: &mut Graveyard<LocalEntry>) {
        let ours =
            matches!(self.local.get(fence as u64), Some(LocalEntry::SyncObject(s)) if Arc::ptr_eq(&s.object, object));
        if ours {
            if let Some(entry) = self.remove_local(fence) {
                graveyard.bury(entry);
            }
        }
    }

    /// Removes a hardware queue, its progress fence's handle, and its place
    /// in its context's list.
    pub(crate) fn destroy_hw_queue_locked(&mut self, handle: u32, graveyard: &mut Graveyard<LocalEntry>) {
        let Some(LocalEntry::HwQueue(entry)) = self.local.get(handle as u64) else { return };
        let (context, fence, progress) = (entry.context, entry.fence, Arc::clone(&entry.queue.progress));
        if let Some(LocalEntry::Context(c)) = self.local.get_mut(context as u64) {
            c.hw_queues.retain(|&q| q != handle);
        }
        if let Some(entry) = self.remove_local(handle) {
            graveyard.bury(entry);
        }
        self.remove_own_fence(fence, &progress, graveyard);
        drop(progress);
    }

    /// A new monitored fence of the kernel's own, with a handle on `device`.
    fn own_fence(
        &mut self,
        device: u32,
        adapter: usize,
        process: &Process,
        graveyard: &mut Graveyard<LocalEntry>,
    ) -> KResult<(Arc<SyncObject>, LocalHandle)> {
        let gpu_va = self.next_gpu_va(process.kernel_inner());
        let fence = Arc::new(SyncObject::internal_fence(adapter, gpu_va, &process.0.live));
        let entry = SyncEntry {
            object: Arc::clone(&fence),
            device: Some(device),
            child_slot: 0,
            can_signal: true,
            can_wait: true,
        };
        let handle = self.insert_local(LocalEntry::SyncObject(entry), graveyard)?;
        Ok((fence, handle))
    }
}

impl Process {
    /// `D3DKMTCreateHwQueue` on a context of this process. `flags` are the
    /// raw `D3DDDI_CREATEHWQUEUEFLAGS`; the private data goes nowhere but
    /// the bound check ([`MAX_PRIVATE_DATA`]). Statuses: a bad context
    /// handle `STATUS_INVALID_PARAMETER`; a lost device `STATUS_DEVICE_REMOVED`;
    /// a legacy context (from `D3DKMTCreateContext`) `STATUS_INVALID_PARAMETER`.
    pub fn create_hw_queue(&self, context: LocalHandle, driver_data_size: u32) -> KResult<CreatedHwQueue> {
        if driver_data_size > MAX_PRIVATE_DATA {
            return Err(KernelError::InvalidParameter("PrivateDriverDataSize too large"));
        }
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let entry = state.context_entry(context.0)?;
        let (ctx, device) = (Arc::clone(&entry.context), entry.device);
        if ctx.kind == crate::ContextKind::Legacy {
            return Err(KernelError::InvalidParameter("hardware queues need a virtual or hardware context"));
        }
        state.device_for_create(device)?;
        let (progress, fence) = state.own_fence(device, ctx.device.adapter.index, self, &mut graveyard)?;
        let (cpu_va, gpu_va) = (progress.cpu_va(), progress.gpu_va);
        let queue = Arc::new(HwQueue {
            key: next_key(),
            context: ctx,
            progress: Arc::clone(&progress),
            queue: Arc::new(GpuQueue::default()),
            _live: LiveToken::new(&self.0.live, ObjectKind::HwQueue),
        });
        let entry = HwQueueEntry { queue, device, child_slot: 0, context: context.0, fence: fence.0 };
        let handle = match state.insert_local(LocalEntry::HwQueue(entry), &mut graveyard) {
            Ok(handle) => handle,
            Err(e) => {
                state.remove_own_fence(fence.0, &progress, &mut graveyard);
                drop(state);
                drop(progress);
                return Err(e);
            }
        };
        if let Some(LocalEntry::Context(c)) = state.local.get_mut(context.0 as u64) {
            c.hw_queues.push(handle.0);
        }
        drop(state);
        drop(progress);
        Ok(CreatedHwQueue { handle, fence, cpu_va, gpu_va })
    }

    /// `D3DKMTDestroyHwQueue`: destroys the queue and its progress fence's
    /// handle; work still queued on it is dropped (see `crate::context`).
    pub fn destroy_hw_queue(&self, queue: LocalHandle) -> KResult<()> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.hw_queue_entry(queue.0)?;
        state.destroy_hw_queue_locked(queue.0, &mut graveyard);
        drop(state);
        Ok(())
    }

    /// What a hardware queue has seen, and how many commands wait on it.
    pub fn hw_queue_counters(&self, queue: LocalHandle) -> KResult<(QueueCounters, usize)> {
        let state = self.lock_live()?;
        let queue = &state.hw_queue_entry(queue.0)?.queue.queue;
        Ok((queue.counters(), queue.pending()))
    }

    /// The hardware queues `handles` name; their devices must be usable for
    /// work, and for signals and waits (`sync`) only under
    /// [`crate::RemovedDeviceSync::Fail`] (see `crate::context`).
    fn hw_queues(&self, state: &ProcessState, handles: &[u32], sync: bool) -> KResult<Vec<Arc<HwQueue>>> {
        if handles.is_empty() {
            return Err(KernelError::InvalidParameter("no hardware queue"));
        }
        let list =
            handles.iter().map(|&h| Ok(Arc::clone(&state.hw_queue_entry(h)?.queue))).collect::<KResult<Vec<_>>>()?;
        if !sync || self.kernel_inner().policies.removal.sync == crate::RemovedDeviceSync::Fail {
            for q in &list {
                q.context.device.check_usable()?;
            }
        }
        Ok(list)
    }

    /// `D3DKMTSubmitCommandToHwQueue`: the KMD sees the submission, then the
    /// work and the progress fence's move to `progress` run in order on the
    /// queue.
    pub(crate) fn submit_to_hw_queue(&self, queue: u32, progress: u64, args: &SubmitArgs) -> KResult<()> {
        let list = {
            let state = self.lock_live()?;
            self.hw_queues(&state, &[queue], false)?
        };
        let q = &list[0];
        let kernel = self.kernel_inner();
        let kmd = Arc::clone(&*kernel.kmd.read());
        kmd.submit(&Submission {
            adapter: q.context.device.adapter.config.luid,
            context: q.context.key,
            hw_queue: Some(q.key),
            node_ordinal: q.context.node_ordinal,
            command_buffer: args.command_buffer,
            command_length: args.command_length,
            command_bytes: None,
            private_data: &args.private_data,
            progress_fence_value: Some(progress),
        })
        .map_err(KernelError::driver)?;
        kernel.gpu.submissions.fetch_add(1, Ordering::Relaxed);
        let commands = vec![Command::Work, Command::Signal(vec![(Arc::clone(&q.progress), progress)])];
        kernel.gpu.submit(&q.queue, commands, kernel.policies.fence_regression, &kernel.wait_hub);
        Ok(())
    }

    /// `D3DKMTSubmitSignalSyncObjectsToHwQueue`: queues, on each hardware
    /// queue, a signal of each fence to its value.
    pub(crate) fn signal_to_hw_queues(&self, queues: &[u32], objects: &[(u32, u64)]) -> KResult<()> {
        let (list, fences) = {
            let state = self.lock_live()?;
            let list = self.hw_queues(&state, queues, true)?;
            (list, state.gpu_fences(objects, true)?)
        };
        let kernel = self.kernel_inner();
        for q in &list {
            kernel.gpu.sync_commands.fetch_add(1, Ordering::Relaxed);
            let command = Command::Signal(fences.clone());
            kernel.gpu.submit(&q.queue, vec![command], kernel.policies.fence_regression, &kernel.wait_hub);
        }
        Ok(())
    }

    /// `D3DKMTSubmitWaitForSyncObjectsToHwQueue`: queues a wait for every
    /// fence to reach its value; later work on the queue waits behind it.
    pub(crate) fn wait_on_hw_queue(&self, queue: u32, objects: &[(u32, u64)]) -> KResult<()> {
        let (list, fences) = {
            let state = self.lock_live()?;
            let list = self.hw_queues(&state, &[queue], true)?;
            (list, state.gpu_fences(objects, false)?)
        };
        let kernel = self.kernel_inner();
        kernel.gpu.sync_commands.fetch_add(1, Ordering::Relaxed);
        kernel.gpu.submit(
            &list[0].queue,
            vec![Command::Wait(fences)],
            kernel.policies.fence_regression,
            &kernel.wait_hub,
        );
        Ok(())
    }

    /// `D3DKMTCreatePagingQueue` on a device of this process.
    pub fn create_paging_queue(
        &self,
        device: LocalHandle,
        priority: i32,
        physical_adapter_index: u32,
    ) -> KResult<CreatedPagingQueue> {
        if !(-1..=1).contains(&priority) {
            return Err(KernelError::InvalidParameter("Priority is not a D3DDDI_PAGINGQUEUE_PRIORITY"));
        }
        if physical_adapter_index != 0 {
            return Err(KernelError::InvalidParameter("PhysicalAdapterIndex names no physical adapter"));
        }
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let adapter = state.device_for_create(device.0)?.adapter.index;
        let (fence_object, fence) = state.own_fence(device.0, adapter, self, &mut graveyard)?;
        let cpu_va = fence_object.cpu_va();
        let paging = Arc::new(PagingQueue {
            fence: Arc::clone(&fence_object),
            priority,
            _live: LiveToken::new(&self.0.live, ObjectKind::PagingQueue),
        });
        let entry = PagingQueueEntry { paging, device: device.0, child_slot: 0, fence: fence.0 };
        let handle = match state.insert_local(LocalEntry::PagingQueue(entry), &mut graveyard) {
            Ok(handle) => handle,
            Err(e) => {
                state.remove_own_fence(fence.0, &fence_object, &mut graveyard);
                drop(state);
                drop(fence_object);
                return Err(e);
            }
        };
        drop(state);
        drop(fence_object);
        Ok(CreatedPagingQueue { handle, fence, cpu_va })
    }

    /// `D3DKMTDestroyPagingQueue`: destroys the queue and its paging fence's handle.
    pub fn destroy_paging_queue(&self, queue: LocalHandle) -> KResult<()> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        let (fence, object) = match state.local.get(queue.0 as u64) {
            Some(LocalEntry::PagingQueue(p)) => (p.fence, Arc::clone(&p.paging.fence)),
            _ => return Err(KernelError::BadLocalHandle { handle: queue.0, expected: "paging queue" }),
        };
        if let Some(entry) = state.remove_local(queue.0) {
            graveyard.bury(entry);
        }
        state.remove_own_fence(fence, &object, &mut graveyard);
        drop(state);
        drop(object);
        Ok(())
    }

    /// A paging queue's priority, as created.
    pub fn paging_queue_priority(&self, queue: LocalHandle) -> KResult<i32> {
        match self.lock_live()?.local.get(queue.0 as u64) {
            Some(LocalEntry::PagingQueue(p)) => Ok(p.paging.priority),
            _ => Err(KernelError::BadLocalHandle { handle: queue.0, expected: "paging queue" }),
        }
    }
}
