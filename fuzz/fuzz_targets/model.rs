//! Fuzz target: a model file is untrusted input, mutated byte by byte (libFuzzer's mutations).
//! See `exercise` in `fuzz/src/lib.rs` for what must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tflite_fuzz::exercise(data, false));
