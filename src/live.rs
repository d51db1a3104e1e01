//! Live-object accounting: how many kernel objects of each kind exist, who
//! made each one, and the leak report.
//!
//! Every kernel object holds a [`LiveToken`] that counts it in the counters of
//! the process that created it (kept per process, each on its own cache
//! lines, so that threads bound to different processes do not share one). The
//! kernel sums them. The token also carries the object's identity: an
//! [`ObjectId`] and the [`Creator`], the process and the `D3DKMT*` call (entry
//! point and the process's call sequence number) that made it. The call is
//! read from a thread-local "current call" that the dispatch point sets for
//! the length of each call ([`CallScope`]).
//!
//! Nothing is recorded per handle. [`crate::Kernel::leak_report`] finds the
//! handles holding each object by scanning every process's tables, and the
//! references objects hold to each other (a session holds its status fence,
//! an NT object what it wraps), when it is asked.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::handle::{LocalHandle, NtHandle};
use crate::process::{LocalEntry, ProcessId};
use crate::shared::{NtEntry, NtObjectKind};
use crate::support::Entry;

/// The kinds of kernel object this crate counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum ObjectKind {
    /// A device (`D3DKMTCreateDevice`).
    Device = 0,
    /// A synchronization object (monitored fence).
    SyncObject = 1,
    /// A protected session.
    ProtectedSession = 2,
    /// An NT-handle object (`DxgkSharedSyncObject`, `DxgkSharedProtectedSessionObject`).
    NtObject = 3,
    /// A keyed mutex.
    KeyedMutex = 4,
    /// A resource.
    Resource = 5,
    /// An allocation.
    Allocation = 6,
    /// A context (`D3DKMTCreateContext`, `CreateContextVirtual`, `CreateHwContext`).
    Context = 7,
    /// A hardware queue (`D3DKMTCreateHwQueue`).
    HwQueue = 8,
    /// A paging queue (`D3DKMTCreatePagingQueue`).
    PagingQueue = 9,
}

impl ObjectKind {
    /// Every kind, in order.
    pub const ALL: [ObjectKind; 10] = [
        ObjectKind::Device,
        ObjectKind::SyncObject,
        ObjectKind::ProtectedSession,
        ObjectKind::NtObject,
        ObjectKind::KeyedMutex,
        ObjectKind::Resource,
        ObjectKind::Allocation,
        ObjectKind::Context,
        ObjectKind::HwQueue,
        ObjectKind::PagingQueue,
    ];

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Device => "device",
            ObjectKind::SyncObject => "sync object",
            ObjectKind::ProtectedSession => "protected session",
            ObjectKind::NtObject => "NT object",
            ObjectKind::KeyedMutex => "keyed mutex",
            ObjectKind::Resource => "resource",
            ObjectKind::Allocation => "allocation",
            ObjectKind::Context => "context",
            ObjectKind::HwQueue => "hardware queue",
            ObjectKind::PagingQueue => "paging queue",
        }
    }
}

/// A kernel object's identity within its kernel: the creating process and
/// that process's count of objects made so far (from 1). Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// The process that created the object.
    pub process: ProcessId,
    /// The object's number among that process's creations, from 1.
    pub serial: u64,
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.process.0, self.serial)
    }
}

/// A `D3DKMT*` call: its entry point and its place in its process's calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallSite {
    /// The entry point called.
    pub entry: Entry,
    /// The process's call sequence number (its first call is 1). Exact when
    /// one thread at a time calls as the process; threads calling as one
    /// process at the same moment may see a number twice.
    pub sequence: u64,
}

impl fmt::Display for CallSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (call {})", self.entry.name(), self.sequence)
    }
}

/// Who made an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Creator {
    /// The process whose call created it (it counts in that process's
    /// [`crate::Process::live_objects_created`]).
    pub process: ProcessId,
    /// The `D3DKMT*` call, or `None` when the object was made through the
    /// Rust API (which goes through no dispatch point).
    pub call: Option<CallSite>,
}

impl fmt::Display for Creator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.call {
            Some(call) => write!(f, "process {} in {call}", self.process.0),
            None => write!(f, "process {} through the Rust API", self.process.0),
        }
    }
}

