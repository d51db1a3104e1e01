//! Workload benchmarks for the `D3DKMT*` exports, against a floor of the bare
//! data structures (an uncontended `parking_lot::Mutex<slab::Slab<u64>>`).
//!
//! A self-contained harness (no criterion): each workload warms up, then runs
//! a fixed number of iterations five times and reports the median ns/op. At
//! the end it prints the project's ratio targets as "met" or "missed"; a
//! missed target never fails the run.
//!
//! `cargo bench --bench workloads -- --quick` (or `D3DKMT_BENCH_QUICK=1`)
//! runs ten times fewer iterations, for a CI smoke run. Run without `--bench`
//! (which `cargo bench` passes), as by `cargo test --benches`, it only checks
//! that every workload works: a thousandth of the iterations, one repetition. Naming workload
//! groups (`floor`, `w1`, `w2`, `w3`, `w4`, `w5`) after `--` runs only those.
//!
//! Every D3DKMT call goes through the C ABI: the crate's exported
//! `extern "system"` functions, called with windows-sys structs.

#![allow(unsafe_code, reason = "the bench calls the crate's exported C entry points through C function pointers")]

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use d3dkmt_emu::{DuplicateOptions, Kernel, KernelConfig, NtHandle, Process};
use parking_lot::Mutex;
use slab::Slab;
use windows_sys::Wdk::Foundation::OBJECT_ATTRIBUTES;
use windows_sys::Wdk::Graphics::Direct3D::{
    D3DDDI_MONITORED_FENCE, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS, D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0,
    D3DDDI_SYNCHRONIZATIONOBJECTINFO2, D3DKMT_CREATEDEVICE, D3DKMT_CREATEDEVICE_0, D3DKMT_CREATEPROTECTEDSESSION,
    D3DKMT_CREATESYNCHRONIZATIONOBJECT2, D3DKMT_DESTROYPROTECTEDSESSION, D3DKMT_DESTROYSYNCHRONIZATIONOBJECT,
    D3DKMT_OPENADAPTERFROMLUID, D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE, D3DKMT_PROTECTED_SESSION_STATUS_OK,
    D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE, D3DKMT_QUERYPROTECTEDSESSIONSTATUS,
};
use windows_sys::Win32::Foundation::{HANDLE, LUID, NTSTATUS};
// windows-sys's declarations of the gdi32 imports: on Linux they carry no
// library, so they resolve to this crate's `#[no_mangle]` exports, as they do
// for any code written against windows-sys.
use windows_sys::Wdk::Graphics::Direct3D as exports;

/// Timed repetitions per workload; the median is reported.
const REPS: usize = 5;
/// `GENERIC_ALL`, the access the protected session is shared with.
const GENERIC_ALL: u32 = 0x1000_0000;
/// `Shared | NtSecuritySharing` in `D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS`.
const SHARED_NT: u32 = 0x3;
/// The default kernel configuration's adapter LUID.
const ADAPTER_LUID: LUID = LUID { LowPart: 0x1234, HighPart: 0 };
/// The protected session's blobs.
const DRIVER_BLOB: [u8; 16] = *b"driver-blob-0123";
const RUNTIME_BLOB: [u8; 8] = *b"runtime!";

// ---------------------------------------------------------------------------
// The C entry points.
//
// Each export is taken as the `unsafe extern "system"` function pointer a C
// caller would hold (what windows-sys's `PFND3DKMT_*` types wrap), and wrapped
// in a function taking references, so the pointers handed over are always
// valid for the call.
// ---------------------------------------------------------------------------

macro_rules! thunk {
    ($(fn $name:ident($arg:ty) = $export:ident as $ptr:ty;)*) => {$(
        fn $name(args: $arg) -> NTSTATUS {
            let f: unsafe extern "system" fn($ptr) -> NTSTATUS = exports::$export;
            // SAFETY: `args` is a valid, aligned, initialised struct of the
            // type the export takes, borrowed (exclusively, if the export
            // writes) for the whole call; the export keeps no pointer to it.
            unsafe { f(args) }
        }
    )*};
}

