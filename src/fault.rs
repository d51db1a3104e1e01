//! Fault injection: armed faults answer a call in its place, at the one
//! dispatch point every `D3DKMT*` export goes through.
//!
//! A [`Fault`] says which calls fail and with what status: the Nth, every
//! one, or each with probability p from a seed (reproducible), of one entry
//! point, a set of them or any, made as one process or any. Faults are armed
//! per kernel ([`Kernel::arm`]), so tests running in parallel on their own
//! kernels never see each other's, and stay armed while their [`FaultGuard`]
//! lives. A fault that fires answers the call with its status before the call
//! runs: no state changes and the caller's struct is untouched, exactly as if
//! the kernel had failed at its first step. A record-only ("what-if") fault
//! logs where it would have fired and lets the call run.
//!
//! The kernel keeps a log of every firing, in order: the fault, the entry
//! point, the process, the process's call sequence number, the status.
//!
//! Cost when nothing is armed: one relaxed atomic load on the kernel per call.
//! Armed faults are matched under one kernel-wide lock, in arming order; the
//! first that fires for real decides the call (record-only ones all log).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::NtStatus;
use crate::error::KernelError;
use crate::kernel::{Kernel, KernelInner};
use crate::live::{CallScope, CallSite};
use crate::process::{Process, ProcessId};
use crate::support::{ENTRY_POINTS, Entry};
use crate::sync::Mutex;

/// Most records the fault log keeps; later firings are counted, not kept.
pub const FAULT_LOG_CAPACITY: usize = 1 << 20;

/// Which calls a fault picks among those it matches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum When {
    /// Only the Nth matching call (from 1).
    Nth(u64),
    /// Every matching call.
    Every,
    /// Each matching call with probability `p`, drawn from a generator seeded
    /// with `seed`: the same calls in the same order fail the same way.
    Probability {
        /// In `0.0..=1.0`.
        p: f64,
        /// The generator's seed.
        seed: u64,
    },
}

/// A set of entry points, as a bitset over [`ENTRY_POINTS`].
#[derive(Clone, Debug, PartialEq, Eq)]
struct EntrySet(Vec<u64>);

impl EntrySet {
    fn empty() -> Self {
        EntrySet(vec![0; ENTRY_POINTS.len().div_ceil(64)])
    }
    fn insert(&mut self, e: Entry) {
        self.0[e as usize / 64] |= 1 << (e as usize % 64);
    }
    fn contains(&self, e: Entry) -> bool {
        self.0[e as usize / 64] & (1 << (e as usize % 64)) != 0
    }
}

/// A fault to arm: which calls fail, and with what status. Built in steps:
///
/// ```
/// use d3dkmt_emu::{Entry, Fault, Kernel, KernelConfig, NtStatus};
/// let kernel = Kernel::new(KernelConfig::default());
/// let _armed = kernel.arm(Fault::status(NtStatus::NO_MEMORY).on(Entry::D3DKMTCreateDevice).nth(3));
/// ```
///
/// With no `on…` step it matches every entry point; with no `in_process`,
/// every process; with no `nth`/`every`/`with_probability`, every matching call.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    status: NtStatus,
    entries: Option<EntrySet>,
    process: Option<ProcessId>,
    when: When,
    record_only: bool,
}

impl Fault {
    /// A fault answering with `status` (any NTSTATUS, even a success one: the
    /// call then "succeeds" without running, and writes no output).
    pub fn status(status: NtStatus) -> Fault {
        Fault { status, entries: None, process: None, when: When::Every, record_only: false }
    }

    /// Matches `entry` too (the first `on…` step narrows from "any").
    pub fn on(self, entry: Entry) -> Fault {
        self.on_any_of([entry])
    }

    /// Matches each of `entries` too.
    pub fn on_any_of(mut self, entries: impl IntoIterator<Item = Entry>) -> Fault {
        let set = self.entries.get_or_insert_with(EntrySet::empty);
        for e in entries {
            set.insert(e);
        }
        self
    }

    /// Matches the entry points that create or open something (see
    /// [`creates_or_opens`]): the default injectable points of a sweep.
    pub fn on_creates(self) -> Fault {
        self.on_any_of(ENTRY_POINTS.iter().map(|(e, _, _)| *e).filter(|&e| creates_or_opens(e)))
    }

    /// Matches only calls made as the process with this id.
    pub fn in_process(mut self, process: ProcessId) -> Fault {
        self.process = Some(process);
        self
    }

    /// Fires on the Nth matching call only (from 1).
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn nth(mut self, n: u64) -> Fault {
        assert!(n >= 1, "Fault::nth counts from 1");
        self.when = When::Nth(n);
        self
    }

    /// Fires on every matching call (the default).
    pub fn every(mut self) -> Fault {
        self.when = When::Every;
        self
    }

    /// Fires on each matching call with probability `p`, from `seed`.
    ///
    /// # Panics
    /// If `p` is not in `0.0..=1.0`.
    pub fn with_probability(mut self, p: f64, seed: u64) -> Fault {
        assert!((0.0..=1.0).contains(&p), "a probability is in 0..=1, not {p}");
        self.when = When::Probability { p, seed };
        self
    }

