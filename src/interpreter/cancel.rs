//! Cancelling a running inference from another thread: [`CancelHandle`], and deadlines built
//! on it ([`Interpreter::invoke_with_timeout`](crate::Interpreter::invoke_with_timeout)).
//!
//! TFLite checks for cancellation between nodes, so a cancelled invoke stops before its next
//! node: a graph XNNPACK took whole is one node, and stops only once that node is done. Any
//! cancel requested while an invoke runs makes that invoke return [`Error::Cancelled`] (or
//! [`Error::DeadlineExceeded`]), even if TFLite had already passed its last check; a cancel
//! while nothing runs does nothing. An invoke with a deadline that takes longer than it returns
//! [`Error::DeadlineExceeded`] whether or not the cancel came in time. The interpreter stays
//! usable.

use crate::error::{Error, Result};
use crate::ffi;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tflite_sys as sys;

/// What a cancel refers to: the invoke running when it was requested.
#[derive(Default)]
struct State {
    /// The interpreter while it exists (null once it is deleted).
    raw: Option<std::ptr::NonNull<sys::TfLiteInterpreter>>,
    /// The invoke in progress (0: none).
    running: u64,
    /// The last invoke started.
    generation: u64,
    /// The invoke a cancel was requested for, and whether by a deadline.
    requested: Option<(u64, Option<Duration>)>,
}

/// Shared between an interpreter and its handles.
#[derive(Default)]
pub(crate) struct Shared(Mutex<State>);

// SAFETY: the raw pointer is only used to call TfLiteInterpreterCancel, which TFLite documents
// as callable from another thread during Invoke, and only under the mutex while the
// interpreter exists (its Drop clears the pointer under the same mutex before deleting it).
unsafe impl Send for Shared {}
// SAFETY: as above; all state is behind the mutex.
unsafe impl Sync for Shared {}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        ffi::lock(&self.0)
    }

    pub(crate) fn attach(&self, raw: std::ptr::NonNull<sys::TfLiteInterpreter>) {
        self.state().raw = Some(raw);
    }

    /// Before the interpreter is deleted: handles become no-ops.
    pub(crate) fn detach(&self) {
        self.state().raw = None;
    }

    /// Runs one invoke (`f`), turning a cancel requested meanwhile into the cancellation
    /// error, whatever `f` returned. With a timeout, the process's watchdog thread cancels it
    /// then.
    pub(crate) fn invoke(
        self: &Arc<Self>,
        timeout: Option<Duration>,
        f: impl FnOnce() -> Result<()>,
    ) -> Result<()> {
        let n = {
            let mut s = self.state();
            s.generation += 1;
            s.running = s.generation;
            s.requested = None;
            s.running
        };
        let started = Instant::now();
        // A deadline past what an Instant can hold never comes: no watchdog needed.
        let result = match timeout.and_then(|t| Some((started.checked_add(t)?, t))) {
            None => f(),
            Some((deadline, timeout)) => {
                let ticket = watchdog().arm(deadline, self.clone(), n, timeout);
                let result = f();
                watchdog().disarm(ticket);
                result
            }
        };
        let mut s = self.state();
        s.running = 0;
        match s.requested.take() {
            Some((g, None)) if g == n => Err(Error::Cancelled),
            Some((g, Some(timeout))) if g == n => Err(Error::DeadlineExceeded { timeout }),
            // Done, but late (the watchdog had not run yet): the deadline was still missed.
            _ => match timeout {
                Some(timeout) if started.elapsed() >= timeout => {
                    Err(Error::DeadlineExceeded { timeout })
                }
                _ => result,
            },
        }
    }

    /// Cancels the invoke running now, if any (only invoke `only`, when given).
    fn cancel(&self, only: Option<u64>, deadline: Option<Duration>) {
        let mut s = self.state();
        let (Some(raw), n) = (s.raw, s.running) else {
            return;
        };
        if n == 0 || only.is_some_and(|g| g != n) {
            return;
        }
        s.requested = Some((n, deadline));
        // SAFETY: the interpreter exists (the pointer is cleared under this mutex before it is
        // deleted); TfLiteInterpreterCancel only clears an atomic flag.
        unsafe { sys::TfLiteInterpreterCancel(raw.as_ptr()) };
    }

    fn running(&self) -> u64 {
        self.state().running
    }
}

