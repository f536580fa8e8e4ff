//! XNNPACK computes an elementwise node's output in the memory of an input nothing else reads
//! (its memory planner), also when that output has several consumers (`xnnpack/0007`): the
//! shared memory must then live until the last of them. The model is a chain of residual
//! blocks as MediaPipe's detectors build them, each PReLU output read by the next depthwise
//! convolution and, three nodes later, by the next ADD; in between, a 1x1 convolution writes
//! a larger tensor, which the planner places first and would have put in the PReLU output's
//! memory had it been freed after the first reader (the test fails so: max |diff| 13 for
//! outputs up to 18). Made by `tests/models/make_models.py residual_prelu`.
#![cfg(feature = "xnnpack")]

use tflite::{Interpreter, Model};

mod common;
use common::{assert_close, model_f32s, Tolerance};

fn run(model: &Model, xnnpack: bool, x: &[f32]) -> Vec<f32> {
    let mut it = Interpreter::builder(model)
        .profiling(true)
        .use_xnnpack(xnnpack)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    let plan = it.execution_plan().unwrap();
    assert!(plan.iter().all(|n| n.delegated == xnnpack), "{plan:?}");
    it.input_mut(0).unwrap().copy_from_slice(x).unwrap();
    // Twice: the second invoke starts from the workspace the first one left.
    it.invoke().unwrap();
    let first = it.output(0).unwrap().to_vec::<f32>().unwrap();
    it.invoke().unwrap();
    let second = it.output(0).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(first, second);
    first
}

/// Tolerance: the same float arithmetic in another order (XNNPACK's kernels, TFLite's, Google's
/// newer XNNPACK): 1e-5 of the largest output. A value overwritten too early is off by the
/// size of the activations.
#[test]
fn elementwise_outputs_with_two_consumers_survive_until_the_last() {
    let path = format!(
        "{}/tests/models/residual_prelu.tflite",
        env!("CARGO_MANIFEST_DIR")
    );
    let model = Model::from_file(path).unwrap();
    let ops = model.operators().unwrap();
    assert!(
        ops.iter().any(|o| o.name == "PRELU" && o.nodes == 3),
        "{ops:?}"
    );
    let x = model_f32s("residual_prelu.in.f32");
    let want = model_f32s("residual_prelu.out.f32");
    for xnnpack in [true, false] {
        let got = run(&model, xnnpack, &x);
        assert!(got.iter().any(|&v| v != 0.0));
        let r = assert_close(
            &format!("xnnpack {xnnpack}"),
            &got,
            &want,
            Tolerance::Relative(1e-5),
        );
        eprintln!(
            "xnnpack {xnnpack}: relative max |diff| {:.2e}",
            r.relative()
        );
    }
}
