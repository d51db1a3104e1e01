//! Any interleaving of create, share, duplicate, open, destroy, close, status
//! changes and process exit across three processes: no two live handles
//! alias, every object lives exactly while something references it, and the
//! KMD's destroy DDI runs once per session, when its last reference goes.
//!
//! A small reference model predicts which handles exist and what each names;
//! after every step the kernel's handle tables and live-object counts must
//! equal the model's. `PROPTEST_CASES` raises the case count for local runs
//! (CI uses the default below).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use d3dkmt_emu::{
    DuplicateOptions, HandleKind, Kernel, KernelConfig, Kmd, LocalHandle, Luid, NtHandle, NtStatus, ObjectKind,
    Process, SessionStatus, SyncFlags, access,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    CreateDevice { p: usize },
    CreateFence { p: usize, dev: usize, shared: bool },
    CreateSession { p: usize, dev: usize, fence: usize },
    Share { p: usize, obj: usize, access_all: bool },
    Duplicate { from: usize, nt: usize, to: usize, close_source: bool },
    OpenSession { p: usize, nt: usize },
    OpenFence { p: usize, nt: usize, dev: usize },
    DestroyObject { p: usize, obj: usize },
    DestroyDevice { p: usize, dev: usize },
    CloseNt { p: usize, nt: usize },
    SetStatus { session: usize, invalid: bool },
    UseStale { p: usize, which: usize },
    Exit { p: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0..3usize;
    let s = any::<usize>();
    prop_oneof![
        3 => p.clone().prop_map(|p| Op::CreateDevice { p }),
        4 => (p.clone(), s, any::<bool>()).prop_map(|(p, dev, shared)| Op::CreateFence { p, dev, shared }),
        4 => (p.clone(), s, s).prop_map(|(p, dev, fence)| Op::CreateSession { p, dev, fence }),
        4 => (p.clone(), s, any::<bool>()).prop_map(|(p, obj, access_all)| Op::Share { p, obj, access_all }),
        4 => (p.clone(), s, p.clone(), any::<bool>())
            .prop_map(|(from, nt, to, close_source)| Op::Duplicate { from, nt, to, close_source }),
        3 => (p.clone(), s).prop_map(|(p, nt)| Op::OpenSession { p, nt }),
        3 => (p.clone(), s, s).prop_map(|(p, nt, dev)| Op::OpenFence { p, nt, dev }),
        4 => (p.clone(), s).prop_map(|(p, obj)| Op::DestroyObject { p, obj }),
        2 => (p.clone(), s).prop_map(|(p, dev)| Op::DestroyDevice { p, dev }),
        3 => (p.clone(), s).prop_map(|(p, nt)| Op::CloseNt { p, nt }),
        2 => (s, any::<bool>()).prop_map(|(session, invalid)| Op::SetStatus { session, invalid }),
        2 => (p.clone(), s).prop_map(|(p, which)| Op::UseStale { p, which }),
        1 => p.prop_map(|p| Op::Exit { p }),
    ]
}

/// Model object ids.
type Obj = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Device,
    Fence { nt_shareable: bool },
    Session { fence: Obj },
}

#[derive(Clone, Copy, Debug)]
struct LocalRef {
    obj: Obj,
    /// The device handle this handle is a child of.
    device: Option<u32>,
    /// Access granted (for handles opened from NT handles: whether allowed to open).
    _opened: bool,
}

#[derive(Default)]
struct ModelProcess {
    exited: bool,
    local: BTreeMap<u32, LocalRef>,
    nt: BTreeMap<u64, (Obj, u32)>, // NT handle -> (nt object, access)
    stale: Vec<u32>,
}

#[derive(Default)]
struct Model {
    kinds: Vec<Kind>,
    nt_objects: Vec<Obj>, // nt object id -> wrapped object
    procs: [ModelProcess; 3],
    sessions_created: usize,
}

impl Model {
    fn new_obj(&mut self, kind: Kind) -> Obj {
        self.kinds.push(kind);
        self.kinds.len() - 1
    }

    /// Objects and NT objects alive by the reference rules.
    fn alive(&self) -> (BTreeSet<Obj>, BTreeSet<usize>) {
        let mut objs = BTreeSet::new();
        let mut nts = BTreeSet::new();
        for p in self.procs.iter().filter(|p| !p.exited) {
            objs.extend(p.local.values().map(|r| r.obj));
            nts.extend(p.nt.values().map(|(n, _)| *n));
        }
        objs.extend(nts.iter().map(|n| self.nt_objects[*n]));
        let sessions_fences: Vec<Obj> = objs
            .iter()
            .filter_map(|o| match self.kinds[*o] {
                Kind::Session { fence } => Some(fence),
                _ => None,
            })
            .collect();
        objs.extend(sessions_fences);
        (objs, nts)
    }

