//! Delegates: today the XNNPACK CPU delegate.

use crate::error::{Error, Result};
use crate::sys;
#[cfg(feature = "xnnpack")]
use std::ptr::NonNull;

/// Options of the XNNPACK delegate (see [`InterpreterBuilder::xnnpack`](crate::InterpreterBuilder)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct XnnpackOptions {
    /// Threads for XNNPACK; `None` uses the interpreter's thread count.
    pub num_threads: Option<usize>,
    /// Run int8 (signed, per-channel) quantized ops through XNNPACK. Default on.
    pub qs8: bool,
    /// Run uint8 quantized ops through XNNPACK. Default on.
    pub qu8: bool,
    /// Compute float32 ops in float16 where the CPU supports it (faster, less precise). Default off.
    pub force_fp16: bool,
    /// Run dynamic-range `FULLY_CONNECTED`, `CONV_2D` and `BATCH_MATMUL` nodes (float input
    /// and output, constant int8 weights: what the converter makes with `Optimize.DEFAULT` and
    /// no representative dataset) on XNNPACK's dynamically quantized operators, as Google's
    /// current runtime does: each input row (each image for `CONV_2D`) is quantized to int8
    /// with its own scale and zero point at run time, the products are summed in int32 and
    /// rescaled per output channel. Off keeps them on TFLite's builtin hybrid kernels.
    /// Dynamic-range `DEPTHWISE_CONV_2D` runs on the builtin kernel either way (XNNPACK has no
    /// such operator). Default on.
    pub dynamic_range: bool,
    /// Fail [`build`](crate::InterpreterBuilder::build) if the delegate cannot be applied,
    /// instead of running on TFLite's builtin kernels. Default off.
    pub required: bool,
    /// Share XNNPACK's packed weights among the interpreters of one [`Model`](crate::Model)
    /// built with the same packing options (`qs8`, `qu8`, `force_fp16`, `dynamic_range`): the first packs
    /// them into the model's weights cache, the others find them there instead of keeping
    /// their own copy. Default on. If sharing fails for an interpreter, it packs its own
    /// ([`Interpreter::shares_weights`](crate::Interpreter::shares_weights) says which).
    pub share_weights: bool,
}

impl Default for XnnpackOptions {
    fn default() -> Self {
        XnnpackOptions {
            num_threads: None,
            qs8: true,
            qu8: true,
            force_fp16: false,
            dynamic_range: true,
            required: false,
            share_weights: true,
        }
    }
}

impl XnnpackOptions {
    /// Sets [`num_threads`](Self::num_threads).
    pub fn num_threads(mut self, n: usize) -> Self {
        self.num_threads = Some(n.max(1));
        self
    }
    /// Sets [`qs8`](Self::qs8).
    pub fn qs8(mut self, on: bool) -> Self {
        self.qs8 = on;
        self
    }
    /// Sets [`qu8`](Self::qu8).
    pub fn qu8(mut self, on: bool) -> Self {
        self.qu8 = on;
        self
    }
    /// Sets [`share_weights`](Self::share_weights).
    pub fn share_weights(mut self, on: bool) -> Self {
        self.share_weights = on;
        self
    }
    /// Sets [`dynamic_range`](Self::dynamic_range).
    pub fn dynamic_range(mut self, on: bool) -> Self {
        self.dynamic_range = on;
        self
    }
    /// What the packed weights depend on: interpreters agreeing on it can share them.
    pub(crate) fn packing(&self) -> Packing {
        (self.qs8, self.qu8, self.force_fp16, self.dynamic_range)
    }
    /// Sets [`required`](Self::required).
    pub fn required(mut self, on: bool) -> Self {
        self.required = on;
        self
    }
    /// Sets [`force_fp16`](Self::force_fp16).
    pub fn force_fp16(mut self, on: bool) -> Self {
        self.force_fp16 = on;
        self
    }
}