thunk! {
    fn open_adapter_from_luid(&mut D3DKMT_OPENADAPTERFROMLUID) = D3DKMTOpenAdapterFromLuid
        as *mut D3DKMT_OPENADAPTERFROMLUID;
    fn create_device(&mut D3DKMT_CREATEDEVICE) = D3DKMTCreateDevice as *mut D3DKMT_CREATEDEVICE;
    fn create_sync_object2(&mut D3DKMT_CREATESYNCHRONIZATIONOBJECT2) = D3DKMTCreateSynchronizationObject2
        as *mut D3DKMT_CREATESYNCHRONIZATIONOBJECT2;
    fn destroy_sync_object(&D3DKMT_DESTROYSYNCHRONIZATIONOBJECT) = D3DKMTDestroySynchronizationObject
        as *const D3DKMT_DESTROYSYNCHRONIZATIONOBJECT;
    fn create_protected_session(&mut D3DKMT_CREATEPROTECTEDSESSION) = D3DKMTCreateProtectedSession
        as *mut D3DKMT_CREATEPROTECTEDSESSION;
    fn destroy_protected_session(&mut D3DKMT_DESTROYPROTECTEDSESSION) = D3DKMTDestroyProtectedSession
        as *mut D3DKMT_DESTROYPROTECTEDSESSION;
    fn query_protected_session_status(&mut D3DKMT_QUERYPROTECTEDSESSIONSTATUS) = D3DKMTQueryProtectedSessionStatus
        as *mut D3DKMT_QUERYPROTECTEDSESSIONSTATUS;
    fn query_protected_session_info(&mut D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE)
        = D3DKMTQueryProtectedSessionInfoFromNtHandle as *mut D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE;
    fn open_protected_session(&mut D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE) = D3DKMTOpenProtectedSessionFromNtHandle
        as *mut D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE;
}

/// `D3DKMTShareObjects` for a list of handles, with no name.
fn share_objects(objects: &[u32], access: u32, out: &mut HANDLE) -> NTSTATUS {
    let f: unsafe extern "system" fn(u32, *const u32, *const OBJECT_ATTRIBUTES, u32, *mut HANDLE) -> NTSTATUS =
        exports::D3DKMTShareObjects;
    // SAFETY: `objects` points at `objects.len()` valid handles, NULL object
    // attributes mean no name, and `out` is a valid exclusive out-pointer for
    // the call.
    unsafe { f(objects.len() as u32, objects.as_ptr(), core::ptr::null(), access, out) }
}

/// Panics (with the emulator's explanation) unless a call succeeded: a failed
/// call is a bug in the bench or the crate, not a slow run.
#[track_caller]
fn ok(status: NTSTATUS, what: &str) {
    if status != 0 {
        let why = d3dkmt_emu::last_error().map(|(_, m)| m).unwrap_or_default();
        panic!("{what} failed with {status:#010x}: {why}");
    }
}

// ---------------------------------------------------------------------------
// Set-up helpers (untimed), all through the C ABI on the bound thread.
// ---------------------------------------------------------------------------

/// Opens the default adapter and creates a device on it, as the bound process.
fn open_device() -> u32 {
    let mut open = D3DKMT_OPENADAPTERFROMLUID { AdapterLuid: ADAPTER_LUID, hAdapter: 0 };
    ok(open_adapter_from_luid(&mut open), "D3DKMTOpenAdapterFromLuid");
    let mut create =
        D3DKMT_CREATEDEVICE { Anonymous: D3DKMT_CREATEDEVICE_0 { hAdapter: open.hAdapter }, ..Default::default() };
    ok(create_device(&mut create), "D3DKMTCreateDevice");
    create.hDevice
}

/// `D3DKMTCreateSynchronizationObject2` for a monitored fence on `device`.
#[inline(always)]
fn create_fence(device: u32, flags: u32) -> u32 {
    let mut args = D3DKMT_CREATESYNCHRONIZATIONOBJECT2 {
        hDevice: device,
        Info: D3DDDI_SYNCHRONIZATIONOBJECTINFO2 {
            Type: D3DDDI_MONITORED_FENCE,
            Flags: D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS {
                Anonymous: D3DDDI_SYNCHRONIZATIONOBJECT_FLAGS_0 { Value: flags },
            },
            ..Default::default()
        },
        hSyncObject: 0,
    };
    ok(create_sync_object2(black_box(&mut args)), "D3DKMTCreateSynchronizationObject2");
    args.hSyncObject
}

