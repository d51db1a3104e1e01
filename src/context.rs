//! Contexts: `D3DKMTCreateContext`, `D3DKMTCreateContextVirtual`,
//! `D3DKMTCreateHwContext`, their destroys, scheduling priorities, and the
//! GPU-queued work on them (`SubmitCommand`, `Render`, GPU signal and wait).
//!
//! What Windows does, and what we do:
//! - A context is a device's stream of GPU work on one engine (node). Its
//!   `NodeOrdinal` must name an engine of the adapter
//!   ([`crate::AdapterConfig::node_count`]) and its `EngineAffinity` a
//!   physical adapter (each of ours is one: 0 or 1), or the create is
//!   `STATUS_INVALID_PARAMETER`. A lost device is `STATUS_DEVICE_REMOVED`, as
//!   for every create (`crate::removal`).
//! - The private driver data goes to the fake KMD ([`crate::Kmd::create_context`]),
//!   which may refuse the context with its own status. `D3DKMTCreateContext`
//!   (the legacy call) also hands out a command buffer, an allocation list
//!   and a patch-location list in our memory, which `D3DKMTRender` submits.
//! - Each context runs its work in order on the fake GPU ([`crate::gpu`]):
//!   submissions complete at once unless a GPU wait queued before them is
//!   blocked; a GPU signal sets its fences when it reaches the front.
//! - Submissions on a lost device are `STATUS_DEVICE_REMOVED` (as Windows
//!   documents for `Render` and `SubmitCommand`). GPU-queued signals and
//!   waits follow [`crate::RemovedDeviceSync`], as the CPU ones do: by
//!   default `STATUS_DEVICE_REMOVED`; with `Proceed` they are queued as on a
//!   live device. Work already queued keeps waiting, and a removal's jump of
//!   the device's fences to their maximum usually releases it.
//! - Destroying a context destroys the hardware queues on it; destroying a
//!   device first frees its GPU virtual address reservations and unmaps its
//!   allocations (`crate::gpu_va`), then destroys, in this order, its
//!   hardware queues, contexts, paging queues, then sync objects, sessions,
//!   resources and allocations (an allocation's residency, locks and offer
//!   go with its last reference, `crate::residency`), then the device with
//!   its pending sync files. Work still queued on a destroyed queue is dropped without running
//!   (its signals never happen): Windows waits for the GPU to finish, but a
//!   fake GPU blocked on a fence nobody will signal would wait for ever.
//!
//! Ownership: a context's handle and each hardware queue on it hold one
//! `Arc` on the [`Context`]; the KMD's destroy runs when the last goes.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use crate::device::Device;
use crate::error::{KResult, KernelError};
use crate::gpu::{Command, FenceValues, GpuQueue, QueueCounters};
use crate::handle::LocalHandle;
use crate::kmd::{ContextKey, CreateContextArgs, Kmd, Submission};
use crate::live::{LiveToken, ObjectKind};
use crate::process::{LocalEntry, Process, ProcessState};
use crate::sync::Graveyard;
use crate::sync_object::SyncKind;

/// Which create call made a context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContextKind {
    /// `D3DKMTCreateContext`: with a command buffer and lists, for `Render`.
    Legacy,
    /// `D3DKMTCreateContextVirtual`: GPU virtual addressing, `SubmitCommand`.
    Virtual,
    /// `D3DKMTCreateHwContext` (see [`crate::HwContexts`]).
    Hardware,
}

/// What a context create asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextParams {
    /// `NodeOrdinal`.
    pub node_ordinal: u32,
    /// `EngineAffinity`.
    pub engine_affinity: u32,
    /// The raw flags bits.
    pub flags: u32,
    /// `ClientHint`.
    pub client_hint: i32,
    /// The private driver data (at most [`MAX_PRIVATE_DATA`] bytes).
    pub driver_data: Vec<u8>,
}

