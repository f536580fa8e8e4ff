//! [`Tensor`] and [`TensorMut`]: borrowed views of one tensor, handed out by
//! [`Interpreter`](crate::Interpreter), [`SignatureRunner`](crate::SignatureRunner) and a custom
//! op's [`OpContext`](crate::custom_op::OpContext); [`TensorId`] picks one by position or name.

pub mod compare;
mod index;
#[cfg(feature = "ndarray")]
mod ndarray;
pub(crate) mod quant;
mod raw;

pub use index::TensorId;
pub(crate) use raw::RawTensor;

use crate::dtype::{DataType, Element};
use crate::error::{Error, Result};
use half::f16;
use quant::{Quantization, QuantizationParams, Quantized};
use std::marker::PhantomData;

/// What a model says about one of its tensors: an owned snapshot of a [`Tensor`]'s metadata
/// (also what [`Model::inputs`](crate::Model::inputs) reads from the file).
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    /// The tensor's name in the model.
    pub name: String,
    /// Element type.
    pub dtype: DataType,
    /// Shape (the current one for a live tensor, after any resize; the declared one from a
    /// [`Model`](crate::Model), where a dynamic dimension is 1 as TFLite reads it).
    pub shape: Vec<usize>,
    /// Quantization parameters, if quantized.
    pub quantization: Quantization,
}

impl TensorInfo {
    /// Number of elements (product of the shape; 1 for a scalar).
    pub fn num_elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A read-only view of one tensor: metadata, and its data once the tensors are allocated.
///
/// It borrows what handed it out (an interpreter, a signature runner, a custom op's context),
/// so nothing can resize, reallocate or invoke while it is alive, and the slices it gives
/// (`&'a [T]`) live as long as that borrow:
///
/// ```
/// # fn main() -> tflite::Result<()> {
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tflite-sys/tests/data/add_mul.tflite");
/// # let model = tflite::Model::from_file(path)?;
/// let mut it = tflite::Interpreter::new(&model)?;
/// it.allocate_tensors()?;
/// it.input_mut(0)?.copy_from_slice(&[1f32; 8])?;
/// it.invoke()?;
/// let y = it.output(0)?;
/// assert_eq!((y.dtype(), y.shape()), (tflite::DataType::Float32, vec![1, 8]));
/// assert_eq!(y.data::<f32>()?, [4.5; 8]);
/// # Ok(()) }
/// ```
///
/// No view survives a resize or a reallocation (both need `&mut`; the exact errors of this and
/// the next examples are checked by `tests/compile_fail.rs`: `view_across_resize`,
/// `op_output_across_resize`, `two_writable_views`):
///
/// ```compile_fail,E0502
/// # fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
/// let x = it.input(0)?;
/// it.resize_input(0, &[2, 8])?; // error: `it` is borrowed by `x`
/// println!("{:?}", x.shape());
/// # Ok(()) }
/// ```
///
/// nor, inside a custom op, a resize of the node's outputs:
///
/// ```compile_fail,E0502
/// # fn f(ctx: &mut tflite::custom_op::OpContext<'_>) -> tflite::custom_op::OpResult {
/// let y = ctx.output(0)?;
/// ctx.resize_output(0, &[4])?; // error: `ctx` is borrowed by `y`
/// drop(y);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy)]
pub struct Tensor<'a> {
    raw: RawTensor,
    allocated: bool,
    _borrow: PhantomData<&'a ()>,
}

/// A writable view of one tensor (an interpreter's input, a custom op's output): everything
/// [`Tensor`] offers, plus writing. It borrows its owner mutably: one at a time, and none
/// across an invoke or a resize.
///
/// ```compile_fail,E0499
/// # fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
/// let mut a = it.input_mut(0)?;
/// let b = it.input_mut(1)?; // error: `it` is already borrowed mutably by `a`
/// a.copy_from_slice(&[0f32])?;
/// # let _ = b; Ok(()) }
/// ```
pub struct TensorMut<'a> {
    raw: RawTensor,
    allocated: bool,
    _borrow: PhantomData<&'a mut ()>,
}

