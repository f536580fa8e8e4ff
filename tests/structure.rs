//! Structure-aware corruption: models that stay valid flatbuffers but lie about themselves
//! (`tests/common/structure.rs`: shapes, types, operands, opcodes, options, quantization,
//! versions, constant shape tensors, vector lengths). Each mutated model goes through load →
//! build (with and without XNNPACK) → allocate → fill → invoke (with a deadline) → resize the
//! first input → allocate → invoke, and must give `Ok` or `Err`, never crash. The same
//! mutations, many more of them, are what `bash .ci/fuzz RUNS structure` explores.

mod common;

use common::exercise::{exercise, Steps};
use common::structure;
use std::time::Duration;

/// Every step, a 2 s deadline per invoke (a lying WHILE bound may loop for long), then the
/// resized first input; the fuzz target's 256 MiB memory limit: a lying shape can ask
/// for gigabytes that are then filled and computed (a depthwise input of 16 777 216 rows took
/// 75 s and 20 GB), which says nothing the limit's error does not.
const STEPS: Steps = Steps {
    memory_limit: Some(256 << 20),
    deadline: Some(Duration::from_secs(2)),
    fill: |_| 1,
    resize: true,
};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = Vec::new();
    for dir in [
        "tests/models",
        "tflite-sys/tests/data",
        "examples/digits",
        "tests/compat",
    ] {
        let mut names: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "tflite"))
            .collect();
        names.sort();
        files.extend(names);
    }
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn lying_models_are_errors_not_crashes() {
    let seeds = seeds();
    assert!(seeds.len() > 50, "{}", seeds.len());
    let mut outcomes = std::collections::BTreeMap::new();
    let mut mutated = 0;
    for case in 0..1200u64 {
        let (name, good) = &seeds[case as usize % seeds.len()];
        if std::env::var_os("TFLITE_TRACE_CASES").is_some() {
            eprintln!("case {case}: {name}");
        }
        let mut bytes = good.clone();
        if structure::mutate(&mut bytes, case, 4) && bytes != *good {
            mutated += 1;
        }
        // TFLITE_DUMP_CASES=DIR writes each mutated model, to replay one that crashed.
        if let Some(dir) = std::env::var_os("TFLITE_DUMP_CASES") {
            let path = std::path::Path::new(&dir).join(format!("case-{case}.tflite"));
            std::fs::write(path, &bytes).unwrap();
        }
        *outcomes.entry(exercise(bytes, &STEPS)).or_insert(0) += 1;
    }
    eprintln!("{outcomes:?}");
    // The mutator changes nearly every model, and many lies still load (they reach the
    // kernels, which is the point).
    assert!(mutated > 1100, "{mutated}");
    assert!(
        outcomes.get("ran").copied().unwrap_or(0) > 100,
        "{outcomes:?}"
    );
}
