//! The kernel clock, and the hub where CPU waits block.
//!
//! Every kernel has a clock. It is **virtual** by default: it starts at 0
//! and moves only when the test calls [`Kernel::advance`](crate::Kernel::advance),
//! or when every thread taking part in the kernel is blocked in a kernel
//! wait, at which point it jumps straight to the earliest deadline among
//! them. So a keyed-mutex acquire with a 10-second timeout, made by a test's
//! only thread, times out at once, and a test's timing never depends on the
//! machine. A **real** clock (monotonic time since the kernel was created,
//! waits that take wall time) is available on request
//! ([`ClockMode::Real`]); the default kernel, which C programs reach without
//! the control API, uses it, since they expect Windows' timing.
//!
//! Who takes part: the threads bound to a process of this kernel
//! ([`Process::enter`](crate::Process::enter), `d3dkmt_emu_thread_bind`),
//! each counted once however deeply its bindings nest, plus any unbound
//! thread while it waits. A bound thread that stops calling the kernel (for
//! example one that joins a thread which waits with a timeout) must unbind or
//! advance the clock itself: the clock cannot tell it is idle.
//!
//! A waiter counts as blocked only once it has rechecked its condition since
//! the last change to the kernel's wait state (a signal, a release, a
//! process exit), so a thread just woken by a signal never lets the clock
//! jump past it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::sync::{Condvar, Mutex};

/// How a kernel's clock moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockMode {
    /// Time moves only when advanced, or when every participating thread is
    /// blocked in a kernel wait (to the earliest deadline). The default for
    /// [`Kernel::new`](crate::Kernel::new).
    #[default]
    Virtual,
    /// Monotonic wall time since the kernel was created; waits with a
    /// timeout take that long.
    Real,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitEnd {
    /// The condition held.
    Satisfied,
    /// The deadline passed first.
    TimedOut,
}

/// The system time (100 ns units since 1601-01-01 UTC, as a Windows
/// `FILETIME`) at which a virtual clock starts: 2024-01-01 00:00:00 UTC, a
/// fixed value so that runs repeat. A real clock starts at the system time
/// the kernel was created.
pub const VIRTUAL_EPOCH_FILETIME: u64 = 133_485_408_000_000_000;

/// 100 ns units from 1601-01-01 to 1970-01-01.
const UNIX_EPOCH_FILETIME: u64 = 116_444_736_000_000_000;

/// A kernel's clock.
pub(crate) struct Clock {
    mode: ClockMode,
    start: Instant,
    /// The system time (`FILETIME` units) at kernel time 0.
    epoch_filetime: u64,
    /// Virtual time, in nanoseconds.
    virtual_ns: AtomicU64,
    /// Threads bound to a process of this kernel, each counted once.
    participants: AtomicUsize,
}

impl Clock {
    pub(crate) fn new(mode: ClockMode) -> Clock {
        let epoch_filetime = match mode {
            ClockMode::Virtual => VIRTUAL_EPOCH_FILETIME,
            ClockMode::Real => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(UNIX_EPOCH_FILETIME, |d| UNIX_EPOCH_FILETIME + (d.as_nanos() / 100) as u64),
        };
        Clock {
            mode,
            start: Instant::now(),
            epoch_filetime,
            virtual_ns: AtomicU64::new(0),
            participants: AtomicUsize::new(0),
        }
    }

    pub(crate) fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Kernel time, in nanoseconds since the kernel was created.
    pub(crate) fn now_ns(&self) -> u64 {
        match self.mode {
            ClockMode::Virtual => self.virtual_ns.load(Ordering::SeqCst),
            ClockMode::Real => u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX),
        }
    }

    /// The kernel's system time, in `FILETIME` units (100 ns since
    /// 1601-01-01 UTC): the epoch plus the kernel time.
    pub(crate) fn system_time(&self) -> u64 {
        self.epoch_filetime.saturating_add(self.now_ns() / 100)
    }

    /// The kernel deadline (nanoseconds) of an NT-style timeout: negative
    /// is relative, in 100 ns units; zero or positive is an absolute system
    /// time in `FILETIME` units, as on Windows (a time already past, such as
    /// 0, ends the wait at once).
    pub(crate) fn nt_deadline(&self, timeout: i64) -> u64 {
        if timeout < 0 {
            self.now_ns().saturating_add(timeout.unsigned_abs().saturating_mul(100))
        } else {
            (timeout as u64).saturating_sub(self.epoch_filetime).saturating_mul(100)
        }
    }

    /// The deadline `timeout` from now, saturating.
    #[allow(dead_code, reason = "keyed-mutex timeouts, being added, use it")]
    pub(crate) fn deadline_after(&self, timeout: Duration) -> u64 {
        self.now_ns().saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX))
    }

    /// A thread starts taking part (its first binding to this kernel).
    pub(crate) fn join(&self) {
        self.participants.fetch_add(1, Ordering::SeqCst);
    }

    /// A thread stops taking part; the hub rechecks whether everyone left is
    /// blocked.
    pub(crate) fn leave(&self, hub: &WaitHub) {
        self.participants.fetch_sub(1, Ordering::SeqCst);
        hub.recheck(self);
    }
}

