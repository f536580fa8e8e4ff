//! XNNPACK's packed-weights cache, shared by the interpreters of one model.

#[cfg(feature = "xnnpack")]
use std::ptr::NonNull;
#[cfg(feature = "xnnpack")]
use tflite_sys as sys;

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
            super::xnnpack::xnnpack_initialized();
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

    #[cfg(feature = "xnnpack")]
    pub(crate) fn raw(&self) -> *mut sys::TfLiteXNNPackDelegateWeightsCache {
        self.raw.as_ptr()
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
