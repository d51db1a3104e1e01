//! Live-object accounting: how many kernel objects of each kind exist.
//!
//! Every kernel object holds a [`LiveToken`] that counts it in the counters of
//! the process that created it (kept per process so that threads bound to
//! different processes do not share a cache line). The kernel sums them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The kinds of kernel object this crate counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// A context (`D3DKMTCreateContext`, `CreateContextVirtual`, `CreateHwContext`).
    Context = 4,
    /// A hardware queue (`D3DKMTCreateHwQueue`).
    HwQueue = 5,
    /// A paging queue (`D3DKMTCreatePagingQueue`).
    PagingQueue = 6,
}

impl ObjectKind {
    /// Every kind, in order.
    pub const ALL: [ObjectKind; 7] = [
        ObjectKind::Device,
        ObjectKind::SyncObject,
        ObjectKind::ProtectedSession,
        ObjectKind::NtObject,
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
            ObjectKind::Context => "context",
            ObjectKind::HwQueue => "hardware queue",
            ObjectKind::PagingQueue => "paging queue",
        }
    }
}

#[derive(Default)]
pub(crate) struct LiveCounters {
    counts: [AtomicI64; ObjectKind::ALL.len()],
}

impl LiveCounters {
    pub(crate) fn get(&self, kind: ObjectKind) -> i64 {
        self.counts[kind as usize].load(Ordering::Relaxed)
    }
}

/// Counts one live object; uncounts it when dropped.
pub(crate) struct LiveToken {
    counters: Arc<LiveCounters>,
    kind: ObjectKind,
}

impl LiveToken {
    pub(crate) fn new(counters: &Arc<LiveCounters>, kind: ObjectKind) -> Self {
        counters.counts[kind as usize].fetch_add(1, Ordering::Relaxed);
        LiveToken { counters: Arc::clone(counters), kind }
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        let before = self.counters.counts[self.kind as usize].fetch_sub(1, Ordering::Relaxed);
        assert!(before > 0, "live count of {} went negative", self.kind.name());
    }
}
