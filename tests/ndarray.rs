//! The `ndarray` feature: tensors as array views, copies from arrays of any layout.
#![cfg(feature = "ndarray")]

use ndarray::{s, Array2, ArrayD, IxDyn};
use tflite::{Error, Interpreter, Model};

fn add_mul() -> Model {
    // y = x * 3 + 1.5, x: f32[1, 8]
    Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tflite-sys/tests/data/add_mul.tflite"
    ))
    .unwrap()
}

#[test]
fn views_and_copies_follow_the_tensor_shape() {
    let model = add_mul();
    let mut it = Interpreter::new(&model).unwrap();
    it.allocate_tensors().unwrap();
    // A strided (non-contiguous) view of the right shape is copied in logical order.
    let wide = Array2::from_shape_fn((1, 16), |(_, j)| j as f32 / 2.0);
    let src = wide.slice(s![.., ..;2]);
    assert!(!src.is_standard_layout());
    it.input_mut(0).unwrap().copy_from_array(&src).unwrap();
    assert_eq!(
        it.input(0).unwrap().data::<f32>().unwrap(),
        [0., 1., 2., 3., 4., 5., 6., 7.]
    );
    // Writing through a mutable view.
    {
        let mut x = it.input_mut(0).unwrap();
        let mut view = x.as_array_mut::<f32>().unwrap();
        view[[0, 0]] = 10.0;
    }
    it.invoke().unwrap();
    let y: ArrayD<f32> = it.output(0).unwrap().as_array::<f32>().unwrap().to_owned();
    assert_eq!(y.shape(), [1, 8]);
    assert_eq!(y[IxDyn(&[0, 0])], 31.5);
    assert_eq!(y[IxDyn(&[0, 7])], 22.5);
    // Wrong shape or element type: typed errors, nothing written.
    assert!(matches!(
        it.input_mut(0)
            .unwrap()
            .copy_from_array(&Array2::<f32>::zeros((8, 1))),
        Err(Error::InvalidShape { .. })
    ));
    assert!(matches!(
        it.output(0).unwrap().as_array::<i32>(),
        Err(Error::DtypeMismatch { .. })
    ));
    assert_eq!(it.input(0).unwrap().data::<f32>().unwrap()[0], 10.0);
}
