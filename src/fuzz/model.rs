//! The reference model: the kernel's bookkeeping, small and obviously right.
//!
//! The model knows which handles exist in which process and what each names,
//! what NT objects and names exist, which global handles were handed out,
//! each fence's value, each session's status and each keyed mutex's state.
//! Objects are not reference counted by hand: an object is alive exactly
//! while something reaches it (a handle of a process that has not exited, an
//! NT handle's object, or a session for its status fence); [`Model::alive`]
//! recomputes that from scratch, so the model cannot leak or double-free.
//!
//! The model assumes [`crate::Policies::default`] and the default adapter
//! (one, with protected sessions), and the default KMD (creates succeed).
//! Each `expect_*` function says which status Windows (and so the kernel)
//! answers for the given raw arguments; each `apply_*` function records what
//! a successful call did, given the outputs the kernel returned.
//!
//! Windows facts the model encodes (numbers from the project's Wine facts):
//! a bad or stale D3DKMT handle is `STATUS_INVALID_PARAMETER` (WINE #42,
//! #44, #45, #57), and so is a global handle of nothing live (WINE #50, #51,
//! #56, #59); a dead process keeps nothing alive (WINE #6); only
//! NT-shareable objects share (WINE #92, #96); an NT handle keeps its object
//! alive and a closed one is `STATUS_INVALID_HANDLE` (WINE #95, #99); names
//! fold case and live while an NT handle to their object does (WINE #100).
//! The rest are the kernel's named policies, at their defaults.

use std::collections::BTreeMap;

use crate::{NtStatus, ObjectKind, SessionStatus};

use super::ops::PROCESSES;

/// A model object id.
pub type ObjId = usize;
/// A model NT object id.
pub type NtId = usize;

/// A keyed mutex's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyedMutexState {
    /// Released with this key and fence value (what the next acquirer gets).
    Released {
        /// The key.
        key: u64,
        /// The fence value.
        fence: u64,
    },
    /// Owned through this handle of this process.
    Owned {
        /// The owning process.
        process: usize,
        /// The owning handle.
        handle: u32,
    },
    /// Its owner went away holding it.
    Abandoned,
}

/// What a model object is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Object {
    /// The adapter (never counted as a live object).
    Adapter,
    /// A device; `lost` once the KMD removed it.
    Device {
        /// Removed by the KMD.
        lost: bool,
    },
    /// A monitored fence.
    Fence {
        /// Created `Shared | NtSecuritySharing`.
        nt_shareable: bool,
        /// Its value.
        value: u64,
        /// Where its value can be read (`FenceValueCPUVirtualAddress`), as
        /// created: every handle opened to it must report the same address.
        cpu_va: u64,
    },
    /// A sync mutex.
    SyncMutex {
        /// Its global handle, if created `Shared`.
        global: Option<u32>,
    },
    /// A protected session.
    Session {
        /// Its status fence.
        fence: ObjId,
        /// Its status.
        status: SessionStatus,
        /// The kernel's key for it.
        key: u64,
    },
    /// A GPU context (virtual).
    Context,
    /// A keyed mutex.
    KeyedMutex {
        /// Its global handle, if it has one.
        global: Option<u32>,
        /// Its state.
        state: KeyedMutexState,
    },
}

/// What a D3DKMT handle holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalRef {
    /// The object.
    pub obj: ObjId,
    /// The device handle it is a child of (destroyed with it).
    pub device: Option<u32>,
    /// May signal (sync objects).
    pub can_signal: bool,
    /// May wait (sync objects).
    pub can_wait: bool,
}

/// What an NT handle holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NtRef {
    /// The NT object.
    pub nt: NtId,
    /// Granted `STANDARD_RIGHTS_READ`.
    pub read: bool,
    /// Granted `D3DDDI_SYNC_OBJECT_WAIT`.
    pub wait: bool,
    /// Granted `D3DDDI_SYNC_OBJECT_SIGNAL`.
    pub signal: bool,
}

/// An NT object: what it wraps, and its name (case-folded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NtObject {
    /// The wrapped object.
    pub target: ObjId,
    /// The case-folded name, if named.
    pub name: Option<String>,
}

/// One virtual process's view.
#[derive(Clone, Debug, Default)]
pub struct ModelProcess {
    /// Exited.
    pub exited: bool,
    /// D3DKMT handles.
    pub local: BTreeMap<u32, LocalRef>,
    /// NT handles.
    pub nt: BTreeMap<u64, NtRef>,
    /// D3DKMT handle values this process has closed (most recent last, bounded).
    pub stale_local: Vec<u32>,
    /// NT handle values this process has closed.
    pub stale_nt: Vec<u64>,
}

