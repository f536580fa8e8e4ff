//! Per-ISA XNNPACK microkernel lists and the compiler flags each is built with. Which kernels
//! run is decided at run time by cpuinfo, so one binary serves every CPU of the architecture.
//! The tables follow XNNPACK's own CMake build (its per-ISA `COMPILE_FLAGS`).

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

/// 32-bit FP16 arithmetic kernels: `-fno-math-errno` for the `vsqrth_f16` polyfill (sqrtf),
/// `-ffinite-math-only` for the min/max polyfills, as XNNPACK's CMake sets them.
const ARM32_FP16ARITH: &[&str] = &[
    "-march=armv8.2-a+fp16",
    "-mfpu=neon-fp-armv8",
    "-fno-math-errno",
    "-ffinite-math-only",
    "-mfp16-format=ieee",
];

const ARM32_NEONDOTFP16ARITH: &[&str] = &[
    "-march=armv8.2-a+dotprod+fp16",
    "-mfpu=neon-fp-armv8",
    "-fno-math-errno",
    "-ffinite-math-only",
    "-mfp16-format=ieee",
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
            isa("neonfp16", &[], None),
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
            // Hand-written assembly kernels.
            isa("aarch64", &["-march=armv8.2-a+fp16+dotprod"], None),
        ],
        // 32-bit ARM: everything above the baseline (ARMv7-A + VFPv3-D16, the target's default)
        // is picked at run time, NEON included.
        "arm" => vec![
            isa("scalar", &[], None),
            isa(
                "armsimd32",
                &["-march=armv6", "-mfpu=vfp", "-munaligned-access"],
                None,
            ),
            isa("neon", &["-march=armv7-a", "-mfpu=neon"], None),
            isa(
                "neonfp16",
                &["-march=armv7-a", "-mfpu=neon-fp16", "-mfp16-format=ieee"],
                None,
            ),
            isa("neonfma", &["-march=armv7-a", "-mfpu=neon-vfpv4"], None),
            isa("neonv8", &["-march=armv8-a", "-mfpu=neon-fp-armv8"], None),
            isa(
                "fp16arith",
                ARM32_FP16ARITH,
                Some("XNN_ENABLE_ARM_FP16_SCALAR"),
            ),
            isa(
                "neonfp16arith",
                &[
                    "-march=armv8.2-a+fp16",
                    "-mfpu=neon-fp-armv8",
                    "-mfp16-format=ieee",
                ],
                Some("XNN_ENABLE_ARM_FP16_VECTOR"),
            ),
            isa(
                "neondot",
                &["-march=armv8.2-a+dotprod", "-mfpu=neon-fp-armv8"],
                Some("XNN_ENABLE_ARM_DOTPROD"),
            ),
            isa("neondotfp16arith", ARM32_NEONDOTFP16ARITH, None),
            // Hand-written assembly kernels.
            isa(
                "aarch32",
                &["-march=armv8.2-a+dotprod+fp16", "-mfpu=neon-fp-armv8"],
                None,
            ),
        ],
        _ => vec![isa("scalar", &[], None)],
    }
}

/// `XNN_ENABLE_*` macros this build sets to 0: the gates of other architectures' ISAs and the
/// ARM features never compiled here (BF16, SME, SME2; KleidiAI is off too).
pub fn xnnpack_off_defines(isas: &[Isa]) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = ["x86_64", "aarch64", "arm"]
        .iter()
        .flat_map(|a| xnnpack_isas(a))
        .filter_map(|i| i.define)
        .collect();
    all.extend([
        "XNN_ENABLE_ARM_BF16",
        "XNN_ENABLE_ARM_SME",
        "XNN_ENABLE_ARM_SME2",
    ]);
    all.sort_unstable();
    all.dedup();
    all.retain(|d| !isas.iter().any(|i| i.define == Some(*d)));
    all
}
