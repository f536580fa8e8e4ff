//! What both fuzz targets do with one model: whatever the bytes, loading, building an
//! interpreter (builtin kernels, then XNNPACK), allocating, filling the inputs, invoking, reading
//! the outputs — and, for the structure-aware target, resizing the first input and doing it all
//! again — must return `Ok` or `Err`, never crash, abort, hang or touch bad memory. MediaPipe's
//! custom ops (`tflite::mediapipe`, built in by default) are registered, so hostile graphs also
//! reach our custom-op boundary.

#[path = "../../tests/common/structure.rs"]
pub mod structure;

use std::time::Duration;
use tflite::{Interpreter, Model};

/// Small enough that a hostile shape is refused long before libFuzzer's RSS limit.
const MEMORY_LIMIT: usize = 256 << 20;

/// Fills every input with a fixed pattern, invokes, and reads every output.
fn fill_invoke_read(it: &mut Interpreter) -> bool {
    for i in 0..it.input_count() {
        if let Ok(bytes) = it.input_mut(i).and_then(|t| t.into_bytes_mut()) {
            for (k, b) in bytes.iter_mut().enumerate() {
                *b = (k as u8).wrapping_mul(37) & 0x3f;
            }
        }
    }
    // A model may loop for as long as it likes (a WHILE bound pointed at a huge constant):
    // that is a deadline's job, not a finding. A single node that never ends still is
    // (libFuzzer's -timeout).
    if it.invoke_with_timeout(Duration::from_secs(2)).is_err() {
        return false;
    }
    let mut sum = 0u64;
    for i in 0..it.output_count() {
        if let Ok(bytes) = it.output(i).and_then(|t| t.bytes()) {
            sum = bytes.iter().fold(sum, |s, &b| s.wrapping_add(b as u64));
        }
    }
    std::hint::black_box(sum);
    true
}

/// Runs one model through every step; with `resize`, also a second shape for input 0 (one
/// more in every dimension, then a batch of 2).
pub fn exercise(data: &[u8], resize: bool) {
    let Ok(model) = Model::from_bytes(data.to_vec()) else {
        return;
    };
    // What the model says about itself, read from the (hostile) bytes.
    let _ = (model.inputs(), model.signatures(), model.operators());
    for xnnpack in [false, true] {
        let builder = Interpreter::builder(&model)
            .memory_limit(MEMORY_LIMIT)
            .use_xnnpack(xnnpack);
        let Ok(mut it) = builder.build() else {
            continue;
        };
        if it.allocate_tensors().is_err() {
            continue;
        }
        fill_invoke_read(&mut it);
        if !resize || it.input_count() == 0 {
            continue;
        }
        let Ok(shape) = it.input(0).map(|t| t.shape().to_vec()) else {
            continue;
        };
        let bigger: Vec<usize> = shape.iter().map(|&d| d + 1).collect();
        let batch2: Vec<usize> = shape
            .iter()
            .enumerate()
            .map(|(k, &d)| if k == 0 { 2 } else { d })
            .collect();
        for new in [bigger, batch2] {
            if it.resize_input(0, &new).is_ok() && it.allocate_tensors().is_ok() {
                fill_invoke_read(&mut it);
            }
        }
    }
}
