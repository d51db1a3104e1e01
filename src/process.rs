//! Virtual processes: their handle tables, the thread binding, and exit.
//!
//! `D3DKMT*` calls carry no process. A thread is bound to a [`Process`] with
//! [`Process::enter`]; the returned guard restores the previous binding. An
//! unbound thread calls as the default process of the default kernel.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::adapter::Adapter;
use crate::device::DeviceEntry;
use crate::error::{KResult, KernelError};
use crate::handle::{HandleTable, LocalHandle, NtHandle, Numbering, Shape};
use crate::kernel::{Kernel, KernelInner};
use crate::keyed_mutex::KeyedMutexEntry;
use crate::live::{LiveCounters, ObjectKind};
use crate::resource::{AllocationEntry, ResourceEntry};
use crate::session::SessionEntry;
use crate::shared::NtEntry;
use crate::sync::{Graveyard, Mutex, MutexGuard};
use crate::sync_object::SyncEntry;

/// A virtual process's id, unique within its kernel. The default process is 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessId(pub u32);

/// What a D3DKMT handle holds. Each variant owns one reference.
pub(crate) enum LocalEntry {
    Adapter(Arc<Adapter>),
    Device(DeviceEntry),
    SyncObject(SyncEntry),
    ProtectedSession(SessionEntry),
    KeyedMutex(KeyedMutexEntry),
    Resource(ResourceEntry),
    Allocation(AllocationEntry),
    Context(crate::context::ContextEntry),
    HwQueue(crate::hw_queue::HwQueueEntry),
    PagingQueue(crate::hw_queue::PagingQueueEntry),
}

impl LocalEntry {
    /// The device this entry is a child of, if any.
    pub(crate) fn owner(&self) -> Option<u32> {
        match self {
            LocalEntry::SyncObject(s) => s.device,
            LocalEntry::ProtectedSession(s) => s.device,
            LocalEntry::Context(c) => Some(c.device),
            LocalEntry::HwQueue(q) => Some(q.device),
            LocalEntry::PagingQueue(q) => Some(q.device),
            LocalEntry::Resource(r) => Some(r.device),
            LocalEntry::Allocation(a) => Some(a.device),
            LocalEntry::Adapter(_) | LocalEntry::Device(_) | LocalEntry::KeyedMutex(_) => None,
        }
    }

    fn child_slot(&self) -> u32 {
        match self {
            LocalEntry::SyncObject(s) => s.child_slot,
            LocalEntry::ProtectedSession(s) => s.child_slot,
            LocalEntry::Context(c) => c.child_slot,
            LocalEntry::HwQueue(q) => q.child_slot,
            LocalEntry::PagingQueue(q) => q.child_slot,
            LocalEntry::Resource(r) => r.child_slot,
            LocalEntry::Allocation(a) => a.child_slot,
            LocalEntry::Adapter(_) | LocalEntry::Device(_) | LocalEntry::KeyedMutex(_) => 0,
        }
    }

    fn set_child_slot(&mut self, slot: u32) {
        match self {
            LocalEntry::SyncObject(s) => s.child_slot = slot,
            LocalEntry::ProtectedSession(s) => s.child_slot = slot,
            LocalEntry::Context(c) => c.child_slot = slot,
            LocalEntry::HwQueue(q) => q.child_slot = slot,
            LocalEntry::PagingQueue(q) => q.child_slot = slot,
            LocalEntry::Resource(r) => r.child_slot = slot,
            LocalEntry::Allocation(a) => a.child_slot = slot,
            LocalEntry::Adapter(_) | LocalEntry::Device(_) | LocalEntry::KeyedMutex(_) => {}
        }
    }

    /// Where the entry goes in a teardown (device destroy, process exit):
    /// hardware queues, contexts, paging queues, sync objects and sessions,
    /// devices, adapters.
    pub(crate) fn teardown_rank(&self) -> u8 {
        match self {
            LocalEntry::HwQueue(_) => 0,
            LocalEntry::Context(_) => 1,
            LocalEntry::PagingQueue(_) => 2,
            LocalEntry::SyncObject(_)
            | LocalEntry::ProtectedSession(_)
            | LocalEntry::KeyedMutex(_)
            | LocalEntry::Resource(_)
            | LocalEntry::Allocation(_) => 3,
            LocalEntry::Device(_) => 4,
            LocalEntry::Adapter(_) => 5,
        }
    }
}

