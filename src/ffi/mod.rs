//! The boundary with the native library: small helpers every module that calls TFLite needs,
//! the error reporter that collects TFLite's messages, the routing of TFLite's log lines, and
//! the CPU check run before the first native call.

pub(crate) mod cpu;
pub mod logging;
pub(crate) mod reporter;

use std::ffi::{c_char, CStr};
use std::sync::{Mutex, MutexGuard};

/// The text of a C string TFLite owns, or `""` for a null pointer.
///
/// # Safety
/// `p` is null or a NUL-terminated string valid for the duration of the call.
pub(crate) unsafe fn string(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null and NUL-terminated, as the caller promises.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Locks `m`, recovering the data of a mutex a panicking thread poisoned (every mutex here
/// guards data a panic cannot leave half-written: plain lists and flags).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A shape as TFLite's `int` dimensions, `None` if a dimension exceeds `i32::MAX`.
pub(crate) fn dims_i32(shape: &[usize]) -> Option<Vec<i32>> {
    shape.iter().map(|d| i32::try_from(*d).ok()).collect()
}

/// A count as TFLite's `int`, saturating at `i32::MAX`.
pub(crate) fn saturating_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}
