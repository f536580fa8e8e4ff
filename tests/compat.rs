//! The compatibility corpus (`tests/compat/`, made by `tests/compat/make_corpus.py` with
//! today's TensorFlow converter): common Keras layers as float32, float16-weight,
//! dynamic-range and full-int8 models. Every model Google's current runtime (`ai_edge_litert`)
//! runs must run here and match its builtin-kernel outputs; `--nocapture` prints the table the
//! README summarises.

use serde_json::Value;
use tflite::{Interpreter, Model};

mod common;
use common::{max_diff, model_f32s};

fn dir() -> String {
    format!("{}/tests/compat", env!("CARGO_MANIFEST_DIR"))
}

fn npy<T: npyz::Deserialize>(path: &str) -> Vec<T> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    npyz::NpyFile::new(file).unwrap().into_vec().unwrap()
}

/// Largest absolute difference allowed, per conversion, relative to the largest reference
/// magnitude (at least 1). Float models run the same float kernels as the reference; the
/// dynamic-range ones quantize activations on the fly (rescaling order differs between builds);
/// int8 ones may differ by a quantum where TFLite 2.14's and 2.21's int8 kernels round
/// differently.
fn tolerance(variant: &str) -> f32 {
    match variant {
        "float32" | "float16" => 1e-4,
        "dynamic_range" => 1e-3,
        _ => 2e-2,
    }
}

/// Models Google's runtime runs that TFLite 2.14.1's kernels do not (or not right), with no
/// backport yet: (model, what is missing). Each must still fail or differ — the test fails
/// once one passes, so that the list only shrinks — and an error for a missing op version
/// must name the op, the version and the model's `min_runtime_version`.
const NOT_BACKPORTED: &[(&str, &str)] = &[(
    "elementwise.int8",
    "SQRT version 2 (int8; min_runtime_version 2.21.0): an error at load naming both",
)];

/// Runs the model on its committed input; returns the output.
fn run(key: &str, input_dtype: &str, xnnpack: bool) -> tflite::Result<Vec<f32>> {
    let model = Model::from_file(format!("{}/{key}.tflite", dir()))?;
    let builder = Interpreter::builder(&model);
    let mut it = builder.use_xnnpack(xnnpack).build()?;
    it.allocate_tensors()?;
    let layer = key.split('.').next().unwrap();
    let x = format!("{}/{layer}.x.npy", dir());
    if input_dtype == "int32" {
        it.input_mut(0)
            .and_then(|mut t| t.copy_from_slice(&npy::<i32>(&x)))?;
    } else {
        it.input_mut(0)
            .and_then(|mut t| t.copy_from_slice(&npy::<f32>(&x)))?;
    }
    it.invoke()?;
    it.output(0).and_then(|t| t.to_vec::<f32>())
}

/// The largest difference between `got` and Google's committed outputs for `key`, and the
/// largest allowed (the variant's tolerance times the outputs' largest magnitude, at least 1).
fn diff_from_google(key: &str, variant: &str, got: &[f32]) -> (f32, f32) {
    let want = npy::<f32>(&format!("{}/{key}.litert.npy", dir()));
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    (max_diff(got, &want), tolerance(variant) * scale)
}

