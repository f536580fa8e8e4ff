//! The MediaPipe corpus: every model of a pinned `mediapipe` wheel, run the way `run_model`
//! runs a model with no flags (the default builder: XNNPACK on, MediaPipe's operators built in)
//! and with XNNPACK off, against Google's runtime (`tests/mediapipe_corpus/make_references.py`
//! says how each reference was made; `face_landmark_with_attention`, which no runtime of
//! Google's runs, against `ai_edge_litert` plus NumPy implementations of MediaPipe's ops).
//!
//! The models are not in this repository: `bash tests/mediapipe_corpus/fetch.sh` fetches the
//! wheel (sha256-pinned) into a cache and unpacks them; then
//!
//!     cargo test --test mediapipe_corpus -- --ignored --nocapture
//!
//! (`.ci/run` does both). `TFLITE_MEDIAPIPE_MODELS` overrides the models' folder for both.
#![cfg(feature = "mediapipe")]

use serde_json::Value;
use std::path::PathBuf;
use tflite::compare::Tolerance;

mod common;
use common::tolerances::Tolerances;
use tflite::{Interpreter, Model};

fn here() -> String {
    format!("{}/tests/mediapipe_corpus", env!("CARGO_MANIFEST_DIR"))
}

/// The folder `fetch.sh` unpacks into.
fn models_dir(version: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("TFLITE_MEDIAPIPE_MODELS") {
        return dir.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .expect("no HOME: set TFLITE_MEDIAPIPE_MODELS");
    cache
        .join("tflite-rs")
        .join(format!("mediapipe-{version}"))
        .join("models")
}

/// The input `make_references.py` feeds: an integer pattern of rings and texture, / 255.
fn pattern(shape: &[usize]) -> Vec<f32> {
    let &[1, h, w, c] = shape else {
        panic!("not an image input: {shape:?}")
    };
    let mut v = Vec::with_capacity(h * w * c);
    for y in 0..h {
        for x in 0..w {
            for k in 0..c {
                let i = ((x * x + y * y) / 16 + 64 * k + (x * y) / 32) % 256;
                v.push(i as f32 / 255.0);
            }
        }
    }
    v
}

fn npy(path: &str) -> Vec<f32> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    npyz::NpyFile::new(file).unwrap().into_vec().unwrap()
}

/// Tolerances per model, output and path (`tests/mediapipe_corpus/tolerances.json`, see
/// `tests/common/tolerances.rs`): about 10 times the difference observed, relative to the
/// output's largest magnitude (at least 1). Every model is float32, and ours and the reference
/// run the same operators in float32 but sum in different orders (XNNPACK against TFLite's
/// builtin kernels, two builds of the builtin kernels, two XNNPACK versions): ~1e-6 on most
/// outputs. `pose_landmark_full`'s segmentation logits (output 2, up to ~1300, ~300 operators
/// deep) gather per-operator rounding differences (Google's own TFLite 2.14 wheel differs from
/// `ai_edge_litert` there by 1e-4). A wrong operator shows as a difference of the order of the
/// outputs themselves.
fn tolerances() -> Tolerances {
    Tolerances::load(format!("{}/tolerances.json", here()))
}

/// Models and configurations that do not run today, with the reason (checked: they must still
/// fail, so that fixing one forces this list to shrink).
const KNOWN_FAILURES: &[(&str, bool, &str)] = &[];

fn run(path: &PathBuf, shape: &[usize], xnnpack: bool) -> tflite::Result<Vec<Vec<f32>>> {
    let model = Model::from_file(path)?;
    let mut it = Interpreter::builder(&model).use_xnnpack(xnnpack).build()?;
    it.allocate_tensors()?;
    it.input_mut(0)?.copy_from_slice(&pattern(shape))?;
    it.invoke()?;
    (0..it.output_count())
        .map(|k| it.output(k)?.to_vec::<f32>())
        .collect()
}