/// A process's live counters and its call and object sequence numbers.
/// Aligned to two cache lines: each process's are its own.
#[derive(Default)]
#[repr(align(128))]
pub(crate) struct LiveCounters {
    pid: u32,
    counts: [AtomicI64; ObjectKind::ALL.len()],
    /// `D3DKMT*` calls made as the process so far.
    calls: AtomicU64,
    /// Objects created by the process so far.
    objects: AtomicU64,
}

impl LiveCounters {
    pub(crate) fn new(pid: ProcessId) -> Self {
        LiveCounters { pid: pid.0, ..LiveCounters::default() }
    }

    pub(crate) fn get(&self, kind: ObjectKind) -> i64 {
        self.counts[kind as usize].load(Ordering::Relaxed)
    }
}

/// The object-making call a thread is in: the address of its process's
/// counters (unique while the process lives), the sequence number, and the
/// entry point; address 0 for none. Three words, so marking is cheap.
#[derive(Clone, Copy)]
struct Mark {
    counters: usize,
    sequence: u64,
    entry: Entry,
}

const NO_MARK: Mark = Mark { counters: 0, sequence: 0, entry: Entry::D3DKMTEnumAdapters2 };

thread_local! {
    static CURRENT_CALL: Cell<Mark> = const { Cell::new(NO_MARK) };
}

/// Numbers a `D3DKMT*` call in its process's sequence and, for a call that
/// can make objects ([`crate::creates_or_opens`]), marks the calling thread
/// as inside it until dropped (then the previous mark comes back, so a KMD
/// callback's own calls nest). Other calls make no object, so they leave
/// the thread-local alone: this runs on every call, and a thread-local
/// access costs more than the rest of it.
pub(crate) struct CallScope {
    pub(crate) site: CallSite,
    /// The mark to put back, if this call set one.
    previous: Option<Mark>,
}

impl CallScope {
    /// The sequence number is a plain load and store, not a
    /// read-modify-write (see [`CallSite::sequence`]).
    #[inline]
    pub(crate) fn enter(process: &crate::Process, entry: Entry) -> CallScope {
        let counters = &process.0.live;
        let sequence = counters.calls.load(Ordering::Relaxed) + 1;
        counters.calls.store(sequence, Ordering::Relaxed);
        let site = CallSite { entry, sequence };
        let previous = if crate::fault::creates_or_opens(entry) { mark(counters, site) } else { None };
        CallScope { site, previous }
    }
}

#[cold]
fn mark(counters: &Arc<LiveCounters>, site: CallSite) -> Option<Mark> {
    let mark = Mark { counters: Arc::as_ptr(counters) as usize, sequence: site.sequence, entry: site.entry };
    CURRENT_CALL.try_with(|c| c.replace(mark)).ok()
}

impl Drop for CallScope {
    #[inline]
    fn drop(&mut self) {
        if let Some(previous) = self.previous {
            let _ = CURRENT_CALL.try_with(|c| c.set(previous));
        }
    }
}

/// Counts one live object and names it; uncounts it when dropped. Kept
/// small (every kernel object carries one): the process comes from the
/// counters, and the creating call is a sequence number (0: none) and an
/// entry point.
pub(crate) struct LiveToken {
    counters: Arc<LiveCounters>,
    serial: u64,
    call_sequence: u64,
    call_entry: Entry,
    kind: ObjectKind,
}

impl LiveToken {
    /// Counts a new object of `kind` made by the process `counters` belongs
    /// to, in the call the thread is in (if it is one of that process's).
    pub(crate) fn new(counters: &Arc<LiveCounters>, kind: ObjectKind) -> Self {
        counters.counts[kind as usize].fetch_add(1, Ordering::Relaxed);
        let serial = counters.objects.fetch_add(1, Ordering::Relaxed) + 1;
        let mark = CURRENT_CALL.try_with(Cell::get).unwrap_or(NO_MARK);
        let ours = mark.counters == Arc::as_ptr(counters) as usize;
        LiveToken {
            counters: Arc::clone(counters),
            serial,
            call_sequence: if ours { mark.sequence } else { 0 },
            call_entry: mark.entry,
            kind,
        }
    }

    fn id(&self) -> ObjectId {
        ObjectId { process: ProcessId(self.counters.pid), serial: self.serial }
    }

    fn creator(&self) -> Creator {
        let call =
            (self.call_sequence != 0).then_some(CallSite { entry: self.call_entry, sequence: self.call_sequence });
        Creator { process: ProcessId(self.counters.pid), call }
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        let before = self.counters.counts[self.kind as usize].fetch_sub(1, Ordering::Relaxed);
        assert!(before > 0, "live count of {} went negative", self.kind.name());
    }
}

