//! The raw tensor pointer behind [`Tensor`](crate::Tensor) and [`TensorMut`](crate::TensorMut):
//! every check between TFLite's memory and a Rust slice lives here.

use super::quant::{Quantization, QuantizationParams};
use super::TensorInfo;
use crate::dtype::{DataType, Element};
use crate::error::{Error, Result};
use crate::ffi;
use tflite_sys as sys;

/// A borrowed `TfLiteTensor` pointer; every function here requires that it is valid for the
/// duration of the call, which its callers (holding the interpreter) guarantee.
#[derive(Clone, Copy)]
pub(crate) struct RawTensor(pub(crate) *const sys::TfLiteTensor);

impl RawTensor {
    pub(crate) fn name(self) -> String {
        // SAFETY: valid tensor (type invariant); the name is NUL-terminated or null.
        unsafe { ffi::string(sys::TfLiteTensorName(self.0)) }
    }

    pub(crate) fn dtype(self) -> DataType {
        // SAFETY: valid tensor.
        DataType::from_raw(unsafe { sys::TfLiteTensorType(self.0) })
    }

    pub(crate) fn shape(self) -> Vec<usize> {
        // SAFETY: valid tensor; indices are below its dimension count.
        unsafe {
            let n = sys::TfLiteTensorNumDims(self.0).max(0);
            (0..n)
                .map(|i| sys::TfLiteTensorDim(self.0, i).max(0) as usize)
                .collect()
        }
    }

    /// The tensor's byte length, checked against its shape and element type: a corrupt model
    /// can leave TFLite with a length (even `usize::MAX`) that its buffer does not have.
    pub(crate) fn byte_size(self) -> Result<usize> {
        // SAFETY: valid tensor.
        let bytes = unsafe { sys::TfLiteTensorByteSize(self.0) };
        let dtype = self.dtype();
        let expected = match dtype.size() {
            Some(elem) => self.shape().iter().try_fold(elem, |a, d| a.checked_mul(*d)),
            // Variable-size (string) tensors: TFLite sized the buffer to `bytes` itself.
            None => Some(bytes),
        };
        if expected == Some(bytes) && bytes <= isize::MAX as usize {
            Ok(bytes)
        } else {
            Err(Error::InvalidData {
                tensor: self.name(),
                reason: format!(
                    "TFLite reports {bytes} bytes for a {dtype:?} tensor of shape {:?} (corrupt model?)",
                    self.shape()
                ),
            })
        }
    }

    pub(crate) fn quantization(self) -> Quantization {
        // SAFETY: valid tensor; the affine parameters, when present, are TFLite-owned arrays of
        // the sizes they declare.
        unsafe {
            let q = &(*self.0).quantization;
            if q.type_ == sys::kTfLiteAffineQuantization && !q.params.is_null() {
                let aq = &*(q.params as *const sys::TfLiteAffineQuantization);
                let scales: Vec<f32> = if aq.scale.is_null() {
                    Vec::new()
                } else {
                    let a = &*aq.scale;
                    std::slice::from_raw_parts(a.data.as_ptr(), a.size.max(0) as usize).to_vec()
                };
                let zero_points: Vec<i32> = if aq.zero_point.is_null() {
                    Vec::new()
                } else {
                    let a = &*aq.zero_point;
                    std::slice::from_raw_parts(a.data.as_ptr(), a.size.max(0) as usize).to_vec()
                };
                if scales.len() > 1 {
                    return Quantization::PerChannel {
                        scales,
                        zero_points,
                        axis: aq.quantized_dimension.max(0) as usize,
                    };
                }
                if let Some(&scale) = scales.first() {
                    return Quantization::PerTensor(QuantizationParams {
                        scale,
                        zero_point: zero_points.first().copied().unwrap_or(0),
                    });
                }
            }
            let p = sys::TfLiteTensorQuantizationParams(self.0);
            if p.scale != 0.0 {
                Quantization::PerTensor(QuantizationParams {
                    scale: p.scale,
                    zero_point: p.zero_point,
                })
            } else {
                Quantization::None
            }
        }
    }

