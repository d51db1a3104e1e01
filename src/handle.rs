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
}

impl Shape {
    /// How many distinct indices exist (index 0 is never used).
    const fn index_space(self) -> u32 {
        match self {
            Shape::Local => (1 << 24) - 1,
            Shape::Nt => (1 << 28) - 1,
        }
    }

    /// Where process `pid`'s numbering starts, so that the handles of two
    /// processes differ and one leaked across processes fails.
    fn start_offset(self, pid: u32, numbering: HandleNumbering) -> u32 {
        match numbering {
            HandleNumbering::Shared => 0,
            HandleNumbering::PerProcessRanges => {
                let stride = match self {
                    Shape::Local => 0x1_0000,
                    Shape::Nt => 0x100,
                };
                (pid.wrapping_sub(1).wrapping_mul(stride)) % self.index_space()
            }
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
    offset: u32,
    shape: Shape,
    reuse: HandleReuse,
    capacity: usize,
}

impl<T> HandleTable<T> {
    pub(crate) fn new(shape: Shape, pid: u32, numbering: HandleNumbering, reuse: HandleReuse, quota: u32) -> Self {
        HandleTable {
            slots: Vec::new(),
            cursor: 0,
            live: 0,
            offset: shape.start_offset(pid, numbering),
            shape,
            reuse,
            capacity: quota.min(shape.index_space()) as usize,
        }
    }

    /// Live entries.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    fn value_of(&self, pos: usize, generation: u32) -> u64 {
        // offset < space and pos < space, so one subtraction replaces a `%`.
        let space = self.shape.index_space() as u64;
        let mut index = self.offset as u64 + pos as u64;
        if index >= space {
            index -= space;
        }
        let index = index + 1;
        match self.shape {
            Shape::Local => (((generation % 3) + 1) as u64) << 30 | index << 6,
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
            // The low two bits of an NT handle are tag bits Windows ignores.
            Shape::Nt => (value & !3) >> 2,
        };
        let space = self.shape.index_space() as u64;
        if index == 0 || index > space {
            return None;
        }
        // index - 1 < space and offset < space: one conditional subtraction.
        let mut pos = index - 1 + space - self.offset as u64;
        if pos >= space {
            pos -= space;
        }
        ((pos as usize) < self.slots.len()).then_some(pos as usize)
    }

    /// Stores `value` under a new handle, or gives it back if the table is full.
    pub(crate) fn insert(&mut self, value: T) -> Result<u64, T> {
        let grow_ok = |this: &Self| this.slots.len() < this.capacity;
        let mut scanned = 0usize;
        loop {
            if self.cursor >= self.slots.len() {
                let must_grow = self.reuse == HandleReuse::Never
                    || self.live * 2 >= self.slots.len()
                    || self.slots.len() < MIN_REUSE_DISTANCE;
                if must_grow && grow_ok(self) {
                    self.slots.push(Slot { generation: 0, entry: None });
                } else if self.reuse == HandleReuse::Never || self.live >= self.slots.len() {
                    return Err(value);
                } else {
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
            Shape::Local => handle,
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

    /// Removes every entry, in handle order. The caller drops them after unlocking.
    pub(crate) fn drain(&mut self) -> Vec<(u64, T)> {
        let mut out = Vec::with_capacity(self.live);
        for slot in &mut self.slots {
            if let Some(entry) = slot.entry.take() {
                slot.generation = slot.generation.wrapping_add(1);
                out.push(entry);
            }
        }
        self.live = 0;
        out
    }

    /// Every live `(handle, entry)`, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.slots.iter().filter_map(|s| s.entry.as_ref().map(|(h, v)| (*h, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(pid: u32) -> HandleTable<u32> {
        HandleTable::new(Shape::Local, pid, HandleNumbering::PerProcessRanges, HandleReuse::Delayed, u32::MAX)
    }

    #[test]
    fn local_handles_step_by_0x40_and_are_windows_shaped() {
        // WINE #1, #2: nonzero, a top bit set, low 6 bits 0, +0x40 per create.
        let mut t = local(1);
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
        let mut t = local(1);
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
            HandleTable::new(Shape::Nt, 7, HandleNumbering::PerProcessRanges, HandleReuse::Delayed, u32::MAX);
        for i in 0..100 {
            let h = t.insert(i).unwrap();
            assert_eq!(h % 4, 0);
            assert_eq!(h & 0xC000_0000, 0, "WINE #5");
            assert_eq!(t.get(h | 1), Some(&i), "tag bits are ignored");
        }
    }

    #[test]
    fn processes_number_differently_by_default() {
        let mut a = local(1);
        let mut b = local(2);
        let ha = a.insert(0).unwrap();
        let hb = b.insert(0).unwrap();
        assert_ne!(ha, hb);
        assert!(b.get(ha).is_none());
    }

    #[test]
    fn table_stays_within_twice_the_live_count() {
        let mut t = local(1);
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
    fn numbering_wraps_round_the_index_space() {
        // Process 256 starts 0xFFFF indices before the end of the space.
        let mut t = local(256);
        let handles: Vec<u64> = (0..70_000).map(|i| t.insert(i).unwrap()).collect();
        let distinct: std::collections::HashSet<u64> = handles.iter().copied().collect();
        assert_eq!(distinct.len(), handles.len());
        for (i, h) in handles.iter().enumerate() {
            assert!(LocalHandle(*h as u32).is_local_shaped(), "{h:#x}");
            assert_eq!(t.get(*h), Some(&(i as u32)));
        }
    }

    #[test]
    fn never_reuse_fails_when_the_quota_is_spent() {
        let mut t: HandleTable<u32> = HandleTable::new(Shape::Local, 1, HandleNumbering::Shared, HandleReuse::Never, 4);
        for i in 0..4 {
            let h = t.insert(i).unwrap();
            t.remove(h);
        }
        assert_eq!(t.insert(5), Err(5));
    }

    #[test]
    fn quota_limits_live_handles() {
        let mut t: HandleTable<u32> =
            HandleTable::new(Shape::Local, 1, HandleNumbering::Shared, HandleReuse::Delayed, 3);
        let hs: Vec<u64> = (0..3).map(|i| t.insert(i).unwrap()).collect();
        assert_eq!(t.insert(9), Err(9));
        t.remove(hs[1]);
        assert!(t.insert(9).is_ok());
    }
}
