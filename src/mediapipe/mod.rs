//! MediaPipe's custom operators, built in (the default `mediapipe` feature): every interpreter
//! registers them unless [`InterpreterBuilder::mediapipe_ops`](crate::InterpreterBuilder::mediapipe_ops)
//! turns them off, so MediaPipe's models run without the application registering anything. An
//! application's own registration of one of these names replaces ours (every version of it).
//!
//! Today, all float32:
//! - `MaxPoolingWithArgmax2D`, `MaxUnpooling2D` and `Convolution2DTransposeBias`, used by
//!   MediaPipe's segmentation models. Their options are C structs (`TfLitePoolParams`,
//!   `TfLiteTransposeConvParams`) stored as the nodes' custom options; see
//!   `examples/mediapipe_ops/make_model.py` for the layouts and the index encoding. With
//!   XNNPACK applied, XNNPACK runs `Convolution2DTransposeBias` itself; our vendor patch keeps
//!   it from taking the pooling pair (its unpooling writes wherever the indices point,
//!   unchecked).
//! - `Landmarks2TransformMatrix`, `TransformLandmarks` and `TransformTensorBilinear` (version
//!   2, the version MediaPipe's CPU resolver registers), used by its face, pose and holistic
//!   models to crop a region around landmarks and map landmarks back: no runtime of Google's
//!   ships them. Options are FlexBuffer maps. Where MediaPipe reads wherever an option or a
//!   shape points (a landmark index past the input, more output channels than input ones),
//!   these are errors here. `tests/mediapipe_models/make_transform_model.py` documents the
//!   semantics and checks them against NumPy.

mod landmarks;
mod pooling;

pub use landmarks::{
    Landmarks2TransformMatrix, LandmarksToMatrixOptions, TransformLandmarks,
    TransformTensorBilinear,
};
pub use pooling::{
    Convolution2DTransposeBias, DeconvOptions, MaxPoolingWithArgmax2D, MaxUnpooling2D, PoolOptions,
};

use crate::custom_op::OpDef;

/// The names and versions of the built-in MediaPipe operators.
pub const OPS: [(&str, i32); 6] = [
    ("MaxPoolingWithArgmax2D", 1),
    ("MaxUnpooling2D", 1),
    ("Convolution2DTransposeBias", 1),
    ("Landmarks2TransformMatrix", 2),
    ("TransformLandmarks", 2),
    ("TransformTensorBilinear", 2),
];

/// Every MediaPipe operator, to register (the builder skips those the application
/// registered itself).
pub(crate) fn ops() -> Vec<OpDef> {
    OPS.iter()
        .map(|&(name, version)| match name {
            "MaxPoolingWithArgmax2D" => OpDef::new(name, version, MaxPoolingWithArgmax2D),
            "MaxUnpooling2D" => OpDef::new(name, version, MaxUnpooling2D),
            "Convolution2DTransposeBias" => OpDef::new(name, version, Convolution2DTransposeBias),
            "Landmarks2TransformMatrix" => OpDef::new(name, version, Landmarks2TransformMatrix),
            "TransformLandmarks" => OpDef::new(name, version, TransformLandmarks),
            _ => OpDef::new(name, version, TransformTensorBilinear),
        })
        .collect()
}
