//! [`Interpreter`]: runs a [`Model`]; [`InterpreterBuilder`] configures threads and delegates.

use crate::cancel::{CancelHandle, Shared};
use crate::custom_op::{self, CustomOp, Registration};
use crate::delegate::{Delegate, WeightsCache, XnnpackOptions};
use crate::error::{Error, Result, Side};
use crate::external::ExternalDelegate;
use crate::model::Model;
use crate::plan::{PlanNode, Probe};
use crate::profile::{Profile, Recorder};
use crate::reporter::{self, Reporter};
use crate::sys;
use crate::tensor::{dims_i32, RawTensor, Tensor, TensorId, TensorMut};
use std::ffi::{CStr, CString};
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default for [`InterpreterBuilder::memory_limit`]: 8 GiB on 64-bit targets; on 32-bit ones
/// (armv7), where 8 GiB does not fit in a `usize`, the largest object size, `isize::MAX` bytes.
pub const DEFAULT_MEMORY_LIMIT: usize = if usize::BITS >= 64 {
    8 << 30
} else {
    isize::MAX as usize
};

/// Configures and builds an [`Interpreter`]; from [`Interpreter::builder`].
///
/// By default the XNNPACK delegate is applied (with its int8/uint8 paths on) where the crate is
/// built with the `xnnpack` feature, and everything runs on one thread.
#[must_use]
pub struct InterpreterBuilder<'m> {
    model: &'m Model,
    num_threads: usize,
    builtin_threads: Option<usize>,
    memory_limit: usize,
    xnnpack: Option<XnnpackOptions>,
    custom_ops: Vec<(CString, &'static sys::TfLiteRegistration, i32, i32)>,
    rust_ops: Vec<Arc<Registration>>,
    rust_op_error: Option<String>,
    profiling: bool,
    external: Option<(Arc<ExternalDelegate>, bool)>,
    #[cfg(feature = "mediapipe")]
    mediapipe: bool,
}

impl<'m> InterpreterBuilder<'m> {
    fn new(model: &'m Model) -> Self {
        InterpreterBuilder {
            model,
            num_threads: 1,
            builtin_threads: None,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            xnnpack: if cfg!(feature = "xnnpack") {
                Some(XnnpackOptions::default())
            } else {
                None
            },
            custom_ops: Vec::new(),
            rust_ops: Vec::new(),
            rust_op_error: None,
            profiling: false,
            external: None,
            #[cfg(feature = "mediapipe")]
            mediapipe: true,
        }
    }

    /// How many threads inference may use (at least 1). With XNNPACK applied, XNNPACK gets
    /// them (unless [`XnnpackOptions::num_threads`] says otherwise) and TFLite's builtin
    /// kernels, which run only the ops XNNPACK does not take, get one: two spinning thread
    /// pools on the same cores slow each other down (an int8 MobileNetV2 on 2 cores ran
    /// 0.90 ms per invoke this way, 4.0 ms with both pools at 2 threads). Without a delegate,
    /// the builtin kernels get them all. [`builtin_threads`](Self::builtin_threads) overrides.
    pub fn num_threads(mut self, n: usize) -> Self {
        self.num_threads = n.max(1);
        self
    }

    /// The most tensor memory [`Interpreter::allocate_tensors`] accepts, in bytes: the sum of
    /// all non-constant tensors (an upper bound of TFLite's arena; default
    /// [`DEFAULT_MEMORY_LIMIT`]: 8 GiB on 64-bit targets). TFLite
    /// reserves arena memory lazily, so a model declaring a huge shape would otherwise only
    /// fail when the memory is touched — by the out-of-memory killer.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// Threads for TFLite's builtin kernels, whether or not a delegate is applied (at least 1).
    pub fn builtin_threads(mut self, n: usize) -> Self {
        self.builtin_threads = Some(n.max(1));
        self
    }

