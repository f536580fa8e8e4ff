//! Predict with the bundled model through the safe API: loads `conv_dense.tflite` (a small
//! conv + dense classifier), runs it on its committed input with XNNPACK and then on TFLite's
//! builtin kernels, and prints both next to what Google's runtime gave for the same input.
//!
//!     cargo run --release --example predict            # the bundled model
//!     cargo run --release --example predict -- M.tflite  # any float32 model, zero inputs

use tflite::{Interpreter, Model};

const MODEL: &[u8] = include_bytes!("../tflite-sys/tests/data/conv_dense.tflite");
const INPUT: &[u8] = include_bytes!("../tflite-sys/tests/data/conv_dense.in.f32");
const REFERENCE: &[u8] = include_bytes!("../tflite-sys/tests/data/conv_dense.out.f32");

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("TensorFlow Lite {}", tflite::tflite_version());
    let (model, input, reference) = match std::env::args_os().nth(1) {
        Some(path) => (Model::from_file(path)?, None, None),
        None => (
            Model::from_static(MODEL)?,
            Some(f32s(INPUT)),
            Some(f32s(REFERENCE)),
        ),
    };
    println!("model: {}", model.origin());

    for xnnpack in [true, false] {
        let builder = Interpreter::builder(&model);
        let mut interpreter = if xnnpack {
            builder.build()?
        } else {
            builder.no_delegates().build()?
        };
        interpreter.allocate_tensors()?;
        if xnnpack {
            for t in interpreter.inputs() {
                println!("input  {:?} {:?} {:?}", t.name, t.dtype, t.shape);
            }
            for t in interpreter.outputs() {
                println!("output {:?} {:?} {:?}", t.name, t.dtype, t.shape);
            }
        }
        if let Some(x) = &input {
            interpreter.copy_input_from(0, x)?;
        }
        let started = std::time::Instant::now();
        interpreter.invoke()?;
        let elapsed = started.elapsed();
        let y = interpreter.output::<f32>(0)?;
        let label = if interpreter.has_delegate() {
            "XNNPACK"
        } else {
            "builtin kernels"
        };
        println!(
            "{label:>16}: {y:?}  ({:.3} ms)",
            elapsed.as_secs_f64() * 1e3
        );
        if let Some(want) = &reference {
            let diff = y
                .iter()
                .zip(want)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            let best = |v: &[f32]| {
                v.iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i)
            };
            println!(
                "{:>16}: class {} (Google's runtime: class {}), max |diff| {diff:.2e}",
                "",
                best(y),
                best(want)
            );
            if diff > 1e-5 {
                return Err(format!("output differs from Google's runtime by {diff}").into());
            }
        }
    }
    if reference.is_some() {
        println!(
            "{:>16}  {:?}",
            "Google's runtime",
            reference.unwrap_or_default()
        );
    }
    Ok(())
}