impl std::fmt::Debug for Tensor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Tensor").field(&self.info()).finish()
    }
}

impl std::fmt::Debug for TensorMut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TensorMut").field(&self.info()).finish()
    }
}

impl<'a> Tensor<'a> {
    /// # Safety
    /// `raw` must be a valid tensor that nothing writes for `'a` (the caller holds a shared
    /// borrow of its owner for `'a`); `allocated` says whether its data may be read.
    pub(crate) unsafe fn new(raw: RawTensor, allocated: bool) -> Self {
        Tensor {
            raw,
            allocated,
            _borrow: PhantomData,
        }
    }

    fn ready(&self) -> Result<RawTensor> {
        if self.allocated {
            Ok(self.raw)
        } else {
            Err(Error::NotAllocated)
        }
    }

    /// The elements, if the tensor holds `T` (else [`Error::DtypeMismatch`]).
    pub fn data<T: Element>(&self) -> Result<&'a [T]> {
        // SAFETY: nothing writes the tensor for `'a` (constructor contract).
        unsafe { self.ready()?.view::<T>() }
    }

    /// The raw bytes, whatever the type (a string tensor's are TFLite's packed format).
    pub fn bytes(&self) -> Result<&'a [u8]> {
        // SAFETY: as in `data`.
        unsafe { self.ready()?.bytes() }
    }

    /// The strings of a string tensor.
    pub fn strings(&self) -> Result<Vec<Vec<u8>>> {
        // SAFETY: as in `data`.
        unsafe { self.ready()?.strings() }
    }
}

impl<'a> TensorMut<'a> {
    /// # Safety
    /// `raw` must be a valid tensor that nothing else reads or writes for `'a` (the caller
    /// holds an exclusive borrow of its owner for `'a`, and no other view of it exists).
    pub(crate) unsafe fn new(raw: RawTensor, allocated: bool) -> Self {
        TensorMut {
            raw,
            allocated,
            _borrow: PhantomData,
        }
    }

    fn ready(&self) -> Result<RawTensor> {
        if self.allocated {
            Ok(self.raw)
        } else {
            Err(Error::NotAllocated)
        }
    }