/// One thread for the whole process cancels the invokes whose deadline passed (started on the
/// first `invoke_with_timeout`, then parked on a condition variable between deadlines). A
/// thread per invoke would cost a spawn each time, and an exiting thread still frees its
/// thread-local state after a scoped join returns, which LeakSanitizer, looking at that
/// moment, reports as leaked.
struct Watchdog {
    armed: Mutex<Armed>,
    wake: Condvar,
}

#[derive(Default)]
struct Armed {
    next_ticket: u64,
    /// (ticket, deadline, interpreter, its invoke, the timeout to report).
    entries: Vec<(u64, Instant, Arc<Shared>, u64, Duration)>,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        let w: &'static Watchdog = Box::leak(Box::new(Watchdog {
            armed: Mutex::default(),
            wake: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("tflite-deadlines".into())
            .spawn(move || w.run())
            .expect("cannot start the deadline thread");
        w
    })
}

impl Watchdog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Armed> {
        ffi::lock(&self.armed)
    }

    fn arm(&self, deadline: Instant, shared: Arc<Shared>, invoke: u64, timeout: Duration) -> u64 {
        let mut a = self.lock();
        a.next_ticket += 1;
        let ticket = a.next_ticket;
        a.entries.push((ticket, deadline, shared, invoke, timeout));
        self.wake.notify_one();
        ticket
    }

    fn disarm(&self, ticket: u64) {
        self.lock().entries.retain(|e| e.0 != ticket);
    }

    fn run(&self) {
        let mut a = self.lock();
        loop {
            let now = Instant::now();
            let (due, waiting): (Vec<_>, Vec<_>) = a.entries.drain(..).partition(|e| e.1 <= now);
            a.entries = waiting;
            if !due.is_empty() {
                // Cancel outside the lock: `cancel` takes the interpreter's own mutex.
                drop(a);
                for (_, _, shared, invoke, timeout) in due {
                    shared.cancel(Some(invoke), Some(timeout));
                }
                a = self.lock();
                continue;
            }
            a = match a.entries.iter().map(|e| e.1).min() {
                None => self.wake.wait(a).unwrap_or_else(|e| e.into_inner()),
                Some(next) => {
                    let wait = next.saturating_duration_since(now);
                    self.wake
                        .wait_timeout(a, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }
}

/// Stops the inference its interpreter is running, from any thread. Cheap to clone; `Send +
/// Sync`; does nothing once the interpreter is gone or when nothing runs.
///
/// ```
/// # fn main() -> tflite::Result<()> {
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tflite-sys/tests/data/add_mul.tflite");
/// let model = tflite::Model::from_file(path)?;
/// let mut it = tflite::Interpreter::new(&model)?;
/// it.allocate_tensors()?;
/// let handle = it.cancel_handle();
/// let canceller = std::thread::spawn(move || handle.cancel()); // e.g. a client went away
/// match it.invoke() {
///     Ok(()) | Err(tflite::Error::Cancelled) => {} // depending on who was first
///     Err(e) => return Err(e),
/// }
/// canceller.join().unwrap(); // a cancel while nothing runs is ignored
/// it.invoke()?; // still usable
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CancelHandle(pub(crate) Arc<Shared>);

impl CancelHandle {
    /// Cancels the running invoke: it returns [`Error::Cancelled`].
    ///
    /// What is guaranteed:
    /// - the invoke running when `cancel` is called returns [`Error::Cancelled`], even if it
    ///   had already passed TFLite's last check and ran to its end; a cancel while nothing runs
    ///   does nothing, and no later invoke is affected;
    /// - TFLite stops only between nodes (and at each iteration of a WHILE loop): on the
    ///   builtin kernels before the next operator; with XNNPACK (the default) a partition the
    ///   delegate took is one node, so a graph it took whole is never stopped early — its one
    ///   node runs to its end (outputs complete) and the invoke then returns `Cancelled` — and
    ///   a graph it took in parts stops at the next boundary between partitions and builtin
    ///   nodes ([`Interpreter::execution_plan`](crate::Interpreter::execution_plan) shows them);
    /// - after a cancelled invoke the outputs are unspecified, and the interpreter is usable: the
    ///   next invoke computes them afresh.
    ///
    /// `tests/cancel.rs` checks each of these, with XNNPACK and without.
    pub fn cancel(&self) {
        self.0.cancel(None, None);
    }
}

impl std::fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelHandle")
            .field("running", &(self.0.running() != 0))
            .finish()
    }
}
