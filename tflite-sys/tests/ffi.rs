//! Calls the raw C API end to end on committed models (made by tests/data/make_models.py) and
//! compares with the outputs Google's runtime gave for the same inputs. Without the `xnnpack`
//! feature the XNNPACK tests are left out, and the models and helpers only they use go unused.
#![cfg_attr(not(feature = "xnnpack"), allow(dead_code))]

use std::ffi::{c_void, CStr};
use std::ptr;
use tflite_sys::*;

const ADD_MUL: &[u8] = include_bytes!("data/add_mul.tflite");
const CONV_DENSE: &[u8] = include_bytes!("data/conv_dense.tflite");
const DENSE_GELU: &[u8] = include_bytes!("data/dense_gelu.tflite");
const DENSE_INT8: &[u8] = include_bytes!("data/dense_int8.tflite");
const DENSE_INT8_MIXED_BIAS: &[u8] = include_bytes!("data/dense_int8_mixed_bias.tflite");

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The model bytes in an 8-byte-aligned buffer: TFLite's flatbuffer verifier checks the
/// alignment of every scalar, and `include_bytes!` data has none (on armv7 it lands unaligned).
/// The buffer must outlive the model made from it.
fn aligned(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks(8)
        .map(|c| {
            let mut word = [0u8; 8];
            word[..c.len()].copy_from_slice(c);
            u64::from_ne_bytes(word)
        })
        .collect()
}

/// What a do-nothing delegate, applied after the others, sees in the execution plan:
/// one (builtin code, custom name) per node.
#[derive(Default)]
struct PlanSpy {
    nodes: Vec<(i32, Option<String>)>,
}

unsafe extern "C" fn spy_prepare(
    ctx: *mut TfLiteContext,
    delegate: *mut TfLiteDelegate,
) -> TfLiteStatus {
    let spy = &mut *((*delegate).data_ as *mut PlanSpy);
    let mut plan: *mut TfLiteIntArray = ptr::null_mut();
    if ((*ctx).GetExecutionPlan.unwrap())(ctx, &mut plan) != kTfLiteOk {
        return kTfLiteError;
    }
    let ids = std::slice::from_raw_parts((*plan).data.as_ptr(), (*plan).size as usize);
    for &id in ids {
        let mut node: *mut TfLiteNode = ptr::null_mut();
        let mut reg: *mut TfLiteRegistration = ptr::null_mut();
        if ((*ctx).GetNodeAndRegistration.unwrap())(ctx, id, &mut node, &mut reg) != kTfLiteOk {
            return kTfLiteError;
        }
        let name = (!(*reg).custom_name.is_null()).then(|| {
            CStr::from_ptr((*reg).custom_name)
                .to_string_lossy()
                .into_owned()
        });
        spy.nodes.push(((*reg).builtin_code, name));
    }
    kTfLiteOk
}

type Plan = Vec<(i32, Option<String>)>;

struct Run<T> {
    output: Vec<T>,
    plan: Plan,
}

/// [`run_bytes`] on a model with one float32 input and output.
fn run(model_bytes: &[u8], input: &[f32], xnnpack: bool) -> Run<f32> {
    let bytes: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
    let r = run_bytes(model_bytes, kTfLiteFloat32, &bytes, xnnpack);
    Run {
        output: f32s(&r.output),
        plan: r.plan,
    }
}