pub(crate) struct ProcessState {
    pub(crate) exited: bool,
    pub(crate) local: HandleTable<LocalEntry>,
    pub(crate) nt: HandleTable<NtEntry>,
    /// Open handles per adapter index.
    pub(crate) adapter_opens: HashMap<usize, u32>,
    /// The fake GPU virtual addresses this process hands out next, from a
    /// block taken from the kernel (so creates do not contend on it).
    gpu_va: std::ops::Range<u64>,
    /// GPU VA spaces and video memory reservations (`crate::gpu_va`).
    pub(crate) memory: crate::gpu_va::ProcessMemory,
    /// Adapters (indices) this process asked to hold in a stable power
    /// state (`crate::power`).
    pub(crate) stable_power: std::collections::BTreeSet<usize>,
}

impl ProcessState {
    /// Inserts an entry under a new handle. On failure (the table is full)
    /// the entry goes to `graveyard`, to be dropped after the lock.
    pub(crate) fn insert_local(
        &mut self,
        entry: LocalEntry,
        graveyard: &mut Graveyard<LocalEntry>,
    ) -> KResult<LocalHandle> {
        let owner = entry.owner();
        let handle = match self.local.insert(entry) {
            Ok(h) => h as u32,
            Err(entry) => {
                graveyard.bury(entry);
                return Err(KernelError::TableFull);
            }
        };
        if let Some(device) = owner {
            let slot = self.add_child(device, handle);
            self.local.get_mut(handle as u64).expect("just inserted").set_child_slot(slot);
        }
        Ok(LocalHandle(handle))
    }

    /// Removes a handle's entry, and unlinks it from its device in O(1).
    pub(crate) fn remove_local(&mut self, handle: u32) -> Option<LocalEntry> {
        let entry = self.local.remove(handle as u64)?;
        if let Some(device) = entry.owner() {
            let slot = entry.child_slot();
            let Some(LocalEntry::Device(d)) = self.local.get_mut(device as u64) else {
                unreachable!("a child's device outlives it in the table")
            };
            d.children.swap_remove(slot as usize);
            if let Some(&moved) = d.children.get(slot as usize) {
                self.local.get_mut(moved as u64).expect("children are live").set_child_slot(slot);
            }
        }
        Some(entry)
    }

    /// Inserts an NT entry under a new handle; on failure the entry goes to
    /// `graveyard`.
    /// A new fake GPU virtual address for a fence value (one page each).
    pub(crate) fn next_gpu_va(&mut self, kernel: &KernelInner) -> u64 {
        const PAGE: u64 = 0x1000;
        const BLOCK: u64 = 4096 * PAGE;
        if self.gpu_va.is_empty() {
            let start = kernel.next_gpu_va.fetch_add(BLOCK, std::sync::atomic::Ordering::Relaxed);
            self.gpu_va = start..start + BLOCK;
        }
        let va = self.gpu_va.start;
        self.gpu_va.start += PAGE;
        va
    }

    pub(crate) fn insert_nt(&mut self, entry: NtEntry, graveyard: &mut Graveyard<NtEntry>) -> KResult<NtHandle> {
        match self.nt.insert(entry) {
            Ok(h) => Ok(NtHandle(h)),
            Err(entry) => {
                graveyard.bury(entry);
                Err(KernelError::TableFull)
            }
        }
    }
}

/// Aligned to two cache lines so that threads bound to different processes
/// never share one through neighbouring process state.
#[repr(align(128))]
pub(crate) struct ProcessInner {
    pub(crate) pid: ProcessId,
    /// Set by exit, read without the lock by blocked waits.
    pub(crate) exited: std::sync::atomic::AtomicBool,
    /// Set by `D3DKMTCloseDxCoreDevice` (see `crate::dxcore`): later calls
    /// answer `STATUS_UNSUCCESSFUL`.
    pub(crate) dxcore_closed: std::sync::atomic::AtomicBool,
    pub(crate) kernel: Arc<KernelInner>,
    pub(crate) state: Mutex<ProcessState>,
    pub(crate) live: Arc<LiveCounters>,
}