    pub(crate) fn info(self) -> TensorInfo {
        TensorInfo {
            name: self.name(),
            dtype: self.dtype(),
            shape: self.shape(),
            quantization: self.quantization(),
        }
    }

    /// Zero-fills the tensor if it lives in TFLite's arena, so that no view ever reads
    /// memory TFLite allocated but never wrote (outputs before the first invoke, inputs
    /// before they are filled). Constant and custom-allocated tensors are left alone.
    ///
    /// # Safety
    /// The tensor must be valid, allocated, and not aliased by a live view.
    pub(crate) unsafe fn zero_if_arena(self) {
        // SAFETY: valid tensor (caller); an arena tensor's `bytes` bytes at `data` are
        // writable TFLite memory, and nothing else refers to them now.
        unsafe {
            let t = self.0;
            let arena = (*t).allocation_type == sys::kTfLiteArenaRw
                || (*t).allocation_type == sys::kTfLiteArenaRwPersistent;
            let data = sys::TfLiteTensorData(t) as *mut u8;
            if let (true, false, Ok(len)) = (arena, data.is_null(), self.byte_size()) {
                if (*t).type_ != sys::kTfLiteString {
                    std::ptr::write_bytes(data, 0, len);
                }
            }
        }
    }

    /// `Ok` if the tensor holds `requested`, else the mismatch error naming both types.
    fn expect_dtype(self, requested: DataType) -> Result<()> {
        let actual = self.dtype();
        if actual != requested {
            return Err(Error::DtypeMismatch {
                tensor: self.name(),
                requested,
                actual,
            });
        }
        Ok(())
    }

    /// The data pointer and byte length of an allocated tensor (a dangling pointer, aligned
    /// for every element type, when it holds no bytes).
    fn buffer(self) -> Result<(*mut u8, usize)> {
        let len = self.byte_size()?;
        if len == 0 {
            return Ok((std::ptr::NonNull::<u128>::dangling().as_ptr() as *mut u8, 0));
        }
        // SAFETY: valid tensor.
        let ptr = unsafe { sys::TfLiteTensorData(self.0) } as *mut u8;
        if ptr.is_null() {
            return Err(Error::NotAllocated);
        }
        Ok((ptr, len))
    }

    /// Refuses writes into a tensor whose data is not TFLite's to hand out for writing: a
    /// constant of the model (its bytes live in the model buffer, shared and immutable; a
    /// corrupt model can even list one as an input) or a read-only tensor computed at prepare.
    fn expect_writable(self) -> Result<()> {
        // SAFETY: valid tensor.
        let kind = unsafe { (*self.0).allocation_type };
        if kind == sys::kTfLiteMmapRo || kind == sys::kTfLitePersistentRo {
            return Err(Error::InvalidData {
                tensor: self.name(),
                reason: "the tensor is a read-only constant of the model and cannot be written"
                    .into(),
            });
        }
        Ok(())
    }

    /// The data pointer and byte length, checked for `T`'s type, alignment and size.
    fn data_for<T: Element>(self) -> Result<(*mut u8, usize)> {
        self.expect_dtype(T::DTYPE)?;
        let (ptr, len) = self.buffer()?;
        if ptr as usize % std::mem::align_of::<T>() != 0 || len % std::mem::size_of::<T>() != 0 {
            return Err(Error::InvalidData {
                tensor: self.name(),
                reason: format!(
                    "{len} bytes at {ptr:p} are not a whole, aligned number of {:?} elements",
                    T::DTYPE
                ),
            });
        }
        Ok((ptr, len))
    }

    /// # Safety
    /// The tensor's memory must stay valid and unwritten for `'a`.
    pub(crate) unsafe fn view<'a, T: Element>(self) -> Result<&'a [T]> {
        let (ptr, len) = self.data_for::<T>()?;
        // SAFETY: `ptr..ptr+len` is the tensor's initialised buffer (TFLite zero-fills or
        // computes it), aligned and sized for `T` (checked above).
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
        if let Some(i) = T::first_invalid(bytes) {
            return Err(Error::InvalidData {
                tensor: self.name(),
                reason: format!("element {i} is not a valid {:?}", T::DTYPE),
            });
        }
        // SAFETY: as above, and every element is a valid `T` (checked).
        Ok(unsafe { std::slice::from_raw_parts(ptr as *const T, len / std::mem::size_of::<T>()) })
    }

