//! What every hostile-model check does with one model: load it, read what it says about
//! itself, build an interpreter (builtin kernels, then XNNPACK), allocate, fill the inputs,
//! invoke, read the outputs — and optionally resize the first input and do it again; then the
//! same through a runner of each of its signatures. Each step may return `Err`; none may
//! crash, abort, hang or touch bad memory. Shared by
//! `tests/corruption.rs`, `tests/structure.rs` and both fuzz targets (`fuzz/src/lib.rs`).

use std::time::Duration;
use tflite::{Interpreter, Model, SignatureRunner, Tensor, TensorMut};

/// Which steps to take, and with what.
#[derive(Clone, Copy, Debug)]
pub struct Steps {
    /// Passed to `InterpreterBuilder::memory_limit` (else the default).
    pub memory_limit: Option<usize>,
    /// Invoke with this deadline: a model may loop for as long as it likes (a WHILE bound
    /// pointed at a huge constant), which is the deadline's job, not a finding.
    pub deadline: Option<Duration>,
    /// Byte `k` of every input gets `fill(k % 4096)`.
    pub fill: fn(usize) -> u8,
    /// Then resize input 0 to one more in every dimension, and to a batch of 2, allocating
    /// and invoking after each.
    pub resize: bool,
}

impl Steps {
    /// Load, build, allocate, fill with zeros, invoke; no deadline, no limit, no resize.
    pub const PLAIN: Steps = Steps {
        memory_limit: None,
        deadline: None,
        fill: |_| 0,
        resize: false,
    };
}

/// How far a model got: `"refused"` (not loaded), `"no interpreter"`, `"no allocation"`,
/// `"invoke failed"` or `"ran"` (the last interpreter's first invoke).
pub fn exercise(bytes: Vec<u8>, steps: &Steps) -> &'static str {
    let Ok(model) = Model::from_bytes(bytes) else {
        return "refused";
    };
    // What the model says about itself, read from the (hostile) bytes.
    let _ = std::hint::black_box((model.inputs(), model.signatures(), model.operators()));
    let mut stage = "built";
    for xnnpack in [false, true] {
        let mut builder = Interpreter::builder(&model).use_xnnpack(xnnpack);
        if let Some(limit) = steps.memory_limit {
            builder = builder.memory_limit(limit);
        }
        let Ok(mut it) = builder.build() else {
            return "no interpreter";
        };
        if it.allocate_tensors().is_err() {
            stage = "no allocation";
        } else {
            stage = if fill_invoke_read(&mut it, steps) {
                "ran"
            } else {
                "invoke failed"
            };
            if steps.resize {
                resize_and_run(&mut it, steps);
            }
        }
        // The same through each signature's runner (on the same interpreter, whether or not
        // its own allocation succeeded).
        for key in it.signature_keys() {
            let Ok(mut run) = it.signature_runner(&key) else {
                continue;
            };
            if run.allocate_tensors().is_ok() {
                fill_invoke_read(&mut run, steps);
                if steps.resize {
                    resize_and_run(&mut run, steps);
                }
            }
        }
    }
    stage
}

/// Resizes input 0 to one more in every dimension, then to a batch of 2, allocating and
/// invoking after each.
fn resize_and_run(g: &mut impl Graph, steps: &Steps) {
    let Ok(shape) = g.input(0).map(|t| t.shape().to_vec()) else {
        return;
    };
    let bigger: Vec<usize> = shape.iter().map(|&d| d + 1).collect();
    let batch2: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(k, &d)| if k == 0 { 2 } else { d })
        .collect();
    for new in [bigger, batch2] {
        if g.resize_input(0, &new).is_ok() && g.allocate_tensors().is_ok() {
            fill_invoke_read(g, steps);
        }
    }
}

