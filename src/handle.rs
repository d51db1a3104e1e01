//! Handle tables: Windows-shaped D3DKMT handles and NT handles.
//!
//! Both kinds live in a [`HandleTable`], a next-fit slot table:
//!
//! - A new handle takes the slot after the previous one, so values grow by one
//!   step per create (0x40 for D3DKMT handles, 4 for NT handles), across every
//!   object kind, and a destroyed value is not handed out again at once
//!   (WINE #1, #2).
//! - The table grows instead of wrapping while it is at least half full or
//!   shorter than [`MIN_REUSE_DISTANCE`] slots, so the next-fit scan is
//!   amortised O(1), the table is at most twice the live count (or that
//!   minimum), and a freed value is not handed out again for at least
//!   `MIN_REUSE_DISTANCE - live` creates.
//! - A freed slot is reused only after the cursor wraps round to it. Each slot
//!   keeps a generation that moves on every free; D3DKMT handles carry it in
//!   their two top bits (`unique`, 1..=3, never 0), so a stale or
//!   double-destroyed handle fails until its slot has been reused three times,
//!   which takes at least three table-lengths of creates (tens of thousands). Under
//!   [`HandleReuse::Never`] a slot is never reused and stale handles fail
//!   forever, at the cost of a lifetime quota of 2^24 handles per process.
//!
//! - Under [`HandleNumbering::PerProcessRanges`] (the default) each table
//!   takes its index space in chunks (4,096 D3DKMT or 65,536 NT indices) from
//!   a pool its kernel shares among processes, so no two live processes ever
//!   hold the same value, and a handle passed to the wrong process names
//!   nothing there. The pool has 4,095 chunks of each kind: that many
//!   processes with handles at once, or 16.7 million D3DKMT handles in all.
//!
//! Lookups check the whole stored value, so a handle of another kind, of
//! another process, or with the wrong `unique` bits is simply absent.

use crate::policy::{HandleNumbering, HandleReuse};

/// Tables grow to at least this many slots before they wrap round.
pub(crate) const MIN_REUSE_DISTANCE: usize = 1 << 14;

/// A process-local D3DKMT handle (`D3DKMT_HANDLE`): `unique:2 | index:24 | instance:6`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct LocalHandle(pub u32);

/// An NT handle value (`HANDLE`): a multiple of 4 with no bit of 0xC0000000.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NtHandle(pub u64);

impl LocalHandle {
    /// The raw `D3DKMT_HANDLE`.
    pub const fn raw(self) -> u32 {
        self.0
    }
    /// True if the value has the shape of a local handle: nonzero, low 6 bits
    /// 0, a bit of 0xC0000000 set (WINE #1).
    pub const fn is_local_shaped(self) -> bool {
        self.0 & 0x3F == 0 && self.0 & 0xC000_0000 != 0
    }
    /// True if the value has the shape of a global (KMT) share handle: low 6
    /// bits 2 and a bit of 0xC0000000 set (WINE #3).
    pub const fn is_global_shaped(self) -> bool {
        self.0 & 0x3F == 2 && self.0 & 0xC000_0000 != 0
    }
}

impl NtHandle {
    /// The value as the C `HANDLE` pointer.
    pub fn as_ptr(self) -> *mut core::ffi::c_void {
        self.0 as usize as *mut core::ffi::c_void
    }
    /// The value of a C `HANDLE` pointer.
    pub fn from_ptr(p: *mut core::ffi::c_void) -> NtHandle {
        NtHandle(p as usize as u64)
    }
}

impl std::fmt::Display for LocalHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

impl std::fmt::Display for NtHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// How a table turns slot indices into handle values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// D3DKMT handles: `unique << 30 | index << 6`, index in 1..2^24.
    Local,
    /// NT handles: `index << 2`, index in 1..2^28.
    Nt,
    /// Global (KMT) share handles: `unique << 30 | index << 6 | 2`, index in
    /// 1..2^24 (WINE #3).
    Global,
}

impl Shape {
    /// log2 of the indices in one chunk of the index space.
    const fn chunk_bits(self) -> u32 {
        match self {
            Shape::Local | Shape::Global => 12,
            Shape::Nt => 16,
        }
    }

    /// How many whole chunks fit in the index space (index 0 is never used:
    /// chunk `c`, offset `o` is index `1 + (c << bits) + o`).
    pub(crate) const fn chunks(self) -> u32 {
        let space: u32 = match self {
            Shape::Local | Shape::Global => (1 << 24) - 1,
            Shape::Nt => (1 << 28) - 1,
        };
        space >> self.chunk_bits()
    }
}

