//! The op vocabulary: what a fuzzed sequence is made of.
//!
//! Ops name handles symbolically ([`Sel`]): the n-th live handle of the
//! kind the op wants, a handle the process closed, another process's handle,
//! or a raw value. The executor resolves a `Sel` against the model's state at
//! the moment the op runs, so a sequence stays meaningful when a shrinker
//! removes ops before it: `Live(0)` is still "the first live device", not a
//! stale number.

use arbitrary::Arbitrary;

use crate::{Entry, NtStatus};

/// Number of virtual processes every fuzzed kernel has.
pub const PROCESSES: usize = 3;

/// A symbolic handle (D3DKMT, NT, global or session key, by context).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Arbitrary)]
pub enum Sel {
    /// The n-th (modulo the count) live handle of the kind the op wants in
    /// the calling process; if it has none, of any kind; if none at all, 0.
    Live(u8),
    /// The n-th value the calling process has closed (0 if none).
    Stale(u8),
    /// A live handle of another process (0 if none).
    Foreign(u8),
    /// A raw value, as given.
    Garbage(u32),
}

/// The NT access an op asks for when it shares or duplicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Arbitrary)]
pub enum Access {
    /// `GENERIC_ALL`: every right.
    All,
    /// `GENERIC_READ`: read (and wait, for a sync object).
    Read,
    /// `GENERIC_WRITE`: read (and signal, for a sync object).
    Write,
    /// No right at all.
    None,
}

impl Access {
    /// The raw access mask.
    pub fn mask(self) -> u32 {
        match self {
            Access::All => crate::access::GENERIC_ALL,
            Access::Read => crate::access::GENERIC_READ,
            Access::Write => crate::access::GENERIC_WRITE,
            Access::None => 0,
        }
    }
}