    /// Turns the XNNPACK delegate on or off (on by default where the crate is built with the
    /// `xnnpack` feature): off runs every op on TFLite's builtin kernels. On, in a build
    /// without the feature, the interpreter runs on the builtin kernels and
    /// [`Interpreter::delegate_skipped`] says why (an error with [`XnnpackOptions::required`]).
    pub fn use_xnnpack(mut self, on: bool) -> Self {
        self.xnnpack = if on {
            Some(self.xnnpack.take().unwrap_or_default())
        } else {
            None
        };
        self
    }

    /// Applies the XNNPACK delegate with these options (and turns it on).
    pub fn xnnpack(mut self, options: XnnpackOptions) -> Self {
        self.xnnpack = Some(options);
        self
    }

    /// Records per-node timings for [`Interpreter::profile`] (off by default: XNNPACK then
    /// times each of its operators on every invoke, which costs a little).
    pub fn profiling(mut self, on: bool) -> Self {
        self.profiling = on;
        self
    }

    /// Applies an external delegate plugin ([`ExternalDelegate::load`]) before XNNPACK, which
    /// then takes what the plugin left (if on). With `required`, [`build`](Self::build) fails
    /// if the plugin takes no node; [`Interpreter::execution_plan`] shows what it took.
    pub fn external_delegate(mut self, delegate: ExternalDelegate, required: bool) -> Self {
        self.external = Some((Arc::new(delegate), required));
        self
    }

    /// Registers MediaPipe's custom operators ([`crate::mediapipe`]) — on by default with the
    /// `mediapipe` feature; an op registered with [`custom_op`](Self::custom_op) under one of
    /// their names replaces the built-in one either way.
    #[cfg(feature = "mediapipe")]
    pub fn mediapipe_ops(mut self, on: bool) -> Self {
        self.mediapipe = on;
        self
    }

    /// Whether a Rust custom op is registered under `name` (any version).
    #[cfg(feature = "mediapipe")]
    pub(crate) fn has_custom_op(&self, name: &str) -> bool {
        self.rust_ops.iter().any(|r| r.name() == name)
    }

    /// Registers a custom operator written in Rust under `name` (op version 1); see
    /// [`custom_op`](crate::custom_op) for the trait, the closures form and an example. A
    /// problem with the registration (a NUL in the name, the same name twice, more than 32
    /// ops) is reported by [`build`](Self::build).
    pub fn custom_op<O: CustomOp>(self, name: &str, op: O) -> Self {
        self.custom_op_version(name, 1, op)
    }

    /// Like [`custom_op`](Self::custom_op), for models that give the op another version.
    pub fn custom_op_version<O: CustomOp>(mut self, name: &str, version: i32, op: O) -> Self {
        if self.rust_op_error.is_some() {
            return self;
        }
        if self
            .rust_ops
            .iter()
            .any(|r| r.name() == name && r.version() == version)
        {
            self.rust_op_error = Some(format!("custom op {name} v{version} registered twice"));
            return self;
        }
        match Registration::new(name, version, op, self.rust_ops.len()) {
            Ok(r) => self.rust_ops.push(r),
            Err(e) => self.rust_op_error = Some(format!("custom op {name}: {e}")),
        }
        self
    }

    /// Registers a custom operator implemented through the raw C API (see
    /// [`custom_op`](Self::custom_op) for the safe way).
    ///
    /// # Safety
    /// `registration`'s callbacks must be sound implementations of the TFLite kernel interface
    /// for every node of the model that uses `name`.
    pub unsafe fn custom_op_raw(
        mut self,
        name: &str,
        registration: &'static sys::TfLiteRegistration,
        min_version: i32,
        max_version: i32,
    ) -> Result<Self> {
        let name = CString::new(name).map_err(|_| Error::NulByte {
            what: "custom op name",
        })?;
        self.custom_ops
            .push((name, registration, min_version, max_version));
        Ok(self)
    }