/// The most private driver data a context create, a submission or an escape
/// takes: 64 KiB (our bound; Windows has one per call, not documented). More
/// is `STATUS_INVALID_PARAMETER`.
pub const MAX_PRIVATE_DATA: u32 = 64 * 1024;

/// The legacy context's command buffer size, in bytes.
pub(crate) const COMMAND_BUFFER_BYTES: u32 = 64 * 1024;
/// The legacy context's allocation-list and patch-location-list lengths.
pub(crate) const LIST_ENTRIES: u32 = 1024;

/// What creating a context returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreatedContext {
    /// The new handle.
    pub handle: LocalHandle,
    /// The private driver data as the KMD left it.
    pub driver_data: Vec<u8>,
    /// For a legacy context: its command buffer, allocation list and
    /// patch-location list (addresses in our memory, valid while the
    /// context lives), and the command buffer's fake GPU address.
    pub legacy: Option<LegacyBuffers>,
}

/// A legacy context's buffers, as `D3DKMTCreateContext` returns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegacyBuffers {
    /// `pCommandBuffer` (64 KiB).
    pub command_buffer: usize,
    /// `pAllocationList` (1024 entries of 8 bytes).
    pub allocation_list: usize,
    /// `pPatchLocationList` (1024 entries of 24 bytes).
    pub patch_location_list: usize,
    /// `CommandBuffer`: the command buffer's fake GPU virtual address.
    pub gpu_va: u64,
}

/// Memory we own and hand to the caller by address. Atomics, so that the
/// caller's writes through the addresses we give are writes to memory that
/// allows them (interior mutability), and our reads need no `unsafe`.
struct LegacyMemory {
    command_buffer: Box<[AtomicU64]>,
    allocation_list: Box<[AtomicU64]>,
    patch_location_list: Box<[AtomicU64]>,
    gpu_va: u64,
}

fn zeroed(words: usize) -> Box<[AtomicU64]> {
    (0..words).map(|_| AtomicU64::new(0)).collect()
}

impl LegacyMemory {
    fn new(gpu_va: u64) -> LegacyMemory {
        LegacyMemory {
            command_buffer: zeroed(COMMAND_BUFFER_BYTES as usize / 8),
            allocation_list: zeroed(LIST_ENTRIES as usize),
            patch_location_list: zeroed(LIST_ENTRIES as usize * 3),
            gpu_va,
        }
    }

    /// The command buffer's bytes `offset..offset + length` (in range).
    fn command_bytes(&self, offset: u32, length: u32) -> Vec<u8> {
        let bytes: Vec<u8> = self.command_buffer.iter().flat_map(|w| w.load(Ordering::Relaxed).to_ne_bytes()).collect();
        bytes[offset as usize..(offset + length) as usize].to_vec()
    }

    fn buffers(&self) -> LegacyBuffers {
        LegacyBuffers {
            command_buffer: self.command_buffer.as_ptr() as usize,
            allocation_list: self.allocation_list.as_ptr() as usize,
            patch_location_list: self.patch_location_list.as_ptr() as usize,
            gpu_va: self.gpu_va,
        }
    }
}

static NEXT_CONTEXT_KEY: AtomicU64 = AtomicU64::new(1);

/// A new kernel handle for a context or hardware queue.
pub(crate) fn next_key() -> ContextKey {
    ContextKey(NEXT_CONTEXT_KEY.fetch_add(1, Ordering::Relaxed))
}

pub(crate) struct Context {
    pub(crate) key: ContextKey,
    pub(crate) device: Arc<Device>,
    pub(crate) kind: ContextKind,
    pub(crate) node_ordinal: u32,
    priority: AtomicI32,
    in_process_priority: AtomicI32,
    pub(crate) queue: Arc<GpuQueue>,
    legacy: Option<LegacyMemory>,
    kmd: Arc<dyn Kmd>,
    pub(crate) _live: LiveToken,
}