/// One step of a fuzzed sequence. `p` (and `from`, `to`) name a process
/// modulo [`PROCESSES`]; the other fields are the call's arguments.
#[allow(missing_docs, reason = "each variant's fields are its call's arguments, named as in the call")]
#[derive(Clone, Debug, PartialEq, Eq, Hash, Arbitrary)]
pub enum Op {
    /// `D3DKMTOpenAdapterFromLuid` of the kernel's first adapter.
    OpenAdapter { p: u8 },
    /// `D3DKMTCloseAdapter`.
    CloseAdapter { p: u8, adapter: Sel },
    /// `D3DKMTCreateDevice`.
    CreateDevice { p: u8, adapter: Sel },
    /// `D3DKMTDestroyDevice`.
    DestroyDevice { p: u8, device: Sel },
    /// `D3DKMTCreateSynchronizationObject2`, a monitored fence, optionally
    /// `Shared | NtSecuritySharing`.
    CreateFence { p: u8, device: Sel, nt_shared: bool, initial: u8 },
    /// `D3DKMTCreateSynchronizationObject2`, a mutex, optionally `Shared`
    /// (a global handle).
    CreateSyncMutex { p: u8, device: Sel, shared: bool },
    /// `D3DKMTOpenSynchronizationObject` by global handle.
    OpenSyncGlobal { p: u8, global: Sel },
    /// `D3DKMTDestroySynchronizationObject`.
    DestroySync { p: u8, sync: Sel },
    /// `D3DKMTSignalSynchronizationObjectFromCpu` of one object.
    Signal { p: u8, device: Sel, sync: Sel, value: u16 },
    /// `D3DKMTCreateProtectedSession`.
    CreateSession { p: u8, device: Sel, fence: Sel },
    /// `D3DKMTDestroyProtectedSession`.
    DestroySession { p: u8, session: Sel },
    /// `D3DKMTQueryProtectedSessionStatus`.
    QueryStatus { p: u8, session: Sel },
    /// `D3DKMTShareObjects` of one object, optionally named.
    Share { p: u8, object: Sel, access: Access, name: Option<u8> },
    /// `D3DKMTOpenSyncObjectFromNtHandle2`.
    OpenSyncFromNt { p: u8, nt: Sel, device: Sel },
    /// `D3DKMTOpenProtectedSessionFromNtHandle`.
    OpenSessionFromNt { p: u8, nt: Sel },
    /// `D3DKMTQueryProtectedSessionInfoFromNtHandle`.
    QueryInfo { p: u8, nt: Sel },
    /// `D3DKMTOpenSyncObjectNtHandleFromName` with `GENERIC_ALL`.
    OpenNtFromName { p: u8, name: u8 },
    /// `DuplicateHandle` of an NT handle, also across processes: with the
    /// source's access (`DUPLICATE_SAME_ACCESS`) if `access` is `None`, else
    /// that access; optionally `DUPLICATE_CLOSE_SOURCE`.
    Duplicate { from: u8, nt: Sel, to: u8, close_source: bool, access: Option<Access> },
    /// `CloseHandle` of an NT handle.
    CloseNt { p: u8, nt: Sel },
    /// The KMD sets a session's status (`DxgkCbSetProtectedSessionStatus`).
    SetStatus { session: Sel, invalid: bool },
    /// `D3DKMTCreateKeyedMutex` (a global handle) or `D3DKMTCreateKeyedMutex2`
    /// with `NtSecuritySharing` (none).
    CreateKeyedMutex { p: u8, initial_key: u8, nt_shared: bool },
    /// `D3DKMTOpenKeyedMutex` by global handle.
    OpenKeyedMutex { p: u8, global: Sel },
    /// `D3DKMTAcquireKeyedMutex` with a zero timeout (never blocks).
    Acquire { p: u8, mutex: Sel, key: u8 },
    /// `D3DKMTReleaseKeyedMutex`.
    Release { p: u8, mutex: Sel, key: u8 },
    /// `D3DKMTDestroyKeyedMutex`.
    DestroyKeyedMutex { p: u8, mutex: Sel },
    /// The KMD removes a device (`DeviceLoss::Hung`).
    RemoveDevice { p: u8, device: Sel },
    /// Process exit.
    Exit { p: u8 },
    /// `D3DKMTCreateContextVirtual` on node 0 (a device child).
    CreateContext { p: u8, device: Sel },
    /// `D3DKMTDestroyContext`.
    DestroyContext { p: u8, context: Sel },
    /// `D3DKMTWaitForSynchronizationObjectFromCpu` on one object, only when
    /// it cannot block: a wait the model says would block is not made (a
    /// single-threaded run could never end it), and the op does nothing.
    Wait { p: u8, device: Sel, sync: Sel, value: u16 },
    /// Arms a one-shot fault: the next call of entry point
    /// `FAULT_ENTRIES[entry]` made as process `p` fails with
    /// `FAULT_STATUSES[status]` before it runs (see [`crate::Fault`]).
    /// Arms nothing while one is already pending for that pair.
    InjectFault { p: u8, entry: u8, status: u8 },
}

/// The entry points an [`Op::InjectFault`] may target: every `D3DKMT*`
/// export the vocabulary calls.
pub const FAULT_ENTRIES: [Entry; 25] = [
    Entry::D3DKMTOpenAdapterFromLuid,
    Entry::D3DKMTCloseAdapter,
    Entry::D3DKMTCreateDevice,
    Entry::D3DKMTDestroyDevice,
    Entry::D3DKMTCreateSynchronizationObject2,
    Entry::D3DKMTOpenSynchronizationObject,
    Entry::D3DKMTDestroySynchronizationObject,
    Entry::D3DKMTSignalSynchronizationObjectFromCpu,
    Entry::D3DKMTWaitForSynchronizationObjectFromCpu,
    Entry::D3DKMTCreateProtectedSession,
    Entry::D3DKMTDestroyProtectedSession,
    Entry::D3DKMTQueryProtectedSessionStatus,
    Entry::D3DKMTShareObjects,
    Entry::D3DKMTOpenSyncObjectFromNtHandle2,
    Entry::D3DKMTOpenProtectedSessionFromNtHandle,
    Entry::D3DKMTQueryProtectedSessionInfoFromNtHandle,
    Entry::D3DKMTOpenSyncObjectNtHandleFromName,
    Entry::D3DKMTCreateKeyedMutex,
    Entry::D3DKMTCreateKeyedMutex2,
    Entry::D3DKMTOpenKeyedMutex,
    Entry::D3DKMTAcquireKeyedMutex,
    Entry::D3DKMTReleaseKeyedMutex,
    Entry::D3DKMTDestroyKeyedMutex,
    Entry::D3DKMTCreateContextVirtual,
    Entry::D3DKMTDestroyContext,
];

