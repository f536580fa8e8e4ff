//! Per-ISA XNNPACK microkernel lists and the compiler flags each is built with. Which kernels
//! run is decided at run time by cpuinfo, so one binary serves every CPU of the architecture.
//! x86_64 is built and tested; the aarch64 table follows XNNPACK's CMake and is untried.

pub struct Isa {
    /// The section name in vendor/lists/xnnpack-microkernels.txt.
    pub name: &'static str,
    pub flags: &'static [&'static str],
    /// The `XNN_ENABLE_*` macro that gates this ISA in XNNPACK's configs, if any.
    pub define: Option<&'static str>,
}

const fn isa(
    name: &'static str,
    flags: &'static [&'static str],
    define: Option<&'static str>,
) -> Isa {
    Isa {
        name,
        flags,
        define,
    }
}

const SKX: &[&str] = &[
    "-mf16c",
    "-mfma",
    "-mavx512f",
    "-mavx512cd",
    "-mavx512bw",
    "-mavx512dq",
    "-mavx512vl",
];

pub fn xnnpack_isas(arch: &str) -> Vec<Isa> {
    match arch {
        "x86_64" | "x86" => vec![
            isa("scalar", &[], None),
            isa("sse", &["-msse", "-mno-sse2"], None),
            isa("sse2", &["-msse2", "-mno-sse3"], None),
            isa("ssse3", &["-mssse3", "-mno-sse4.1"], None),
            isa("sse41", &["-msse4.1", "-mno-sse4.2"], None),
            isa(
                "avx",
                &["-mavx", "-mno-avx2", "-mno-fma", "-mno-f16c"],
                None,
            ),
            isa("f16c", &["-mf16c", "-mno-avx2", "-mno-fma"], None),
            isa("fma3", &["-mf16c", "-mfma", "-mno-avx2"], None),
            isa("avx2", &["-mf16c", "-mfma", "-mavx2"], None),
            isa(
                "avxvnni",
                &["-mf16c", "-mfma", "-mavx2", "-mavxvnni"],
                Some("XNN_ENABLE_AVXVNNI"),
            ),
            isa(
                "avxvnniint8",
                &["-mf16c", "-mfma", "-mavx2", "-mavxvnniint8"],
                Some("XNN_ENABLE_AVXVNNIINT8"),
            ),
            isa("avx256skx", SKX, Some("XNN_ENABLE_AVX256SKX")),
            isa(
                "avx256vnni",
                &[
                    "-mf16c",
                    "-mfma",
                    "-mavx512f",
                    "-mavx512cd",
                    "-mavx512bw",
                    "-mavx512dq",
                    "-mavx512vl",
                    "-mavx512vnni",
                ],
                Some("XNN_ENABLE_AVX256VNNI"),
            ),
            isa(
                "avx256vnnigfni",
                &[
                    "-mf16c",
                    "-mfma",
                    "-mavx512f",
                    "-mavx512cd",
                    "-mavx512bw",
                    "-mavx512dq",
                    "-mavx512vl",
                    "-mavx512vnni",
                    "-mgfni",
                ],
                Some("XNN_ENABLE_AVX256VNNIGFNI"),
            ),
            isa("avx512f", &["-mavx512f"], Some("XNN_ENABLE_AVX512F")),
            isa("avx512skx", SKX, Some("XNN_ENABLE_AVX512SKX")),
            isa(
                "avx512vbmi",
                &[
                    "-mf16c",
                    "-mfma",
                    "-mavx512f",
                    "-mavx512cd",
                    "-mavx512bw",
                    "-mavx512dq",
                    "-mavx512vl",
                    "-mavx512vbmi",
                ],
                Some("XNN_ENABLE_AVX512VBMI"),
            ),
            isa(
                "avx512vnni",
                &[
                    "-mf16c",
                    "-mfma",
                    "-mavx512f",
                    "-mavx512cd",
                    "-mavx512bw",
                    "-mavx512dq",
                    "-mavx512vl",
                    "-mavx512vnni",
                ],
                Some("XNN_ENABLE_AVX512VNNI"),
            ),
            isa(
                "avx512vnnigfni",
                &[
                    "-mf16c",
                    "-mfma",
                    "-mavx512f",
                    "-mavx512cd",
                    "-mavx512bw",
                    "-mavx512dq",
                    "-mavx512vl",
                    "-mavx512vnni",
                    "-mgfni",
                ],
                Some("XNN_ENABLE_AVX512VNNIGFNI"),
            ),
            isa(
                "avx512fp16",
                &[
                    "-mf16c",
                    "-mfma",
                    "-mavx512f",
                    "-mavx512cd",
                    "-mavx512bw",
                    "-mavx512dq",
                    "-mavx512vl",
                    "-mavx512vnni",
                    "-mgfni",
                    "-mavx512fp16",
                ],
                Some("XNN_ENABLE_AVX512FP16"),
            ),
            isa(
                "avx512amx",
                &[
                    "-mf16c",
                    "-mfma",
                    "-mavx512f",
                    "-mavx512cd",
                    "-mavx512bw",
                    "-mavx512dq",
                    "-mavx512vl",
                    "-mavx512vnni",
                    "-mgfni",
                    "-mamx-tile",
                    "-mamx-int8",
                ],
                Some("XNN_ENABLE_AVX512AMX"),
            ),
        ],
        "aarch64" => vec![
            isa("scalar", &[], None),
            isa("neon", &[], None),
            isa("neonfma", &[], None),
            isa("neonv8", &[], None),
            isa("neon_aarch64", &[], None),
            isa("neonfma_aarch64", &[], None),
            isa(
                "fp16arith",
                &["-march=armv8.2-a+fp16"],
                Some("XNN_ENABLE_ARM_FP16_SCALAR"),
            ),
            isa(
                "neonfp16arith",
                &["-march=armv8.2-a+fp16"],
                Some("XNN_ENABLE_ARM_FP16_VECTOR"),
            ),
            isa("neonfp16arith_aarch64", &["-march=armv8.2-a+fp16"], None),
            isa(
                "neondot",
                &["-march=armv8.2-a+dotprod"],
                Some("XNN_ENABLE_ARM_DOTPROD"),
            ),
            isa("neondot_aarch64", &["-march=armv8.2-a+dotprod"], None),
            isa("neondotfp16arith", &["-march=armv8.2-a+dotprod+fp16"], None),
            isa(
                "neoni8mm",
                &["-march=armv8.2-a+i8mm+fp16"],
                Some("XNN_ENABLE_ARM_I8MM"),
            ),
            isa("aarch64", &["-march=armv8.2-a+fp16+dotprod"], None),
        ],
        _ => vec![isa("scalar", &[], None)],
    }
}

/// `XNN_ENABLE_*` macros for features this build never compiles on `arch`.
pub fn xnnpack_off_defines(arch: &str) -> Vec<&'static str> {
    let mut off = vec![
        "XNN_ENABLE_ARM_BF16",
        "XNN_ENABLE_ARM_SME",
        "XNN_ENABLE_ARM_SME2",
    ];
    if arch != "aarch64" {
        off.extend([
            "XNN_ENABLE_ARM_FP16_SCALAR",
            "XNN_ENABLE_ARM_FP16_VECTOR",
            "XNN_ENABLE_ARM_DOTPROD",
            "XNN_ENABLE_ARM_I8MM",
        ]);
    }
    off
}