    /// What-if mode: the fault logs where it fires, and the call runs normally.
    pub fn record_only(mut self) -> Fault {
        self.record_only = true;
        self
    }

    /// The status it answers with.
    pub fn injected_status(&self) -> NtStatus {
        self.status
    }

    /// When it fires among the calls it matches.
    pub fn when(&self) -> When {
        self.when
    }

    fn matches(&self, process: ProcessId, entry: Entry) -> bool {
        self.process.is_none_or(|p| p == process) && self.entries.as_ref().is_none_or(|s| s.contains(entry))
    }
}

/// True for the entry points that create or open something, whose failure a
/// caller must handle by not using (and not freeing) what it did not get:
/// the `Create*`, `Open*` and `EnumAdapters*` entry points,
/// `D3DKMTShareObjects` and `DuplicateHandle`. These are the only ones that
/// make kernel objects.
#[inline]
pub fn creates_or_opens(entry: Entry) -> bool {
    CREATES_OR_OPENS[entry as usize]
}

/// [`creates_or_opens`] for every entry point, worked out at compile time
/// from the names (the dispatch point reads it on every call).
static CREATES_OR_OPENS: [bool; ENTRY_POINTS.len()] = {
    const fn starts_with(name: &str, prefix: &str) -> bool {
        let (n, p) = (name.as_bytes(), prefix.as_bytes());
        if n.len() < p.len() {
            return false;
        }
        let mut i = 0;
        while i < p.len() {
            if n[i] != p[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    const fn equals(name: &str, other: &str) -> bool {
        name.len() == other.len() && starts_with(name, other)
    }
    let mut table = [false; ENTRY_POINTS.len()];
    let mut i = 0;
    while i < ENTRY_POINTS.len() {
        let name = ENTRY_POINTS[i].1;
        table[i] = starts_with(name, "D3DKMTCreate")
            || starts_with(name, "D3DKMTOpen")
            || starts_with(name, "D3DKMTEnumAdapters")
            || equals(name, "D3DKMTShareObjects")
            || equals(name, "DuplicateHandle");
        i += 1;
    }
    table
};

/// An armed fault's number within its kernel (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaultId(pub u64);

/// One firing, as the fault log keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultRecord {
    /// The fault that fired.
    pub fault: FaultId,
    /// The entry point called.
    pub entry: Entry,
    /// The process the call was made as.
    pub process: ProcessId,
    /// That process's call sequence number for the call.
    pub sequence: u64,
    /// The fault's status.
    pub status: NtStatus,
    /// False for a record-only fault: the call ran normally.
    pub injected: bool,
}

impl std::fmt::Display for FaultRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fault {} {} {} in process {} (call {}) with {}",
            self.fault.0,
            if self.injected { "failed" } else { "would fail" },
            self.entry.name(),
            self.process.0,
            self.sequence,
            self.status
        )
    }
}

/// SplitMix64: a tiny, well-mixed generator; reproducible from its seed.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        // 53 random bits as a float in [0, 1): exact, and never 1.
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

struct Armed {
    id: FaultId,
    fault: Fault,
    rng: SplitMix64,
    matched: u64,
    fired: u64,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    armed: Vec<Armed>,
    log: Vec<FaultRecord>,
    dropped: u64,
}

/// A kernel's faults: what is armed, and the log.
#[derive(Default)]
pub(crate) struct Faults {
    /// How many faults are armed: the one load the dispatch point makes.
    armed: AtomicUsize,
    table: Mutex<Table>,
}

impl Faults {
    fn arm(&self, fault: Fault) -> FaultId {
        let mut table = self.table.lock();
        table.next_id += 1;
        let id = FaultId(table.next_id);
        let seed = match fault.when {
            When::Probability { seed, .. } => seed,
            _ => 0,
        };
        table.armed.push(Armed { id, fault, rng: SplitMix64(seed), matched: 0, fired: 0 });
        self.armed.store(table.armed.len(), Ordering::Relaxed);
        id
    }

    fn disarm(&self, id: FaultId) -> bool {
        let mut table = self.table.lock();
        let before = table.armed.len();
        table.armed.retain(|a| a.id != id);
        self.armed.store(table.armed.len(), Ordering::Relaxed);
        table.armed.len() != before
    }

    fn counts(&self, id: FaultId) -> Option<(u64, u64)> {
        self.table.lock().armed.iter().find(|a| a.id == id).map(|a| (a.matched, a.fired))
    }

