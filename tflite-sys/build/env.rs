//! Every environment variable this build script reads, in one place. `main` registers each
//! with `cargo:rerun-if-env-changed`; the README's table is this list.

use std::path::PathBuf;

/// Folder holding the files of `vendor/sources.lock`; nothing is downloaded.
pub const VENDOR_DIR: &str = "TFLITE_SYS_VENDOR_DIR";
/// The cache folder (default `$XDG_CACHE_HOME/tflite-sys` or `~/.cache/tflite-sys`).
pub const CACHE: &str = "TFLITE_SYS_CACHE";
/// `1`: neither read nor write the user cache; build inside `target/`.
pub const NO_CACHE: &str = "TFLITE_SYS_NO_CACHE";
/// Debian mirror URI to fetch from, instead of the one in the machine's apt configuration.
pub const DEBIAN_MIRROR: &str = "TFLITE_SYS_DEBIAN_MIRROR";
/// A folder made by this crate's own build (see `prebuilt.rs`): link it, compile nothing.
/// `TFLITE_SYS_PREBUILT_DIR_<target>` (e.g. `…_aarch64_unknown_linux_gnu`) wins over it.
pub const PREBUILT_DIR: &str = "TFLITE_SYS_PREBUILT_DIR";
/// Read by `cache::root` when `TFLITE_SYS_CACHE` is unset.
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// Read by `cache::root` when neither of the two above is set.
pub const HOME: &str = "HOME";
/// Where bindgen finds `libclang.so`.
pub const LIBCLANG_PATH: &str = "LIBCLANG_PATH";
/// `1`: compile TFLite's builtin kernels for the x86-64 baseline (SSE2) instead of
/// x86-64-v2, for CPUs without SSE4.1/SSE4.2/POPCNT (before ~2009); see `Target::x86_64_level`.
pub const X86_64_BASELINE: &str = "TFLITE_SYS_X86_64_BASELINE";
/// The C compiler for XNNPACK's micro-kernels on x86 targets (default: `clang` when it runs;
/// see `target::kernel_compiler`). `TFLITE_SYS_KERNEL_CC=gcc` compiles them as the rest.
pub const KERNEL_CC: &str = "TFLITE_SYS_KERNEL_CC";

/// Compiler variables the `cc` crate reads, plain and per target (`CXX_aarch64_unknown_linux_gnu`,
/// `CXX_aarch64-unknown-linux-gnu`, `TARGET_CXX`, …): they change the native build.
const COMPILER_VARS: &[&str] = &["CC", "CXX", "AR", "CFLAGS", "CXXFLAGS"];

/// Whether the native build is sanitized: `-fsanitize` in a C flags variable (`CFLAGS`, its
/// per-target forms) or a `-Zsanitizer` the `cc` crate passes on from the Rust flags.
pub fn sanitized(target: &str) -> bool {
    let mut names = vec!["CFLAGS".to_string(), "TARGET_CFLAGS".to_string()];
    names.extend(per_target_names("CFLAGS", target));
    names
        .iter()
        .any(|n| get(n).is_some_and(|v| v.contains("-fsanitize")))
        || get("CARGO_ENCODED_RUSTFLAGS").is_some_and(|v| v.contains("sanitizer"))
}

/// Every variable to watch for `target` (a cargo target triple).
pub fn watched(target: &str) -> Vec<String> {
    let mut v: Vec<String> = [
        VENDOR_DIR,
        CACHE,
        NO_CACHE,
        DEBIAN_MIRROR,
        PREBUILT_DIR,
        XDG_CACHE_HOME,
        HOME,
        LIBCLANG_PATH,
        X86_64_BASELINE,
        KERNEL_CC,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(per_target_names(PREBUILT_DIR, target));
    for c in COMPILER_VARS {
        v.push(c.to_string());
        v.push(format!("TARGET_{c}"));
        v.push(format!("HOST_{c}"));
        v.extend(per_target_names(c, target));
    }
    v
}

/// `NAME_<target>` in the spellings the ecosystem uses: with `_` for `-`, as is, and upper-case.
fn per_target_names(name: &str, target: &str) -> Vec<String> {
    let under = target.replace('-', "_");
    vec![
        format!("{name}_{under}"),
        format!("{name}_{target}"),
        format!("{name}_{}", under.to_uppercase()),
    ]
}

/// A variable's value, if set and not empty.
pub fn get(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A path variable, if set and not empty.
pub fn path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// A switch: set, not empty and not `0`.
pub fn flag(name: &str) -> bool {
    get(name).is_some_and(|v| v != "0")
}

/// The per-target form of `name` if set, else `name` itself: (the variable used, its path).
pub fn for_target(name: &str, target: &str) -> Option<(String, PathBuf)> {
    per_target_names(name, target)
        .into_iter()
        .chain(std::iter::once(name.to_string()))
        .find_map(|n| path(&n).map(|p| (n, p)))
}
