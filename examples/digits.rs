//! The main job: a Keras model trained in Python (`examples/python/train_digits.py`) classifies
//! the held-out handwritten digits from Rust. Runs every committed conversion of it — float32,
//! float16 weights, dynamic-range, full int8 — one image per invoke, and prints the accuracy
//! next to the one Python measured with Google's runtime, and the per-image latency.
//!
//!     cargo run --release --example digits
//!     cargo run --release --example digits -- --model my_digits.tflite [--threads N] [--no-xnnpack]
//!
//! A model given with `--model` must take `[1, 8, 8, 1]` float32 (or quantized int8) images
//! scaled to [0, 1] and give 10 class scores, like the committed ones.

use std::time::{Duration, Instant};
use tflite::{Error, Interpreter, Model};

const VARIANTS: [(&str, &[u8]); 4] = [
    ("float32", include_bytes!("digits/digits_float32.tflite")),
    ("float16", include_bytes!("digits/digits_float16.tflite")),
    (
        "dynamic_range",
        include_bytes!("digits/digits_dynamic_range.tflite"),
    ),
    ("int8", include_bytes!("digits/digits_int8.tflite")),
];
const IMAGES: &[u8] = include_bytes!("digits/test_images.npy");
const LABELS: &[u8] = include_bytes!("digits/test_labels.npy");
const PYTHON_ACCURACY: &str = include_str!("digits/accuracy.txt");

struct Options {
    model: Option<String>,
    threads: usize,
    xnnpack: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        model: None,
        threads: 1,
        xnnpack: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--model" => o.model = Some(args.next().ok_or("--model needs a path")?),
            "--threads" => {
                o.threads = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--threads needs a number")?
            }
            "--no-xnnpack" => o.xnnpack = false,
            "-h" | "--help" => {
                println!("usage: digits [--model PATH] [--threads N] [--no-xnnpack]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(o)
}

struct Outcome {
    correct: usize,
    latencies: Vec<Duration>,
    xnnpack: bool,
    xnnpack_skipped: Option<String>,
}

fn classify(model: &Model, images: &[f32], labels: &[i64], o: &Options) -> tflite::Result<Outcome> {
    let mut it = Interpreter::builder(model)
        .num_threads(o.threads)
        .use_xnnpack(o.xnnpack)
        .build()?;
    it.allocate_tensors()?;
    let mut outcome = Outcome {
        correct: 0,
        latencies: Vec::new(),
        xnnpack: it.has_delegate(),
        xnnpack_skipped: it.delegate_skipped().map(str::to_string),
    };
    for (image, label) in images.chunks_exact(64).zip(labels) {
        // Quantized with the input's scale and zero point for the int8 model; copied for float.
        it.input_mut(0)?.quantize_from(image)?;
        let started = Instant::now();
        it.invoke()?;
        outcome.latencies.push(started.elapsed());
        let scores = it.output(0)?.dequantize()?;
        let predicted = scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |p| p.0);
        outcome.correct += usize::from(predicted as i64 == *label);
    }
    Ok(outcome)
}

fn npy<T: npyz::Deserialize>(bytes: &[u8]) -> Vec<T> {
    npyz::NpyFile::new(bytes)
        .and_then(|f| f.into_vec())
        .expect("committed .npy file")
}

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("digits: {e}");
            std::process::exit(2);
        }
    };
    let images: Vec<f32> = npy(IMAGES);
    let labels: Vec<i64> = npy(LABELS);
    println!(
        "TensorFlow Lite {}; {} held-out digits (8x8), one image per invoke, {} thread(s), XNNPACK {}",
        tflite::tflite_version(),
        labels.len(),
        o.threads,
        if o.xnnpack { "on" } else { "off" }
    );
    let python: Vec<(&str, &str)> = PYTHON_ACCURACY
        .lines()
        .filter_map(|l| l.split_once(' '))
        .collect();
    if let Some((_, keras)) = python.iter().find(|(k, _)| *k == "keras") {
        println!("Keras accuracy in Python: {keras}");
    }
    println!(
        "{:<14} {:>9} {:>12} {:>11} {:>11}  kernels",
        "model", "accuracy", "Python says", "median µs", "mean µs"
    );

    let models: Vec<(String, tflite::Result<Model>)> = match &o.model {
        Some(path) => vec![(path.clone(), Model::from_file(path))],
        None => VARIANTS
            .iter()
            .map(|(name, bytes)| (name.to_string(), Model::from_static(bytes)))
            .collect(),
    };
    let mut failed = false;
    let mut skipped = None;
    for (name, model) in models {
        let python_acc = python
            .iter()
            .find(|(k, _)| *k == name)
            .map_or("-", |(_, v)| v);
        match model.and_then(|m| classify(&m, &images, &labels, &o)) {
            Ok(r) => {
                let mut l = r.latencies.clone();
                l.sort();
                let median = l[l.len() / 2].as_secs_f64() * 1e6;
                let mean = l.iter().map(|d| d.as_secs_f64()).sum::<f64>() / l.len() as f64 * 1e6;
                let acc = r.correct as f64 / labels.len() as f64;
                let kernels = if r.xnnpack { "XNNPACK" } else { "builtin" };
                skipped = skipped.or(r.xnnpack_skipped);
                println!(
                    "{name:<14} {acc:>9.4} {python_acc:>12} {median:>11.1} {mean:>11.1}  {kernels}"
                );
                if let Ok(p) = python_acc.parse::<f64>() {
                    // One image of 360 is 0.0028: the accuracies must match to the image.
                    if (p - acc).abs() * labels.len() as f64 > 0.5 {
                        println!("  accuracy differs from Python's");
                        failed = true;
                    }
                }
            }
            Err(Error::UnsupportedOp { op, version, .. }) => {
                let v = version.map(|v| format!(" version {v}")).unwrap_or_default();
                println!(
                    "{name:<14} cannot run: it needs {op}{v}, which TensorFlow Lite {} lacks \
                     (today's converter writes it; see the README)",
                    tflite::tflite_version()
                );
            }
            Err(e) => {
                println!("{name:<14} failed: {e}");
                failed = true;
            }
        }
    }
    if let Some(why) = skipped {
        println!("note: XNNPACK was not applied: {why}; the builtin kernels ran instead.");
    }
    if failed {
        std::process::exit(1);
    }
}