/// What the model says a call answers.
pub type Expect = NtStatus;

/// The reference model.
#[derive(Clone, Debug)]
pub struct Model {
    /// The processes.
    pub procs: Vec<ModelProcess>,
    /// Every object ever created (dead ones stay, unreachable).
    pub objects: Vec<Object>,
    /// Every NT object ever created.
    pub nts: Vec<NtObject>,
    /// Every global handle ever handed out, and its object.
    pub globals: Vec<(u32, ObjId)>,
    /// Every session ever created.
    pub sessions: Vec<ObjId>,
    /// Armed one-shot faults not yet fired: (process, entry, status).
    pub faults: Vec<(usize, crate::Entry, NtStatus)>,
}

impl Default for Model {
    fn default() -> Self {
        Model::new()
    }
}

/// Object liveness, recomputed from the references.
#[derive(Clone, Debug)]
pub struct Alive {
    /// Per object.
    pub objects: Vec<bool>,
    /// Per NT object.
    pub nts: Vec<bool>,
}

const STALE_KEEP: usize = 16;

/// The names ops may use (by index, modulo the count); case differs between
/// some, as names match case-insensitively.
pub const NAMES: [&str; 4] = [
    "\\BaseNamedObjects\\FuzzA",
    "\\BaseNamedObjects\\fuzza",
    "\\BaseNamedObjects\\FuzzB",
    "\\BaseNamedObjects\\FuzzC",
];

impl Model {
    /// A model of a kernel with [`PROCESSES`] fresh processes.
    pub fn new() -> Model {
        Model {
            procs: vec![ModelProcess::default(); PROCESSES],
            objects: vec![Object::Adapter],
            nts: Vec::new(),
            globals: Vec::new(),
            sessions: Vec::new(),
            faults: Vec::new(),
        }
    }

    /// Whether a fault for (`p`, `entry`) is pending.
    pub fn fault_pending(&self, p: usize, entry: crate::Entry) -> bool {
        self.faults.iter().any(|(fp, e, _)| *fp == p && *e == entry)
    }

    /// A call of `entry` as `p` is made: the injected status, if a pending
    /// fault fires for it (it is then spent). A call made as an exited
    /// process fails before the fault point and spends nothing.
    pub fn take_fault(&mut self, p: usize, entry: crate::Entry) -> Option<NtStatus> {
        if self.exited(p) {
            return None;
        }
        let at = self.faults.iter().position(|(fp, e, _)| *fp == p && *e == entry)?;
        Some(self.faults.remove(at).2)
    }

    /// Which objects and NT objects are alive.
    pub fn alive(&self) -> Alive {
        let mut objects = vec![false; self.objects.len()];
        let mut nts = vec![false; self.nts.len()];
        for p in self.procs.iter().filter(|p| !p.exited) {
            for r in p.local.values() {
                objects[r.obj] = true;
            }
            for r in p.nt.values() {
                nts[r.nt] = true;
            }
        }
        for (n, alive) in nts.iter().enumerate() {
            if *alive {
                objects[self.nts[n].target] = true;
            }
        }
        // Sessions hold their status fence (a fence holds nothing).
        for o in 0..self.objects.len() {
            if let (true, Object::Session { fence, .. }) = (objects[o], &self.objects[o]) {
                objects[*fence] = true;
            }
        }
        Alive { objects, nts }
    }

    /// How many objects of `kind` the model says are alive.
    pub fn count(&self, alive: &Alive, kind: ObjectKind) -> i64 {
        if kind == ObjectKind::NtObject {
            return alive.nts.iter().filter(|a| **a).count() as i64;
        }
        let n = self
            .objects
            .iter()
            .zip(&alive.objects)
            .filter(|(o, a)| {
                **a && matches!(
                    (kind, o),
                    (ObjectKind::Device, Object::Device { .. })
                        | (ObjectKind::SyncObject, Object::Fence { .. } | Object::SyncMutex { .. })
                        | (ObjectKind::ProtectedSession, Object::Session { .. })
                        | (ObjectKind::KeyedMutex, Object::KeyedMutex { .. })
                        | (ObjectKind::Context, Object::Context)
                )
            })
            .count();
        n as i64
    }

