//! What a model file says about itself: its inputs and outputs, signatures and operators.

use super::info::{OperatorInfo, SignatureInfo};
use crate::dtype::DataType;
use crate::schema::fields::*;
use crate::schema::{builtin_code, ops, Flatbuffer};
use crate::tensor::quant::{Quantization, QuantizationParams};
use crate::tensor::TensorInfo;

/// What a model file says about itself (see [`crate::Model::inputs`] and its siblings).
#[derive(Debug, Clone, Default)]
pub(crate) struct Description {
    pub(crate) inputs: Vec<TensorInfo>,
    pub(crate) outputs: Vec<TensorInfo>,
    pub(crate) signatures: Vec<SignatureInfo>,
    pub(crate) operators: Vec<OperatorInfo>,
}

impl Flatbuffer<'_> {
    fn tensor_info(&self, tensors: usize, n_tensors: usize, index: usize) -> Option<TensorInfo> {
        if index >= n_tensors {
            return None;
        }
        let t = self.table(tensors, index)?;
        let shape = self
            .words(t, TENSOR_SHAPE)?
            .into_iter()
            .map(|d| (d as i32).max(0) as usize)
            .collect();
        let ty = self.scalar_u8(t, TENSOR_TYPE).unwrap_or(0);
        let quantization = match self.field(t, TENSOR_QUANTIZATION) {
            Some(p) => {
                let q = self.deref(p)?;
                let scales: Vec<f32> = self
                    .words(q, QUANT_SCALE)?
                    .into_iter()
                    .map(f32::from_bits)
                    .collect();
                let zero_points: Vec<i32> = self
                    .longs(q, QUANT_ZERO_POINT)?
                    .into_iter()
                    .map(|z| z as i32)
                    .collect();
                let axis = self.scalar_i32(q, QUANT_DIMENSION, 0)?.max(0) as usize;
                match scales.len() {
                    0 => Quantization::None,
                    1 => Quantization::PerTensor(QuantizationParams {
                        scale: scales[0],
                        zero_point: zero_points.first().copied().unwrap_or(0),
                    }),
                    _ => Quantization::PerChannel {
                        scales,
                        zero_points,
                        axis,
                    },
                }
            }
            None => Quantization::None,
        };
        Some(TensorInfo {
            name: self.string(t, TENSOR_NAME).unwrap_or_default(),
            dtype: schema_type(ty),
            shape,
            quantization,
        })
    }
}

/// The schema's `TensorType` (which differs from the C API's `TfLiteType` numbering).
fn schema_type(t: u8) -> DataType {
    match t {
        0 => DataType::Float32,
        1 => DataType::Float16,
        2 => DataType::Int32,
        3 => DataType::UInt8,
        4 => DataType::Int64,
        5 => DataType::String,
        6 => DataType::Bool,
        7 => DataType::Int16,
        8 => DataType::Complex64,
        9 => DataType::Int8,
        10 => DataType::Float64,
        11 => DataType::Complex128,
        12 => DataType::UInt64,
        13 => DataType::Resource,
        14 => DataType::Variant,
        15 => DataType::UInt32,
        16 => DataType::UInt16,
        17 => DataType::Int4,
        other => DataType::Other(other as i32),
    }
}

/// Reads inputs, outputs, signatures and operators; `None` if a table is out of bounds.
pub(crate) fn describe(model: &[u8]) -> Option<Description> {
    let fb = Flatbuffer(model);
    let root = fb.root()?;
    let mut d = Description::default();
    let (subgraphs, n_subgraphs) = fb.vector(root, MODEL_SUBGRAPHS).unwrap_or((0, 0));
    let tensors_of = |s: usize| -> Option<(usize, usize, usize)> {
        let g = fb.table(subgraphs, s)?;
        let (t, n) = fb.vector(g, SUBGRAPH_TENSORS).unwrap_or((0, 0));
        Some((g, t, n))
    };
    if n_subgraphs > 0 {
        let (g, tensors, n) = tensors_of(0)?;
        for (field, out) in [
            (SUBGRAPH_INPUTS, &mut d.inputs),
            (SUBGRAPH_OUTPUTS, &mut d.outputs),
        ] {
            for i in fb.words(g, field)? {
                out.push(fb.tensor_info(tensors, n, i as usize)?);
            }
        }
    }
    if let Some((defs, n)) = fb.vector(root, MODEL_SIGNATURE_DEFS) {
        for k in 0..n.min(1 << 16) {
            let def = fb.table(defs, k)?;
            let s = fb.scalar_i32(def, SIGNATURE_SUBGRAPH, 0)?.max(0) as usize;
            if s >= n_subgraphs {
                return None;
            }
            let (_, tensors, n_tensors) = tensors_of(s)?;
            let mut sig = SignatureInfo {
                key: fb.string(def, SIGNATURE_KEY).unwrap_or_default(),
                inputs: Vec::new(),
                outputs: Vec::new(),
            };
            for (field, out) in [
                (SIGNATURE_INPUTS, &mut sig.inputs),
                (SIGNATURE_OUTPUTS, &mut sig.outputs),
            ] {
                if let Some((maps, m)) = fb.vector(def, field) {
                    for j in 0..m.min(1 << 16) {
                        let map = fb.table(maps, j)?;
                        let index = fb.scalar_i32(map, TENSORMAP_TENSOR, 0)?.max(0) as usize;
                        out.push((
                            fb.string(map, TENSORMAP_NAME).unwrap_or_default(),
                            fb.tensor_info(tensors, n_tensors, index)?,
                        ));
                    }
                }
            }
            d.signatures.push(sig);
        }
    }
    // Operator codes, and how many nodes of all subgraphs use each.
    let (codes, n_codes) = fb.vector(root, MODEL_OPERATOR_CODES).unwrap_or((0, 0));
    let mut uses = vec![0usize; n_codes.min(1 << 20)];
    for s in 0..n_subgraphs {
        let g = fb.table(subgraphs, s)?;
        if let Some((ops, n_ops)) = fb.vector(g, SUBGRAPH_OPERATORS) {
            for o in 0..n_ops {
                let op = fb.table(ops, o)?;
                let c = fb
                    .field(op, OPERATOR_OPCODE_INDEX)
                    .map_or(Some(0), |p| fb.u32_at(p))?;
                if let Some(u) = uses.get_mut(c) {
                    *u += 1;
                }
            }
        }
    }
    for (k, nodes) in uses.into_iter().enumerate() {
        let c = fb.table(codes, k)?;
        let code = builtin_code(&fb, c)?;
        let version = fb.scalar_i32(c, OPCODE_VERSION, 1)?;
        let (name, custom) = if code == BUILTIN_CUSTOM {
            (fb.string(c, OPCODE_CUSTOM).unwrap_or_default(), true)
        } else {
            (ops::builtin_name(code), false)
        };
        d.operators.push(OperatorInfo {
            name,
            custom,
            version,
            nodes,
        });
    }
    Some(d)
}
