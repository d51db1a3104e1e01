//! The call trace: one record per call, taken at the dispatch point, kept in
//! a bounded buffer per kernel, readable from Rust and C, written to a file
//! on request and replayable against a fresh kernel ([`crate::replay`]).
//!
//! # What is recorded
//!
//! Tracing is off by default; while no kernel traces, a call costs one
//! relaxed atomic load here (a global count of tracing kernels). [`Kernel::trace_start`] turns it on for one kernel. From then on
//! every `D3DKMT*` call made as one of its processes leaves a [`Record`]:
//! sequence number, kernel id, process id, a small thread number (1, 2, ...
//! in order of first appearance in this kernel's trace), the operation, the
//! decoded input fields (read before the call), the decoded output fields
//! (read after a successful call; a failed call writes nothing, so it has
//! none), the status, and whether the status was injected by a fault or came
//! from the real call.
//!
//! A few operations that are not `D3DKMT*` calls are recorded too, as
//! events, because a replay needs them: a process created or exited, the
//! control API's NT-handle close and duplicate (`d3dkmt_emu_nt_close`,
//! `d3dkmt_emu_nt_duplicate`), the KMD setting a protected session's
//! status ([`Kernel::set_protected_session_status`]), and the KMD removing
//! or resetting a device or stopping an adapter ([`Kernel::remove_device`],
//! [`Kernel::reset_device`], [`Kernel::remove_adapter`], and the control
//! API's `d3dkmt_emu_kmd_remove_device`, `_reset_device`,
//! `_remove_adapter`; a call naming no live process changes nothing and is
//! not recorded). A record made while
//! another call is in progress on the same thread (a KMD callback calling
//! back into the kernel) is marked `nested`; a replay skips it, since
//! replaying the outer call makes it happen again, or not.
//!
//! Entry points without a decoder (stubs, and `CloseHandle`/`DuplicateHandle`
//! of the `win32-handles` feature, whose arguments the dispatch point does
//! not see) are recorded as `opaque`: entry and status only.
//!
//! # Decoding: reading only what the export reads
//!
//! Each decoded entry point has a declarative description in
//! `specs` (`src/trace/specs.rs`): its windows-sys struct, and per field its offset,
//! width, kind (plain value, D3DKMT handle, NT handle, pointer, address) and
//! direction. Everything is read through `src/abi/ptr.rs`. The argument
//! struct itself is copied before the call (the export reads all of it when
//! it is not NULL). Memory behind its pointers is read only when the export
//! is known to have read it: arrays before the call under exactly the
//! conditions the export reads them (count in range, pointers not NULL,
//! and where the export first looks a handle up, a guard that makes the
//! same lookup: `SetVidPnSourceOwner`'s arrays, `QueryAdapterInfo`'s
//! device-ids input), likewise a timeout behind `pTimeout`, a device path
//! and an object name the export reads first (through the export's own
//! checks), and the structs `CreateAllocation` reads (its standard
//! description and allocation info, under the flag and type checks the
//! export makes first), and the driver data and the queue, context and
//! object arrays of the GPU-work exports (under their count, flag and
//! policy checks); input blobs and output buffers after a successful call
//! only.
//!
//! ## Adding a decoder for a new entry point
//!
//! Add one `spec!` block to the `SPECS` table in `src/trace/specs.rs`:
//!
//! ```text
//! spec!(D3DKMTAcquireKeyedMutex: D3DKMT_ACQUIREKEYEDMUTEX {
//!     hKeyedMutex: U32 Handle In,
//!     Key: U64 Int In,
//!     pTimeout: U64 Ptr In,
//!     KeyNext: U64 Int Out,
//!     FenceValue: U64 Int Out,
//! } extras []),
//! ```
//!
//! Fields are paths into the struct (`Info.Anonymous.MonitoredFence.InitialFenceValue`);
//! `extras` describe memory behind pointers (`InBlob`, `InBlobBefore`,
//! `OutBlob`, `InArray`, `OutRows`, `OutSlot`, `InSlot`, `Struct`,
//! `ObjectName`, `WideStr`) or inside the struct (`InlineText`,
//! `InlineArray` for a fixed array such as `BroadcastContext[64]`,
//! `InlineOut` for an output union such as `QueryResult`), named
//! after their pointer field with a `*` (`*FenceValueArray`), rows as
//! `pAdapters[0].hAdapter`, struct members as `pStandardAllocation->Type`.
//! Handles named `Handle` (D3DKMT, per process), `Nt` (per process) and
//! `Global` (KMT share handles, kernel-wide) are renumbered by the replay;
//! `Addr` values are recorded but not compared; `Fd` values (descriptors
//! the kernel hands out) are checked only for being descriptors; `Ptr`
//! records only NULL or not. That is all a replay needs as well.
//!
//! A pre-call extra whose export reads the memory only after checks of its
//! own (a count in range, another array read first, a policy, a flag) gets
//! a `guard`: a `fn(&Process, &[u8]) -> bool` over the copied struct that
//! makes the same checks, so the trace reads the memory exactly when the
//! export does (`reads_hw_queue_objects`, `reads_submit_data`, ...). A
//! guard may look handles up; it changes nothing.
//!
//! # The format
//!
//! One line per record, the same text as `Record`'s `Display`; a file adds
//! a header line. It is documented in `docs/trace-format.md` and stable:
//! version 1 readers accept what version 1 writers write.
//!
//! ```text
//! d3dkmt-emu-trace 1
//! 1 k7 p1 t1 process.create STATUS_SUCCESS real in out
//! 2 k7 p1 t1 D3DKMTOpenAdapterFromLuid STATUS_SUCCESS real in AdapterLuid.LowPart=0x1234 AdapterLuid.HighPart=0x0 out hAdapter=h:0x40000000
//! ```
//!
//! Tokens: sequence number, `k`kernel, `p`process (0: the kernel itself),
//! `t`thread, operation, status (name, or hex for unknown codes), flags
//! (`real` or `injected`, then `+nested`, `+opaque`), the word `in`, input
//! fields, the word `out`, output fields. A field is `name=value`; a value
//! is `0x..` (plain number), `h:0x..` (D3DKMT handle), `nt:0x..` (NT
//! handle), `g:0x..` (global share handle), `key:0x..` (session key), `p:N` (process id), `ptr:0`/`ptr:1`
//! (NULL or not), `addr:0x..`, `fd:N` (a file descriptor), `bytes:HEX`, `str:TEXT` (percent-escaped), or
//! `[v,v,...]`.
//!
//! # Locks
//!
//! The trace buffer's lock is a leaf: it is taken with no other kernel lock
//! held, and nothing else is locked under it.

