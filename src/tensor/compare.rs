//! Comparing outputs with a reference run, e.g. Google's Python runtime's outputs saved as
//! `.npy` — the check a port of a model needs before it is trusted.
//!
//! [`diff`] measures; [`check`] measures and holds the result to a [`Tolerance`]. Both refuse,
//! whatever the tolerance:
//!
//! - slices of different lengths ([`Mismatch::Length`]);
//! - a non-finite value (NaN, ±∞) on one side that the other side does not have at the same
//!   place ([`Mismatch::NonFinite`]). NaN facing NaN and ∞ facing the same ∞ count as equal.
//!
//! Differences are absolute, in the values' own unit: for integer (quantized) outputs that is
//! quanta, so `Tolerance::Absolute(1.0)` on `i8` outputs allows one quantum. The report names
//! the worst element (index, got, want).
//!
//! ```
//! use tflite::compare::{check, Mismatch, Tolerance};
//!
//! let want = [0.25f32, 1.0, -2.0];
//! let report = check(&[0.25f32, 1.000001, -2.0], &want, Tolerance::Absolute(1e-5)).unwrap();
//! assert_eq!(report.worst.unwrap().index, 1);
//!
//! // NaN is never within a tolerance, nor is a missing value.
//! assert!(matches!(
//!     check(&[0.25, f32::NAN, -2.0], &want, Tolerance::Absolute(1e9)),
//!     Err(Mismatch::NonFinite { index: 1, .. })
//! ));
//! assert!(matches!(
//!     check(&[0.25f32, 1.0], &want, Tolerance::Absolute(1e9)),
//!     Err(Mismatch::Length { got: 2, want: 3 })
//! ));
//! // Quantized outputs compare in quanta.
//! assert!(check(&[3i8, -7], &[4i8, -7], Tolerance::Absolute(1.0)).is_ok());
//! assert!(check(&[2i8, -7], &[4i8, -7], Tolerance::Absolute(1.0)).is_err());
//! ```

use half::f16;

mod sealed {
    pub trait Sealed {}
}

/// Element types [`diff`] and [`check`] compare: every numeric tensor element type and `bool`.
pub trait Comparable: sealed::Sealed + Copy {
    /// The value as an `f64` (exact for every type but the 64-bit integers beyond 2^53).
    fn to_f64(self) -> f64;
}

macro_rules! comparable {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Comparable for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
comparable!(f32, f64, i8, u8, i16, u16, i32, u32, i64, u64);

impl sealed::Sealed for f16 {}
impl Comparable for f16 {
    fn to_f64(self) -> f64 {
        self.to_f64()
    }
}

impl sealed::Sealed for bool {}
impl Comparable for bool {
    fn to_f64(self) -> f64 {
        u8::from(self).into()
    }
}

/// The element of a comparison where the largest difference is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Worst {
    /// Its position in the flattened (row-major) outputs.
    pub index: usize,
    /// The value compared.
    pub got: f64,
    /// The reference's value.
    pub want: f64,
}

impl Worst {
    /// `|got − want|` (0 where both are the same non-finite value).
    pub fn diff(&self) -> f64 {
        if self.got == self.want || (self.got.is_nan() && self.want.is_nan()) {
            0.0
        } else {
            (self.got - self.want).abs()
        }
    }
}

/// What [`diff`] measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// How many elements were compared.
    pub len: usize,
    /// The largest `|got − want|` (0 for empty or equal slices).
    pub max_diff: f64,
    /// The element where `max_diff` was first reached; `None` when every element is equal.
    pub worst: Option<Worst>,
    /// The largest finite `|want|`: the scale [`Tolerance::Relative`] is relative to.
    pub want_max_abs: f64,
}

impl Report {
    /// `max_diff` relative to the reference's largest magnitude, or to 1 if that is smaller.
    pub fn relative(&self) -> f64 {
        self.max_diff / self.want_max_abs.max(1.0)
    }
}

/// How far a compared value may be from the reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// Bit for bit (`|got − want| = 0`).
    Exact,
    /// `|got − want| ≤ this`, in the values' unit (quanta for integer outputs).
    Absolute(f64),
    /// `|got − want| ≤ this × max(1, largest |want|)`: one bound for outputs of any scale.
    Relative(f64),
}

impl Tolerance {
    /// The largest difference allowed against a reference whose largest magnitude is
    /// `want_max_abs`.
    pub fn allowed(&self, want_max_abs: f64) -> f64 {
        match *self {
            Tolerance::Exact => 0.0,
            Tolerance::Absolute(t) => t,
            Tolerance::Relative(t) => t * want_max_abs.max(1.0),
        }
    }
}

/// Why a comparison failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Mismatch {
    /// The two sides do not have the same number of values.
    #[error("length differs: got {got} values, the reference has {want}")]
    Length {
        /// Values compared.
        got: usize,
        /// Values in the reference.
        want: usize,
    },
    /// A NaN or infinity on one side that the other side does not have at the same place.
    #[error("element {index}: got {got}, the reference has {want} (a non-finite value on one side only)")]
    NonFinite {
        /// Position in the flattened outputs.
        index: usize,
        /// The value compared.
        got: f64,
        /// The reference's value.
        want: f64,
    },
    /// The largest difference is above the tolerance.
    #[error(
        "max |diff| {diff:.3e} above the {allowed:.3e} allowed, at element {index}: got {got}, \
         want {want}"
    )]
    Exceeds {
        /// Position of the worst element.
        index: usize,
        /// The value compared there.
        got: f64,
        /// The reference's value there.
        want: f64,
        /// `|got − want|` there.
        diff: f64,
        /// The largest difference the tolerance allows.
        allowed: f64,
    },
}