    /// How many objects of each kind (indexed by `ObjectKind as usize`) the
    /// model says are alive, in one pass.
    pub fn counts(&self, alive: &Alive) -> [i64; ObjectKind::ALL.len()] {
        let mut counts = [0i64; ObjectKind::ALL.len()];
        counts[ObjectKind::NtObject as usize] = alive.nts.iter().filter(|a| **a).count() as i64;
        for (o, a) in self.objects.iter().zip(&alive.objects) {
            let kind = match o {
                _ if !*a => continue,
                Object::Adapter => continue,
                Object::Device { .. } => ObjectKind::Device,
                Object::Fence { .. } | Object::SyncMutex { .. } => ObjectKind::SyncObject,
                Object::Session { .. } => ObjectKind::ProtectedSession,
                Object::KeyedMutex { .. } => ObjectKind::KeyedMutex,
                Object::Context => ObjectKind::Context,
            };
            counts[kind as usize] += 1;
        }
        counts
    }

    /// How many live objects have a global handle.
    pub fn live_globals(&self, alive: &Alive) -> usize {
        self.globals.iter().filter(|(_, o)| alive.objects[*o]).count()
    }

    fn obj_of(&self, p: usize, h: u32) -> Option<(LocalRef, &Object)> {
        let r = *self.procs[p].local.get(&h)?;
        Some((r, &self.objects[r.obj]))
    }

    fn new_obj(&mut self, o: Object) -> ObjId {
        self.objects.push(o);
        self.objects.len() - 1
    }

    /// Checks a new handle value does not alias a live one, then adds it.
    fn insert_local(&mut self, p: usize, h: u32, r: LocalRef) -> Result<(), String> {
        if h == 0 || self.procs[p].local.contains_key(&h) {
            return Err(format!("new D3DKMT handle {h:#x} in process {p} is 0 or aliases a live handle"));
        }
        self.procs[p].local.insert(h, r);
        Ok(())
    }

    fn insert_nt(&mut self, p: usize, h: u64, r: NtRef) -> Result<(), String> {
        if h == 0 || self.procs[p].nt.contains_key(&h) {
            return Err(format!("new NT handle {h:#x} in process {p} is 0 or aliases a live handle"));
        }
        self.procs[p].nt.insert(h, r);
        Ok(())
    }

    fn close_local(&mut self, p: usize, h: u32) {
        if let Some(r) = self.procs[p].local.remove(&h) {
            // Closing the owning handle abandons a keyed mutex.
            if let Object::KeyedMutex { state, .. } = &mut self.objects[r.obj] {
                if *state == (KeyedMutexState::Owned { process: p, handle: h }) {
                    *state = KeyedMutexState::Abandoned;
                }
            }
            let stale = &mut self.procs[p].stale_local;
            stale.push(h);
            if stale.len() > STALE_KEEP {
                stale.remove(0);
            }
        }
    }

    fn close_nt(&mut self, p: usize, h: u64) {
        if self.procs[p].nt.remove(&h).is_some() {
            let stale = &mut self.procs[p].stale_nt;
            stale.push(h);
            if stale.len() > STALE_KEEP {
                stale.remove(0);
            }
        }
    }

    fn children(&self, p: usize, device: u32) -> Vec<u32> {
        self.procs[p].local.iter().filter(|(_, r)| r.device == Some(device)).map(|(h, _)| *h).collect()
    }

    fn destroy_device(&mut self, p: usize, device: u32) {
        for child in self.children(p, device) {
            self.close_local(p, child);
        }
        self.close_local(p, device);
    }

    /// The live device of `p` behind `h`: `Err` with the status a create
    /// path answers otherwise.
    fn device_for_create(&self, p: usize, h: u32) -> Result<(), NtStatus> {
        match self.obj_of(p, h) {
            Some((_, Object::Device { lost: false })) => Ok(()),
            Some((_, Object::Device { lost: true })) => Err(NtStatus::DEVICE_REMOVED),
            _ => Err(NtStatus::INVALID_PARAMETER),
        }
    }

    fn exited(&self, p: usize) -> bool {
        self.procs[p].exited
    }

    /// The NT object a handle of `p` names, with its access.
    fn nt_of(&self, p: usize, h: u64) -> Option<(NtRef, &Object)> {
        let r = *self.procs[p].nt.get(&h)?;
        Some((r, &self.objects[self.nts[r.nt].target]))
    }

    /// The live NT object named `name` (case-insensitively).
    pub fn lookup_name(&self, alive: &Alive, name: &str) -> Option<NtId> {
        let folded = name.to_lowercase();
        (0..self.nts.len()).find(|&n| alive.nts[n] && self.nts[n].name.as_deref() == Some(folded.as_str()))
    }