/// A virtual process: a reference to it. Cloning gives another reference to
/// the same process. The kernel holds processes weakly: when the last
/// reference goes, the process goes too, and its handles with it, as if it
/// had exited. It stops holding objects when it [exits](Process::exit).
#[derive(Clone)]
pub struct Process(pub(crate) Arc<ProcessInner>);

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process").field("pid", &self.0.pid).field("kernel", &self.0.kernel.id).finish()
    }
}

impl PartialEq for Process {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for Process {}

impl Process {
    pub(crate) fn new(kernel: &Arc<KernelInner>, pid: ProcessId, live: Arc<LiveCounters>) -> Process {
        let p = &kernel.policies;
        Process(Arc::new(ProcessInner {
            pid,
            exited: std::sync::atomic::AtomicBool::new(false),
            dxcore_closed: std::sync::atomic::AtomicBool::new(false),
            kernel: Arc::clone(kernel),
            state: Mutex::new(ProcessState {
                exited: false,
                local: HandleTable::new(
                    Shape::Local,
                    Numbering::for_policy(p.handle_numbering, &kernel.local_chunks),
                    p.handle_reuse,
                    p.max_local_handles,
                ),
                nt: HandleTable::new(
                    Shape::Nt,
                    Numbering::for_policy(p.handle_numbering, &kernel.nt_chunks),
                    p.handle_reuse,
                    p.max_nt_handles,
                ),
                adapter_opens: HashMap::new(),
                gpu_va: 0..0,
                memory: Default::default(),
                stable_power: Default::default(),
            }),
            live,
        }))
    }

    /// This process's id.
    pub fn id(&self) -> ProcessId {
        self.0.pid
    }

    /// The kernel this process belongs to.
    pub fn kernel(&self) -> Kernel {
        Kernel(Arc::clone(&self.0.kernel))
    }

    pub(crate) fn kernel_inner(&self) -> &Arc<KernelInner> {
        &self.0.kernel
    }

    /// Locks the process state, or fails if the process has exited.
    pub(crate) fn lock_live(&self) -> KResult<MutexGuard<'_, ProcessState>> {
        let state = self.0.state.lock();
        if state.exited {
            return Err(KernelError::ProcessExited);
        }
        Ok(state)
    }

    /// True if `other` belongs to the same kernel.
    fn same_kernel(&self, other: &Process) -> bool {
        Arc::ptr_eq(&self.0.kernel, &other.0.kernel)
    }

    /// Binds the calling thread to this process for its `D3DKMT*` calls until
    /// the guard drops, which restores the previous binding. Guards nest.
    #[must_use = "the binding ends when the guard drops"]
    pub fn enter(&self) -> Binding {
        let id = NEXT_BINDING_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        BINDINGS.with(|b| {
            let mut b = b.borrow_mut();
            // The thread's first binding to this kernel makes it take part
            // in the kernel's clock (see `crate::clock`).
            if !b.stack.iter().any(|(_, p)| p.same_kernel(self)) {
                self.0.kernel.clock.join();
            }
            b.stack.push((id, Rc::new(self.clone())));
        });
        Binding { id, thread: thread_token(), _not_send: std::marker::PhantomData }
    }