use core::ffi::c_void;
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::error::{KResult, KernelError};
use crate::kernel::{Kernel, KernelInner};
use crate::process::Process;
use crate::status::NtStatus;
use crate::support::{ENTRY_POINTS, Entry};
use crate::sync::Mutex;

pub(crate) mod specs;

/// The first line of a trace file, before its version number.
pub const MAGIC: &str = "d3dkmt-emu-trace";
/// The format version this crate writes.
pub const VERSION: u32 = 1;

/// How to trace a kernel: see [`Kernel::trace_start`].
#[derive(Clone, Debug)]
pub struct TraceConfig {
    /// How many records the ring buffer keeps; older ones are dropped (and
    /// counted, see [`Kernel::trace_dropped`]). At least 1.
    pub capacity: usize,
    /// Also append every record to this file as it is made (header first).
    pub file: Option<PathBuf>,
}

impl Default for TraceConfig {
    /// 4096 records, no file.
    fn default() -> Self {
        TraceConfig { capacity: 4096, file: None }
    }
}

/// One decoded value of a record field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A plain number (the field's bits, zero-extended).
    Int(u64),
    /// A D3DKMT handle, renumbered by a replay.
    Handle(u32),
    /// An NT handle, renumbered by a replay.
    Nt(u64),
    /// A global (KMT) share handle: kernel-wide, renumbered by a replay.
    Global(u32),
    /// A protected-session key (the KMD's name for a session), renumbered by
    /// a replay.
    Key(u64),
    /// A virtual process id.
    Process(u32),
    /// A pointer: only whether it was NULL.
    Ptr(bool),
    /// An address the kernel handed out; recorded, never compared.
    Addr(u64),
    /// A file descriptor the kernel handed out (a sync file's): a new one
    /// on every run, so a replay checks only that it is one (not negative).
    Fd(u64),
    /// Bytes behind a pointer.
    Bytes(Vec<u8>),
    /// Text (an object name).
    Str(String),
    /// Array elements.
    List(Vec<Value>),
}

