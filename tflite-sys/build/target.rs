//! What we compile for, from cargo's description of the target (never from the host), and the
//! C/C++ compilers the `cc` crate picks for it — with a message that says what to install when
//! one is missing (a cross compiler, typically).

use std::process::Command;

pub struct Target {
    /// The cargo target triple, e.g. `armv7-unknown-linux-gnueabihf`.
    pub triple: String,
    /// `CARGO_CFG_TARGET_ARCH`: `x86_64`, `aarch64`, `arm`, …
    pub arch: String,
    /// `CARGO_CFG_TARGET_OS`: `linux`, …
    pub os: String,
    /// On x86_64, the micro-architecture level TFLite's builtin kernels are compiled for:
    /// `x86-64-v2` (SSE4.1, SSE4.2, POPCNT), unless `TFLITE_SYS_X86_64_BASELINE=1`. At that
    /// level TFLite's x86 builds take their SSE paths (`neon_check.h` maps the NEON kernels onto
    /// SSE4.1 through NEON_2_SSE; `sse_tensor_utils`): the hybrid depthwise convolution of a
    /// dynamic-range model runs ~8x faster than on the baseline's portable loops. `None`
    /// elsewhere (the target's own baseline; XNNPACK picks its kernels at run time anyway).
    pub x86_64_level: Option<&'static str>,
    host: String,
}

impl Target {
    pub fn from_cargo() -> Result<Self, String> {
        let var = |n: &str| std::env::var(n).map_err(|_| format!("cargo did not set {n}"));
        let arch = var("CARGO_CFG_TARGET_ARCH")?;
        let x86_64_level = (arch == "x86_64" && !crate::env::flag(crate::env::X86_64_BASELINE))
            .then_some("x86-64-v2");
        Ok(Target {
            triple: var("TARGET")?,
            arch,
            os: var("CARGO_CFG_TARGET_OS")?,
            x86_64_level,
            host: var("HOST")?,
        })
    }

    pub fn is_x86(&self) -> bool {
        self.arch == "x86_64" || self.arch == "x86"
    }

    /// 32-bit ARM (`armv7-unknown-linux-gnueabihf` and friends).
    pub fn is_arm32(&self) -> bool {
        self.arch == "arm"
    }

    pub fn is_linux(&self) -> bool {
        self.os == "linux" || self.os == "android"
    }

    /// The Debian architecture name, for the binary package rows of `vendor/sources.lock`.
    pub fn debian_arch(&self) -> &str {
        match self.arch.as_str() {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "i386",
            "arm" => "armhf",
            a => a,
        }
    }

    /// The Debian package that brings the C++ compiler `cc` looks for by default.
    fn compiler_package(&self) -> String {
        if self.triple == self.host {
            return "g++".into();
        }
        match self.arch.as_str() {
            "aarch64" => "g++-aarch64-linux-gnu".into(),
            "arm" => "g++-arm-linux-gnueabihf".into(),
            "x86_64" => "g++-x86-64-linux-gnu".into(),
            a => format!("a C++ cross compiler for {a}"),
        }
    }
}

/// One compiler as the cache key sees it: its command line and `--version` output.
pub struct Compiler {
    pub line: String,
    pub version: Vec<u8>,
}

/// `compiler --version`'s output, or why it did not run.
fn version(compiler: &std::path::Path) -> Result<Vec<u8>, String> {
    match Command::new(compiler).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(o.stdout),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// The C compiler for XNNPACK's micro-kernels, when it is not the target's own: on x86, clang.
/// GCC 12 writes slower code for some of these intrinsics kernels (the 5x5 depthwise
/// convolution of MediaPipe's detectors: ~25 % slower than clang 14's; models 5-12 % slower
/// end to end), and Google builds them with clang. The rest of the build, and every other
/// target, keeps the `cc` crate's compiler.
/// - `TFLITE_SYS_KERNEL_CC` names the compiler (an error if it does not run);
/// - else `clang`, when it runs and the build is native (not cross) and not sanitized (the two
///   compilers' sanitizer instrumentation would meet one runtime);
/// - else none: the kernels are compiled as the rest, with a warning saying what it costs.
pub fn kernel_compiler(target: &Target) -> Result<Option<(std::path::PathBuf, Compiler)>, String> {
    if !target.is_x86() {
        return Ok(None);
    }
    let found = |path: std::path::PathBuf, version: Vec<u8>| {
        let line = path.display().to_string();
        Some((path, Compiler { line, version }))
    };
    if let Some(cc) = crate::env::path(crate::env::KERNEL_CC) {
        let v = version(&cc).map_err(|why| {
            format!(
                "{}={}: the compiler did not run ({why})",
                crate::env::KERNEL_CC,
                cc.display()
            )
        })?;
        return Ok(found(cc, v));
    }
    if target.triple != target.host || crate::env::sanitized(&target.triple) {
        return Ok(None);
    }
    let clang = std::path::PathBuf::from("clang");
    match version(&clang) {
        Ok(v) => Ok(found(clang, v)),
        Err(_) => {
            crate::progress(
                "XNNPACK's micro-kernels are compiled with the C compiler, not clang (not found): \
                 depthwise convolutions run up to ~25 % slower; `apt-get install clang` and \
                 rebuild to get the faster ones",
            );
            Ok(None)
        }
    }
}

/// The C and C++ compilers for `target`, each checked to run.
pub fn compilers(target: &Target) -> Result<Vec<Compiler>, String> {
    let mut out = Vec::new();
    for cpp in [false, true] {
        let tool = cc::Build::new()
            .cpp(cpp)
            .opt_level(2)
            .debug(false)
            .try_get_compiler()
            .map_err(|e| e.to_string())?;
        // Path and arguments only: `Command`'s Debug form also lists the whole environment.
        let mut line = tool.path().as_os_str().to_string_lossy().into_owned();
        for a in tool.args() {
            line.push(' ');
            line.push_str(&a.to_string_lossy());
        }
        let version = match version(tool.path()) {
            Ok(v) => v,
            Err(why) => {
                let lang = if cpp { "C++" } else { "C" };
                let var = if cpp { "CXX" } else { "CC" };
                return Err(format!(
                    "no working {lang} compiler for the target {t}: `{p}` did not run ({why}).\n\
                     Install it (Debian/Ubuntu: `apt-get install {pkg}`, as root), or name another \
                     one with {var}_{u}=….\n\
                     Or link a native build made elsewhere: TFLITE_SYS_PREBUILT_DIR (see the \
                     README, \"Reusing a native build\").",
                    t = target.triple,
                    p = tool.path().display(),
                    pkg = target.compiler_package(),
                    u = target.triple.replace('-', "_"),
                ));
            }
        };
        out.push(Compiler { line, version });
    }
    Ok(out)
}