    fn count(&self, kind: ObjectKind) -> i64 {
        let (objs, nts) = self.alive();
        match kind {
            ObjectKind::NtObject => nts.len() as i64,
            _ => objs
                .iter()
                .filter(|o| {
                    matches!(
                        (kind, self.kinds[**o]),
                        (ObjectKind::Device, Kind::Device)
                            | (ObjectKind::SyncObject, Kind::Fence { .. })
                            | (ObjectKind::ProtectedSession, Kind::Session { .. })
                    )
                })
                .count() as i64,
        }
    }

    fn handles_of(&self, p: usize, pred: impl Fn(Kind) -> bool) -> Vec<u32> {
        self.procs[p].local.iter().filter(|(_, r)| pred(self.kinds[r.obj])).map(|(h, _)| *h).collect()
    }

    fn remove_local(&mut self, p: usize, h: u32) {
        self.procs[p].local.remove(&h);
        self.procs[p].stale.push(h);
    }
}

fn pick<T: Copy>(items: &[T], sel: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[sel % items.len()])
}

#[derive(Default)]
struct CountingKmd {
    creates: AtomicUsize,
    destroys: AtomicUsize,
}

impl Kmd for CountingKmd {
    fn create_protected_session(&self, args: &mut d3dkmt_emu::CreateSessionArgs<'_>) -> Result<u64, NtStatus> {
        self.creates.fetch_add(1, Ordering::SeqCst);
        Ok(args.session.0 + 1000)
    }
    fn destroy_protected_session(&self, _adapter: Luid, _kmd_session: u64) {
        self.destroys.fetch_add(1, Ordering::SeqCst);
    }
}

