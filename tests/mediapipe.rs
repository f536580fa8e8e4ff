//! MediaPipe's custom operators, built in with the default `mediapipe` feature
//! (`tflite::mediapipe`): their results against TensorFlow's, their checks, which kernels run
//! with XNNPACK, and an application's own registration replacing a built-in one.
#![cfg(feature = "mediapipe")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tflite::custom_op::{CustomOp, OpContext, OpResult};
use tflite::mediapipe as ops;
use tflite::{Error, Interpreter, Model};

mod common;

fn npy(name: &str) -> Vec<f32> {
    let path = format!(
        "{}/examples/mediapipe_ops/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    npyz::NpyFile::new(&std::fs::read(path).unwrap()[..])
        .unwrap()
        .into_vec()
        .unwrap()
}

fn unpool_net(xnnpack: bool) -> Vec<f32> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/mediapipe_ops/unpool_net.tflite"
    );
    let model = Model::from_file(path).unwrap();
    let mut b = Interpreter::builder(&model);
    if !xnnpack {
        b = b.use_xnnpack(false);
    }
    let mut it = b.build().unwrap();
    assert_eq!(it.has_delegate(), xnnpack);
    it.allocate_tensors().unwrap();
    it.input_mut(0)
        .and_then(|mut t| t.copy_from_slice(&npy("input.npy")))
        .unwrap();
    it.invoke().unwrap();
    assert_eq!(
        it.output(0).map(|t| t.info()).unwrap().shape,
        [1, 16, 16, 2]
    );
    it.output(0).and_then(|t| t.to_vec::<f32>()).unwrap()
}

/// Within `tol` relative to each element's magnitude (at least 1); fails on NaN and on a length
/// mismatch (`tflite::compare`).
#[track_caller]
fn assert_close(got: &[f32], want: &[f32], tol: f64) {
    common::assert_close("outputs", got, want, common::Tolerance::Relative(tol));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let bound = common::Tolerance::Absolute(tol * f64::from(w.abs()).max(1.0));
        common::assert_close(&format!("element {i}"), &[*g], &[*w], bound);
    }
}

#[test]
fn mediapipe_ops_in_rust_match_tensorflow() {
    let reference = npy("reference.npy");
    assert!(reference.iter().any(|v| v.abs() > 1.0)); // a real signal, not zeros
    assert_close(&unpool_net(false), &reference, 1e-4);
}

#[test]
fn mediapipe_model_with_xnnpack_matches_tensorflow() {
    if cfg!(feature = "xnnpack") {
        assert_close(&unpool_net(true), &npy("reference.npy"), 1e-4);
    }
}

#[test]
fn mediapipe_ops_refuse_bad_options_and_indices() {
    use tflite::custom_op::CustomOp as _;
    assert!(ops::MaxUnpooling2D.init(&[0; 8]).is_err()); // too short
    let mut same = vec![0u8; 40];
    same[..4].copy_from_slice(&1i32.to_le_bytes());
    assert!(ops::MaxUnpooling2D.init(&same).is_err()); // zero strides and filter
    for (i, v) in [1i32, 2, 2, 2, 2, 0].iter().enumerate() {
        same[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    assert!(ops::MaxUnpooling2D.init(&same).is_ok());
    same[20..24].copy_from_slice(&1i32.to_le_bytes()); // a fused RELU
    assert!(ops::MaxUnpooling2D.init(&same).is_err());
}

/// Also with XNNPACK asked for: its own unpooling kernel writes wherever the indices point
/// (found by fuzzing), so our patch keeps it from taking the op, and ours runs.
#[test]
fn max_unpooling_refuses_indices_outside_the_output() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/mediapipe_ops/unpool_only.tflite"
    );
    let model = Model::from_file(path).unwrap();
    for xnnpack in [false, true] {
        let b = Interpreter::builder(&model);
        let b = if xnnpack { b } else { b.use_xnnpack(false) };
        let mut it = b.build().unwrap();
        it.allocate_tensors().unwrap();
        it.input_mut(0)
            .and_then(|mut t| t.copy_from_slice(&[1.0f32, 2.0, 3.0, 4.0]))
            .unwrap();
        it.input_mut(1)
            .and_then(|mut t| t.copy_from_slice(&[0.0f32, 3.0, 12.0, 15.0]))
            .unwrap();
        it.invoke().unwrap();
        let mut want = [0.0f32; 16];
        (want[0], want[3], want[12], want[15]) = (1.0, 2.0, 3.0, 4.0);
        assert_eq!(it.output(0).and_then(|t| t.data::<f32>()).unwrap(), want);
        for bad in [16.0f32, -1.0, 2.5, f32::NAN, 1e30] {
            it.input_mut(1)
                .and_then(|mut t| t.copy_from_slice(&[0.0f32, 1.0, 2.0, bad]))
                .unwrap();
            let e = it.invoke().unwrap_err().to_string();
            assert!(
                e.contains("MaxUnpooling2D") && e.contains("is not a position"),
                "xnnpack {xnnpack}: {e}"
            );
        }
    }
}

