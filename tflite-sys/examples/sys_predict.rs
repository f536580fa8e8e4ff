//! The raw C API on a bundled model: prints the TFLite version, then runs
//! `tests/data/conv_dense.tflite` with XNNPACK on its committed input and prints the output
//! next to the output Google's runtime gave.
//!
//!     cargo run --release -p tflite-sys --example sys_predict

use std::ffi::{c_void, CStr};
use tflite_sys::*;

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn main() {
    let model_bytes: &[u8] = include_bytes!("../tests/data/conv_dense.tflite");
    // TFLite's flatbuffer verifier checks alignment; `include_bytes!` data has none.
    let store: Vec<u64> = model_bytes
        .chunks(8)
        .map(|c| {
            let mut word = [0u8; 8];
            word[..c.len()].copy_from_slice(c);
            u64::from_ne_bytes(word)
        })
        .collect();
    let input = f32s(include_bytes!("../tests/data/conv_dense.in.f32"));
    let reference = f32s(include_bytes!("../tests/data/conv_dense.out.f32"));
    // SAFETY: every pointer passed below comes from the matching create call and is checked for
    // null; `store` holds the model bytes and outlives the model and interpreter.
    unsafe {
        println!(
            "TensorFlow Lite {}",
            CStr::from_ptr(TfLiteVersion()).to_string_lossy()
        );
        let model = TfLiteModelCreate(store.as_ptr() as *const c_void, model_bytes.len());
        assert!(!model.is_null(), "model refused");
        let options = TfLiteInterpreterOptionsCreate();
        let xopts = TfLiteXNNPackDelegateOptionsDefault();
        let xnn = TfLiteXNNPackDelegateCreate(&xopts);
        TfLiteInterpreterOptionsAddDelegate(options, xnn);
        let interp = TfLiteInterpreterCreate(model, options);
        assert!(!interp.is_null(), "interpreter creation failed");
        assert_eq!(TfLiteInterpreterAllocateTensors(interp), kTfLiteOk);
        let tin = TfLiteInterpreterGetInputTensor(interp, 0);
        assert_eq!(
            TfLiteTensorCopyFromBuffer(tin, input.as_ptr() as *const c_void, input.len() * 4),
            kTfLiteOk
        );
        assert_eq!(TfLiteInterpreterInvoke(interp), kTfLiteOk);
        let tout = TfLiteInterpreterGetOutputTensor(interp, 0);
        let mut out = vec![0f32; TfLiteTensorByteSize(tout) / 4];
        assert_eq!(
            TfLiteTensorCopyToBuffer(tout, out.as_mut_ptr() as *mut c_void, out.len() * 4),
            kTfLiteOk
        );
        println!("output    {out:?}");
        println!("reference {reference:?}");
        TfLiteInterpreterDelete(interp);
        TfLiteInterpreterOptionsDelete(options);
        TfLiteXNNPackDelegateDelete(xnn);
        TfLiteModelDelete(model);
    }
}
