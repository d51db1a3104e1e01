//! NT-handle objects: `D3DKMTShareObjects`, NT-handle close and duplicate,
//! and the kernel's namespace of named objects.
//!
//! `ShareObjects` wraps one object in an NT object (`DxgkSharedSyncObject` for
//! a monitored fence, `DxgkSharedProtectedSessionObject` for a session) and
//! gives the caller an NT handle to it. The wrapper lives while NT handles to
//! it exist, in any process; it holds one reference to the wrapped object, so
//! the object outlives every D3DKMT handle while an NT handle exists
//! (WINE #95). A name given in the object attributes lives as long as the
//! wrapper (WINE #100), and is matched case-insensitively.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use crate::error::{KResult, KernelError};
use crate::handle::{LocalHandle, NtHandle};
use crate::kernel::KernelInner;
use crate::live::{LiveToken, ObjectKind};
use crate::policy::DuplicateAccess;
use crate::process::{LocalEntry, Process, ProcessState};
use crate::session::ProtectedSession;
use crate::sync::{Graveyard, Mutex};
use crate::sync_object::SyncObject;

/// Access rights and the generic mapping for D3DKMT NT objects.
pub mod access {
    /// `READ_CONTROL`, which `STANDARD_RIGHTS_READ`, `_WRITE` and `_EXECUTE`
    /// all equal: needed to open or query through an NT handle.
    pub const READ_CONTROL: u32 = 0x0002_0000;
    /// `STANDARD_RIGHTS_REQUIRED`.
    pub const STANDARD_RIGHTS_REQUIRED: u32 = 0x000F_0000;
    /// `SYNCHRONIZE`.
    pub const SYNCHRONIZE: u32 = 0x0010_0000;
    /// `D3DDDI_SYNC_OBJECT_WAIT`: handles opened from it may wait.
    pub const SYNC_WAIT: u32 = 0x1;
    /// `D3DDDI_SYNC_OBJECT_SIGNAL`: handles opened from it may signal.
    pub const SYNC_SIGNAL: u32 = 0x2;
    /// `D3DDDI_SYNC_OBJECT_ALL_ACCESS` (missing from windows-sys).
    pub const SYNC_ALL_ACCESS: u32 = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | SYNC_WAIT | SYNC_SIGNAL;
    /// All access to a shared protected session: it has no specific rights.
    pub const SESSION_ALL_ACCESS: u32 = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE;
    /// `SHARED_ALLOCATION_WRITE`: handles opened from it may write.
    pub const SHARED_ALLOCATION_WRITE: u32 = 0x1;
    /// All access to a `DxgkSharedResource`.
    pub const RESOURCE_ALL_ACCESS: u32 = STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | SHARED_ALLOCATION_WRITE;
    /// `GENERIC_READ`.
    pub const GENERIC_READ: u32 = 0x8000_0000;
    /// `GENERIC_WRITE`.
    pub const GENERIC_WRITE: u32 = 0x4000_0000;
    /// `GENERIC_EXECUTE`.
    pub const GENERIC_EXECUTE: u32 = 0x2000_0000;
    /// `GENERIC_ALL`.
    pub const GENERIC_ALL: u32 = 0x1000_0000;
    /// `MAXIMUM_ALLOWED`.
    pub const MAXIMUM_ALLOWED: u32 = 0x0200_0000;

    /// Maps generic rights to specific ones, as the object type's generic
    /// mapping does: read → read + wait, write → read + signal, execute →
    /// read + synchronize, all and `MAXIMUM_ALLOWED` → all access.
    pub fn map_generic(mask: u32, all_access: u32, wait: u32, signal: u32) -> u32 {
        let mut out = mask & !(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL | MAXIMUM_ALLOWED);
        if mask & GENERIC_READ != 0 {
            out |= READ_CONTROL | wait;
        }
        if mask & GENERIC_WRITE != 0 {
            out |= READ_CONTROL | signal;
        }
        if mask & GENERIC_EXECUTE != 0 {
            out |= READ_CONTROL | SYNCHRONIZE;
        }
        if mask & (GENERIC_ALL | MAXIMUM_ALLOWED) != 0 {
            out |= all_access;
        }
        out & all_access
    }
}