    /// A read-only view of the same tensor, borrowing this one.
    pub fn as_tensor(&self) -> Tensor<'_> {
        // SAFETY: `&self` keeps this exclusive view, hence the tensor, unwritten meanwhile.
        unsafe { Tensor::new(self.raw, self.allocated) }
    }

    /// The elements, read-only.
    pub fn data<T: Element>(&self) -> Result<&[T]> {
        self.as_tensor().data()
    }

    /// The raw bytes, read-only.
    pub fn bytes(&self) -> Result<&[u8]> {
        self.as_tensor().bytes()
    }

    /// The strings of a string tensor.
    pub fn strings(&self) -> Result<Vec<Vec<u8>>> {
        self.as_tensor().strings()
    }

    /// The elements to write in place, if the tensor holds `T`. A tensor that is a constant
    /// of the model is refused ([`Error::InvalidData`]).
    pub fn data_mut<T: Element>(&mut self) -> Result<&mut [T]> {
        // SAFETY: `&mut self` makes the slice the only access to the tensor while it lives.
        unsafe { self.ready()?.view_mut::<T>() }
    }

    /// Like [`data_mut`](Self::data_mut), consuming the view: the slice then lives as long
    /// as the borrow of the tensor's owner (`let x = it.input_mut(0)?.into_data_mut::<f32>()?`).
    pub fn into_data_mut<T: Element>(self) -> Result<&'a mut [T]> {
        // SAFETY: the view is consumed, so the slice is the only access for `'a`.
        unsafe { self.ready()?.view_mut::<T>() }
    }

    /// Copies `src` in; its length must equal the element count ([`Error::LengthMismatch`]).
    pub fn copy_from_slice<T: Element>(&mut self, src: &[T]) -> Result<()> {
        // SAFETY: `&mut self`: no other access to the tensor during the copy.
        unsafe { self.ready()?.copy_from(src) }
    }

    /// The raw bytes to write, for the plain numeric types (not string, bool or handle
    /// tensors, whose bytes have rules TFLite relies on: use [`data_mut`](Self::data_mut) or
    /// [`set_strings`](Self::set_strings)).
    pub fn bytes_mut(&mut self) -> Result<&mut [u8]> {
        // SAFETY: as in `data_mut`.
        unsafe { self.ready()?.bytes_mut() }
    }

    /// Like [`bytes_mut`](Self::bytes_mut), consuming the view.
    pub fn into_bytes_mut(self) -> Result<&'a mut [u8]> {
        // SAFETY: the view is consumed, so the slice is the only access for `'a`.
        unsafe { self.ready()?.bytes_mut() }
    }

    /// Writes a string tensor; its element count must equal `items.len()` (resize an input
    /// first if needed).
    pub fn set_strings<S: AsRef<[u8]>>(&mut self, items: &[S]) -> Result<()> {
        // SAFETY: as in `copy_from_slice`.
        unsafe { self.ready()?.set_strings(items) }
    }

    /// Writes real values, converting them to the tensor's type: quantized with its scale and
    /// zero point (per tensor or per channel) for `u8`/`i8`/`i16`, rounded for `f16`, copied
    /// for `f32`. The length must equal the element count.
    pub fn quantize_from(&mut self, values: &[f32]) -> Result<()> {
        let info = self.info();
        if values.len() != info.num_elements() {
            return Err(Error::LengthMismatch {
                expected: info.num_elements(),
                tensor: info.name,
                shape: info.shape,
                actual: values.len(),
            });
        }
        let params = |i: usize| per_element(&info, i);
        match info.dtype {
            DataType::Float32 => self.copy_from_slice(values),
            DataType::Float16 => {
                let v: Vec<f16> = values.iter().map(|x| f16::from_f32(*x)).collect();
                self.copy_from_slice(&v)
            }
            DataType::UInt8 => quantize_into(self.data_mut::<u8>()?, values, params),
            DataType::Int8 => quantize_into(self.data_mut::<i8>()?, values, params),
            DataType::Int16 => quantize_into(self.data_mut::<i16>()?, values, params),
            other => Err(not_real(&info.name, other)),
        }
    }
}

fn quantize_into<T: Quantized>(
    dst: &mut [T],
    values: &[f32],
    params: impl Fn(usize) -> Result<QuantizationParams>,
) -> Result<()> {
    for (i, (d, x)) in dst.iter_mut().zip(values).enumerate() {
        *d = params(i)?.quantize(*x);
    }
    Ok(())
}

fn not_real(tensor: &str, dtype: DataType) -> Error {
    Error::InvalidData {
        tensor: tensor.into(),
        reason: format!("a {dtype:?} tensor holds no real values to convert"),
    }
}

/// The quantization parameters that apply to element `i` (row-major) of a tensor.
fn per_element(info: &TensorInfo, i: usize) -> Result<QuantizationParams> {
    match &info.quantization {
        Quantization::PerTensor(p) => Ok(*p),
        Quantization::PerChannel {
            scales,
            zero_points,
            axis,
        } => {
            let dim = info.shape.get(*axis).copied().unwrap_or(0);
            let inner: usize = info.shape.iter().skip(axis + 1).product();
            let c = if dim == 0 {
                0
            } else {
                (i / inner.max(1)) % dim
            };
            match scales.get(c) {
                Some(&scale) if scales.len() == dim => Ok(QuantizationParams {
                    scale,
                    zero_point: zero_points.get(c).copied().unwrap_or(0),
                }),
                _ => Err(Error::InvalidData {
                    tensor: info.name.clone(),
                    reason: format!(
                        "{} per-channel scales for {dim} channels along axis {axis}",
                        scales.len()
                    ),
                }),
            }
        }
        Quantization::None => Err(Error::InvalidData {
            tensor: info.name.clone(),
            reason: format!("a {:?} tensor without quantization parameters", info.dtype),
        }),
    }
}

