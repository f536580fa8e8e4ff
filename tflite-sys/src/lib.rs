//! Raw FFI to the TensorFlow Lite 2.14.1 C API (`tensorflow/lite/core/c/c_api.h`,
//! `c_api_experimental.h`, `common.h`, `builtin_op_data.h`, `builtin_ops.h`) and, with the
//! `xnnpack` feature, the XNNPACK delegate (`tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h`).
//!
//! Everything here is `unsafe` and mirrors the C headers one to one; the `tflite` crate is the
//! safe API. The native library is compiled by this crate's build script from pinned Debian
//! source packages (see the repository README) for the cargo target — x86_64, aarch64 and
//! armv7 Linux, cross-compiling with the `cc` crate's compilers — and linked statically; or a
//! folder made by an earlier build is linked as it is (`TFLITE_SYS_PREBUILT_DIR`).
//!
//! C enums are plain integer constants (`kTfLiteOk`, `kTfLiteFloat32`, …), so any value the
//! library returns is representable.
#![allow(non_upper_case_globals, non_camel_case_types, non_snake_case)]
#![allow(clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// The folder of the TFLite C headers this crate was built with (in the native build's folder:
/// the user cache, or `TFLITE_SYS_PREBUILT_DIR`), e.g. to compile a delegate plugin or a C
/// custom op against the same ABI. A path on the machine that built the crate.
pub const INCLUDE_DIR: &str = env!("TFLITE_SYS_INCLUDE_DIR");

/// The x86-64 micro-architecture level TFLite's builtin kernels were compiled for (`x86-64-v2`:
/// SSE4.1, SSE4.2, POPCNT), or empty: the target's baseline (other architectures, or
/// `TFLITE_SYS_X86_64_BASELINE=1`). Running that code on a CPU below the level stops the process
/// with an illegal instruction; the `tflite` crate checks the CPU before its first native call.
pub const X86_64_LEVEL: &str = env!("TFLITE_SYS_X86_64_LEVEL");

/// The compiler of XNNPACK's micro-kernels when it was not the target's C compiler: on x86,
/// the first line of `clang --version` (or of `TFLITE_SYS_KERNEL_CC`'s), e.g. "Debian clang
/// version 14.0.6"; empty when the target's compiler built them (other architectures,
/// sanitized or cross builds, no clang found; see the build's `TFLITE_SYS_KERNEL_CC`).
pub const KERNEL_COMPILER: &str = env!("TFLITE_SYS_KERNEL_COMPILER");

#[cfg(feature = "xnnpack")]
extern "C" {
    /// XNNPACK's initialization (`xnnpack.h`, not in the bindings), which the delegate and its
    /// weights cache also call on every creation; null selects the default allocator. Returns
    /// an `xnn_status` (0 is success).
    pub fn xnn_initialize(allocator: *const core::ffi::c_void) -> core::ffi::c_int;
}