/// `D3DKMTDestroySynchronizationObject`.
#[inline(always)]
fn destroy_fence(handle: u32) {
    let args = D3DKMT_DESTROYSYNCHRONIZATIONOBJECT { hSyncObject: handle };
    ok(destroy_sync_object(black_box(&args)), "D3DKMTDestroySynchronizationObject");
}

/// `D3DKMTCreateProtectedSession` on `device` with `fence` as status fence.
fn create_session(device: u32, fence: u32) -> u32 {
    let mut args = D3DKMT_CREATEPROTECTEDSESSION {
        hDevice: device,
        hSyncObject: fence,
        pPrivateDriverData: DRIVER_BLOB.as_ptr().cast(),
        PrivateDriverDataSize: DRIVER_BLOB.len() as u32,
        pPrivateRuntimeData: RUNTIME_BLOB.as_ptr().cast(),
        PrivateRuntimeDataSize: RUNTIME_BLOB.len() as u32,
        hHandle: 0,
    };
    ok(create_protected_session(black_box(&mut args)), "D3DKMTCreateProtectedSession");
    args.hHandle
}

/// `D3DKMTDestroyProtectedSession`.
fn destroy_session(handle: u32) {
    let mut args = D3DKMT_DESTROYPROTECTEDSESSION { hHandle: handle };
    ok(destroy_protected_session(black_box(&mut args)), "D3DKMTDestroyProtectedSession");
}

/// `D3DKMTQueryProtectedSessionStatus`; returns the status.
#[inline(always)]
fn session_status(handle: u32) -> i32 {
    let mut args = D3DKMT_QUERYPROTECTEDSESSIONSTATUS { hHandle: handle, Status: -1 };
    ok(query_protected_session_status(black_box(&mut args)), "D3DKMTQueryProtectedSessionStatus");
    args.Status
}

/// A new process of `kernel` with a device and `live` monitored fences on it.
fn process_with_fences(kernel: &Kernel, live: usize) -> (Process, u32) {
    let process = kernel.create_process();
    let device = process.run(|| {
        let device = open_device();
        for _ in 0..live {
            create_fence(device, 0);
        }
        device
    });
    (process, device)
}

// ---------------------------------------------------------------------------
// The harness.
// ---------------------------------------------------------------------------

struct Bench {
    /// The iteration counts are divided by this.
    divisor: u64,
    /// Timed repetitions per workload.
    reps: usize,
    /// Lower-case workload names given on the command line; empty runs all.
    filters: Vec<String>,
}

impl Bench {
    fn new() -> Bench {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        let env = std::env::var("D3DKMT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        // `cargo bench` passes `--bench`; other flags are ignored too.
        let filters = args.iter().filter(|a| !a.starts_with('-')).map(|a| a.to_lowercase()).collect();
        let (divisor, reps) = if !args.iter().any(|a| a == "--bench") {
            (1000, 1)
        } else if quick || env {
            (10, REPS)
        } else {
            (1, REPS)
        };
        Bench { divisor, reps, filters }
    }

    /// Whether the workload group `group` (`floor`, `w1` .. `w4`) runs: all
    /// do unless names are given (`cargo bench --bench workloads -- w2 floor`).
    fn selected(&self, group: &str) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| f == group)
    }

    /// The iteration count for a workload: `full`, divided in quick and test mode.
    fn iters(&self, full: u64) -> u64 {
        (full / self.divisor).max(1)
    }

    /// Runs `run(iters)` (which returns the time its `iters` operations took,
    /// set-up excluded) once to warm up and then `reps` times, prints a row,
    /// and returns the median ns/op.
    fn measure(&self, name: &str, full_iters: u64, mut run: impl FnMut(u64) -> Duration) -> f64 {
        let iters = self.iters(full_iters);
        black_box(run((iters / 5).max(1)));
        let ns = (0..self.reps).map(|_| run(iters).as_nanos() as f64 / iters as f64).collect();
        report(name, iters, ns)
    }
}

fn print_header() {
    println!(
        "{:<50} {:>11} {:>12} {:>10} {:>10} {:>14}",
        "workload", "iters/rep", "median ns/op", "min", "max", "median ops/s"
    );
    println!("{}", "-".repeat(50 + 1 + 11 + 1 + 12 + 1 + 10 + 1 + 10 + 1 + 14));
}