    /// Runs `f` with the calling thread bound to this process.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _binding = self.enter();
        f()
    }

    /// Process exit: closes every D3DKMT and NT handle the process holds, so
    /// it keeps nothing alive (WINE #6). Later calls from a thread bound to it
    /// fail with `STATUS_PROCESS_IS_TERMINATING`. Exiting twice does nothing.
    pub fn exit(&self) {
        let mut graveyard = Graveyard::default();
        let mut nt_graveyard = Graveyard::default();
        let mut state = self.0.state.lock();
        if state.exited {
            return;
        }
        state.exited = true;
        self.0.exited.store(true, std::sync::atomic::Ordering::SeqCst);
        // Children before devices, devices before adapters; the order only
        // matters for which drop runs a KMD callback first.
        let mut entries = state.local.drain();
        entries.sort_by_key(|(_, e)| e.teardown_rank());
        graveyard.0.extend(entries.into_iter().map(|(_, e)| e));
        nt_graveyard.0.extend(state.nt.drain().into_iter().map(|(_, e)| e));
        state.adapter_opens.clear();
        let memory = std::mem::take(&mut state.memory);
        drop(state);
        drop(memory);
        // Threads blocked in a CPU wait as this process give up. Before the
        // drops below, which run KMD callbacks that might panic.
        self.0.kernel.wait_hub.wake_all();
        drop(nt_graveyard);
        drop(graveyard);
        if crate::trace::enabled(&self.0.kernel) {
            let op = crate::trace::Op::ProcessExit;
            crate::trace::event(&self.0.kernel, self.0.pid.0, op, Vec::new(), Vec::new(), crate::NtStatus::SUCCESS);
        }
    }

    /// True once [`Process::exit`] has run.
    pub fn has_exited(&self) -> bool {
        self.0.state.lock().exited
    }

    /// Live D3DKMT handles in this process.
    pub fn local_handle_count(&self) -> usize {
        self.0.state.lock().local.len()
    }

    /// Live NT handles in this process.
    pub fn nt_handle_count(&self) -> usize {
        self.0.state.lock().nt.len()
    }

    /// Every live D3DKMT handle of this process, with the kind of what it names.
    pub fn local_handles(&self) -> Vec<(LocalHandle, HandleKind)> {
        let state = self.0.state.lock();
        state
            .local
            .iter()
            .map(|(h, e)| {
                let kind = match e {
                    LocalEntry::Adapter(_) => HandleKind::Adapter,
                    LocalEntry::Device(_) => HandleKind::Device,
                    LocalEntry::SyncObject(_) => HandleKind::SyncObject,
                    LocalEntry::ProtectedSession(_) => HandleKind::ProtectedSession,
                    LocalEntry::KeyedMutex(_) => HandleKind::KeyedMutex,
                    LocalEntry::Resource(_) => HandleKind::Resource,
                    LocalEntry::Allocation(_) => HandleKind::Allocation,
                    LocalEntry::Context(_) => HandleKind::Context,
                    LocalEntry::HwQueue(_) => HandleKind::HwQueue,
                    LocalEntry::PagingQueue(_) => HandleKind::PagingQueue,
                };
                (LocalHandle(h as u32), kind)
            })
            .collect()
    }

    /// Every live NT handle of this process.
    pub fn nt_handles(&self) -> Vec<NtHandle> {
        self.0.state.lock().nt.iter().map(|(h, _)| NtHandle(h)).collect()
    }

    /// Objects of `kind` this process created that are still alive (whoever
    /// holds them now).
    pub fn live_objects_created(&self, kind: ObjectKind) -> i64 {
        self.0.live.get(kind)
    }
}

/// What a D3DKMT handle names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandleKind {
    /// An adapter.
    Adapter,
    /// A device.
    Device,
    /// A synchronization object.
    SyncObject,
    /// A protected session.
    ProtectedSession,
    /// A keyed mutex.
    KeyedMutex,
    /// A resource.
    Resource,
    /// An allocation.
    Allocation,
    /// A context (legacy, virtual or hardware).
    Context,
    /// A hardware queue.
    HwQueue,
    /// A paging queue.
    PagingQueue,
}

/// A thread's bindings, oldest first; the thread acts as the newest.
struct Bindings {
    /// `Rc`s so a call can hold its process cheaply (no atomic count) while
    /// a callback it makes binds or unbinds.
    stack: Vec<(u64, Rc<Process>)>,
}

impl Drop for Bindings {
    /// Thread exit with bindings left: the thread stops taking part in each
    /// of their kernels' clocks.
    fn drop(&mut self) {
        let stack = std::mem::take(&mut self.stack);
        for (i, (_, process)) in stack.iter().enumerate() {
            if !stack[..i].iter().any(|(_, p)| p.same_kernel(process)) {
                let kernel = &process.0.kernel;
                kernel.clock.leave(&kernel.wait_hub);
            }
        }
    }
}

