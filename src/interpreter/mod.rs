//! [`Interpreter`]: runs a [`Model`]'s main graph; built by [`InterpreterBuilder`], on the
//! [`Core`](core::Core) it shares with [`SignatureRunner`]; [`Pool`](pool::Pool) shares
//! interpreters among threads; [`CancelHandle`] stops an invoke.

pub(crate) mod builder;
pub(crate) mod cancel;
mod core;
pub(crate) mod pool;
pub(crate) mod signature;

use self::core::{Core, Graph};
use crate::delegate::probe::PlanNode;
use crate::error::{Error, Result, Side};
use crate::ffi;
use crate::model::Model;
use crate::profile::Profile;
use crate::tensor::{Tensor, TensorId, TensorMut};
use builder::InterpreterBuilder;
use cancel::CancelHandle;
use signature::SignatureRunner;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tflite_sys as sys;

/// Runs a model. `Send` (move it to another thread) but not `Sync`: one interpreter runs one
/// inference at a time; make one interpreter per thread from a shared [`Model`].
///
/// Tensor views borrow the interpreter, so they cannot outlive it, and [`invoke`](Self::invoke)
/// takes `&mut self`, so no view can be held across an inference. (The examples below show the
/// rules; the compiler's exact errors, each beside a twin that compiles, are checked by
/// `tests/compile_fail.rs`: `view_across_invoke`, `interpreter_not_sync`,
/// `view_outlives_interpreter`.)
///
/// ```compile_fail,E0502
/// # fn f(mut it: tflite::Interpreter) -> tflite::Result<()> {
/// let out = it.output(0)?.data::<f32>()?;
/// it.invoke()?; // error: `it` is borrowed by `out`
/// println!("{out:?}");
/// # Ok(()) }
/// ```
///
/// It is not `Sync`: share the [`Model`], not the interpreter.
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>(_: &T) {}
/// # fn f(it: tflite::Interpreter) {
/// shared(&it); // error: `Interpreter` cannot be shared between threads
/// # }
/// ```
///
/// ```compile_fail,E0597
/// # fn f(model: &tflite::Model) -> tflite::Result<()> {
/// let view = {
///     let it = tflite::Interpreter::new(model)?;
///     it.output(0)?.data::<f32>()? // error: `it` does not live long enough
/// };
/// # let _ = view;
/// # Ok(()) }
/// ```
pub struct Interpreter {
    core: Core,
}

// SAFETY: a TfLiteInterpreter may be used from any one thread at a time; all access goes
// through `&self`/`&mut self`, and `Interpreter` is not `Sync`.
unsafe impl Send for Interpreter {}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("model", &self.core.model)
            .field("inputs", &self.input_count())
            .field("outputs", &self.output_count())
            .field("allocated", &self.core.allocated(Graph::Main))
            .finish()
    }
}

impl Interpreter {
    /// An interpreter with the default options (see [`InterpreterBuilder`]).
    pub fn new(model: &Model) -> Result<Interpreter> {
        Self::builder(model).build()
    }