    /// Creates the interpreter: resolves every op, applies the delegates. Tensors are not
    /// allocated yet: call [`Interpreter::allocate_tensors`].
    ///
    /// If XNNPACK cannot take the graph (TFLite refuses static-shape delegates on graphs with
    /// dynamic-sized tensors, e.g. string outputs) or cannot start on this processor (an ARM
    /// core without VFP), the interpreter runs on TFLite's builtin kernels, as Google's runtimes
    /// do; [`Interpreter::delegate_skipped`] says why. Set [`XnnpackOptions::required`] to get
    /// an error instead.
    pub fn build(self) -> Result<Interpreter> {
        #[cfg(feature = "mediapipe")]
        let this = if self.mediapipe {
            crate::mediapipe::register_missing(self)
        } else {
            self
        };
        #[cfg(not(feature = "mediapipe"))]
        let this = self;
        this.finish()
    }

    fn finish(self) -> Result<Interpreter> {
        let mut it = self.build_delegated()?;
        if self.profiling || self.external.is_some() {
            it.apply_probe()?;
        }
        if let Some((ext, true)) = &self.external {
            let plan = it.execution_plan().unwrap_or_default();
            let took = plan
                .iter()
                .any(|n| n.delegated && n.op != "TfLiteXNNPackDelegate");
            if !took {
                return Err(Error::ExternalDelegate {
                    path: ext.path().to_path_buf(),
                    reason: "the delegate took no node of the graph (required)".into(),
                });
            }
        }
        Ok(it)
    }

    fn build_delegated(&self) -> Result<Interpreter> {
        if let Some(e) = &self.rust_op_error {
            return Err(Error::CustomOp(e.clone()));
        }
        let all_builtin = self.builtin_threads.unwrap_or(self.num_threads);
        let Some(x) = &self.xnnpack else {
            return self.create(all_builtin);
        };
        // Shared packed weights (see `WeightsCache`): inserted while the cache is open, looked
        // up once it is finalized.
        let cache = if x.share_weights {
            self.model.weights_cache(x.packing())
        } else {
            None
        };
        let mut attempt = match &cache {
            Some(cache) => cache.building(|| self.delegated(x, Some(cache)))?,
            None => self.delegated(x, None)?,
        };
        // Sharing failed (e.g. weights that differ from the first interpreter's): pack privately.
        if attempt.is_err() && cache.is_some() {
            attempt = self.delegated(x, None)?;
        }
        match attempt {
            Ok(it) => Ok(it),
            Err(reason) if x.required => Err(Error::Tflite {
                call: "TfLiteInterpreterModifyGraphWithDelegate",
                tflite_message: reason,
            }),
            // TFLite restored the graph; run it on the builtin kernels, with all the threads.
            Err(reason) => {
                let mut it = self.create(all_builtin)?;
                it.delegate_skipped = Some(reason);
                Ok(it)
            }
        }
    }

    /// An interpreter with the XNNPACK delegate applied (packing into `cache` if given), or
    /// why it could not be applied.
    fn delegated(
        &self,
        x: &XnnpackOptions,
        cache: Option<&Arc<WeightsCache>>,
    ) -> Result<std::result::Result<Interpreter, String>> {
        let d = match Delegate::xnnpack(x, self.num_threads, cache.map(|c| &**c)) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut it = self.create(self.builtin_threads.unwrap_or(1))?;
        it.reporter.clear();
        // SAFETY: valid interpreter and delegate; the delegate is kept in `it.delegates`, so it
        // outlives the interpreter whether or not it was applied, and the cache (if any) in
        // `it.weights`, which is dropped after the delegates.
        let status = unsafe { sys::TfLiteRsInterpreterModifyGraphWithDelegate(it.raw(), d.raw()) };
        it.delegates.push(d);
        it.weights = cache.cloned();
        let message = it.reporter.take();
        match status {
            sys::kTfLiteOk => {
                it.delegate_applied = true;
                Ok(Ok(it))
            }
            sys::kTfLiteDelegateError | sys::kTfLiteApplicationError => {
                Ok(Err(if !message.is_empty() {
                    message
                } else if status == sys::kTfLiteApplicationError {
                    "the graph has dynamic-sized tensors (e.g. string tensors or data-dependent shapes), \
                 which the XNNPACK delegate does not support"
                    .to_string()
                } else {
                    "XNNPACK failed to prepare part of the graph".to_string()
                }))
            }
            _ => Err(
                Error::from_tflite("TfLiteInterpreterModifyGraphWithDelegate", message)
                    .for_model(self.model.origin(), self.model.min_runtime_version()),
            ),
        }
    }

