//! Quantization parameters of a tensor, and conversions between real and quantized values.

/// Affine quantization of one tensor (or one channel): `real = scale * (q - zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantizationParams {
    /// The step between two quantized values.
    pub scale: f32,
    /// The quantized value that represents real 0.
    pub zero_point: i32,
}

/// How a tensor is quantized.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantization {
    /// Not quantized.
    None,
    /// One scale and zero point for the whole tensor.
    PerTensor(QuantizationParams),
    /// One scale and zero point per slice along `axis` (e.g. per output channel of a weight).
    PerChannel {
        /// Scales, one per channel.
        scales: Vec<f32>,
        /// Zero points, one per channel.
        zero_points: Vec<i32>,
        /// The quantized dimension.
        axis: usize,
    },
}

impl Quantization {
    /// The per-tensor parameters, if the tensor is quantized per tensor.
    pub fn per_tensor(&self) -> Option<QuantizationParams> {
        match self {
            Quantization::PerTensor(p) => Some(*p),
            _ => None,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Integer types TFLite quantizes to: `u8`, `i8`, `i16`.
pub trait Quantized: sealed::Sealed + crate::dtype::Element {
    /// The smallest value.
    const MIN: i32;
    /// The largest value.
    const MAX: i32;
    #[doc(hidden)]
    fn from_i32(v: i32) -> Self;
    #[doc(hidden)]
    fn to_i32(self) -> i32;
}

macro_rules! quantized {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Quantized for $t {
            const MIN: i32 = <$t>::MIN as i32;
            const MAX: i32 = <$t>::MAX as i32;
            fn from_i32(v: i32) -> Self { v as $t }
            fn to_i32(self) -> i32 { self as i32 }
        }
    )*};
}
quantized!(u8, i8, i16);

impl QuantizationParams {
    /// `round(x / scale) + zero_point`, saturated to `T`'s range (TFLite's rounding: half away
    /// from zero). NaN maps to the zero point.
    pub fn quantize<T: Quantized>(&self, x: f32) -> T {
        let q = (x / self.scale).round();
        let q = if q.is_nan() { 0.0 } else { q };
        // `q as i64` saturates (an infinity or 1e30 / a small scale); adding the zero point
        // must not overflow then.
        let v = (q as i64)
            .saturating_add(self.zero_point as i64)
            .clamp(T::MIN as i64, T::MAX as i64);
        T::from_i32(v as i32)
    }

    /// `scale * (q - zero_point)`.
    pub fn dequantize<T: Quantized>(&self, q: T) -> f32 {
        self.scale * (q.to_i32() - self.zero_point) as f32
    }

    /// [`quantize`](Self::quantize) over a slice.
    pub fn quantize_slice<T: Quantized>(&self, xs: &[f32]) -> Vec<T> {
        xs.iter().map(|x| self.quantize(*x)).collect()
    }

    /// [`dequantize`](Self::dequantize) over a slice.
    pub fn dequantize_slice<T: Quantized>(&self, qs: &[T]) -> Vec<f32> {
        qs.iter().map(|q| self.dequantize(*q)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_saturation() {
        let p = QuantizationParams {
            scale: 0.5,
            zero_point: -3,
        };
        assert_eq!(p.quantize::<i8>(1.0), -1);
        assert_eq!(p.dequantize::<i8>(-1), 1.0);
        assert_eq!(p.quantize::<i8>(1000.0), 127);
        assert_eq!(p.quantize::<i8>(-1000.0), -128);
        assert_eq!(p.quantize::<u8>(-1000.0), 0);
        assert_eq!(p.quantize::<i16>(0.25), -2); // 0.5 rounds away from zero: 1 - 3
        assert_eq!(p.quantize::<u8>(f32::NAN), 0);
        let u = QuantizationParams {
            scale: 0.1,
            zero_point: 128,
        };
        assert_eq!(u.quantize::<u8>(f32::NAN), 128);
        let xs = [0.0, 0.1, -12.8, 12.7, 100.0];
        let qs: Vec<u8> = u.quantize_slice(&xs);
        assert_eq!(qs, [128, 129, 0, 255, 255]);
        let back = u.dequantize_slice(&qs);
        for (b, x) in back.iter().zip(&xs[..4]) {
            assert!((b - x).abs() <= 0.05 + 1e-6, "{back:?}");
        }
    }
}