/// Metadata and reads shared by [`Tensor`] and [`TensorMut`].
macro_rules! metadata {
    ($ty:ident) => {
        impl $ty<'_> {
            /// The tensor's name in the model.
            pub fn name(&self) -> String {
                self.raw.name()
            }

            /// Element type.
            pub fn dtype(&self) -> DataType {
                self.raw.dtype()
            }

            /// Current shape (after any resize).
            pub fn shape(&self) -> Vec<usize> {
                self.raw.shape()
            }

            /// Quantization parameters ([`Quantization::None`] if not quantized).
            pub fn quantization(&self) -> Quantization {
                self.raw.quantization()
            }

            /// Number of elements (product of the shape; 1 for a scalar).
            pub fn num_elements(&self) -> usize {
                self.raw.shape().iter().product()
            }

            /// Size of the data in bytes, checked against shape and type (a corrupt model can
            /// leave TFLite with a size its buffer does not have: [`Error::InvalidData`]).
            pub fn byte_size(&self) -> Result<usize> {
                self.raw.byte_size()
            }

            /// Whether the data can be read (the tensors are allocated).
            pub fn is_allocated(&self) -> bool {
                self.allocated
            }

            /// An owned snapshot of name, type, shape and quantization.
            pub fn info(&self) -> TensorInfo {
                self.raw.info()
            }

            /// A copy of the elements.
            pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
                Ok(self.data::<T>()?.to_vec())
            }

            /// The values as real numbers: dequantized with the tensor's scale and zero
            /// point (per tensor or per channel) for `u8`/`i8`/`i16`, widened for `f16`,
            /// copied for `f32`.
            pub fn dequantize(&self) -> Result<Vec<f32>> {
                let info = self.info();
                let params = |i: usize| per_element(&info, i);
                match info.dtype {
                    DataType::Float32 => self.to_vec::<f32>(),
                    DataType::Float16 => {
                        Ok(self.data::<f16>()?.iter().map(|x| x.to_f32()).collect())
                    }
                    DataType::UInt8 => dequantize_all(self.data::<u8>()?, params),
                    DataType::Int8 => dequantize_all(self.data::<i8>()?, params),
                    DataType::Int16 => dequantize_all(self.data::<i16>()?, params),
                    other => Err(not_real(&info.name, other)),
                }
            }
        }
    };
}
metadata!(Tensor);
metadata!(TensorMut);

fn dequantize_all<T: Quantized>(
    q: &[T],
    params: impl Fn(usize) -> Result<QuantizationParams>,
) -> Result<Vec<f32>> {
    q.iter()
        .enumerate()
        .map(|(i, v)| Ok(params(i)?.dequantize(*v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_parameters_follow_the_axis() {
        // Shape [2, 3] quantized along axis 1: element i belongs to channel i % 3.
        let info = TensorInfo {
            name: "w".into(),
            dtype: DataType::Int8,
            shape: vec![2, 3],
            quantization: Quantization::PerChannel {
                scales: vec![0.5, 1.0, 2.0],
                zero_points: vec![0, 1, -1],
                axis: 1,
            },
        };
        let scales: Vec<f32> = (0..6)
            .map(|i| per_element(&info, i).unwrap().scale)
            .collect();
        assert_eq!(scales, [0.5, 1.0, 2.0, 0.5, 1.0, 2.0]);
        assert_eq!(per_element(&info, 5).unwrap().zero_point, -1);
        // Along axis 0: element i belongs to channel i / 3.
        let axis0 = TensorInfo {
            shape: vec![3, 2],
            quantization: Quantization::PerChannel {
                scales: vec![0.5, 1.0, 2.0],
                zero_points: vec![0, 0, 0],
                axis: 0,
            },
            ..info.clone()
        };
        let scales: Vec<f32> = (0..6)
            .map(|i| per_element(&axis0, i).unwrap().scale)
            .collect();
        assert_eq!(scales, [0.5, 0.5, 1.0, 1.0, 2.0, 2.0]);
        // As many scales as channels, or an error naming the mismatch.
        let bad = TensorInfo {
            shape: vec![2, 4],
            ..info.clone()
        };
        assert!(per_element(&bad, 0).is_err());
        let none = TensorInfo {
            quantization: Quantization::None,
            ..info
        };
        assert!(per_element(&none, 0).is_err());
    }
}