/// Hands out chunks of one shape's index space to the tables of one kernel.
/// A chunk belongs to one table at a time, so no two processes ever hold the
/// same handle value, and one passed to the wrong process names nothing
/// there. Freed chunks go to the back of a queue, so a process's values are
/// not soon reused by another.
pub(crate) struct ChunkPool {
    shape: Shape,
    state: crate::sync::Mutex<(u32, std::collections::VecDeque<u32>)>,
}

impl ChunkPool {
    pub(crate) fn new(shape: Shape) -> ChunkPool {
        ChunkPool { shape, state: crate::sync::Mutex::new((0, std::collections::VecDeque::new())) }
    }

    fn take(&self) -> Option<u32> {
        let mut state = self.state.lock();
        if state.0 < self.shape.chunks() {
            state.0 += 1;
            return Some(state.0 - 1);
        }
        state.1.pop_front()
    }

    fn give_back(&self, chunks: impl IntoIterator<Item = u32>) {
        self.state.lock().1.extend(chunks);
    }
}

/// Where a table gets its chunks.
pub(crate) enum Numbering {
    /// From the kernel's pool: values unique across processes.
    Pool(std::sync::Arc<ChunkPool>),
    /// Its own: every process numbers alike, as on Windows.
    Private { next: u32 },
}

impl Numbering {
    /// The numbering a policy asks for.
    pub(crate) fn for_policy(policy: HandleNumbering, pool: &std::sync::Arc<ChunkPool>) -> Numbering {
        match policy {
            HandleNumbering::PerProcessRanges => Numbering::Pool(std::sync::Arc::clone(pool)),
            HandleNumbering::Shared => Numbering::Private { next: 0 },
        }
    }
}

struct Slot<T> {
    /// Moves on every free; D3DKMT handles show it as `unique`.
    generation: u32,
    entry: Option<(u64, T)>,
}

/// A next-fit handle table; see the module documentation.
pub(crate) struct HandleTable<T> {
    slots: Vec<Slot<T>>,
    cursor: usize,
    live: usize,
    shape: Shape,
    reuse: HandleReuse,
    /// The quota, in slots.
    capacity: usize,
    numbering: Numbering,
    /// Our n-th chunk's number in the index space.
    chunks: Vec<u32>,
    /// Index-space chunk number → our chunk number + 1 (0: not ours).
    owner: Vec<u32>,
}

impl<T> HandleTable<T> {
    pub(crate) fn new(shape: Shape, numbering: Numbering, reuse: HandleReuse, quota: u32) -> Self {
        HandleTable {
            slots: Vec::new(),
            cursor: 0,
            live: 0,
            shape,
            reuse,
            capacity: quota as usize,
            numbering,
            chunks: Vec::new(),
            owner: Vec::new(),
        }
    }

