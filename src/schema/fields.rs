//! Field numbers and codes of the TFLite schema (`schema.fbs`) that the reader uses.

pub(crate) const MODEL_SUBGRAPHS: usize = 2;
pub(crate) const SUBGRAPH_TENSORS: usize = 0;
pub(crate) const SUBGRAPH_INPUTS: usize = 1;
pub(crate) const SUBGRAPH_OUTPUTS: usize = 2;
pub(crate) const SUBGRAPH_OPERATORS: usize = 3;
pub(crate) const TENSOR_SHAPE: usize = 0;
pub(crate) const TENSOR_BUFFER: usize = 2;
pub(crate) const TENSOR_IS_VARIABLE: usize = 5;
pub(crate) const OPERATOR_INPUTS: usize = 1;
pub(crate) const OPERATOR_OUTPUTS: usize = 2;
pub(crate) const MODEL_BUFFERS: usize = 4;
pub(crate) const MODEL_METADATA: usize = 6;
pub(crate) const METADATA_NAME: usize = 0;
pub(crate) const METADATA_BUFFER: usize = 1;
/// An operator's optional input left out: -1 as an i32, read here as a u32.
pub(crate) const NO_TENSOR: usize = u32::MAX as usize;
pub(crate) const BUFFER_DATA: usize = 0;
pub(crate) const BUFFER_OFFSET: usize = 1;

pub(crate) const MODEL_OPERATOR_CODES: usize = 1;
pub(crate) const MODEL_SIGNATURE_DEFS: usize = 7;
pub(crate) const TENSOR_TYPE: usize = 1;
/// The schema's `TensorType` codes of strings, resources and variants: the types whose
/// tensors TFLite allocates no data buffer for (dynamic tensors, given memory only by the
/// kernels that handle them).
pub(crate) const TYPE_FLOAT32: u8 = 0;
pub(crate) const TYPE_INT32: u8 = 2;
pub(crate) const TYPE_STRING: u8 = 5;
pub(crate) const TYPE_RESOURCE: u8 = 13;
pub(crate) const TYPE_VARIANT: u8 = 14;
pub(crate) const TENSOR_NAME: usize = 3;
pub(crate) const TENSOR_SPARSITY: usize = 6;
pub(crate) const SPARSITY_TRAVERSAL_ORDER: usize = 0;
pub(crate) const SPARSITY_BLOCK_MAP: usize = 1;
pub(crate) const SPARSITY_DIM_METADATA: usize = 2;
pub(crate) const DIM_FORMAT: usize = 0;
pub(crate) const DIM_DENSE_SIZE: usize = 1;
pub(crate) const DIM_SEGMENTS_TYPE: usize = 2;
pub(crate) const DIM_SEGMENTS: usize = 3;
pub(crate) const DIM_INDICES_TYPE: usize = 4;
pub(crate) const DIM_INDICES: usize = 5;
pub(crate) const TENSOR_QUANTIZATION: usize = 4;
pub(crate) const QUANT_SCALE: usize = 2;
pub(crate) const QUANT_ZERO_POINT: usize = 3;
pub(crate) const QUANT_DIMENSION: usize = 6;
pub(crate) const OPCODE_DEPRECATED_BUILTIN: usize = 0;
pub(crate) const OPCODE_CUSTOM: usize = 1;
pub(crate) const OPCODE_VERSION: usize = 2;
pub(crate) const OPCODE_BUILTIN: usize = 3;
pub(crate) const OPERATOR_OPCODE_INDEX: usize = 0;
pub(crate) const OPERATOR_BUILTIN_OPTIONS_TYPE: usize = 3;
pub(crate) const OPERATOR_BUILTIN_OPTIONS: usize = 4;
pub(crate) const OPERATOR_CUSTOM_OPTIONS: usize = 5;
/// The schema's `BuiltinOptions` union tags of the operators that run subgraphs.
pub(crate) const OPTIONS_IF: u8 = 92;
pub(crate) const OPTIONS_WHILE: u8 = 93;
pub(crate) const OPTIONS_CALL_ONCE: u8 = 103;
pub(crate) const SIGNATURE_INPUTS: usize = 0;
pub(crate) const SIGNATURE_OUTPUTS: usize = 1;
pub(crate) const SIGNATURE_KEY: usize = 2;
pub(crate) const SIGNATURE_SUBGRAPH: usize = 4;
pub(crate) const TENSORMAP_NAME: usize = 0;
pub(crate) const TENSORMAP_TENSOR: usize = 1;
/// The schema's CUSTOM builtin code.
pub(crate) const BUILTIN_CUSTOM: i32 = 32;
