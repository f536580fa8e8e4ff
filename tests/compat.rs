//! The compatibility corpus (`tests/compat/`, made by `tests/compat/make_corpus.py` with
//! today's TensorFlow converter): common Keras layers as float32, float16-weight,
//! dynamic-range, full-int8 and 16x8 models. Every model Google's current runtime
//! (`ai_edge_litert`) runs must run here, on both kernel paths, and match Google's output on the
//! same path: our builtin kernels against its builtin kernels (`<key>.litert.npy`), our XNNPACK
//! run against its XNNPACK run (`<key>.litert_xnnpack.npy`; both written by
//! `tests/compat/references.py`). `--nocapture` prints the table the docs summarise.
//!
//! Tolerances are data, per model and path, in `tests/compat/tolerances.json`: the difference
//! observed on each architecture (relative to the output's largest magnitude, at least 1) and
//! the bound, about 10 times the largest observed (`TOLERANCE_FLOOR` where the runs agree bit
//! for bit). `TFLITE_UPDATE_TOLERANCES=1` records this architecture's observations there and
//! recomputes the bounds (then review the diff: a bound that grows is a regression to explain).

use npyz::WriterBuilder;
use serde_json::Value;
use tflite::compare;
use tflite::{Interpreter, Model};

mod common;
use common::tolerances::Tolerances;
use common::{assert_close, model_f32s, Tolerance};

fn dir() -> String {
    format!("{}/tests/compat", env!("CARGO_MANIFEST_DIR"))
}

fn npy<T: npyz::Deserialize>(path: &str) -> Vec<T> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    npyz::NpyFile::new(file).unwrap().into_vec().unwrap()
}

/// The two kernel paths, and the suffix of Google's reference for each.
const PATHS: [(&str, bool, &str); 2] = [
    ("builtin", false, "litert"),
    ("xnnpack", true, "litert_xnnpack"),
];

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

fn tolerances() -> Tolerances {
    Tolerances::load(format!("{}/tolerances.json", dir()))
}

