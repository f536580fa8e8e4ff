//! Safe Rust API for TensorFlow Lite (work in progress; see the tflite-sys crate for the FFI).
pub use tflite_sys as sys;