    /// Starts configuring an interpreter for `model`.
    ///
    /// ```
    /// # fn main() -> tflite::Result<()> {
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tflite-sys/tests/data/add_mul.tflite");
    /// let model = tflite::Model::from_file(path)?;
    /// let it = tflite::Interpreter::builder(&model)
    ///     .num_threads(2)
    ///     .use_xnnpack(false) // TFLite's builtin kernels only
    ///     .build()?;
    /// assert!(!it.has_delegate());
    /// # Ok(()) }
    /// ```
    pub fn builder(model: &Model) -> InterpreterBuilder<'_> {
        InterpreterBuilder::new(model)
    }

    /// The model this interpreter runs.
    pub fn model(&self) -> &Model {
        &self.core.model
    }

    /// Whether a delegate (XNNPACK) was applied to the graph.
    pub fn has_delegate(&self) -> bool {
        self.core.delegation.has_xnnpack()
    }

    /// Whether XNNPACK runs from the model's shared packed weights (see
    /// [`XnnpackOptions::share_weights`](crate::XnnpackOptions::share_weights)) rather than its
    /// own copy.
    pub fn shares_weights(&self) -> bool {
        self.core.delegation.weights().is_some()
    }

    /// Why the XNNPACK delegate was asked for but not applied, if so (see
    /// [`InterpreterBuilder::build`]).
    pub fn delegate_skipped(&self) -> Option<&str> {
        self.core.delegation.skipped()
    }

    /// Allocates (or re-allocates after a resize) every tensor. Required before filling
    /// inputs, reading outputs or invoking.
    ///
    /// With a delegate (XNNPACK, or an external one) applied, an allocation that fails — say,
    /// after resizing an input to a shape the model cannot take — leaves the interpreter
    /// unusable: every later `allocate_tensors` returns the same error (TFLite 2.14 cannot
    /// re-apply the delegates after that and would crash). Build a new interpreter then.
    pub fn allocate_tensors(&mut self) -> Result<()> {
        self.core.allocate(Graph::Main)
    }

    /// Gives input `id` a new shape; call [`allocate_tensors`](Self::allocate_tensors) again
    /// before using any tensor.
    pub fn resize_input(&mut self, id: impl TensorId, shape: &[usize]) -> Result<()> {
        self.core.resize(Graph::Main, id, shape)
    }

    /// Runs the model on the current inputs. [`Error::Cancelled`] if a
    /// [`CancelHandle`] cancelled it meanwhile.
    pub fn invoke(&mut self) -> Result<()> {
        self.core.invoke(Graph::Main, None)
    }

    /// Like [`invoke`](Self::invoke), cancelled if it takes longer than `timeout`
    /// ([`Error::DeadlineExceeded`]). A watchdog thread runs for the duration of the call;
    /// cancellation takes effect between nodes (see [`CancelHandle`]).
    pub fn invoke_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        self.core.invoke(Graph::Main, Some(timeout))
    }

    /// Runs `invokes` invokes on the current inputs and returns their per-node profile (see
    /// [`Profile`]); the interpreter must be built with
    /// [`profiling(true)`](InterpreterBuilder::profiling), else [`Error::ProfilingOff`].
    ///
    /// ```
    /// # fn main() -> tflite::Result<()> {
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tflite-sys/tests/data/add_mul.tflite");
    /// let model = tflite::Model::from_file(path)?;
    /// let mut it = tflite::Interpreter::builder(&model).use_xnnpack(false).profiling(true).build()?;
    /// it.allocate_tensors()?;
    /// let profile = it.profile(10)?;
    /// let ops: Vec<&str> = profile.nodes.iter().map(|n| n.op.as_str()).collect();
    /// assert_eq!(ops, ["MUL", "ADD"]);
    /// println!("{profile}"); // per node, XNNPACK operators, per op type
    /// # Ok(()) }
    /// ```
    pub fn profile(&mut self, invokes: usize) -> Result<Profile> {
        if self.core.profiler.is_none() {
            return Err(Error::ProfilingOff);
        }
        if let Some(r) = &self.core.profiler {
            r.record(true);
        }
        let epoch = Instant::now();
        let mut total = Duration::ZERO;
        let mut result = Ok(());
        for _ in 0..invokes {
            if let Some(r) = &self.core.profiler {
                r.mark_invoke();
            }
            let t = Instant::now();
            result = self.invoke();
            total += t.elapsed();
            if result.is_err() {
                break;
            }
        }
        let plan = self.execution_plan().unwrap_or_default();
        let r = self.core.profiler.as_ref().ok_or(Error::ProfilingOff)?;
        r.record(false);
        result?;
        Ok(r.profile(invokes, total, epoch, &plan))
    }

    /// The main graph's execution plan after delegation — which nodes a delegate took and
    /// which run on TFLite's own kernels — for an interpreter built with
    /// [`profiling`](InterpreterBuilder::profiling) or an external delegate (`None` otherwise).
    pub fn execution_plan(&self) -> Option<Vec<PlanNode>> {
        self.core.delegation.plan()
    }

    /// A handle that cancels this interpreter's running invoke from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(Arc::clone(&self.core.cancel))
    }

    /// Number of model inputs.
    pub fn input_count(&self) -> usize {
        self.core.count(Graph::Main, Side::Input)
    }

    /// Number of model outputs.
    pub fn output_count(&self) -> usize {
        self.core.count(Graph::Main, Side::Output)
    }

    /// Number of model inputs.
    pub fn input(&self, id: impl TensorId) -> Result<Tensor<'_>> {
        let t = self.core.view(Graph::Main, Side::Input, id)?;
        // SAFETY: the view borrows `self`; every write needs `&mut self`.
        Ok(unsafe { Tensor::new(t, self.core.allocated(Graph::Main)) })
    }

    /// Input `id`, to write (fill it before [`invoke`](Self::invoke)).
    pub fn input_mut(&mut self, id: impl TensorId) -> Result<TensorMut<'_>> {
        let t = self.core.view(Graph::Main, Side::Input, id)?;
        // SAFETY: the view borrows `self` mutably: no other view of any tensor of this
        // interpreter exists while it lives.
        Ok(unsafe { TensorMut::new(t, self.core.allocated(Graph::Main)) })
    }

    /// Number of model outputs.
    pub fn output(&self, id: impl TensorId) -> Result<Tensor<'_>> {
        let t = self.core.view(Graph::Main, Side::Output, id)?;
        // SAFETY: as in `input`.
        Ok(unsafe { Tensor::new(t, self.core.allocated(Graph::Main)) })
    }

    /// Every input, in order.
    pub fn inputs(&self) -> Vec<Tensor<'_>> {
        self.all(Side::Input)
    }

    /// Every output, in order.
    pub fn outputs(&self) -> Vec<Tensor<'_>> {
        self.all(Side::Output)
    }

    fn all(&self, side: Side) -> Vec<Tensor<'_>> {
        let allocated = self.core.allocated(Graph::Main);
        (0..self.core.count(Graph::Main, side))
            .filter_map(|i| self.core.tensor(Graph::Main, side, i).ok())
            // SAFETY: as in `input`.
            .map(|t| unsafe { Tensor::new(t, allocated) })
            .collect()
    }

    /// The keys of the model's signatures (e.g. `serving_default`).
    pub fn signature_keys(&self) -> Vec<String> {
        // SAFETY: valid interpreter; keys are NUL-terminated strings owned by it.
        unsafe {
            let n = sys::TfLiteInterpreterGetSignatureCount(self.core.raw()).max(0);
            (0..n)
                .map(|i| ffi::string(sys::TfLiteInterpreterGetSignatureKey(self.core.raw(), i)))
                .collect()
        }
    }

    /// A runner for the signature `key`, with named inputs and outputs. It borrows the
    /// interpreter mutably: one runner at a time.
    pub fn signature_runner(&mut self, key: &str) -> Result<SignatureRunner<'_>> {
        let keys = self.signature_keys();
        SignatureRunner::new(&mut self.core, key, keys)
    }
}