/// Prints one workload's row from its per-repetition ns/op, and returns the
/// median.
fn report(name: &str, iters: u64, mut ns: Vec<f64>) -> f64 {
    ns.sort_by(f64::total_cmp);
    let (min, median, max) = (ns[0], ns[ns.len() / 2], ns[ns.len() - 1]);
    println!("{name:<50} {iters:>11} {median:>12.1} {min:>10.1} {max:>10.1} {:>14}", group(1e9 / median));
    median
}

/// `1234567.8` → `"1,234,568"`.
fn group(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A small xorshift, for shuffling lookup orders.
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

// ---------------------------------------------------------------------------
// Floor: an uncontended parking_lot::Mutex<Slab<u64>>.
// ---------------------------------------------------------------------------

/// Operations timed between two clock reads in the insert and remove floors;
/// the slab holds `live` to `live + BATCH` entries meanwhile.
const BATCH: usize = 64;

struct Floor {
    insert: f64,
    remove: f64,
    lookup: f64,
}

fn floor(bench: &Bench, live: usize, iters: u64, lookup_iters: u64) -> Floor {
    let slab = Mutex::new(Slab::with_capacity(live + BATCH));
    let mut keys: Vec<usize> = {
        let mut s = slab.lock();
        (0..live).map(|i| s.insert(i as u64)).collect()
    };
    let label = group(live as f64);

    let mut batch = Vec::with_capacity(BATCH);
    let insert = bench.measure(&format!("floor insert ({label} live)"), iters, |n| {
        let mut total = Duration::ZERO;
        let mut done = 0;
        while done < n {
            let k = (n - done).min(BATCH as u64);
            let t = Instant::now();
            for i in 0..k {
                batch.push(slab.lock().insert(black_box(i)));
            }
            total += t.elapsed();
            let mut s = slab.lock();
            for key in batch.drain(..) {
                s.remove(key);
            }
            done += k;
        }
        total
    });

    let remove = bench.measure(&format!("floor remove ({label} live)"), iters, |n| {
        let mut total = Duration::ZERO;
        let mut done = 0;
        while done < n {
            let k = (n - done).min(BATCH as u64);
            {
                let mut s = slab.lock();
                batch.extend((0..k).map(|i| s.insert(i)));
            }
            let t = Instant::now();
            for &key in &batch {
                black_box(slab.lock().remove(black_box(key)));
            }
            total += t.elapsed();
            batch.clear();
            done += k;
        }
        total
    });

    shuffle(&mut keys, 0x9E37_79B9_7F4A_7C15);
    let lookup = bench.measure(&format!("floor lookup ({label} live)"), lookup_iters, |n| {
        let t = Instant::now();
        let mut i = 0;
        for _ in 0..n {
            black_box(slab.lock().get(black_box(keys[i])).copied());
            i += 1;
            if i == keys.len() {
                i = 0;
            }
        }
        t.elapsed()
    });
    assert_eq!(slab.lock().len(), live);
    Floor { insert, remove, lookup }
}

// ---------------------------------------------------------------------------
// The workloads.
// ---------------------------------------------------------------------------

/// W1: the two-process protected-session round trip.
fn w1(bench: &Bench) -> f64 {
    let kernel = Kernel::new(KernelConfig::default());
    let a = kernel.create_process();
    let b = kernel.create_process();
    let _bound_a = a.enter();
    let device = open_device();
    let fence = create_fence(device, SHARED_NT);

    let round_trip = || {
        // A: create the session and share it.
        let session = create_session(device, fence);
        let mut nt_a: HANDLE = core::ptr::null_mut();
        ok(share_objects(&[session], GENERIC_ALL, &mut nt_a), "D3DKMTShareObjects");
        // Hand the NT handle to B.
        let options = DuplicateOptions { close_source: true, same_access: true };
        let nt_b = a.duplicate_nt_handle(NtHandle::from_ptr(nt_a), &b, 0, options).expect("DuplicateHandle");
        {
            // B: query the blob sizes, open, query the status, close.
            let _bound_b = b.enter();
            let mut info =
                D3DKMT_QUERYPROTECTEDSESSIONINFOFROMNTHANDLE { hNtHandle: nt_b.as_ptr(), ..Default::default() };
            ok(query_protected_session_info(black_box(&mut info)), "D3DKMTQueryProtectedSessionInfoFromNtHandle");
            debug_assert_eq!(info.PrivateDriverDataSize as usize, DRIVER_BLOB.len());
            let mut open = D3DKMT_OPENPROTECTEDSESSIONFROMNTHANDLE { hNtHandle: nt_b.as_ptr(), hHandle: 0 };
            ok(open_protected_session(black_box(&mut open)), "D3DKMTOpenProtectedSessionFromNtHandle");
            black_box(session_status(open.hHandle));
            destroy_session(open.hHandle);
        }
        b.close_nt_handle(nt_b).expect("CloseHandle");
        // A: destroy its session; the last reference goes.
        destroy_session(session);
    };

    let ns = bench.measure("W1 two-process session round trip", 1_000_000, |n| {
        let t = Instant::now();
        for _ in 0..n {
            round_trip();
        }
        t.elapsed()
    });
    assert_eq!(a.local_handle_count(), 3, "A keeps its adapter, device and fence");
    assert_eq!(b.local_handle_count() + b.nt_handle_count(), 0, "B keeps nothing");
    assert!(kernel.protected_sessions().is_empty(), "every session is destroyed");
    ns
}

/// W2: create + destroy of one monitored fence with `live` other fences.
fn w2(bench: &Bench, live: usize, iters: u64) -> f64 {
    let kernel = Kernel::new(KernelConfig::default());
    let (process, device) = process_with_fences(&kernel, live);
    let _bound = process.enter();
    let ns = bench.measure(&format!("W2 fence create+destroy ({} live)", group(live as f64)), iters, |n| {
        let t = Instant::now();
        for _ in 0..n {
            destroy_fence(create_fence(device, 0));
        }
        t.elapsed()
    });
    assert_eq!(process.local_handle_count(), live + 2, "the adapter, the device and the live fences");
    ns
}

/// W3: `D3DKMTQueryProtectedSessionStatus` on a live session.
fn w3(bench: &Bench) -> f64 {
    let kernel = Kernel::new(KernelConfig::default());
    let process = kernel.create_process();
    let _bound = process.enter();
    let device = open_device();
    let fence = create_fence(device, 0);
    let session = create_session(device, fence);
    bench.measure("W3 query protected-session status", 30_000_000, |n| {
        let t = Instant::now();
        for _ in 0..n {
            let status = session_status(black_box(session));
            debug_assert_eq!(status, D3DKMT_PROTECTED_SESSION_STATUS_OK);
        }
        t.elapsed()
    })
}

/// W4: W2 at 1,000 live on two threads, each bound to its own process of one
/// kernel, against the same total work on one thread. Returns the speed-up.
fn w4(bench: &Bench) -> f64 {
    const LIVE: usize = 1_000;
    let per_thread = bench.iters(2_500_000);
    let kernel = Kernel::new(KernelConfig::default());
    let workers = [process_with_fences(&kernel, LIVE), process_with_fences(&kernel, LIVE)];
    let churn = |device: u32, n: u64| {
        for _ in 0..n {
            destroy_fence(create_fence(device, 0));
        }
    };

    // One thread: each process's share of the work in turn.
    let one_thread = |n: u64| {
        let t = Instant::now();
        for (process, device) in &workers {
            let _bound = process.enter();
            churn(*device, n);
        }
        t.elapsed()
    };
    black_box(one_thread((per_thread / 5).max(1)));
    let ns1: Vec<f64> =
        (0..bench.reps).map(|_| one_thread(per_thread).as_nanos() as f64 / (2 * per_thread) as f64).collect();

    // Two threads, started together; timed from the start barrier to the end
    // barrier, so thread creation and warm-up are outside the window.
    let two_threads = |n: u64| {
        let start = Barrier::new(3);
        let end = Barrier::new(3);
        std::thread::scope(|s| {
            for (process, device) in &workers {
                let (start, end) = (&start, &end);
                s.spawn(move || {
                    let _bound = process.enter();
                    churn(*device, (n / 5).max(1));
                    start.wait();
                    churn(*device, n);
                    end.wait();
                });
            }
            start.wait();
            let t = Instant::now();
            end.wait();
            t.elapsed()
        })
    };
    let ns2: Vec<f64> =
        (0..bench.reps).map(|_| two_threads(per_thread).as_nanos() as f64 / (2 * per_thread) as f64).collect();

    let one = report("W4 fence churn, 1 thread (aggregate, 1,000 live)", 2 * per_thread, ns1);
    let two = report("W4 fence churn, 2 threads (aggregate, 1,000 live)", 2 * per_thread, ns2);
    // Throughputs are inverses of the aggregate ns/op.
    one / two
}

/// W5: the structure-aware fuzzer (`d3dkmt_emu::fuzz`): seeded sequences of
/// 100 ops over three processes through the C ABI, each step checked against
/// the reference model (status, outputs, handle tables, live counters,
/// session statuses, fence values), then every process exits and nothing may
/// be left. One thread: the rate is per core. Returns ns per model-checked op.
fn w5(bench: &Bench) -> f64 {
    let mut generator = d3dkmt_emu::fuzz::Generator::new(5);
    // The same sequences every repetition, generated outside the timing.
    let sequences: Vec<_> = (0..64).map(|_| generator.sequence(100)).collect();
    bench.measure("W5 model-checked fuzz ops (1 thread)", 2_000_000, |n| {
        let mut done = 0u64;
        let mut elapsed = Duration::ZERO;
        for ops in sequences.iter().cycle() {
            if done >= n {
                break;
            }
            let t = Instant::now();
            let stats = d3dkmt_emu::fuzz::run_sequence(black_box(ops)).expect("kernel and model agree");
            elapsed += t.elapsed();
            done += stats.ops;
        }
        // Per op actually run (a sequence is not cut short).
        elapsed.mul_f64(n as f64 / done as f64)
    })
}

// ---------------------------------------------------------------------------

fn verdict(ratio: f64, target: f64, at_most: bool) -> &'static str {
    let met = if at_most { ratio <= target } else { ratio >= target };
    if met { "met" } else { "missed" }
}