/// A record's named fields, in the order the decoder lists them.
pub type Fields = Vec<(String, Value)>;

/// What a record is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// A `D3DKMT*` (or Win32) export.
    Call(Entry),
    /// A process was created (the record's process is the new one).
    ProcessCreate,
    /// A process exited.
    ProcessExit,
    /// `d3dkmt_emu_nt_close`.
    NtClose,
    /// `d3dkmt_emu_nt_duplicate` (the record's process is the source).
    NtDuplicate,
    /// The KMD set a protected session's status (process 0).
    SessionStatus,
    /// The KMD removed a device (the record's process owns it).
    RemoveDevice,
    /// A TDR hit a device (the record's process owns it).
    ResetDevice,
    /// The KMD stopped an adapter (process 0).
    RemoveAdapter,
}

impl Op {
    /// The name in the trace format.
    pub fn name(self) -> &'static str {
        match self {
            Op::Call(entry) => entry.name(),
            Op::ProcessCreate => "process.create",
            Op::ProcessExit => "process.exit",
            Op::NtClose => "nt.close",
            Op::NtDuplicate => "nt.duplicate",
            Op::SessionStatus => "kmd.session_status",
            Op::RemoveDevice => "kmd.remove_device",
            Op::ResetDevice => "kmd.reset_device",
            Op::RemoveAdapter => "kmd.remove_adapter",
        }
    }

    /// The operation a name stands for.
    pub fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "process.create" => Op::ProcessCreate,
            "process.exit" => Op::ProcessExit,
            "nt.close" => Op::NtClose,
            "nt.duplicate" => Op::NtDuplicate,
            "kmd.session_status" => Op::SessionStatus,
            "kmd.remove_device" => Op::RemoveDevice,
            "kmd.reset_device" => Op::ResetDevice,
            "kmd.remove_adapter" => Op::RemoveAdapter,
            _ => Op::Call(ENTRY_POINTS.iter().find(|(_, n, _)| *n == name)?.0),
        })
    }
}

/// One traced call or event. `Display` gives its line in the trace format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1, 2, ... per kernel, in the order records were completed.
    pub seq: u64,
    /// The kernel's [id](Kernel::id).
    pub kernel: u64,
    /// The calling process's id; 0 for the kernel itself (KMD events).
    pub process: u32,
    /// The calling thread: 1, 2, ... in order of first appearance.
    pub thread: u32,
    /// What was called.
    pub op: Op,
    /// Decoded inputs.
    pub input: Fields,
    /// Decoded outputs (none when the call failed).
    pub output: Fields,
    /// The status returned.
    pub status: NtStatus,
    /// True if an injected fault answered in the call's place.
    pub injected: bool,
    /// True if made while another call was in progress on the same thread.
    pub nested: bool,
    /// True if the entry point has no decoder: inputs and outputs unknown.
    pub opaque: bool,
}

