//! XNNPACK's thread pool on small operators. With two threads every operator is published to
//! the second thread, which may join it or, when the calling thread has already claimed every
//! tile, be cancelled (pthreadpool patch 0004); a futex wake-up is made only when a thread may
//! sleep (0003). The digits models' operators take well under a microsecond, about what the
//! second thread needs to see a command, so both outcomes are to be expected. Consecutive
//! invokes get different inputs: a lost tile leaves the previous invoke's values and changes
//! the output's bits, a lost wake-up hangs. `.ci/tsan` runs this file.
#![cfg(feature = "xnnpack")]

use tflite::{Interpreter, Model};

fn digits(name: &str) -> Model {
    Model::from_file(format!(
        "{}/examples/digits/{name}.tflite",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The output bytes of `invokes` invokes on `threads` threads, input k a different 8x8 image
/// (bytes: the int8 model's input and output are int8, the others' float32).
fn outputs(model: &Model, threads: usize, invokes: usize) -> Vec<Vec<u8>> {
    let mut it = Interpreter::builder(model)
        .num_threads(threads)
        .build()
        .unwrap();
    assert!(it.has_delegate(), "XNNPACK did not take the model");
    it.allocate_tensors().unwrap();
    (0..invokes)
        .map(|k| {
            let mut input = it.input_mut(0).unwrap();
            let bytes = input.bytes_mut().unwrap();
            let width = bytes.len() / 64;
            for (i, pixel) in bytes.chunks_mut(width).enumerate() {
                let v = ((i * 37 + k * 11) % 17) as f32 / 16.0;
                if width == 4 {
                    pixel.copy_from_slice(&v.to_ne_bytes());
                } else {
                    pixel[0] = ((v * 255.0) as i32 - 128) as i8 as u8;
                }
            }
            it.invoke().unwrap();
            it.output(0).unwrap().bytes().unwrap().to_vec()
        })
        .collect()
}

#[test]
fn small_operators_on_two_threads_compute_the_same_bits_as_one() {
    let invokes = if cfg!(debug_assertions) { 3000 } else { 20000 };
    for name in ["digits_float32", "digits_dynamic_range", "digits_int8"] {
        let model = digits(name);
        let one = outputs(&model, 1, 17);
        assert!(one[0] != one[1], "{name}: different inputs, same output");
        let two = outputs(&model, 2, invokes);
        for (k, got) in two.iter().enumerate() {
            assert!(
                *got == one[k % 17],
                "{name}, invoke {k}: 2 threads differ from 1"
            );
        }
    }
}

/// Several interpreters, each with its own pool of two threads, invoking at once: pools that
/// share nothing must not disturb each other's joins and cancellations.
#[test]
fn pools_on_several_threads_each_compute_their_own_bits() {
    let model = digits("digits_dynamic_range");
    let one = outputs(&model, 1, 17);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for (k, got) in outputs(&model, 2, 1000).iter().enumerate() {
                    assert!(*got == one[k % 17], "invoke {k}: differs from 1 thread");
                }
            });
        }
    });
}