/// Counts the invocations of a wrapped op.
struct CountInvokes<O>(O, Arc<AtomicUsize>);

impl<O: CustomOp> CustomOp for CountInvokes<O> {
    type State = O::State;
    fn init(&self, options: &[u8]) -> OpResult<O::State> {
        self.0.init(options)
    }
    fn prepare(&self, s: &mut O::State, ctx: &mut OpContext<'_>) -> OpResult {
        self.0.prepare(s, ctx)
    }
    fn invoke(&self, s: &mut O::State, ctx: &mut OpContext<'_>) -> OpResult {
        self.1.fetch_add(1, Ordering::SeqCst);
        self.0.invoke(s, ctx)
    }
}

#[test]
fn xnnpack_takes_only_the_transposed_convolution() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/mediapipe_ops/unpool_net.tflite"
    );
    let model = Model::from_file(path).unwrap();
    for xnnpack in [false, true] {
        if xnnpack && !cfg!(feature = "xnnpack") {
            continue;
        }
        let n = Arc::new(AtomicUsize::new(0));
        let mut b = Interpreter::builder(&model)
            .custom_op(
                "MaxPoolingWithArgmax2D",
                CountInvokes(ops::MaxPoolingWithArgmax2D, n.clone()),
            )
            .custom_op(
                "MaxUnpooling2D",
                CountInvokes(ops::MaxUnpooling2D, n.clone()),
            )
            .custom_op(
                "Convolution2DTransposeBias",
                CountInvokes(ops::Convolution2DTransposeBias, n.clone()),
            );
        if !xnnpack {
            b = b.use_xnnpack(false);
        }
        let mut it = b.build().unwrap();
        it.allocate_tensors().unwrap();
        it.invoke().unwrap();
        // With XNNPACK, it takes Convolution2DTransposeBias; the pooling pair stays ours.
        assert_eq!(
            n.load(Ordering::SeqCst),
            if xnnpack { 2 } else { 3 },
            "xnnpack: {xnnpack}"
        );
    }
}

#[test]
fn mediapipe_models_run_without_registering_anything_unless_turned_off() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/mediapipe_ops/unpool_net.tflite"
    );
    let model = Model::from_file(path).unwrap();
    assert!(Interpreter::new(&model).is_ok());
    match Interpreter::builder(&model).mediapipe_ops(false).build() {
        Err(Error::UnsupportedOp { op, .. }) => {
            assert!(ops::OPS.iter().any(|(n, _)| *n == op), "{op}")
        }
        other => panic!("expected an unsupported op, got {other:?}"),
    }
}

#[test]
fn an_application_registration_replaces_the_built_in_op() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/mediapipe_ops/unpool_net.tflite"
    );
    let model = Model::from_file(path).unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let mut it = Interpreter::builder(&model)
        .use_xnnpack(false)
        .custom_op(
            "MaxUnpooling2D",
            CountInvokes(ops::MaxUnpooling2D, n.clone()),
        )
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    it.input_mut(0)
        .unwrap()
        .copy_from_slice(&npy("input.npy"))
        .unwrap();
    it.invoke().unwrap();
    assert_eq!(
        n.load(Ordering::SeqCst),
        1,
        "ours ran, not the built-in one"
    );
    assert_close(
        &it.output(0).unwrap().to_vec::<f32>().unwrap(),
        &npy("reference.npy"),
        1e-4,
    );
}

/// MediaPipe's landmark/crop operators (version 2) in one graph
/// (`examples/mediapipe_ops/make_transform_model.py`): Landmarks2TransformMatrix's matrix,
/// TransformTensorBilinear's crop (30 % of it outside the image: zeros) and
/// TransformLandmarks' landmarks against a NumPy implementation in float64 written from the
/// ops' definition. Tolerance 1e-5 relative: float32 rounding of a few operations (the
/// matrix's entries are sums of 4 products; the crop mixes 4 pixels).
#[test]
fn transform_ops_match_numpy() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/mediapipe_ops/transform_net.tflite"
    );
    let model = Model::from_file(path).unwrap();
    for xnnpack in [false, true] {
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .build()
            .unwrap();
        it.allocate_tensors().unwrap();
        for (i, name) in ["transform_landmarks.npy", "transform_image.npy"]
            .iter()
            .enumerate()
        {
            it.input_mut(i)
                .and_then(|mut t| t.copy_from_slice(&npy(name)))
                .unwrap();
        }
        it.invoke().unwrap();
        for (i, name) in ["matrix", "crop", "landmarks"].iter().enumerate() {
            let want = npy(&format!("transform_reference_{name}.npy"));
            let got = it.output(i).and_then(|t| t.to_vec::<f32>()).unwrap();
            assert_close(&got, &want, 1e-5);
        }
        let crop = it.output(1).and_then(|t| t.to_vec::<f32>()).unwrap();
        let zeros = crop.iter().filter(|&&v| v == 0.0).count();
        assert!(zeros > 0 && zeros < crop.len() / 2, "{zeros}");
    }
}

