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
use crate::sys;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn attach(&self, raw: std::ptr::NonNull<sys::TfLiteInterpreter>) {
        self.state().raw = Some(raw);
    }

    /// Before the interpreter is deleted: handles become no-ops.
    pub(crate) fn detach(&self) {
        self.state().raw = None;
    }

    /// Runs one invoke (`f`), turning a cancel requested meanwhile into the cancellation
    /// error, whatever `f` returned. With a timeout, a watchdog thread cancels it then.
    pub(crate) fn invoke(
        &self,
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
        let started = std::time::Instant::now();
        let result = match timeout {
            None => f(),
            Some(timeout) => {
                let (done, wait) = std::sync::mpsc::channel::<()>();
                std::thread::scope(|scope| {
                    scope.spawn(move || {
                        if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(timeout) {
                            self.cancel(Some(n), Some(timeout));
                        }
                    });
                    let result = f();
                    drop(done);
                    result
                })
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
/// std::thread::spawn(move || handle.cancel()); // e.g. a client went away
/// match it.invoke() {
///     Ok(()) | Err(tflite::Error::Cancelled) => {} // depending on who was first
///     Err(e) => return Err(e),
/// }
/// it.invoke()?; // still usable
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CancelHandle(pub(crate) Arc<Shared>);

impl CancelHandle {
    /// Cancels the running invoke: it returns [`Error::Cancelled`].
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
