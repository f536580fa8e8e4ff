//! Runs a model that needs MediaPipe's custom operators — built into the crate
//! (`tflite::mediapipe`, the default `mediapipe` feature) — and checks its output against
//! TensorFlow's (reference.npy, from make_model.py).
//!
//!     cargo run --release --example mediapipe_ops
//!
//! It runs the model twice: on TFLite's builtin kernels plus our Rust ops, and with the
//! XNNPACK delegate, which has its own Convolution2DTransposeBias and takes it over (our
//! patch keeps it from taking the pooling pair: its unpooling writes wherever the indices
//! point, unchecked). Both must match TensorFlow within 1e-4 (relative to
//! max(1, |reference|)).

use std::process::ExitCode;
use tflite::{Error, Interpreter, Model};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/mediapipe_ops");

fn npy(name: &str) -> Vec<f32> {
    let bytes = std::fs::read(format!("{DIR}/{name}")).expect("committed .npy file");
    npyz::NpyFile::new(&bytes[..])
        .and_then(|f| f.into_vec())
        .expect("float32 .npy file")
}

/// The largest difference from the reference, relative to max(1, |reference|) per element.
/// A length mismatch or a NaN/infinity the reference lacks is an error (`tflite::compare`).
fn worst(got: &[f32], want: &[f32]) -> Result<f32, tflite::compare::Mismatch> {
    tflite::compare::diff(got, want)?;
    Ok(got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0.0, f32::max))
}

fn run(model: &Model, xnnpack: bool) -> tflite::Result<Vec<f32>> {
    let mut it = Interpreter::builder(model).use_xnnpack(xnnpack).build()?;
    it.allocate_tensors()?;
    it.input_mut(0)?.copy_from_slice(&npy("input.npy"))?;
    it.invoke()?;
    it.output(0)?.to_vec::<f32>()
}

fn main() -> ExitCode {
    let model = match Model::from_file(format!("{DIR}/unpool_net.tflite")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Without the built-in MediaPipe ops, TFLite refuses the model and says which op is missing.
    match Interpreter::builder(&model).mediapipe_ops(false).build() {
        Err(Error::UnsupportedOp { op, .. }) => println!("without our ops: unsupported op {op}"),
        other => {
            eprintln!("error: expected an unsupported-op error, got {other:?}");
            return ExitCode::FAILURE;
        }
    }
    let reference = npy("reference.npy");
    let mut ok = true;
    for (label, xnnpack) in [("Rust custom ops", false), ("XNNPACK delegate", true)] {
        match run(&model, xnnpack) {
            Ok(y) => {
                let d = match worst(&y, &reference) {
                    Ok(d) => d,
                    Err(e) => {
                        ok = false;
                        eprintln!("{label}: {e}");
                        continue;
                    }
                };
                let pass = d <= 1e-4;
                ok &= pass;
                println!(
                    "{label:>16}: {} outputs, max relative difference from TensorFlow {d:.2e} {}",
                    y.len(),
                    if pass { "ok" } else { "MISMATCH" }
                );
            }
            Err(e) => {
                ok = false;
                eprintln!("{label}: error: {e}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
