//! A finished native build is a self-contained folder: the archive, the C API headers, our two
//! small shims, the generated bindings and a manifest saying what it was built for. The user
//! cache holds such folders; `TFLITE_SYS_PREBUILT_DIR` points at one made elsewhere (a Docker
//! build stage, a board without a compiler). Linking one needs no C compiler and no libclang.

use crate::target::Target;
use std::path::Path;

pub const MANIFEST: &str = "tflite-sys.manifest";
pub const ARCHIVE: &str = "libtensorflowlite.a";
pub const GUARD: &str = "libtflite_rs_guard.a";
pub const COMPAT: &str = "libtflite_sys_compat.a";
pub const BINDINGS: &str = "bindings.rs";
/// Bumped when the folder's layout changes.
const FORMAT: &str = "1";
pub const TFLITE_VERSION: &str = "2.14.1";

/// What a folder must have been built for to be linked into this build.
pub struct Identity<'a> {
    pub target: &'a Target,
    pub xnnpack: bool,
}

impl Identity<'_> {
    fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("format", FORMAT.into()),
            ("tflite", TFLITE_VERSION.into()),
            ("tflite-sys", env!("CARGO_PKG_VERSION").into()),
            ("target", self.target.triple.clone()),
            ("xnnpack", if self.xnnpack { "on" } else { "off" }.into()),
            (
                "x86-64 kernels",
                self.target.x86_64_level.unwrap_or("baseline").into(),
            ),
        ]
    }

    fn files(&self) -> Vec<&'static str> {
        let mut f = vec![
            ARCHIVE,
            GUARD,
            BINDINGS,
            "include/tensorflow/lite/core/c/c_api.h",
        ];
        if self.target.is_linux() {
            f.push(COMPAT);
        }
        f
    }

    /// Writes the manifest of a folder this build just made (`key`: the cache key, and
    /// `kernels_by`: the compiler of XNNPACK's micro-kernels when not the target's own, both
    /// for people; neither is checked when the folder is linked).
    pub fn write(&self, dir: &Path, key: &str, kernels_by: &str) -> Result<(), String> {
        let mut text = String::from("# tflite-sys native build: what it was built for\n");
        for (k, v) in self.fields() {
            text.push_str(&format!("{k} = {v}\n"));
        }
        text.push_str(&format!("key = {key}\n"));
        text.push_str(&format!("{KERNEL_COMPILER} = {kernels_by}\n"));
        std::fs::write(dir.join(MANIFEST), text).map_err(|e| e.to_string())
    }

    /// Checks that `dir` is a complete folder built for this identity.
    pub fn verify(&self, dir: &Path) -> Result<(), String> {
        if !dir.is_dir() {
            return Err(format!("{} is not a folder", dir.display()));
        }
        let text = std::fs::read_to_string(dir.join(MANIFEST)).map_err(|e| {
            format!(
                "{} has no readable {MANIFEST} ({e}): it is not a folder made by tflite-sys's \
                 build (a finished build in the cache, `<cache>/build/<target>-<key>`)",
                dir.display()
            )
        })?;
        let got = |key: &str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().to_string())
        };
        let mut wrong = Vec::new();
        for (k, want) in self.fields() {
            match got(k) {
                Some(v) if v == want => {}
                Some(v) => wrong.push(format!("  {k}: built for `{v}`, this build needs `{want}`")),
                None => wrong.push(format!("  {k}: missing, this build needs `{want}`")),
            }
        }
        let missing: Vec<&str> = self
            .files()
            .into_iter()
            .filter(|f| !dir.join(f).is_file())
            .collect();
        if !missing.is_empty() {
            wrong.push(format!("  missing files: {}", missing.join(", ")));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} does not match this build:\n{}",
                dir.display(),
                wrong.join("\n")
            ))
        }
    }
}

/// The manifest line naming the compiler of XNNPACK's micro-kernels (empty: the target's own).
const KERNEL_COMPILER: &str = "kernel compiler";

/// What a folder's manifest says compiled XNNPACK's micro-kernels ("" when the target's C
/// compiler did, or the folder predates the line).
pub fn kernel_compiler(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(MANIFEST))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == KERNEL_COMPILER)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// Links a verified folder: copies its bindings into `OUT_DIR` and tells cargo what to link.
pub fn link(dir: &Path, target: &Target, out_dir: &Path) -> Result<(), String> {
    std::fs::copy(dir.join(BINDINGS), out_dir.join(BINDINGS))
        .map_err(|e| format!("cannot copy the bindings from {}: {e}", dir.display()))?;
    println!("cargo:rustc-link-search=native={}", dir.display());
    // The guard calls into the archive, the archive into the compat shim: in that order.
    println!("cargo:rustc-link-lib=static=tflite_rs_guard");
    println!("cargo:rustc-link-lib=static=tensorflowlite");
    if target.is_linux() {
        println!("cargo:rustc-link-lib=static=tflite_sys_compat");
    }
    for lib in ["stdc++", "pthread", "dl", "m"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    // For dependents' build scripts: DEP_TENSORFLOWLITE_INCLUDE / _LIB.
    println!("cargo:include={}", dir.join("include").display());
    println!("cargo:lib={}", dir.display());
    Ok(())
}