#[test]
fn every_model_google_runs_we_run_with_the_same_outputs_on_both_paths() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{}/manifest.json", dir())).unwrap())
            .unwrap();
    let manifest = manifest.as_object().unwrap();
    let update = Tolerances::updating();
    let mut tolerances = tolerances();
    let (mut total, mut before, mut ours, mut litert, mut compared) = (0, 0, 0, 0, [0, 0]);
    let mut failures = Vec::new();
    eprintln!(
        "{:<28} {:<6} {:<8} {:<8} {:>18} {:>18}  ops",
        "model", "litert", "tfl 2.14", "ours", "builtin/allowed", "xnnpack/allowed"
    );
    for (key, entry) in manifest {
        if entry.get("ops").is_none() {
            eprintln!("{key:<28} not converted: {}", entry["converter"]);
            continue;
        }
        total += 1;
        let ran = |field: &str| entry.get(field).and_then(Value::as_str) == Some("ran");
        let ran_before = ran("tflite_runtime_2_14");
        before += ran_before as usize;
        let before_label = if ran_before { "ran" } else { "error" };
        let reference = ran("litert");
        litert += reference as usize;
        let input_dtype = entry["input_dtype"].as_str().unwrap();
        // Without the `xnnpack` feature there is one path; the XNNPACK column stays empty.
        let outcomes = PATHS.map(|(_, xnnpack, _)| {
            (!xnnpack || cfg!(feature = "xnnpack")).then(|| run(key, input_dtype, xnnpack))
        });
        let outcomes: Vec<_> = outcomes.into_iter().flatten().collect();
        if let Some((_, what)) = NOT_BACKPORTED.iter().find(|(k, _)| k == key) {
            litert -= 1;
            let mut status = "error";
            for ((path, _, suffix), outcome) in PATHS.iter().zip(&outcomes) {
                match outcome {
                    Err(e) => {
                        let text = e.to_string();
                        if text.contains("version") {
                            let runtime = entry["min_runtime_version"].as_str().unwrap();
                            assert!(
                                text.contains(runtime),
                                "{key}: the error does not name {runtime}: {text}"
                            );
                        }
                    }
                    Ok(got) => {
                        status = "differs";
                        let want = npy::<f32>(&format!("{}/{key}.{suffix}.npy", dir()));
                        if compare::check(got, &want, Tolerance::Relative(2e-2)).is_ok() {
                            failures.push(format!(
                                "{key} ({path}) passes now: take it off NOT_BACKPORTED"
                            ));
                        }
                    }
                }
            }
            eprintln!(
                "{key:<28} ran    {before_label:<8} {status:<8} {:>18} {:>18}  not backported: {what}",
                "-", "-"
            );
            continue;
        }
        let mut cells = Vec::new();
        let mut ok = true;
        for (k, ((path, _, suffix), outcome)) in PATHS.iter().zip(&outcomes).enumerate() {
            let got = match (outcome, reference) {
                (Ok(got), true) => got,
                (Ok(_), false) => {
                    cells.push("-".to_string());
                    continue;
                }
                (Err(e), _) => {
                    if reference {
                        failures.push(format!("{key} ({path}): {e}"));
                    }
                    ok = false;
                    cells.push("error".to_string());
                    continue;
                }
            };
            let want = npy::<f32>(&format!("{}/{key}.{suffix}.npy", dir()));
            let report = match compare::diff(got, &want) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{key} ({path}): {e}"));
                    ok = false;
                    cells.push("mismatch".to_string());
                    continue;
                }
            };
            compared[k] += 1;
            let observed = report.relative();
            if update {
                tolerances.observe(key, path, observed);
            }
            let cell = match tolerances.allowed(key, path) {
                None => {
                    failures.push(format!(
                        "{key} ({path}): no tolerance in tolerances.json (observed {observed:.2e}; \
                         TFLITE_UPDATE_TOLERANCES=1 records it)"
                    ));
                    ok = false;
                    format!("{observed:.1e}/none")
                }
                Some(allowed) => {
                    if let Err(e) = compare::check(got, &want, Tolerance::Relative(allowed)) {
                        failures.push(format!("{key} ({path}): {e}"));
                        ok = false;
                    }
                    format!("{observed:.1e}/{allowed:.0e}")
                }
            };
            cells.push(cell);
        }
        if (reference && ok) || (!reference && outcomes.iter().all(Result::is_ok)) {
            ours += 1;
        }
        let ops: Vec<String> = entry["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| format!("{}/{}", o[0].as_str().unwrap(), o[1]))
            .collect();
        let status = if !ok {
            "FAILS"
        } else if reference {
            "ok"
        } else {
            "ran"
        };
        eprintln!(
            "{key:<28} {:<6} {before_label:<8} {status:<8} {:>18} {:>18}  {}",
            if reference { "ran" } else { "error" },
            cells[0],
            cells.get(1).map_or("", String::as_str),
            ops.join(" ")
        );
    }
    if update {
        tolerances.save();
    }
    eprintln!(
        "{total} models: ai_edge_litert 2.3 runs {}, tflite_runtime 2.14 {before}, this crate \
         {ours}, not backported {}; compared with Google's outputs: {} builtin, {} XNNPACK",
        litert + NOT_BACKPORTED.len(),
        NOT_BACKPORTED.len(),
        compared[0],
        compared[1],
    );
    assert!(total >= 80, "the corpus shrank: {total} models");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        ours, litert,
        "every model Google's runtime runs, we run (but those not backported)"
    );
    let xnnpack = if cfg!(feature = "xnnpack") { litert } else { 0 };
    assert_eq!(
        compared,
        [litert, xnnpack],
        "every model Google runs is compared on both paths"
    );
}

/// Every tolerance in tolerances.json belongs to a model of the corpus and is at most about 10
/// times what was observed (or the floor): a bound loosened by hand, or left behind when a
/// regression was fixed, fails here.
#[test]
fn tolerances_sit_near_what_is_observed() {
    let manifest = std::fs::read_to_string(format!("{}/manifest.json", dir())).unwrap();
    let manifest: Value = serde_json::from_str(&manifest).unwrap();
    let entries = tolerances().assert_near_observed(|key| manifest.get(key).is_some());
    assert!(entries >= 160, "{entries} entries");
}

