//! The rules on a subgraph's tensors, read before its operators.

use super::types::type_name;
use super::{out_of_bounds, ModelTables, Subgraph, Verdict};
use crate::schema::fields::*;
use crate::schema::Flatbuffer;

/// Reads subgraph `s`'s tensors, checking each against the tensor rules.
pub(crate) fn read(m: &ModelTables<'_>, subgraph: usize, s: usize) -> Result<Subgraph, String> {
    let fb = m.fb;
    let (tensors, n_tensors) = fb.vector(subgraph, SUBGRAPH_TENSORS).unwrap_or((0, 0));
    let mut g = Subgraph {
        s,
        n_tensors,
        types: Vec::with_capacity(n_tensors),
        constants: Vec::with_capacity(n_tensors),
        variables: Vec::with_capacity(n_tensors),
        ready: Vec::with_capacity(n_tensors),
        empty_only: Vec::with_capacity(n_tensors),
        written: vec![false; n_tensors],
        read_unwritten: vec![None; n_tensors],
    };
    for t in 0..n_tensors {
        let tensor = fb.table(tensors, t).ok_or_else(out_of_bounds)?;
        let ty = fb.scalar_u8(tensor, TENSOR_TYPE).unwrap_or(0);
        g.types.push(ty);
        quantization_is_usable(fb, tensor, ty, s, t)?;
        sparsity_is_consistent(m, tensor, ty, s, t)?;
        let constant = fb
            .field(tensor, TENSOR_BUFFER)
            .and_then(|f| fb.u32_at(f))
            .is_some_and(|b| m.has_data(b));
        let variable = fb
            .scalar_u8(tensor, TENSOR_IS_VARIABLE)
            .is_some_and(|b| b != 0);
        if constant {
            constant_is_storable(m, tensor, ty, s, t)?;
        }
        let empty = m.indices(tensor, TENSOR_SHAPE)?.contains(&0);
        g.variables.push(variable);
        g.ready.push(constant || variable || empty);
        g.empty_only.push(empty && !constant && !variable);
        g.constants.push(constant && !variable);
    }
    Ok(g)
}

/// Quantization scales become fixed-point multipliers; an infinite or NaN one converts to an
/// integer with undefined behaviour (on aarch64 it saturates and TFLite's check aborts the
/// process). Kernels divide by a quantized tensor's scale: one scale of 0 maps every value to
/// the zero point and makes their multipliers infinite. A zero point outside the element
/// type's range is a lie the kernels add to their int32 accumulators unchecked (signed
/// overflow).
fn quantization_is_usable(fb: &Flatbuffer, tensor: usize, ty: u8, s: usize, t: usize) -> Verdict {
    let Some(q) = fb
        .field(tensor, TENSOR_QUANTIZATION)
        .and_then(|p| fb.deref(p))
    else {
        return Ok(());
    };
    let scales = fb.words(q, QUANT_SCALE).ok_or_else(out_of_bounds)?;
    if let Some(v) = scales
        .iter()
        .copied()
        .map(f32::from_bits)
        .find(|v| !v.is_finite() || *v < 0.0)
    {
        return Err(format!(
            "tensor {t} of subgraph {s} has a quantization scale of {v}"
        ));
    }
    if let Some(range) = zero_point_range(ty) {
        if scales.len() == 1 && f32::from_bits(scales[0]) == 0.0 {
            return Err(format!(
                "tensor {t} of subgraph {s} is quantized with a scale of 0"
            ));
        }
        let zero_points = fb.longs(q, QUANT_ZERO_POINT).ok_or_else(out_of_bounds)?;
        if let Some(z) = zero_points.into_iter().find(|z| !range.contains(z)) {
            return Err(format!(
                "tensor {t} of subgraph {s} has a zero point of {z}, outside its \
                 element type's range {range:?}"
            ));
        }
    }
    Ok(())
}

/// A sparse tensor's parameters say where each value it holds goes; TFLite's densifying code
/// follows them unchecked (the full verifier that checks them,
/// tensorflow/lite/core/tools/verifier.cc, is not what a model load runs).
fn sparsity_is_consistent(
    m: &ModelTables<'_>,
    tensor: usize,
    ty: u8,
    s: usize,
    t: usize,
) -> Verdict {
    let fb = m.fb;
    let Some(sparsity) = fb.field(tensor, TENSOR_SPARSITY).and_then(|p| fb.deref(p)) else {
        return Ok(());
    };
    let buffer = fb
        .field(tensor, TENSOR_BUFFER)
        .and_then(|f| fb.u32_at(f))
        .filter(|&b| b < m.n_buffers)
        .and_then(|b| fb.table(m.buffers, b))
        .and_then(|b| fb.vector(b, BUFFER_DATA))
        .map_or(0, |(_, len)| len);
    let shape = fb.words(tensor, TENSOR_SHAPE).ok_or_else(out_of_bounds)?;
    check_sparsity(fb, sparsity, &shape, ty, buffer)
        .map_err(|why| format!("tensor {t} of subgraph {s} has sparsity parameters that {why}"))
}