/// What holds a reference to a live object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Holder {
    /// A D3DKMT handle of a process.
    Local {
        /// The process.
        process: ProcessId,
        /// The handle.
        handle: LocalHandle,
    },
    /// An NT handle of a process.
    Nt {
        /// The process.
        process: ProcessId,
        /// The handle.
        handle: NtHandle,
    },
    /// Another object: a protected session holds its status fence, an NT
    /// object holds what it wraps.
    Object(ObjectId),
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Local { process, handle } => write!(f, "D3DKMT handle {handle} of process {}", process.0),
            Holder::Nt { process, handle } => write!(f, "NT handle {handle} of process {}", process.0),
            Holder::Object(id) => write!(f, "object {id}"),
        }
    }
}

/// One live object in a [`LeakReport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveObject {
    /// Its identity.
    pub id: ObjectId,
    /// Its kind.
    pub kind: ObjectKind,
    /// Who made it.
    pub creator: Creator,
    /// What holds it now, in process order then handle order.
    pub holders: Vec<Holder>,
}

/// The kernel's live objects, found by scanning every process's handle
/// tables and the references objects hold to each other, checked against
/// the live counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeakReport {
    /// The kernel's id.
    pub kernel: u64,
    /// Every object found, by id.
    pub objects: Vec<LiveObject>,
    /// Per kind, objects the counters count that no handle reaches, directly
    /// or through another object: kept alive by something the kernel does
    /// not account for (a reference cycle, or a bug). Kinds with none are
    /// left out.
    pub unreachable: Vec<(ObjectKind, i64)>,
    /// Handles still open in processes that have exited (always a bug).
    pub handles_after_exit: Vec<(ProcessId, usize)>,
}

impl LeakReport {
    /// True if no object is alive and nothing is inconsistent.
    pub fn is_clean(&self) -> bool {
        self.objects.is_empty() && self.unreachable.is_empty() && self.handles_after_exit.is_empty()
    }

    /// Live objects (found or unreachable).
    pub fn live_count(&self) -> i64 {
        self.objects.len() as i64 + self.unreachable.iter().map(|(_, n)| n).sum::<i64>()
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return writeln!(f, "kernel {}: no live objects", self.kernel);
        }
        writeln!(f, "kernel {}: {} live object(s)", self.kernel, self.live_count())?;
        for o in &self.objects {
            writeln!(f, "  {} {}, created by {}", o.kind.name(), o.id, o.creator)?;
            if o.holders.is_empty() {
                writeln!(f, "    held by nothing found")?;
            }
            for h in &o.holders {
                writeln!(f, "    held by {h}")?;
            }
        }
        for (kind, n) in &self.unreachable {
            writeln!(
                f,
                "  {n} {} object(s) alive that no handle reaches (a reference kept outside any table)",
                kind.name()
            )?;
        }
        for (pid, n) in &self.handles_after_exit {
            writeln!(f, "  process {} has exited but still holds {n} handle(s)", pid.0)?;
        }
        Ok(())
    }
}

/// Builds a leak report as it scans.
#[derive(Default)]
pub(crate) struct Scan {
    objects: std::collections::BTreeMap<ObjectId, LiveObject>,
}

impl Scan {
    fn note(&mut self, token: &LiveToken, holder: Holder) -> bool {
        let object = self.objects.entry(token.id()).or_insert_with(|| LiveObject {
            id: token.id(),
            kind: token.kind,
            creator: token.creator(),
            holders: Vec::new(),
        });
        let first = object.holders.is_empty();
        object.holders.push(holder);
        first
    }

    /// Notes what a sync object holds (nothing) and a session (its fence).
    fn session(&mut self, session: &crate::session::ProtectedSession, holder: Holder) {
        if self.note(&session._live, holder) {
            self.note(&session.core.fence._live, Holder::Object(session._live.id()));
        }
    }

    /// Notes a resource and, the first time, the allocations it holds.
    fn resource(&mut self, resource: &crate::resource::Resource, holder: Holder) {
        if self.note(&resource._live, holder) {
            for a in &resource.allocations {
                self.note(&a._live, Holder::Object(resource._live.id()));
            }
        }
    }