    /// # Safety
    /// The tensor's memory must stay valid and otherwise unaliased for `'a`.
    pub(crate) unsafe fn view_mut<'a, T: Element>(self) -> Result<&'a mut [T]> {
        self.expect_writable()?;
        let (ptr, len) = self.data_for::<T>()?;
        // SAFETY: `ptr..ptr+len` is the tensor's allocated, initialised buffer (checked by
        // `data_for`; arena tensors are zeroed when allocated).
        let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
        if T::first_invalid(bytes).is_some() {
            // A bool input not yet written may hold anything; normalise rather than refuse.
            // SAFETY: exclusive access (caller contract); u8 writes are always valid.
            unsafe { std::slice::from_raw_parts_mut(ptr, len) }
                .iter_mut()
                .for_each(|b| *b = (*b != 0) as u8);
        }
        // SAFETY: as in `view`, with exclusive access guaranteed by the caller.
        Ok(
            unsafe {
                std::slice::from_raw_parts_mut(ptr as *mut T, len / std::mem::size_of::<T>())
            },
        )
    }

    /// # Safety
    /// As for [`view`](Self::view).
    pub(crate) unsafe fn bytes<'a>(self) -> Result<&'a [u8]> {
        let (ptr, len) = self.buffer()?;
        // SAFETY: `buffer` gives an allocated tensor's data and checked length (or an empty
        // range); validity for `'a` is the caller's contract.
        Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
    }

    /// # Safety
    /// As for [`view_mut`](Self::view_mut).
    pub(crate) unsafe fn bytes_mut<'a>(self) -> Result<&'a mut [u8]> {
        // Arbitrary bytes are only valid data for the plain numeric types: a string tensor's
        // offsets, a bool other than 0/1, or a resource handle would let TFLite's C++ read
        // out of bounds or hit undefined behaviour.
        let dtype = self.dtype();
        if dtype == DataType::Bool || dtype.size().is_none() {
            return Err(Error::InvalidData {
                tensor: self.name(),
                reason: format!(
                    "raw bytes of a {dtype:?} tensor cannot be written safely; use data_mut::<bool> or set_strings"
                ),
            });
        }
        self.expect_writable()?;
        let (ptr, len) = self.buffer()?;
        // SAFETY: as in `bytes`; exclusive access for `'a` is the caller's contract.
        Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
    }

    /// Copies `src` into the tensor, after checking type and length.
    ///
    /// # Safety
    /// The tensor must be valid and not aliased by a live view.
    pub(crate) unsafe fn copy_from<T: Element>(self, src: &[T]) -> Result<()> {
        // SAFETY: the caller's contract is `view_mut`'s; `dst` does not escape this call.
        let dst = unsafe { self.view_mut::<T>() }?;
        if dst.len() != src.len() {
            return Err(Error::LengthMismatch {
                tensor: self.name(),
                shape: self.shape(),
                expected: dst.len(),
                actual: src.len(),
            });
        }
        dst.copy_from_slice(src);
        Ok(())
    }

    /// Reads a string tensor (TFLite's packed format: count, offsets, bytes), checking every
    /// offset against the buffer.
    ///
    /// # Safety
    /// As for [`view`](Self::view).
    pub(crate) unsafe fn strings(self) -> Result<Vec<Vec<u8>>> {
        self.expect_dtype(DataType::String)?;
        // SAFETY: the caller's contract is `bytes`'s; `buf` does not escape this call.
        let buf = unsafe { self.bytes() }?;
        parse_strings(buf).map_err(|reason| Error::InvalidData {
            tensor: self.name(),
            reason,
        })
    }