    /// Live entries.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    fn value_of(&self, pos: usize, generation: u32) -> u64 {
        let bits = self.shape.chunk_bits();
        let chunk = self.chunks[pos >> bits] as u64;
        let index = 1 + (chunk << bits) + (pos as u64 & ((1 << bits) - 1));
        match self.shape {
            Shape::Local => (((generation % 3) + 1) as u64) << 30 | index << 6,
            Shape::Global => (((generation % 3) + 1) as u64) << 30 | index << 6 | 2,
            Shape::Nt => index << 2,
        }
    }

    #[inline]
    fn pos_of(&self, value: u64) -> Option<usize> {
        let index = match self.shape {
            Shape::Local => {
                if value > u32::MAX as u64 || value & 0x3F != 0 {
                    return None;
                }
                (value >> 6) & 0xFF_FFFF
            }
            Shape::Global => {
                if value > u32::MAX as u64 || value & 0x3F != 2 {
                    return None;
                }
                (value >> 6) & 0xFF_FFFF
            }
            // The low two bits of an NT handle are tag bits Windows ignores.
            Shape::Nt => (value & !3) >> 2,
        };
        let index = index.checked_sub(1)?;
        let bits = self.shape.chunk_bits();
        let ours = *self.owner.get(usize::try_from(index >> bits).ok()?)?;
        let pos = ((ours.checked_sub(1)? as usize) << bits) | (index as usize & ((1 << bits) - 1));
        (pos < self.slots.len()).then_some(pos)
    }

    /// Makes room for one more slot: a new chunk when the last one is full.
    fn grow(&mut self) -> bool {
        if self.slots.len() >= self.capacity {
            return false;
        }
        let bits = self.shape.chunk_bits();
        if self.slots.len() == self.chunks.len() << bits {
            let chunk = match &mut self.numbering {
                Numbering::Pool(pool) => pool.take(),
                Numbering::Private { next } => (*next < self.shape.chunks()).then(|| {
                    *next += 1;
                    *next - 1
                }),
            };
            let Some(chunk) = chunk else { return false };
            if self.owner.len() <= chunk as usize {
                self.owner.resize(chunk as usize + 1, 0);
            }
            self.chunks.push(chunk);
            self.owner[chunk as usize] = self.chunks.len() as u32;
        }
        self.slots.push(Slot { generation: 0, entry: None });
        true
    }

    /// Stores `value` under a new handle, or gives it back if the table is full.
    pub(crate) fn insert(&mut self, value: T) -> Result<u64, T> {
        let mut scanned = 0usize;
        loop {
            if self.cursor >= self.slots.len() {
                let want_growth = self.reuse == HandleReuse::Never
                    || self.live * 2 >= self.slots.len()
                    || self.slots.len() < MIN_REUSE_DISTANCE;
                if !(want_growth && self.grow()) {
                    if self.reuse == HandleReuse::Never || self.live >= self.slots.len() {
                        return Err(value);
                    }
                    self.cursor = 0;
                }
            }
            let pos = self.cursor;
            self.cursor += 1;
            if self.slots[pos].entry.is_none() {
                let handle = self.value_of(pos, self.slots[pos].generation);
                self.slots[pos].entry = Some((handle, value));
                self.live += 1;
                return Ok(handle);
            }
            scanned += 1;
            debug_assert!(scanned <= 2 * self.slots.len() + 2, "next-fit scan did not terminate");
        }
    }

    /// Drops the tag bits Windows ignores in NT handles.
    #[inline]
    fn normalize(&self, handle: u64) -> u64 {
        match self.shape {
            Shape::Local | Shape::Global => handle,
            Shape::Nt => handle & !3,
        }
    }

    #[inline]
    pub(crate) fn get(&self, handle: u64) -> Option<&T> {
        let handle = self.normalize(handle);
        let pos = self.pos_of(handle)?;
        match &self.slots[pos].entry {
            Some((stored, value)) if *stored == handle => Some(value),
            _ => None,
        }
    }

    pub(crate) fn get_mut(&mut self, handle: u64) -> Option<&mut T> {
        let handle = self.normalize(handle);
        let pos = self.pos_of(handle)?;
        match &mut self.slots[pos].entry {
            Some((stored, value)) if *stored == handle => Some(value),
            _ => None,
        }
    }

    /// Removes and returns the entry. The caller drops it after unlocking.
    pub(crate) fn remove(&mut self, handle: u64) -> Option<T> {
        let handle = self.normalize(handle);
        let pos = self.pos_of(handle)?;
        let slot = &mut self.slots[pos];
        match &slot.entry {
            Some((stored, _)) if *stored == handle => {
                slot.generation = slot.generation.wrapping_add(1);
                self.live -= 1;
                slot.entry.take().map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// Removes every entry, in handle order, and gives the table's chunks
    /// back to the pool (the process is done with them). The caller drops
    /// the entries after unlocking.
    pub(crate) fn drain(&mut self) -> Vec<(u64, T)> {
        let out = std::mem::take(&mut self.slots).into_iter().filter_map(|s| s.entry).collect();
        self.live = 0;
        self.cursor = 0;
        self.release_chunks();
        out
    }

    fn release_chunks(&mut self) {
        self.owner.clear();
        let chunks = std::mem::take(&mut self.chunks);
        if let Numbering::Pool(pool) = &self.numbering {
            pool.give_back(chunks);
        }
    }

    /// Every live `(handle, entry)`, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.slots.iter().filter_map(|s| s.entry.as_ref().map(|(h, v)| (*h, v)))
    }
}

impl<T> Drop for HandleTable<T> {
    fn drop(&mut self) {
        self.release_chunks();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn pool(shape: Shape) -> Arc<ChunkPool> {
        Arc::new(ChunkPool::new(shape))
    }

    fn local(pool: &Arc<ChunkPool>) -> HandleTable<u32> {
        HandleTable::new(Shape::Local, Numbering::Pool(Arc::clone(pool)), HandleReuse::Delayed, u32::MAX)
    }

    #[test]
    fn local_handles_step_by_0x40_and_are_windows_shaped() {
        // WINE #1, #2: nonzero, a top bit set, low 6 bits 0, +0x40 per create.
        let mut t = local(&pool(Shape::Local));
        let a = t.insert(1).unwrap();
        let b = t.insert(2).unwrap();
        assert_eq!(a, 0x4000_0040);
        assert_eq!(b, a + 0x40);
        assert!(LocalHandle(a as u32).is_local_shaped());
        t.remove(b).unwrap();
        let c = t.insert(3).unwrap();
        assert_eq!(c, b + 0x40, "WINE #2: a destroyed value is not reused at once");
    }

    #[test]
    fn stale_and_double_removed_handles_fail() {
        let mut t = local(&pool(Shape::Local));
        let a = t.insert(1).unwrap();
        assert_eq!(t.remove(a), Some(1));
        assert_eq!(t.remove(a), None);
        assert!(t.get(a).is_none());
        // Reuse the slot after a wrap: the old value still fails.
        for _ in 0..2 * MIN_REUSE_DISTANCE {
            let h = t.insert(9).unwrap();
            t.remove(h);
        }
        assert!(t.get(a).is_none());
    }

    #[test]
    fn nt_handles_are_multiples_of_four_without_top_bits() {
        let mut t: HandleTable<u32> =
            HandleTable::new(Shape::Nt, Numbering::Pool(pool(Shape::Nt)), HandleReuse::Delayed, u32::MAX);
        for i in 0..100 {
            let h = t.insert(i).unwrap();
            assert_eq!(h % 4, 0);
            assert_eq!(h & 0xC000_0000, 0, "WINE #5");
            assert_eq!(t.get(h | 1), Some(&i), "tag bits are ignored");
        }
    }

    #[test]
    fn tables_sharing_a_pool_never_share_a_value() {
        let p = pool(Shape::Local);
        let mut tables: Vec<HandleTable<u32>> = (0..8).map(|_| local(&p)).collect();
        let mut seen = std::collections::HashMap::new();
        // Interleaved growth past several chunks each.
        for round in 0..3 * 4096 {
            for (i, t) in tables.iter_mut().enumerate() {
                let h = t.insert(round).unwrap();
                assert_eq!(seen.insert(h, i), None, "{h:#x} handed to two tables");
            }
        }
        for (h, owner) in &seen {
            for (i, t) in tables.iter().enumerate() {
                assert_eq!(t.get(*h).is_some(), i == *owner, "{h:#x} resolves in table {i}");
            }
        }
    }

    #[test]
    fn private_numbering_numbers_every_table_alike() {
        let mut a: HandleTable<u32> =
            HandleTable::new(Shape::Local, Numbering::Private { next: 0 }, HandleReuse::Delayed, u32::MAX);
        let mut b: HandleTable<u32> =
            HandleTable::new(Shape::Local, Numbering::Private { next: 0 }, HandleReuse::Delayed, u32::MAX);
        assert_eq!(a.insert(1).unwrap(), b.insert(2).unwrap());
    }

    #[test]
    fn chunks_return_to_the_pool_when_a_table_goes() {
        let p = pool(Shape::Local);
        let first = {
            let mut t = local(&p);
            t.insert(0).unwrap()
        };
        let mut other = local(&p);
        let h = other.insert(0).unwrap();
        assert_ne!(h, first, "a fresh chunk comes before a returned one");
        let mut exhausted = 0;
        while p.take().is_some() {
            exhausted += 1;
        }
        assert_eq!(exhausted, Shape::Local.chunks() - 2 + 1, "the returned chunk is in the queue");
    }

    #[test]
    fn table_stays_within_twice_the_live_count() {
        let mut t = local(&pool(Shape::Local));
        let keep: Vec<u64> = (0..1000).map(|i| t.insert(i).unwrap()).collect();
        for i in 0..100_000 {
            let h = t.insert(i).unwrap();
            t.remove(h).unwrap();
        }
        assert!(t.slots.len() <= (2 * keep.len() + 2).max(MIN_REUSE_DISTANCE), "len {}", t.slots.len());
        for (i, h) in keep.iter().enumerate() {
            assert_eq!(t.get(*h), Some(&(i as u32)));
        }
    }

    #[test]
    fn never_reuse_fails_when_the_quota_is_spent() {
        let mut t: HandleTable<u32> =
            HandleTable::new(Shape::Local, Numbering::Private { next: 0 }, HandleReuse::Never, 4);
        for i in 0..4 {
            let h = t.insert(i).unwrap();
            t.remove(h);
        }
        assert_eq!(t.insert(5), Err(5));
    }

    #[test]
    fn quota_limits_live_handles() {
        let mut t: HandleTable<u32> =
            HandleTable::new(Shape::Local, Numbering::Private { next: 0 }, HandleReuse::Delayed, 3);
        let hs: Vec<u64> = (0..3).map(|i| t.insert(i).unwrap()).collect();
        assert_eq!(t.insert(9), Err(9));
        t.remove(hs[1]);
        assert!(t.insert(9).is_ok());
    }

    #[test]
    fn garbage_values_name_nothing() {
        let mut t = local(&pool(Shape::Local));
        t.insert(1).unwrap();
        for v in [0u64, 1, 0x40, 0xA5A5_A5A5, 0xFFFF_FFC0, 0x1_0000_0040, u64::MAX] {
            assert!(t.get(v).is_none(), "{v:#x}");
        }
    }
}