/// The transform ops refuse what MediaPipe's kernels would read past: a landmark index past
/// the input, a crop with other channels than its image, a matrix that is not 4×4; and
/// malformed or missing options.
#[test]
fn transform_ops_refuse_bad_shapes_and_options() {
    use tflite::custom_op::CustomOp;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/mediapipe_ops/transform_net.tflite"
    );
    let model = Model::from_file(path).unwrap();
    // Landmarks resized to 4: the subset's indices (up to 4) and the rotation's fit, index 4
    // does not.
    let mut it = Interpreter::new(&model).unwrap();
    it.resize_input(0, &[1, 4, 3]).unwrap();
    let err = it.allocate_tensors().unwrap_err().to_string();
    assert!(err.contains("landmark index 4"), "{err}");
    // Image with 2 channels, the crop declares 3.
    let mut it = Interpreter::new(&model).unwrap();
    it.resize_input(1, &[1, 12, 16, 2]).unwrap();
    let err = it.allocate_tensors().unwrap_err().to_string();
    assert!(err.contains("channels"), "{err}");
    // Options: not a FlexBuffer; then valid maps (the `flatbuffers` Python package's
    // `flexbuffers.Dumps` of {subset_idxs: [0, 1], left_rotation_idx: 0, right_rotation_idx: 1,
    // target_rotation_radians: 0.0, output_width: 4, output_height: 4, scale_x: 1.0,
    // scale_y: 1.0}, then with one change each).
    let op = ops::Landmarks2TransformMatrix;
    assert!(op.init(&[1, 2, 3, 4]).is_err());
    assert!(op.init(&[]).is_err());
    let err = op.init(&[0x00, 0x24, 0x01]).err().unwrap().to_string();
    assert!(err.contains("FlexBuffer"), "{err}");
    let hex = |s: &str| -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    const KEYS: &str = "7375627365745f69647873000200010404";
    const NAMES: &str = "6c6566745f726f746174696f6e5f6964780072696768745f726f746174696f6e5f696478007461726765745f726f746174696f6e5f72616469616e73006f75747075745f7769647468006f75747075745f686569676874007363616c655f78007363616c655f7900";
    let cases = [
        ("valid", format!("{KEYS}{NAMES}0869202e5a150e804b00000a0000000100000008000000000000000400000004000000010000000000803f0000803f9b00000000000000060606060e0e280e282601"), None),
        ("scale_x missing", "7375627365745f696478730002000104046c6566745f726f746174696f6e5f6964780072696768745f726f746174696f6e5f696478007461726765745f726f746174696f6e5f72616469616e73006f75747075745f7769647468006f75747075745f686569676874007363616c655f790007611826520d77420000000a0000000100000007000000000000000400000004000000010000000000803f8f00000000000000060606060e280e232601".to_string(), Some("scale_x")),
        ("negative index", format!("{KEYS}{NAMES}0869202e5a150e804b00000a0000000100000008000000ffffffff0400000004000000010000000000803f0000803f9b00000000000000060606060e0e280e282601"), Some("negative")),
        ("empty subset", format!("7375627365745f696478730000{NAMES}0869202e5a150e7c4b00000a0000000100000008000000000000000400000004000000010000000000803f0000803f9700000000000000060606060e0e280e282601"), Some("empty")),
        ("zero width", format!("{KEYS}{NAMES}0869202e5a150e804b00000a0000000100000008000000000000000400000000000000010000000000803f0000803f9b00000000000000060606060e0e280e282601"), Some("output_width")),
    ];
    for (what, options, error) in cases {
        match (op.init(&hex(&options)), error) {
            (Ok(_), None) => {}
            (Err(e), Some(want)) => assert!(e.to_string().contains(want), "{what}: {e}"),
            (got, want) => panic!("{what}: {:?}, expected an error with {want:?}", got.err()),
        }
    }
}