    /// Writes `items` into a string tensor, whose element count must equal `items.len()`.
    ///
    /// # Safety
    /// The tensor must be valid and not aliased by a live view.
    pub(crate) unsafe fn set_strings<S: AsRef<[u8]>>(self, items: &[S]) -> Result<()> {
        self.expect_dtype(DataType::String)?;
        let shape = self.shape();
        let expected: usize = shape.iter().product();
        if expected != items.len() {
            return Err(Error::LengthMismatch {
                tensor: self.name(),
                shape,
                expected,
                actual: items.len(),
            });
        }
        let packed = pack_strings(items).ok_or_else(|| Error::InvalidData {
            tensor: self.name(),
            reason: "strings too large for TFLite's 32-bit offsets".into(),
        })?;
        // SAFETY: valid tensor; TfLiteTensorRealloc resizes a dynamic tensor's own buffer.
        unsafe {
            let t = self.0 as *mut sys::TfLiteTensor;
            if (*t).allocation_type != sys::kTfLiteDynamic {
                return Err(Error::InvalidData {
                    tensor: self.name(),
                    reason: "string tensor is not dynamically allocated".into(),
                });
            }
            if sys::TfLiteTensorRealloc(packed.len(), t) != sys::kTfLiteOk
                || (*t).data.raw.is_null()
            {
                return Err(Error::Tflite {
                    call: "TfLiteTensorRealloc",
                    tflite_message: String::new(),
                });
            }
            std::ptr::copy_nonoverlapping(packed.as_ptr(), (*t).data.raw as *mut u8, packed.len());
            (*t).bytes = packed.len();
        }
        Ok(())
    }
}

/// Parses TFLite's packed string buffer: `i32 n`, `i32 offsets[n + 1]`, then the bytes.
pub(crate) fn parse_strings(buf: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
    let word = |i: usize| -> std::result::Result<usize, String> {
        let b = buf
            .get(i * 4..i * 4 + 4)
            .ok_or_else(|| format!("buffer of {} bytes ends inside the header", buf.len()))?;
        let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        usize::try_from(v).map_err(|_| format!("negative count or offset {v}"))
    };
    if buf.is_empty() {
        return Ok(Vec::new());
    }
    let n = word(0)?;
    if n > buf.len() / 4 {
        return Err(format!(
            "declares {n} strings in a {}-byte buffer",
            buf.len()
        ));
    }
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (start, end) = (word(1 + i)?, word(2 + i)?);
        if start > end || end > buf.len() {
            return Err(format!(
                "string {i} spans {start}..{end} of a {}-byte buffer",
                buf.len()
            ));
        }
        out.push(buf[start..end].to_vec());
    }
    Ok(out)
}

/// Builds TFLite's packed string buffer; `None` if it would not fit 32-bit offsets.
pub(crate) fn pack_strings<S: AsRef<[u8]>>(items: &[S]) -> Option<Vec<u8>> {
    let header = 4 * (items.len() + 2);
    let total = header + items.iter().map(|s| s.as_ref().len()).sum::<usize>();
    if total > i32::MAX as usize {
        return None;
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(items.len() as i32).to_le_bytes());
    let mut offset = header;
    for s in items {
        out.extend_from_slice(&(offset as i32).to_le_bytes());
        offset += s.as_ref().len();
    }
    out.extend_from_slice(&(offset as i32).to_le_bytes());
    for s in items {
        out.extend_from_slice(s.as_ref());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_reject_bad_offsets() {
        let items = ["héllo".as_bytes(), b"", b"tflite"];
        let packed = pack_strings(&items).unwrap();
        assert_eq!(
            parse_strings(&packed).unwrap(),
            items.iter().map(|s| s.to_vec()).collect::<Vec<_>>()
        );
        let mut bad = packed.clone();
        bad[8..12].copy_from_slice(&1000i32.to_le_bytes());
        assert!(parse_strings(&bad).is_err());
        assert!(parse_strings(&1_000_000i32.to_le_bytes()).is_err());
        assert!(parse_strings(&[1, 0]).is_err());
    }
}
