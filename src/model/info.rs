//! What a [`Model`](crate::Model) says about itself beyond its tensors: [`SignatureInfo`] and
//! [`OperatorInfo`] (read by `describe.rs`, handed out by [`Model`](crate::Model)).

use crate::tensor::TensorInfo;

/// One signature of a model: its key and its named inputs and outputs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SignatureInfo {
    /// The key, e.g. `serving_default`.
    pub key: String,
    /// The inputs: each signature name (e.g. `x`) with the tensor it names.
    pub inputs: Vec<(String, TensorInfo)>,
    /// The outputs, likewise.
    pub outputs: Vec<(String, TensorInfo)>,
}

/// One entry of a model's operator-code table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperatorInfo {
    /// The builtin operator's schema name (`CONV_2D`; `BUILTIN_<n>` for a code newer than
    /// TFLite 2.14.1) or the custom op's name.
    pub name: String,
    /// Whether it is a custom op.
    pub custom: bool,
    /// The operator version the model asks for.
    pub version: i32,
    /// How many nodes use it.
    pub nodes: usize,
}