/// What an NT object wraps. Each variant owns one reference.
pub(crate) enum NtObjectKind {
    SyncObject(Arc<SyncObject>),
    ProtectedSession(Arc<ProtectedSession>),
    /// A resource, alone or with its keyed mutex and sync object.
    Resource(crate::resource::SharedResource),
}

impl NtObjectKind {
    pub(crate) const SYNC_OBJECT: &'static str = "DxgkSharedSyncObject";
    pub(crate) const PROTECTED_SESSION: &'static str = "DxgkSharedProtectedSessionObject";
    pub(crate) const RESOURCE: &'static str = "DxgkSharedResource";

    /// The NT object type name, as `NtQueryObject` reports it.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            NtObjectKind::SyncObject(_) => Self::SYNC_OBJECT,
            NtObjectKind::ProtectedSession(_) => Self::PROTECTED_SESSION,
            NtObjectKind::Resource(_) => Self::RESOURCE,
        }
    }

    pub(crate) fn map_generic(&self, mask: u32) -> u32 {
        match self {
            NtObjectKind::SyncObject(_) => {
                access::map_generic(mask, access::SYNC_ALL_ACCESS, access::SYNC_WAIT, access::SYNC_SIGNAL)
            }
            NtObjectKind::ProtectedSession(_) => access::map_generic(mask, access::SESSION_ALL_ACCESS, 0, 0),
            NtObjectKind::Resource(_) => {
                access::map_generic(mask, access::RESOURCE_ALL_ACCESS, 0, access::SHARED_ALLOCATION_WRITE)
            }
        }
    }
}

/// An NT object. Lives while NT handles to it exist.
pub(crate) struct NtObject {
    pub(crate) kind: NtObjectKind,
    /// The namespace key: the name case-folded.
    name: Option<String>,
    /// The name exactly as given, as `NtQueryObject` reports it (WINE #93).
    given_name: Option<String>,
    namespace: Weak<Namespace>,
    pub(crate) _live: LiveToken,
}

impl Drop for NtObject {
    fn drop(&mut self) {
        if let (Some(name), Some(namespace)) = (&self.name, self.namespace.upgrade()) {
            let mut names = namespace.names.lock();
            // Only if the name is still ours: it cannot be anyone else's while
            // we live, but the check keeps that an invariant, not a hope.
            if names.get(name).is_some_and(|w| w.strong_count() == 0) {
                names.remove(name);
            }
        }
    }
}

/// The kernel's named objects, by case-folded name.
#[derive(Default)]
pub(crate) struct Namespace {
    names: Mutex<HashMap<String, Weak<NtObject>>>,
}

impl Namespace {
    /// The live object named `name` (case-insensitively), with a new
    /// reference. Its caller must drop that reference with no lock held.
    pub(crate) fn lookup(&self, name: &str) -> Option<Arc<NtObject>> {
        self.names.lock().get(&fold(name)).and_then(Weak::upgrade)
    }
}

fn fold(name: &str) -> String {
    name.chars().flat_map(char::to_uppercase).collect()
}

/// An NT handle's table entry: the object and the access granted.
pub(crate) struct NtEntry {
    pub(crate) object: Arc<NtObject>,
    pub(crate) access: u32,
}

impl ProcessState {
    /// The NT object a handle names, if of type `expected`, with the access
    /// granted to the handle. The reference is a new one.
    pub(crate) fn nt_object(
        &self,
        nt: NtHandle,
        kernel: &KernelInner,
        expected: &'static str,
    ) -> KResult<(Arc<NtObject>, u32)> {
        let entry = self.nt.get(nt.0).ok_or(KernelError::BadNtHandle(nt.0))?;
        let found = entry.object.kind.type_name();
        if found != expected {
            return Err(KernelError::WrongNtObjectType {
                expected,
                found,
                status: kernel.policies.wrong_nt_object_type,
            });
        }
        Ok((Arc::clone(&entry.object), entry.access))
    }
}

