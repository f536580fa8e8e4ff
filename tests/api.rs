//! Integration tests of the safe API on the committed models in tests/models (made by
//! tests/models/make_models.py) and tflite-sys/tests/data.

mod common;

use std::sync::Arc;
use tflite::{DataType, Error, Interpreter, Model, Quantization, Side, XnnpackOptions};

fn model_path(name: &str) -> String {
    format!("{}/tests/models/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn sys_data(name: &str) -> String {
    format!(
        "{}/tflite-sys/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn read_f32(path: &str) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn ready(model: &Model) -> Interpreter {
    let mut it = Interpreter::new(model).unwrap();
    it.allocate_tensors().unwrap();
    it
}

#[test]
fn version() {
    assert_eq!(tflite::tflite_version(), "2.14.1");
}

#[test]
fn every_dtype_round_trips_through_a_kernel() {
    let model = Model::from_file(model_path("all_dtypes.tflite")).unwrap();
    let mut it = ready(&model);
    // The string output is dynamic-sized, which XNNPACK refuses: TFLite's kernels run it,
    // and the interpreter says so.
    assert!(!it.has_delegate());
    if cfg!(feature = "xnnpack") {
        assert!(
            it.delegate_skipped().unwrap().contains("dynamic-sized"),
            "{:?}",
            it.delegate_skipped()
        );
    }
    match Interpreter::builder(&model)
        .xnnpack(XnnpackOptions::default().required(true))
        .build()
    {
        Err(Error::Tflite {
            call,
            tflite_message,
        }) => {
            assert_eq!(call, "TfLiteInterpreterModifyGraphWithDelegate");
            // Without the feature: "built without the xnnpack feature".
            let why = if cfg!(feature = "xnnpack") {
                "dynamic-sized"
            } else {
                "feature"
            };
            assert!(tflite_message.contains(why), "{tflite_message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(it.input_count(), 13);
    assert_eq!(it.output_count(), 13);

    macro_rules! round_trip {
        ($t:ty, $dtype:ident, $name:literal, $vals:expr) => {{
            let vals: [$t; 6] = $vals;
            let i = concat!("serving_default_x_", $name, ":0");
            let info = it.input(i).map(|t| t.info()).unwrap();
            assert_eq!(info.dtype, DataType::$dtype);
            assert_eq!(info.shape, [6]);
            it.input_mut(i)
                .and_then(|mut t| t.copy_from_slice::<$t>(&vals))
                .unwrap();
            vals
        }};
    }
    let f32s = round_trip!(
        f32,
        Float32,
        "float32",
        [1.5, -2.0, 3.25, f32::MAX, f32::MIN_POSITIVE, -0.0]
    );
    let f64s = round_trip!(
        f64,
        Float64,
        "float64",
        [1e300, -2.5, 0.1, 7.0, -1e-300, 3.0]
    );
    let f16s = round_trip!(
        tflite::f16,
        Float16,
        "float16",
        [0.5, -1.0, 2.0, 65504.0, -3.5, 0.25].map(tflite::f16::from_f32)
    );
    let i8s = round_trip!(i8, Int8, "int8", [i8::MIN, -1, 0, 1, 64, i8::MAX]);
    let u8s = round_trip!(u8, UInt8, "uint8", [0, 1, 2, 128, 254, u8::MAX]);
    let i16s = round_trip!(i16, Int16, "int16", [i16::MIN, -300, 0, 300, 1, i16::MAX]);
    let u16s = round_trip!(u16, UInt16, "uint16", [0, 1, 300, 40000, 65534, u16::MAX]);
    let i32s = round_trip!(
        i32,
        Int32,
        "int32",
        [i32::MIN, -70000, 0, 70000, 1, i32::MAX]
    );
    let u32s = round_trip!(
        u32,
        UInt32,
        "uint32",
        [0, 1, 70000, 3_000_000_000, 5, u32::MAX]
    );
    let i64s = round_trip!(
        i64,
        Int64,
        "int64",
        [i64::MIN, -1 << 40, 0, 1 << 40, 1, i64::MAX]
    );
    let u64s = round_trip!(u64, UInt64, "uint64", [0, 1, 1 << 40, 1 << 63, 5, u64::MAX]);
    let bools = round_trip!(bool, Bool, "bool", [true, false, false, true, true, false]);
    let s = "serving_default_x_string:0";
    assert_eq!(
        it.input(s).map(|t| t.info()).unwrap().dtype,
        DataType::String
    );
    let strings: [&[u8]; 6] = [b"alpha", b"", "ünï".as_bytes(), b"d", b"\0nul", b"last one"];
    it.input_mut(s)
        .and_then(|mut t| t.set_strings(&strings))
        .unwrap();

    // Raw bytes may not break a string tensor's offsets or a bool's 0/1.
    assert!(matches!(
        it.input_mut(s).and_then(|t| t.into_bytes_mut()),
        Err(Error::InvalidData { .. })
    ));
    let b = "serving_default_x_bool:0";
    assert!(matches!(
        it.input_mut(b).and_then(|t| t.into_bytes_mut()),
        Err(Error::InvalidData { .. })
    ));
    let i16_in = "serving_default_x_int16:0";
    assert_eq!(
        it.input_mut(i16_in)
            .and_then(|t| t.into_bytes_mut())
            .unwrap()
            .len(),
        12
    );
    it.invoke().unwrap();

    macro_rules! check {
        ($t:ty, $name:literal, $want:expr) => {{
            // Output names are converter-generated; each output has a distinct type.
            let out = (0..it.output_count())
                .find(|&k| {
                    it.output(k).map(|t| t.info()).unwrap().dtype == <$t as tflite::Element>::DTYPE
                })
                .unwrap();
            assert_eq!(it.output(out).map(|t| t.info()).unwrap().shape, [2, 3]);
            assert_eq!(
                it.output(out).and_then(|t| t.data::<$t>()).unwrap(),
                &$want[..],
                "{}",
                $name
            );
        }};
    }
    check!(f32, "float32", f32s);
    check!(f64, "float64", f64s);
    check!(tflite::f16, "float16", f16s);
    check!(i8, "int8", i8s);
    check!(u8, "uint8", u8s);
    check!(i16, "int16", i16s);
    check!(u16, "uint16", u16s);
    check!(i32, "int32", i32s);
    check!(u32, "uint32", u32s);
    check!(i64, "int64", i64s);
    check!(u64, "uint64", u64s);
    check!(bool, "bool", bools);
    let out = (0..it.output_count())
        .find(|&k| it.output(k).map(|t| t.info()).unwrap().dtype == DataType::String)
        .unwrap();
    let got = it.output(out).and_then(|t| t.strings()).unwrap();
    assert_eq!(got, strings.iter().map(|s| s.to_vec()).collect::<Vec<_>>());
}

#[test]
fn quantized_int8_model_matches_reference() {
    let model = Model::from_file(model_path("quant_int8.tflite")).unwrap();
    let x: Vec<i8> = std::fs::read(model_path("quant_int8.in.i8"))
        .unwrap()
        .into_iter()
        .map(|b| b as i8)
        .collect();
    let want: Vec<i8> = std::fs::read(model_path("quant_int8.out.i8"))
        .unwrap()
        .into_iter()
        .map(|b| b as i8)
        .collect();
    for xnnpack in [true, false] {
        let builder = Interpreter::builder(&model);
        let builder = if xnnpack {
            builder
        } else {
            builder.use_xnnpack(false)
        };
        let mut it = builder.build().unwrap();
        it.allocate_tensors().unwrap();
        let info = it.input(0).map(|t| t.info()).unwrap();
        assert_eq!(info.dtype, DataType::Int8);
        let q = info
            .quantization
            .per_tensor()
            .expect("int8 input is quantized per tensor");
        assert!(q.scale > 0.0 && q.scale < 1.0, "scale {}", q.scale);
        it.input_mut(0)
            .and_then(|mut t| t.copy_from_slice(&x))
            .unwrap();
        it.invoke().unwrap();
        let out = it.output(0).map(|t| t.info()).unwrap();
        let oq = out.quantization.per_tensor().unwrap();
        // Softmax output: TFLite fixes scale 1/256 and zero point -128 for int8.
        assert_eq!((oq.scale, oq.zero_point), (1.0 / 256.0, -128));
        let got = it.output(0).and_then(|t| t.data::<i8>()).unwrap();
        // Google's runtime ran the same model with XNNPACK; integer kernels may round a
        // requantization differently by one step.
        common::assert_close(
            &format!("xnnpack={xnnpack}"),
            got,
            &want[..],
            common::Tolerance::Absolute(1.0), // one quantum
        );
        let probs = oq.dequantize_slice(got);
        let sum: f32 = probs.iter().sum();
        assert!((sum - 1.0).abs() < 0.05, "softmax sums to {sum}");
    }
}

#[test]
fn quantize_from_and_dequantize_use_the_tensor_parameters() {
    let model = Model::from_file(model_path("quant_int8.tflite")).unwrap();
    let mut it = ready(&model);
    let q = it.input(0).unwrap().quantization().per_tensor().unwrap();
    let n = it.input(0).unwrap().num_elements();
    let real: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
    it.input_mut(0).unwrap().quantize_from(&real).unwrap();
    let stored = it.input(0).unwrap().to_vec::<i8>().unwrap();
    assert_eq!(stored, q.quantize_slice::<i8>(&real));
    assert_eq!(
        it.input(0).unwrap().dequantize().unwrap(),
        q.dequantize_slice(&stored)
    );
    it.invoke().unwrap();
    let out = it.output(0).unwrap();
    let oq = out.quantization().per_tensor().unwrap();
    assert_eq!(
        out.dequantize().unwrap(),
        oq.dequantize_slice(out.data::<i8>().unwrap())
    );
    assert!(matches!(
        it.input_mut(0).unwrap().quantize_from(&real[1..]),
        Err(Error::LengthMismatch { .. })
    ));
    // float32: copied as they are.
    let f = Model::from_file(sys_data("add_mul.tflite")).unwrap();
    let mut it = ready(&f);
    let x = [0.25f32, -1.0, 2.0, 3.5, 0.0, 1e-3, -7.0, 8.0];
    it.input_mut(0).unwrap().quantize_from(&x).unwrap();
    assert_eq!(it.input(0).unwrap().dequantize().unwrap(), x);
    // A type that holds no real values is refused with the reason.
    let all = Model::from_file(model_path("all_dtypes.tflite")).unwrap();
    let mut it = ready(&all);
    let mut t = it.input_mut("serving_default_x_int32:0").unwrap();
    let count = t.num_elements();
    assert!(matches!(
        t.quantize_from(&vec![1.0; count]),
        Err(Error::InvalidData { .. })
    ));
}

#[test]
fn per_channel_quantization_is_reported_as_such() {
    // The int8 conv weights are per-channel; they are not model inputs, so check the input
    // stays per-tensor and the enum distinguishes the cases.
    let model = Model::from_file(model_path("quant_int8.tflite")).unwrap();
    let it = ready(&model);
    assert!(matches!(
        it.input(0).map(|t| t.info()).unwrap().quantization,
        Quantization::PerTensor(_)
    ));
    let f = Model::from_file(sys_data("add_mul.tflite")).unwrap();
    assert_eq!(
        ready(&f).input(0).map(|t| t.info()).unwrap().quantization,
        Quantization::None
    );
}

#[test]
fn resize_then_reallocate() {
    let model = Model::from_file(model_path("dynamic_batch.tflite")).unwrap();
    let mut it = ready(&model);
    assert_eq!(it.input(0).map(|t| t.info()).unwrap().shape, [1, 4]);
    it.resize_input(0, &[3, 4]).unwrap();
    assert!(matches!(
        it.input_mut(0).and_then(|t| t.into_data_mut::<f32>()),
        Err(Error::NotAllocated)
    ));
    assert!(matches!(it.invoke(), Err(Error::NotAllocated)));
    it.allocate_tensors().unwrap();
    it.input_mut(0)
        .and_then(|mut t| t.copy_from_slice(&read_f32(&model_path("dynamic_batch.in.f32"))))
        .unwrap();
    it.invoke().unwrap();
    assert_eq!(it.output(0).map(|t| t.info()).unwrap().shape, [3, 3]);
    let want = read_f32(&model_path("dynamic_batch.out.f32"));
    let got = it.output(0).and_then(|t| t.data::<f32>()).unwrap();
    common::assert_close("resized", got, &want, common::Tolerance::Absolute(1e-5));
}

#[test]
fn signatures_with_named_inputs_and_outputs() {
    let model = Model::from_file(model_path("signatures.tflite")).unwrap();
    let mut it = Interpreter::new(&model).unwrap();
    let mut keys = it.signature_keys();
    keys.sort();
    assert_eq!(keys, ["scale", "serving_default"]);

    let mut run = it.signature_runner("serving_default").unwrap();
    let mut ins = run.input_names();
    ins.sort();
    assert_eq!(ins, ["a", "b"]);
    let mut outs = run.output_names();
    outs.sort();
    assert_eq!(outs, ["prod", "sum"]);
    run.allocate_tensors().unwrap();
    run.input_mut("a")
        .and_then(|mut t| t.copy_from_slice(&[1.0f32, 2.0, 3.0, 4.0]))
        .unwrap();
    run.input_mut("b")
        .and_then(|t| t.into_data_mut::<f32>())
        .unwrap()
        .copy_from_slice(&[10.0, 20.0, 30.0, 40.0]);
    run.invoke().unwrap();
    assert_eq!(
        run.output("sum").and_then(|t| t.data::<f32>()).unwrap(),
        [11.0, 22.0, 33.0, 44.0]
    );
    assert_eq!(
        run.output("prod").and_then(|t| t.data::<f32>()).unwrap(),
        [10.0, 40.0, 90.0, 160.0]
    );
    match run.output("nope").and_then(|t| t.data::<f32>()) {
        Err(Error::NoSuchName {
            side: Side::Output,
            name,
            available,
        }) => {
            assert_eq!(name, "nope");
            assert_eq!(available.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    drop(run);

    let mut scale = it.signature_runner("scale").unwrap();
    scale.allocate_tensors().unwrap();
    scale
        .input_mut("x")
        .and_then(|mut t| t.copy_from_slice(&[1.0f32, -2.0, 0.5, 8.0]))
        .unwrap();
    scale.invoke().unwrap();
    assert_eq!(
        scale.output("y").and_then(|t| t.to_vec::<f32>()).unwrap(),
        vec![2.0, -4.0, 1.0, 16.0]
    );
    drop(scale);
    assert!(matches!(
        it.signature_runner("missing"),
        Err(Error::NoSuchSignature { .. })
    ));
}

#[test]
fn xnnpack_on_and_off_agree() {
    let model = Model::from_file(sys_data("conv_dense.tflite")).unwrap();
    let x = read_f32(&sys_data("conv_dense.in.f32"));
    let want = read_f32(&sys_data("conv_dense.out.f32"));
    let mut results = Vec::new();
    for b in [
        Interpreter::builder(&model),
        Interpreter::builder(&model).use_xnnpack(false),
        Interpreter::builder(&model).xnnpack(XnnpackOptions::default().num_threads(2)),
    ] {
        let mut it = b.build().unwrap();
        it.allocate_tensors().unwrap();
        it.input_mut(0)
            .and_then(|mut t| t.copy_from_slice(&x))
            .unwrap();
        it.invoke().unwrap();
        results.push((
            it.has_delegate(),
            it.output(0).and_then(|t| t.to_vec::<f32>()).unwrap(),
        ));
    }
    assert_eq!(
        results.iter().map(|r| r.0).collect::<Vec<_>>(),
        [true, false, true].map(|x| x && cfg!(feature = "xnnpack"))
    );
    // Stated tolerance: 1e-5 absolute on softmax probabilities, against Google's runtime.
    for (xnnpack, got) in &results {
        let what = format!("xnnpack {xnnpack}");
        common::assert_close(&what, got, &want, common::Tolerance::Absolute(1e-5));
    }
}

#[test]
fn misuse_returns_the_right_errors() {
    let model = Model::from_file(sys_data("add_mul.tflite")).unwrap();
    let mut it = Interpreter::new(&model).unwrap();
    assert!(matches!(it.invoke(), Err(Error::NotAllocated)));
    assert!(matches!(
        it.input_mut(0).and_then(|t| t.into_data_mut::<f32>()),
        Err(Error::NotAllocated)
    ));
    it.allocate_tensors().unwrap();
    match it.input_mut(0).and_then(|t| t.into_data_mut::<i32>()) {
        Err(Error::DtypeMismatch {
            requested: DataType::Int32,
            actual: DataType::Float32,
            tensor,
        }) => assert!(tensor.contains('x')),
        other => panic!("{other:?}"),
    }
    match it
        .input_mut(0)
        .and_then(|mut t| t.copy_from_slice(&[1.0f32; 3]))
    {
        Err(
            e @ Error::LengthMismatch {
                expected: 8,
                actual: 3,
                ..
            },
        ) => assert!(e.to_string().contains("8 elements, got 3")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        it.input_mut(1).and_then(|t| t.into_data_mut::<f32>()),
        Err(Error::IndexOutOfRange {
            side: Side::Input,
            index: 1,
            count: 1
        })
    ));
    assert!(matches!(
        it.output(5).and_then(|t| t.data::<f32>()),
        Err(Error::IndexOutOfRange {
            side: Side::Output,
            index: 5,
            count: 1
        })
    ));
    assert!(matches!(
        it.input_mut("nope").and_then(|t| t.into_data_mut::<f32>()),
        Err(Error::NoSuchName {
            side: Side::Input,
            ..
        })
    ));
    assert!(matches!(
        it.input_mut(0).and_then(|mut t| t.set_strings(&["a"])),
        Err(Error::DtypeMismatch { .. })
    ));
}

#[test]
fn bad_model_bytes_and_files_are_errors() {
    let good = std::fs::read(sys_data("conv_dense.tflite")).unwrap();
    for cut in [0, 1, 8, good.len() / 3, good.len() / 2, good.len() - 1] {
        match Model::from_bytes(good[..cut].to_vec()) {
            Err(Error::InvalidModel {
                origin,
                tflite_message,
            }) => {
                assert!(origin.contains(&format!("{cut} bytes")));
                assert!(!tflite_message.is_empty());
            }
            other => panic!("truncated at {cut}: {other:?}"),
        }
    }
    let mut wrong_magic = good.clone();
    wrong_magic[4..8].copy_from_slice(b"XXXX");
    assert!(matches!(
        Model::from_bytes(wrong_magic),
        Err(Error::InvalidModel { .. })
    ));

    let dir = std::env::temp_dir().join(format!("tflite-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let truncated = dir.join("truncated.tflite");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    match Model::from_file(&truncated) {
        Err(Error::InvalidModel { origin, .. }) => assert!(origin.ends_with("truncated.tflite")),
        other => panic!("{other:?}"),
    }
    match Model::from_file(dir.join("missing.tflite")) {
        Err(Error::Io { source, .. }) => assert_eq!(source.kind(), std::io::ErrorKind::NotFound),
        other => panic!("{other:?}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The dynamic-range model's FULLY_CONNECTED (version 12, which our patched 2.14.1 runs)
/// relabelled as version 13, which no TFLite we build registers.
fn fully_connected_v13() -> Model {
    let mut bytes = std::fs::read(model_path("dynamic_range.tflite")).unwrap();
    let fb = common::Flatbuffer(&bytes);
    let (codes, n) = fb.vector(fb.root(), common::MODEL_OPERATOR_CODES).unwrap();
    let at: Vec<usize> = (0..n)
        .filter_map(|k| fb.field(fb.table(codes, k), common::OPERATOR_CODE_VERSION))
        .filter(|&p| bytes[p..p + 4] == 12i32.to_le_bytes())
        .collect();
    assert_eq!(at.len(), 1, "one op code of version 12");
    bytes[at[0]..at[0] + 4].copy_from_slice(&13i32.to_le_bytes());
    Model::from_bytes(bytes).unwrap()
}

#[test]
fn unknown_ops_name_the_op() {
    let model = fully_connected_v13();
    match Interpreter::new(&model) {
        Err(e @ Error::UnsupportedOp { .. }) => {
            let Error::UnsupportedOp {
                model,
                op,
                version,
                min_runtime_version,
                tflite_message,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!((op.as_str(), *version), ("FULLY_CONNECTED", Some(13)));
            assert!(tflite_message.contains("Didn't find op for builtin opcode"));
            assert!(model.contains("bytes"), "{model}");
            assert!(e.to_string().contains("FULLY_CONNECTED version 13"));
            // The converter's own claim, from the model's metadata.
            assert_eq!(min_runtime_version.as_deref(), Some("2.17.0"));
            assert!(
                e.to_string().contains("needs TFLite 2.17.0 or newer"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    // An unknown custom op is refused at build, with XNNPACK or without.
    let model = Model::from_file(model_path("custom_op.tflite")).unwrap();
    for xnnpack in [true, false] {
        match Interpreter::builder(&model).use_xnnpack(xnnpack).build() {
            Err(Error::UnsupportedOp {
                op,
                version: Some(1),
                ..
            }) => assert_eq!(op, "TfliteRsTestOp"),
            other => panic!("xnnpack {xnnpack}: {other:?}"),
        }
    }
}

#[test]
fn min_runtime_version_is_read_from_the_metadata() {
    let path = model_path("dynamic_range.tflite");
    let from_file = Model::from_file(&path).unwrap();
    assert_eq!(from_file.min_runtime_version().as_deref(), Some("2.17.0"));
    let bytes = std::fs::read(&path).unwrap();
    let from_bytes = Model::from_bytes(bytes.clone()).unwrap();
    assert_eq!(from_bytes.min_runtime_version().as_deref(), Some("2.17.0"));
    // Unaligned static bytes: the model keeps an aligned copy, which is read here.
    let mut shifted = vec![0u8; bytes.len() + 1];
    shifted[1..].copy_from_slice(&bytes);
    let raw: *mut [u8] = Box::into_raw(shifted.into_boxed_slice());
    // SAFETY: `raw` stays allocated until the model made from it is dropped below.
    let unaligned: &'static [u8] = unsafe { &(&*raw)[1..] };
    let from_static = Model::from_static(unaligned).unwrap();
    assert_eq!(from_static.min_runtime_version().as_deref(), Some("2.17.0"));
    drop(from_static);
    // SAFETY: the only user of the bytes is gone; `raw` came from `Box::into_raw`.
    drop(unsafe { Box::from_raw(raw) });
    // A float model needs less than the per-channel dynamic-range one.
    let float = Model::from_file(sys_data("add_mul.tflite")).unwrap();
    let v = float
        .min_runtime_version()
        .expect("the converter records it");
    assert!(v.starts_with("1.") || v.starts_with("2."), "{v}");
    assert_ne!(v, "2.17.0");
}

#[test]
fn one_model_many_threads() {
    let model = Arc::new(
        Model::from_static(include_bytes!("../tflite-sys/tests/data/conv_dense.tflite")).unwrap(),
    );
    let x = Arc::new(read_f32(&sys_data("conv_dense.in.f32")));
    let want = read_f32(&sys_data("conv_dense.out.f32"));
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let (model, x) = (model.clone(), x.clone());
            std::thread::spawn(move || {
                let builder = Interpreter::builder(&model);
                let mut it = if t % 2 == 0 {
                    builder.build()
                } else {
                    builder.use_xnnpack(false).build()
                }
                .unwrap();
                it.allocate_tensors().unwrap();
                let mut outs = Vec::new();
                for _ in 0..20 {
                    it.input_mut(0)
                        .and_then(|mut t| t.copy_from_slice(&x))
                        .unwrap();
                    it.invoke().unwrap();
                    outs.push(it.output(0).and_then(|t| t.to_vec::<f32>()).unwrap());
                }
                outs
            })
        })
        .collect();
    for h in handles {
        for got in h.join().unwrap() {
            common::assert_close("thread", &got, &want, common::Tolerance::Absolute(1e-5));
        }
    }
}

#[test]
fn model_outlives_its_handle() {
    // The interpreter keeps the model (and its bytes) alive after the user's handle is gone.
    let bytes = std::fs::read(sys_data("add_mul.tflite")).unwrap();
    let model = Model::from_bytes(bytes).unwrap();
    let mut it = Interpreter::new(&model).unwrap();
    drop(model);
    it.allocate_tensors().unwrap();
    it.input_mut(0)
        .and_then(|mut t| t.copy_from_slice(&[1.0f32; 8]))
        .unwrap();
    it.invoke().unwrap();
    assert_eq!(
        it.output(0).and_then(|t| t.data::<f32>()).unwrap(),
        [4.5f32; 8]
    );
}

#[test]
fn model_describes_itself_without_an_interpreter() {
    let model = Model::from_file(model_path("signatures.tflite")).unwrap();
    let mut keys: Vec<&str> = model
        .signatures()
        .unwrap()
        .iter()
        .map(|s| s.key.as_str())
        .collect();
    keys.sort();
    assert_eq!(keys, ["scale", "serving_default"]);
    let add_mul = Model::from_file(sys_data("add_mul.tflite")).unwrap();
    let (inputs, outputs) = (add_mul.inputs().unwrap(), add_mul.outputs().unwrap());
    assert_eq!((inputs.len(), outputs.len()), (1, 1));
    assert_eq!(inputs[0].shape, [1, 8]);
    assert_eq!(inputs[0].dtype, DataType::Float32);
    let ops: Vec<(&str, i32, usize)> = add_mul
        .operators()
        .unwrap()
        .iter()
        .map(|o| (o.name.as_str(), o.version, o.nodes))
        .collect();
    assert_eq!(ops, [("MUL", 1, 1), ("ADD", 1, 1)]);
    // A model whose op this build lacks still describes itself (no interpreter is built).
    let missing = fully_connected_v13();
    let fc = &missing.operators().unwrap()[0];
    assert_eq!(
        (fc.name.as_str(), fc.version, fc.custom),
        ("FULLY_CONNECTED", 13, false)
    );
    let custom = Model::from_file(model_path("custom_op.tflite")).unwrap();
    assert!(custom
        .operators()
        .unwrap()
        .iter()
        .any(|o| o.custom && o.name == "TfliteRsTestOp"));
}

/// What the file says (read by our flatbuffer reader) is what TFLite's interpreter reports,
/// for every committed model an interpreter can be built for.
#[test]
fn model_description_agrees_with_the_interpreter() {
    let mut checked = 0;
    for dir in [
        "tests/models",
        "tests/compat",
        "tflite-sys/tests/data",
        "examples/digits",
    ] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "tflite"))
            .collect();
        paths.sort();
        for path in paths {
            let model = Model::from_file(&path).unwrap();
            let Ok(it) = Interpreter::builder(&model).use_xnnpack(false).build() else {
                continue;
            };
            let live =
                |ts: Vec<tflite::Tensor<'_>>| ts.iter().map(|t| t.info()).collect::<Vec<_>>();
            assert_eq!(model.inputs().unwrap(), live(it.inputs()), "{path:?}");
            assert_eq!(model.outputs().unwrap(), live(it.outputs()), "{path:?}");
            let keys: Vec<String> = model
                .signatures()
                .unwrap()
                .iter()
                .map(|s| s.key.clone())
                .collect();
            assert_eq!(keys, it.signature_keys(), "{path:?}");
            assert!(model
                .operators()
                .unwrap()
                .iter()
                .all(|o| o.nodes > 0 || o.version > 0));
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} models checked");
}

#[test]
fn outputs_read_before_invoke_are_zero_not_garbage() {
    let model = Model::from_file(sys_data("conv_dense.tflite")).unwrap();
    for b in [
        Interpreter::builder(&model),
        Interpreter::builder(&model).use_xnnpack(false),
    ] {
        let mut it = b.build().unwrap();
        it.allocate_tensors().unwrap();
        assert!(it
            .output(0)
            .and_then(|t| t.data::<f32>())
            .unwrap()
            .iter()
            .all(|v| *v == 0.0));
        assert!(it
            .input(0)
            .and_then(|t| t.data::<f32>())
            .unwrap()
            .iter()
            .all(|v| *v == 0.0));
    }
}

#[test]
fn signature_resize_invalidates_the_interpreter_buffers() {
    let model = Model::from_file(model_path("dynamic_batch.tflite")).unwrap();
    let mut it = Interpreter::new(&model).unwrap();
    it.allocate_tensors().unwrap();
    let mut run = it.signature_runner("serving_default").unwrap();
    let (input, output) = (run.input_names()[0].clone(), run.output_names()[0].clone());
    run.resize_input(&input, &[3, 4]).unwrap();
    assert!(matches!(
        run.output(&output).and_then(|t| t.data::<f32>()),
        Err(Error::NotAllocated)
    ));
    run.allocate_tensors().unwrap();
    run.input_mut(&input)
        .and_then(|mut t| t.copy_from_slice(&read_f32(&model_path("dynamic_batch.in.f32"))))
        .unwrap();
    run.invoke().unwrap();
    let want = read_f32(&model_path("dynamic_batch.out.f32"));
    let got = run.output(&output).and_then(|t| t.data::<f32>()).unwrap();
    common::assert_close("signature", got, &want, common::Tolerance::Absolute(1e-5));
    drop(run);
    // The interpreter's own views must not use buffers sized before the resize.
    assert!(matches!(
        it.input(0).and_then(|t| t.data::<f32>()),
        Err(Error::NotAllocated)
    ));
    it.allocate_tensors().unwrap();
    assert_eq!(it.input(0).and_then(|t| t.data::<f32>()).unwrap().len(), 12);
}

#[test]
fn signature_inputs_with_fixed_shapes_refuse_a_resize() {
    let model = Model::from_file(model_path("signatures.tflite")).unwrap();
    let mut it = Interpreter::new(&model).unwrap();
    let mut run = it.signature_runner("scale").unwrap();
    match run.resize_input("x", &[64]) {
        Err(Error::Tflite { tflite_message, .. }) => assert!(
            tflite_message.contains("only allows mutating unknown dimensions"),
            "{tflite_message}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        run.resize_input("nope", &[1]),
        Err(Error::NoSuchName {
            side: Side::Input,
            ..
        })
    ));
}

#[test]
fn thread_safety_markers() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Model>();
    send::<Interpreter>();
    send_sync::<Error>();
}

#[test]
fn memory_limit_refuses_an_allocation_before_touching_it() {
    let model = Model::from_file(sys_data("conv_dense.tflite")).unwrap();
    let mut it = Interpreter::builder(&model)
        .memory_limit(100)
        .build()
        .unwrap();
    match it.allocate_tensors() {
        Err(Error::MemoryLimit {
            needed, limit: 100, ..
        }) => assert!(needed > 100),
        other => panic!("{other:?}"),
    }
    assert!(matches!(it.invoke(), Err(Error::NotAllocated)));
    let mut it = Interpreter::builder(&model)
        .memory_limit(1 << 20)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
}

/// A signature runner allocates under the interpreter's memory limit: on the main graph's
/// subgraph (`serving_default`) every tensor counts, on another (`scale`) its inputs and
/// outputs; refused, its views have no data and invoke is refused.
#[test]
fn a_signature_runner_refuses_tensors_over_the_memory_limit() {
    let model = Model::from_file(model_path("signatures.tflite")).unwrap();
    for key in ["serving_default", "scale"] {
        // Each signature's inputs and outputs alone take 32 bytes or more (f32[4] each).
        let mut it = Interpreter::builder(&model)
            .memory_limit(24)
            .build()
            .unwrap();
        let mut run = it.signature_runner(key).unwrap();
        match run.allocate_tensors() {
            Err(Error::MemoryLimit {
                needed, limit: 24, ..
            }) => assert!(needed > 24, "{key}: {needed}"),
            other => panic!("{key}: {other:?}"),
        }
        assert!(matches!(run.invoke(), Err(Error::NotAllocated)), "{key}");
        assert!(matches!(
            run.output(0).and_then(|t| t.data::<f32>()),
            Err(Error::NotAllocated)
        ));
        drop(run);
        let mut it = Interpreter::builder(&model)
            .memory_limit(1 << 20)
            .build()
            .unwrap();
        let mut run = it.signature_runner(key).unwrap();
        run.allocate_tensors().unwrap();
        run.invoke().unwrap();
    }
}

/// Resizing to a shape the model cannot take fails at `allocate_tensors`; with XNNPACK applied
/// TFLite 2.14 cannot re-apply the delegate after that (the next allocation crashed in its arena
/// planner, found by the structure-aware fuzzer), so the interpreter says so on every later
/// allocation; without a delegate it recovers. A new interpreter runs either way.
#[test]
fn failed_allocation_after_resize_is_an_error_not_a_crash() {
    let model = Model::from_file(format!(
        "{}/tests/compat/layer_norm.float32.tflite",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for xnnpack in [false, true] {
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .build()
            .unwrap();
        it.allocate_tensors().unwrap();
        let good = it.input(0).unwrap().shape().to_vec();
        let bad: Vec<usize> = good.iter().map(|d| d + 1).collect();
        it.resize_input(0, &bad).unwrap();
        let err = it.allocate_tensors().unwrap_err().to_string();
        assert!(err.contains("not broadcastable"), "{err}");
        it.resize_input(0, &good).unwrap();
        let again = it.allocate_tensors();
        if xnnpack && it.delegate_skipped().is_none() {
            let err = again.unwrap_err().to_string();
            assert!(err.contains("build a new one"), "{err}");
            assert!(it.invoke().is_err());
            let mut fresh = Interpreter::builder(&model).build().unwrap();
            fresh.allocate_tensors().unwrap();
            fresh.invoke().unwrap();
        } else {
            again.unwrap();
            it.invoke().unwrap();
        }
    }
}

/// As above, through a signature runner (whose resizes are strict: `dynamic_batch.tflite`'s
/// batch, 2^30 rows, which FULLY_CONNECTED refuses to prepare): after its allocation failed
/// with XNNPACK applied, the runner, a new runner and the interpreter itself refuse to
/// allocate again; without a delegate they recover.
///
/// 64-bit only: on a 32-bit target TFLite refuses the 2^30-row resize itself (the tensor's
/// bytes overflow `size_t`), so the allocation never gets to fail.
#[test]
#[cfg(target_pointer_width = "64")]
fn failed_signature_allocation_breaks_the_interpreter_with_a_delegate() {
    let model = Model::from_file(model_path("dynamic_batch.tflite")).unwrap();
    for xnnpack in [false, true] {
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .build()
            .unwrap();
        let delegated = it.has_delegate();
        assert_eq!(delegated, xnnpack && cfg!(feature = "xnnpack"));
        let mut run = it.signature_runner("serving_default").unwrap();
        run.allocate_tensors().unwrap();
        run.resize_input(0, &[1 << 30, 4]).unwrap();
        let err = run.allocate_tensors().unwrap_err().to_string();
        assert!(err.contains("too many elements"), "{err}");
        run.resize_input(0, &[3, 4]).unwrap();
        let again = run.allocate_tensors();
        if delegated {
            let err = again.unwrap_err().to_string();
            assert!(err.contains("build a new one"), "{err}");
            assert!(matches!(run.invoke(), Err(Error::NotAllocated)));
            drop(run);
            let mut run = it.signature_runner("serving_default").unwrap();
            let err = run.allocate_tensors().unwrap_err().to_string();
            assert!(err.contains("build a new one"), "{err}");
            drop(run);
            let err = it.allocate_tensors().unwrap_err().to_string();
            assert!(err.contains("build a new one"), "{err}");
        } else {
            again.unwrap();
            run.input_mut(0)
                .and_then(|mut t| t.copy_from_slice(&read_f32(&model_path("dynamic_batch.in.f32"))))
                .unwrap();
            run.invoke().unwrap();
            let want = read_f32(&model_path("dynamic_batch.out.f32"));
            let got = run.output(0).and_then(|t| t.data::<f32>()).unwrap();
            common::assert_close("recovered", got, &want, common::Tolerance::Absolute(1e-5));
        }
    }
}

/// A flatbuffer object for [`write_flatbuffer`]: a table (field number, value) or a vector.
enum Fb {
    Table(Vec<(u16, Field)>),
    Tables(Vec<Fb>),
    I32s(Vec<i32>),
    F32s(Vec<f32>),
    I64s(Vec<i64>),
    Str(&'static str),
}

enum Field {
    U8(u8),
    I32(i32),
    Obj(Fb),
}

/// Serializes `root` as a `.tflite` file (identifier `TFL3`). Objects are laid out parent first
/// (every offset points forward, as flatbuffers requires), each table right after its vtable.
fn write_flatbuffer(root: Fb) -> Vec<u8> {
    fn align(buf: &mut Vec<u8>, to: usize, after: usize) {
        while (buf.len() + after) % to != 0 {
            buf.push(0);
        }
    }
    fn patch(buf: &mut [u8], at: usize, target: usize) {
        buf[at..at + 4].copy_from_slice(&((target - at) as u32).to_le_bytes());
    }
    fn write(buf: &mut Vec<u8>, obj: &Fb) -> usize {
        let vector = |buf: &mut Vec<u8>, n: usize, elem: usize, bytes: &[u8]| {
            align(buf, elem.max(4), 4);
            let at = buf.len();
            buf.extend((n as u32).to_le_bytes());
            buf.extend(bytes);
            at
        };
        match obj {
            Fb::Table(fields) => {
                let slots = fields.iter().map(|(id, _)| *id + 1).max().unwrap_or(0) as usize;
                let mut vtable = vec![0u16; 2 + slots];
                vtable[0] = (4 + 2 * slots) as u16;
                vtable[1] = (4 + 4 * fields.len()) as u16;
                for (k, (id, _)) in fields.iter().enumerate() {
                    vtable[2 + *id as usize] = (4 + 4 * k) as u16;
                }
                align(buf, 4, 2 * vtable.len());
                let vt = buf.len();
                buf.extend(vtable.iter().flat_map(|v| v.to_le_bytes()));
                let table = buf.len();
                buf.extend(((table - vt) as i32).to_le_bytes());
                let mut children = Vec::new();
                for (_, field) in fields {
                    let at = buf.len();
                    match field {
                        Field::U8(v) => buf.extend([*v, 0, 0, 0]),
                        Field::I32(v) => buf.extend(v.to_le_bytes()),
                        Field::Obj(child) => {
                            buf.extend([0; 4]);
                            children.push((at, child));
                        }
                    }
                }
                for (at, child) in children {
                    let target = write(buf, child);
                    patch(buf, at, target);
                }
                table
            }
            Fb::Tables(items) => {
                let at = vector(buf, items.len(), 4, &vec![0; 4 * items.len()]);
                for (k, item) in items.iter().enumerate() {
                    let target = write(buf, item);
                    patch(buf, at + 4 + 4 * k, target);
                }
                at
            }
            Fb::I32s(v) => vector(
                buf,
                v.len(),
                4,
                &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>(),
            ),
            Fb::F32s(v) => vector(
                buf,
                v.len(),
                4,
                &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>(),
            ),
            Fb::I64s(v) => vector(
                buf,
                v.len(),
                8,
                &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<_>>(),
            ),
            Fb::Str(s) => {
                let at = vector(buf, s.len(), 1, s.as_bytes());
                buf.push(0);
                at
            }
        }
    }
    let mut buf = vec![0u8; 8];
    buf[4..8].copy_from_slice(b"TFL3");
    let root_at = write(&mut buf, &root);
    patch(&mut buf, 0, root_at);
    align(&mut buf, 8, 0);
    buf
}

/// One quantized tensor of [`quantize_model`]: element type (TFLite's `TensorType` and ours),
/// shape, scales and zero points (one each: per tensor) and the quantized axis.
struct QuantCase {
    name: &'static str,
    tensor_type: u8,
    shape: Vec<i32>,
    scales: Vec<f32>,
    zero_points: Vec<i64>,
    axis: i32,
}

fn quant_cases() -> Vec<QuantCase> {
    vec![
        QuantCase {
            name: "int8_per_channel",
            tensor_type: 9,
            shape: vec![16, 3],
            scales: vec![0.5, 0.1, 0.037],
            zero_points: vec![0, 5, -7],
            axis: 1,
        },
        QuantCase {
            name: "uint8_per_tensor",
            tensor_type: 3,
            shape: vec![16],
            scales: vec![0.3],
            zero_points: vec![131],
            axis: 0,
        },
        QuantCase {
            name: "int16_per_tensor",
            tensor_type: 7,
            shape: vec![16],
            scales: vec![0.0007],
            zero_points: vec![0],
            axis: 0,
        },
    ]
}

/// A model made here, for each case: inputs `<name>.real` (float32) -> QUANTIZE -> output
/// `<name>.quantized`, and input `<name>` (quantized) -> DEQUANTIZE -> output `<name>.real_out`,
/// the quantized tensors with the case's parameters. TFLite's own kernels then quantize and
/// dequantize with the parameters the test computes with.
fn quantize_model(cases: &[QuantCase]) -> Vec<u8> {
    let quantization = |c: &QuantCase| {
        Field::Obj(Fb::Table(vec![
            (2, Field::Obj(Fb::F32s(c.scales.clone()))),
            (3, Field::Obj(Fb::I64s(c.zero_points.clone()))),
            (6, Field::I32(c.axis)),
        ]))
    };
    let tensor = |name: &'static str, shape: &[i32], ty: u8, q: Option<Field>| {
        let mut fields = vec![
            (0, Field::Obj(Fb::I32s(shape.to_vec()))),
            (1, Field::U8(ty)),
            (2, Field::I32(0)),
            (3, Field::Obj(Fb::Str(name))),
        ];
        fields.extend(q.map(|q| (4, q)));
        Fb::Table(fields)
    };
    let names: Vec<[&'static str; 4]> = cases
        .iter()
        .map(|c| {
            let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
            [
                leak(format!("{}.real", c.name)),
                leak(format!("{}.quantized", c.name)),
                c.name,
                leak(format!("{}.real_out", c.name)),
            ]
        })
        .collect();
    let (mut tensors, mut inputs, mut outputs, mut ops) = (vec![], vec![], vec![], vec![]);
    for (c, n) in cases.iter().zip(&names) {
        let base = tensors.len() as i32;
        tensors.push(tensor(n[0], &c.shape, 0, None));
        tensors.push(tensor(n[1], &c.shape, c.tensor_type, Some(quantization(c))));
        tensors.push(tensor(n[2], &c.shape, c.tensor_type, Some(quantization(c))));
        tensors.push(tensor(n[3], &c.shape, 0, None));
        inputs.extend([base, base + 2]);
        outputs.extend([base + 1, base + 3]);
        for (opcode, from, to) in [(0, base, base + 1), (1, base + 2, base + 3)] {
            ops.push(Fb::Table(vec![
                (0, Field::I32(opcode)),
                (1, Field::Obj(Fb::I32s(vec![from]))),
                (2, Field::Obj(Fb::I32s(vec![to]))),
            ]));
        }
    }
    // BuiltinOperator: QUANTIZE 114, DEQUANTIZE 6 (both below 127: the deprecated byte holds them).
    let code = |deprecated: u8, builtin: i32| {
        Fb::Table(vec![
            (0, Field::U8(deprecated)),
            (2, Field::I32(1)),
            (3, Field::I32(builtin)),
        ])
    };
    write_flatbuffer(Fb::Table(vec![
        (0, Field::I32(3)),
        (1, Field::Obj(Fb::Tables(vec![code(114, 114), code(6, 6)]))),
        (
            2,
            Field::Obj(Fb::Tables(vec![Fb::Table(vec![
                (0, Field::Obj(Fb::Tables(tensors))),
                (1, Field::Obj(Fb::I32s(inputs))),
                (2, Field::Obj(Fb::I32s(outputs))),
                (3, Field::Obj(Fb::Tables(ops))),
            ])])),
        ),
        (4, Field::Obj(Fb::Tables(vec![Fb::Table(vec![])]))),
    ]))
}

/// TFLite's affine quantization (`reference_ops::AffineQuantize`, `PerChannelQuantize`):
/// `x / scale` in float, rounded half away from zero (`std::round`), plus the zero point,
/// clamped to `[lo, hi]`. Written out here, without the crate's rounding.
fn tflite_quantize(x: f32, scale: f32, zero_point: i64, lo: i64, hi: i64) -> i64 {
    let r = x / scale;
    let whole = r.trunc();
    let away = if (r - whole).abs() >= 0.5 {
        r.signum()
    } else {
        0.0
    };
    // Clamped as a float (values past i64's range included), then converted.
    (whole as f64 + away as f64 + zero_point as f64).clamp(lo as f64, hi as f64) as i64
}

/// A real value `x` with `x / scale == k` exactly in float, for the first tie `k` of `ks`
/// that has one (such as 2.5 or -0.5; with some scales no float divides to a given tie).
fn exactly(ks: &[f32], scale: f32) -> f32 {
    ks.iter()
        .find_map(|&k| {
            let start = k * scale;
            (0..64i32)
                .flat_map(|d| [d, -d])
                .map(|d| f32::from_bits(start.to_bits().wrapping_add_signed(d)))
                .find(|x| x / scale == k)
        })
        .unwrap_or_else(|| panic!("no float x with x / {scale} in {ks:?}"))
}

/// Real values for one channel: zero, ties either side of zero (where half away from zero,
/// half to even and floor(x + 0.5) all differ), the ends of the range, past both ends, huge.
fn probe_values(scale: f32, zero_point: i64, lo: i64, hi: i64) -> Vec<f32> {
    let to = |q: i64| (q - zero_point) as f32 * scale;
    vec![
        0.0,
        exactly(&[0.5, 1.5], scale),
        exactly(&[-0.5, -1.5], scale),
        exactly(&[2.5, 3.5, 4.5, 5.5, 6.5], scale),
        exactly(&[-2.5, -3.5, -4.5, -5.5, -6.5], scale),
        f32::from_bits(exactly(&[0.5, 1.5], scale).to_bits() - 1),
        to(hi),
        to(lo),
        to(hi) + 0.49 * scale,
        to(hi + 1),
        to(lo - 1),
        to(hi + 1000),
        1e30,
        -1e30,
        7.3 * scale,
        -11.6 * scale,
    ]
}

#[test]
fn quantize_from_matches_scale_and_zero_point_arithmetic() {
    let cases = quant_cases();
    let model = Model::from_bytes(quantize_model(&cases)).unwrap();
    // The builtin kernels: XNNPACK's own conversion is not what is checked here.
    let mut it = Interpreter::builder(&model)
        .use_xnnpack(false)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    let mut want = Vec::new();
    for c in &cases {
        let (lo, hi) = match c.tensor_type {
            9 => (-128, 127),
            3 => (0, 255),
            _ => (-32768, 32767),
        };
        // Element i of a [16, 3] tensor quantized along axis 1 is in channel i % 3.
        let channels = c.scales.len();
        let n: usize = c.shape.iter().product::<i32>() as usize;
        let per_channel: Vec<Vec<f32>> = (0..channels)
            .map(|ch| probe_values(c.scales[ch], c.zero_points[ch], lo, hi))
            .collect();
        let values: Vec<f32> = (0..n)
            .map(|i| per_channel[i % channels][i / channels])
            .collect();
        let expected: Vec<i64> = values
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let ch = i % channels;
                tflite_quantize(x, c.scales[ch], c.zero_points[ch], lo, hi)
            })
            .collect();
        // Every tie rounds away from zero, and both ends are reached and clamped to.
        assert!(
            expected.contains(&lo) && expected.contains(&hi),
            "{expected:?}"
        );
        assert_eq!(
            expected[3 * channels],
            c.zero_points[0] + 3,
            "2.5 rounds to 3"
        );
        assert_eq!(
            expected[4 * channels],
            c.zero_points[0] - 3,
            "-2.5 rounds to -3"
        );
        assert_eq!(
            expected[2 * channels],
            c.zero_points[0] - 1,
            "-0.5 rounds to -1"
        );
        let info = it.input(c.name).unwrap().info();
        assert_eq!(info.num_elements(), n);
        match (&info.quantization, channels) {
            (Quantization::PerTensor(p), 1) => {
                assert_eq!(
                    (p.scale, p.zero_point as i64),
                    (c.scales[0], c.zero_points[0])
                )
            }
            (
                Quantization::PerChannel {
                    scales,
                    zero_points,
                    axis,
                },
                _,
            ) => {
                assert_eq!(scales, &c.scales);
                assert_eq!(
                    zero_points.iter().map(|z| *z as i64).collect::<Vec<_>>(),
                    c.zero_points
                );
                assert_eq!(*axis, c.axis as usize);
            }
            other => panic!("{}: {other:?}", c.name),
        }
        it.input_mut(c.name)
            .unwrap()
            .quantize_from(&values)
            .unwrap();
        it.input_mut(format!("{}.real", c.name).as_str())
            .unwrap()
            .copy_from_slice(&values)
            .unwrap();
        want.push((c, values, expected));
    }
    it.invoke().unwrap();
    for (c, values, expected) in want {
        let stored: Vec<i64> = match c.tensor_type {
            9 => it
                .input(c.name)
                .unwrap()
                .to_vec::<i8>()
                .unwrap()
                .into_iter()
                .map(i64::from)
                .collect(),
            3 => it
                .input(c.name)
                .unwrap()
                .to_vec::<u8>()
                .unwrap()
                .into_iter()
                .map(i64::from)
                .collect(),
            _ => it
                .input(c.name)
                .unwrap()
                .to_vec::<i16>()
                .unwrap()
                .into_iter()
                .map(i64::from)
                .collect(),
        };
        assert_eq!(stored, expected, "{}: quantize_from of {values:?}", c.name);
        // TFLite's QUANTIZE kernel agrees on the same values.
        let quantized = it.output(format!("{}.quantized", c.name).as_str()).unwrap();
        let by_tflite: Vec<i64> = match c.tensor_type {
            9 => quantized
                .to_vec::<i8>()
                .unwrap()
                .into_iter()
                .map(i64::from)
                .collect(),
            3 => quantized
                .to_vec::<u8>()
                .unwrap()
                .into_iter()
                .map(i64::from)
                .collect(),
            _ => quantized
                .to_vec::<i16>()
                .unwrap()
                .into_iter()
                .map(i64::from)
                .collect(),
        };
        // Per channel TFLite runs its reference kernel, which rounds as above. Per tensor it
        // runs its optimized one (NEON, or NEON_2_SSE on x86), which multiplies by 1 / scale
        // and rounds ties to even (`vcvtnq_s32_f32`), and on x86 turns values past the int32
        // range into INT32_MIN (1e30 becomes 0 in uint8): there it agrees off those.
        let channels = c.scales.len();
        for (i, &x) in values.iter().enumerate() {
            let r = x / c.scales[i % channels];
            let tie = (r - r.trunc()).abs() == 0.5;
            if channels > 1 || !(tie || r.abs() > 2e9) {
                assert_eq!(
                    by_tflite[i], expected[i],
                    "{}: TFLite's QUANTIZE of {x} (element {i}): {by_tflite:?}",
                    c.name
                );
            }
        }
        // Dequantization: (q - zero point) * scale, ours exactly; TFLite's optimized
        // per-tensor DEQUANTIZE computes q * scale - zero_point * scale, a few units in the last
        // place of zero_point * scale off.
        let real: Vec<f32> = expected
            .iter()
            .enumerate()
            .map(|(i, q)| (q - c.zero_points[i % channels]) as f32 * c.scales[i % channels])
            .collect();
        assert_eq!(
            it.input(c.name).unwrap().dequantize().unwrap(),
            real,
            "{}",
            c.name
        );
        let out = it.output(format!("{}.real_out", c.name).as_str()).unwrap();
        let by_tflite = out.to_vec::<f32>().unwrap();
        assert_eq!(by_tflite.len(), real.len());
        for (i, (got, want)) in by_tflite.iter().zip(&real).enumerate() {
            let (scale, zp) = (c.scales[i % channels], c.zero_points[i % channels]);
            let tolerance =
                8.0 * f32::EPSILON * scale * (zp.abs() + (expected[i] - zp).abs()) as f32;
            assert!(
                (got - want).abs() <= tolerance,
                "{}: TFLite's DEQUANTIZE of element {i}: {by_tflite:?}, want {real:?}",
                c.name
            );
        }
    }
    // The per-tensor int8 input of a converter-made model, with its real parameters.
    let model = Model::from_file(model_path("quant_int8.tflite")).unwrap();
    let mut it = ready(&model);
    let p = it.input(0).unwrap().quantization().per_tensor().unwrap();
    let n = it.input(0).unwrap().num_elements();
    let probes = probe_values(p.scale, p.zero_point.into(), -128, 127);
    let values: Vec<f32> = (0..n).map(|i| probes[i % probes.len()]).collect();
    it.input_mut(0).unwrap().quantize_from(&values).unwrap();
    let stored = it.input(0).unwrap().to_vec::<i8>().unwrap();
    let expected: Vec<i8> = values
        .iter()
        .map(|&x| tflite_quantize(x, p.scale, p.zero_point.into(), -128, 127) as i8)
        .collect();
    assert_eq!(stored, expected);
    assert!(expected.contains(&-128) && expected.contains(&127));
}
