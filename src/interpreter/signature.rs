//! [`SignatureRunner`]: runs one signature (e.g. `serving_default`) with named inputs/outputs,
//! on the interpreter's [`Core`]: the same guards, cancellation and deadlines as
//! [`Interpreter`](super::Interpreter).

use super::cancel::CancelHandle;
use super::core::{Allocation, Core, Graph};
use crate::error::{Error, Result, Side};
use crate::tensor::{Tensor, TensorId, TensorMut};
use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;
use tflite_sys as sys;

/// Runs one of the model's signatures: the Rust counterpart of a SavedModel signature such as
/// `serving_default`. Borrows its interpreter mutably; views borrow the runner.
///
/// ```
/// # fn main() -> tflite::Result<()> {
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/models/signatures.tflite");
/// let model = tflite::Model::from_file(path)?;
/// let mut it = tflite::Interpreter::new(&model)?;
/// let mut scale = it.signature_runner("scale")?; // y = 2 * x
/// assert_eq!((scale.input_names(), scale.output_names()), (vec!["x".to_string()], vec!["y".to_string()]));
/// scale.allocate_tensors()?;
/// scale.input_mut("x")?.copy_from_slice(&[1f32, -2.0, 0.5, 8.0])?;
/// scale.invoke()?;
/// assert_eq!(scale.output("y")?.data::<f32>()?, [2.0, -4.0, 1.0, 16.0]);
/// # Ok(()) }
/// ```
///
/// A view cannot be held across [`invoke`](Self::invoke), and the interpreter cannot be used
/// while a runner is alive (the exact errors are checked by `tests/compile_fail.rs`:
/// `runner_view_across_invoke`, `interpreter_used_while_runner_alive`):
///
/// ```compile_fail,E0502
/// # fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
/// let mut run = it.signature_runner("serving_default")?;
/// let y = run.output("y")?.data::<f32>()?;
/// run.invoke()?; // error: `run` is borrowed by `y`
/// println!("{y:?}");
/// # Ok(()) }
/// ```
///
/// ```compile_fail,E0499
/// # fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
/// let mut run = it.signature_runner("serving_default")?;
/// it.invoke()?; // error: `it` is mutably borrowed by `run`
/// run.invoke()?;
/// # Ok(()) }
/// ```
pub struct SignatureRunner<'i> {
    raw: NonNull<sys::TfLiteSignatureRunner>,
    core: &'i mut Core,
    key: String,
}

impl Drop for SignatureRunner<'_> {
    fn drop(&mut self) {
        // SAFETY: created by TfLiteInterpreterGetSignatureRunner, deleted once, before the
        // interpreter (which it borrows).
        unsafe { sys::TfLiteSignatureRunnerDelete(self.raw.as_ptr()) }
    }
}

impl std::fmt::Debug for SignatureRunner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureRunner")
            .field("key", &self.key)
            .field("inputs", &self.input_names())
            .field("outputs", &self.output_names())
            .finish()
    }
}

impl<'i> SignatureRunner<'i> {
    /// The runner of signature `key`, one of `keys` (the interpreter's).
    pub(crate) fn new(core: &'i mut Core, key: &str, keys: Vec<String>) -> Result<Self> {
        if !keys.iter().any(|k| k == key) {
            return Err(Error::NoSuchSignature {
                key: key.into(),
                available: keys,
            });
        }
        let c_key = CString::new(key).map_err(|_| Error::NulByte {
            what: "signature key",
        })?;
        if let Some(why) = core.model.unusable_signature(key) {
            return Err(Error::InvalidModel {
                origin: core.model.origin().to_string(),
                tflite_message: why.to_string(),
            });
        }
        // SAFETY: valid interpreter and C string.
        let raw = unsafe { sys::TfLiteRsInterpreterGetSignatureRunner(core.raw(), c_key.as_ptr()) };
        let raw = NonNull::new(raw).ok_or_else(|| {
            Error::from_tflite("TfLiteInterpreterGetSignatureRunner", core.reporter.take())
                .for_model(core.model.origin(), core.model.min_runtime_version())
        })?;
        // A new runner allocates before it runs (a broken interpreter stays broken).
        core.signature = Allocation::Needed;
        Ok(SignatureRunner {
            raw,
            core,
            key: key.into(),
        })
    }