fn kind_of(k: Kind) -> HandleKind {
    match k {
        Kind::Device => HandleKind::Device,
        Kind::Fence { .. } => HandleKind::SyncObject,
        Kind::Session { .. } => HandleKind::ProtectedSession,
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let kernel = Kernel::new(KernelConfig::default());
    let kmd = Arc::new(CountingKmd::default());
    kernel.set_kmd(kmd.clone());
    let procs: Vec<Process> = (0..3).map(|_| kernel.create_process()).collect();
    let luid = kernel.adapter_luids()[0];
    // Each process keeps one adapter handle open, so devices have a parent.
    let adapters: Vec<LocalHandle> = procs.iter().map(|p| p.open_adapter_from_luid(luid).unwrap()).collect();
    let mut m = Model::default();
    let mut session_keys: Vec<(Obj, d3dkmt_emu::SessionKey)> = Vec::new();

    for (step, op) in ops.into_iter().enumerate() {
        let ctx = format!("step {step}: {op:?}");
        match op {
            Op::CreateDevice { p } => {
                let r = procs[p].create_device(adapters[p]);
                if m.procs[p].exited {
                    prop_assert!(r.is_err(), "{ctx}: exited process created a device");
                    continue;
                }
                let h = r.map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                let o = m.new_obj(Kind::Device);
                m.procs[p].local.insert(h.0, LocalRef { obj: o, device: None, _opened: false });
            }
            Op::CreateFence { p, dev, shared } => {
                let Some(d) = pick(&m.handles_of(p, |k| k == Kind::Device), dev) else { continue };
                let flags = SyncFlags { shared, nt_security_sharing: shared, ..Default::default() };
                let f = procs[p].create_monitored_fence(LocalHandle(d), flags, 0);
                let f = f.map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                let o = m.new_obj(Kind::Fence { nt_shareable: shared });
                m.procs[p].local.insert(f.handle.0, LocalRef { obj: o, device: Some(d), _opened: false });
            }
            Op::CreateSession { p, dev, fence } => {
                let Some(d) = pick(&m.handles_of(p, |k| k == Kind::Device), dev) else { continue };
                let Some(f) = pick(&m.handles_of(p, |k| matches!(k, Kind::Fence { .. })), fence) else { continue };
                let fence_obj = m.procs[p].local[&f].obj;
                let h = procs[p].create_protected_session(LocalHandle(d), LocalHandle(f), b"drv", b"rt");
                let h = h.map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                let o = m.new_obj(Kind::Session { fence: fence_obj });
                m.sessions_created += 1;
                m.procs[p].local.insert(h.0, LocalRef { obj: o, device: Some(d), _opened: false });
                session_keys.push((o, procs[p].protected_session_key(h).unwrap()));
            }
            Op::Share { p, obj, access_all } => {
                let candidates = m.handles_of(p, |k| !matches!(k, Kind::Device));
                let Some(h) = pick(&candidates, obj) else { continue };
                let target = m.procs[p].local[&h].obj;
                let shareable = match m.kinds[target] {
                    Kind::Fence { nt_shareable } => nt_shareable,
                    Kind::Session { .. } => true,
                    Kind::Device => false,
                };
                let mask = if access_all { access::GENERIC_ALL } else { 0 };
                let r = procs[p].share_objects(&[LocalHandle(h)], None, mask);
                if !shareable {
                    prop_assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::INVALID_PARAMETER), "{}", ctx);
                    continue;
                }
                let nt = r.map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                m.nt_objects.push(target);
                let granted = if access_all { 1 } else { 0 };
                m.procs[p].nt.insert(nt.0, (m.nt_objects.len() - 1, granted));
            }
            Op::Duplicate { from, nt, to, close_source } => {
                let keys: Vec<u64> = m.procs[from].nt.keys().copied().collect();
                let Some(h) = pick(&keys, nt) else { continue };
                let opts = DuplicateOptions { close_source, same_access: true };
                let r = procs[from].duplicate_nt_handle(NtHandle(h), &procs[to], 0, opts);
                let entry = m.procs[from].nt[&h];
                if close_source {
                    m.procs[from].nt.remove(&h);
                }
                if m.procs[to].exited {
                    prop_assert!(r.is_err(), "{ctx}: duplicated into an exited process");
                    continue;
                }
                let new = r.map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                prop_assert!(!m.procs[to].nt.contains_key(&new.0), "{ctx}: NT handle {new} aliases");
                m.procs[to].nt.insert(new.0, entry);
            }
            Op::OpenSession { p, nt } => {
                let keys: Vec<u64> = m.procs[p].nt.keys().copied().collect();
                let Some(h) = pick(&keys, nt) else { continue };
                let (n, granted) = m.procs[p].nt[&h];
                let target = m.nt_objects[n];
                let r = procs[p].open_protected_session_from_nt_handle(NtHandle(h));
                match (m.kinds[target], granted) {
                    (Kind::Session { .. }, 1) => {
                        let s = r.map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                        m.procs[p].local.insert(s.0, LocalRef { obj: target, device: None, _opened: true });
                    }
                    (Kind::Session { .. }, _) => {
                        prop_assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::ACCESS_DENIED), "{}", ctx)
                    }
                    _ => prop_assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::OBJECT_TYPE_MISMATCH), "{}", ctx),
                }
            }
            Op::OpenFence { p, nt, dev } => {
                let keys: Vec<u64> = m.procs[p].nt.keys().copied().collect();
                let Some(h) = pick(&keys, nt) else { continue };
                let Some(d) = pick(&m.handles_of(p, |k| k == Kind::Device), dev) else { continue };
                let (n, granted) = m.procs[p].nt[&h];
                let target = m.nt_objects[n];
                let r = procs[p].open_sync_object_from_nt_handle(NtHandle(h), LocalHandle(d), SyncFlags::default());
                match (m.kinds[target], granted) {
                    (Kind::Fence { .. }, 1) => {
                        let f = r.map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                        m.procs[p].local.insert(f.handle.0, LocalRef { obj: target, device: Some(d), _opened: true });
                    }
                    (Kind::Fence { .. }, _) => {
                        prop_assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::ACCESS_DENIED), "{}", ctx)
                    }
                    _ => prop_assert_eq!(r.map_err(|e| e.status()), Err(NtStatus::OBJECT_TYPE_MISMATCH), "{}", ctx),
                }
            }
            Op::DestroyObject { p, obj } => {
                let Some(h) = pick(&m.handles_of(p, |k| !matches!(k, Kind::Device)), obj) else { continue };
                let r = match m.kinds[m.procs[p].local[&h].obj] {
                    Kind::Session { .. } => procs[p].destroy_protected_session(LocalHandle(h)),
                    _ => procs[p].destroy_sync_object(LocalHandle(h)),
                };
                r.map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                m.remove_local(p, h);
            }
            Op::DestroyDevice { p, dev } => {
                let Some(d) = pick(&m.handles_of(p, |k| k == Kind::Device), dev) else { continue };
                procs[p].destroy_device(LocalHandle(d)).map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                m.remove_local(p, d);
                let children: Vec<u32> =
                    m.procs[p].local.iter().filter(|(_, r)| r.device == Some(d)).map(|(h, _)| *h).collect();
                for c in children {
                    m.remove_local(p, c);
                }
            }
            Op::CloseNt { p, nt } => {
                let keys: Vec<u64> = m.procs[p].nt.keys().copied().collect();
                let Some(h) = pick(&keys, nt) else { continue };
                procs[p].close_nt_handle(NtHandle(h)).map_err(|e| TestCaseError::fail(format!("{ctx}: {e}")))?;
                m.procs[p].nt.remove(&h);
                prop_assert_eq!(
                    procs[p].close_nt_handle(NtHandle(h)).map_err(|e| e.status()),
                    Err(NtStatus::INVALID_HANDLE),
                    "{}: double close",
                    ctx
                );
            }
            Op::SetStatus { session, invalid } => {
                let Some((o, key)) = pick(&session_keys, session) else { continue };
                let status = if invalid { SessionStatus::Invalid } else { SessionStatus::Ok };
                let r = kernel.set_protected_session_status(key, status);
                let (alive, _) = m.alive();
                prop_assert_eq!(
                    r.is_ok(),
                    alive.contains(&o),
                    "{}: status set on a session alive={}",
                    ctx,
                    alive.contains(&o)
                );
            }
            Op::UseStale { p, which } => {
                let Some(h) = pick(&m.procs[p].stale, which) else { continue };
                if m.procs[p].local.contains_key(&h) {
                    continue; // the value came back after a wrap; not stale any more
                }
                let a = procs[p].destroy_sync_object(LocalHandle(h)).map_err(|e| e.status());
                let b = procs[p].destroy_protected_session(LocalHandle(h)).map_err(|e| e.status());
                let c = procs[p].destroy_device(LocalHandle(h)).map_err(|e| e.status());
                let want =
                    if m.procs[p].exited { NtStatus::PROCESS_IS_TERMINATING } else { NtStatus::INVALID_PARAMETER };
                for r in [a, b, c] {
                    prop_assert_eq!(r, Err(want), "{}: stale handle {:#x} accepted", ctx, h);
                }
            }
            Op::Exit { p } => {
                procs[p].exit();
                m.procs[p].exited = true;
                m.procs[p].local.clear();
                m.procs[p].nt.clear();
            }
        }
        check(&kernel, &procs, &m, &kmd, &ctx)?;
    }
    for p in &procs {
        p.exit();
    }
    for kind in ObjectKind::ALL {
        prop_assert_eq!(kernel.live_objects(kind), 0, "{:?} alive after every process exited", kind);
    }
    prop_assert_eq!(kmd.destroys.load(Ordering::SeqCst), m.sessions_created, "destroy DDI count");
    Ok(())
}

