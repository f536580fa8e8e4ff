//! Structure-aware corruption: models that stay valid flatbuffers but lie about themselves
//! (`tests/common/structure.rs`: shapes, every tensor type, operands, opcodes, options,
//! quantization, sparsity, versions, constant data, names, custom options, vector lengths). Each mutated model goes through load →
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
    // Valid models holding what the others do not (resources, a hash table, TFLite's own
    // custom operators' options, sparse constants, constants at offsets, LSH_PROJECTION): made by
    // tests/fuzz_regressions/make_resource_cases.py.
    for name in [
        "resource_variable",
        "hashtable_lookup",
        "audio_mfcc",
        "densify_sparse_constants",
        "constants_at_offsets",
        "lsh_projection",
    ] {
        files.push(format!("{root}/tests/fuzz_regressions/{name}.tflite").into());
    }
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// `TFLITE_STRUCTURE_CASES` (default 1200) mutated models, from seed
/// `TFLITE_STRUCTURE_FIRST` (default 0): a longer local hunt is
/// `TFLITE_STRUCTURE_CASES=100000 cargo test --release --test structure`.
fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v}: not a number"))
        })
        .unwrap_or(default)
}

#[test]
fn lying_models_are_errors_not_crashes() {
    let seeds = seeds();
    assert!(seeds.len() > 50, "{}", seeds.len());
    let count = env_u64("TFLITE_STRUCTURE_CASES", 1200);
    let first = env_u64("TFLITE_STRUCTURE_FIRST", 0);
    let mut outcomes = std::collections::BTreeMap::new();
    let mut mutated = 0;
    for case in first..first + count {
        let (name, good) = &seeds[case as usize % seeds.len()];
        let mut bytes = good.clone();
        let done = structure::mutations(&mut bytes, case, 4, good.len() + 4096);
        if std::env::var_os("TFLITE_TRACE_CASES").is_some() {
            eprintln!("case {case}: {name} {done:?}");
        }
        if done.is_some() && bytes != *good {
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
    assert!(mutated * 12 > count * 11, "{mutated} of {count}");
    assert!(
        outcomes.get("ran").copied().unwrap_or(0) * 12 > count,
        "{outcomes:?}"
    );
}

/// The mutator reaches the fields it claims to: every kind of site is found in the seeds,
/// and a tensor's type is drawn from every `TensorType` of the schema.
#[test]
fn the_mutator_reaches_every_field_and_type() {
    use structure::{Absent, Kind};
    let mut kinds = std::collections::BTreeMap::new();
    for (_, bytes) in seeds() {
        for site in structure::sites(&bytes).unwrap().sites {
            // The kind's name; for a field left out, which field of what.
            let name = match site.kind {
                Kind::Absent(..) => format!("{:?}", site.kind),
                kind => format!("{kind:?}").split('(').next().unwrap().to_string(),
            };
            *kinds.entry(name).or_insert(0usize) += 1;
        }
    }
    eprintln!("{kinds:?}");
    // Fields no seed holds (variant subtypes, custom quantization, large custom options) are
    // mutated only where a model has them; these must be found.
    for kind in [
        Kind::TensorIndex,
        Kind::SignatureTensor,
        Kind::Dim,
        Kind::VectorLength(0),
        Kind::TensorType,
        Kind::BufferIndex,
        Kind::Scale,
        Kind::ZeroPoint,
        Kind::QuantizedDimension,
        Kind::OpcodeIndex,
        Kind::OpVersion,
        Kind::BuiltinCode,
        Kind::DeprecatedBuiltinCode,
        Kind::OptionsType,
        Kind::OptionField(0),
        Kind::SubgraphIndex,
        Kind::ConstInt32,
        Kind::ConstInt64,
        Kind::ConstWord,
        Kind::Int,
        Kind::Long,
        Kind::Short,
        Kind::Byte(0),
        Kind::DataByte,
        // Fields the converter leaves out at their defaults: a float32 tensor's type, a
        // tensor's is_variable, an operator's opcode index 0, an option.
        Kind::Absent(1, Absent::TensorType),
        Kind::Absent(5, Absent::Bool),
        Kind::Absent(0, Absent::OpcodeIndex),
        Kind::Absent(0, Absent::OptionField),
    ] {
        let name = match kind {
            Kind::Absent(..) => format!("{kind:?}"),
            _ => format!("{kind:?}").split('(').next().unwrap().to_string(),
        };
        assert!(
            kinds.contains_key(&name),
            "no {name} site in the seeds: {kinds:?}"
        );
    }
    let mut rng = structure::Rng(7);
    let mut drawn = [false; 256];
    for _ in 0..10_000 {
        drawn[structure::tensor_type(&mut rng) as usize] = true;
    }
    let missing: Vec<usize> = (0..18).filter(|&t| !drawn[t]).collect();
    assert!(missing.is_empty(), "types never drawn: {missing:?}");
    assert!(drawn[18..].iter().any(|&d| d), "no code past INT4 drawn");
}
