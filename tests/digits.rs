//! Parity with Google's runtime on the digits models of `examples/digits/` (made by
//! `examples/python/train_digits.py`, which also computed the references with `ai_edge_litert`,
//! one image per invoke, both with its default XNNPACK delegate and on its builtin kernels
//! only). Each run is compared with the reference of the same kernel path: float outputs
//! within 1e-5, int8 outputs bit for bit. (The two int8 paths differ by up to 12 quanta in
//! Google's runtime itself.)
//!
//! On ARM the builtin int8 kernels (TFLite's NEON paths and ruy's NEON GEMM) give, bit for bit,
//! what Google's runtime gives on its XNNPACK path, not its x86 builtin-kernel output: a 1-LSB
//! rounding difference in a logit becomes up to 12 quanta after the int8 SOFTMAX. So there the
//! builtin int8 run is held, still bit for bit, to the XNNPACK-path reference (measured on
//! aarch64 and armv7 under qemu: 0 quanta; 12 against the x86 builtin reference).

use tflite::{Interpreter, Model};

mod common;
use common::Tolerance;

fn dir(name: &str) -> String {
    format!("{}/examples/digits/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn npy<T: npyz::Deserialize>(name: &str) -> (Vec<u64>, Vec<T>) {
    let file = npyz::NpyFile::new(std::fs::File::open(dir(name)).unwrap()).unwrap();
    let shape = file.shape().to_vec();
    (shape, file.into_vec().unwrap())
}

/// Runs every held-out image through `variant` one at a time, with or without XNNPACK, and
/// returns whether XNNPACK ran and the raw outputs (f32 for float models, i8 widened to f32 for
/// int8).
fn run(variant: &str, xnnpack: bool) -> tflite::Result<(bool, Vec<Vec<f32>>)> {
    let model = Model::from_file(dir(&format!("digits_{variant}.tflite")))?;
    let builder = Interpreter::builder(&model);
    let mut it = builder.use_xnnpack(xnnpack).build()?;
    // Keras' Flatten with a dynamic batch becomes SHAPE/STRIDED_SLICE/PACK/RESHAPE; with our
    // PACK patch (tflite-sys/vendor/patches/tensorflow/0001) the graph stays static and XNNPACK takes it.
    assert_eq!(
        it.has_delegate(),
        xnnpack && cfg!(feature = "xnnpack"),
        "{:?}",
        it.delegate_skipped()
    );
    it.allocate_tensors()?;
    let (shape, images) = npy::<f32>("test_images.npy");
    assert_eq!(shape[1..], [8, 8, 1]);
    let input = it.input(0).map(|t| t.info())?;
    let mut outs = Vec::new();
    for image in images.chunks_exact(64) {
        match input.quantization.per_tensor() {
            Some(q) if input.dtype == tflite::DataType::Int8 => {
                let xs: Vec<i8> = q.quantize_slice(image);
                it.input_mut(0).and_then(|mut t| t.copy_from_slice(&xs))?;
                it.invoke()?;
                outs.push(
                    it.output(0)
                        .and_then(|t| t.data::<i8>())?
                        .iter()
                        .map(|v| *v as f32)
                        .collect(),
                );
            }
            _ => {
                it.input_mut(0).and_then(|mut t| t.copy_from_slice(image))?;
                it.invoke()?;
                outs.push(it.output(0).and_then(|t| t.data::<f32>())?.to_vec());
            }
        }
    }
    Ok((it.has_delegate(), outs))
}

fn reference(variant: &str, xnnpack: bool) -> Vec<Vec<f32>> {
    let name = format!(
        "reference_{variant}{}.npy",
        if xnnpack { "" } else { "_builtin" }
    );
    if variant == "int8" {
        let (shape, v) = npy::<i8>(&name);
        v.chunks_exact(shape[1] as usize)
            .map(|c| c.iter().map(|x| *x as f32).collect())
            .collect()
    } else {
        let (shape, v) = npy::<f32>(&name);
        v.chunks_exact(shape[1] as usize)
            .map(|c| c.to_vec())
            .collect()
    }
}

/// Which of Google's two references a run is held to: its own kernel path's, except the
/// builtin int8 kernels on ARM (see the top of this file).
fn reference_path(variant: &str, delegated: bool) -> bool {
    delegated || (variant == "int8" && cfg!(any(target_arch = "aarch64", target_arch = "arm")))
}

fn check(variant: &str, tolerance: Tolerance) {
    let (_, labels) = npy::<i64>("test_labels.npy");
    for xnnpack in [true, false] {
        let (delegated, got) = run(variant, xnnpack).unwrap();
        let want = reference(variant, reference_path(variant, delegated));
        let (got_flat, want_flat) = (got.concat(), want.concat());
        assert_eq!(got.len(), want.len(), "{variant}: images");
        let what = format!("{variant} xnnpack={delegated}");
        let r = common::assert_close(&what, &got_flat, &want_flat, tolerance);
        eprintln!("{what}: max |diff| {:.2e}", r.max_diff);
        let argmax = |v: &[f32]| {
            v.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |p| p.0)
        };
        let correct = got
            .iter()
            .zip(&labels)
            .filter(|(g, l)| argmax(g) as i64 == **l)
            .count();
        let python = want
            .iter()
            .zip(&labels)
            .filter(|(w, l)| argmax(w) as i64 == **l)
            .count();
        assert_eq!(
            correct, python,
            "{variant} xnnpack={delegated}: accuracy differs from Python's"
        );
    }
}

#[test]
fn float32_matches_google_runtime() {
    check("float32", Tolerance::Absolute(1e-5));
}

#[test]
fn float16_weights_match_google_runtime() {
    check("float16", Tolerance::Absolute(1e-5));
}

#[test]
fn int8_matches_google_runtime_bit_for_bit() {
    check("int8", Tolerance::Exact);
}

#[test]
fn dynamic_range_matches_google_runtime() {
    // TF 2.21's converter writes FULLY_CONNECTED version 12 (per-channel dynamic-range
    // weights), which TFLite 2.14.1 did not have: tflite-sys/vendor/patches/tensorflow/0011 backports it.
    // The hybrid kernel quantizes each input row on the fly and sums int8 products; its float
    // rescaling order differs between builds (SIMD width), so 1e-4 here, not 1e-5.
    check("dynamic_range", Tolerance::Absolute(1e-4));
}