fn check(kernel: &Kernel, procs: &[Process], m: &Model, kmd: &CountingKmd, ctx: &str) -> Result<(), TestCaseError> {
    for (i, p) in procs.iter().enumerate() {
        let handles = p.local_handles();
        let values: BTreeSet<u32> = handles.iter().map(|(h, _)| h.0).collect();
        prop_assert_eq!(values.len(), handles.len(), "{}: aliasing handles in process {}", ctx, i);
        // The kernel's table (less the adapter handle) equals the model's, kind for kind.
        let kernel_view: BTreeMap<u32, HandleKind> =
            handles.into_iter().filter(|(_, k)| *k != HandleKind::Adapter).map(|(h, k)| (h.0, k)).collect();
        let model_view: BTreeMap<u32, HandleKind> =
            m.procs[i].local.iter().map(|(h, r)| (*h, kind_of(m.kinds[r.obj]))).collect();
        prop_assert_eq!(kernel_view, model_view, "{}: handle table of process {}", ctx, i);
        let nts: BTreeSet<u64> = p.nt_handles().into_iter().map(|h| h.0).collect();
        let model_nts: BTreeSet<u64> = m.procs[i].nt.keys().copied().collect();
        prop_assert_eq!(nts, model_nts, "{}: NT handle table of process {}", ctx, i);
    }
    for kind in ObjectKind::ALL {
        prop_assert_eq!(kernel.live_objects(kind), m.count(kind), "{}: live {:?}", ctx, kind);
    }
    let alive_sessions = m.count(ObjectKind::ProtectedSession) as usize;
    prop_assert_eq!(kmd.creates.load(Ordering::SeqCst), m.sessions_created, "{}: create DDI count", ctx);
    prop_assert_eq!(
        kmd.destroys.load(Ordering::SeqCst),
        m.sessions_created - alive_sessions,
        "{}: destroy DDI count",
        ctx
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_interleaving_keeps_references_exact(ops in proptest::collection::vec(op(), 1..80)) {
        run(ops)?;
    }
}
