//! Integer arithmetic on a model's values wraps on overflow, as TensorFlow defines it (and as
//! Google's runtime computes it: `tests/models/make_models.py` checks the same values there).
//! C++ leaves signed overflow undefined; the native build is compiled with `-fwrapv`, so
//! TFLite's int32 kernels wrap instead of trapping under UBSan or being optimised on the
//! assumption that it never happens (tests/fuzz_regressions/add_int32_overflow.tflite).

use tflite::{Interpreter, Model};

fn model() -> Model {
    Model::from_file(format!(
        "{}/tests/models/int32_arithmetic.tflite",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// a + b, a - b, a * b and sum(a) of int32 [4] inputs, in Rust's wrapping arithmetic.
fn expected(a: [i32; 4], b: [i32; 4]) -> ([i32; 4], [i32; 4], [i32; 4], i32) {
    let add = std::array::from_fn(|i| a[i].wrapping_add(b[i]));
    let sub = std::array::from_fn(|i| a[i].wrapping_sub(b[i]));
    let mul = std::array::from_fn(|i| a[i].wrapping_mul(b[i]));
    let sum = a.iter().fold(0i32, |s, &x| s.wrapping_add(x));
    (add, sub, mul, sum)
}

#[test]
fn int32_arithmetic_wraps() {
    let model = model();
    let cases: [([i32; 4], [i32; 4]); 3] = [
        // Overflow in every output.
        ([i32::MAX, i32::MIN, 65_536, 7], [1, 1, 65_536, -9]),
        (
            [i32::MAX, i32::MAX, -46_341, i32::MIN],
            [i32::MAX, i32::MIN, 46_341, -1],
        ),
        // No overflow: the plain answers.
        ([1, -2, 3, 40], [5, 6, -7, 8]),
    ];
    for xnnpack in [true, false] {
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .build()
            .unwrap();
        let mut run = it.signature_runner("serving_default").unwrap();
        run.allocate_tensors().unwrap();
        for (a, b) in cases {
            run.input_mut("a")
                .and_then(|mut t| t.copy_from_slice(&a))
                .unwrap();
            run.input_mut("b")
                .and_then(|mut t| t.copy_from_slice(&b))
                .unwrap();
            run.invoke().unwrap();
            let (add, sub, mul, sum) = expected(a, b);
            let out = |name: &str| run.output(name).and_then(|t| t.to_vec::<i32>()).unwrap();
            assert_eq!(out("add"), add, "{a:?} + {b:?}, xnnpack {xnnpack}");
            assert_eq!(out("sub"), sub, "{a:?} - {b:?}, xnnpack {xnnpack}");
            assert_eq!(out("mul"), mul, "{a:?} * {b:?}, xnnpack {xnnpack}");
            assert_eq!(out("sum"), [sum], "sum {a:?}, xnnpack {xnnpack}");
        }
    }
}