fn main() {
    let bench = Bench::new();
    println!(
        "d3dkmt-emu workloads: median of {} repetition(s) after a warm-up{}",
        bench.reps,
        match bench.divisor {
            1 => String::new(),
            d => format!(" (1/{d} of the iterations: {})", if d == 10 { "quick" } else { "test mode, no --bench" }),
        }
    );
    println!();
    print_header();

    let small = bench.selected("floor").then(|| floor(&bench, 1_000, 100_000_000, 100_000_000));
    let large = bench.selected("floor").then(|| floor(&bench, 1_000_000, 100_000_000, 15_000_000));
    if bench.selected("w1") {
        w1(&bench);
    }
    let w2_small = bench.selected("w2").then(|| w2(&bench, 1_000, 5_000_000));
    let w2_large = bench.selected("w2").then(|| w2(&bench, 1_000_000, 5_000_000));
    let w3_ns = bench.selected("w3").then(|| w3(&bench));
    let speedup = bench.selected("w4").then(|| w4(&bench));
    let w5_ns = bench.selected("w5").then(|| w5(&bench));

    println!();
    println!("{:<50} {:>8} {:>10} {:>7}", "ratio", "value", "target", "");
    println!("{}", "-".repeat(50 + 1 + 8 + 1 + 10 + 1 + 7));
    let pair = |w: Option<f64>, f: &Option<Floor>, g: fn(&Floor) -> f64| Some(w? / g(f.as_ref()?));
    let ratios = [
        ("W3 / floor lookup (1,000 live)", pair(w3_ns, &small, |f| f.lookup), 3.0, true),
        ("W2 / (floor insert + remove) (1,000 live)", pair(w2_small, &small, |f| f.insert + f.remove), 3.0, true),
        ("W2 / (floor insert + remove) (1,000,000 live)", pair(w2_large, &large, |f| f.insert + f.remove), 3.0, true),
        ("W4 speed-up (2-thread / 1-thread throughput)", speedup, 1.7, false),
        ("W5 model-checked ops/s per core (millions)", w5_ns.map(|ns| 1e3 / ns), 1.0, false),
    ];
    for (name, value, target, at_most) in ratios {
        let target_text = format!("{} {target:.1}x", if at_most { "<=" } else { ">=" });
        match value {
            Some(v) => println!("{name:<50} {v:>7.2}x {target_text:>10} {:>7}", verdict(v, target, at_most)),
            None => println!("{name:<50} {:>8} {target_text:>10} {:>7}", "n/a", "-"),
        }
    }
}