/// The failure statuses an [`Op::InjectFault`] may inject.
pub const FAULT_STATUSES: [NtStatus; 3] = [NtStatus::NO_MEMORY, NtStatus::DEVICE_REMOVED, NtStatus::UNSUCCESSFUL];

impl Op {
    /// The process the op acts as (the source process of a duplicate; none
    /// for a KMD status flip).
    pub fn process(&self) -> Option<usize> {
        let p = match *self {
            Op::OpenAdapter { p }
            | Op::CloseAdapter { p, .. }
            | Op::CreateDevice { p, .. }
            | Op::DestroyDevice { p, .. }
            | Op::CreateFence { p, .. }
            | Op::CreateSyncMutex { p, .. }
            | Op::OpenSyncGlobal { p, .. }
            | Op::DestroySync { p, .. }
            | Op::Signal { p, .. }
            | Op::CreateSession { p, .. }
            | Op::DestroySession { p, .. }
            | Op::QueryStatus { p, .. }
            | Op::Share { p, .. }
            | Op::OpenSyncFromNt { p, .. }
            | Op::OpenSessionFromNt { p, .. }
            | Op::QueryInfo { p, .. }
            | Op::OpenNtFromName { p, .. }
            | Op::CloseNt { p, .. }
            | Op::CreateKeyedMutex { p, .. }
            | Op::OpenKeyedMutex { p, .. }
            | Op::Acquire { p, .. }
            | Op::Release { p, .. }
            | Op::DestroyKeyedMutex { p, .. }
            | Op::RemoveDevice { p, .. }
            | Op::Exit { p }
            | Op::Wait { p, .. }
            | Op::CreateContext { p, .. }
            | Op::DestroyContext { p, .. }
            | Op::InjectFault { p, .. } => p,
            Op::Duplicate { from, .. } => from,
            Op::SetStatus { .. } => return None,
        };
        Some(p as usize % PROCESSES)
    }
}

/// A small, fast, seeded generator of op sequences (SplitMix64, weighted by
/// [`WEIGHTS`], handles mostly [`Sel::Live`]): the same seed gives the same
/// sequences on every platform.
#[derive(Clone, Debug)]
pub struct Generator {
    state: u64,
}