/// What the steps need of an interpreter or a signature runner.
trait Graph {
    fn counts(&self) -> (usize, usize);
    fn input(&self, i: usize) -> tflite::Result<Tensor<'_>>;
    fn input_mut(&mut self, i: usize) -> tflite::Result<TensorMut<'_>>;
    fn output(&self, i: usize) -> tflite::Result<Tensor<'_>>;
    fn resize_input(&mut self, i: usize, shape: &[usize]) -> tflite::Result<()>;
    fn allocate_tensors(&mut self) -> tflite::Result<()>;
    fn invoke(&mut self, deadline: Option<Duration>) -> tflite::Result<()>;
}

impl Graph for Interpreter {
    fn counts(&self) -> (usize, usize) {
        (self.input_count(), self.output_count())
    }
    fn input(&self, i: usize) -> tflite::Result<Tensor<'_>> {
        Interpreter::input(self, i)
    }
    fn input_mut(&mut self, i: usize) -> tflite::Result<TensorMut<'_>> {
        Interpreter::input_mut(self, i)
    }
    fn output(&self, i: usize) -> tflite::Result<Tensor<'_>> {
        Interpreter::output(self, i)
    }
    fn resize_input(&mut self, i: usize, shape: &[usize]) -> tflite::Result<()> {
        Interpreter::resize_input(self, i, shape)
    }
    fn allocate_tensors(&mut self) -> tflite::Result<()> {
        Interpreter::allocate_tensors(self)
    }
    fn invoke(&mut self, deadline: Option<Duration>) -> tflite::Result<()> {
        match deadline {
            Some(d) => self.invoke_with_timeout(d),
            None => Interpreter::invoke(self),
        }
    }
}

impl Graph for SignatureRunner<'_> {
    fn counts(&self) -> (usize, usize) {
        (self.input_names().len(), self.output_names().len())
    }
    fn input(&self, i: usize) -> tflite::Result<Tensor<'_>> {
        SignatureRunner::input(self, i)
    }
    fn input_mut(&mut self, i: usize) -> tflite::Result<TensorMut<'_>> {
        SignatureRunner::input_mut(self, i)
    }
    fn output(&self, i: usize) -> tflite::Result<Tensor<'_>> {
        SignatureRunner::output(self, i)
    }
    fn resize_input(&mut self, i: usize, shape: &[usize]) -> tflite::Result<()> {
        SignatureRunner::resize_input(self, i, shape)
    }
    fn allocate_tensors(&mut self) -> tflite::Result<()> {
        SignatureRunner::allocate_tensors(self)
    }
    fn invoke(&mut self, deadline: Option<Duration>) -> tflite::Result<()> {
        match deadline {
            Some(d) => self.invoke_with_timeout(d),
            None => SignatureRunner::invoke(self),
        }
    }
}

/// The period of the input fill.
const PERIOD: usize = 4096;

/// Fills every input, invokes, and reads every output; whether the invoke succeeded.
fn fill_invoke_read(g: &mut impl Graph, steps: &Steps) -> bool {
    // One period of the pattern, copied block by block: a lying model's inputs can be
    // hundreds of MB, which a per-byte loop (instrumented, in the fuzz targets) took seconds
    // to fill.
    let pattern: Vec<u8> = (0..PERIOD).map(steps.fill).collect();
    let (inputs, outputs) = g.counts();
    for i in 0..inputs {
        if let Ok(bytes) = g.input_mut(i).and_then(|t| t.into_bytes_mut()) {
            for block in bytes.chunks_mut(PERIOD) {
                block.copy_from_slice(&pattern[..block.len()]);
            }
        }
    }
    if g.invoke(steps.deadline).is_err() {
        return false;
    }
    let mut sum = 0u64;
    for i in 0..outputs {
        if let Ok(bytes) = g.output(i).and_then(|t| t.bytes()) {
            // A byte of every 64 (a cache line): every page of the output is read.
            sum = bytes
                .iter()
                .step_by(64)
                .fold(sum, |s, &b| s.wrapping_add(b as u64));
        }
    }
    std::hint::black_box(sum);
    true
}
