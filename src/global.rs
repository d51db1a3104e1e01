//! Global (KMT-style) share handles: the kernel-wide names that
//! `D3DKMTCreateSynchronizationObject(2)` with `Shared`, `D3DKMTCreateKeyedMutex(2)`
//! and `D3DKMTCreateAllocation(2)` with `CreateShared` hand out, and that
//! `D3DKMTOpenSynchronizationObject`, `D3DKMTOpenKeyedMutex(2)`,
//! `D3DKMTQueryResourceInfo` and `D3DKMTOpenResource(2)` take.
//!
//! What Windows does, and what we do:
//! - A global handle has a bit of 0xC0000000 set and its low 6 bits equal 2
//!   (WINE #3); ours are `unique << 30 | index << 6 | 2`, from one
//!   kernel-wide table, so they never collide with local or NT handles.
//! - It is a name, not a reference: it stays openable while anything else
//!   (a local handle in any process, an NT-handle object) keeps the object
//!   alive, and fails with `STATUS_INVALID_PARAMETER` once the last such
//!   reference is gone (WINE #6, #7, #51, #59). So the table holds a `Weak`,
//!   and the object holds the [`GlobalName`] whose drop removes the entry.
//! - It cannot be destroyed or closed directly (WINE #49, #58): no export
//!   takes one where a local handle is expected, and the local-handle tables
//!   reject its shape.
//!
//! Lock order: the table's lock is taken after any process or handle-table
//! lock and is never held while an object is dropped: [`GlobalTable::open`]
//! upgrades under the lock and returns the `Arc` after unlocking, and
//! [`GlobalName`]'s drop (run when the object dies) takes the lock itself.

#![allow(dead_code, reason = "its users, shared sync objects, keyed mutexes and resources, are being added")]

use std::any::Any;
use std::sync::{Arc, Weak};

use crate::error::{KResult, KernelError};
use crate::handle::{HandleTable, Numbering, Shape};
use crate::policy::HandleReuse;
use crate::sync::Mutex;

/// What a global handle names. An open asks for one kind; a global handle
/// of another kind is `STATUS_INVALID_PARAMETER`, as a stale one is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GlobalKind {
    /// A synchronization object created with `Shared` (not `NtSecuritySharing`).
    SyncObject,
    /// A keyed mutex.
    KeyedMutex,
    /// A resource created with `CreateShared` (not `NtSecuritySharing`).
    Resource,
}

impl GlobalKind {
    /// The kind's name, for messages.
    pub const fn name(self) -> &'static str {
        match self {
            GlobalKind::SyncObject => "synchronization object",
            GlobalKind::KeyedMutex => "keyed mutex",
            GlobalKind::Resource => "resource",
        }
    }
}

struct GlobalEntry {
    kind: GlobalKind,
    object: Weak<dyn Any + Send + Sync>,
}

/// The kernel's global handles.
pub(crate) struct GlobalTable {
    table: Mutex<HandleTable<GlobalEntry>>,
}

impl Default for GlobalTable {
    fn default() -> Self {
        GlobalTable {
            table: Mutex::new(HandleTable::new(
                Shape::Global,
                Numbering::Private { next: 0 },
                HandleReuse::Delayed,
                u32::MAX,
            )),
        }
    }
}

impl GlobalTable {
    /// Gives `object` (being built by `Arc::new_cyclic`) a global handle.
    /// Until the `Arc` exists the entry's `Weak` does not upgrade, so an
    /// open racing the create sees `STATUS_INVALID_PARAMETER`.
    pub(crate) fn register<T: Any + Send + Sync>(
        self: &Arc<Self>,
        kind: GlobalKind,
        object: &Weak<T>,
    ) -> KResult<GlobalName> {
        let object: Weak<dyn Any + Send + Sync> = object.clone();
        let handle = self.table.lock().insert(GlobalEntry { kind, object }).map_err(|_| KernelError::TableFull)?;
        Ok(GlobalName { table: Arc::downgrade(self), handle: handle as u32 })
    }

    /// The live object a global handle names, if it is of `kind`.
    ///
    /// Errors: `KernelError::BadGlobalHandle` (`STATUS_INVALID_PARAMETER`)
    /// for a value that is not global-shaped, names nothing, names another
    /// kind, or names an object whose last reference is gone.
    pub(crate) fn open<T: Any + Send + Sync>(&self, handle: u32, kind: GlobalKind) -> KResult<Arc<T>> {
        let bad = KernelError::BadGlobalHandle { handle, expected: kind.name() };
        let object = {
            let table = self.table.lock();
            let entry = table.get(u64::from(handle)).filter(|e| e.kind == kind).ok_or(bad)?;
            entry.object.upgrade()
        };
        // The lock is released: if this was the last reference (it was
        // dropped between the upgrade and here), its drop may take the lock.
        object.ok_or(bad)?.downcast::<T>().map_err(|_| bad)
    }

    /// Live global handles (for leak reports and tests).
    pub(crate) fn len(&self) -> usize {
        self.table.lock().len()
    }
}

/// An object's global handle. The object owns it; dropping it (when the
/// object dies) removes the handle from the table.
pub(crate) struct GlobalName {
    table: Weak<GlobalTable>,
    handle: u32,
}

impl GlobalName {
    /// The `D3DKMT_HANDLE` value.
    pub(crate) fn handle(&self) -> u32 {
        self.handle
    }
}

impl std::fmt::Debug for GlobalName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GlobalName({:#010x})", self.handle)
    }
}

impl Drop for GlobalName {
    fn drop(&mut self) {
        if let Some(table) = self.table.upgrade() {
            // The removed entry holds only a Weak: dropping it here, under
            // the lock, drops no object.
            let _ = table.table.lock().remove(u64::from(self.handle));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing(#[allow(dead_code)] GlobalName);

    #[test]
    fn a_global_handle_lives_exactly_as_long_as_its_object() {
        let table = Arc::new(GlobalTable::default());
        let thing = Arc::new_cyclic(|w| Thing(table.register(GlobalKind::Resource, w).unwrap()));
        let h = thing.0.handle();
        assert_eq!(h & 0x3F, 2, "WINE #3: low 6 bits 2");
        assert_ne!(h & 0xC000_0000, 0, "WINE #3: a bit of 0xC0000000");
        let opened: Arc<Thing> = table.open(h, GlobalKind::Resource).unwrap();
        assert!(Arc::ptr_eq(&opened, &thing));
        assert!(table.open::<Thing>(h, GlobalKind::KeyedMutex).is_err(), "wrong kind");
        assert!(table.open::<Thing>(h & !0x3F, GlobalKind::Resource).is_err(), "local-shaped value");
        drop((opened, thing));
        assert!(table.open::<Thing>(h, GlobalKind::Resource).is_err(), "WINE #7: gone with the last reference");
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn each_object_gets_a_distinct_handle() {
        let table = Arc::new(GlobalTable::default());
        let a = Arc::new_cyclic(|w| Thing(table.register(GlobalKind::SyncObject, w).unwrap()));
        let b = Arc::new_cyclic(|w| Thing(table.register(GlobalKind::SyncObject, w).unwrap()));
        assert_ne!(a.0.handle(), b.0.handle(), "WINE #48");
    }
}
