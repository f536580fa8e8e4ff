//! Deterministic corruption of real models: every damaged model must give an `Err` (or run),
//! never crash or abort the process. Truncations, bit flips, byte overwrites, random bytes.

use tflite::{Interpreter, Model};

fn data(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// splitmix64: repeatable pseudo-random positions and values.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Loads, builds (with and without XNNPACK), allocates, fills and invokes; returns how far it got.
fn exercise(bytes: Vec<u8>) -> &'static str {
    let Ok(model) = Model::from_bytes(bytes) else {
        return "refused";
    };
    let mut stage = "built";
    for xnnpack in [false, true] {
        let b = Interpreter::builder(&model);
        let Ok(mut it) = (if xnnpack {
            b.build()
        } else {
            b.no_delegates().build()
        }) else {
            return "no interpreter";
        };
        if it.allocate_tensors().is_err() {
            stage = "no allocation";
            continue;
        }
        for i in 0..it.input_count() {
            if let Ok(b) = it.input_bytes_mut(i) {
                b.fill(0);
            }
        }
        stage = if it.invoke().is_ok() {
            "ran"
        } else {
            "invoke failed"
        };
    }
    stage
}

fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    [
        "tflite-sys/tests/data/conv_dense.tflite",
        "tflite-sys/tests/data/add_mul.tflite",
        "examples/digits/digits_int8.tflite",
        "tests/models/signatures.tflite",
    ]
    .into_iter()
    .map(|p| (p, data(p)))
    .collect()
}

#[test]
fn truncated_models_are_refused() {
    for (name, good) in corpus() {
        let step = (good.len() / 200).max(1);
        for cut in (0..good.len()).step_by(step) {
            let got = exercise(good[..cut].to_vec());
            assert_eq!(got, "refused", "{name} cut at {cut}");
        }
    }
}

#[test]
fn bit_flips_and_overwrites_never_crash() {
    for (name, good) in corpus() {
        let mut outcomes = std::collections::BTreeMap::new();
        for case in 0..600 {
            *outcomes.entry(exercise(mutate(&good, case))).or_insert(0) += 1;
        }
        eprintln!("{name}: {outcomes:?}");
        assert!(
            outcomes.len() > 1,
            "{name}: the mutations changed nothing: {outcomes:?}"
        );
    }
}

#[test]
fn random_bytes_are_refused() {
    let mut rng = Rng(3);
    for len in [0usize, 1, 4, 8, 16, 64, 1000, 100_000] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert_eq!(exercise(bytes), "refused", "{len} random bytes");
        // Right magic, random body.
        if len >= 8 {
            let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            b[4..8].copy_from_slice(b"TFL3");
            assert_ne!(exercise(b), "ran");
        }
    }
}

/// The mutation that produced case `case` in the crash hunt (`bit flips` for even cases,
/// a 4-byte overwrite for odd ones).
fn mutate(good: &[u8], case: u64) -> Vec<u8> {
    let mut rng = Rng(case * 7919 + 1);
    let mut bad = good.to_vec();
    if case % 2 == 0 {
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bad.len());
            bad[i] ^= 1 << rng.below(8);
        }
    } else {
        let at = rng.below(bad.len() - 4);
        let v = [0u8, 0xff, 0x7f, 0x80][rng.below(4)];
        bad[at..at + 4].fill(v);
    }
    bad
}

/// Each of these once crashed the process; the comment says where and what fixed it. Surviving
/// is the point; the expected outcome pins down how far each gets now.
#[test]
fn former_crashers_are_errors_now() {
    let cases: [(&str, u64, &str); 11] = [
        // XNNPACK's graph fusion called abort(): vendor/patches/xnnpack/0001.
        (
            "tflite-sys/tests/data/conv_dense.tflite",
            15,
            "no interpreter",
        ),
        ("examples/digits/digits_int8.tflite", 1166, "no interpreter"),
        // Output listed as no tensor: null pointer in our layer, now refused at build.
        ("tests/models/signatures.tflite", 1233, "no interpreter"),
        // Partitioning indexed with an output nobody computes: vendor/patches/tensorflow/0002.
        ("tflite-sys/tests/data/add_mul.tflite", 636, "ran"),
        // Missing subgraph vector dereferenced: vendor/patches/tensorflow/0002.
        (
            "tflite-sys/tests/data/add_mul.tflite",
            791,
            "no interpreter",
        ),
        // std::bad_alloc crossing into Rust: the C++ exception guard (tflite-sys/csrc).
        (
            "tflite-sys/tests/data/add_mul.tflite",
            229,
            "no interpreter",
        ),
        // A huge shape: 24 GB touched, killed by the OOM killer; now the memory limit.
        ("tflite-sys/tests/data/add_mul.tflite", 837, "no allocation"),
        // A tensor with byte size usize::MAX zero-filled by our layer; now checked.
        ("tests/models/all_dtypes.tflite", 105, "no allocation"),
        // XNNPACK's graph fusion again (the first pass, without delegates, runs).
        ("tflite-sys/tests/data/conv_dense.tflite", 19, "ran"),
        // RESHAPE and STRIDED_SLICE used missing (-1) inputs: vendor/patches/tensorflow/0003.
        ("tests/models/all_dtypes.tflite", 337, "no interpreter"),
        (
            "examples/digits/digits_float32.tflite",
            2197,
            "no interpreter",
        ),
    ];
    for (path, case, want) in cases {
        assert_eq!(
            exercise(mutate(&data(path), case)),
            want,
            "{path} case {case}"
        );
    }
}