    #[cold]
    fn decide(&self, process: ProcessId, site: CallSite) -> Option<KernelError> {
        let mut table = self.table.lock();
        let Table { armed, log, dropped, .. } = &mut *table;
        let mut answer = None;
        for a in armed.iter_mut() {
            if answer.is_some() && !a.fault.record_only {
                // A real fault already decides this call; later ones do not
                // see it (so their counts do not move).
                continue;
            }
            if !a.fault.matches(process, site.entry) {
                continue;
            }
            a.matched += 1;
            let fires = match a.fault.when {
                When::Nth(n) => a.matched == n,
                When::Every => true,
                When::Probability { p, .. } => a.rng.chance(p),
            };
            if !fires {
                continue;
            }
            a.fired += 1;
            let record = FaultRecord {
                fault: a.id,
                entry: site.entry,
                process,
                sequence: site.sequence,
                status: a.fault.status,
                injected: !a.fault.record_only,
            };
            if log.len() < FAULT_LOG_CAPACITY {
                log.push(record);
            } else {
                *dropped += 1;
            }
            if !a.fault.record_only {
                answer = Some(KernelError::Injected(a.fault.status));
            }
        }
        answer
    }
}

/// The error an armed fault answers the call with, if one fires for it.
/// Called after the exited-process check and before the call, so an injected
/// failure changes no state and leaves the caller's struct untouched.
#[inline]
pub(crate) fn intercept(process: &Process, call: &CallScope) -> Option<KernelError> {
    let faults = &process.0.kernel.faults;
    if faults.armed.load(Ordering::Relaxed) == 0 {
        return None;
    }
    faults.decide(process.id(), call.site)
}

/// An armed fault: disarmed when dropped.
#[must_use = "the fault is disarmed when the guard drops"]
pub struct FaultGuard {
    /// `None` once kept: then the drop disarms nothing.
    kernel: Option<std::sync::Weak<KernelInner>>,
    id: FaultId,
}

impl FaultGuard {
    /// The fault's id (as the log names it).
    pub fn id(&self) -> FaultId {
        self.id
    }

    /// How many calls it has matched so far.
    pub fn matched(&self) -> u64 {
        self.counts().0
    }

    /// How many times it has fired so far (record-only firings included).
    pub fn fired(&self) -> u64 {
        self.counts().1
    }

    fn counts(&self) -> (u64, u64) {
        self.kernel.as_ref().and_then(std::sync::Weak::upgrade).and_then(|k| k.faults.counts(self.id)).unwrap_or((0, 0))
    }

    /// Disarms it now.
    pub fn disarm(self) {}

    /// Leaves it armed for good (until [`Kernel::disarm`]); returns its id.
    pub fn keep(mut self) -> FaultId {
        self.kernel = None;
        self.id
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        if let Some(kernel) = self.kernel.take().as_ref().and_then(std::sync::Weak::upgrade) {
            kernel.faults.disarm(self.id);
        }
    }
}

impl std::fmt::Debug for FaultGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultGuard").field("id", &self.id).finish()
    }
}

impl Kernel {
    /// Arms a fault on this kernel's calls until the guard drops.
    pub fn arm(&self, fault: Fault) -> FaultGuard {
        let id = self.0.faults.arm(fault);
        FaultGuard { kernel: Some(Arc::downgrade(&self.0)), id }
    }

    /// Disarms an armed fault (one [`FaultGuard::keep`] left armed, or one
    /// the C API armed). False if no fault with that id is armed.
    pub fn disarm(&self, id: FaultId) -> bool {
        self.0.faults.disarm(id)
    }

    /// Every firing so far, in order (at most [`FAULT_LOG_CAPACITY`]).
    pub fn fault_log(&self) -> Vec<FaultRecord> {
        self.0.faults.table.lock().log.clone()
    }

    /// Firings beyond [`FAULT_LOG_CAPACITY`] that the log did not keep.
    pub fn fault_log_dropped(&self) -> u64 {
        self.0.faults.table.lock().dropped
    }

    /// Empties the fault log; returns what it held.
    pub fn take_fault_log(&self) -> Vec<FaultRecord> {
        let mut table = self.0.faults.table.lock();
        table.dropped = 0;
        std::mem::take(&mut table.log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_reproducible_and_probability_is_roughly_right() {
        let (mut a, mut b) = (SplitMix64(7), SplitMix64(7));
        let xs: Vec<u64> = (0..8).map(|_| a.next()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next()).collect();
        assert_eq!(xs, ys);
        let mut r = SplitMix64(1);
        let hits = (0..100_000).filter(|_| r.chance(0.25)).count();
        assert!((23_000..27_000).contains(&hits), "{hits}");
        assert!(!(0..1000).any(|_| r.chance(0.0)));
        assert!((0..1000).all(|_| r.chance(1.0)));
    }

    #[test]
    fn creates_or_opens_classifies() {
        assert!(creates_or_opens(Entry::D3DKMTCreateDevice));
        assert!(creates_or_opens(Entry::D3DKMTOpenProtectedSessionFromNtHandle));
        assert!(creates_or_opens(Entry::D3DKMTShareObjects));
        assert!(creates_or_opens(Entry::D3DKMTEnumAdapters2));
        assert!(!creates_or_opens(Entry::D3DKMTDestroyDevice));
        assert!(!creates_or_opens(Entry::D3DKMTQueryProtectedSessionStatus));
        assert!(!creates_or_opens(Entry::CloseHandle));
    }
}