impl Record {
    /// The input field called `name`.
    pub fn input(&self, name: &str) -> Option<&Value> {
        self.input.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The output field called `name`.
    pub fn output(&self, name: &str) -> Option<&Value> {
        self.output.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

fn escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_graphic() && !matches!(b, b'%' | b',' | b'[' | b']') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn unescape(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v:#x}"),
            Value::Handle(h) => write!(f, "h:{h:#x}"),
            Value::Nt(h) => write!(f, "nt:{h:#x}"),
            Value::Global(h) => write!(f, "g:{h:#x}"),
            Value::Key(k) => write!(f, "key:{k:#x}"),
            Value::Process(p) => write!(f, "p:{p}"),
            Value::Ptr(set) => write!(f, "ptr:{}", *set as u8),
            Value::Addr(a) => write!(f, "addr:{a:#x}"),
            Value::Fd(fd) => write!(f, "fd:{fd}"),
            Value::Bytes(b) => {
                f.write_str("bytes:")?;
                b.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            Value::Str(s) => write!(f, "str:{}", escape(s)),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

fn parse_u64(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

impl Value {
    /// Parses a value token of the trace format.
    pub fn parse(text: &str) -> Option<Value> {
        if let Some(inner) = text.strip_prefix('[') {
            let inner = inner.strip_suffix(']')?;
            if inner.is_empty() {
                return Some(Value::List(Vec::new()));
            }
            return inner.split(',').map(Value::parse).collect::<Option<Vec<_>>>().map(Value::List);
        }
        let (tag, rest) = match text.split_once(':') {
            Some((tag, rest)) => (tag, rest),
            None => return parse_u64(text).map(Value::Int),
        };
        Some(match tag {
            "h" => Value::Handle(u32::try_from(parse_u64(rest)?).ok()?),
            "nt" => Value::Nt(parse_u64(rest)?),
            "g" => Value::Global(u32::try_from(parse_u64(rest)?).ok()?),
            "key" => Value::Key(parse_u64(rest)?),
            "p" => Value::Process(rest.parse().ok()?),
            "ptr" => match rest {
                "0" => Value::Ptr(false),
                "1" => Value::Ptr(true),
                _ => return None,
            },
            "addr" => Value::Addr(parse_u64(rest)?),
            "fd" => Value::Fd(rest.parse().ok()?),
            "bytes" => {
                if rest.len() % 2 != 0 {
                    return None;
                }
                let bytes = (0..rest.len())
                    .step_by(2)
                    .map(|i| rest.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                    .collect::<Option<Vec<u8>>>()?;
                Value::Bytes(bytes)
            }
            "str" => Value::Str(unescape(rest)?),
            _ => return None,
        })
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} k{} p{} t{} {} ", self.seq, self.kernel, self.process, self.thread, self.op.name())?;
        match self.status.name() {
            Some(name) => f.write_str(name)?,
            None => write!(f, "{:#010X}", self.status.0 as u32)?,
        }
        f.write_str(if self.injected { " injected" } else { " real" })?;
        if self.nested {
            f.write_str("+nested")?;
        }
        if self.opaque {
            f.write_str("+opaque")?;
        }
        f.write_str(" in")?;
        for (name, value) in &self.input {
            write!(f, " {name}={value}")?;
        }
        f.write_str(" out")?;
        for (name, value) in &self.output {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// Why a trace line could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl std::str::FromStr for Record {
    type Err = ParseError;

    /// Parses one record line of the trace format.
    fn from_str(line: &str) -> Result<Record, ParseError> {
        let bad = |what: &str| ParseError(format!("{what} in {line:?}"));
        let mut tokens = line.split_whitespace();
        let mut next = |what: &str| tokens.next().ok_or_else(|| bad(&format!("missing {what}")));
        let seq = next("sequence number")?.parse().map_err(|_| bad("bad sequence number"))?;
        let tagged = |token: &str, tag: char, what: &str| -> Result<u64, ParseError> {
            token.strip_prefix(tag).and_then(|t| t.parse().ok()).ok_or_else(|| bad(&format!("bad {what}")))
        };
        let kernel = tagged(next("kernel")?, 'k', "kernel")?;
        let process = u32::try_from(tagged(next("process")?, 'p', "process")?).map_err(|_| bad("bad process"))?;
        let thread = u32::try_from(tagged(next("thread")?, 't', "thread")?).map_err(|_| bad("bad thread"))?;
        let op_name = next("operation")?;
        let op = Op::parse(op_name).ok_or_else(|| bad(&format!("unknown operation {op_name}")))?;
        let status = NtStatus::parse(next("status")?).ok_or_else(|| bad("bad status"))?;
        let mut flags = next("flags")?.split('+');
        let injected = match flags.next() {
            Some("real") => false,
            Some("injected") => true,
            _ => return Err(bad("bad flags")),
        };
        let (mut nested, mut opaque) = (false, false);
        for flag in flags {
            match flag {
                "nested" => nested = true,
                "opaque" => opaque = true,
                _ => return Err(bad("unknown flag")),
            }
        }
        if next("`in`")? != "in" {
            return Err(bad("expected `in`"));
        }
        let (mut input, mut output) = (Vec::new(), Vec::new());
        let mut into_output = false;
        for token in tokens {
            if token == "out" && !into_output {
                into_output = true;
                continue;
            }
            let (name, value) = token.split_once('=').ok_or_else(|| bad("field without `=`"))?;
            let value = Value::parse(value).ok_or_else(|| bad(&format!("bad value of {name}")))?;
            if into_output { &mut output } else { &mut input }.push((name.to_string(), value));
        }
        if !into_output {
            return Err(bad("missing `out`"));
        }
        Ok(Record { seq, kernel, process, thread, op, input, output, status, injected, nested, opaque })
    }
}

/// A whole trace file: its header and records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Records the ring buffer dropped before this trace was written (a
    /// replay refuses a trace with gaps).
    pub dropped: u64,
    /// The records, oldest first.
    pub records: Vec<Record>,
}

impl Trace {
    /// Parses a trace file: the header line, then one record per line.
    /// Blank lines and lines starting with `#` are ignored.
    pub fn parse(text: &str) -> Result<Trace, ParseError> {
        let mut lines =
            text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        let (_, header) = lines.next().ok_or_else(|| ParseError("empty trace: no header line".into()))?;
        let mut words = header.split_whitespace();
        if words.next() != Some(MAGIC) {
            return Err(ParseError(format!("not a trace: the header does not start with {MAGIC}")));
        }
        match words.next().map(str::parse::<u32>) {
            Some(Ok(VERSION)) => {}
            Some(Ok(v)) => return Err(ParseError(format!("trace format version {v}; this reader reads {VERSION}"))),
            _ => return Err(ParseError("header without a version".into())),
        }
        let mut trace = Trace::default();
        for word in words {
            match word.split_once('=') {
                Some(("dropped", n)) => {
                    trace.dropped = n.parse().map_err(|_| ParseError(format!("bad header field {word}")))?
                }
                Some(("config", "default")) => {}
                _ => return Err(ParseError(format!("unknown header field {word}"))),
            }
        }
        for (index, line) in lines {
            let record = line.parse::<Record>().map_err(|e| ParseError(format!("line {}: {}", index + 1, e.0)))?;
            trace.records.push(record);
        }
        Ok(trace)
    }

    fn header(dropped: u64) -> String {
        format!("{MAGIC} {VERSION} config=default dropped={dropped}\n")
    }
}

impl fmt::Display for Trace {
    /// The file text: header line, then one line per record.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Trace::header(self.dropped))?;
        self.records.iter().try_for_each(|r| writeln!(f, "{r}"))
    }
}

/// How many kernels are tracing: the one load an untraced call makes.
static TRACING_KERNELS: AtomicUsize = AtomicUsize::new(0);

/// A kernel's trace state.
#[derive(Default)]
pub(crate) struct Tracer {
    enabled: AtomicBool,
    state: Mutex<TraceState>,
}

impl Tracer {
    /// Turns tracing on or off, keeping [`TRACING_KERNELS`] in step.
    fn set_enabled(&self, on: bool) {
        if self.enabled.swap(on, Ordering::SeqCst) != on {
            if on {
                TRACING_KERNELS.fetch_add(1, Ordering::SeqCst);
            } else {
                TRACING_KERNELS.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    #[inline]
    fn is_enabled(&self) -> bool {
        TRACING_KERNELS.load(Ordering::Relaxed) != 0 && self.enabled.load(Ordering::Relaxed)
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        self.set_enabled(false);
    }
}

#[derive(Default)]
struct TraceState {
    capacity: usize,
    records: VecDeque<Record>,
    next_seq: u64,
    dropped: u64,
    threads: HashMap<u64, u32>,
    file: Option<std::io::LineWriter<std::fs::File>>,
    file_error: Option<std::io::Error>,
}

impl Tracer {
    fn push(&self, kernel: u64, mut record: Record) {
        record.kernel = kernel;
        let token = THREAD_TOKEN.try_with(thread_token).unwrap_or(0);
        let mut state = self.state.lock();
        if !self.enabled.load(Ordering::Relaxed) {
            return; // stopped since the call began
        }
        state.next_seq += 1;
        record.seq = state.next_seq;
        let next_thread = state.threads.len() as u32 + 1;
        record.thread = *state.threads.entry(token).or_insert(next_thread);
        if let Some(file) = state.file.as_mut()
            && let Err(e) = writeln!(file, "{record}")
        {
            state.file = None;
            state.file_error = Some(e);
        }
        #[cfg(feature = "tracing")]
        tracing::event!(
            target: "d3dkmt_emu::trace",
            tracing::Level::DEBUG,
            seq = record.seq,
            kernel = record.kernel,
            process = record.process,
            thread = record.thread,
            op = record.op.name(),
            status = %record.status,
            injected = record.injected,
            "{record}"
        );
        if state.records.len() == state.capacity {
            state.records.pop_front();
            state.dropped += 1;
        }
        state.records.push_back(record);
    }
}

static NEXT_THREAD_TOKEN: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's token (0 until first used), mapped to a small number per
    /// kernel.
    static THREAD_TOKEN: Cell<u64> = const { Cell::new(0) };
    /// How many traced calls are in progress on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

fn thread_token(cell: &Cell<u64>) -> u64 {
    if cell.get() == 0 {
        cell.set(NEXT_THREAD_TOKEN.fetch_add(1, Ordering::Relaxed));
    }
    cell.get()
}

fn in_call() -> bool {
    DEPTH.try_with(|d| d.get() > 0).unwrap_or(false)
}

/// A call in progress, as the trace saw it begin: boxed, so that the
/// untraced path carries one NULL pointer.
pub(crate) struct Pending(Box<PendingCall>);

/// Dropping it (also by a panic unwinding past the call) ends the call for
/// nesting.
struct PendingCall {
    process: Process,
    entry: Entry,
    arg: *const c_void,
    input: Option<Fields>,
    nested: bool,
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Starts the record of a call; `arg` is the export's argument pointer (NULL
/// when the export passes none), read but never written.
#[inline]
pub(crate) fn begin(process: &Process, entry: Entry, arg: *const c_void) -> Option<Pending> {
    if !process.0.kernel.trace.is_enabled() {
        return None;
    }
    begin_traced(process, entry, arg)
}

#[cold]
#[inline(never)]
fn begin_traced(process: &Process, entry: Entry, arg: *const c_void) -> Option<Pending> {
    let nested = in_call();
    let _ = DEPTH.try_with(|d| d.set(d.get() + 1));
    let input = specs::find(entry).map(|spec| spec.decode_input(process, arg));
    Some(Pending(Box::new(PendingCall { process: process.clone(), entry, arg, input, nested })))
}

/// Completes the record with the call's result.
#[inline]
pub(crate) fn finish(pending: Option<Pending>, result: &KResult<()>) {
    if let Some(pending) = pending {
        finish_traced(pending, result);
    }
}

#[cold]
#[inline(never)]
fn finish_traced(Pending(mut pending): Pending, result: &KResult<()>) {
    let injected = matches!(result, Err(KernelError::Injected(_)));
    let status = match result {
        Ok(()) => NtStatus::SUCCESS,
        Err(e) => e.status(),
    };
    let spec = specs::find(pending.entry);
    let mut input = pending.input.take().unwrap_or_default();
    let output = match spec {
        Some(spec) if result.is_ok() => {
            let (late_input, output) = spec.decode_after(&pending.process, pending.arg);
            input.extend(late_input);
            output
        }
        _ => Vec::new(),
    };
    let record = Record {
        seq: 0,
        kernel: 0,
        process: pending.process.id().0,
        thread: 0,
        op: Op::Call(pending.entry),
        input,
        output,
        status,
        injected,
        nested: pending.nested,
        opaque: spec.is_none(),
    };
    let kernel = &pending.process.0.kernel;
    kernel.trace.push(kernel.id, record);
}

/// True if `kernel` is tracing: the one check before building an event.
#[inline]
pub(crate) fn enabled(kernel: &KernelInner) -> bool {
    kernel.trace.is_enabled()
}

/// Records an event (not a `D3DKMT*` call). Call only when [`enabled`], with
/// no kernel lock held.
pub(crate) fn event(kernel: &KernelInner, process: u32, op: Op, input: Fields, output: Fields, status: NtStatus) {
    let record = Record {
        seq: 0,
        kernel: 0,
        process,
        thread: 0,
        op,
        input,
        output,
        status,
        injected: false,
        nested: in_call(),
        opaque: false,
    };
    kernel.trace.push(kernel.id, record);
}

/// The status of a result, for events.
pub(crate) fn status_of<T>(result: &KResult<T>) -> NtStatus {
    match result {
        Ok(_) => NtStatus::SUCCESS,
        Err(e) => e.status(),
    }
}

/// Why a trace could not be started.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// A capacity of 0.
    #[error("a trace needs a capacity of at least one record")]
    ZeroCapacity,
    /// The file could not be created or written.
    #[error("trace file: {0}")]
    Io(#[from] std::io::Error),
}

impl Kernel {
    /// Starts tracing this kernel's calls (see [`crate::trace`]), with an
    /// empty buffer; restarting clears the buffer and the sequence numbers.
    /// Records made before are gone.
    pub fn trace_start(&self, config: TraceConfig) -> Result<(), TraceError> {
        if config.capacity == 0 {
            return Err(TraceError::ZeroCapacity);
        }
        let file = match &config.file {
            Some(path) => {
                let mut file = std::io::LineWriter::new(std::fs::File::create(path)?);
                file.write_all(Trace::header(0).as_bytes())?;
                Some(file)
            }
            None => None,
        };
        let mut state = self.0.trace.state.lock();
        *state = TraceState { capacity: config.capacity, file, ..TraceState::default() };
        self.0.trace.set_enabled(true);
        Ok(())
    }

    /// Stops tracing; the buffer is kept for reading. Flushes the file, and
    /// returns the first error writing it, if any.
    pub fn trace_stop(&self) -> std::io::Result<()> {
        self.0.trace.set_enabled(false);
        let mut state = self.0.trace.state.lock();
        let file = state.file.take();
        if let Some(e) = state.file_error.take() {
            return Err(e);
        }
        match file {
            Some(mut file) => file.flush(),
            None => Ok(()),
        }
    }

    /// True while tracing.
    pub fn trace_enabled(&self) -> bool {
        enabled(&self.0)
    }

    /// The records in the buffer, oldest first.
    pub fn trace(&self) -> Vec<Record> {
        self.0.trace.state.lock().records.iter().cloned().collect()
    }

    /// How many records the buffer holds.
    pub fn trace_len(&self) -> usize {
        self.0.trace.state.lock().records.len()
    }

    /// The line of the `index`-th record in the buffer (0 the oldest).
    pub fn trace_line(&self, index: usize) -> Option<String> {
        self.0.trace.state.lock().records.get(index).map(Record::to_string)
    }

    /// How many records the ring buffer has dropped since the trace started.
    pub fn trace_dropped(&self) -> u64 {
        self.0.trace.state.lock().dropped
    }

    /// Empties the buffer (numbering goes on).
    pub fn trace_clear(&self) {
        self.0.trace.state.lock().records.clear();
    }

    /// The last `n` records, one line each, for a failing test's message:
    /// `assert!(ok, "{}", kernel.trace_tail(20))`.
    pub fn trace_tail(&self, n: usize) -> String {
        let state = self.0.trace.state.lock();
        let skip = state.records.len().saturating_sub(n);
        state.records.iter().skip(skip).map(|r| format!("{r}\n")).collect()
    }

    /// The buffer as a [`Trace`] (what [`Kernel::trace_save`] writes).
    pub fn trace_snapshot(&self) -> Trace {
        let state = self.0.trace.state.lock();
        Trace { dropped: state.dropped, records: state.records.iter().cloned().collect() }
    }

    /// Writes the buffer to a trace file.
    pub fn trace_save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.trace_snapshot().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KernelConfig;

    #[test]
    fn an_injected_status_is_marked_injected() {
        let kernel = Kernel::new(KernelConfig::default());
        kernel.trace_start(TraceConfig::default()).unwrap();
        let process = kernel.create_process();
        let pending = begin(&process, Entry::D3DKMTCloseAdapter, core::ptr::null());
        finish(pending, &Err(KernelError::Injected(NtStatus::NO_MEMORY)));
        let last = kernel.trace().pop().unwrap();
        assert!(last.injected);
        assert_eq!(last.status, NtStatus::NO_MEMORY);
        assert_eq!(last.input, vec![("args".to_string(), Value::Ptr(false))]);
        assert!(last.to_string().contains("STATUS_NO_MEMORY injected in args=ptr:0 out"), "{last}");
        assert_eq!(last.to_string().parse::<Record>().unwrap(), last);
    }

    /// Every emulated entry point has a decoder, so a trace of it replays.
    /// `CloseHandle` and `DuplicateHandle` are the exceptions: the dispatch
    /// point does not see their arguments. A new emulated entry point needs
    /// a `spec!` block in `src/trace/specs.rs` (see the module docs).
    #[test]
    fn every_emulated_entry_point_has_a_decoder() {
        use crate::support::Support;
        let missing: Vec<&str> = ENTRY_POINTS
            .iter()
            .filter(|(_, _, support)| !matches!(support, Support::Stub))
            .filter(|(entry, _, _)| !matches!(entry, Entry::CloseHandle | Entry::DuplicateHandle))
            .filter(|(entry, _, _)| specs::find(*entry).is_none())
            .map(|(_, name, _)| *name)
            .collect();
        assert!(missing.is_empty(), "emulated entry points without a decoder: {missing:?}");
        for spec in specs::SPECS {
            let same = specs::SPECS.iter().filter(|s| s.entry == spec.entry).count();
            assert_eq!(same, 1, "{:?} has {same} decoders", spec.entry);
        }
    }

    #[test]
    fn values_round_trip_through_text() {
        let values = [
            Value::Int(0),
            Value::Int(u64::MAX),
            Value::Handle(0x4000_0040),
            Value::Nt(0x1_0000_0004),
            Value::Global(0x4000_0002),
            Value::Key(7),
            Value::Process(3),
            Value::Ptr(true),
            Value::Addr(0x7F00_0000_0000),
            Value::Fd(7),
            Value::Bytes(b"driver".to_vec()),
            Value::Bytes(Vec::new()),
            Value::Str("a name, with [odd] % chars\n".into()),
            Value::List(vec![Value::Handle(1), Value::Int(2)]),
            Value::List(Vec::new()),
        ];
        for v in values {
            assert_eq!(Value::parse(&v.to_string()), Some(v.clone()), "{v}");
        }
    }

    #[test]
    fn nesting_is_counted_per_thread_and_survives_unwinding() {
        let kernel = Kernel::new(KernelConfig::default());
        kernel.trace_start(TraceConfig::default()).unwrap();
        let process = kernel.create_process();
        let outer = begin(&process, Entry::D3DKMTCloseAdapter, core::ptr::null());
        let inner = begin(&process, Entry::D3DKMTCloseAdapter, core::ptr::null());
        finish(inner, &Ok(()));
        drop(outer); // as if the call panicked
        let fresh = begin(&process, Entry::D3DKMTCloseAdapter, core::ptr::null());
        finish(fresh, &Ok(()));
        let records = kernel.trace();
        let nested: Vec<bool> = records.iter().filter(|r| matches!(r.op, Op::Call(_))).map(|r| r.nested).collect();
        assert_eq!(nested, [true, false]);
    }
}
