//! Fuzzing the session lifecycle: a reference model, an op vocabulary, an
//! executor that runs ops through the C ABI and checks the kernel against
//! the model after every step, a shrinker, and the harnesses the cargo-fuzz
//! targets (`fuzz/`) and the corpus test share.
//!
//! - [`Op`] is one step: a `D3DKMT*` call, a KMD action or a process exit,
//!   acting as one of [`PROCESSES`] virtual processes, naming handles
//!   symbolically ([`Sel`]). It implements `arbitrary::Arbitrary`;
//!   [`Generator`] makes seeded sequences of them.
//! - [`Model`] is the reference: which handles exist where, what each names,
//!   what is alive, fence values, session statuses, NT names, keyed-mutex
//!   states. It predicts each call's status.
//! - [`Runner`] runs sequences on a kernel (yours, if you like), checks
//!   after each step that the status equals the model's, that a failed call
//!   left the caller's struct untouched, that no two live handles alias, that
//!   objects live exactly while referenced, that fences only grow; and, at
//!   the end, that once every process has exited nothing is left alive. A
//!   hook ([`Runner::after_each`]) runs your own checks after each step.
//! - [`shrink`] cuts a failing sequence down (delta debugging), and
//!   [`write_reproducer`] saves it as a replayable trace and an op list.
//!
//! ## Fuzzing your own code on top of the kernel
//!
//! ```
//! use d3dkmt_emu::fuzz::{Generator, Runner};
//! use d3dkmt_emu::{Kernel, KernelConfig};
//!
//! let mut generator = Generator::new(7);
//! for _ in 0..10 {
//!     let ops = generator.sequence(50);
//!     let kernel = Kernel::new(KernelConfig::default());
//!     let mut runner = Runner::new(kernel).after_each(|kernel, _op, _outcome| {
//!         // Your driver's own invariants, e.g. on its view of the kernel.
//!         if kernel.total_live_objects() < 0 { Err("negative".into()) } else { Ok(()) }
//!     });
//!     runner.run(&ops).expect("kernel and model agree");
//! }
//! ```

mod abi_input;
mod exec;
mod model;
mod ops;

use std::path::{Path, PathBuf};

pub use abi_input::{ABI_ENTRIES, run_abi_input};
pub use exec::{Executor, Outcome, Stats};
pub use model::{Alive, KeyedMutexState, LocalRef, Model, ModelProcess, NAMES, NtObject, NtRef, Object};
pub use ops::{Access, FAULT_ENTRIES, FAULT_STATUSES, Generator, Op, PROCESSES, Sel, WEIGHTS, prologue};

use crate::Kernel;

/// A hook run after each step: the kernel, the op, what it answered.
pub type Hook = Box<dyn FnMut(&Kernel, &Op, &Outcome) -> Result<(), String>>;

/// Where and why a sequence failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The index of the failing op (`ops.len()` for the final exit check).
    pub step: usize,
    /// The failing op, if the failure was at an op.
    pub op: Option<Op>,
    /// What differed.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.op {
            Some(op) => write!(f, "step {}: {:?}: {}", self.step, op, self.message),
            None => write!(f, "after step {} (every process exited): {}", self.step, self.message),
        }
    }
}

/// Runs op sequences against a kernel, model-checked, with optional hooks.
pub struct Runner {
    exec: Executor,
    hooks: Vec<Hook>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").field("exec", &self.exec).field("hooks", &self.hooks.len()).finish()
    }
}

impl Runner {
    /// A runner on `kernel`, which gets [`PROCESSES`] new processes. The
    /// model assumes default policies, a first adapter that supports
    /// protected sessions, and a KMD that accepts every session (the
    /// default KMD does; a KMD of yours may record anything).
    pub fn new(kernel: Kernel) -> Runner {
        Runner { exec: Executor::new(kernel), hooks: Vec::new() }
    }

    /// Adds a hook that runs after every step that matched the model; an
    /// `Err` fails the sequence at that step.
    pub fn after_each(mut self, hook: impl FnMut(&Kernel, &Op, &Outcome) -> Result<(), String> + 'static) -> Runner {
        self.hooks.push(Box::new(hook));
        self
    }

    /// The executor (its kernel, processes and model).
    pub fn executor(&self) -> &Executor {
        &self.exec
    }

    /// The executor, mutably (to [`Executor::probe`] after a failure).
    pub fn executor_mut(&mut self) -> &mut Executor {
        &mut self.exec
    }