/// Kernels read a constant string tensor's offsets unchecked (a hash table imported keys from
/// past its buffer), and as many strings as its shape has elements (HASHTABLE_IMPORT read 3
/// values from a buffer of 1); handles (resources, variants) are made by the kernels that
/// handle them, never stored.
fn constant_is_storable(m: &ModelTables<'_>, tensor: usize, ty: u8, s: usize, t: usize) -> Verdict {
    let fb = m.fb;
    // (Empty if the buffer lies at an offset past the flatbuffer.)
    let data = fb
        .field(tensor, TENSOR_BUFFER)
        .and_then(|f| fb.u32_at(f))
        .and_then(|b| fb.table(m.buffers, b))
        .and_then(|b| fb.bytes(b, BUFFER_DATA))
        .unwrap_or_default();
    match ty {
        TYPE_STRING if !data.is_empty() => {
            let shape = fb.words(tensor, TENSOR_SHAPE).ok_or_else(out_of_bounds)?;
            let elements = shape.iter().try_fold(1usize, |n, &d| {
                usize::try_from(d as i32)
                    .ok()
                    .and_then(|d| n.checked_mul(d))
            });
            check_strings(data, elements)
                .map_err(|why| format!("constant string tensor {t} of subgraph {s} {why}"))
        }
        TYPE_RESOURCE | TYPE_VARIANT => Err(format!(
            "tensor {t} of subgraph {s} is a constant of type {}",
            type_name(ty)
        )),
        _ => Ok(()),
    }
}

/// Checks a sparse tensor's parameters as TFLite's full verifier does
/// (`VerifyAndCountSparseElements` in tensorflow/lite/core/tools/verifier.cc): the traversal
/// order is a permutation of the tensor's dimensions then of its block dimensions, the block
/// map names as many dimensions as there are block dimensions, each dense dimension has the
/// size the shape and blocks give it (which the blocks must divide), each sparse dimension's
/// segments rise from 0 and its indices lie within the dimension; and the buffer holds exactly
/// the values they count (if the tensor has one). `Err` says what is wrong.
fn check_sparsity(
    fb: &Flatbuffer,
    sparsity: usize,
    shape: &[u32],
    ty: u8,
    buffer_len: usize,
) -> Result<(), String> {
    let bad = || "are out of bounds".to_string();
    let words = |t: usize, i: usize| -> Result<Vec<i64>, String> {
        Ok(fb
            .words(t, i)
            .ok_or_else(bad)?
            .into_iter()
            .map(|w| w as i32 as i64)
            .collect())
    };
    let order = words(sparsity, SPARSITY_TRAVERSAL_ORDER)?;
    let block_map = words(sparsity, SPARSITY_BLOCK_MAP)?;
    let (dims, n_dims) = fb
        .vector(sparsity, SPARSITY_DIM_METADATA)
        .ok_or("have no dimension metadata")?;
    let rank = shape.len();
    let total = order.len();
    if total < rank || n_dims != total || block_map.len() != total - rank {
        return Err(format!(
            "disagree on the rank: shape {rank}, traversal order {total}, {n_dims} dimensions, \
             block map {}",
            block_map.len()
        ));
    }
    let mut sorted = order.clone();
    sorted[..rank].sort_unstable();
    sorted[rank..].sort_unstable();
    if sorted.iter().enumerate().any(|(k, &d)| d != k as i64) {
        return Err(format!(
            "have a traversal order {order:?} that is no permutation"
        ));
    }
    // The size of each dimension, blocked: (d0, ..., dn-1) divided by their blocks, then the
    // block dimensions.
    let mut sizes: Vec<i64> = shape.iter().map(|&d| d as i32 as i64).collect();
    sizes.resize(total, 0);
    let dim = |k: usize| fb.table(dims, k).ok_or_else(bad);
    for (k, &mapped) in block_map.iter().enumerate() {
        let block = fb
            .scalar_i32(dim(rank + k)?, DIM_DENSE_SIZE, 0)
            .ok_or_else(bad)? as i64;
        let mapped = usize::try_from(mapped)
            .ok()
            .filter(|&m| m < rank)
            .ok_or_else(|| format!("map block {k} to dimension {mapped}"))?;
        if block <= 0 || sizes[mapped] % block != 0 {
            return Err(format!(
                "make dimension {mapped} (of {}) blocks of {block}",
                sizes[mapped]
            ));
        }
        sizes[order[rank + k] as usize] = block;
        sizes[mapped] /= block;
    }
    let mut count: i64 = 1;
    for (level, &d) in order.iter().enumerate() {
        let meta = dim(level)?;
        let size = sizes[d as usize];
        if fb.scalar_u8(meta, DIM_FORMAT).unwrap_or(0) == 0 {
            let dense = fb.scalar_i32(meta, DIM_DENSE_SIZE, 0).ok_or_else(bad)? as i64;
            if dense != size {
                return Err(format!(
                    "give level {level} a dense size of {dense}, not {size}"
                ));
            }
            count = count.saturating_mul(dense);
            continue;
        }
        let index_vector = |type_field, table_field| -> Result<Vec<i64>, String> {
            let ty = fb.scalar_u8(meta, type_field).unwrap_or(0);
            let t = fb
                .field(meta, table_field)
                .and_then(|p| fb.deref(p))
                .ok_or_else(|| format!("leave level {level}'s segments or indices out"))?;
            let (start, n) = fb.vector(t, 0).ok_or_else(bad)?;
            let width = match ty {
                1 => 4,
                2 => 2,
                3 => 1,
                _ => return Err(format!("give level {level} an index vector of type {ty}")),
            };
            let bytes =
                fb.0.get(
                    start
                        ..start
                            .checked_add(n.checked_mul(width).ok_or_else(bad)?)
                            .ok_or_else(bad)?,
                )
                .ok_or_else(bad)?;
            Ok(bytes
                .chunks_exact(width)
                .map(|b| match b {
                    [a, b, c, d] => i32::from_le_bytes([*a, *b, *c, *d]) as i64,
                    [a, b] => u16::from_le_bytes([*a, *b]) as i64,
                    [a] => *a as i64,
                    _ => -1,
                })
                .collect())
        };
        let segments = index_vector(DIM_SEGMENTS_TYPE, DIM_SEGMENTS)?;
        let indices = index_vector(DIM_INDICES_TYPE, DIM_INDICES)?;
        if segments.len() as i64 != count.saturating_add(1)
            || segments.first() != Some(&0)
            || segments.windows(2).any(|w| w[0] > w[1])
            || segments.last() != Some(&(indices.len() as i64))
        {
            return Err(format!(
                "give level {level} segments that do not rise from 0 to its {} indices over \
                 {count} rows",
                indices.len()
            ));
        }
        if let Some(i) = indices.iter().find(|&&i| i < 0 || i >= size) {
            return Err(format!(
                "index {i} at level {level}, of a dimension of {size}"
            ));
        }
        count = indices.len() as i64;
    }
    // Only numbers are stored sparse; int4's count is what the verifier takes too.
    let element = match ty {
        0 | 2 | 15 => 4,
        1 | 7 | 16 => 2,
        3 | 6 | 9 | 17 => 1,
        4 | 10 | 12 | 8 => 8,
        11 => 16,
        _ => return Err(format!("belong to a tensor of type {}", type_name(ty))),
    };
    let bytes = count.saturating_mul(element);
    if buffer_len != 0 && bytes != buffer_len as i64 {
        return Err(format!(
            "count {count} values ({bytes} bytes), but its buffer holds {buffer_len} bytes"
        ));
    }
    Ok(())
}