    /// Creates the interpreter without delegates, its builtin kernels using `threads`.
    fn create(&self, threads: usize) -> Result<Interpreter> {
        let reporter = Box::<Reporter>::default();
        let mut profiler = self
            .profiling
            .then(|| Recorder::new(self.rust_ops.iter().map(|r| r.name().to_string()).collect()));
        // SAFETY: options are created here and deleted with the interpreter (or on failure);
        // every pointer handed to them outlives the interpreter (the reporter is owned by it,
        // registrations are 'static).
        let (raw, options) = unsafe {
            let options =
                NonNull::new(sys::TfLiteInterpreterOptionsCreate()).ok_or(Error::Tflite {
                    call: "TfLiteInterpreterOptionsCreate",
                    tflite_message: String::new(),
                })?;
            let threads = i32::try_from(threads).unwrap_or(i32::MAX);
            sys::TfLiteInterpreterOptionsSetNumThreads(options.as_ptr(), threads);
            // One atomic test per node; lets a CancelHandle stop an invoke between nodes.
            sys::TfLiteInterpreterOptionsEnableCancellation(options.as_ptr(), true);
            if let Some(p) = &mut profiler {
                // The table lives in the boxed recorder the interpreter owns.
                sys::TfLiteInterpreterOptionsSetTelemetryProfiler(options.as_ptr(), p.table());
            }
            sys::TfLiteInterpreterOptionsSetErrorReporter(
                options.as_ptr(),
                Some(reporter::report),
                reporter.as_user_data(),
            );
            for r in &self.rust_ops {
                sys::TfLiteInterpreterOptionsAddRegistrationExternal(options.as_ptr(), r.raw());
            }
            for (name, reg, min, max) in &self.custom_ops {
                sys::TfLiteInterpreterOptionsAddCustomOp(
                    options.as_ptr(),
                    name.as_ptr(),
                    *reg,
                    *min,
                    *max,
                );
            }
            // The Rust ops' `init` callbacks run inside creation and find their ops here.
            let creating = custom_op::creating(&self.rust_ops);
            let raw = sys::TfLiteRsInterpreterCreate(self.model.raw(), options.as_ptr());
            drop(creating);
            let Some(raw) = NonNull::new(raw) else {
                sys::TfLiteInterpreterOptionsDelete(options.as_ptr());
                return Err(
                    Error::from_tflite("TfLiteInterpreterCreate", reporter.take())
                        .for_model(self.model.origin(), self.model.min_runtime_version()),
                );
            };
            (raw, options)
        };
        let it = Interpreter {
            raw,
            options,
            reporter,
            delegates: Vec::new(),
            delegate_applied: false,
            delegate_skipped: None,
            broken: None,
            model: self.model.clone(),
            custom_ops: self.rust_ops.clone(),
            allocated: false,
            memory_limit: self.memory_limit,
            cancel: Arc::default(),
            weights: None,
            profiler,
            probe: None,
            external: None,
        };
        it.cancel.attach(raw);
        let mut it = it;
        if let Some((ext, _)) = &self.external {
            it.reporter.clear();
            // SAFETY: valid interpreter and delegate; the delegate is kept alive by
            // `it.external` until after the interpreter is deleted.
            let status =
                unsafe { sys::TfLiteRsInterpreterModifyGraphWithDelegate(it.raw(), ext.raw()) };
            it.external = Some(Arc::clone(ext));
            if status != sys::kTfLiteOk {
                let mut reason = it.reporter.take();
                if reason.is_empty() {
                    reason = format!("TFLite could not apply it (status {status})");
                }
                return Err(Error::ExternalDelegate {
                    path: ext.path().to_path_buf(),
                    reason,
                });
            }
        }
        // A corrupt model can list inputs or outputs that are no tensor; TFLite then hands out
        // null pointers. Refuse it here, so every later tensor access is to a real tensor.
        for (side, count) in [
            (Side::Input, it.input_count()),
            (Side::Output, it.output_count()),
        ] {
            for i in 0..count {
                // SAFETY: valid interpreter, index in range.
                let t = unsafe {
                    match side {
                        Side::Input => sys::TfLiteInterpreterGetInputTensor(it.raw(), i as i32)
                            as *const sys::TfLiteTensor,
                        Side::Output => sys::TfLiteInterpreterGetOutputTensor(it.raw(), i as i32),
                    }
                };
                if t.is_null() {
                    return Err(Error::InvalidModel {
                        origin: self.model.origin().to_string(),
                        tflite_message: format!("{side} {i} of the main graph refers to no tensor"),
                    });
                }
            }
        }
        Ok(it)
    }
}

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
    raw: NonNull<sys::TfLiteInterpreter>,
    options: NonNull<sys::TfLiteInterpreterOptions>,
    reporter: Box<Reporter>,
    delegates: Vec<Delegate>,
    delegate_applied: bool,
    delegate_skipped: Option<String>,
    /// Set when an allocation failed with a delegate applied: TFLite 2.14 leaves the delegated
    /// graph half re-applied then, and the next allocation crashes in its arena planner.
    broken: Option<String>,
    memory_limit: usize,
    // Keeps the model and its bytes alive for as long as the interpreter (declared after
    // `raw`, but `Drop` deletes the interpreter explicitly first anyway).
    model: Model,
    // The Rust custom ops' registrations, which TFLite uses until the interpreter is deleted.
    custom_ops: Vec<Arc<Registration>>,
    allocated: bool,
    cancel: Arc<Shared>,
    /// The shared packed weights the delegate uses, if any (dropped after the delegates).
    weights: Option<Arc<WeightsCache>>,
    /// TFLite's profiling callbacks land here (dropped after the interpreter is deleted).
    profiler: Option<Box<Recorder>>,
    /// Reads the execution plan after delegation (dropped after the interpreter is deleted).
    probe: Option<Box<Probe>>,
    /// An external delegate applied to the graph (dropped after the interpreter is deleted).
    external: Option<Arc<ExternalDelegate>>,
}