/// Options of [`Process::duplicate_nt_handle`], as `DuplicateHandle`'s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DuplicateOptions {
    /// `DUPLICATE_CLOSE_SOURCE` (1): close the source handle, even if the
    /// duplicate fails.
    pub close_source: bool,
    /// `DUPLICATE_SAME_ACCESS` (2): ignore the access asked for and copy the
    /// source handle's.
    pub same_access: bool,
}

impl DuplicateOptions {
    /// Decodes `DUPLICATE_*` bits; unknown bits are `STATUS_INVALID_PARAMETER`.
    pub fn from_bits(bits: u32) -> KResult<DuplicateOptions> {
        if bits & !0x7 != 0 {
            return Err(KernelError::InvalidParameter("unknown DUPLICATE_* option"));
        }
        Ok(DuplicateOptions { close_source: bits & 1 != 0, same_access: bits & 2 != 0 })
    }
}

impl Process {
    /// `D3DKMTShareObjects` for one object: a monitored fence created with
    /// `NtSecuritySharing`, or a protected session. Returns a new NT handle in
    /// this process with `access` (generic rights mapped).
    ///
    /// Anything else (more objects, a fence not NT-shareable, a stale handle)
    /// is `STATUS_INVALID_PARAMETER` (WINE #92, #96); resources and keyed
    /// mutexes arrive with the object-model issue. A name already in use is
    /// `STATUS_OBJECT_NAME_COLLISION`.
    pub fn share_objects(&self, objects: &[LocalHandle], name: Option<&str>, access: u32) -> KResult<NtHandle> {
        if objects.is_empty() || objects.len() > 3 {
            return Err(KernelError::InvalidParameter("cObjects must be 1 to 3"));
        }
        let kind = {
            let state = self.lock_live()?;
            if let Some(kind) = state.resource_share(objects) {
                kind?
            } else {
                let mut kinds = Vec::with_capacity(objects.len());
                for h in objects {
                    kinds.push(match state.local.get(h.0 as u64) {
                        Some(LocalEntry::SyncObject(s)) => {
                            if !s.object.nt_shareable {
                                return Err(KernelError::InvalidParameter("sync object not created NtSecuritySharing"));
                            }
                            NtObjectKind::SyncObject(Arc::clone(&s.object))
                        }
                        Some(LocalEntry::ProtectedSession(s)) => NtObjectKind::ProtectedSession(Arc::clone(&s.session)),
                        _ => return Err(KernelError::BadLocalHandle { handle: h.0, expected: "shareable object" }),
                    });
                }
                if kinds.len() != 1 {
                    return Err(KernelError::InvalidParameter("only (resource, keyed mutex, sync) shares together"));
                }
                kinds.pop().expect("one kind")
            }
        };
        let kernel = self.kernel_inner();
        let granted = kind.map_generic(access);
        let object = Arc::new(NtObject {
            kind,
            name: name.map(fold),
            given_name: name.map(str::to_string),
            namespace: Arc::downgrade(&kernel.namespace),
            _live: LiveToken::new(&self.0.live, ObjectKind::NtObject),
        });
        if let Some(key) = &object.name {
            let mut names = kernel.namespace.names.lock();
            if names.get(key).is_some_and(|w| w.strong_count() > 0) {
                drop(names);
                // Our drop leaves the other object's name alone: it only
                // removes a name whose object is dead.
                drop(object);
                return Err(KernelError::NameCollision);
            }
            names.insert(key.clone(), Arc::downgrade(&object));
        }
        let mut graveyard = Graveyard::default();
        let mut state = self.lock_live()?;
        state.insert_nt(NtEntry { object, access: granted }, &mut graveyard)
    }