impl Drop for Context {
    /// `DxgkDdiDestroyContext`, once, after every lock (graveyards).
    fn drop(&mut self) {
        self.kmd.destroy_context(self.device.adapter.config.luid, self.key);
    }
}

/// A context's handle-table entry.
pub(crate) struct ContextEntry {
    pub(crate) context: Arc<Context>,
    pub(crate) device: u32,
    pub(crate) child_slot: u32,
    /// Handles of the hardware queues created on it.
    pub(crate) hw_queues: Vec<u32>,
}

impl ProcessState {
    pub(crate) fn context_entry(&self, handle: u32) -> KResult<&ContextEntry> {
        match self.local.get(handle as u64) {
            Some(LocalEntry::Context(c)) => Ok(c),
            _ => Err(KernelError::BadLocalHandle { handle, expected: "context" }),
        }
    }

    /// Removes a context and the hardware queues on it (with their progress
    /// fences' handles); the entries go to the graveyard.
    pub(crate) fn destroy_context_locked(&mut self, handle: u32, graveyard: &mut Graveyard<LocalEntry>) {
        let queues = match self.local.get(handle as u64) {
            Some(LocalEntry::Context(c)) => c.hw_queues.clone(),
            _ => return,
        };
        for queue in queues {
            self.destroy_hw_queue_locked(queue, graveyard);
        }
        if let Some(entry) = self.remove_local(handle) {
            graveyard.bury(entry);
        }
    }

    /// Looks up GPU-queued sync targets: each handle a fence or monitored
    /// fence of this process that may signal (or wait).
    pub(crate) fn gpu_fences(&self, objects: &[(u32, u64)], signal: bool) -> KResult<FenceValues> {
        let mut list = Vec::with_capacity(objects.len());
        for &(handle, value) in objects {
            let entry = self.sync_entry(handle)?;
            match entry.object.kind {
                SyncKind::MonitoredFence | SyncKind::Fence { .. } => {}
                SyncKind::Mutex { .. } | SyncKind::Semaphore { .. } => {
                    return Err(KernelError::NotImplemented("GPU-queued mutexes and semaphores"));
                }
                SyncKind::CpuNotification { .. } => {
                    return Err(KernelError::InvalidParameter("a CPU-notification object is not signalled by the GPU"));
                }
            }
            let allowed = if signal { entry.can_signal } else { entry.can_wait };
            if !allowed {
                return Err(KernelError::AccessDenied(if signal {
                    "handle may not signal"
                } else {
                    "handle may not wait"
                }));
            }
            list.push((Arc::clone(&entry.object), value));
        }
        Ok(list)
    }
}

/// A submission's inputs, decoded.
#[derive(Clone, Debug, Default)]
pub(crate) struct SubmitArgs {
    pub(crate) command_buffer: u64,
    pub(crate) command_length: u32,
    pub(crate) private_data: Vec<u8>,
}

