//! Our own small C/C++ shims, built on every build (not cached, not in the cache key): they
//! are linked around the cached archive and depend on the linking machine, not on TFLite.

use std::path::Path;

/// Builds `libtflite_rs_guard.a` from `csrc/tflite_rs_guard.cc` (the C++-exception guard
/// around the C API) against the cached headers, and links it before the archive it calls.
pub fn guard(csrc: &Path, include: &Path, out_dir: &Path) -> Result<(), String> {
    println!("cargo:rustc-link-search=native={}", out_dir.display());
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .opt_level(2)
        .debug(false)
        .pic(true)
        .define("NDEBUG", None)
        .out_dir(out_dir)
        .cargo_metadata(false)
        .include(include)
        .include(csrc)
        .file(csrc.join("tflite_rs_guard.cc"))
        .try_compile("tflite_rs_guard")
        .map_err(|e| format!("compiling the exception guard failed: {e}"))?;
    println!("cargo:rustc-link-lib=static=tflite_rs_guard");
    Ok(())
}
