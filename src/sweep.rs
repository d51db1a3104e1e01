//! The systematic fault sweep: fail each injectable point of a test body in
//! turn, and check that every run cleans up.
//!
//! A dry run counts the injectable points the body reaches (calls to the
//! chosen entry points, by default those that create or open something:
//! [`crate::creates_or_opens`]), with a record-only fault. Then the body runs
//! once per point N, on a fresh kernel, with the Nth injectable call failing
//! (by default with `STATUS_NO_MEMORY`). After each run every process the
//! body left referenced is exited, and the run is clean when:
//!
//! - the body did not panic, and returned `Ok(())` or the injected status
//!   (the dry run: `Ok(())`): a caller that meets a failure passes it on;
//! - the fault fired (the body reached point N: it is deterministic);
//! - the kernel reports no live object and no broken invariant
//!   ([`crate::Kernel::leak_report`], [`crate::Kernel::check_invariants`]);
//! - the body left no process referenced (every process exited or dropped).
//!
//! The model is the Vulkan loader's allocation-failure sweep and Driver
//! Verifier's systematic low-resource simulation: every failure path runs
//! once.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::fault::{Fault, FaultRecord};
use crate::live::LeakReport;
use crate::support::Entry;
use crate::{Kernel, KernelConfig, NtStatus};

/// Which calls are injectable points.
#[derive(Clone, Debug)]
enum Points {
    CreatesOrOpens,
    Entries(Vec<Entry>),
    All,
}

/// A sweep's settings; [`Sweep::run`] runs it.
#[derive(Clone, Debug)]
pub struct Sweep {
    config: KernelConfig,
    status: NtStatus,
    points: Points,
}

impl Default for Sweep {
    fn default() -> Self {
        Sweep::new()
    }
}

impl Sweep {
    /// Default kernel configuration, `STATUS_NO_MEMORY`, and the entry
    /// points that create or open something.
    pub fn new() -> Sweep {
        Sweep { config: KernelConfig::default(), status: NtStatus::NO_MEMORY, points: Points::CreatesOrOpens }
    }

    /// The configuration of each run's fresh kernel.
    pub fn config(mut self, config: KernelConfig) -> Sweep {
        self.config = config;
        self
    }

    /// The status each injected failure answers with.
    pub fn status(mut self, status: NtStatus) -> Sweep {
        self.status = status;
        self
    }

    /// These entry points are the injectable points.
    pub fn points(mut self, entries: impl IntoIterator<Item = Entry>) -> Sweep {
        self.points = Points::Entries(entries.into_iter().collect());
        self
    }

    /// Every call is an injectable point, destroys and queries included.
    pub fn every_entry_point(mut self) -> Sweep {
        self.points = Points::All;
        self
    }

    fn fault(&self) -> Fault {
        let fault = Fault::status(self.status);
        match &self.points {
            Points::CreatesOrOpens => fault.on_creates(),
            Points::Entries(e) => fault.on_any_of(e.iter().copied()),
            Points::All => fault,
        }
    }

    /// Runs `body` once dry, then once per injectable point with that point
    /// failing, each time on a fresh kernel. `body` makes its processes, does
    /// its work, cleans up on every path, and exits its processes; it returns
    /// the first failure it met (as a caller would pass it on).
    pub fn run(&self, body: impl Fn(&Kernel) -> Result<(), NtStatus>) -> SweepReport {
        let dry = self.run_once(&body, None);
        let points: Vec<FaultRecord> = dry.fault_log.clone();
        let runs = (1..=points.len() as u64).map(|n| self.run_once(&body, Some(n))).collect();
        SweepReport { status: self.status, points, dry, runs }
    }

