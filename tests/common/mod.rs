//! Just enough of a `.tflite` (flatbuffer) reader for tests that edit a model in place: find a
//! field's bytes, then overwrite them. Positions are byte offsets into the file.
#![allow(dead_code)]

pub mod exercise;
pub mod structure;
pub mod tolerances;

/// The little-endian float32 values of `tests/models/<name>` (inputs and reference outputs
/// written by `tests/models/make_models.py`).
pub fn model_f32s(name: &str) -> Vec<f32> {
    let path = format!("{}/tests/models/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

pub use tflite::compare::{Comparable, Report, Tolerance};

/// Holds `got` to `want` with `tflite::compare::check` (which fails on a length mismatch and on
/// a NaN or infinity the other side does not have at the same place) and panics with `what` and
/// the worst element otherwise. Returns what was measured.
#[track_caller]
pub fn assert_close<T: Comparable>(
    what: &str,
    got: &[T],
    want: &[T],
    tolerance: Tolerance,
) -> Report {
    tflite::compare::check(got, want, tolerance).unwrap_or_else(|e| panic!("{what}: {e}"))
}

pub struct Flatbuffer<'a>(pub &'a [u8]);

impl Flatbuffer<'_> {
    fn u32_at(&self, p: usize) -> usize {
        u32::from_le_bytes(self.0[p..p + 4].try_into().unwrap()) as usize
    }

    fn u16_at(&self, p: usize) -> usize {
        u16::from_le_bytes(self.0[p..p + 2].try_into().unwrap()) as usize
    }

    /// The root table (`Model`).
    pub fn root(&self) -> usize {
        self.u32_at(0)
    }

    /// Position of field `i` of the table at `t`, if the field is present.
    pub fn field(&self, t: usize, i: usize) -> Option<usize> {
        let soffset = i32::from_le_bytes(self.0[t..t + 4].try_into().unwrap()) as i64;
        let vtable = (t as i64 - soffset) as usize;
        let at = 4 + 2 * i;
        (at < self.u16_at(vtable))
            .then(|| self.u16_at(vtable + at))
            .filter(|&o| o != 0)
            .map(|o| t + o)
    }

    /// (position of the first element, length) of the vector field `i` of the table at `t`.
    pub fn vector(&self, t: usize, i: usize) -> Option<(usize, usize)> {
        self.field(t, i).map(|p| {
            let v = p + self.u32_at(p);
            (v + 4, self.u32_at(v))
        })
    }

    /// The table element `k` of a vector of tables starting at `elements`.
    pub fn table(&self, elements: usize, k: usize) -> usize {
        let p = elements + 4 * k;
        p + self.u32_at(p)
    }

    /// The u32 element `k` of a vector starting at `elements`.
    pub fn u32_element(&self, elements: usize, k: usize) -> usize {
        self.u32_at(elements + 4 * k)
    }
}

// Field numbers of the TFLite schema used here.
pub const MODEL_OPERATOR_CODES: usize = 1;
pub const MODEL_SUBGRAPHS: usize = 2;
pub const OPERATOR_CODE_VERSION: usize = 2;
pub const SUBGRAPH_TENSORS: usize = 0;
pub const SUBGRAPH_INPUTS: usize = 1;
pub const TENSOR_SHAPE: usize = 0;

/// Cargo's runner for the target these tests were built for, if the tests run under one (e.g.
/// `qemu-aarch64 -L …` from `.ci/cross`: `CARGO_TARGET_<TRIPLE>_RUNNER`). Only a runner whose
/// variable names this process's architecture counts.
pub fn target_runner() -> Option<String> {
    let arch = std::env::consts::ARCH.to_uppercase();
    std::env::vars()
        .find(|(k, _)| {
            k.starts_with("CARGO_TARGET_") && k.ends_with("_RUNNER") && k.contains(&arch)
        })
        .map(|(_, runner)| runner)
}

/// A command running `program`, through cargo's runner for this target when there is one
/// (e.g. qemu when the tests run cross-compiled: `CARGO_TARGET_<TRIPLE>_RUNNER`).
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    use std::process::Command;
    match target_runner() {
        Some(runner) => {
            let mut words = runner.split_whitespace();
            let mut c = Command::new(words.next().unwrap());
            c.args(words).arg(program);
            c
        }
        None => Command::new(program),
    }
}
