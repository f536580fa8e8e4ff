//! [`InterpreterBuilder`]: configures threads, delegates and custom ops, and builds an
//! [`Interpreter`] in steps: the options, the native interpreter, the delegates (a plugin,
//! XNNPACK, the plan probe), and the checks of what TFLite hands back.

mod create;

use super::core::Core;
use super::Interpreter;
use crate::custom_op::{CustomOp, OpDef, Registration};
use crate::delegate::external::ExternalDelegate;
use crate::delegate::kernel::Kernel;
use crate::delegate::xnnpack::XnnpackOptions;
use crate::delegate::Xnnpack;
use crate::error::{Error, Result};
use crate::model::Model;
use create::apply_probe;
use std::ffi::CString;
use std::sync::Arc;
use tflite_sys as sys;

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
    pub(crate) fn new(model: &'m Model) -> Self {
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
        self.register(OpDef::new(name, version, op));
        self
    }

    /// Registers `def` in the next slot (an error is reported by `build`).
    fn register(&mut self, def: OpDef) {
        if self.rust_op_error.is_some() {
            return;
        }
        let name = def.name().to_string();
        match Registration::new(def, self.rust_ops.len()) {
            Ok(r) => self.rust_ops.push(r),
            Err(e) => self.rust_op_error = Some(format!("custom op {name}: {e}")),
        }
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
        let this = self.with_mediapipe_ops();
        #[cfg(not(feature = "mediapipe"))]
        let this = self;
        this.finish()
    }

    /// Registers MediaPipe's ops (if on), each unless the application registered its own
    /// under that name.
    #[cfg(feature = "mediapipe")]
    fn with_mediapipe_ops(mut self) -> Self {
        if self.mediapipe {
            for def in crate::mediapipe::ops() {
                if !self.rust_ops.iter().any(|r| r.name() == def.name()) {
                    self.register(def);
                }
            }
        }
        self
    }

    fn finish(self) -> Result<Interpreter> {
        if let Some(e) = &self.rust_op_error {
            return Err(Error::CustomOp(e.clone()));
        }
        self.custom_ops_are_registered()?;
        let mut core = self.build_delegated()?;
        if self.profiling || self.external.is_some() {
            apply_probe(&mut core, &self.rust_ops)?;
        }
        if let Some((ext, true)) = &self.external {
            let took = core
                .delegation
                .plan()
                .unwrap_or_default()
                .iter()
                .any(|n| matches!(n.kernel, Kernel::Delegate(_)));
            if !took {
                return Err(Error::ExternalDelegate {
                    path: ext.path().to_path_buf(),
                    reason: "the delegate took no node of the graph (required)".into(),
                });
            }
        }
        Ok(Interpreter { core })
    }

    /// Refuses a model whose nodes use a custom op no registration provides (by name and
    /// version: the application's, MediaPipe's, or TFLite's own), whether or not XNNPACK is
    /// applied: TFLite resolves custom ops when it prepares the nodes, which applying XNNPACK
    /// does at build and the builtin kernels only at `allocate_tensors`. An external delegate
    /// may take such nodes itself: with one, TFLite decides, at its first `Prepare`.
    fn custom_ops_are_registered(&self) -> Result<()> {
        /// The custom ops TFLite 2.14's own resolver registers (`AddCustom` in
        /// `tensorflow/lite/core/kernels/register.cc`), each at version 1.
        const TFLITE_CUSTOM_OPS: [&str; 4] = [
            "NumericVerify",
            "Mfcc",
            "AudioSpectrogram",
            "TFLite_Detection_PostProcess",
        ];
        if self.external.is_some() {
            return Ok(());
        }
        // A model the reader cannot describe is left to TFLite.
        let Ok(operators) = self.model.operators() else {
            return Ok(());
        };
        let registered = |name: &str, version: i32| {
            self.rust_ops
                .iter()
                .any(|r| r.name() == name && r.version() == version)
                || self.custom_ops.iter().any(|(n, _, min, max)| {
                    n.as_bytes() == name.as_bytes() && (*min..=*max).contains(&version)
                })
                || (version == 1 && TFLITE_CUSTOM_OPS.contains(&name))
        };
        match operators.iter().find(|o| {
            o.custom && o.nodes > 0 && !o.name.is_empty() && !registered(&o.name, o.version)
        }) {
            Some(o) => Err(Error::UnsupportedOp {
                model: self.model.origin().to_string(),
                op: o.name.clone(),
                version: Some(o.version),
                min_runtime_version: self.model.min_runtime_version(),
                tflite_message: format!(
                    "no custom op {} version {} is registered (InterpreterBuilder::custom_op \
                     registers one)",
                    o.name, o.version
                ),
            }),
            None => Ok(()),
        }
    }

    /// The interpreter with the delegates applied: the plugin if any, then XNNPACK if asked
    /// for and possible (see [`build`](Self::build)).
    fn build_delegated(&self) -> Result<Core> {
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
            Ok(core) => Ok(core),
            Err(reason) if x.required => Err(Error::Tflite {
                call: "TfLiteInterpreterModifyGraphWithDelegate",
                tflite_message: reason,
            }),
            // TFLite restored the graph; run it on the builtin kernels, with all the threads.
            Err(reason) => {
                let mut core = self.create(all_builtin)?;
                core.delegation.xnnpack = Xnnpack::Skipped(reason);
                Ok(core)
            }
        }
    }
}