/// Checks a constant string tensor's buffer as TFLite's full verifier does
/// (`VerifyStringTensorBuffer`), and that its offsets never fall: a count `n`, `n + 1`
/// offsets from the end of that header to the end of the buffer, then the bytes; and, which
/// the verifier does not check, that `n` is the `elements` of the tensor's shape (`None`: a
/// negative or overflowing shape). Kernels index a string tensor by its shape.
fn check_strings(data: &[u8], elements: Option<usize>) -> Result<(), String> {
    let word = |k: usize| -> Option<usize> {
        let at = k.checked_mul(4)?;
        let b = data.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
    };
    let n = word(0).ok_or("holds no string count")?;
    if elements != Some(n) {
        return Err(match elements {
            Some(e) => format!("holds {n} strings for the {e} elements of its shape"),
            None => "has a shape with a negative or overflowing dimension".into(),
        });
    }
    let header = n
        .checked_add(2)
        .and_then(|h| h.checked_mul(4))
        .filter(|&h| h <= data.len())
        .ok_or_else(|| {
            format!(
                "counts {n} strings, more than its {} bytes hold",
                data.len()
            )
        })?;
    let offsets: Vec<usize> = (1..n + 2).filter_map(word).collect();
    if offsets.first() != Some(&header)
        || offsets.last() != Some(&data.len())
        || offsets.windows(2).any(|w| w[0] > w[1])
    {
        return Err(format!(
            "has string offsets that do not rise from {header} to its {} bytes",
            data.len()
        ));
    }
    Ok(())
}

/// The zero points an element type (schema `TensorType`) can hold: int8, uint8, int16,
/// uint16 and int4 tensors; `None` for the others.
fn zero_point_range(ty: u8) -> Option<std::ops::RangeInclusive<i64>> {
    match ty {
        9 => Some(-128..=127),
        3 => Some(0..=255),
        7 => Some(-32768..=32767),
        16 => Some(0..=65535),
        17 => Some(-8..=7),
        _ => None,
    }
}