/// One blocked (or about to block) CPU wait.
struct Waiter {
    id: u64,
    deadline: Option<u64>,
    /// Its thread is counted in [`Clock::participants`].
    participant: bool,
    /// The hub epoch at which it last found its condition false.
    checked: u64,
}

#[derive(Default)]
struct HubState {
    /// Bumped by every change that may satisfy a waiter.
    epoch: u64,
    next_id: u64,
    waiters: Vec<Waiter>,
}

/// Wakes CPU waiters when the kernel's wait state changes (a fence moves, a
/// keyed mutex is released, a process exits), and moves the virtual clock
/// when every participant is blocked.
#[derive(Default)]
pub(crate) struct WaitHub {
    state: Mutex<HubState>,
    cv: Condvar,
    /// Waiters registered; lets `notify` skip the lock when there are none.
    waiters: AtomicUsize,
}

impl WaitHub {
    /// Wakes waiters to recheck their conditions, if there are any.
    pub(crate) fn notify(&self) {
        // Pairs with the increment in `wait_deadline`: a waiter that
        // registered before the caller's state change is woken; one that
        // registers after it sees the change when it checks.
        if self.waiters.load(Ordering::SeqCst) > 0 {
            self.wake_all();
        }
    }

    /// Wakes every waiter to recheck its condition.
    pub(crate) fn wake_all(&self) {
        let mut state = self.state.lock();
        state.epoch += 1;
        self.cv.notify_all();
    }

    /// Blocks until `satisfied()` (no deadline).
    pub(crate) fn wait_until(&self, clock: &Clock, satisfied: impl FnMut() -> bool) {
        let end = self.wait_deadline(clock, None, satisfied);
        debug_assert_eq!(end, WaitEnd::Satisfied);
    }

    /// Blocks until `satisfied()` holds or the clock reaches `deadline`
    /// (kernel nanoseconds; `None`: no deadline). `satisfied` is called
    /// with the hub locked, so it must not take the hub's lock or notify.
    pub(crate) fn wait_deadline(
        &self,
        clock: &Clock,
        deadline: Option<u64>,
        mut satisfied: impl FnMut() -> bool,
    ) -> WaitEnd {
        let participant = crate::process::current_thread_takes_part(clock);
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut state = self.state.lock();
        let id = state.next_id;
        state.next_id += 1;
        let epoch = state.epoch;
        state.waiters.push(Waiter { id, deadline, participant, checked: epoch });
        let end = loop {
            if satisfied() {
                break WaitEnd::Satisfied;
            }
            if deadline.is_some_and(|d| clock.now_ns() >= d) {
                break WaitEnd::TimedOut;
            }
            let epoch = state.epoch;
            if let Some(w) = state.waiters.iter_mut().find(|w| w.id == id) {
                w.checked = epoch;
            }
            if self.advance_if_all_blocked(clock, &mut state) {
                continue;
            }
            match (clock.mode(), deadline) {
                (ClockMode::Real, Some(d)) => {
                    let wait = Duration::from_nanos(d.saturating_sub(clock.now_ns()));
                    let _ = self.cv.wait_for(&mut state, wait);
                }
                _ => self.cv.wait(&mut state),
            }
        };
        state.waiters.retain(|w| w.id != id);
        drop(state);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        end
    }

