//! Tensor element types: [`DataType`] (what a tensor holds) and the sealed [`Element`] trait
//! (which Rust types can view tensor data).

use tflite_sys as sys;

/// The element type of a tensor, as TFLite declares it (`TfLiteType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataType {
    /// No type.
    NoType,
    /// `f32`.
    Float32,
    /// `i32`.
    Int32,
    /// `u8`.
    UInt8,
    /// `i64`.
    Int64,
    /// Variable-length byte strings in TFLite's packed format; see [`crate::Tensor::strings`] and [`crate::TensorMut::set_strings`].
    String,
    /// `bool` (one byte, 0 or 1).
    Bool,
    /// `i16`.
    Int16,
    /// Two `f32`s (real, imaginary).
    Complex64,
    /// `i8`.
    Int8,
    /// `half::f16`.
    Float16,
    /// `f64`.
    Float64,
    /// Two `f64`s (real, imaginary).
    Complex128,
    /// `u64`.
    UInt64,
    /// A resource handle.
    Resource,
    /// A variant handle.
    Variant,
    /// `u32`.
    UInt32,
    /// `u16`.
    UInt16,
    /// Packed 4-bit integers.
    Int4,
    /// A type this crate does not know (the raw `TfLiteType` value).
    Other(i32),
}

impl DataType {
    pub(crate) fn from_raw(t: sys::TfLiteType) -> DataType {
        match t {
            sys::kTfLiteNoType => DataType::NoType,
            sys::kTfLiteFloat32 => DataType::Float32,
            sys::kTfLiteInt32 => DataType::Int32,
            sys::kTfLiteUInt8 => DataType::UInt8,
            sys::kTfLiteInt64 => DataType::Int64,
            sys::kTfLiteString => DataType::String,
            sys::kTfLiteBool => DataType::Bool,
            sys::kTfLiteInt16 => DataType::Int16,
            sys::kTfLiteComplex64 => DataType::Complex64,
            sys::kTfLiteInt8 => DataType::Int8,
            sys::kTfLiteFloat16 => DataType::Float16,
            sys::kTfLiteFloat64 => DataType::Float64,
            sys::kTfLiteComplex128 => DataType::Complex128,
            sys::kTfLiteUInt64 => DataType::UInt64,
            sys::kTfLiteResource => DataType::Resource,
            sys::kTfLiteVariant => DataType::Variant,
            sys::kTfLiteUInt32 => DataType::UInt32,
            sys::kTfLiteUInt16 => DataType::UInt16,
            sys::kTfLiteInt4 => DataType::Int4,
            other => DataType::Other(other as i32),
        }
    }

    /// Bytes per element, for the fixed-size types.
    pub fn size(self) -> Option<usize> {
        Some(match self {
            DataType::Float32 | DataType::Int32 | DataType::UInt32 => 4,
            DataType::UInt8 | DataType::Int8 | DataType::Bool => 1,
            DataType::Int64 | DataType::UInt64 | DataType::Float64 | DataType::Complex64 => 8,
            DataType::Int16 | DataType::UInt16 | DataType::Float16 => 2,
            DataType::Complex128 => 16,
            _ => return None,
        })
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type whose values are laid out exactly like the elements of one TFLite tensor type,
/// so tensor data can be viewed as `&[Self]`. Implemented for `f32`, `f64`, [`half::f16`],
/// `i8`, `u8`, `i16`, `u16`, `i32`, `u32`, `i64`, `u64` and `bool`; sealed.
pub trait Element: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    /// The tensor type this Rust type views.
    const DTYPE: DataType;
    /// Checks that `bytes` hold valid values of `Self` (every bit pattern is valid except for
    /// `bool`, which must be 0 or 1). Returns the offset of the first invalid element.
    #[doc(hidden)]
    fn first_invalid(_bytes: &[u8]) -> Option<usize> {
        None
    }
}

macro_rules! element {
    ($($t:ty => $d:ident),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DataType = DataType::$d;
        }
    )*};
}

element! {
    f32 => Float32, f64 => Float64, half::f16 => Float16,
    i8 => Int8, u8 => UInt8, i16 => Int16, u16 => UInt16,
    i32 => Int32, u32 => UInt32, i64 => Int64, u64 => UInt64,
}

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: DataType = DataType::Bool;
    fn first_invalid(bytes: &[u8]) -> Option<usize> {
        bytes.iter().position(|b| *b > 1)
    }
}
