//! [`SignatureRunner`]: runs one signature (e.g. `serving_default`) with named inputs/outputs.

use crate::dtype::Element;
use crate::error::{Error, Result, Side};
use crate::interpreter::{dims_i32, Interpreter};
use crate::sys;
use crate::tensor::{RawTensor, TensorInfo};
use std::ffi::{CStr, CString};
use std::ptr::NonNull;

/// Runs one of the model's signatures: the Rust counterpart of a SavedModel signature such as
/// `serving_default`. Borrows its interpreter mutably; views borrow the runner.
///
/// A view cannot be held across [`invoke`](Self::invoke), and the interpreter cannot be used
/// while a runner is alive:
///
/// ```compile_fail,E0502
/// # fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
/// let mut run = it.signature_runner("serving_default")?;
/// let y = run.output::<f32>("y")?;
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
            .for_model(interp.model())
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

    fn c_name(&self, side: Side, name: &str) -> Result<CString> {
        let names = self.names(side);
        if !names.iter().any(|n| n == name) {
            return Err(Error::NoSuchName {
                side,
                name: name.into(),
                available: names,
            });
        }
        CString::new(name).map_err(|_| Error::NulByte {
            what: "tensor name",
        })
    }

    fn tensor(&self, side: Side, name: &str) -> Result<RawTensor> {
        let c = self.c_name(side, name)?;
        // SAFETY: valid runner; the name exists (checked).
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
                name: name.into(),
                available: self.names(side),
            });
        }
        Ok(RawTensor(t))
    }

    fn ready(&self, side: Side, name: &str) -> Result<RawTensor> {
        let t = self.tensor(side, name)?;
        if !self.allocated {
            return Err(Error::NotAllocated);
        }
        Ok(t)
    }

    fn check(&self, call: &'static str, f: impl FnOnce() -> sys::TfLiteStatus) -> Result<()> {
        self.interp.check(call, f)
    }

    /// Metadata of the input `name`.
    pub fn input_info(&self, name: &str) -> Result<TensorInfo> {
        Ok(self.tensor(Side::Input, name)?.info())
    }

    /// Metadata of the output `name`.
    pub fn output_info(&self, name: &str) -> Result<TensorInfo> {
        Ok(self.tensor(Side::Output, name)?.info())
    }

    /// Gives the input `name` a new shape; call [`allocate_tensors`](Self::allocate_tensors) again.
    pub fn resize_input(&mut self, name: &str, shape: &[usize]) -> Result<()> {
        let c = self.c_name(Side::Input, name)?;
        let dims = dims_i32(shape).ok_or_else(|| Error::InvalidShape {
            tensor: name.into(),
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
        // SAFETY: valid runner.
        self.check("TfLiteSignatureRunnerAllocateTensors", || unsafe {
            sys::TfLiteRsSignatureRunnerAllocateTensors(raw)
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
        // SAFETY: valid, allocated runner; `&mut self` excludes live views.
        self.check("TfLiteSignatureRunnerInvoke", || unsafe {
            sys::TfLiteRsSignatureRunnerInvoke(raw)
        })
    }

    /// The data of input `name`, to fill in place.
    pub fn input_mut<T: Element>(&mut self, name: &str) -> Result<&mut [T]> {
        let t = self.ready(Side::Input, name)?;
        // SAFETY: the view borrows the runner mutably: no invoke/resize/allocate meanwhile.
        unsafe { t.view_mut::<T>() }
    }

    /// Copies `data` into input `name`.
    pub fn copy_input_from<T: Element>(&mut self, name: &str, data: &[T]) -> Result<()> {
        let t = self.ready(Side::Input, name)?;
        // SAFETY: `&mut self`: no live view aliases the tensor.
        unsafe { t.copy_from(data) }
    }

    /// Writes the string input `name`.
    pub fn set_input_strings<S: AsRef<[u8]>>(&mut self, name: &str, items: &[S]) -> Result<()> {
        let t = self.ready(Side::Input, name)?;
        // SAFETY: as for `copy_input_from`.
        unsafe { t.set_strings(items) }
    }

    /// The data of output `name`.
    pub fn output<T: Element>(&self, name: &str) -> Result<&[T]> {
        let t = self.ready(Side::Output, name)?;
        // SAFETY: borrows the runner; `invoke` needs `&mut self`.
        unsafe { t.view::<T>() }
    }

    /// A copy of output `name`.
    pub fn output_to_vec<T: Element>(&self, name: &str) -> Result<Vec<T>> {
        Ok(self.output::<T>(name)?.to_vec())
    }

    /// Reads the string output `name`.
    pub fn output_strings(&self, name: &str) -> Result<Vec<Vec<u8>>> {
        let t = self.ready(Side::Output, name)?;
        // SAFETY: as for `output`.
        unsafe { t.strings() }
    }
}