#[test]
fn every_model_google_runs_we_run_with_the_same_outputs() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{}/manifest.json", dir())).unwrap())
            .unwrap();
    let manifest = manifest.as_object().unwrap();
    let (mut total, mut before, mut ours, mut litert) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    eprintln!(
        "{:<32} {:<6} {:<8} {:<10} {:>10}  ops",
        "model", "litert", "tfl 2.14", "ours", "max diff"
    );
    for (key, entry) in manifest {
        if entry.get("ops").is_none() {
            eprintln!("{key:<32} not converted: {}", entry["converter"]);
            continue;
        }
        total += 1;
        let ran = |field: &str| entry.get(field).and_then(Value::as_str) == Some("ran");
        let ran_before = ran("tflite_runtime_2_14");
        before += ran_before as usize;
        let before_label = if ran_before { "ran" } else { "error" };
        let reference = ran("litert");
        litert += reference as usize;
        let variant = key.split('.').nth(1).unwrap();
        let input_dtype = entry["input_dtype"].as_str().unwrap();
        let outcome = run(key, input_dtype, false).and_then(|builtin| {
            // XNNPACK must run the model too (its numerics are checked by the other tests).
            run(key, input_dtype, true).map(|_| builtin)
        });
        if let Some((_, what)) = NOT_BACKPORTED.iter().find(|(k, _)| k == key) {
            litert -= 1;
            let status = match &outcome {
                Err(e) => {
                    let text = e.to_string();
                    if text.contains("version") {
                        let runtime = entry["min_runtime_version"].as_str().unwrap();
                        assert!(
                            text.contains(runtime),
                            "{key}: the error does not name {runtime}: {text}"
                        );
                    }
                    "error"
                }
                Ok(got) => {
                    let (diff, allowed) = diff_from_google(key, variant, got);
                    if diff <= allowed {
                        failures.push(format!("{key} passes now: take it off NOT_BACKPORTED"));
                    }
                    "differs"
                }
            };
            eprintln!(
                "{key:<32} ran    {before_label:<8} {status:<10} {:>10}  not backported: {what}",
                "-"
            );
            continue;
        }
        let (status, diff) = match (&outcome, reference) {
            (Ok(got), true) => {
                let (diff, allowed) = diff_from_google(key, variant, got);
                if diff <= allowed {
                    ours += 1;
                    ("ok", format!("{diff:.2e}"))
                } else {
                    failures.push(format!("{key}: max |diff| {diff} (allowed {allowed})"));
                    ("differs", format!("{diff:.2e}"))
                }
            }
            (Ok(_), false) => {
                ours += 1;
                ("ran", "-".into())
            }
            (Err(e), _) => {
                if reference {
                    failures.push(format!("{key}: {e}"));
                }
                ("error", "-".into())
            }
        };
        let ops: Vec<String> = entry["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| format!("{}/{}", o[0].as_str().unwrap(), o[1]))
            .collect();
        eprintln!(
            "{key:<32} {:<6} {:<8} {status:<10} {diff:>10}  {}",
            if reference { "ran" } else { "error" },
            before_label,
            ops.join(" ")
        );
    }
    eprintln!(
        "{total} models: ai_edge_litert 2.3 runs {}, tflite_runtime 2.14 {before}, this crate \
         {ours}, not backported {}",
        litert + NOT_BACKPORTED.len(),
        NOT_BACKPORTED.len()
    );
    assert!(total >= 80, "the corpus shrank: {total} models");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        ours, litert,
        "every model Google's runtime runs, we run (but those not backported)"
    );
}

/// GELU runs on XNNPACK (our patch tensorflow/0024; TFLite 2.14's delegate had none): its erf-based
/// kernel must agree with TFLite's reference kernel (libm `erfc`) and with Google's runtime.
#[test]
fn gelu_on_xnnpack_matches_the_reference_kernel_and_google() {
    let key = "gelu.float32";
    let xnnpack = run(key, "float32", true).unwrap();
    let builtin = run(key, "float32", false).unwrap();
    let want = npy::<f32>(&format!("{}/{key}.litert.npy", dir()));
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    assert!(xnnpack.iter().any(|&v| v != 0.0), "all-zero output");
    let to_builtin = max_diff(&xnnpack, &builtin);
    let to_google = max_diff(&xnnpack, &want);
    assert!(
        to_builtin <= 1e-5 * scale,
        "XNNPACK vs builtin: {to_builtin}"
    );
    assert!(
        to_google <= 1e-5 * scale,
        "XNNPACK vs ai_edge_litert: {to_google}"
    );
}