/// Model bytes -> interpreter (optionally with XNNPACK) -> allocate -> fill -> invoke -> read,
/// the input and output as raw bytes of the input's `dtype`.
fn run_bytes(model_bytes: &[u8], dtype: TfLiteType, input: &[u8], xnnpack: bool) -> Run<u8> {
    unsafe {
        let store = aligned(model_bytes);
        let model = TfLiteModelCreate(store.as_ptr() as *const c_void, model_bytes.len());
        assert!(!model.is_null(), "TfLiteModelCreate refused a valid model");
        let options = TfLiteInterpreterOptionsCreate();
        TfLiteInterpreterOptionsSetNumThreads(options, 1);
        #[cfg(not(feature = "xnnpack"))]
        assert!(!xnnpack, "tflite-sys was built without the xnnpack feature");
        #[cfg(feature = "xnnpack")]
        let mut xnn = ptr::null_mut();
        #[cfg(feature = "xnnpack")]
        if xnnpack {
            let mut xopts = TfLiteXNNPackDelegateOptionsDefault();
            xopts.num_threads = 1;
            xnn = TfLiteXNNPackDelegateCreate(&xopts);
            assert!(!xnn.is_null());
            TfLiteInterpreterOptionsAddDelegate(options, xnn);
        }
        let mut spy = Box::new(PlanSpy::default());
        let mut spy_delegate = Box::new(TfLiteDelegate {
            data_: &mut *spy as *mut PlanSpy as *mut c_void,
            Prepare: Some(spy_prepare),
            flags: kTfLiteDelegateFlagsNone as i64,
            ..Default::default()
        });
        TfLiteInterpreterOptionsAddDelegate(options, &mut *spy_delegate);

        let interp = TfLiteInterpreterCreate(model, options);
        assert!(!interp.is_null(), "TfLiteInterpreterCreate failed");
        assert_eq!(TfLiteInterpreterGetInputTensorCount(interp), 1);
        assert_eq!(TfLiteInterpreterGetOutputTensorCount(interp), 1);
        assert_eq!(TfLiteInterpreterAllocateTensors(interp), kTfLiteOk);
        let tin = TfLiteInterpreterGetInputTensor(interp, 0);
        assert_eq!(TfLiteTensorType(tin), dtype);
        assert_eq!(TfLiteTensorByteSize(tin), input.len());
        assert_eq!(
            TfLiteTensorCopyFromBuffer(tin, input.as_ptr() as *const c_void, input.len()),
            kTfLiteOk
        );
        assert_eq!(TfLiteInterpreterInvoke(interp), kTfLiteOk);
        let tout = TfLiteInterpreterGetOutputTensor(interp, 0);
        assert_eq!(TfLiteTensorType(tout), dtype);
        let mut output = vec![0u8; TfLiteTensorByteSize(tout)];
        assert_eq!(
            TfLiteTensorCopyToBuffer(tout, output.as_mut_ptr() as *mut c_void, output.len()),
            kTfLiteOk
        );

        TfLiteInterpreterDelete(interp);
        TfLiteInterpreterOptionsDelete(options);
        #[cfg(feature = "xnnpack")]
        if xnnpack {
            TfLiteXNNPackDelegateDelete(xnn);
        }
        TfLiteModelDelete(model);
        Run {
            output,
            plan: std::mem::take(&mut spy.nodes),
        }
    }
}

/// Every element within `tol`; fails on a length mismatch and on NaN (`NaN <= tol` is false;
/// `tflite-sys` cannot use `tflite::compare`, which lives in the crate above it).
#[track_caller]
fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol || (g.to_bits() == w.to_bits()),
            "element {i}: got {g}, reference {w} (tolerance {tol})"
        );
    }
}

#[test]
fn assert_close_fails_on_nan_infinity_and_length() {
    let fails = |got: &'static [f32], want: &'static [f32]| {
        std::panic::catch_unwind(|| assert_close(got, want, 1e9)).is_err()
    };
    assert!(fails(&[1.0, f32::NAN], &[1.0, 2.0]));
    assert!(fails(&[1.0, 2.0], &[1.0, f32::NAN]));
    assert!(fails(&[f32::INFINITY], &[0.0]));
    assert!(fails(&[1.0], &[1.0, 2.0]));
    assert!(!fails(&[1.0, 2.0], &[1.0, 2.5]));
}

#[test]
fn version_is_2_14_1() {
    let v = unsafe { CStr::from_ptr(TfLiteVersion()) };
    assert_eq!(v.to_str().unwrap(), "2.14.1");
    assert_eq!(unsafe { TfLiteSchemaVersion() }, 3);
}

#[test]
fn add_mul_matches_reference_without_delegates() {
    let x = f32s(include_bytes!("data/add_mul.in.f32"));
    let want = f32s(include_bytes!("data/add_mul.out.f32"));
    let r = run(ADD_MUL, &x, false);
    // The same float ops in the same order as Google's runtime: bit-identical.
    assert_eq!(r.output, want);
    // And the values really are x * 3 + 1.5.
    assert_close(
        &r.output,
        &x.iter().map(|v| v * 3.0 + 1.5).collect::<Vec<_>>(),
        1e-6,
    );
    assert!(r
        .plan
        .iter()
        .all(|(code, _)| *code != kTfLiteBuiltinDelegate as i32));
}

/// The builtin code of each node of the execution plan.
fn codes(plan: &Plan) -> Vec<i32> {
    plan.iter().map(|(c, _)| *c).collect()
}

/// The execution plan is a single node: the XNNPACK delegate, holding the whole graph.
fn assert_one_xnnpack_node(plan: &Plan) {
    assert_eq!(plan.len(), 1, "plan after XNNPACK: {plan:?}");
    assert_eq!(plan[0].0, kTfLiteBuiltinDelegate as i32);
    assert_eq!(plan[0].1.as_deref(), Some("TfLiteXNNPackDelegate"));
}

#[test]
fn conv_dense_matches_reference_on_builtin_kernels() {
    let x = f32s(include_bytes!("data/conv_dense.in.f32"));
    let want = f32s(include_bytes!("data/conv_dense.out.f32"));
    let r = run(CONV_DENSE, &x, false);
    assert_close(&r.output, &want, 1e-5);
    let codes = codes(&r.plan);
    assert!(
        codes.contains(&(kTfLiteBuiltinConv2d as i32)),
        "plan: {codes:?}"
    );
    assert!(
        codes.contains(&(kTfLiteBuiltinFullyConnected as i32)),
        "plan: {codes:?}"
    );
    assert!(
        !codes.contains(&(kTfLiteBuiltinDelegate as i32)),
        "plan: {codes:?}"
    );
}

