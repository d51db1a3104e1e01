//! Replay: re-issue a recorded [`Trace`] against a fresh kernel and report
//! the first place it behaves differently.
//!
//! A replay makes a kernel with [`KernelConfig::default`] and the default
//! KMD, and a new virtual process for each recorded process id (on its
//! `process.create` record, or when first seen). Each recorded call is
//! rebuilt from its inputs and made through the real export, on the
//! replaying thread bound to that process; events are re-done through the
//! same kernel operations the control API uses.
//!
//! Handles are renumbered semantically: a replayed call's output handle
//! *stands for* the recorded one, so later inputs naming the recorded value
//! get the replayed value (D3DKMT and NT handles per process; session keys
//! and global (KMT) share handles per kernel, since any process may open a
//! global handle another created). A recorded value never learned (a
//! garbage handle in a negative test) is passed as it is.
//!
//! Compared, in order: the status; then every output field: handles and keys
//! must agree in being NULL or not, pointers likewise, addresses are not
//! compared, file descriptors must both be descriptors (not negative),
//! everything else (values, bytes, text) must be equal, and both sides must
//! have the same output fields. Only a call that returned
//! `STATUS_SUCCESS` has outputs (`STATUS_TIMEOUT` and `STATUS_ABANDONED`
//! are success-class codes that write nothing).
//!
//! What is not compared, and why: addresses the kernel hands out (`addr:`,
//! a monitored fence's GPU VA); pointers into the caller's own buffers that
//! an export writes (`OpenResource`'s per-allocation driver-data pointer,
//! a monitored fence's CPU VA), recorded only as NULL or not. Output blobs
//! (`*pPrivateDriverData` of `QueryAdapterInfo`, the driver data an open
//! copies out) are compared byte for byte over the size the caller gave,
//! which those exports fill exactly. `AcquireKeyedMutex2`'s runtime-data
//! buffer is the exception: the export copies the released data (which may
//! be shorter) and reports no length, so bytes past it are the caller's own
//! and replay as zeros; a recording that passes a larger buffer holding
//! other bytes there diverges on them. The first difference stops the
//! replay with a [`Divergence`] naming the record, what differed, and the
//! records before it.
//!
//! GPU work: the fake GPU runs submissions, queued signals and waits in a
//! deterministic order, so a replay re-issued in the recorded order reaches
//! the same fence values; they show in what is compared (`QueryStatistics`'
//! `QueryResult`, whole: packets submitted and completed), in the CPU waits
//! (checked as above, so a queue left blocked is a divergence, not a hang)
//! and in the escape's answer (the KMD's bytes, compared over the size
//! given). Not compared, and why: the GPU VAs a legacy context hands out
//! (`CommandBuffer`, `NewCommandBuffer`, `addr:`) and its buffer pointers
//! (`ptr:`, in our memory); a submission's `Commands`/`CommandBuffer` is a
//! GPU VA passed as recorded, and the command bytes `Render` submits from
//! the context's buffer are not recorded (the default KMD a replay runs
//! does not look at them; a recording made with a KMD that does would need
//! them); a sync file's descriptor (`fd:`) is a new one on every run, and
//! whether it has become readable is not recorded (it is not an output of
//! the call). The replay plays the caller that owns the descriptors it is
//! handed: it keeps them until it ends, then closes them. Hardware contexts
//! replay under the default [`crate::HwContexts`] policy (refused, as
//! Windows 11), like every other policy a recording kernel may have
//! changed.
//!
//! Skipped: `nested` records (the outer call re-does them), `opaque` ones
//! (no decoder: nothing to rebuild) and `injected` ones (an injected fault
//! answered in the call's place and changed nothing). A
//! `D3DKMTWaitForSynchronizationObjectFromCpu` the recording saw succeed is
//! checked before it is made: if the replayed fences have not reached their
//! values, the replay reports a divergence instead of blocking forever.
//!
//! Keyed-mutex acquires: a recording of several processes made from one
//! thread never blocks, and the replay re-issues calls in the recorded
//! order, so an acquire the recording saw return finds its key free. An
//! acquire recorded without a timeout (`pTimeout` NULL) is replayed with a
//! one-tick timeout instead: if the key is free (or the mutex abandoned) it
//! returns as recorded; if it is not (the replay diverged earlier, or the
//! trace was changed) it times out at once on the replay kernel's virtual
//! clock and the replay reports that the acquire would wait for ever. An
//! acquire recorded with a timeout is replayed with it: on the virtual
//! clock it passes without wall time when nothing can release the key.
//!
//! Input blobs (runtime and driver data an export copies in once its
//! handles check out) are recorded for successful calls only; a failed call
//! is rebuilt with zero-filled buffers of the recorded sizes there, which
//! no export's status depends on. Inputs the exports read first (arrays,
//! timeouts, names, device paths, the device-ids input, `CreateAllocation`'s
//! standard description and allocation info, the GPU-work exports' driver
//! data and object, context and queue arrays) are recorded for failed calls
//! too, so those replay with their status.
//!
//! Events: `process.create`/`exit`, `nt.close`/`duplicate` and the KMD's
//! `kmd.session_status`, `kmd.remove_device`, `kmd.reset_device` and
//! `kmd.remove_adapter` are re-done through the same kernel operations.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crate::adapter::Luid;
use crate::handle::{LocalHandle, NtHandle};
use crate::kmd::{SessionKey, SessionStatus};
use crate::removal::DeviceLoss;
use crate::shared::DuplicateOptions;
use crate::support::Entry;
use crate::trace::{Fields, Op, ParseError, Record, Trace, Value, specs};
use crate::{Kernel, KernelConfig, NtStatus, Process};