/// GELU runs on XNNPACK (our patch tensorflow/0024; TFLite 2.14's delegate had none): its erf-based
/// kernel must agree with TFLite's reference kernel (libm `erfc`) and with Google's runtime on
/// both of its paths.
#[test]
fn gelu_on_xnnpack_matches_the_reference_kernel_and_google() {
    let key = "gelu.float32";
    let xnnpack = run(key, "float32", true).unwrap();
    let builtin = run(key, "float32", false).unwrap();
    assert!(xnnpack.iter().any(|&v| v != 0.0), "all-zero output");
    let tolerance = Tolerance::Relative(1e-5);
    assert_close("XNNPACK vs builtin", &xnnpack, &builtin, tolerance);
    for suffix in ["litert", "litert_xnnpack"] {
        let want = npy::<f32>(&format!("{}/{key}.{suffix}.npy", dir()));
        assert_close(&format!("XNNPACK vs {suffix}"), &xnnpack, &want, tolerance);
    }
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
        assert_close(
            &format!("xnnpack {xnnpack}"),
            &got,
            &want,
            Tolerance::Absolute(1e-5),
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
        assert_eq!(it.has_delegate(), xnnpack && cfg!(feature = "xnnpack"));
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

/// The comparison helpers every parity test uses fail on a NaN or infinity the reference does
/// not have, and on a length mismatch, whatever the tolerance.
#[test]
fn the_comparison_helpers_fail_on_nan_and_on_length() {
    let want = [0.5f32, -1.0, 2.0];
    let fails = |got: Vec<f32>| {
        std::panic::catch_unwind(|| {
            assert_close("test", &got, &want, Tolerance::Relative(f64::MAX));
        })
        .is_err()
    };
    assert!(fails(vec![0.5, f32::NAN, 2.0]));
    assert!(fails(vec![0.5, -1.0, f32::INFINITY]));
    assert!(fails(vec![0.5, -1.0]));
    assert!(fails(vec![0.5, -1.0, 2.0, 0.0]));
    assert!(!fails(vec![0.5, -1.0, 2.5]));
}

/// `run_model --compare` (the README's parity workflow) exits 1 on a reference with a NaN or of
/// another length, and 0 on the right one. Skipped where the example was not built.
#[test]
fn run_model_compare_fails_on_nan_and_on_length() {
    let Some(run_model) = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("examples").join("run_model")))
        .filter(|p| p.exists())
    else {
        eprintln!("run_model not built: skipped");
        return;
    };
    let data = format!("{}/tflite-sys/tests/data", env!("CARGO_MANIFEST_DIR"));
    let tmp = std::env::temp_dir().join(format!("tflite-compare-{}", std::process::id()));
    let x: Vec<f32> = (0..8).map(|i| i as f32).collect();
    let y: Vec<f32> = x.iter().map(|v| v * 3.0 + 1.5).collect(); // add_mul: x * 3 + 1.5
    let write = |name: &str, v: &[f32]| {
        std::fs::create_dir_all(tmp.join(name)).unwrap();
        let path = tmp.join(name).join(if name == "in" {
            "input_0.npy"
        } else {
            "output_0.npy"
        });
        let mut npy = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[1, v.len() as u64])
            .writer(std::fs::File::create(path).unwrap())
            .begin_nd()
            .unwrap();
        npy.extend(v.iter().copied()).unwrap();
        npy.finish().unwrap();
    };
    write("in", &x);
    write("good", &y);
    let mut nan = y.clone();
    nan[3] = f32::NAN;
    write("nan", &nan);
    write("short", &y[..7]);
    let status = |reference: &str| {
        let out = common::command(&run_model)
            .arg(format!("{data}/add_mul.tflite"))
            .arg("--input")
            .arg(tmp.join("in/input_0.npy"))
            .arg("--output-dir")
            .arg(tmp.join("out"))
            .arg("--compare")
            .arg(tmp.join(reference))
            .arg("--tolerance")
            .arg("1e9")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (good, text) = status("good");
    assert_eq!(good, Some(0), "{text}");
    for reference in ["nan", "short"] {
        let (code, text) = status(reference);
        assert_eq!(code, Some(1), "{reference}: {text}");
        assert!(text.contains("DIFFERENT"), "{reference}: {text}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Every committed float data file — Google's reference outputs and the inputs they were
/// computed from, in every folder of test data — is finite: a NaN or infinity put into any of
/// them fails here, whichever test reads the file and whatever its tolerance. (The tests that
/// compare with a reference fail on it too: `tflite::compare` refuses a non-finite value on one
/// side only.)
#[test]
fn every_committed_float_reference_is_finite() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut checked = 0;
    for folder in [
        "tests/compat",
        "tests/models",
        "tests/mediapipe_corpus",
        "examples/digits",
        "examples/mediapipe_ops",
        "tflite-sys/tests/data",
    ] {
        let mut files: Vec<_> = std::fs::read_dir(format!("{root}/{folder}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for path in files {
            let name = path.display().to_string();
            let values: Vec<f64> = match path.extension().and_then(|e| e.to_str()) {
                Some("f32") => std::fs::read(&path)
                    .unwrap()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()).into())
                    .collect(),
                Some("npy") => {
                    let open = || npyz::NpyFile::new(std::fs::File::open(&path).unwrap()).unwrap();
                    let dtype = open().dtype().descr(); // e.g. '<f4'
                    match dtype.trim_matches(['\'', '<', '|', '=']) {
                        "f4" => open()
                            .into_vec::<f32>()
                            .unwrap()
                            .into_iter()
                            .map(f64::from)
                            .collect(),
                        "f8" => open().into_vec::<f64>().unwrap(),
                        "f2" => open()
                            .into_vec::<tflite::f16>()
                            .unwrap()
                            .into_iter()
                            .map(f64::from)
                            .collect(),
                        _ => continue, // integers: every value is finite
                    }
                }
                _ => continue,
            };
            assert!(!values.is_empty(), "{name}: empty");
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                panic!("{name}: element {i} is {}", values[i]);
            }
            checked += 1;
        }
    }
    assert!(checked >= 300, "{checked} files");
    eprintln!("{checked} float files, all finite");
}
