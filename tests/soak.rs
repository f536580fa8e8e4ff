//! Soak: thousands of load → build → allocate → invoke → drop cycles (five models, one with
//! Rust custom ops) must not grow the process. Ignored by default (about a minute in release); run it with
//! `cargo test --release --test soak -- --ignored --nocapture`.
//! `TFLITE_SOAK_CYCLES` overrides the number of cycles (default 10 000).

use tflite::{Interpreter, Model};

/// Resident memory of this process in bytes (Linux: `/proc/self/statm`, second field, pages).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// After warm-up, resident memory may move by at most this much over the whole run.
const BOUND: usize = 1 << 20;

#[test]
#[ignore = "long: run with --ignored (see the README)"]
fn load_build_invoke_drop_stays_flat() {
    let cycles: usize = std::env::var("TFLITE_SOAK_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = env!("CARGO_MANIFEST_DIR");
    let models: Vec<Vec<u8>> = [
        "examples/digits/digits_float32.tflite",
        "examples/digits/digits_int8.tflite",
        "tests/models/signatures.tflite",
        "tests/models/quant_int8.tflite",
        // Rust custom ops: their per-node state is made and dropped every cycle.
        "examples/mediapipe_ops/unpool_net.tflite",
    ]
    .iter()
    .map(|p| std::fs::read(format!("{dir}/{p}")).unwrap())
    .collect();

    let warm_up = (cycles / 10).max(1);
    let mut baseline = 0;
    let mut peak = 0;
    let mut checksum = 0f64;
    for cycle in 0..cycles {
        let bytes = models[cycle % models.len()].clone();
        let model = Model::from_bytes(bytes).unwrap();
        let builder = Interpreter::builder(&model).num_threads(1 + cycle % 2);
        // Every third cycle without delegates, so both kernel paths are soaked.
        let builder = if cycle % 3 == 2 {
            builder.use_xnnpack(false)
        } else {
            builder
        };
        let mut it = builder.build().unwrap();
        it.allocate_tensors().unwrap();
        for i in 0..it.input_count() {
            let bytes = it.input_mut(i).and_then(|t| t.into_bytes_mut()).unwrap();
            for (k, b) in bytes.iter_mut().enumerate() {
                *b = (k % 7) as u8;
            }
        }
        it.invoke().unwrap();
        checksum += it
            .output(0)
            .and_then(|t| t.bytes())
            .unwrap()
            .iter()
            .map(|&b| b as f64)
            .sum::<f64>();
        drop(it);
        drop(model);

        if cycle + 1 == warm_up {
            baseline = rss();
        } else if cycle + 1 > warm_up && (cycle + 1) % 500 == 0 {
            let now = rss();
            peak = peak.max(now);
            eprintln!(
                "cycle {:>6}: rss {:.1} MiB ({:+.2} MiB since warm-up)",
                cycle + 1,
                now as f64 / 1048576.0,
                (now as f64 - baseline as f64) / 1048576.0
            );
        }
    }
    assert!(checksum > 0.0, "the models computed nothing");
    let growth = peak.saturating_sub(baseline);
    eprintln!(
        "{cycles} cycles: rss after warm-up {:.1} MiB, peak {:.1} MiB, growth {:.2} MiB (bound {} MiB)",
        baseline as f64 / 1048576.0,
        peak as f64 / 1048576.0,
        growth as f64 / 1048576.0,
        BOUND >> 20
    );
    assert!(
        growth <= BOUND,
        "resident memory grew by {growth} bytes after warm-up (bound {BOUND})"
    );
}