/// Measures `got` against `want`: the largest difference and where it is. Fails on a length
/// mismatch and on a non-finite value that the other side does not have at the same place.
pub fn diff<T: Comparable>(got: &[T], want: &[T]) -> Result<Report, Mismatch> {
    if got.len() != want.len() {
        return Err(Mismatch::Length {
            got: got.len(),
            want: want.len(),
        });
    }
    let mut report = Report {
        len: got.len(),
        max_diff: 0.0,
        worst: None,
        want_max_abs: 0.0,
    };
    for (index, (g, w)) in got.iter().zip(want).enumerate() {
        let e = Worst {
            index,
            got: g.to_f64(),
            want: w.to_f64(),
        };
        if !(e.got.is_finite() && e.want.is_finite()) {
            let same = e.got == e.want || (e.got.is_nan() && e.want.is_nan());
            if !same {
                return Err(Mismatch::NonFinite {
                    index,
                    got: e.got,
                    want: e.want,
                });
            }
            continue;
        }
        report.want_max_abs = report.want_max_abs.max(e.want.abs());
        let d = e.diff();
        if d > report.max_diff {
            report.max_diff = d;
            report.worst = Some(e);
        }
    }
    Ok(report)
}

/// [`diff`], then holds the largest difference to `tolerance`.
pub fn check<T: Comparable>(
    got: &[T],
    want: &[T],
    tolerance: Tolerance,
) -> Result<Report, Mismatch> {
    let report = diff(got, want)?;
    let allowed = tolerance.allowed(report.want_max_abs);
    match report.worst {
        // A NaN bound (a NaN tolerance) allows nothing.
        Some(w) if report.max_diff > allowed || allowed.is_nan() => Err(Mismatch::Exceeds {
            index: w.index,
            got: w.got,
            want: w.want,
            diff: report.max_diff,
            allowed,
        }),
        _ => Ok(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_infinity_fail_unless_the_reference_has_them_at_the_same_place() {
        let want = [1.0f32, 2.0, 3.0];
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let got = [1.0, bad, 3.0];
            assert!(matches!(
                diff(&got, &want),
                Err(Mismatch::NonFinite { index: 1, .. })
            ));
            assert!(matches!(
                check(&got, &want, Tolerance::Relative(f64::INFINITY)),
                Err(Mismatch::NonFinite { index: 1, .. })
            ));
            // Also when the reference is the one with the non-finite value.
            assert!(matches!(
                diff(&want, &got),
                Err(Mismatch::NonFinite { index: 1, .. })
            ));
            // The same non-finite value on both sides is equal.
            assert_eq!(check(&got, &got, Tolerance::Exact).unwrap().max_diff, 0.0);
        }
        assert!(diff(&[f32::INFINITY], &[f32::NEG_INFINITY]).is_err());
        assert!(diff(&[f64::NAN], &[0.0]).is_err());
        assert!(diff(&[f16::NAN], &[f16::ZERO]).is_err());
        // A NaN bound allows nothing.
        assert!(check(&[1.0f32], &[2.0], Tolerance::Absolute(f64::NAN)).is_err());
    }

    #[test]
    fn a_length_mismatch_fails_whatever_the_tolerance() {
        for (got, want) in [(&[1.0f32][..], &[1.0f32, 2.0][..]), (&[], &[0.0])] {
            assert!(matches!(
                check(got, want, Tolerance::Absolute(f64::MAX)),
                Err(Mismatch::Length { .. })
            ));
        }
        assert!(diff::<i8>(&[], &[]).is_ok());
    }

    #[test]
    fn the_worst_element_is_reported() {
        let r = diff(&[1.0f32, 2.5, 3.0, 4.0], &[1.0, 2.0, 3.0, 5.0]).unwrap();
        assert_eq!(r.max_diff, 1.0);
        assert_eq!(
            r.worst,
            Some(Worst {
                index: 3,
                got: 4.0,
                want: 5.0
            })
        );
        assert_eq!(r.want_max_abs, 5.0);
        let e = check(&[1.0f32, 2.5], &[1.0, 2.0], Tolerance::Absolute(0.1)).unwrap_err();
        assert_eq!(
            e,
            Mismatch::Exceeds {
                index: 1,
                got: 2.5,
                want: 2.0,
                diff: 0.5,
                allowed: 0.1
            }
        );
        assert!(e.to_string().contains("element 1: got 2.5, want 2"), "{e}");
    }

    #[test]
    fn tolerances() {
        let want = [10.0f32, -20.0];
        let got = [10.0f32, -20.001];
        assert!(check(&got, &want, Tolerance::Exact).is_err());
        assert!(check(&want, &want, Tolerance::Exact).is_ok());
        assert!(check(&got, &want, Tolerance::Absolute(1e-4)).is_err());
        // 1e-4 relative to the largest magnitude, 20.
        assert!(check(&got, &want, Tolerance::Relative(1e-4)).is_ok());
        assert!(check(&got, &want, Tolerance::Relative(1e-5)).is_err());
        // Small outputs: relative to 1.
        assert_eq!(Tolerance::Relative(1e-3).allowed(0.01), 1e-3);
    }

    #[test]
    fn integers_compare_in_quanta() {
        assert_eq!(
            diff(&[-128i8, 127], &[127i8, -128]).unwrap().max_diff,
            255.0
        );
        assert_eq!(diff(&[0u8, 255], &[1u8, 250]).unwrap().max_diff, 5.0);
        assert_eq!(
            diff(&[i16::MIN], &[i16::MAX]).unwrap().max_diff,
            u16::MAX as f64
        );
        assert!(check(&[5i32], &[6], Tolerance::Absolute(1.0)).is_ok());
        assert!(check(&[true, false], &[true, true], Tolerance::Exact).is_err());
    }
}