/// Initializes XNNPACK's global state once, before any two threads can race to. Two first
/// uses at once (two interpreters built on two threads) are data races in this XNNPACK
/// (ThreadSanitizer, `tests/pool.rs`, `tests/api.rs`): `xnn_initialize` publishes the
/// allocator with an atomic compare-and-swap but reads it with a plain load inside its
/// `pthread_once`, and the first weights cache stores the system page size in a plain global.
/// Once both have happened here, later calls only read them.
#[cfg(feature = "xnnpack")]
fn xnnpack_initialized() {
    static INIT: std::sync::Once = std::sync::Once::new();
    // SAFETY: plain C calls: initialization with the default allocator (its status is not
    // needed here: the delegate and the cache call it again and report a failure themselves),
    // then a weights cache made and deleted at once.
    INIT.call_once(|| unsafe {
        sys::xnn_initialize(std::ptr::null());
        let cache = sys::TfLiteXNNPackDelegateWeightsCacheCreate();
        if !cache.is_null() {
            sys::TfLiteXNNPackDelegateWeightsCacheDelete(cache);
        }
    });
}

/// An owned delegate, deleted on drop (after the interpreter that uses it).
pub(crate) enum Delegate {
    #[cfg(feature = "xnnpack")]
    Xnnpack(NonNull<sys::TfLiteDelegate>),
}

impl Delegate {
    #[cfg(feature = "xnnpack")]
    pub(crate) fn xnnpack(
        o: &XnnpackOptions,
        default_threads: usize,
        cache: Option<&WeightsCache>,
    ) -> Result<Delegate> {
        xnnpack_initialized();
        // SAFETY: plain C calls; the options struct is read during the call only.
        unsafe {
            let mut opts = sys::TfLiteXNNPackDelegateOptionsDefault();
            opts.num_threads =
                i32::try_from(o.num_threads.unwrap_or(default_threads).max(1)).unwrap_or(i32::MAX);
            let mut flags = opts.flags
                & !(sys::TFLITE_XNNPACK_DELEGATE_FLAG_QS8
                    | sys::TFLITE_XNNPACK_DELEGATE_FLAG_QU8
                    | sys::TFLITE_XNNPACK_DELEGATE_FLAG_FORCE_FP16
                    | sys::TFLITE_XNNPACK_DELEGATE_FLAG_DYNAMIC_RANGE);
            if o.qs8 {
                flags |= sys::TFLITE_XNNPACK_DELEGATE_FLAG_QS8;
            }
            if o.qu8 {
                flags |= sys::TFLITE_XNNPACK_DELEGATE_FLAG_QU8;
            }
            if o.force_fp16 {
                flags |= sys::TFLITE_XNNPACK_DELEGATE_FLAG_FORCE_FP16;
            }
            if o.dynamic_range {
                flags |= sys::TFLITE_XNNPACK_DELEGATE_FLAG_DYNAMIC_RANGE;
            }
            opts.flags = flags;
            if let Some(cache) = cache {
                opts.weights_cache = cache.raw.as_ptr();
            }
            NonNull::new(sys::TfLiteXNNPackDelegateCreate(&opts))
                .map(Delegate::Xnnpack)
                .ok_or(Error::Tflite {
                    call: "TfLiteXNNPackDelegateCreate",
                    tflite_message: "XNNPACK could not be initialised on this processor \
                                     (it needs SSE2 on x86, ARMv6 with VFP on 32-bit ARM)"
                        .into(),
                })
        }
    }

    #[cfg(not(feature = "xnnpack"))]
    pub(crate) fn xnnpack(
        _: &XnnpackOptions,
        _: usize,
        _: Option<&WeightsCache>,
    ) -> Result<Delegate> {
        Err(Error::Tflite {
            call: "XNNPACK delegate",
            tflite_message: "tflite was built without the `xnnpack` feature".into(),
        })
    }

    pub(crate) fn raw(&self) -> *mut sys::TfLiteDelegate {
        match *self {
            #[cfg(feature = "xnnpack")]
            Delegate::Xnnpack(p) => p.as_ptr(),
        }
    }
}