/// A squeeze-and-excitation block — MEAN over height and width keeping its dims, 1x1 CONV_2D,
/// LOGISTIC, MUL by the block's input, as in MediaPipe's landscape selfie model — runs whole on
/// XNNPACK and matches Google's runtime. Before patch tensorflow/0044 the XNNPACK we build
/// dropped the MEAN's reduced dims at runtime setup ([1, 1, 1, C] became [1, C]) and invoke
/// failed ("failed to setup XNNPACK runtime").
#[test]
fn a_mean_keeping_its_dims_runs_on_xnnpack() {
    let (x, want) = (
        model_f32s("squeeze_excite.in.f32"),
        model_f32s("squeeze_excite.out.f32"),
    );
    let model = Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/models/squeeze_excite.tflite"
    ))
    .unwrap();
    for xnnpack in [true, false] {
        let builder = Interpreter::builder(&model).profiling(true);
        let mut it = builder.use_xnnpack(xnnpack).build().unwrap();
        let plan = it.execution_plan().unwrap();
        let delegated: Vec<bool> = plan.iter().map(|n| n.delegated).collect();
        if xnnpack && cfg!(feature = "xnnpack") {
            assert_eq!(delegated, [true], "{plan:?}"); // one partition: all four operators
        } else {
            assert_eq!(delegated, [false; 4], "{plan:?}");
        }
        it.allocate_tensors().unwrap();
        it.input_mut(0)
            .and_then(|mut t| t.copy_from_slice(&x))
            .unwrap();
        it.invoke().unwrap();
        let got = it.output(0).and_then(|t| t.to_vec::<f32>()).unwrap();
        assert!(got.iter().any(|&v| v != 0.0), "all-zero output");
        assert!(
            max_diff(&got, &want) <= 1e-5,
            "xnnpack {xnnpack}: {}",
            max_diff(&got, &want)
        );
    }
}

/// Two threads split every operator into tiles that the threads claim and steal from each
/// other (XNNPACK's pool, with our pthreadpool patch 0002 claiming in chunks; ruy's pool for
/// the builtin kernels); one thread computes them in order. The same kernels run either way,
/// so a lost or doubled tile is the only way the bits could differ. The separable convolution
/// (depthwise + 1x1) is resized to 96x96 so that each thread has hundreds of tiles; each
/// invoke gets a different input, so a tile left over from an earlier invoke shows too.
#[test]
fn two_threads_compute_the_same_bits_as_one() {
    let model = Model::from_file(format!("{}/separable_conv2d.float32.tflite", dir())).unwrap();
    let shape = [1, 96, 96, 4];
    let input = |k: usize| -> Vec<f32> {
        (0..shape.iter().product::<usize>())
            .map(|i| ((i * 7919 + k * 104729) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    };
    let run = |threads: usize, xnnpack: bool| -> Vec<Vec<f32>> {
        let builder = Interpreter::builder(&model).num_threads(threads);
        let mut it = builder.use_xnnpack(xnnpack).build().unwrap();
        assert_eq!(it.has_delegate(), xnnpack);
        it.resize_input(0, &shape).unwrap();
        it.allocate_tensors().unwrap();
        (0..4)
            .map(|k| {
                it.input_mut(0)
                    .and_then(|mut t| t.copy_from_slice(&input(k)))
                    .unwrap();
                it.invoke().unwrap();
                it.output(0).and_then(|t| t.to_vec::<f32>()).unwrap()
            })
            .collect()
    };
    for xnnpack in [true, false] {
        let one = run(1, xnnpack);
        assert!(
            one[0].len() >= 96 * 96,
            "the resize did not reach the output"
        );
        assert!(one[0] != one[1], "different inputs gave the same output");
        for attempt in 0..2 {
            let two = run(2, xnnpack);
            for (k, (a, b)) in one.iter().zip(&two).enumerate() {
                assert!(
                    a == b,
                    "xnnpack {xnnpack}, invoke {k} (attempt {attempt}): 2 threads differ from 1"
                );
            }
        }
    }
}