    /// `CloseHandle` on an NT handle of this process. A handle that is not
    /// open here is `STATUS_INVALID_HANDLE`.
    pub fn close_nt_handle(&self, nt: NtHandle) -> KResult<()> {
        let mut state = self.lock_live()?;
        let entry = state.nt.remove(nt.0).ok_or(KernelError::BadNtHandle(nt.0))?;
        drop(state);
        drop(entry);
        Ok(())
    }

    /// `DuplicateHandle` from this process to `target` (which may be this
    /// process): a new NT handle in `target` to the same object.
    ///
    /// The new handle has the source's access with `same_access`, else
    /// `access` with generic rights mapped, limited by
    /// [`crate::Policies::duplicate_access`]. With `close_source` the source
    /// handle is closed whatever the outcome, as Windows does.
    pub fn duplicate_nt_handle(
        &self,
        nt: NtHandle,
        target: &Process,
        access: u32,
        options: DuplicateOptions,
    ) -> KResult<NtHandle> {
        if !Arc::ptr_eq(&self.0.kernel, &target.0.kernel) {
            if options.close_source {
                // Closed whatever the outcome, as Windows does.
                let _ = self.close_nt_handle(nt);
            }
            return Err(KernelError::InvalidParameter("processes belong to different kernels"));
        }
        let mut graveyard = Graveyard::default();
        let mut objects = Graveyard::default();
        let mut closed = None;
        let same = Arc::ptr_eq(&self.0, &target.0);
        // Lock order between two processes: lower pid first.
        let (mut source_state, mut target_state) = if same {
            (self.0.state.lock(), None)
        } else if self.0.pid < target.0.pid {
            let s = self.0.state.lock();
            (s, Some(target.0.state.lock()))
        } else {
            let t = target.0.state.lock();
            (self.0.state.lock(), Some(t))
        };
        if source_state.exited {
            return Err(KernelError::ProcessExited);
        }
        let source = source_state.nt.get(nt.0).ok_or(KernelError::BadNtHandle(nt.0))?;
        let (object, source_access) = (Arc::clone(&source.object), source.access);
        if options.close_source {
            closed = source_state.nt.remove(nt.0);
        }
        let granted = if options.same_access { source_access } else { object.kind.map_generic(access) };
        let policy = self.kernel_inner().policies.duplicate_access;
        let result = if policy == DuplicateAccess::SubsetOfSource && granted & !source_access != 0 {
            objects.bury(object);
            Err(KernelError::AccessDenied("duplicate asks for more access than the source has"))
        } else {
            let target_state = target_state.as_deref_mut().unwrap_or(&mut source_state);
            if target_state.exited {
                objects.bury(object);
                Err(KernelError::ProcessExited)
            } else {
                target_state.insert_nt(NtEntry { object, access: granted }, &mut graveyard)
            }
        };
        drop(target_state);
        drop(source_state);
        drop(closed);
        result
    }

    /// The NT object type name of an NT handle of this process, as
    /// `NtQueryObject(ObjectTypeInformation)` reports it.
    pub fn nt_handle_type_name(&self, nt: NtHandle) -> KResult<&'static str> {
        let state = self.lock_live()?;
        Ok(state.nt.get(nt.0).ok_or(KernelError::BadNtHandle(nt.0))?.object.kind.type_name())
    }

    /// The object name of an NT handle of this process, exactly as it was
    /// given to `D3DKMTShareObjects`, as `NtQueryObject(ObjectNameInformation)`
    /// reports it (WINE #93); `None` for an unnamed object.
    pub fn nt_object_name(&self, nt: NtHandle) -> KResult<Option<String>> {
        let state = self.lock_live()?;
        Ok(state.nt.get(nt.0).ok_or(KernelError::BadNtHandle(nt.0))?.object.given_name.clone())
    }

    /// The access granted to an NT handle of this process.
    pub fn nt_handle_access(&self, nt: NtHandle) -> KResult<u32> {
        let state = self.lock_live()?;
        Ok(state.nt.get(nt.0).ok_or(KernelError::BadNtHandle(nt.0))?.access)
    }
}
