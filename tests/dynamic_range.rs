//! Dynamic-range models — float activations, int8 weights: what the converter makes with
//! `Optimize.DEFAULT` and no representative dataset — on XNNPACK. Their FULLY_CONNECTED, CONV_2D
//! and BATCH_MATMUL nodes run on XNNPACK's dynamically quantized operators (`tensorflow/0071`),
//! as in Google's current runtime, unless `XnnpackOptions::dynamic_range(false)` keeps them on
//! TFLite's builtin hybrid kernels (DEPTHWISE_CONV_2D stays there: XNNPACK has no such operator,
//! and Google's runtime keeps it there too). The models and Google's outputs are made by
//! `tests/models/make_models.py`.
#![cfg(feature = "xnnpack")]

use tflite::{Interpreter, Model, XnnpackOptions};

mod common;
use common::{assert_close, model_f32s, Tolerance};

fn path(name: &str) -> String {
    format!("{}/tests/models/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The operators left on TFLite's own kernels when `file` is built with XNNPACK, dynamic-range
/// on or off.
fn undelegated(file: &str, dynamic_range: bool) -> Vec<String> {
    let model = Model::from_file(file).unwrap();
    let it = Interpreter::builder(&model)
        .xnnpack(XnnpackOptions::default().dynamic_range(dynamic_range))
        .profiling(true)
        .build()
        .unwrap();
    assert!(it.has_delegate(), "{file}: {:?}", it.delegate_skipped());
    it.execution_plan()
        .unwrap()
        .into_iter()
        .filter(|n| !n.delegated)
        .map(|n| n.op)
        .collect()
}

/// Runs `name`.tflite on the committed input with XNNPACK (dynamic-range on or off) or on the
/// builtin kernels only.
fn run(name: &str, xnnpack: Option<bool>) -> Vec<f32> {
    let model = Model::from_file(path(&format!("{name}.tflite"))).unwrap();
    let builder = Interpreter::builder(&model);
    let mut it = match xnnpack {
        Some(on) => builder.xnnpack(XnnpackOptions::default().dynamic_range(on)),
        None => builder.use_xnnpack(false),
    }
    .build()
    .unwrap();
    it.allocate_tensors().unwrap();
    // The per-tensor model shares the block's input.
    let x = model_f32s(&format!("{}.in.f32", name.replace("_per_tensor", "_block")));
    it.input_mut(0).unwrap().copy_from_slice(&x).unwrap();
    it.invoke().unwrap();
    it.output(0).unwrap().to_vec::<f32>().unwrap()
}

const MODELS: [&str; 4] = [
    "dynamic_range_block",
    "dynamic_range_per_tensor",
    "dynamic_range_conv",
    "dynamic_range_bmm",
];

#[test]
fn hybrid_nodes_run_on_xnnpack_unless_turned_off() {
    let digits = format!(
        "{}/examples/digits/digits_dynamic_range.tflite",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut files = vec![digits, path("dynamic_range.tflite")];
    files.extend(MODELS.map(|m| path(&format!("{m}.tflite"))));
    let hybrid = |op: &String| op == "FULLY_CONNECTED" || op == "CONV_2D" || op == "BATCH_MATMUL";
    for file in files {
        let on = undelegated(&file, true);
        assert!(!on.iter().any(hybrid), "{file}: {on:?}");
        let off = undelegated(&file, false);
        assert!(off.iter().any(hybrid), "{file}: {off:?}");
    }
}

/// Per-channel (FULLY_CONNECTED version 12) and per-tensor weights, a rank-3 input, a batch of
/// 2 flattened rows, two CONV_2D layers on a batch of 2 images, and three BATCH_MATMUL nodes
/// (plain, transposed weights, weights broadcast over the batch), against Google's runtime on
/// its XNNPACK path, and on the builtin kernels with the option off and without XNNPACK.
///
/// Tolerance: every path quantizes each input row to int8 with its own scale and zero point at
/// run time (XNNPACK's operator by design; the builtin kernel because the converter sets
/// `asymmetric_quantize_inputs`) and sums exact int32 products, so what may differ is only the
/// float work around that — the row's scale, the rescaling of the sums, GELU — computed with
/// other SIMD code in Google's newer build: 1e-5 of the outputs' largest magnitude.
#[test]
fn outputs_match_google_runtime() {
    for name in MODELS {
        let want = model_f32s(&format!("{name}.xnnpack.out.f32"));
        let builtin = model_f32s(&format!("{name}.builtin.out.f32"));
        for (path, got, want) in [
            ("xnnpack", run(name, Some(true)), &want),
            ("option off", run(name, Some(false)), &builtin),
            ("builtin", run(name, None), &builtin),
        ] {
            assert!(got.iter().any(|&v| v != 0.0), "{name} {path}: all zero");
            let what = format!("{name} {path}");
            let r = assert_close(&what, &got, want, Tolerance::Relative(1e-5));
            eprintln!("{what}: relative max |diff| {:.2e}", r.relative());
        }
    }
}

/// After `resize_input` TFLite undoes the delegates and applies them again when tensors are
/// allocated. The gelu model's hybrid FULLY_CONNECTED is on XNNPACK at [1, 32]; at [2, 16] (the
/// same single row of 32 to TFLite's kernel) XNNPACK wants the last dimension to be the input
/// depth and gives the node back to its builtin kernel, which must have its temporaries again
/// (`tensorflow/0072`: it wrote through a null pointer). At [1, 33] the input is not a whole
/// number of rows: an error (`tensorflow/0073`), not a dropped value.
#[test]
fn a_node_the_partition_gives_back_after_a_resize_runs_on_its_kernel() {
    let file = format!(
        "{}/tests/compat/gelu.dynamic_range.tflite",
        env!("CARGO_MANIFEST_DIR")
    );
    let model = Model::from_file(&file).unwrap();
    let x: Vec<f32> = (0..32).map(|i| (i as f32 - 15.5) / 8.0).collect();
    let mut runs = vec![];
    for xnnpack in [true, false] {
        let mut it = Interpreter::builder(&model)
            .profiling(true)
            .use_xnnpack(xnnpack)
            .build()
            .unwrap();
        // Whether the FULLY_CONNECTED node runs on its builtin kernel (a delegated one is
        // inside a delegate kernel's partition).
        let fc_on_builtin = |it: &Interpreter| {
            it.execution_plan()
                .unwrap()
                .iter()
                .any(|n| n.op == "FULLY_CONNECTED" && !n.delegated)
        };
        it.allocate_tensors().unwrap();
        assert_eq!(fc_on_builtin(&it), !xnnpack);
        it.input_mut(0).unwrap().copy_from_slice(&x).unwrap();
        it.invoke().unwrap();
        let before = it.output(0).unwrap().to_vec::<f32>().unwrap();

        it.resize_input(0, &[2, 16]).unwrap();
        it.allocate_tensors().unwrap();
        assert!(fc_on_builtin(&it));
        it.input_mut(0).unwrap().copy_from_slice(&x).unwrap();
        it.invoke().unwrap();
        let after = it.output(0).unwrap().to_vec::<f32>().unwrap();
        assert_eq!(after.len(), 32);
        runs.push((before, after));

        it.resize_input(0, &[1, 33]).unwrap();
        let err = it.allocate_tensors().unwrap_err().to_string();
        assert!(err.contains("not a whole number of rows of 32"), "{err}");
    }
    // The same row everywhere. After the resize the FULLY_CONNECTED runs on the builtin kernel
    // in both interpreters (GELU may still be on XNNPACK): the builtin run's outputs, within
    // the tolerance of outputs_match_google_runtime. Before it, XNNPACK's operator quantized
    // the row with its own scale and zero point: Google's runtime differs between its XNNPACK
    // and builtin paths by the same 4.9e-3 on this input (2.4e-3 of the largest output; our
    // XNNPACK run equals its XNNPACK run to 1e-7), hence 1e-2 there.
    let want = &runs[1].0;
    assert!(want.iter().any(|&v| v != 0.0));
    for (what, got, tolerance) in [
        ("xnnpack after the resize", &runs[0].1, 1e-5),
        ("builtin after the resize", &runs[1].1, 1e-5),
        ("xnnpack before the resize", &runs[0].0, 1e-2),
    ] {
        assert_close(what, got, want, Tolerance::Relative(tolerance));
    }
}

/// XNNPACK's dynamically quantized fully connected operator runs a batch in tiles of rows, and
/// `xnnpack/0006` picks the tile height by the batch (8 or 10 rows on AVX512-VNNI, one kernel
/// height elsewhere). Each row is quantized with its own scale and zero point and its sums are
/// its own, so a row's output must not depend on the batch around it or on the tiles: here
/// every row of batches of 1 to 100 rows equals, bit for bit, the same row run alone.
#[test]
fn rows_do_not_depend_on_the_batch() {
    let model = Model::from_file(path("dynamic_range.tflite")).unwrap();
    let mut it = Interpreter::builder(&model)
        .xnnpack(XnnpackOptions::default())
        .profiling(true)
        .build()
        .unwrap();
    // Row r: 64 values of its own, with its own range (so its own quantization parameters).
    let row = |r: usize| -> Vec<f32> {
        (0..64)
            .map(|i| ((r * 64 + i) as f32 * 0.37).sin() * (1.0 + r as f32 * 0.25))
            .collect()
    };
    let run_rows = |it: &mut Interpreter, x: &[f32], rows: usize| -> Vec<f32> {
        it.resize_input(0, &[rows, 64]).unwrap();
        it.allocate_tensors().unwrap();
        let plan = it.execution_plan().unwrap();
        assert!(
            plan.iter()
                .all(|n| n.op != "FULLY_CONNECTED" || n.delegated),
            "{rows} rows: {plan:?}"
        );
        it.input_mut(0).unwrap().copy_from_slice(x).unwrap();
        it.invoke().unwrap();
        it.output(0).unwrap().to_vec::<f32>().unwrap()
    };
    let singles: Vec<Vec<f32>> = (0..100).map(|r| run_rows(&mut it, &row(r), 1)).collect();
    assert!(singles
        .iter()
        .all(|o| o.len() == 32 && o.iter().any(|&v| v != 0.0)));
    for rows in [2, 3, 7, 8, 9, 10, 11, 16, 17, 20, 40, 63, 64, 65, 80, 100] {
        let x: Vec<f32> = (0..rows).flat_map(row).collect();
        let out = run_rows(&mut it, &x, rows);
        assert_eq!(out.len(), rows * 32);
        for (r, got) in out.chunks_exact(32).enumerate() {
            assert_eq!(got, &singles[r][..], "row {r} of a batch of {rows}");
        }
    }
}