    /// Runs one op.
    pub fn step(&mut self, op: &Op) -> Result<Outcome, String> {
        let outcome = self.exec.step(op)?;
        for hook in &mut self.hooks {
            hook(self.exec.kernel(), op, &outcome)?;
        }
        Ok(outcome)
    }

    /// Runs `ops`, then exits every process and checks nothing is left.
    /// A runner runs one sequence: its processes have exited afterwards.
    pub fn run(&mut self, ops: &[Op]) -> Result<Stats, Failure> {
        for (step, op) in ops.iter().enumerate() {
            self.step(op).map_err(|message| Failure { step, op: Some(op.clone()), message })?;
        }
        self.exec.finish().map_err(|message| Failure { step: ops.len(), op: None, message })?;
        Ok(self.exec.stats)
    }
}

/// Runs `ops` on a fresh default kernel: the property every fuzzer checks.
pub fn run_sequence(ops: &[Op]) -> Result<Stats, Failure> {
    Runner::new(Kernel::new(crate::KernelConfig::default())).run(ops)
}

/// Longest sequence the byte harness decodes (keeps each input fast).
pub const MAX_OPS: usize = 256;

/// Decodes an op sequence from arbitrary bytes (as the `lifecycle` target
/// gets them), at most [`MAX_OPS`] long.
pub fn decode_ops(data: &[u8]) -> Vec<Op> {
    use arbitrary::Arbitrary;
    let mut u = arbitrary::Unstructured::new(data);
    let mut ops = Vec::new();
    while ops.len() < MAX_OPS && !u.is_empty() {
        match Op::arbitrary(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    ops
}

/// The `lifecycle` harness: decodes ops from `data`, puts [`prologue`]
/// before them, and runs them on a fresh kernel, model-checked. The fuzz
/// target panics on `Err`; the corpus test asserts `Ok`.
pub fn run_lifecycle(data: &[u8]) -> Result<Stats, Failure> {
    let mut ops = prologue();
    ops.extend(decode_ops(data));
    run_sequence(&ops)
}

/// Shrinks a failing sequence: removes chunks of ops (halves, quarters, ...
/// down to single ops) while the sequence still fails (with any message),
/// then simplifies each op's garbage values. Returns the shortest failing
/// sequence found and its failure.
pub fn shrink(ops: &[Op], fails: impl Fn(&[Op]) -> Option<Failure>) -> (Vec<Op>, Failure) {
    let mut best = ops.to_vec();
    let mut failure = fails(&best).expect("shrink needs a failing sequence");
    // Everything after the failing step is irrelevant.
    best.truncate((failure.step + 1).min(best.len()));
    let mut chunk = best.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        let mut progressed = false;
        while i < best.len() {
            let mut candidate = best.clone();
            candidate.drain(i..(i + chunk).min(candidate.len()));
            match fails(&candidate) {
                Some(f) => {
                    best = candidate;
                    best.truncate((f.step + 1).min(best.len()));
                    failure = f;
                    progressed = true;
                }
                None => i += chunk,
            }
        }
        if chunk == 1 && !progressed {
            break;
        }
        if !progressed {
            chunk = (chunk / 2).max(1);
        }
    }
    (best, failure)
}

/// Runs `ops` on a fresh default kernel with its call trace on, and saves
/// the trace to `dir/NAME.trace` and the ops (one `Debug` line each) to
/// `dir/NAME.ops`. Returns the two paths. If the sequence fails, the trace
/// ends with [`Executor::probe`]'s calls, so that `d3dkmt-emu replay` of it
/// on a fixed kernel diverges where the bug changed a status.
pub fn write_reproducer(ops: &[Op], dir: &Path, name: &str) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let kernel = Kernel::new(crate::KernelConfig::default());
    kernel
        .trace_start(crate::TraceConfig { capacity: 1 << 20, file: None })
        .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
    let mut runner = Runner::new(kernel.clone());
    if runner.run(ops).is_err() {
        runner.executor_mut().probe();
    }
    let trace = dir.join(format!("{name}.trace"));
    kernel.trace_save(&trace)?;
    let listing = dir.join(format!("{name}.ops"));
    let text: String = ops.iter().map(|op| format!("{op:?}\n")).collect();
    std::fs::write(&listing, text)?;
    Ok((trace, listing))
}