    /// Notes the object a D3DKMT handle names, and what it holds.
    pub(crate) fn local(&mut self, process: ProcessId, handle: u64, entry: &LocalEntry) {
        let holder = Holder::Local { process, handle: LocalHandle(handle as u32) };
        match entry {
            LocalEntry::Adapter(_) => {}
            LocalEntry::Device(d) => {
                self.note(&d.device._live, holder);
            }
            LocalEntry::SyncObject(s) => {
                self.note(&s.object._live, holder);
            }
            LocalEntry::ProtectedSession(s) => self.session(&s.session, holder),
            LocalEntry::KeyedMutex(k) => {
                self.note(&k.mutex._live, holder);
            }
            LocalEntry::Resource(r) => self.resource(&r.resource, holder),
            LocalEntry::Allocation(a) => {
                self.note(&a.allocation._live, holder);
            }
            LocalEntry::Context(c) => self.context(&c.context, holder),
            LocalEntry::HwQueue(q) => {
                let queue = &q.queue;
                if self.note(&queue._live, holder) {
                    let by = Holder::Object(queue._live.id());
                    self.context(&queue.context, by);
                    self.note(&queue.progress._live, by);
                    self.queued(&queue.queue, by);
                }
            }
            LocalEntry::PagingQueue(p) => {
                if self.note(&p.paging._live, holder) {
                    self.note(&p.paging.fence._live, Holder::Object(p.paging._live.id()));
                }
            }
        }
        if let LocalEntry::Device(d) = entry {
            // Pending sync files hold their fences (see `crate::sync_file`).
            let by = Holder::Object(d.device._live.id());
            for watch in d.device.sync_files.lock().iter() {
                self.note(&watch.fence._live, by);
            }
        }
    }

    /// Notes a context and, the first time, its device and queued fences.
    fn context(&mut self, context: &crate::context::Context, holder: Holder) {
        if self.note(&context._live, holder) {
            let by = Holder::Object(context._live.id());
            self.note(&context.device._live, by);
            self.queued(&context.queue, by);
        }
    }

    /// Notes the fences the commands queued on a fake GPU queue hold.
    fn queued(&mut self, queue: &crate::gpu::GpuQueue, by: Holder) {
        queue.for_each_fence(|fence| {
            self.note(&fence._live, by);
        });
    }

    /// Notes the NT object an NT handle names, and what it holds.
    pub(crate) fn nt(&mut self, process: ProcessId, handle: u64, entry: &NtEntry) {
        let holder = Holder::Nt { process, handle: NtHandle(handle) };
        let object = &entry.object;
        if self.note(&object._live, holder) {
            let by = Holder::Object(object._live.id());
            match &object.kind {
                NtObjectKind::SyncObject(s) => {
                    self.note(&s._live, by);
                }
                NtObjectKind::ProtectedSession(s) => self.session(s, by),
                NtObjectKind::Resource(shared) => {
                    self.resource(&shared.resource, by);
                    if let Some(k) = &shared.keyed_mutex {
                        self.note(&k._live, by);
                    }
                    if let Some(s) = &shared.sync {
                        self.note(&s._live, by);
                    }
                }
            }
        }
    }

    /// The report, given the counters' totals per kind.
    pub(crate) fn finish(
        self,
        kernel: u64,
        counted: [i64; ObjectKind::ALL.len()],
        handles_after_exit: Vec<(ProcessId, usize)>,
    ) -> LeakReport {
        let objects: Vec<LiveObject> = self.objects.into_values().collect();
        let unreachable = ObjectKind::ALL
            .iter()
            .map(|&k| (k, counted[k as usize] - objects.iter().filter(|o| o.kind == k).count() as i64))
            .filter(|(_, n)| *n != 0)
            .collect();
        LeakReport { kernel, objects, unreachable, handles_after_exit }
    }
}

impl crate::Kernel {
    /// Every live object of this kernel: who made it (process, entry point,
    /// call sequence number) and what holds it (handles, by process, and
    /// other objects). Found by scanning the processes' tables now, one
    /// process at a time; objects the counters count that no table reaches
    /// are reported as unreachable. A kernel whose processes have all exited
    /// (or gone) must report nothing: see [`crate::Kernel::assert_no_leaks`].
    pub fn leak_report(&self) -> LeakReport {
        let mut scan = Scan::default();
        let mut handles_after_exit = Vec::new();
        for process in self.processes() {
            let pid = process.id();
            let state = process.0.state.lock();
            for (handle, entry) in state.local.iter() {
                scan.local(pid, handle, entry);
            }
            for (handle, entry) in state.nt.iter() {
                scan.nt(pid, handle, entry);
            }
            let held = state.local.len() + state.nt.len();
            if state.exited && held > 0 {
                handles_after_exit.push((pid, held));
            }
        }
        let counted = ObjectKind::ALL.map(|k| self.live_objects(k));
        scan.finish(self.id(), counted, handles_after_exit)
    }