    fn graph(&self) -> Graph {
        Graph::Signature(self.raw)
    }

    /// The signature key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The signature's input names, in order.
    pub fn input_names(&self) -> Vec<String> {
        self.core.names(self.graph(), Side::Input)
    }

    /// The signature's output names, in order.
    pub fn output_names(&self) -> Vec<String> {
        self.core.names(self.graph(), Side::Output)
    }

    /// Input `id` of the signature (a position in [`input_names`](Self::input_names)' order,
    /// or one of those names), read-only.
    pub fn input(&self, id: impl TensorId) -> Result<Tensor<'_>> {
        let t = self.core.view(self.graph(), Side::Input, id)?;
        // SAFETY: the view borrows the runner; every write needs `&mut self`.
        Ok(unsafe { Tensor::new(t, self.core.allocated(self.graph())) })
    }

    /// Input `id`, to write.
    pub fn input_mut(&mut self, id: impl TensorId) -> Result<TensorMut<'_>> {
        let t = self.core.view(self.graph(), Side::Input, id)?;
        // SAFETY: the view borrows the runner (which borrows the interpreter) mutably: no
        // other view exists while it lives.
        Ok(unsafe { TensorMut::new(t, self.core.allocated(self.graph())) })
    }

    /// Output `id` of the signature (a position in [`output_names`](Self::output_names)'
    /// order, or one of those names).
    pub fn output(&self, id: impl TensorId) -> Result<Tensor<'_>> {
        let t = self.core.view(self.graph(), Side::Output, id)?;
        // SAFETY: as in `input`.
        Ok(unsafe { Tensor::new(t, self.core.allocated(self.graph())) })
    }

    /// Gives input `id` a new shape; call [`allocate_tensors`](Self::allocate_tensors) again
    /// (and the interpreter's own, before using it again: the signature's graph may be its
    /// main graph).
    pub fn resize_input(&mut self, id: impl TensorId, shape: &[usize]) -> Result<()> {
        let g = self.graph();
        self.core.resize(g, id, shape)
    }

    /// Allocates the signature's tensors, with the interpreter's guards (see
    /// [`Interpreter::allocate_tensors`](super::Interpreter::allocate_tensors)): tensors over
    /// the [memory limit](crate::InterpreterBuilder::memory_limit) are refused
    /// ([`Error::MemoryLimit`]), and after an allocation that failed with a delegate applied,
    /// the interpreter and its runners cannot be allocated again. Where the signature's graph
    /// is not the main graph, the limit counts its inputs and outputs (the C API lists no
    /// other tensor of it).
    pub fn allocate_tensors(&mut self) -> Result<()> {
        let g = self.graph();
        self.core.allocate(g)
    }

    /// Runs the signature. [`Error::Cancelled`] if a [`CancelHandle`] of the interpreter (or
    /// of this runner) cancelled it meanwhile.
    pub fn invoke(&mut self) -> Result<()> {
        let g = self.graph();
        self.core.invoke(g, None)
    }

    /// Like [`invoke`](Self::invoke), cancelled if it takes longer than `timeout`
    /// ([`Error::DeadlineExceeded`]), as
    /// [`Interpreter::invoke_with_timeout`](super::Interpreter::invoke_with_timeout).
    pub fn invoke_with_timeout(&mut self, timeout: Duration) -> Result<()> {
        let g = self.graph();
        self.core.invoke(g, Some(timeout))
    }

    /// A handle that cancels this runner's (or its interpreter's) running invoke from
    /// another thread: the interpreter's own [`CancelHandle`].
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(Arc::clone(&self.core.cancel))
    }
}