#[test]
#[cfg(feature = "xnnpack")]
fn conv_dense_runs_through_xnnpack() {
    let x = f32s(include_bytes!("data/conv_dense.in.f32"));
    let want = f32s(include_bytes!("data/conv_dense.out.f32"));
    let r = run(CONV_DENSE, &x, true);
    assert_close(&r.output, &want, 1e-5);
    // Every op of this model is one XNNPACK supports: the whole graph became one delegate node.
    assert_one_xnnpack_node(&r.plan);
}

#[test]
fn corrupt_model_is_refused() {
    let mut bad = CONV_DENSE.to_vec();
    bad.truncate(bad.len() / 2);
    let model = unsafe { TfLiteModelCreate(bad.as_ptr() as *const c_void, bad.len()) };
    assert!(
        model.is_null(),
        "a truncated flatbuffer must fail verification"
    );
    let junk = [0x5au8; 256];
    let model = unsafe { TfLiteModelCreate(junk.as_ptr() as *const c_void, junk.len()) };
    assert!(model.is_null());
}

#[test]
#[cfg(feature = "xnnpack")]
fn gelu_runs_through_xnnpack() {
    let x = f32s(include_bytes!("data/dense_gelu.in.f32"));
    let want = f32s(include_bytes!("data/dense_gelu.out.f32"));
    let r = run(DENSE_GELU, &x, true);
    assert_close(&r.output, &want, 1e-5);
    // Our patch 0008: the exact GELU is delegated, so FULLY_CONNECTED + GELU are one node.
    assert_one_xnnpack_node(&r.plan);
    // TFLite's own reference kernel agrees.
    let builtin = run(DENSE_GELU, &x, false);
    assert_close(&builtin.output, &want, 1e-5);
    assert_eq!(
        builtin.plan.len(),
        2,
        "plan without XNNPACK: {:?}",
        builtin.plan
    );
}

#[test]
#[cfg(feature = "xnnpack")]
fn per_channel_int8_fully_connected_runs_through_xnnpack() {
    let x = include_bytes!("data/dense_int8.in.i8");
    let want = include_bytes!("data/dense_int8.out.i8");
    // Our patch 0009: both int8 FULLY_CONNECTED layers have per-channel weights (as the
    // converter makes them) and are delegated; TFLite 2.14's delegate left them to the
    // builtin kernel.
    let r = run_bytes(DENSE_INT8, kTfLiteInt8, x, true);
    assert_one_xnnpack_node(&r.plan);
    assert_eq!(r.output, want, "XNNPACK vs ai_edge_litert (also XNNPACK)");
    let builtin = run_bytes(DENSE_INT8, kTfLiteInt8, x, false);
    assert_eq!(
        codes(&builtin.plan),
        [kTfLiteBuiltinFullyConnected as i32; 2]
    );
    // TFLite's kernel requantizes in fixed point, XNNPACK's in float: at most 1 apart.
    assert_i8_within_one(&builtin.output, want);
}

/// Raw int8 outputs at most one quantum from the reference, element by element.
fn assert_i8_within_one(got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (*g as i8 as i32, *w as i8 as i32);
        assert!((g - w).abs() <= 1, "element {i}: got {g}, reference {w}");
    }
}

#[test]
#[cfg(feature = "xnnpack")]
fn per_tensor_bias_beside_per_channel_weights_stays_on_the_builtin_kernel() {
    let x = include_bytes!("data/dense_int8.in.i8");
    let want = include_bytes!("data/dense_int8.out.i8");
    // XNNPACK has no operator for this pairing. Patch 0009 refuses that one node, so the first
    // layer is still delegated; a refusal only at XNNPACK's define step would have failed the
    // whole delegation instead.
    let r = run_bytes(DENSE_INT8_MIXED_BIAS, kTfLiteInt8, x, true);
    assert_eq!(
        codes(&r.plan),
        [
            kTfLiteBuiltinDelegate as i32,
            kTfLiteBuiltinFullyConnected as i32
        ],
        "plan: {:?}",
        r.plan
    );
    assert_i8_within_one(&r.output, want);
}

/// The compiler of XNNPACK's micro-kernels is the build's choice (clang on x86 when it runs),
/// so it is checked where the answer is known: never another compiler off x86, and in CI
/// (`TFLITE_SYS_EXPECT_KERNEL_COMPILER`, set by `.ci/run`, whose machine has the README's
/// prerequisites) the one that machine must have used.
#[test]
fn kernel_compiler_is_the_expected_one() {
    if !cfg!(any(target_arch = "x86", target_arch = "x86_64")) {
        assert_eq!(KERNEL_COMPILER, "");
    }
    if let Ok(want) = std::env::var("TFLITE_SYS_EXPECT_KERNEL_COMPILER") {
        assert!(
            KERNEL_COMPILER.contains(&want),
            "micro-kernels built by {KERNEL_COMPILER:?}, expected {want:?}"
        );
    }
}