impl Process {
    /// `D3DKMTCreateContext`, `D3DKMTCreateContextVirtual` or
    /// `D3DKMTCreateHwContext` on a device of this process.
    ///
    /// Statuses, in order: a bad device handle `STATUS_INVALID_PARAMETER`; a
    /// lost device `STATUS_DEVICE_REMOVED`; a `NodeOrdinal` past the
    /// adapter's nodes, an `EngineAffinity` naming another physical adapter,
    /// or private data over [`MAX_PRIVATE_DATA`] `STATUS_INVALID_PARAMETER`;
    /// the KMD's refusal, its status. The KMD runs with no lock held; if the
    /// device is destroyed meanwhile, the context goes with the KMD told, and
    /// the call fails with `STATUS_INVALID_PARAMETER`.
    pub fn create_context(
        &self,
        device: LocalHandle,
        kind: ContextKind,
        params: &ContextParams,
    ) -> KResult<CreatedContext> {
        let kernel = self.kernel_inner();
        let (dev, gpu_va) = {
            let mut state = self.lock_live()?;
            let dev = Arc::clone(state.device_for_create(device.0)?);
            let gpu_va = if kind == ContextKind::Legacy { state.next_gpu_va(kernel) } else { 0 };
            (dev, gpu_va)
        };
        if params.node_ordinal >= dev.adapter.config.node_count {
            return Err(KernelError::InvalidParameter("NodeOrdinal names no engine of the adapter"));
        }
        if params.engine_affinity > 1 {
            return Err(KernelError::InvalidParameter("EngineAffinity names another physical adapter"));
        }
        if params.driver_data.len() > MAX_PRIVATE_DATA as usize {
            return Err(KernelError::InvalidParameter("PrivateDriverDataSize too large"));
        }
        let kmd = Arc::clone(&*kernel.kmd.read());
        let key = next_key();
        let mut driver_data = params.driver_data.clone();
        kmd.create_context(&mut CreateContextArgs {
            adapter: dev.adapter.config.luid,
            context: key,
            kind,
            node_ordinal: params.node_ordinal,
            engine_affinity: params.engine_affinity,
            flags: params.flags,
            client_hint: params.client_hint,
            driver_data: &mut driver_data,
        })
        .map_err(KernelError::driver)?;
        let context = Arc::new(Context {
            key,
            device: Arc::clone(&dev),
            kind,
            node_ordinal: params.node_ordinal,
            priority: AtomicI32::new(0),
            in_process_priority: AtomicI32::new(0),
            queue: Arc::new(GpuQueue::default()),
            legacy: (kind == ContextKind::Legacy).then(|| LegacyMemory::new(gpu_va)),
            kmd,
            _live: LiveToken::new(&self.0.live, ObjectKind::Context),
        });
        let legacy = context.legacy.as_ref().map(LegacyMemory::buffers);
        let mut graveyard = Graveyard::default();
        let mut state = match self.lock_live() {
            Ok(state) => state,
            Err(e) => {
                drop(context);
                return Err(e);
            }
        };
        // The device may have gone while the KMD ran.
        let same = state.device(device.0).is_ok_and(|d| Arc::ptr_eq(d, &dev));
        if !same {
            drop(state);
            drop(context);
            return Err(KernelError::BadLocalHandle { handle: device.0, expected: "device" });
        }
        let entry = ContextEntry { context, device: device.0, child_slot: 0, hw_queues: Vec::new() };
        let handle = state.insert_local(LocalEntry::Context(entry), &mut graveyard);
        drop(state);
        drop(graveyard);
        Ok(CreatedContext { handle: handle?, driver_data, legacy })
    }

    /// `D3DKMTDestroyContext` (and `D3DKMTDestroyHwContext`): destroys the
    /// context's handle and the hardware queues on it. Works on a lost
    /// device. A handle that is not a context of this process is
    /// `STATUS_INVALID_PARAMETER`.
    pub fn destroy_context(&self, context: LocalHandle) -> KResult<()> {
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.context_entry(context.0)?;
        state.destroy_context_locked(context.0, &mut graveyard);
        drop(state);
        Ok(())
    }

    /// `D3DKMTSetContextSchedulingPriority` (`in_process` false) or
    /// `D3DKMTSetContextInProcessSchedulingPriority` (true). A priority
    /// outside [`crate::GpuPolicies::priority_range`] is
    /// `STATUS_INVALID_PARAMETER`. The fake GPU runs every queue as soon as
    /// it can, so priorities are kept and reported, and change no order.
    pub fn set_context_priority(&self, context: LocalHandle, priority: i32, in_process: bool) -> KResult<()> {
        let (low, high) = self.kernel_inner().policies.gpu.priority_range;
        let state = self.lock_live()?;
        let entry = state.context_entry(context.0)?;
        if !(low..=high).contains(&priority) {
            return Err(KernelError::InvalidParameter("Priority out of range"));
        }
        let cell = if in_process { &entry.context.in_process_priority } else { &entry.context.priority };
        cell.store(priority, Ordering::Relaxed);
        Ok(())
    }