// SAFETY: a TfLiteInterpreter may be used from any one thread at a time; all access goes
// through `&self`/`&mut self`, and `Interpreter` is not `Sync`.
unsafe impl Send for Interpreter {}

impl Drop for Interpreter {
    fn drop(&mut self) {
        // Handles must not reach the interpreter any more.
        self.cancel.detach();
        // SAFETY: deleted once, interpreter before the options and delegates it uses.
        unsafe {
            sys::TfLiteInterpreterDelete(self.raw.as_ptr());
            sys::TfLiteInterpreterOptionsDelete(self.options.as_ptr());
        }
        self.delegates.clear();
        self.weights = None;
        // Now that TFLite no longer uses them (the interpreter freed its nodes' states above).
        self.custom_ops.clear();
    }
}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("model", &self.model)
            .field("inputs", &self.input_count())
            .field("outputs", &self.output_count())
            .field("allocated", &self.allocated)
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
        &self.model
    }

    /// Whether a delegate (XNNPACK) was applied to the graph.
    pub fn has_delegate(&self) -> bool {
        self.delegate_applied
    }

    /// Whether XNNPACK runs from the model's shared packed weights (see
    /// [`XnnpackOptions::share_weights`]) rather than its own copy.
    pub fn shares_weights(&self) -> bool {
        self.delegate_applied && self.weights.is_some()
    }

    /// Why the XNNPACK delegate was asked for but not applied, if so (see
    /// [`InterpreterBuilder::build`]).
    pub fn delegate_skipped(&self) -> Option<&str> {
        self.delegate_skipped.as_deref()
    }

    pub(crate) fn raw(&self) -> *mut sys::TfLiteInterpreter {
        self.raw.as_ptr()
    }

    pub(crate) fn reporter(&self) -> &Reporter {
        &self.reporter
    }

    /// Runs a TFLite call, turning a failure into an error carrying TFLite's message.
    pub(crate) fn check(
        &self,
        call: &'static str,
        f: impl FnOnce() -> sys::TfLiteStatus,
    ) -> Result<()> {
        self.reporter.clear();
        let status = f();
        if status == sys::kTfLiteOk {
            Ok(())
        } else {
            let mut msg = self.reporter.take();
            if msg.is_empty() {
                msg = format!("status {status}");
            }
            Err(Error::from_tflite(call, msg)
                .for_model(self.model.origin(), self.model.min_runtime_version()))
        }
    }

    /// Allocates (or re-allocates after a resize) every tensor. Required before filling
    /// inputs, reading outputs or invoking.
    ///
    /// With a delegate (XNNPACK, or an external one) applied, an allocation that fails — say,
    /// after resizing an input to a shape the model cannot take — leaves the interpreter
    /// unusable: every later `allocate_tensors` returns the same error (TFLite 2.14 cannot
    /// re-apply the delegates after that and would crash). Build a new interpreter then.
    pub fn allocate_tensors(&mut self) -> Result<()> {
        if let Some(reason) = &self.broken {
            return Err(Error::Tflite {
                call: "TfLiteInterpreterAllocateTensors",
                tflite_message: format!(
                    "an earlier allocation failed with a delegate applied ({reason}); \
                     this interpreter cannot be allocated again: build a new one"
                ),
            });
        }
        // After a resize TFLite re-applies the delegates here, which may pack into the shared
        // weights cache: as a build does.
        let allocated = self.weights_building(|| {
            // SAFETY: valid interpreter.
            self.check("TfLiteInterpreterAllocateTensors", || unsafe {
                sys::TfLiteRsInterpreterAllocateTensors(self.raw())
            })
        });
        if let Err(e) = &allocated {
            if self.delegate_applied || self.external.is_some() {
                self.broken = Some(e.to_string());
            }
        }
        allocated?;
        self.check_tensor_sizes()?;
        for i in 0..self.input_count() {
            // SAFETY: allocated just now; `&mut self`, so no view is alive.
            unsafe { self.input_tensor(i).zero_if_arena() }
        }
        for i in 0..self.output_count() {
            // SAFETY: as above.
            unsafe { self.output_tensor(i).zero_if_arena() }
        }
        self.allocated = true;
        Ok(())
    }

    /// Gives input `id` a new shape; call [`allocate_tensors`](Self::allocate_tensors) again
    /// before using any tensor.
    pub fn resize_input(&mut self, id: impl TensorId, shape: &[usize]) -> Result<()> {
        let i = self.input_id(id)?;
        let dims = dims_i32(shape).ok_or_else(|| Error::InvalidShape {
            tensor: self.input_tensor(i).name(),
            shape: shape.to_vec(),
            reason: "a dimension exceeds i32::MAX".into(),
        })?;
        // SAFETY: valid interpreter, `i` in range, `dims` lives through the call.
        self.check("TfLiteInterpreterResizeInputTensor", || unsafe {
            sys::TfLiteRsInterpreterResizeInputTensor(
                self.raw(),
                i as i32,
                dims.as_ptr(),
                dims.len() as i32,
            )
        })?;
        self.allocated = false;
        Ok(())
    }

    /// Refuses an allocation whose tensors (activations: not the constant weights mapped from
    /// the model) add up to more than the limit, before anything touches their memory.
    fn check_tensor_sizes(&self) -> Result<()> {
        let mut total = 0usize;
        for i in 0.. {
            // SAFETY: valid interpreter; TFLite returns null past the last tensor.
            let t = unsafe { sys::TfLiteInterpreterGetTensor(self.raw(), i) };
            if t.is_null() {
                break;
            }
            // SAFETY: non-null tensor of this interpreter.
            let (kind, bytes) = unsafe { ((*t).allocation_type, sys::TfLiteTensorByteSize(t)) };
            if kind == sys::kTfLiteMmapRo {
                continue;
            }
            total = total.saturating_add(bytes);
            if total > self.memory_limit {
                return Err(Error::MemoryLimit {
                    tensor: RawTensor(t).name(),
                    needed: total,
                    limit: self.memory_limit,
                });
            }
        }
        Ok(())
    }

    /// Marks the tensors as needing [`allocate_tensors`](Self::allocate_tensors) (after a
    /// resize through a signature runner).
    pub(crate) fn invalidate_allocation(&mut self) {
        self.allocated = false;
    }

    /// Runs the model on the current inputs. [`Error::Cancelled`] if a
    /// [`CancelHandle`] cancelled it meanwhile.
    pub fn invoke(&mut self) -> Result<()> {
        self.invoke_within(None)
    }

    /// Like [`invoke`](Self::invoke), cancelled if it takes longer than `timeout`
    /// ([`Error::DeadlineExceeded`]). A watchdog thread runs for the duration of the call;
    /// cancellation takes effect between nodes (see [`CancelHandle`]).
    pub fn invoke_with_timeout(&mut self, timeout: std::time::Duration) -> Result<()> {
        self.invoke_within(Some(timeout))
    }

    fn invoke_within(&mut self, timeout: Option<std::time::Duration>) -> Result<()> {
        if !self.allocated {
            return Err(Error::NotAllocated);
        }
        self.finalize_weights()?;
        let cancel = Arc::clone(&self.cancel);
        cancel.invoke(timeout, || {
            // SAFETY: valid, allocated interpreter; no tensor view is alive (`&mut self`).
            self.check("TfLiteInterpreterInvoke", || unsafe {
                sys::TfLiteRsInterpreterInvoke(self.raw())
            })
        })
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
        if self.profiler.is_none() {
            return Err(Error::ProfilingOff);
        }
        if let Some(r) = &self.profiler {
            r.record(true);
        }
        let epoch = Instant::now();
        let mut total = Duration::ZERO;
        let mut result = Ok(());
        for _ in 0..invokes {
            if let Some(r) = &self.profiler {
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
        let r = self.profiler.as_ref().ok_or(Error::ProfilingOff)?;
        r.record(false);
        result?;
        Ok(r.profile(invokes, total, epoch, &plan))
    }

    /// The main graph's execution plan after delegation — which nodes a delegate took and
    /// which run on TFLite's own kernels — for an interpreter built with
    /// [`profiling`](InterpreterBuilder::profiling) or an external delegate (`None` otherwise).
    pub fn execution_plan(&self) -> Option<Vec<PlanNode>> {
        self.probe.as_ref().and_then(|p| p.plan())
    }

    /// Applies the plan probe (after every other delegate).
    fn apply_probe(&mut self) -> Result<()> {
        let mut probe = Probe::new();
        // SAFETY: valid interpreter; the probe is boxed and kept in `self.probe`, which is
        // dropped after the interpreter is deleted.
        let status =
            unsafe { sys::TfLiteRsInterpreterModifyGraphWithDelegate(self.raw(), probe.raw()) };
        self.probe = Some(probe);
        if status != sys::kTfLiteOk {
            return Err(Error::Tflite {
                call: "TfLiteInterpreterModifyGraphWithDelegate",
                tflite_message: self.reporter.take(),
            });
        }
        Ok(())
    }

    /// A handle that cancels this interpreter's running invoke from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(Arc::clone(&self.cancel))
    }

    /// Runs `f` (a signature runner's invoke) under this interpreter's cancellation.
    pub(crate) fn cancellable(&self, f: impl FnOnce() -> Result<()>) -> Result<()> {
        self.finalize_weights()?;
        self.cancel.invoke(None, f)
    }

    /// Runs `f` as a build of an interpreter using the shared weights cache, if any (see
    /// `WeightsCache::building`).
    pub(crate) fn weights_building<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.weights {
            Some(w) => w.building(f),
            None => f(),
        }
    }

    /// XNNPACK runs nothing from an open weights cache: finalize the shared one first.
    fn finalize_weights(&self) -> Result<()> {
        match &self.weights {
            Some(w) if self.delegate_applied && !w.ensure_finalized() => Err(Error::Tflite {
                call: "TfLiteXNNPackDelegateWeightsCacheFinalizeSoft",
                tflite_message: "XNNPACK could not finalize the shared weights cache".into(),
            }),
            _ => Ok(()),
        }
    }

    /// Number of model inputs.
    pub fn input_count(&self) -> usize {
        // SAFETY: valid interpreter.
        unsafe { sys::TfLiteInterpreterGetInputTensorCount(self.raw()) }.max(0) as usize
    }

    /// Number of model outputs.
    pub fn output_count(&self) -> usize {
        // SAFETY: valid interpreter.
        unsafe { sys::TfLiteInterpreterGetOutputTensorCount(self.raw()) }.max(0) as usize
    }

    fn input_tensor(&self, i: usize) -> RawTensor {
        // SAFETY: valid interpreter; callers pass `i < input_count()`.
        RawTensor(unsafe { sys::TfLiteInterpreterGetInputTensor(self.raw(), i as i32) })
    }

    fn output_tensor(&self, i: usize) -> RawTensor {
        // SAFETY: valid interpreter; callers pass `i < output_count()`.
        RawTensor(unsafe { sys::TfLiteInterpreterGetOutputTensor(self.raw(), i as i32) })
    }

    fn input_id(&self, id: impl TensorId) -> Result<usize> {
        id.resolve(Side::Input, self.input_count(), &|i| {
            self.input_tensor(i).name()
        })
    }

    fn output_id(&self, id: impl TensorId) -> Result<usize> {
        id.resolve(Side::Output, self.output_count(), &|i| {
            self.output_tensor(i).name()
        })
    }

    /// Input `id` (a position or a name), read-only. Its metadata is there at once; its data
    /// once the tensors are allocated.
    pub fn input(&self, id: impl TensorId) -> Result<Tensor<'_>> {
        let t = self.input_tensor(self.input_id(id)?);
        // SAFETY: the view borrows `self`; every write needs `&mut self`.
        Ok(unsafe { Tensor::new(t, self.allocated) })
    }

    /// Input `id`, to write (fill it before [`invoke`](Self::invoke)).
    pub fn input_mut(&mut self, id: impl TensorId) -> Result<TensorMut<'_>> {
        let t = self.input_tensor(self.input_id(id)?);
        // SAFETY: the view borrows `self` mutably: no other view of any tensor of this
        // interpreter exists while it lives.
        Ok(unsafe { TensorMut::new(t, self.allocated) })
    }

    /// Output `id` (a position or a name); its data is the last [`invoke`](Self::invoke)'s
    /// result (zeros before the first).
    pub fn output(&self, id: impl TensorId) -> Result<Tensor<'_>> {
        let t = self.output_tensor(self.output_id(id)?);
        // SAFETY: as in `input`.
        Ok(unsafe { Tensor::new(t, self.allocated) })
    }

    /// Every input, in order.
    pub fn inputs(&self) -> Vec<Tensor<'_>> {
        (0..self.input_count())
            // SAFETY: as in `input`; `i` is in range.
            .map(|i| unsafe { Tensor::new(self.input_tensor(i), self.allocated) })
            .collect()
    }

    /// Every output, in order.
    pub fn outputs(&self) -> Vec<Tensor<'_>> {
        (0..self.output_count())
            // SAFETY: as in `output`; `i` is in range.
            .map(|i| unsafe { Tensor::new(self.output_tensor(i), self.allocated) })
            .collect()
    }

    /// The keys of the model's signatures (e.g. `serving_default`).
    pub fn signature_keys(&self) -> Vec<String> {
        // SAFETY: valid interpreter; keys are NUL-terminated strings owned by it.
        unsafe {
            let n = sys::TfLiteInterpreterGetSignatureCount(self.raw()).max(0);
            (0..n)
                .map(|i| {
                    let p = sys::TfLiteInterpreterGetSignatureKey(self.raw(), i);
                    if p.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(p).to_string_lossy().into_owned()
                    }
                })
                .collect()
        }
    }
}