impl Generator {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Generator {
        Generator { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// The next sequence: [`prologue`] (an adapter and a device in each
    /// process), then `len` ops weighted towards creates so that sequences
    /// build up state worth destroying (exits are rare).
    pub fn sequence(&mut self, len: usize) -> Vec<Op> {
        let mut ops = prologue();
        ops.extend((0..len).map(|_| self.op()));
        ops
    }

    fn sel(&mut self) -> Sel {
        match self.below(11) {
            0..=7 => Sel::Live(self.below(8) as u8),
            8 => Sel::Stale(self.below(8) as u8),
            9 => Sel::Foreign(self.below(8) as u8),
            _ => Sel::Garbage(match self.below(3) {
                0 => 0,
                1 => 0x4000_0000,
                _ => self.next_u64() as u32,
            }),
        }
    }

    fn access(&mut self) -> Access {
        match self.below(7) {
            0..=3 => Access::All,
            4 => Access::Read,
            5 => Access::Write,
            _ => Access::None,
        }
    }

    /// One op, by the weights of [`WEIGHTS`].
    pub fn op(&mut self) -> Op {
        let total: u64 = WEIGHTS.iter().sum();
        let mut pick = self.below(total);
        let mut kind = 0;
        while pick >= WEIGHTS[kind] {
            pick -= WEIGHTS[kind];
            kind += 1;
        }
        let p = self.below(PROCESSES as u64) as u8;
        match kind {
            0 => Op::OpenAdapter { p },
            1 => Op::CloseAdapter { p, adapter: self.sel() },
            2 => Op::CreateDevice { p, adapter: self.sel() },
            3 => Op::DestroyDevice { p, device: self.sel() },
            4 => {
                Op::CreateFence { p, device: self.sel(), nt_shared: self.below(4) != 0, initial: self.below(256) as u8 }
            }
            5 => Op::CreateSyncMutex { p, device: self.sel(), shared: self.below(2) == 0 },
            6 => Op::OpenSyncGlobal { p, global: self.sel() },
            7 => Op::DestroySync { p, sync: self.sel() },
            8 => Op::Signal { p, device: self.sel(), sync: self.sel(), value: self.below(1 << 16) as u16 },
            9 => Op::CreateSession { p, device: self.sel(), fence: self.sel() },
            10 => Op::DestroySession { p, session: self.sel() },
            11 => Op::QueryStatus { p, session: self.sel() },
            12 => {
                let name = (self.below(2) == 0).then(|| self.below(4) as u8);
                Op::Share { p, object: self.sel(), access: self.access(), name }
            }
            13 => Op::OpenSyncFromNt { p, nt: self.sel(), device: self.sel() },
            14 => Op::OpenSessionFromNt { p, nt: self.sel() },
            15 => Op::QueryInfo { p, nt: self.sel() },
            16 => Op::OpenNtFromName { p, name: self.below(4) as u8 },
            17 => Op::Duplicate {
                from: p,
                nt: self.sel(),
                to: self.below(PROCESSES as u64) as u8,
                close_source: self.below(2) == 0,
                access: (self.below(2) == 0).then(|| self.access()),
            },
            18 => Op::CloseNt { p, nt: self.sel() },
            19 => Op::SetStatus { session: self.sel(), invalid: self.below(2) == 0 },
            20 => Op::CreateKeyedMutex { p, initial_key: self.below(4) as u8, nt_shared: self.below(2) == 0 },
            21 => Op::OpenKeyedMutex { p, global: self.sel() },
            22 => Op::Acquire { p, mutex: self.sel(), key: self.below(4) as u8 },
            23 => Op::Release { p, mutex: self.sel(), key: self.below(4) as u8 },
            24 => Op::DestroyKeyedMutex { p, mutex: self.sel() },
            25 => Op::RemoveDevice { p, device: self.sel() },
            28 => Op::CreateContext { p, device: self.sel() },
            29 => Op::DestroyContext { p, context: self.sel() },
            27 => Op::Wait { p, device: self.sel(), sync: self.sel(), value: self.below(1 << 16) as u16 },
            26 => Op::InjectFault {
                p,
                entry: self.below(FAULT_ENTRIES.len() as u64) as u8,
                status: self.below(FAULT_STATUSES.len() as u64) as u8,
            },
            // Exits are rarer still: a third of the picks.
            _ if self.below(3) == 0 => Op::Exit { p },
            _ => Op::OpenAdapter { p },
        }
    }
}

/// An adapter handle and a device in each process: where most sequences
/// would spend their first dozens of ops getting to.
pub fn prologue() -> Vec<Op> {
    (0..PROCESSES as u8).flat_map(|p| [Op::OpenAdapter { p }, Op::CreateDevice { p, adapter: Sel::Live(0) }]).collect()
}

/// How often [`Generator::op`] picks each op: in [`Op`]'s declaration order
/// up to the exit; then the fault, the wait and the two context ops; the
/// exit last.
pub const WEIGHTS: [u64; 31] =
    [3, 1, 3, 1, 5, 2, 2, 2, 3, 4, 2, 2, 4, 3, 3, 2, 2, 4, 3, 3, 3, 2, 3, 3, 1, 1, 2, 2, 2, 2, 1];