    /// Rechecks, after a participant left, whether the rest are all blocked.
    fn recheck(&self, clock: &Clock) {
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let mut state = self.state.lock();
            self.advance_if_all_blocked(clock, &mut state);
        }
    }

    /// Virtual clock only: if every participant is blocked (has rechecked
    /// since the last change), jumps to the earliest deadline among the
    /// waiters and wakes them. Returns true if it moved the clock.
    fn advance_if_all_blocked(&self, clock: &Clock, state: &mut HubState) -> bool {
        if clock.mode() != ClockMode::Virtual {
            return false;
        }
        let current = state.epoch;
        let blocked = state.waiters.iter().filter(|w| w.participant && w.checked == current).count();
        let pending = state.waiters.iter().any(|w| w.checked != current);
        if pending || blocked < clock.participants.load(Ordering::SeqCst) {
            return false;
        }
        let Some(earliest) = state.waiters.iter().filter_map(|w| w.deadline).min() else { return false };
        clock.virtual_ns.fetch_max(earliest, Ordering::SeqCst);
        state.epoch += 1;
        self.cv.notify_all();
        true
    }

    /// Advances virtual time by `by` and wakes waiters whose deadline passed.
    pub(crate) fn advance(&self, clock: &Clock, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = clock.virtual_ns.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| Some(now.saturating_add(by)));
        self.wake_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    use super::*;
    use crate::{Kernel, KernelConfig};

    fn hub_wait(kernel: &Kernel, timeout: Duration, done: &AtomicBool) -> WaitEnd {
        let k = &kernel.0;
        k.wait_hub.wait_deadline(&k.clock, Some(k.clock.deadline_after(timeout)), || done.load(Ordering::SeqCst))
    }

    #[test]
    fn a_lone_bound_thread_times_out_at_once_in_virtual_time() {
        let kernel = Kernel::new(KernelConfig::default());
        let process = kernel.create_process();
        let _bound = process.enter();
        let started = Instant::now();
        let end = hub_wait(&kernel, Duration::from_secs(10), &AtomicBool::new(false));
        assert_eq!(end, WaitEnd::TimedOut);
        assert_eq!(kernel.now(), Duration::from_secs(10), "the clock jumped to the deadline");
        assert!(started.elapsed() < Duration::from_secs(1), "a virtual timeout took wall time");
    }

    #[test]
    fn the_clock_waits_for_a_running_participant() {
        let kernel = Kernel::new(KernelConfig::default());
        let process = kernel.create_process();
        let done = Arc::new(AtomicBool::new(false));
        let _bound = process.enter();
        // A second participant, running (not waiting): the waiter must not
        // time out; the signal arrives after some wall time.
        let helper = {
            let (kernel, process, done) = (kernel.clone(), process.clone(), Arc::clone(&done));
            let (tx, rx) = std::sync::mpsc::channel();
            let t = std::thread::spawn(move || {
                let _bound = process.enter();
                tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(50));
                done.store(true, Ordering::SeqCst);
                kernel.0.wait_hub.notify();
            });
            rx.recv().unwrap();
            t
        };
        let end = hub_wait(&kernel, Duration::from_secs(10), &done);
        assert_eq!(end, WaitEnd::Satisfied);
        assert_eq!(kernel.now(), Duration::ZERO, "no jump while a participant ran");
        helper.join().unwrap();
    }

    #[test]
    fn advancing_ends_a_wait_and_a_leaving_participant_lets_time_move() {
        let kernel = Kernel::new(KernelConfig::default());
        let process = kernel.create_process();
        let bound = process.enter();
        // This thread stays a participant but does not wait: only advance()
        // (or its leaving) can end the other thread's wait.
        let waiter = {
            let (kernel, process) = (kernel.clone(), process.clone());
            std::thread::spawn(move || {
                let _bound = process.enter();
                hub_wait(&kernel, Duration::from_secs(5), &AtomicBool::new(false))
            })
        };
        while kernel.0.wait_hub.waiters.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(kernel.now(), Duration::ZERO, "time moved while a participant ran");
        kernel.advance(Duration::from_secs(2)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert!(!waiter.is_finished(), "2 s of 5 s ended the wait");
        drop(bound); // the last running participant leaves: time jumps
        assert_eq!(waiter.join().unwrap(), WaitEnd::TimedOut);
        assert_eq!(kernel.now(), Duration::from_secs(5));
    }

    #[test]
    fn a_real_clock_cannot_be_advanced_and_takes_wall_time() {
        let kernel = Kernel::new(KernelConfig { clock: ClockMode::Real, ..KernelConfig::default() });
        assert!(kernel.advance(Duration::from_secs(1)).is_err());
        let started = Instant::now();
        assert_eq!(hub_wait(&kernel, Duration::from_millis(30), &AtomicBool::new(false)), WaitEnd::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(30));
    }
}