impl Drop for Delegate {
    fn drop(&mut self) {
        match *self {
            // SAFETY: created by TfLiteXNNPackDelegateCreate, deleted once, after the
            // interpreter using it (the interpreter's Drop deletes itself first).
            #[cfg(feature = "xnnpack")]
            Delegate::Xnnpack(p) => unsafe { sys::TfLiteXNNPackDelegateDelete(p.as_ptr()) },
        }
    }
}

/// The options packed weights depend on: `(qs8, qu8, force_fp16, dynamic_range)`.
pub(crate) type Packing = (bool, bool, bool, bool);

/// XNNPACK's packed-weights cache, shared by the interpreters of one model.
///
/// Interpreters built while it is open pack their weights into it (XNNPACK finds identical
/// weights already there and keeps one copy). XNNPACK runs nothing from an open cache, so the
/// first invoke of any interpreter using it soft-finalizes it; interpreters built after that
/// only look their weights up (packing into a scratch area the finalization reserved).
/// Builds hold `open` for reading while they insert, finalization holds it for writing.
pub(crate) struct WeightsCache {
    #[cfg(feature = "xnnpack")]
    raw: NonNull<sys::TfLiteXNNPackDelegateWeightsCache>,
    /// `true` once finalized.
    open: std::sync::RwLock<bool>,
    finalized: std::sync::atomic::AtomicBool,
}

// SAFETY: XNNPACK's weights cache guards insertions and look-ups with its own mutex; its
// finalization, which does not take that mutex, runs under our write lock, which excludes the
// builds that insert (they hold the read lock); it is deleted once no interpreter or model
// holds it.
unsafe impl Send for WeightsCache {}
// SAFETY: as above.
unsafe impl Sync for WeightsCache {}

impl WeightsCache {
    /// A new, open cache (`None` without XNNPACK, or if XNNPACK cannot make one).
    pub(crate) fn new() -> Option<WeightsCache> {
        #[cfg(feature = "xnnpack")]
        {
            xnnpack_initialized();
            // SAFETY: plain constructor; null on failure.
            let raw = NonNull::new(unsafe { sys::TfLiteXNNPackDelegateWeightsCacheCreate() })?;
            Some(WeightsCache {
                raw,
                open: std::sync::RwLock::new(false),
                finalized: std::sync::atomic::AtomicBool::new(false),
            })
        }
        #[cfg(not(feature = "xnnpack"))]
        None
    }

    /// Runs `build` (which applies a delegate using this cache) with insertions allowed if the
    /// cache is still open.
    pub(crate) fn building<R>(&self, build: impl FnOnce() -> R) -> R {
        let guard = self.open.read().unwrap_or_else(|e| e.into_inner());
        let r = build();
        drop(guard);
        r
    }

    /// Finalizes the cache if it is still open (before an interpreter using it runs). `false`
    /// if XNNPACK refused (the invoke then fails with XNNPACK's message).
    pub(crate) fn ensure_finalized(&self) -> bool {
        use std::sync::atomic::Ordering;
        if self.finalized.load(Ordering::Acquire) {
            return true;
        }
        let mut done = self.open.write().unwrap_or_else(|e| e.into_inner());
        if !*done {
            #[cfg(feature = "xnnpack")]
            // SAFETY: valid cache; the write lock excludes every insertion.
            let ok =
                unsafe { sys::TfLiteXNNPackDelegateWeightsCacheFinalizeSoft(self.raw.as_ptr()) };
            #[cfg(not(feature = "xnnpack"))]
            let ok = false;
            if !ok {
                return false;
            }
            *done = true;
            self.finalized.store(true, Ordering::Release);
        }
        true
    }
}

impl Drop for WeightsCache {
    fn drop(&mut self) {
        // SAFETY: created by TfLiteXNNPackDelegateWeightsCacheCreate, deleted once, after every
        // interpreter (and so every XNNPACK runtime) using it: each holds an `Arc` to it.
        #[cfg(feature = "xnnpack")]
        unsafe {
            sys::TfLiteXNNPackDelegateWeightsCacheDelete(self.raw.as_ptr())
        }
    }
}
