//! Run TensorFlow Lite models from Rust: safe, typed bindings to TensorFlow Lite 2.14.1 with
//! the XNNPACK CPU delegate, compiled from pinned sources by [`tflite-sys`](tflite_sys).
//!
//! Load a [`Model`] once (from a file, bytes, or `include_bytes!`), build an [`Interpreter`]
//! per thread, allocate, fill the inputs, invoke, read the outputs:
//!
//! ```
//! use tflite::{Interpreter, Model};
//!
//! # fn main() -> tflite::Result<()> {
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tflite-sys/tests/data/add_mul.tflite");
//! let model = Model::from_file(path)?;               // y = x * 3 + 1.5, x: f32[1, 8]
//! let mut interpreter = Interpreter::new(&model)?;   // XNNPACK on, 1 thread
//! interpreter.allocate_tensors()?;
//!
//! let mut x = interpreter.input_mut(0)?;            // a `TensorMut`, by position or name
//! assert_eq!(x.shape(), [1, 8]);
//! x.copy_from_slice(&[0f32, 1., 2., 3., 4., 5., 6., 7.])?;
//! interpreter.invoke()?;
//!
//! let y = interpreter.output(0)?;                    // a `Tensor`
//! assert_eq!(y.data::<f32>()?, [1.5, 4.5, 7.5, 10.5, 13.5, 16.5, 19.5, 22.5]);
//! # Ok(())
//! # }
//! ```
//!
//! Every failure is an [`Error`] carrying TFLite's own message where TFLite produced one; a
//! wrong element type, length, index or name is an error, never a panic or a reinterpretation.
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

// The rooms, each with one job (a room uses only those listed after it, never the reverse):
// interpreter/  Interpreter and SignatureRunner on one Core (names, resize, allocate, invoke and
//               their guards), the builder, cancellation and deadlines, the pool;
// mediapipe/    MediaPipe's custom ops, handed to the builder as registrations;
// profile/      per-node profiles, recorded through TFLite's telemetry callbacks;
// model/        Model (the verified bytes) and what it says about itself;
// delegate/     XNNPACK, its shared weights cache, external plugins, the plan probe, and the
//               one vocabulary of which kernel runs a node;
// custom_op/    custom operators written in Rust;
// schema/       the bounds-checked flatbuffer reader and the load-time rules, one per function;
// tensor/       tensor views, raw access, quantization, comparisons;
// ffi/          the boundary with the native library: shared helpers, error reporter, logging,
//               the CPU check;
// error.rs, dtype.rs  the vocabulary everything shares.
pub mod custom_op;
mod delegate;
mod dtype;
mod error;
mod ffi;
mod interpreter;
#[cfg(feature = "mediapipe")]
pub mod mediapipe;
mod model;
pub mod profile;
mod schema;
mod tensor;

pub use delegate::external::ExternalDelegate;
pub use delegate::probe::PlanNode;
pub use delegate::xnnpack::XnnpackOptions;
pub use dtype::{DataType, Element};
pub use error::{Error, Result, Side};
pub use ffi::logging;
pub use half::f16;
pub use interpreter::builder::{InterpreterBuilder, DEFAULT_MEMORY_LIMIT};
pub use interpreter::cancel::CancelHandle;
pub use interpreter::pool::{Pool, Pooled};
pub use interpreter::signature::SignatureRunner;
pub use interpreter::Interpreter;
pub use model::info::{OperatorInfo, SignatureInfo};
pub use model::Model;
pub use tensor::compare;
pub use tensor::quant::{Quantization, QuantizationParams, Quantized};
pub use tensor::{Tensor, TensorId, TensorInfo, TensorMut};
/// The raw C API, for what the safe API does not cover yet.
pub use tflite_sys as sys;

/// The TensorFlow Lite version this crate runs (`2.14.1`).
pub fn tflite_version() -> &'static str {
    // SAFETY: TfLiteVersion returns a pointer to a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(sys::TfLiteVersion()) }
        .to_str()
        .unwrap_or("unknown")
}
