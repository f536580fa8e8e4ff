//! What both fuzz targets do with one model: whatever the bytes, loading, building an
//! interpreter (builtin kernels, then XNNPACK), allocating, filling the inputs, invoking, reading
//! the outputs — and, for the structure-aware target, resizing the first input and doing it all
//! again — must return `Ok` or `Err`, never crash, abort, hang or touch bad memory. MediaPipe's
//! custom ops (`tflite::mediapipe`, built in by default) are registered, so hostile graphs also
//! reach our custom-op boundary.

#[path = "../../tests/common/structure.rs"]
pub mod structure;

#[path = "../../tests/common/exercise.rs"]
#[allow(dead_code)] // `Steps::PLAIN` is for the corruption tests
mod shared;

use std::time::Duration;

/// Small enough that a hostile shape is refused long before libFuzzer's RSS limit.
const MEMORY_LIMIT: usize = 256 << 20;

/// Runs one model through every step (`tests/common/exercise.rs`); with `resize`, also a
/// second shape for input 0 (one more in every dimension, then a batch of 2).
pub fn exercise(data: &[u8], resize: bool) {
    let steps = shared::Steps {
        memory_limit: Some(MEMORY_LIMIT),
        // Up to 6 invokes per input (2 interpreters, 2 resizes each): 6 s of deadlines stay
        // well inside libFuzzer's -timeout (.ci/fuzz), so a timeout means a loop no deadline
        // stops, not a slow model.
        deadline: Some(Duration::from_secs(1)),
        fill: |k| (k as u8).wrapping_mul(37) & 0x3f,
        resize,
    };
    shared::exercise(data.to_vec(), &steps);
}
