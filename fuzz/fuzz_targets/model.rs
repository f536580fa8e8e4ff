//! Fuzz target: a model file is untrusted input. Whatever the bytes, loading, building an
//! interpreter (builtin kernels, then XNNPACK), allocating, filling the inputs, invoking and
//! reading the outputs must return `Ok` or `Err`, never crash, abort or touch bad memory.
//! MediaPipe's custom ops (`tflite::mediapipe`, built in by default) are registered, so hostile
//! graphs also reach our custom-op boundary.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tflite::{Interpreter, Model};

/// Small enough that a hostile shape is refused long before libFuzzer's RSS limit.
const MEMORY_LIMIT: usize = 256 << 20;

fuzz_target!(|data: &[u8]| {
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
        for i in 0..it.input_count() {
            if let Ok(bytes) = it.input_mut(i).and_then(|t| t.into_bytes_mut()) {
                for (k, b) in bytes.iter_mut().enumerate() {
                    *b = (k as u8).wrapping_mul(37) & 0x3f;
                }
            }
        }
        if it.invoke().is_err() {
            continue;
        }
        let mut sum = 0u64;
        for i in 0..it.output_count() {
            if let Ok(bytes) = it.output(i).and_then(|t| t.bytes()) {
                sum = bytes.iter().fold(sum, |s, &b| s.wrapping_add(b as u64));
            }
        }
        std::hint::black_box(sum);
    }
});
