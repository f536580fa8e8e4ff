//! Compiling the unpacked sources with `cc`: one function per native component, each
//! returning its object files; `main` archives them all into one `libtensorflowlite.a`.

use crate::target::Target;
use std::path::{Path, PathBuf};

/// Where each unpacked component lives.
pub struct Tree {
    pub root: PathBuf,
}

impl Tree {
    pub fn dir(&self, component: &str) -> PathBuf {
        self.root.join(component)
    }
    /// Headers of the ruy binary package.
    pub fn ruy_include(&self) -> PathBuf {
        self.dir("ruy").join("usr/include")
    }
}

/// How many builtin kernels share one translation unit (see `Ctx::tflite`).
const UNITY_CHUNK: usize = 12;

/// Reads a source list from vendor/lists: one path a line, `#` comments, `[section]` headers.
pub fn read_list(path: &Path) -> Result<Vec<(String, Vec<String>)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut out: Vec<(String, Vec<String>)> = vec![(String::new(), Vec::new())];
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((s.to_string(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(line.to_string());
        }
    }
    out.retain(|(_, files)| !files.is_empty());
    Ok(out)
}

fn flat_list(path: &Path) -> Result<Vec<String>, String> {
    Ok(read_list(path)?.into_iter().flat_map(|(_, f)| f).collect())
}

/// The settings every native file shares: always optimised, never debug-info heavy, PIC.
pub fn base(cpp: bool) -> cc::Build {
    let mut b = cc::Build::new();
    b.cargo_metadata(false)
        .cpp(cpp)
        .opt_level(2)
        .debug(false)
        .pic(true)
        .warnings(false)
        .extra_warnings(false)
        // Signed integer overflow wraps, as TensorFlow's integer arithmetic is defined to: a
        // model's own int32 values (ADD, SUB, MUL, reductions) may overflow, which C and C++
        // leave undefined (GCC's UBSan trapped on such a model). One rule for all native code
        // instead of wrapping arithmetic spelled out kernel by kernel.
        .flag("-fwrapv")
        .define("NDEBUG", None);
    if cpp {
        b.std("c++17");
    } else {
        b.std("gnu11");
    }
    b
}

pub struct Ctx<'a> {
    pub tree: &'a Tree,
    pub target: &'a Target,
    pub lists: PathBuf,
    pub xnnpack: bool,
    /// The C compiler for XNNPACK's micro-kernels when not the target's own (`target::
    /// kernel_compiler`); an ISA whose flags it refuses falls back to the target's compiler.
    pub kernel_cc: Option<&'a Path>,
    /// Where the object files go (deleted once archived).
    pub obj_dir: PathBuf,
}