    /// Panics with the [leak report](crate::Kernel::leak_report) if any
    /// object is alive or the kernel's books disagree: for test teardown,
    /// after every process has exited.
    #[track_caller]
    pub fn assert_no_leaks(&self) {
        let report = self.leak_report();
        if !report.is_clean() {
            panic!("kernel objects leaked:\n{report}");
        }
        if let Err(why) = self.check_invariants() {
            panic!("kernel invariant broken: {why}");
        }
    }

    /// Checks what must hold in a quiescent kernel (no call running): every
    /// live object is reachable from some handle; exited processes hold no
    /// handles; the session registry names exactly the live sessions; no
    /// live count is negative. Returns the first broken rule.
    pub fn check_invariants(&self) -> Result<(), String> {
        let report = self.leak_report();
        if let Some((kind, n)) = report.unreachable.first() {
            return Err(format!("{n} {} object(s) alive that no handle reaches", kind.name()));
        }
        if let Some((pid, n)) = report.handles_after_exit.first() {
            return Err(format!("process {} exited but holds {n} handle(s)", pid.0));
        }
        for kind in ObjectKind::ALL {
            let n = self.live_objects(kind);
            if n < 0 {
                return Err(format!("live count of {} is {n}", kind.name()));
            }
        }
        let registered = self.0.sessions.map.lock().values().filter(|w| w.strong_count() > 0).count() as i64;
        let sessions = self.live_objects(ObjectKind::ProtectedSession);
        if registered != sessions {
            return Err(format!("{registered} session(s) registered for the KMD, {sessions} alive"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Kernel, KernelConfig};

    #[test]
    fn an_object_no_handle_reaches_is_reported_unreachable() {
        let kernel = Kernel::new(KernelConfig::default());
        let p = kernel.create_process();
        // A reference kept outside every table, as a refcount bug would.
        let token = LiveToken::new(&p.0.live, ObjectKind::Device);
        assert_eq!(token.creator(), Creator { process: p.id(), call: None });
        let report = kernel.leak_report();
        assert_eq!(report.unreachable, vec![(ObjectKind::Device, 1)]);
        assert_eq!(report.live_count(), 1);
        assert!(report.to_string().contains("no handle reaches"), "{report}");
        assert!(kernel.check_invariants().unwrap_err().contains("no handle reaches"));
        drop(token);
        assert!(kernel.leak_report().is_clean());
        assert_eq!(kernel.check_invariants(), Ok(()));
    }

    #[test]
    fn call_scopes_nest_and_restore() {
        let kernel = Kernel::new(KernelConfig::default());
        let p = kernel.create_process();
        {
            let outer = CallScope::enter(&p, Entry::D3DKMTCreateDevice);
            assert_eq!(outer.site.sequence, 1);
            {
                let query = CallScope::enter(&p, Entry::D3DKMTQueryProtectedSessionStatus);
                assert_eq!(query.site.sequence, 2, "every call is numbered");
                let t = LiveToken::new(&p.0.live, ObjectKind::Device);
                assert_eq!(t.creator().call, Some(outer.site), "a query leaves the mark alone");
            }
            {
                let inner = CallScope::enter(&p, Entry::D3DKMTCreateProtectedSession);
                assert_eq!(inner.site.sequence, 3);
                let t = LiveToken::new(&p.0.live, ObjectKind::ProtectedSession);
                assert_eq!(t.creator().call, Some(inner.site));
            }
            let t = LiveToken::new(&p.0.live, ObjectKind::Device);
            assert_eq!(t.creator().call, Some(outer.site), "the outer call is current again");
            // Another process's counters: not its call.
            let q = kernel.create_process();
            assert_eq!(LiveToken::new(&q.0.live, ObjectKind::Device).creator().call, None);
        }
        assert_eq!(LiveToken::new(&p.0.live, ObjectKind::Device).creator().call, None);
    }
}