    fn run_once(&self, body: &impl Fn(&Kernel) -> Result<(), NtStatus>, point: Option<u64>) -> RunOutcome {
        let kernel = Kernel::new(self.config.clone());
        let guard = kernel.arm(match point {
            None => self.fault().every().record_only(),
            Some(n) => self.fault().nth(n),
        });
        let result = catch_unwind(AssertUnwindSafe(|| body(&kernel))).map_err(|panic| {
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string())
        });
        drop(guard);
        let left = kernel.processes();
        let processes_left = left.iter().filter(|p| !p.has_exited()).count();
        for p in &left {
            p.exit();
        }
        drop(left);
        let fault_log = kernel.fault_log();
        RunOutcome {
            point,
            injected: fault_log.iter().find(|r| r.injected).copied(),
            fault_log,
            result,
            processes_left,
            leaks: kernel.leak_report(),
            invariants: kernel.check_invariants(),
        }
    }
}

/// One run of a sweep.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// The point failed (from 1); `None` for the dry run.
    pub point: Option<u64>,
    /// The failure injected, if the body reached the point.
    pub injected: Option<FaultRecord>,
    /// The run's whole fault log (the dry run's lists the points).
    pub fault_log: Vec<FaultRecord>,
    /// What the body returned, or its panic message.
    pub result: Result<Result<(), NtStatus>, String>,
    /// Processes the body left referenced and not exited (the sweep exited them).
    pub processes_left: usize,
    /// The kernel's live objects after the run (and its processes' exit).
    pub leaks: LeakReport,
    /// The kernel's invariants after the run.
    pub invariants: Result<(), String>,
}

impl RunOutcome {
    /// Why the run is not clean, or `None` if it is.
    pub fn problem(&self) -> Option<String> {
        let expected = self.injected.map(|r| r.status);
        match (&self.result, self.point) {
            (Err(panic), _) => return Some(format!("the body panicked: {panic}")),
            (Ok(Err(status)), None) => return Some(format!("the dry run failed with {status}")),
            (Ok(_), Some(_)) if self.injected.is_none() => {
                return Some("the point was not reached (is the body deterministic?)".to_string());
            }
            (Ok(Err(status)), Some(_)) if Some(*status) != expected => {
                return Some(format!("the body ended with {status}, not the injected status or success"));
            }
            _ => {}
        }
        if self.processes_left > 0 {
            return Some(format!("{} process(es) left referenced and not exited", self.processes_left));
        }
        if !self.leaks.is_clean() {
            return Some(format!("leaks after exit:\n{}", self.leaks));
        }
        if let Err(why) = &self.invariants {
            return Some(format!("invariant broken: {why}"));
        }
        None
    }
}

/// What a sweep found.
#[derive(Clone, Debug)]
pub struct SweepReport {
    /// The status injected.
    pub status: NtStatus,
    /// The injectable points the dry run reached, in order.
    pub points: Vec<FaultRecord>,
    /// The dry run.
    pub dry: RunOutcome,
    /// One run per point, in order.
    pub runs: Vec<RunOutcome>,
}

impl SweepReport {
    /// True if the dry run and every point's run are clean.
    pub fn is_clean(&self) -> bool {
        self.dry.problem().is_none() && self.runs.iter().all(|r| r.problem().is_none())
    }

    /// Panics with the report unless [`SweepReport::is_clean`].
    #[track_caller]
    pub fn assert_clean(&self) {
        if !self.is_clean() {
            panic!("fault sweep found problems:\n{self}");
        }
    }
}

impl fmt::Display for SweepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "fault sweep: {} injectable point(s), each failed with {}", self.points.len(), self.status)?;
        if let Some(problem) = self.dry.problem() {
            writeln!(f, "  dry run: {problem}")?;
        }
        for (run, point) in self.runs.iter().zip(&self.points) {
            let place = format!("{} in process {} (call {})", point.entry.name(), point.process.0, point.sequence);
            match run.problem() {
                None => {
                    let ended = match &run.result {
                        Ok(Ok(())) => "success".to_string(),
                        Ok(Err(s)) => s.to_string(),
                        Err(_) => unreachable!("a panic is a problem"),
                    };
                    writeln!(f, "  point {}: {place}: clean, ended with {ended}", run.point.unwrap_or(0))?;
                }
                Some(problem) => writeln!(f, "  point {}: {place}: {problem}", run.point.unwrap_or(0))?,
            }
        }
        Ok(())
    }
}