#[test]
#[ignore = "needs the MediaPipe wheel's models: bash tests/mediapipe_corpus/fetch.sh"]
fn every_mediapipe_model_runs_and_matches_google() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/manifest.json", here())).unwrap(),
    )
    .unwrap();
    let version = manifest["wheel"]
        .as_str()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap();
    let dir = models_dir(version);
    let models = manifest["models"].as_object().unwrap();
    assert!(
        models.len() >= 14,
        "the manifest lists {} models",
        models.len()
    );
    let mut failures = Vec::new();
    let update = Tolerances::updating();
    let mut tolerances = tolerances();
    eprintln!(
        "{:<34} {:<10} {:>12} {:>12}  reference",
        "model", "custom ops", "xnnpack", "builtin"
    );
    for (name, entry) in models {
        let path = dir.join(format!("{name}.tflite"));
        assert!(
            path.exists(),
            "{} missing: run bash tests/mediapipe_corpus/fetch.sh",
            path.display()
        );
        let shape: Vec<usize> = entry["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let outputs = entry["outputs"].as_array().unwrap().len();
        let mut cells = Vec::new();
        for xnnpack in [true, false] {
            let known = KNOWN_FAILURES
                .iter()
                .find(|(n, x, _)| n == name && *x == xnnpack);
            match (run(&path, &shape, xnnpack), known) {
                (Ok(got), None) => {
                    assert_eq!(got.len(), outputs, "{name}: output count");
                    // Each output against its reference, relative to its largest magnitude (at
                    // least 1); a NaN or length mismatch fails whatever the tolerance.
                    let mut worst = 0f64;
                    let path = if xnnpack { "xnnpack" } else { "builtin" };
                    for (k, got) in got.iter().enumerate() {
                        let want = npy(&format!("{}/{name}.out{k}.npy", here()));
                        let key = format!("{name}/out{k}");
                        let report = match tflite::compare::diff(got, &want) {
                            Ok(r) => r,
                            Err(e) => {
                                failures.push(format!("{key} ({path}): {e}"));
                                continue;
                            }
                        };
                        worst = worst.max(report.relative());
                        if update {
                            tolerances.observe(&key, path, report.relative());
                        }
                        let Some(allowed) = tolerances.allowed(&key, path) else {
                            failures.push(format!(
                                "{key} ({path}): no tolerance (observed {:.2e}; \
                                 TFLITE_UPDATE_TOLERANCES=1 records it)",
                                report.relative()
                            ));
                            continue;
                        };
                        let bound = Tolerance::Relative(allowed);
                        if let Err(e) = tflite::compare::check(got, &want, bound) {
                            failures.push(format!("{key} ({path}): {e}"));
                        }
                    }
                    cells.push(format!("{worst:.1e}"));
                }
                (Ok(_), Some((_, _, why))) => failures.push(format!(
                    "{name} (xnnpack {xnnpack}) runs now: take it off KNOWN_FAILURES ({why})"
                )),
                (Err(e), Some(_)) => cells.push(format!("fails: {e}").chars().take(12).collect()),
                (Err(e), None) => failures.push(format!("{name} (xnnpack {xnnpack}): {e}")),
            }
        }
        let customs = entry["custom_ops"].as_array().unwrap().len();
        eprintln!(
            "{name:<34} {customs:<10} {:>12} {:>12}  {}",
            cells.first().map_or("", String::as_str),
            cells.get(1).map_or("", String::as_str),
            entry["reference"].as_str().unwrap()
        );
    }
    if update {
        tolerances.save();
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Every bound in tolerances.json is about 10 times its largest observation and names a model
/// of the manifest (no models needed: runs in every `cargo test`).
#[test]
fn tolerances_sit_near_what_is_observed() {
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/manifest.json", here())).unwrap(),
    )
    .unwrap();
    let models = manifest["models"].as_object().unwrap();
    let entries = tolerances().assert_near_observed(|key| {
        key.split_once("/out").is_some_and(|(model, k)| {
            models.get(model).is_some_and(|m| {
                k.parse::<usize>()
                    .is_ok_and(|k| k < m["outputs"].as_array().unwrap().len())
            })
        })
    });
    assert!(entries >= 30, "{entries} entries");
}