    /// `D3DKMTGetContextSchedulingPriority` / `...InProcess...`: the last
    /// priority set (0 at creation).
    pub fn context_priority(&self, context: LocalHandle, in_process: bool) -> KResult<i32> {
        let state = self.lock_live()?;
        let entry = state.context_entry(context.0)?;
        let cell = if in_process { &entry.context.in_process_priority } else { &entry.context.priority };
        Ok(cell.load(Ordering::Relaxed))
    }

    /// What a context's fake GPU queue has seen, and how many commands wait.
    pub fn context_queue(&self, context: LocalHandle) -> KResult<(QueueCounters, usize)> {
        let state = self.lock_live()?;
        let queue = &state.context_entry(context.0)?.context.queue;
        Ok((queue.counters(), queue.pending()))
    }

    /// The contexts `handles` name (the first is the one submitted to, the
    /// rest broadcast targets), all on one device, which must be usable for
    /// work; for GPU-queued signals and waits (`sync`), only under
    /// [`crate::RemovedDeviceSync::Fail`].
    fn gpu_contexts(&self, state: &ProcessState, handles: &[u32], sync: bool) -> KResult<Vec<Arc<Context>>> {
        if handles.is_empty() {
            return Err(KernelError::InvalidParameter("no context"));
        }
        let mut out: Vec<Arc<Context>> = Vec::with_capacity(handles.len());
        for &h in handles {
            let context = &state.context_entry(h)?.context;
            if let Some(first) = out.first() {
                if !Arc::ptr_eq(&first.device, &context.device) {
                    return Err(KernelError::InvalidParameter("broadcast contexts on different devices"));
                }
            }
            out.push(Arc::clone(context));
        }
        if !sync || self.kernel_inner().policies.removal.sync == crate::RemovedDeviceSync::Fail {
            out[0].device.check_usable()?;
        }
        Ok(out)
    }

    /// `D3DKMTSubmitCommand`: submits a command buffer (a GPU virtual address
    /// and length) to each context of `contexts` (the `BroadcastContext`
    /// array). The KMD sees each submission first and may refuse it; then
    /// the work runs on each context's queue in order.
    pub(crate) fn submit_command(&self, contexts: &[u32], args: &SubmitArgs) -> KResult<()> {
        let list = {
            let state = self.lock_live()?;
            self.gpu_contexts(&state, contexts, false)?
        };
        self.submit_to_contexts(&list, args, None)
    }

    fn submit_to_contexts(&self, list: &[Arc<Context>], args: &SubmitArgs, bytes: Option<&[u8]>) -> KResult<()> {
        let kernel = self.kernel_inner();
        let kmd = Arc::clone(&*kernel.kmd.read());
        for context in list {
            kmd.submit(&Submission {
                adapter: context.device.adapter.config.luid,
                context: context.key,
                hw_queue: None,
                node_ordinal: context.node_ordinal,
                command_buffer: args.command_buffer,
                command_length: args.command_length,
                command_bytes: bytes,
                private_data: &args.private_data,
                progress_fence_value: None,
            })
            .map_err(KernelError::driver)?;
        }
        for context in list {
            kernel.gpu.submissions.fetch_add(1, Ordering::Relaxed);
            kernel.gpu.submit(&context.queue, vec![Command::Work], kernel.policies.fence_regression, &kernel.wait_hub);
        }
        Ok(())
    }

