//! The native side of a build: the options, the interpreter, and the delegates applied to it.

use super::InterpreterBuilder;
use crate::custom_op::{self, Registration};
use crate::delegate::external::ExternalDelegate;
use crate::delegate::probe::Probe;
use crate::delegate::weights::WeightsCache;
use crate::delegate::xnnpack::{Delegate, XnnpackOptions};
use crate::delegate::{Delegation, Xnnpack};
use crate::error::{Error, Result, Side};
use crate::ffi::reporter::{self, Reporter};
use crate::ffi::saturating_i32;
use crate::interpreter::core::{Allocation, Core, Graph};
use crate::profile::Recorder;
use std::ptr::NonNull;
use std::sync::Arc;
use tflite_sys as sys;

impl InterpreterBuilder<'_> {
    /// An interpreter with the XNNPACK delegate applied (packing into `cache` if given), or
    /// why it could not be applied.
    pub(super) fn delegated(
        &self,
        x: &XnnpackOptions,
        cache: Option<&Arc<WeightsCache>>,
    ) -> Result<std::result::Result<Core, String>> {
        let d = match Delegate::xnnpack(x, self.num_threads, cache.map(|c| &**c)) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut core = self.create(self.builtin_threads.unwrap_or(1))?;
        core.reporter.clear();
        // SAFETY: valid interpreter and delegate; the delegate is kept in `core.delegation`, so
        // it outlives the interpreter whether or not it was applied (a core it was not applied
        // to is dropped here), and the cache (if any) with it, dropped after it.
        let status =
            unsafe { sys::TfLiteRsInterpreterModifyGraphWithDelegate(core.raw(), d.raw()) };
        core.delegation.xnnpack = Xnnpack::Applied {
            _delegate: d,
            weights: cache.cloned(),
        };
        let message = core.reporter.take();
        match status {
            sys::kTfLiteOk => Ok(Ok(core)),
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

    /// The interpreter options: threads, cancellation, profiler, reporter, custom ops.
    ///
    /// # Safety
    /// Every pointer handed to the options must outlive the interpreter made with them: the
    /// reporter and profiler are boxed and owned by it, registrations are `'static` or owned
    /// by it.
    unsafe fn options(
        &self,
        threads: usize,
        reporter: &Reporter,
        profiler: Option<&mut Recorder>,
    ) -> Result<NonNull<sys::TfLiteInterpreterOptions>> {
        // SAFETY: plain C calls on options created here; pointers as the caller promises.
        unsafe {
            let options =
                NonNull::new(sys::TfLiteInterpreterOptionsCreate()).ok_or(Error::Tflite {
                    call: "TfLiteInterpreterOptionsCreate",
                    tflite_message: String::new(),
                })?;
            sys::TfLiteInterpreterOptionsSetNumThreads(options.as_ptr(), saturating_i32(threads));
            // One atomic test per node; lets a CancelHandle stop an invoke between nodes.
            sys::TfLiteInterpreterOptionsEnableCancellation(options.as_ptr(), true);
            if let Some(p) = profiler {
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
            Ok(options)
        }
    }

    /// Creates the interpreter, its builtin kernels using `threads`, with the external
    /// delegate applied if any (XNNPACK is applied by the caller).
    pub(super) fn create(&self, threads: usize) -> Result<Core> {
        let reporter = Box::<Reporter>::default();
        let mut profiler = self
            .profiling
            .then(|| Recorder::new(self.rust_ops.iter().map(|r| r.name().to_string()).collect()));
        // SAFETY: the reporter and profiler are boxed and moved into the core, which deletes
        // the interpreter before dropping them; registrations are kept by the core.
        let options = unsafe { self.options(threads, &reporter, profiler.as_deref_mut())? };
        // The Rust ops' `init` callbacks run inside creation and find their ops here.
        let creating = custom_op::creating(&self.rust_ops);
        // SAFETY: valid model and options.
        let raw = unsafe { sys::TfLiteRsInterpreterCreate(self.model.raw(), options.as_ptr()) };
        drop(creating);
        let Some(raw) = NonNull::new(raw) else {
            // SAFETY: created above, used by no interpreter.
            unsafe { sys::TfLiteInterpreterOptionsDelete(options.as_ptr()) };
            return Err(
                Error::from_tflite("TfLiteInterpreterCreate", reporter.take())
                    .for_model(self.model.origin(), self.model.min_runtime_version()),
            );
        };
        let mut core = Core {
            raw,
            options,
            reporter,
            model: self.model.clone(),
            memory_limit: self.memory_limit,
            main: Allocation::Needed,
            signature: Allocation::Needed,
            cancel: Arc::default(),
            delegation: Delegation::default(),
            profiler,
            custom_ops: self.rust_ops.clone(),
        };
        core.cancel.attach(raw);
        if let Some((ext, _)) = &self.external {
            apply_external(&mut core, ext)?;
        }
        check_io_are_tensors(&core)?;
        Ok(core)
    }
}

/// Applies an external delegate plugin.
fn apply_external(core: &mut Core, ext: &Arc<ExternalDelegate>) -> Result<()> {
    core.reporter.clear();
    // SAFETY: valid interpreter and delegate; the delegate is kept alive by
    // `core.delegation` until after the interpreter is deleted.
    let status = unsafe { sys::TfLiteRsInterpreterModifyGraphWithDelegate(core.raw(), ext.raw()) };
    core.delegation.external = Some(Arc::clone(ext));
    if status != sys::kTfLiteOk {
        let mut reason = core.reporter.take();
        if reason.is_empty() {
            reason = format!("TFLite could not apply it (status {status})");
        }
        return Err(Error::ExternalDelegate {
            path: ext.path().to_path_buf(),
            reason,
        });
    }
    Ok(())
}

/// Applies the plan probe (after every other delegate).
pub(super) fn apply_probe(core: &mut Core, rust_ops: &[Arc<Registration>]) -> Result<()> {
    let mut probe = Probe::new(rust_ops.iter().map(|r| r.name().to_string()).collect());
    // SAFETY: valid interpreter; the probe is boxed and kept in `core.delegation`, which is
    // dropped after the interpreter is deleted.
    let status =
        unsafe { sys::TfLiteRsInterpreterModifyGraphWithDelegate(core.raw(), probe.raw()) };
    core.delegation.probe = Some(probe);
    if status != sys::kTfLiteOk {
        return Err(Error::Tflite {
            call: "TfLiteInterpreterModifyGraphWithDelegate",
            tflite_message: core.reporter.take(),
        });
    }
    Ok(())
}

/// A corrupt model can list inputs or outputs that are no tensor; TFLite then hands out null
/// pointers. Refused here, so every later tensor access is to a real tensor.
fn check_io_are_tensors(core: &Core) -> Result<()> {
    for side in [Side::Input, Side::Output] {
        for i in 0..core.count(Graph::Main, side) {
            // SAFETY: valid interpreter, index in range.
            let t = unsafe {
                match side {
                    Side::Input => sys::TfLiteInterpreterGetInputTensor(core.raw(), i as i32)
                        as *const sys::TfLiteTensor,
                    Side::Output => sys::TfLiteInterpreterGetOutputTensor(core.raw(), i as i32),
                }
            };
            if t.is_null() {
                return Err(Error::InvalidModel {
                    origin: core.model.origin().to_string(),
                    tflite_message: format!("{side} {i} of the main graph refers to no tensor"),
                });
            }
        }
    }
    Ok(())
}