impl Ctx<'_> {
    fn compile(&self, b: &mut cc::Build, what: &str) -> Result<Vec<PathBuf>, String> {
        crate::progress(&format!("compiling {what}"));
        // `__FILE__` (in TFLite's kernel error messages) relative to the source tree
        // ("tensorflow/tensorflow/lite/kernels/pad.cc"), not this machine's build folder.
        b.flag(format!("-ffile-prefix-map={}/=", self.tree.root.display()));
        b.out_dir(&self.obj_dir);
        b.try_compile_intermediates()
            .map_err(|e| format!("compiling {what} failed: {e}"))
    }

    fn d(&self, c: &str) -> PathBuf {
        self.tree.dir(c)
    }

    /// Include folders for TFLite and everything that includes its headers.
    fn tflite_includes(&self, b: &mut cc::Build) {
        b.include(self.d("tensorflow"))
            .include(self.d("flatbuffers").join("include"))
            .include(self.d("abseil"))
            .include(self.d("eigen"))
            .include(self.d("gemmlowp"))
            .include(self.d("farmhash").join("src"))
            .include(self.d("fp16").join("include"))
            .include(self.d("pthreadpool").join("include"))
            .include(self.d("cpuinfo").join("include"))
            .include(self.d("xnnpack").join("include"))
            .include(self.tree.ruy_include());
        if self.target.is_x86() {
            b.include(self.d("neon2sse"));
        }
    }

    pub fn tflite(&self) -> Result<Vec<PathBuf>, String> {
        let mut b = base(true);
        self.tflite_includes(&mut b);
        b.define("TFL_STATIC_LIBRARY_BUILD", None)
            .define("EIGEN_MPL2_ONLY", None)
            .define("EIGEN_NEON_GEBP_NR", "4")
            // TfLiteXNNPackDelegateOptionsDefault() turns on XNNPACK's int8 (QS8) and uint8
            // (QU8) paths, as Google's own builds do.
            .define("XNNPACK_DELEGATE_ENABLE_QS8", None)
            .define("XNNPACK_DELEGATE_ENABLE_QU8", None)
            // The builtin kernels keep constant weights packed by ruy across invokes (TFLite
            // repacked them on every invoke: 25% of the int8 digits model's time, in its
            // per-channel FULLY_CONNECTED that 2.14's XNNPACK does not take).
            .define("TFLITE_WITH_RUY_GEMV", None)
            // One thread pool for the builtin kernels (ruy's), as on Google's ARM builds. The
            // x86 default kept three - ruy's for GEMMs, gemmlowp's for softmax and friends,
            // Eigen's for convolutions - whose workers spun against each other on 2 cores:
            // 2 threads were slower than 1 (transformer block 1.09 -> 1.23 ms).
            .define("TFLITE_WITH_RUY", None);
        if let Some(level) = self.target.x86_64_level {
            b.flag(format!("-march={level}"));
        }
        // On armv7 the builtin kernels keep the target's baseline (cc's `-mfpu=vfpv3-d16`, no
        // NEON): Debian's armhf ruy is built that way, and TFLite instantiates ruy's templates,
        // whose NEON paths would call kernels that archive does not have. XNNPACK picks its
        // NEON kernels at run time.
        let root = self.d("tensorflow");
        let mut unity = Vec::new();
        let mut separate = Vec::new();
        for (section, files) in read_list(&self.lists.join("tflite.txt"))? {
            match section.as_str() {
                "unity" => unity.extend(files),
                "separate" => separate.extend(files),
                s => return Err(format!("vendor/lists/tflite.txt: unknown section [{s}]")),
            }
        }
        if self.xnnpack {
            separate.extend(flat_list(&self.lists.join("tflite-xnnpack-delegate.txt"))?);
        }
        // The builtin kernels, UNITY_CHUNK to a translation unit: their common headers
        // (optimized_ops.h, Eigen, ruy, gemmlowp) are most of each one's compile time. The
        // chunks go first, so the two cores are not left with one long file at the end.
        let dir = self.obj_dir.join("unity");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for (k, chunk) in unity.chunks(UNITY_CHUNK).enumerate() {
            let text: String = chunk
                .iter()
                .map(|f| format!("#include \"{}\"\n", root.join(f).display()))
                .collect();
            let tu = dir.join(format!("tflite_kernels_{k}.cc"));
            std::fs::write(&tu, text).map_err(|e| format!("cannot write {}: {e}", tu.display()))?;
            b.file(tu);
        }
        b.files(separate.iter().map(|f| root.join(f)));
        self.compile(
            &mut b,
            &format!(
                "TensorFlow Lite 2.14.1 ({} files: {} kernels in {} translation units, {} alone)",
                unity.len() + separate.len(),
                unity.len(),
                unity.len().div_ceil(UNITY_CHUNK),
                separate.len()
            ),
        )
    }

    pub fn abseil(&self) -> Result<Vec<PathBuf>, String> {
        let mut b = base(true);
        b.include(self.d("abseil"));
        let files = flat_list(&self.lists.join("abseil.txt"))?;
        b.files(files.iter().map(|f| self.d("abseil").join(f)));
        self.compile(&mut b, &format!("abseil ({} files)", files.len()))
    }

    pub fn flatbuffers(&self) -> Result<Vec<PathBuf>, String> {
        let mut b = base(true);
        b.include(self.d("flatbuffers").join("include"))
            .file(self.d("flatbuffers").join("src/util.cpp"));
        self.compile(&mut b, "flatbuffers runtime")
    }

    pub fn farmhash(&self) -> Result<Vec<PathBuf>, String> {
        let mut b = base(true);
        b.include(self.d("farmhash").join("src"))
            .file(self.d("farmhash").join("src/farmhash.cc"));
        self.compile(&mut b, "farmhash")
    }

    pub fn fft2d(&self) -> Result<Vec<PathBuf>, String> {
        let mut b = base(false);
        b.files(
            ["fftsg.c", "fftsg2d.c"]
                .iter()
                .map(|f| self.d("fft2d").join(f)),
        );
        self.compile(&mut b, "fft2d")
    }

    pub fn pthreadpool(&self) -> Result<Vec<PathBuf>, String> {
        let mut b = base(false);
        let d = self.d("pthreadpool");
        b.include(d.join("include"))
            .include(d.join("src"))
            .include(self.d("fxdiv").join("include"))
            .define("PTHREADPOOL_USE_CPUINFO", "0")
            .define("PTHREADPOOL_USE_FUTEX", "1")
            .files(
                ["legacy-api.c", "memory.c", "portable-api.c", "pthreads.c"]
                    .iter()
                    .map(|f| d.join("src").join(f)),
            );
        if self.target.is_x86() {
            b.file(d.join("src/fastpath.c"))
                .define("PTHREADPOOL_USE_FASTPATH", "1");
        }
        self.compile(&mut b, "pthreadpool")
    }

    pub fn cpuinfo(&self) -> Result<Vec<PathBuf>, String> {
        let mut b = base(false);
        let d = self.d("cpuinfo");
        b.include(d.join("include"))
            .include(d.join("src"))
            .define("CPUINFO_LOG_LEVEL", "2")
            .define("_GNU_SOURCE", None);
        if self.target.is_arm32() {
            // As cpuinfo's CMake build (aarch32-isa.c reads a coprocessor register).
            b.flag("-marm");
        }
        let mut files = vec!["init.c", "api.c", "cache.c", "log.c"];
        if self.target.is_linux() {
            files.extend([
                "linux/cpulist.c",
                "linux/multiline.c",
                "linux/processors.c",
                "linux/smallfile.c",
            ]);
        }
        match self.target.arch.as_str() {
            "x86_64" | "x86" => {
                files.extend([
                    "x86/init.c",
                    "x86/info.c",
                    "x86/vendor.c",
                    "x86/uarch.c",
                    "x86/name.c",
                    "x86/topology.c",
                    "x86/isa.c",
                    "x86/cache/init.c",
                    "x86/cache/descriptor.c",
                    "x86/cache/deterministic.c",
                ]);
                if self.target.is_linux() {
                    files.extend(["x86/linux/init.c", "x86/linux/cpuinfo.c"]);
                }
            }
            "aarch64" | "arm" => {
                files.extend(["arm/uarch.c", "arm/cache.c"]);
                if self.target.is_linux() {
                    files.extend([
                        "arm/linux/init.c",
                        "arm/linux/cpuinfo.c",
                        "arm/linux/clusters.c",
                        "arm/linux/chipset.c",
                        "arm/linux/midr.c",
                        "arm/linux/hwcap.c",
                    ]);
                    files.push(if self.target.arch == "aarch64" {
                        "arm/linux/aarch64-isa.c"
                    } else {
                        "arm/linux/aarch32-isa.c"
                    });
                }
            }
            a => {
                return Err(format!(
                    "cpuinfo: target architecture `{a}` is not supported by this build"
                ))
            }
        }
        b.files(files.iter().map(|f| d.join("src").join(f)));
        self.compile(&mut b, "cpuinfo")
    }

    /// The ruy objects from Debian's build of ruy (`libruy-dev`), unpacked from its archives so
    /// that they live in our one archive beside cpuinfo, which they call.
    pub fn ruy(&self, work: &Path) -> Result<Vec<PathBuf>, String> {
        let libdir = std::fs::read_dir(self.d("ruy").join("usr/lib"))
            .map_err(|e| format!("ruy package has no usr/lib: {e}"))?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.is_dir())
            .ok_or("ruy package has no usr/lib/<triplet>")?;
        let mut objs = Vec::new();
        let mut archives: Vec<PathBuf> = std::fs::read_dir(&libdir)
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "a"))
            .collect();
        archives.sort();
        for a in archives {
            let stem = a
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let dir = work.join("ruy-objs").join(&stem);
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let st = std::process::Command::new("ar")
                .arg("x")
                .arg(&a)
                .current_dir(&dir)
                .status()
                .map_err(|e| format!("cannot run ar: {e}"))?;
            if !st.success() {
                return Err(format!("ar x {} failed", a.display()));
            }
            let mut these: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.path())
                .collect();
            these.sort();
            // Member names repeat across archives; make them unique for the final archive.
            for o in these {
                let renamed = dir.join(format!(
                    "{stem}-{}",
                    o.file_name().unwrap_or_default().to_string_lossy()
                ));
                std::fs::rename(&o, &renamed).map_err(|e| e.to_string())?;
                objs.push(renamed);
            }
        }
        Ok(objs)
    }

    /// Flags every XNNPACK microkernel gets on this architecture, as XNNPACK's CMake sets them
    /// on ARM: ARM (not Thumb) state on 32-bit, no errno for math calls (the FP16 polyfills).
    fn microkernel_flags(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        if self.target.is_arm32() {
            f.push("-marm");
        }
        if !self.target.is_x86() {
            f.push("-fno-math-errno");
        }
        f
    }

    /// Whether the C compiler takes an ISA's `flags` together with the microkernel flags, by
    /// compiling an empty file (`cc`'s probe tries one flag at a time, and `-march=armv6`
    /// alone fails in Debian's Thumb-default armhf compiler).
    fn accepts(&self, compiler: Option<&Path>, flags: &[&str]) -> bool {
        let mut b = base(false);
        if let Some(c) = compiler {
            b.compiler(c);
        }
        let Ok(tool) = b.try_get_compiler() else {
            return false;
        };
        let obj = self.obj_dir.join("isa-probe.o");
        let _ = std::fs::create_dir_all(&self.obj_dir);
        tool.to_command()
            .args(self.microkernel_flags())
            .args(flags)
            .args(["-x", "c", "-c", "-", "-o"])
            .arg(&obj)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    pub fn xnnpack(&self, out_dir: &Path) -> Result<Vec<PathBuf>, String> {
        let d = self.d("xnnpack");
        let isas = crate::isa::xnnpack_isas(&self.target.arch);
        let kernels = read_list(&self.lists.join("xnnpack-microkernels.txt"))?;
        // Each enabled ISA with the compiler its kernels get.
        let mut enabled = Vec::new();
        for isa in &isas {
            let by_kernel_cc = self.kernel_cc.filter(|&c| self.accepts(Some(c), isa.flags));
            if by_kernel_cc.is_some() || self.accepts(None, isa.flags) {
                enabled.push((isa, by_kernel_cc));
            } else {
                crate::progress(&format!(
                    "XNNPACK: no C compiler here takes {:?}; {} kernels left out",
                    isa.flags, isa.name
                ));
            }
        }
        let defines = |b: &mut cc::Build| {
            b.include(d.join("include"))
                .include(d.join("src"))
                .include(self.d("pthreadpool").join("include"))
                .include(self.d("fxdiv").join("include"))
                .include(self.d("fp16").join("include"))
                .include(self.d("cpuinfo").join("include"))
                .define("XNN_LOG_LEVEL", "0")
                .define("XNN_ENABLE_CPUINFO", "1")
                .define("XNN_ENABLE_ASSEMBLY", "1")
                .define("XNN_ENABLE_MEMOPT", "1")
                .define("XNN_ENABLE_SPARSE", "1")
                .define("XNN_ENABLE_GEMM_M_SPECIALIZATION", "1")
                .define("XNN_ENABLE_DWCONV_MULTIPASS", "0")
                .define("XNN_ENABLE_KLEIDIAI", "0")
                .define("XNN_ENABLE_HVX", "0")
                .define("XNN_ENABLE_VSX", "0")
                .define("XNN_ENABLE_RISCV_VECTOR", "0")
                .define("XNN_ENABLE_RISCV_FP16_VECTOR", "0");
            for isa in &isas {
                if let Some(def) = isa.define {
                    let on = enabled.iter().any(|(e, _)| e.name == isa.name);
                    b.define(def, if on { "1" } else { "0" });
                }
            }
            for def in crate::isa::xnnpack_off_defines(&isas) {
                b.define(def, "0");
            }
        };

        let mut objs = Vec::new();
        // The library: operators, subgraph, configs (C), packing/reference (C++).
        let lib = flat_list(&self.lists.join("xnnpack.txt"))?;
        let ident = out_dir.join("xnnpack_build_identifier.c");
        std::fs::write(&ident, build_identifier(&lib)).map_err(|e| e.to_string())?;
        let (cfiles, ccfiles): (Vec<_>, Vec<_>) = lib.iter().partition(|f| f.ends_with(".c"));
        let mut b = base(false);
        defines(&mut b);
        b.files(cfiles.iter().map(|f| d.join(f))).file(&ident);
        objs.extend(self.compile(
            &mut b,
            &format!("XNNPACK library ({} files)", cfiles.len() + 1),
        )?);
        let mut b = base(true);
        defines(&mut b);
        b.files(ccfiles.iter().map(|f| d.join(f)));
        objs.extend(self.compile(&mut b, "XNNPACK reference kernels (C++)")?);

        // Production microkernels, each ISA with its own flags; chosen at run time by cpuinfo.
        for (isa, compiler) in &enabled {
            let Some((_, files)) = kernels.iter().find(|(name, _)| name == isa.name) else {
                continue;
            };
            let mut b = base(false);
            if let Some(c) = compiler {
                b.compiler(c);
            }
            defines(&mut b);
            for f in self.microkernel_flags() {
                b.flag(f);
            }
            for f in isa.flags {
                b.flag(f);
            }
            b.files(files.iter().map(|f| d.join(f)));
            let by = compiler.map_or(String::new(), |c| format!(" with {}", c.display()));
            objs.extend(self.compile(
                &mut b,
                &format!(
                    "XNNPACK {} microkernels ({} files){by}",
                    isa.name,
                    files.len()
                ),
            )?);
        }
        Ok(objs)
    }
}

/// XNNPACK's build fingerprint (what its own generator writes): a hash of its source list.
fn build_identifier(files: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for f in files {
        h.update(f.as_bytes());
        h.update(b"\n");
    }
    let bytes: Vec<String> = h.finalize().iter().map(|b| format!("0x{b:02x}")).collect();
    format!(
        "#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\
         static const uint8_t xnn_build_identifier[] = {{{}}};\n\
         size_t xnn_experimental_get_build_identifier_size(void) {{ return sizeof(xnn_build_identifier); }}\n\
         const void* xnn_experimental_get_build_identifier_data(void) {{ return xnn_build_identifier; }}\n\
         bool xnn_experimental_check_build_identifier(const void* data, const size_t size) {{\n\
           return size == sizeof(xnn_build_identifier) && !memcmp(data, xnn_build_identifier, size);\n}}\n",
        bytes.join(",")
    )
}