/// True if the calling thread is bound to a process of the kernel whose
/// clock this is (so it is counted among the clock's participants).
pub(crate) fn current_thread_takes_part(clock: &crate::clock::Clock) -> bool {
    BINDINGS
        .try_with(|b| {
            b.try_borrow().is_ok_and(|b| b.stack.iter().any(|(_, p)| core::ptr::eq(&p.0.kernel.clock, clock)))
        })
        .unwrap_or(false)
}

/// Binding ids, unique across threads: a binding left by a dead thread, whose
/// thread-local address a new thread may get, matches none of the new
/// thread's bindings.
static NEXT_BINDING_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    static BINDINGS: RefCell<Bindings> = const { RefCell::new(Bindings { stack: Vec::new() }) };
}

/// Identifies the calling thread while it lives: the address of one of its
/// thread-locals. (`std::thread::current` would allocate a handle for a
/// thread C created, which outlives our tests' leak checks.)
fn thread_token() -> usize {
    BINDINGS.try_with(|b| b as *const _ as usize).unwrap_or(0)
}

/// The binding made by [`Process::enter`]. Dropping it ends it: the thread
/// then acts as the newest binding still in force (so guards may be dropped
/// in any order), or as the default process if none is.
pub struct Binding {
    id: u64,
    /// The binding thread (see `thread_token`).
    thread: usize,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Binding {
    /// True if this binding is in force on the calling thread: made here and
    /// not yet undone. The C API checks this before undoing a binding (a
    /// Rust `Binding` cannot leave its thread).
    pub fn is_in_force_here(&self) -> bool {
        self.thread == thread_token()
            && BINDINGS.try_with(|b| b.borrow().stack.iter().any(|(id, _)| *id == self.id)).unwrap_or(false)
    }
}

impl Drop for Binding {
    fn drop(&mut self) {
        let id = self.id;
        // try_with: at thread exit the stack may already be gone, and our
        // entry with it (a Binding kept in another thread-local).
        let ours = BINDINGS
            .try_with(|b| {
                let mut b = b.borrow_mut();
                let at = b.stack.iter().rposition(|(i, _)| *i == id)?;
                Some(b.stack.remove(at))
            })
            .ok()
            .flatten();
        // Dropped after the borrow ends: it may be the process's last
        // reference, which frees the handle tables of an orphaned process.
        if let Some((_, process)) = &ours {
            let still = BINDINGS.try_with(|b| b.borrow().stack.iter().any(|(_, p)| p.same_kernel(process)));
            if !still.unwrap_or(false) {
                let kernel = &process.0.kernel;
                kernel.clock.leave(&kernel.wait_hub);
            }
        }
        drop(ours);
    }
}

/// The process the calling thread's `D3DKMT*` calls act as: the newest
/// binding's, or the default kernel's default process.
pub fn current() -> Process {
    BINDINGS
        .try_with(|b| b.borrow().stack.last().map(|(_, p)| Process::clone(p)))
        .ok()
        .flatten()
        .unwrap_or_else(|| crate::kernel::default_process().clone())
}

/// Runs `f` with the current process, taking no atomic reference.
pub(crate) fn with_current<R>(f: impl FnOnce(&Process) -> R) -> R {
    // A thread whose bindings are already torn down (a callback run by its
    // thread-local destructors) acts as the default process.
    let bound = BINDINGS
        .try_with(|b| b.try_borrow().ok().and_then(|b| b.stack.last().map(|(_, p)| Rc::clone(p))))
        .ok()
        .flatten();
    match bound {
        Some(process) => f(&process),
        None => f(crate::kernel::default_process()),
    }
}

/// Bindings are per thread: a thread spawned by a bound thread starts unbound.
#[cfg(test)]
mod tests {
    use crate::{Kernel, KernelConfig};

    #[test]
    fn binding_nests_and_restores() {
        let k = Kernel::new(KernelConfig::default());
        let a = k.create_process();
        let b = k.create_process();
        {
            let _ga = a.enter();
            assert_eq!(super::current(), a);
            {
                let _gb = b.enter();
                assert_eq!(super::current(), b);
            }
            assert_eq!(super::current(), a);
        }
        assert_eq!(super::current(), crate::kernel::default_process().clone());
    }
}
