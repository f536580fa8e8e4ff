//! Structure-aware fuzz target: every mutation keeps the model a valid flatbuffer but changes
//! what it says (shapes, every tensor type, operands, opcodes, options, quantization, sparsity,
//! versions, constant data, names, custom options, vector lengths, fields left at their
//! defaults: `tests/common/structure.rs`), so it gets past the verifier
//! and reaches the kernels. Then load → allocate → invoke with and without XNNPACK, and again
//! after resizing the first input (`exercise` in `fuzz/src/lib.rs`).
#![no_main]

use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use tflite_fuzz::structure;

fuzz_target!(|data: &[u8]| tflite_fuzz::exercise(data, true));

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    // A mutated model: 1 to 4 edits, in place or (a field the model leaves out at its
    // default) appended, within max_size. Anything the walker cannot read (libFuzzer's
    // cross-over, say) gets libFuzzer's own byte mutations.
    let seed = u64::from(seed) | ((size as u64) << 32);
    let mut model = data[..size].to_vec();
    if structure::mutate(&mut model, seed, 4, max_size.min(data.len())) {
        data[..model.len()].copy_from_slice(&model);
        model.len()
    } else {
        libfuzzer_sys::fuzzer_mutate(data, size, max_size)
    }
});
