//! The XNNPACK CPU delegate: its options and the owned delegate.

use super::weights::{Packing, WeightsCache};
use crate::error::{Error, Result};
#[cfg(feature = "xnnpack")]
use crate::ffi;
#[cfg(feature = "xnnpack")]
use std::ptr::NonNull;
use tflite_sys as sys;

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
pub(crate) fn xnnpack_initialized() {
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
            opts.num_threads = ffi::saturating_i32(o.num_threads.unwrap_or(default_threads).max(1));
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
                opts.weights_cache = cache.raw();
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
