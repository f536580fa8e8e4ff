//! [`SignatureRunner`]: runs one signature (e.g. `serving_default`) with named inputs/outputs.

use crate::error::{Error, Result, Side};
use crate::interpreter::Interpreter;
use crate::sys;
use crate::tensor::{dims_i32, RawTensor, Tensor, TensorId, TensorMut};
use std::ffi::{CStr, CString};
use std::ptr::NonNull;

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
    interp: &'i mut Interpreter,
    key: String,
    allocated: bool,
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
    pub(crate) fn new(interp: &'i mut Interpreter, key: &str) -> Result<Self> {
        let keys = interp.signature_keys();
        if !keys.iter().any(|k| k == key) {
            return Err(Error::NoSuchSignature {
                key: key.into(),
                available: keys,
            });
        }
        let c_key = CString::new(key).map_err(|_| Error::NulByte {
            what: "signature key",
        })?;
        // SAFETY: valid interpreter and C string.
        let raw =
            unsafe { sys::TfLiteRsInterpreterGetSignatureRunner(interp.raw(), c_key.as_ptr()) };
        let raw = NonNull::new(raw).ok_or_else(|| {
            Error::from_tflite(
                "TfLiteInterpreterGetSignatureRunner",
                interp.reporter().take(),
            )
            .for_model(
                interp.model().origin(),
                interp.model().min_runtime_version(),
            )
        })?;
        Ok(SignatureRunner {
            raw,
            interp,
            key: key.into(),
            allocated: false,
        })
    }

    /// The signature key.
    pub fn key(&self) -> &str {
        &self.key
    }

    fn names(&self, side: Side) -> Vec<String> {
        // SAFETY: valid runner; names are NUL-terminated strings it owns.
        unsafe {
            let n = match side {
                Side::Input => sys::TfLiteSignatureRunnerGetInputCount(self.raw.as_ptr()),
                Side::Output => sys::TfLiteSignatureRunnerGetOutputCount(self.raw.as_ptr()),
            };
            (0..n as i32)
                .map(|i| {
                    let p = match side {
                        Side::Input => sys::TfLiteSignatureRunnerGetInputName(self.raw.as_ptr(), i),
                        Side::Output => {
                            sys::TfLiteSignatureRunnerGetOutputName(self.raw.as_ptr(), i)
                        }
                    };
                    if p.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(p).to_string_lossy().into_owned()
                    }
                })
                .collect()
        }
    }

    /// The signature's input names, in order.
    pub fn input_names(&self) -> Vec<String> {
        self.names(Side::Input)
    }

    /// The signature's output names, in order.
    pub fn output_names(&self) -> Vec<String> {
        self.names(Side::Output)
    }

    /// The signature name of input or output `id` (a position in the signature's order, or a
    /// signature name).
    fn resolve(&self, side: Side, id: impl TensorId) -> Result<(String, CString)> {
        let names = self.names(side);
        let i = id.resolve(side, names.len(), &|i| names[i].clone())?;
        let name = names[i].clone();
        let c = CString::new(name.as_str()).map_err(|_| Error::NulByte {
            what: "tensor name",
        })?;
        Ok((name, c))
    }

    fn tensor(&self, side: Side, id: impl TensorId) -> Result<RawTensor> {
        let (name, c) = self.resolve(side, id)?;
        // SAFETY: valid runner; the name exists (resolved above).
        let t = unsafe {
            match side {
                Side::Input => {
                    sys::TfLiteSignatureRunnerGetInputTensor(self.raw.as_ptr(), c.as_ptr())
                        as *const sys::TfLiteTensor
                }
                Side::Output => {
                    sys::TfLiteSignatureRunnerGetOutputTensor(self.raw.as_ptr(), c.as_ptr())
                }
            }
        };
        if t.is_null() {
            return Err(Error::NoSuchName {
                side,
                name,
                available: self.names(side),
            });
        }
        Ok(RawTensor(t))
    }

    fn check(&self, call: &'static str, f: impl FnOnce() -> sys::TfLiteStatus) -> Result<()> {
        self.interp.check(call, f)
    }

    /// Input `id` of the signature (a position in [`input_names`](Self::input_names)' order,
    /// or one of those names), read-only.
    pub fn input(&self, id: impl TensorId) -> Result<Tensor<'_>> {
        let t = self.tensor(Side::Input, id)?;
        // SAFETY: the view borrows the runner; every write needs `&mut self`.
        Ok(unsafe { Tensor::new(t, self.allocated) })
    }

    /// Input `id`, to write.
    pub fn input_mut(&mut self, id: impl TensorId) -> Result<TensorMut<'_>> {
        let t = self.tensor(Side::Input, id)?;
        // SAFETY: the view borrows the runner (which borrows the interpreter) mutably: no
        // other view exists while it lives.
        Ok(unsafe { TensorMut::new(t, self.allocated) })
    }

    /// Output `id` of the signature (a position in [`output_names`](Self::output_names)'
    /// order, or one of those names).
    pub fn output(&self, id: impl TensorId) -> Result<Tensor<'_>> {
        let t = self.tensor(Side::Output, id)?;
        // SAFETY: as in `input`.
        Ok(unsafe { Tensor::new(t, self.allocated) })
    }

    /// Gives input `id` a new shape; call [`allocate_tensors`](Self::allocate_tensors) again.
    pub fn resize_input(&mut self, id: impl TensorId, shape: &[usize]) -> Result<()> {
        let (name, c) = self.resolve(Side::Input, id)?;
        let dims = dims_i32(shape).ok_or_else(|| Error::InvalidShape {
            tensor: name,
            shape: shape.to_vec(),
            reason: "a dimension exceeds i32::MAX".into(),
        })?;
        let raw = self.raw.as_ptr();
        // SAFETY: valid runner, existing name, `dims` lives through the call.
        self.check("TfLiteSignatureRunnerResizeInputTensor", || unsafe {
            sys::TfLiteRsSignatureRunnerResizeInputTensor(
                raw,
                c.as_ptr(),
                dims.as_ptr(),
                dims.len() as i32,
            )
        })?;
        self.allocated = false;
        // The runner's subgraph may be the interpreter's own: its buffers are stale too.
        self.interp.invalidate_allocation();
        Ok(())
    }

    /// Allocates the signature's tensors.
    pub fn allocate_tensors(&mut self) -> Result<()> {
        let raw = self.raw.as_ptr();
        // As `Interpreter::allocate_tensors`: delegates re-applied here may pack weights.
        self.interp.weights_building(|| {
            // SAFETY: valid runner.
            self.check("TfLiteSignatureRunnerAllocateTensors", || unsafe {
                sys::TfLiteRsSignatureRunnerAllocateTensors(raw)
            })
        })?;
        for side in [Side::Input, Side::Output] {
            for name in self.names(side) {
                // SAFETY: allocated just now; `&mut self`, so no view is alive.
                unsafe { self.tensor(side, &name)?.zero_if_arena() }
            }
        }
        self.allocated = true;
        Ok(())
    }

    /// Runs the signature.
    pub fn invoke(&mut self) -> Result<()> {
        if !self.allocated {
            return Err(Error::NotAllocated);
        }
        let raw = self.raw.as_ptr();
        // A CancelHandle of the interpreter cancels this too (one flag for all subgraphs).
        self.interp.cancellable(|| {
            // SAFETY: valid, allocated runner; `&mut self` excludes live views.
            self.interp.check("TfLiteSignatureRunnerInvoke", || unsafe {
                sys::TfLiteRsSignatureRunnerInvoke(raw)
            })
        })
    }
}

// Here rather than in interpreter.rs, so that module does not depend on this one.
impl Interpreter {
    /// A runner for the signature `key`, with named inputs and outputs. It borrows the
    /// interpreter mutably: one runner at a time.
    pub fn signature_runner(&mut self, key: &str) -> Result<SignatureRunner<'_>> {
        SignatureRunner::new(self, key)
    }
}