/// The timeout a replayed acquire without one gets: one tick (100 ns,
/// relative). On the replay kernel's virtual clock it passes at once when
/// the key is not free, since the replaying thread is the only one.
const TRY_ONCE: i64 = -1;

/// How many records before the divergent one a report shows.
pub const CONTEXT: usize = 5;

/// A replay that ran to the end without diverging.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records in the trace.
    pub records: usize,
    /// Records re-issued and matched.
    pub replayed: usize,
    /// Records skipped (nested, opaque or injected).
    pub skipped: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "replayed clean: {} records, {} re-issued, {} skipped", self.records, self.replayed, self.skipped)
    }
}

/// The first record whose replay differed from the recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The record's position in the trace (0 the first record).
    pub index: usize,
    /// The recorded record.
    pub record: Record,
    /// What differed, in a sentence.
    pub what: String,
    /// The replayed call's status and outputs, if it was made.
    pub replayed: Option<(NtStatus, Fields)>,
    /// Up to [`CONTEXT`] records before it, oldest first.
    pub context: Vec<Record>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "first divergence at record {} ({}, trace record #{}): {}",
            self.record.seq,
            self.record.op.name(),
            self.index + 1,
            self.what
        )?;
        writeln!(f, "context:")?;
        for r in &self.context {
            writeln!(f, "    {r}")?;
        }
        writeln!(f, "  > {}", self.record)?;
        if let Some((status, output)) = &self.replayed {
            write!(f, "replayed: {status} out")?;
            for (name, value) in output {
                write!(f, " {name}={value}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

/// Why a trace could not be replayed at all.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read.
    #[error("cannot read the trace: {0}")]
    Io(#[from] std::io::Error),
    /// The text is not a trace.
    #[error("bad trace: {0}")]
    Parse(#[from] ParseError),
    /// The trace has gaps.
    #[error("the trace lost {0} records to its ring buffer; it cannot be replayed")]
    Dropped(u64),
}

/// The outcome of a replay that could run.
pub type Outcome = Result<Summary, Box<Divergence>>;

/// Reads and replays a trace file.
pub fn replay_file(path: impl AsRef<Path>) -> Result<Outcome, ReplayError> {
    replay_text(&std::fs::read_to_string(path)?)
}

/// Parses and replays trace text.
pub fn replay_text(text: &str) -> Result<Outcome, ReplayError> {
    let trace = Trace::parse(text)?;
    if trace.dropped > 0 {
        return Err(ReplayError::Dropped(trace.dropped));
    }
    Ok(replay(&trace))
}

/// Replays `trace` against a fresh default kernel.
pub fn replay(trace: &Trace) -> Outcome {
    let mut replayer = Replayer::new();
    let mut summary = Summary { records: trace.records.len(), ..Summary::default() };
    for (index, record) in trace.records.iter().enumerate() {
        if record.nested || record.opaque || record.injected {
            summary.skipped += 1;
            continue;
        }
        if let Err((what, replayed)) = replayer.step(record) {
            let context = trace.records[index.saturating_sub(CONTEXT)..index].to_vec();
            return Err(Box::new(Divergence { index, record: record.clone(), what, replayed, context }));
        }
        summary.replayed += 1;
    }
    Ok(summary)
}

type StepError = (String, Option<(NtStatus, Fields)>);

struct Replayer {
    kernel: Kernel,
    processes: HashMap<u32, Process>,
    local: HashMap<(u32, u32), u32>,
    nt: HashMap<(u32, u64), u64>,
    keys: HashMap<u64, u64>,
    globals: HashMap<u32, u32>,
    /// Descriptors the replayed calls handed out (sync files): the replay
    /// plays the caller that owns them, and closes them when it ends.
    fds: Vec<std::os::fd::OwnedFd>,
}

impl Replayer {
    fn new() -> Replayer {
        Replayer {
            kernel: Kernel::new(KernelConfig::default()),
            processes: HashMap::new(),
            local: HashMap::new(),
            nt: HashMap::new(),
            keys: HashMap::new(),
            globals: HashMap::new(),
            fds: Vec::new(),
        }
    }

    fn process(&mut self, pid: u32) -> Process {
        self.processes.entry(pid).or_insert_with(|| self.kernel.create_process()).clone()
    }

    /// The value to pass for a recorded value, as seen by process `pid`.
    fn raw(&self, pid: u32, v: &Value) -> u64 {
        match *v {
            Value::Handle(h) => self.local.get(&(pid, h)).copied().unwrap_or(h) as u64,
            Value::Nt(h) => self.nt.get(&(pid, h)).copied().unwrap_or(h),
            Value::Key(k) => self.keys.get(&k).copied().unwrap_or(k),
            Value::Global(g) => self.globals.get(&g).copied().unwrap_or(g) as u64,
            Value::Process(p) => p as u64,
            Value::Int(v) | Value::Addr(v) | Value::Fd(v) => v,
            Value::Ptr(set) => set as u64,
            Value::Bytes(_) | Value::Str(_) | Value::List(_) => 0,
        }
    }

    /// Compares one output value and learns the handle it stands for.
    fn learn(&mut self, pid: u32, name: &str, recorded: &Value, replayed: &Value) -> Result<(), String> {
        let nullness = |a: bool, b: bool| {
            if a == b { Ok(()) } else { Err(format!("output {name}: recorded {recorded}, replayed {replayed}")) }
        };
        match (recorded, replayed) {
            (&Value::Handle(a), &Value::Handle(b)) => {
                nullness(a == 0, b == 0)?;
                self.local.insert((pid, a), b);
            }
            (&Value::Nt(a), &Value::Nt(b)) => {
                nullness(a == 0, b == 0)?;
                self.nt.insert((pid, a), b);
            }
            (&Value::Global(a), &Value::Global(b)) => {
                nullness(a == 0, b == 0)?;
                self.globals.insert(a, b);
            }
            (&Value::Key(a), &Value::Key(b)) => {
                self.keys.insert(a, b);
            }
            (Value::Addr(_), Value::Addr(_)) => {}
            // A new descriptor on every run: only that it is one.
            (&Value::Fd(a), &Value::Fd(b)) => nullness((a as i32) < 0, (b as i32) < 0)?,
            (a, b) if a == b => {}
            _ => return Err(format!("output {name}: recorded {recorded}, replayed {replayed}")),
        }
        Ok(())
    }

    fn compare(&mut self, pid: u32, recorded: &Fields, replayed: &Fields) -> Result<(), String> {
        for (name, value) in recorded {
            let Some((_, got)) = replayed.iter().find(|(n, _)| n == name) else {
                return Err(format!("output {name}={value} was not produced by the replay"));
            };
            self.learn(pid, name, value, got)?;
        }
        if let Some((name, value)) = replayed.iter().find(|(n, _)| !recorded.iter().any(|(m, _)| m == n)) {
            return Err(format!("the replay produced output {name}={value}, which the record has not"));
        }
        Ok(())
    }

    fn step(&mut self, record: &Record) -> Result<(), StepError> {
        let pid = record.process;
        let input = |name: &str| record.input(name).ok_or_else(|| (format!("the record has no input {name}"), None));
        let (status, output) = match record.op {
            Op::Call(entry) => return self.call(entry, record),
            Op::ProcessCreate => {
                self.process(pid);
                (NtStatus::SUCCESS, Vec::new())
            }
            Op::ProcessExit => {
                self.process(pid).exit();
                (NtStatus::SUCCESS, Vec::new())
            }
            Op::NtClose => {
                let handle = self.raw(pid, input("handle")?);
                (status_of(self.process(pid).close_nt_handle(NtHandle(handle))), Vec::new())
            }
            Op::NtDuplicate => {
                let handle = self.raw(pid, input("handle")?);
                let Value::Process(target) = *input("target")? else {
                    return Err(("input target is not a process".into(), None));
                };
                let access = self.raw(pid, input("access")?) as u32;
                let options = self.raw(pid, input("options")?) as u32;
                let (from, to) = (self.process(pid), self.process(target));
                let result = DuplicateOptions::from_bits(options)
                    .and_then(|o| from.duplicate_nt_handle(NtHandle(handle), &to, access, o));
                let status = status_of(result.as_ref().map(|_| ()).map_err(Clone::clone));
                let output = match result {
                    Ok(h) => vec![("target_handle".to_string(), Value::Nt(h.0))],
                    Err(_) => Vec::new(),
                };
                if status != record.status {
                    return Err((status_differs(record.status, status), Some((status, output))));
                }
                // The new handle is the target process's.
                return self.compare(target, &record.output, &output).map_err(|what| (what, Some((status, output))));
            }
            Op::SessionStatus => {
                let key = self.raw(0, input("key")?);
                let raw = self.raw(0, input("status")?);
                let Some(status) = SessionStatus::from_raw(raw as i32) else {
                    return Err((format!("unknown session status {raw}"), None));
                };
                (status_of(self.kernel.set_protected_session_status(SessionKey(key), status)), Vec::new())
            }
            Op::RemoveDevice => {
                let device = LocalHandle(self.raw(pid, input("device")?) as u32);
                let raw = self.raw(pid, input("reason")?);
                let Some(why) = i32::try_from(raw).ok().and_then(DeviceLoss::from_raw) else {
                    return Err((format!("unknown device-loss reason {raw}"), None));
                };
                (status_of(self.process(pid).remove_device_by_kmd(device, why)), Vec::new())
            }
            Op::ResetDevice => {
                let device = LocalHandle(self.raw(pid, input("device")?) as u32);
                (status_of(self.process(pid).reset_device_by_kmd(device)), Vec::new())
            }
            Op::RemoveAdapter => {
                let low = self.raw(0, input("AdapterLuid.LowPart")?) as u32;
                let high = self.raw(0, input("AdapterLuid.HighPart")?) as u32 as i32;
                (status_of(self.kernel.remove_adapter(Luid { low, high })), Vec::new())
            }
        };
        if status != record.status {
            return Err((status_differs(record.status, status), Some((status, output))));
        }
        self.compare(pid, &record.output, &output).map_err(|what| (what, Some((status, output))))
    }

    fn call(&mut self, entry: Entry, record: &Record) -> Result<(), StepError> {
        let pid = record.process;
        let Some(spec) = specs::find(entry) else {
            return Err((format!("{} has no decoder; it cannot be replayed", entry.name()), None));
        };
        let process = self.process(pid);
        if entry == Entry::D3DKMTWaitForSynchronizationObjectFromCpu && record.status.is_ok() {
            self.check_wait_would_return(&process, record)?;
        }
        // An acquire the recording saw return without a timeout is tried
        // once instead: in the recorded order it never has to wait.
        let try_once = matches!(entry, Entry::D3DKMTAcquireKeyedMutex | Entry::D3DKMTAcquireKeyedMutex2)
            && record.input("pTimeout") == Some(&Value::Ptr(false));
        let input = if try_once {
            let mut input = record.input.clone();
            input.iter_mut().filter(|(n, _)| n == "pTimeout").for_each(|(_, v)| *v = Value::Ptr(true));
            input.push(("*pTimeout".into(), Value::Int(TRY_ONCE as u64)));
            input
        } else {
            record.input.clone()
        };
        let mut built = spec.build(&input, &|v| self.raw(pid, v)).map_err(|what| (what, None))?;
        let status = NtStatus(process.run(|| (spec.call)(built.arg())));
        // Only a call that succeeded writes (and records) outputs; some
        // failures (STATUS_TIMEOUT, STATUS_ABANDONED) are success-class codes.
        let output = if status == NtStatus::SUCCESS { spec.decode_after(&process, built.arg()).1 } else { Vec::new() };
        for (_, value) in &output {
            if let &Value::Fd(fd) = value
                && let Some(owned) = crate::abi::ptr::own_fd(fd as i32)
            {
                self.fds.push(owned);
            }
        }
        if try_once && status == NtStatus::TIMEOUT {
            let what = format!(
                "the recorded acquire (no timeout) returned {}, but the replayed one would wait for ever: \
                 the key is not free in the replay",
                record.status
            );
            return Err((what, Some((status, output))));
        }
        if status != record.status {
            return Err((status_differs(record.status, status), Some((status, output))));
        }
        self.compare(pid, &record.output, &output).map_err(|what| (what, Some((status, output))))
    }

    /// A recorded wait returned; if the replayed fences are not there yet,
    /// the replayed wait would block for good.
    fn check_wait_would_return(&self, process: &Process, record: &Record) -> Result<(), StepError> {
        let (Some(Value::List(handles)), Some(Value::List(values))) =
            (record.input("*ObjectHandleArray"), record.input("*FenceValueArray"))
        else {
            return Ok(());
        };
        let wait_any = record.input("Flags").is_some_and(|f| self.raw(record.process, f) & 1 != 0);
        let reached: Vec<bool> = handles
            .iter()
            .zip(values)
            .map(|(h, v)| {
                let handle = LocalHandle(self.raw(record.process, h) as u32);
                process.fence_value(handle).map_or(true, |now| now >= self.raw(record.process, v))
            })
            .collect();
        let returns = if wait_any { reached.iter().any(|&r| r) } else { reached.iter().all(|&r| r) };
        if returns {
            Ok(())
        } else {
            Err(("the recorded wait returned, but the replayed fences have not reached its values".into(), None))
        }
    }
}

fn status_of(result: crate::KResult<()>) -> NtStatus {
    match result {
        Ok(()) => NtStatus::SUCCESS,
        Err(e) => e.status(),
    }
}

fn status_differs(recorded: NtStatus, replayed: NtStatus) -> String {
    format!("status: recorded {recorded}, replayed {replayed}")
}