    /// `D3DKMTRender`: submits `length` bytes at `offset` of a legacy
    /// context's command buffer (the KMD sees the bytes). The offset and
    /// length must lie inside the buffer, and the counts inside the lists,
    /// or it is `STATUS_INVALID_PARAMETER`; a context that is not legacy is
    /// `STATUS_INVALID_PARAMETER` too. Returns the buffers for the next
    /// batch: the same ones (work completes at once on the fake GPU).
    pub(crate) fn render(
        &self,
        context: u32,
        offset: u32,
        length: u32,
        counts: (u32, u32),
        private_data: Vec<u8>,
    ) -> KResult<LegacyBuffers> {
        let list = {
            let state = self.lock_live()?;
            self.gpu_contexts(&state, &[context], false)?
        };
        let Some(legacy) = &list[0].legacy else {
            return Err(KernelError::InvalidParameter("Render needs a context from D3DKMTCreateContext"));
        };
        let end = offset.checked_add(length).ok_or(KernelError::InvalidParameter("CommandOffset + CommandLength"))?;
        if end > COMMAND_BUFFER_BYTES || counts.0 > LIST_ENTRIES || counts.1 > LIST_ENTRIES {
            return Err(KernelError::InvalidParameter("command or list range past the context's buffers"));
        }
        let bytes = legacy.command_bytes(offset, length);
        let args = SubmitArgs { command_buffer: u64::from(offset), command_length: length, private_data };
        self.submit_to_contexts(&list, &args, Some(&bytes))?;
        Ok(legacy.buffers())
    }

    /// `D3DKMTSignalSynchronizationObjectFromGpu(2)` and
    /// `D3DKMTSignalSynchronizationObject2`: queues, on each context, a
    /// signal of each fence to its value. Objects must be fences or
    /// monitored fences that may signal (mutexes and semaphores:
    /// `STATUS_NOT_IMPLEMENTED`; `NoSignal`: `STATUS_ACCESS_DENIED`).
    pub(crate) fn signal_from_gpu(&self, contexts: &[u32], objects: &[(u32, u64)]) -> KResult<()> {
        let (list, fences) = {
            let state = self.lock_live()?;
            let list = self.gpu_contexts(&state, contexts, true)?;
            (list, state.gpu_fences(objects, true)?)
        };
        let kernel = self.kernel_inner();
        for context in &list {
            kernel.gpu.sync_commands.fetch_add(1, Ordering::Relaxed);
            let command = Command::Signal(fences.clone());
            kernel.gpu.submit(&context.queue, vec![command], kernel.policies.fence_regression, &kernel.wait_hub);
        }
        drop(fences);
        drop(list);
        Ok(())
    }

    /// `D3DKMTWaitForSynchronizationObjectFromGpu` and
    /// `D3DKMTWaitForSynchronizationObject2`: queues on the context a wait
    /// for every fence to reach its value; later work on the context waits
    /// behind it. The call itself returns at once.
    pub(crate) fn wait_from_gpu(&self, context: u32, objects: &[(u32, u64)]) -> KResult<()> {
        let (list, fences) = {
            let state = self.lock_live()?;
            let list = self.gpu_contexts(&state, &[context], true)?;
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
        drop(list);
        Ok(())
    }
}

impl Process {
    /// `D3DKMTSignalSynchronizationObject` and `D3DKMTWaitForSynchronizationObject`
    /// (v1, which carry no fence value): the context must be a usable
    /// context of this process and each object a sync object of it. Mutexes
    /// and semaphores are `STATUS_NOT_IMPLEMENTED` (not emulated); fences and
    /// monitored fences need a value, so v1 naming one is
    /// `STATUS_INVALID_PARAMETER`, as is a CPU-notification object.
    pub(crate) fn legacy_sync_v1(&self, context: u32, objects: &[(u32, u64)]) -> KResult<()> {
        let state = self.lock_live()?;
        let list = self.gpu_contexts(&state, &[context], true)?;
        let mut not_emulated = false;
        for &(handle, _) in objects {
            match state.sync_entry(handle)?.object.kind {
                SyncKind::Mutex { .. } | SyncKind::Semaphore { .. } => not_emulated = true,
                _ => {
                    return Err(KernelError::InvalidParameter(
                        "v1 takes mutexes and semaphores; fences need a value (v2)",
                    ));
                }
            }
        }
        drop(state);
        drop(list);
        debug_assert!(not_emulated);
        Err(KernelError::NotImplemented("GPU-queued mutexes and semaphores"))
    }
}
