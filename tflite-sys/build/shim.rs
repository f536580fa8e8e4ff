//! Our own two small C/C++ shims (`csrc/`), built into the native folder beside the archive.

use crate::compile::base;
use std::path::Path;

/// `libtflite_rs_guard.a` from `csrc/tflite_rs_guard.cc`: the C++-exception guard around the
/// C API, compiled against the headers of the native folder `dir`.
pub fn guard(csrc: &Path, dir: &Path) -> Result<(), String> {
    base(true)
        .out_dir(dir)
        .include(dir.join("include"))
        .include(csrc)
        .file(csrc.join("tflite_rs_guard.cc"))
        .try_compile("tflite_rs_guard")
        .map_err(|e| format!("compiling the exception guard failed: {e}"))
}

/// `libtflite_sys_compat.a` from `csrc/glibc_compat.c`: lets Debian's prebuilt ruy objects
/// (built against glibc 2.38) link against an older glibc (see the file).
pub fn glibc_compat(csrc: &Path, dir: &Path) -> Result<(), String> {
    base(false)
        .out_dir(dir)
        .file(csrc.join("glibc_compat.c"))
        .try_compile("tflite_sys_compat")
        .map_err(|e| format!("compiling csrc/glibc_compat.c failed: {e}"))
}