    // ----------------------------------------------------------------------
    // Each call: the expected status, then (on success) its effect.

    /// The status `OpenAdapterFromLuid` of the one adapter answers.
    pub fn expect_open_adapter(&self, p: usize) -> Expect {
        if self.exited(p) { NtStatus::PROCESS_IS_TERMINATING } else { NtStatus::SUCCESS }
    }

    /// `OpenAdapterFromLuid` succeeded.
    pub fn apply_open_adapter(&mut self, p: usize, out: u32) -> Result<(), String> {
        self.insert_local(p, out, LocalRef { obj: 0, device: None, can_signal: false, can_wait: false })
    }

    /// The status `CloseAdapter` answers.
    pub fn expect_close_adapter(&self, p: usize, h: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.obj_of(p, h) {
            Some((_, Object::Adapter)) => NtStatus::SUCCESS,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// `CloseAdapter` succeeded: the last adapter handle takes the
    /// process's devices with it (`AdapterClose::DestroyDevices`).
    pub fn apply_close_adapter(&mut self, p: usize, h: u32) {
        self.close_local(p, h);
        let others = self.procs[p].local.values().any(|r| r.obj == 0);
        if !others {
            let devices: Vec<u32> = self.procs[p]
                .local
                .iter()
                .filter(|(_, r)| matches!(self.objects[r.obj], Object::Device { .. }))
                .map(|(h, _)| *h)
                .collect();
            for d in devices {
                self.destroy_device(p, d);
            }
        }
    }

    /// The status `CreateDevice` answers.
    pub fn expect_create_device(&self, p: usize, adapter: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.obj_of(p, adapter) {
            Some((_, Object::Adapter)) => NtStatus::SUCCESS,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// `CreateDevice` succeeded with handle `out`.
    pub fn apply_create_device(&mut self, p: usize, out: u32) -> Result<(), String> {
        let o = self.new_obj(Object::Device { lost: false });
        self.insert_local(p, out, LocalRef { obj: o, device: None, can_signal: false, can_wait: false })
    }

    /// The status `DestroyDevice` answers.
    pub fn expect_destroy_device(&self, p: usize, device: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.obj_of(p, device) {
            Some((_, Object::Device { .. })) => NtStatus::SUCCESS,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// `DestroyDevice` succeeded.
    pub fn apply_destroy_device(&mut self, p: usize, device: u32) {
        self.destroy_device(p, device);
    }

    /// The status a sync-object create on `device` answers.
    pub fn expect_create_sync(&self, p: usize, device: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.device_for_create(p, device) {
            Ok(()) => NtStatus::SUCCESS,
            Err(s) => s,
        }
    }

    /// A monitored fence was created.
    pub fn apply_create_fence(
        &mut self,
        p: usize,
        device: u32,
        out: u32,
        nt_shareable: bool,
        initial: u64,
        cpu_va: u64,
    ) -> Result<(), String> {
        if cpu_va == 0 {
            return Err("a monitored fence came back with a NULL CPU address".into());
        }
        let o = self.new_obj(Object::Fence { nt_shareable, value: initial, cpu_va });
        self.insert_local(p, out, LocalRef { obj: o, device: Some(device), can_signal: true, can_wait: true })
    }

    /// A sync mutex was created, with global handle `global` (0: none).
    pub fn apply_create_sync_mutex(
        &mut self,
        p: usize,
        device: u32,
        out: u32,
        shared: bool,
        global: u32,
    ) -> Result<(), String> {
        if shared == (global == 0) {
            return Err(format!("mutex created shared={shared} came back with global handle {global:#x}"));
        }
        let global = shared.then_some(global);
        let o = self.new_obj(Object::SyncMutex { global });
        if let Some(g) = global {
            self.check_new_global(g)?;
            self.globals.push((g, o));
        }
        self.insert_local(p, out, LocalRef { obj: o, device: Some(device), can_signal: true, can_wait: true })
    }

    fn check_new_global(&self, g: u32) -> Result<(), String> {
        let alive = self.alive();
        if self.globals.iter().any(|(v, o)| *v == g && alive.objects[*o]) {
            return Err(format!("new global handle {g:#x} aliases a live one"));
        }
        Ok(())
    }

    /// The live object a global handle names, if it is of the kind wanted.
    fn global_target(&self, g: u32, want_sync: bool) -> Option<ObjId> {
        let alive = self.alive();
        let (_, o) = self.globals.iter().rev().find(|(v, o)| *v == g && alive.objects[*o])?;
        match self.objects[*o] {
            Object::SyncMutex { .. } if want_sync => Some(*o),
            Object::KeyedMutex { .. } if !want_sync => Some(*o),
            _ => None,
        }
    }

    /// The status `OpenSynchronizationObject` answers.
    pub fn expect_open_sync_global(&self, p: usize, g: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.global_target(g, true) {
            Some(_) => NtStatus::SUCCESS,
            None => NtStatus::INVALID_PARAMETER,
        }
    }

    /// `OpenSynchronizationObject` succeeded.
    pub fn apply_open_sync_global(&mut self, p: usize, g: u32, out: u32) -> Result<(), String> {
        let o = self.global_target(g, true).ok_or("opened a dead global")?;
        self.insert_local(p, out, LocalRef { obj: o, device: None, can_signal: true, can_wait: true })
    }

    /// The status `DestroySynchronizationObject` answers.
    pub fn expect_destroy_sync(&self, p: usize, h: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.obj_of(p, h) {
            Some((_, Object::Fence { .. } | Object::SyncMutex { .. })) => NtStatus::SUCCESS,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// Closes a D3DKMT handle (destroy of a sync object, session or keyed mutex).
    pub fn apply_close(&mut self, p: usize, h: u32) {
        self.close_local(p, h);
    }

    /// The status a CPU signal of one object answers.
    pub fn expect_signal(&self, p: usize, device: u32, h: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        if let Err(s) = self.device_for_create(p, device) {
            return s;
        }
        match self.obj_of(p, h) {
            Some((r, Object::Fence { .. })) if r.can_signal => NtStatus::SUCCESS,
            Some((_, Object::Fence { .. })) => NtStatus::ACCESS_DENIED,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// The status a CPU wait for `value` on one object answers, or `None`
    /// if it would block (the fence is below `value`).
    pub fn expect_wait(&self, p: usize, device: u32, h: u32, value: u64) -> Option<Expect> {
        if self.exited(p) {
            return Some(NtStatus::PROCESS_IS_TERMINATING);
        }
        if let Err(s) = self.device_for_create(p, device) {
            return Some(s);
        }
        match self.obj_of(p, h) {
            Some((r, Object::Fence { .. })) if !r.can_wait => Some(NtStatus::ACCESS_DENIED),
            Some((_, Object::Fence { value: v, .. })) if *v >= value => Some(NtStatus::SUCCESS),
            Some((_, Object::Fence { .. })) => None,
            _ => Some(NtStatus::INVALID_PARAMETER),
        }
    }

    /// A CPU signal succeeded: the fence keeps the higher value
    /// (`FenceRegression::Ignore`).
    pub fn apply_signal(&mut self, p: usize, h: u32, value: u64) {
        let o = self.procs[p].local[&h].obj;
        if let Object::Fence { value: v, .. } = &mut self.objects[o] {
            *v = (*v).max(value);
        }
    }

    /// The status `CreateProtectedSession` answers.
    pub fn expect_create_session(&self, p: usize, device: u32, fence: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        if let Err(s) = self.device_for_create(p, device) {
            return s;
        }
        match self.obj_of(p, fence) {
            Some((_, Object::Fence { .. })) => NtStatus::SUCCESS,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// `CreateProtectedSession` succeeded.
    pub fn apply_create_session(
        &mut self,
        p: usize,
        device: u32,
        fence: u32,
        out: u32,
        key: u64,
    ) -> Result<(), String> {
        let fence = self.procs[p].local[&fence].obj;
        let o = self.new_obj(Object::Session { fence, status: SessionStatus::Ok, key });
        self.sessions.push(o);
        self.insert_local(p, out, LocalRef { obj: o, device: Some(device), can_signal: false, can_wait: false })
    }

    /// The status destroy and status query of a session answer.
    pub fn expect_session_handle(&self, p: usize, h: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.obj_of(p, h) {
            Some((_, Object::Session { .. })) => NtStatus::SUCCESS,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// The status of the session behind a handle of `p`.
    pub fn session_status(&self, p: usize, h: u32) -> Option<SessionStatus> {
        match self.obj_of(p, h)? {
            (_, Object::Session { status, .. }) => Some(*status),
            _ => None,
        }
    }

    /// The status `ShareObjects` of one object answers.
    pub fn expect_share(&self, p: usize, h: u32, name: Option<&str>) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.obj_of(p, h) {
            Some((_, Object::Fence { nt_shareable: true, .. } | Object::Session { .. })) => {}
            _ => return NtStatus::INVALID_PARAMETER,
        }
        if let Some(name) = name {
            if self.lookup_name(&self.alive(), name).is_some() {
                return NtStatus::OBJECT_NAME_COLLISION;
            }
        }
        NtStatus::SUCCESS
    }

    /// `ShareObjects` succeeded with NT handle `out`.
    pub fn apply_share(
        &mut self,
        p: usize,
        h: u32,
        access: super::Access,
        name: Option<&str>,
        out: u64,
    ) -> Result<(), String> {
        let target = self.procs[p].local[&h].obj;
        self.nts.push(NtObject { target, name: name.map(str::to_lowercase) });
        let r = self.granted(self.nts.len() - 1, access);
        self.insert_nt(p, out, r)
    }

    /// The status `OpenSyncObjectFromNtHandle2` answers.
    pub fn expect_open_sync_nt(&self, p: usize, nt: u64, device: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        if let Err(s) = self.device_for_create(p, device) {
            return s;
        }
        match self.nt_of(p, nt) {
            None => NtStatus::INVALID_HANDLE,
            Some((_, Object::Session { .. })) => NtStatus::OBJECT_TYPE_MISMATCH,
            Some((r, _)) if !r.read => NtStatus::ACCESS_DENIED,
            Some(_) => NtStatus::SUCCESS,
        }
    }

    /// `OpenSyncObjectFromNtHandle2` succeeded, reporting `cpu_va`: it must
    /// be the very fence the NT handle names.
    pub fn apply_open_sync_nt(&mut self, p: usize, nt: u64, device: u32, out: u32, cpu_va: u64) -> Result<(), String> {
        let r = self.procs[p].nt[&nt];
        let obj = self.nts[r.nt].target;
        if let Object::Fence { cpu_va: created, .. } = self.objects[obj] {
            if created != cpu_va {
                return Err(format!("opened a fence at {cpu_va:#x}, the NT handle names the one at {created:#x}"));
            }
        }
        self.insert_local(p, out, LocalRef { obj, device: Some(device), can_signal: r.signal, can_wait: r.wait })
    }

    /// The status the session open and info query from an NT handle answer.
    pub fn expect_session_nt(&self, p: usize, nt: u64) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.nt_of(p, nt) {
            None => NtStatus::INVALID_HANDLE,
            Some((r, Object::Session { .. })) if !r.read => NtStatus::ACCESS_DENIED,
            Some((_, Object::Session { .. })) => NtStatus::SUCCESS,
            Some(_) => NtStatus::OBJECT_TYPE_MISMATCH,
        }
    }

    /// `OpenProtectedSessionFromNtHandle` succeeded.
    pub fn apply_open_session_nt(&mut self, p: usize, nt: u64, out: u32) -> Result<(), String> {
        let obj = self.nts[self.procs[p].nt[&nt].nt].target;
        self.insert_local(p, out, LocalRef { obj, device: None, can_signal: false, can_wait: false })
    }

    /// The status `OpenSyncObjectNtHandleFromName` (all access) answers.
    pub fn expect_open_name(&self, p: usize, name: &str) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.lookup_name(&self.alive(), name) {
            None => NtStatus::OBJECT_NAME_NOT_FOUND,
            Some(n) => match self.objects[self.nts[n].target] {
                Object::Fence { .. } | Object::SyncMutex { .. } => NtStatus::SUCCESS,
                _ => NtStatus::OBJECT_TYPE_MISMATCH,
            },
        }
    }

    /// `OpenSyncObjectNtHandleFromName` succeeded.
    pub fn apply_open_name(&mut self, p: usize, name: &str, out: u64) -> Result<(), String> {
        let n = self.lookup_name(&self.alive(), name).ok_or("opened a missing name")?;
        self.insert_nt(p, out, NtRef { nt: n, read: true, wait: true, signal: true })
    }

    /// The status a same-access duplicate answers.
    pub fn expect_duplicate(&self, from: usize, nt: u64, to: usize) -> Expect {
        if self.exited(from) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        if !self.procs[from].nt.contains_key(&nt) {
            return NtStatus::INVALID_HANDLE;
        }
        if self.exited(to) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        NtStatus::SUCCESS
    }

    /// The access an NT handle to `target` gets for `access` (generic rights
    /// mapped by the object's type).
    fn granted(&self, nt: NtId, access: super::Access) -> NtRef {
        let sync = matches!(self.objects[self.nts[nt].target], Object::Fence { .. } | Object::SyncMutex { .. });
        use super::Access::*;
        NtRef {
            nt,
            read: access != None,
            wait: sync && matches!(access, All | Read),
            signal: sync && matches!(access, All | Write),
        }
    }

    /// A duplicate ran: the source is closed if asked, whatever the outcome
    /// (once the source was found); `out` is the new handle on success, with
    /// the source's access or `access`.
    pub fn apply_duplicate(
        &mut self,
        from: usize,
        nt: u64,
        to: usize,
        close_source: bool,
        access: Option<super::Access>,
        out: Option<u64>,
    ) -> Result<(), String> {
        let Some(source) = self.procs[from].nt.get(&nt).copied() else { return Ok(()) };
        let r = match access {
            Some(access) => self.granted(source.nt, access),
            None => source,
        };
        if close_source {
            self.close_nt(from, nt);
        }
        match out {
            Some(h) => self.insert_nt(to, h, r),
            None => Ok(()),
        }
    }

    /// The status `CloseHandle` answers.
    pub fn expect_close_nt(&self, p: usize, nt: u64) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        if self.procs[p].nt.contains_key(&nt) { NtStatus::SUCCESS } else { NtStatus::INVALID_HANDLE }
    }

    /// `CloseHandle` succeeded.
    pub fn apply_close_nt(&mut self, p: usize, nt: u64) {
        self.close_nt(p, nt);
    }

    /// The live session with kernel key `key`.
    fn session_by_key(&self, key: u64) -> Option<ObjId> {
        let alive = self.alive();
        self.sessions
            .iter()
            .copied()
            .find(|&o| alive.objects[o] && matches!(self.objects[o], Object::Session { key: k, .. } if k == key))
    }

    /// The status the KMD's status callback answers.
    pub fn expect_set_status(&self, key: u64) -> Expect {
        match self.session_by_key(key) {
            Some(_) => NtStatus::SUCCESS,
            None => NtStatus::INVALID_HANDLE,
        }
    }

    /// Sets a session's status; a change bumps its status fence by one.
    fn set_status(&mut self, o: ObjId, new: SessionStatus) {
        let Object::Session { fence, status, .. } = &mut self.objects[o] else { return };
        if *status == new {
            return;
        }
        *status = new;
        let fence = *fence;
        if let Object::Fence { value, .. } = &mut self.objects[fence] {
            *value = value.saturating_add(1);
        }
    }

    /// The KMD's status callback succeeded.
    pub fn apply_set_status(&mut self, key: u64, status: SessionStatus) {
        if let Some(o) = self.session_by_key(key) {
            self.set_status(o, status);
        }
    }

    /// The status a keyed-mutex create answers.
    pub fn expect_create_keyed_mutex(&self, p: usize) -> Expect {
        if self.exited(p) { NtStatus::PROCESS_IS_TERMINATING } else { NtStatus::SUCCESS }
    }

    /// A keyed mutex was created with global handle `global` (0: none).
    pub fn apply_create_keyed_mutex(
        &mut self,
        p: usize,
        out: u32,
        key: u64,
        nt_shared: bool,
        global: u32,
    ) -> Result<(), String> {
        if nt_shared != (global == 0) {
            return Err(format!("keyed mutex created nt_shared={nt_shared} came back with global {global:#x}"));
        }
        let global = (!nt_shared).then_some(global);
        let o = self.new_obj(Object::KeyedMutex { global, state: KeyedMutexState::Released { key, fence: 0 } });
        if let Some(g) = global {
            self.check_new_global(g)?;
            self.globals.push((g, o));
        }
        self.insert_local(p, out, LocalRef { obj: o, device: None, can_signal: false, can_wait: false })
    }

    /// The status `OpenKeyedMutex` answers.
    pub fn expect_open_keyed_mutex(&self, p: usize, g: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        if self.global_target(g, false).is_some() { NtStatus::SUCCESS } else { NtStatus::INVALID_PARAMETER }
    }

    /// `OpenKeyedMutex` succeeded.
    pub fn apply_open_keyed_mutex(&mut self, p: usize, g: u32, out: u32) -> Result<(), String> {
        let o = self.global_target(g, false).ok_or("opened a dead keyed mutex")?;
        self.insert_local(p, out, LocalRef { obj: o, device: None, can_signal: false, can_wait: false })
    }

    fn keyed_mutex(&self, p: usize, h: u32) -> Option<KeyedMutexState> {
        match self.obj_of(p, h)? {
            (_, Object::KeyedMutex { state, .. }) => Some(*state),
            _ => None,
        }
    }

    /// The status a zero-timeout acquire answers.
    pub fn expect_acquire(&self, p: usize, h: u32, key: u64) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.keyed_mutex(p, h) {
            None => NtStatus::INVALID_PARAMETER,
            Some(KeyedMutexState::Abandoned) => NtStatus::ABANDONED,
            Some(KeyedMutexState::Released { key: k, .. }) if k == key => NtStatus::SUCCESS,
            Some(_) => NtStatus::TIMEOUT,
        }
    }

    /// The fence value an acquire of the mutex behind `h` gets.
    pub fn keyed_mutex_fence(&self, p: usize, h: u32) -> Option<u64> {
        match self.keyed_mutex(p, h)? {
            KeyedMutexState::Released { fence, .. } => Some(fence),
            _ => None,
        }
    }

    /// The status a release answers.
    pub fn expect_release(&self, p: usize, h: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.keyed_mutex(p, h) {
            None => NtStatus::INVALID_PARAMETER,
            Some(KeyedMutexState::Abandoned) => NtStatus::ABANDONED,
            Some(KeyedMutexState::Owned { process, handle }) if process == p && handle == h => NtStatus::SUCCESS,
            Some(_) => NtStatus::INVALID_PARAMETER,
        }
    }

    /// An acquire (`owner` Some) or release (key) succeeded.
    pub fn apply_keyed_mutex(&mut self, p: usize, h: u32, new: KeyedMutexState) {
        let o = self.procs[p].local[&h].obj;
        if let Object::KeyedMutex { state, .. } = &mut self.objects[o] {
            *state = new;
        }
    }

    /// The status `DestroyKeyedMutex` answers.
    pub fn expect_destroy_keyed_mutex(&self, p: usize, h: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        if self.keyed_mutex(p, h).is_some() { NtStatus::SUCCESS } else { NtStatus::INVALID_PARAMETER }
    }

    /// `CreateContextVirtual` succeeded: a context, a child of `device`.
    pub fn apply_create_context(&mut self, p: usize, device: u32, out: u32) -> Result<(), String> {
        let o = self.new_obj(Object::Context);
        self.insert_local(p, out, LocalRef { obj: o, device: Some(device), can_signal: false, can_wait: false })
    }

    /// The status `DestroyContext` answers (a lost device's contexts too).
    pub fn expect_destroy_context(&self, p: usize, h: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.obj_of(p, h) {
            Some((_, Object::Context)) => NtStatus::SUCCESS,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// The status the KMD's device removal answers.
    pub fn expect_remove_device(&self, p: usize, device: u32) -> Expect {
        if self.exited(p) {
            return NtStatus::PROCESS_IS_TERMINATING;
        }
        match self.obj_of(p, device) {
            Some((_, Object::Device { lost: false })) => NtStatus::SUCCESS,
            Some((_, Object::Device { lost: true })) => NtStatus::DEVICE_REMOVED,
            _ => NtStatus::INVALID_PARAMETER,
        }
    }

    /// A device removal succeeded: the device is lost, the fences its
    /// children may signal jump to `u64::MAX`, and the sessions created on
    /// it become INVALID (`RemovalSessions::Invalidate`).
    pub fn apply_remove_device(&mut self, p: usize, device: u32) {
        let o = self.procs[p].local[&device].obj;
        self.objects[o] = Object::Device { lost: true };
        for child in self.children(p, device) {
            let r = self.procs[p].local[&child];
            match self.objects[r.obj] {
                Object::Fence { .. } if r.can_signal => {
                    if let Object::Fence { value, .. } = &mut self.objects[r.obj] {
                        *value = u64::MAX;
                    }
                }
                Object::Session { .. } => self.set_status(r.obj, SessionStatus::Invalid),
                _ => {}
            }
        }
    }

    /// Process exit: every handle closed (owned keyed mutexes abandoned).
    pub fn apply_exit(&mut self, p: usize) {
        if self.procs[p].exited {
            return;
        }
        let handles: Vec<u32> = self.procs[p].local.keys().copied().collect();
        for h in handles {
            self.close_local(p, h);
        }
        let nts: Vec<u64> = self.procs[p].nt.keys().copied().collect();
        for h in nts {
            self.close_nt(p, h);
        }
        self.procs[p].exited = true;
    }
}
