//! The rules on the element types an operator computes on.

use super::{Operator, Subgraph, Verdict};
use crate::schema::fields::*;

/// Strings, resources and variants have no data buffer until a kernel that handles them gives
/// them one; every other kernel reads or writes them as numbers through a null pointer
/// (SOFTMAX into a RESOURCE output: SIGSEGV).
pub(crate) fn operand_types_have_buffers(g: &Subgraph, op: &Operator<'_>) -> Verdict {
    let (o, s, name) = (op.o, op.s, op.name);
    match unhandled_type(name, &op.inputs, &op.outputs, &g.types) {
        Some((side, k, t, ty)) => Err(format!(
            "operator {o} of subgraph {s} ({name}) {side} {k} is tensor {t} of type \
             {}, which {name} does not compute on: such tensors have no data buffer",
            type_name(ty)
        )),
        None => Ok(()),
    }
}

/// A float kernel writes float32: it writes 4 bytes per element into any output, whatever its
/// type says (SOFTMAX's float kernel, given an int8 output, wrote past it). Only the operators
/// that convert types may write another type; LSH_PROJECTION writes int32 without looking at
/// its output's type.
pub(crate) fn float_kernels_write_floats(g: &Subgraph, op: &Operator<'_>) -> Verdict {
    let (o, s, name, types) = (op.o, op.s, op.name, &g.types);
    let reads_floats = op
        .inputs
        .iter()
        .any(|&t| types.get(t) == Some(&TYPE_FLOAT32));
    let writes = |ty: u8| match name {
        "LSH_PROJECTION" => ty == TYPE_INT32,
        _ => converts_floats(name) || !reads_floats || ty == TYPE_FLOAT32,
    };
    if let Some((k, &t)) = op
        .outputs
        .iter()
        .enumerate()
        .find(|&(_, &t)| types.get(t).is_some_and(|&ty| !writes(ty)))
    {
        let wants = match name {
            "LSH_PROJECTION" => "int32",
            _ => "float32 when it reads float32",
        };
        return Err(format!(
            "operator {o} of subgraph {s} ({name}) reads float32 but its output {k} \
             is tensor {t} of type {}, and {name} writes {wants}",
            type_name(types[t])
        ));
    }
    Ok(())
}

/// The first operand of builtin operator `name` whose type is one of the three with no data
/// buffer (string, resource, variant) and that `name` does not handle, if any: (`"input"` or
/// `"output"`, its position, the tensor, its type). TFLite 2.14's kernels that take them (an
/// audit of `tensorflow/lite/kernels` for `kTfLiteResource` and `kTfLiteVariant`):
///
/// - resources are written by VAR_HANDLE and HASHTABLE, read by READ_VARIABLE,
///   ASSIGN_VARIABLE and HASHTABLE_FIND, _IMPORT and _SIZE;
/// - variants by no builtin kernel (the TensorList kernels are custom operators);
/// - strings are written only by kernels that read strings, or a hash table;
/// - IF, WHILE and CALL_ONCE pass any type through to their subgraphs, and custom operators
///   decide for themselves.
///
/// Every other builtin kernel computes on numbers, which these tensors do not hold.
fn unhandled_type(
    name: &str,
    inputs: &[usize],
    outputs: &[usize],
    types: &[u8],
) -> Option<(&'static str, usize, usize, u8)> {
    if matches!(name, "IF" | "WHILE" | "CALL_ONCE" | "CUSTOM" | "?") {
        return None;
    }
    let ty = |t: usize| types.get(t).copied();
    let reads_resources = matches!(
        name,
        "READ_VARIABLE"
            | "ASSIGN_VARIABLE"
            | "HASHTABLE_FIND"
            | "HASHTABLE_IMPORT"
            | "HASHTABLE_SIZE"
    );
    for (k, &t) in inputs.iter().enumerate() {
        match ty(t) {
            Some(TYPE_RESOURCE) if !reads_resources => return Some(("input", k, t, TYPE_RESOURCE)),
            Some(TYPE_VARIANT) => return Some(("input", k, t, TYPE_VARIANT)),
            _ => {}
        }
    }
    let reads_strings = inputs
        .iter()
        .any(|&t| matches!(ty(t), Some(TYPE_STRING | TYPE_RESOURCE)));
    for (k, &t) in outputs.iter().enumerate() {
        let handled = match ty(t) {
            Some(TYPE_STRING) => reads_strings,
            Some(TYPE_RESOURCE) => matches!(name, "VAR_HANDLE" | "HASHTABLE"),
            Some(TYPE_VARIANT) => false,
            _ => true,
        };
        if !handled {
            return Some(("output", k, t, ty(t).unwrap_or(0)));
        }
    }
    None
}

/// The schema's name of a `TensorType`.
pub(crate) fn type_name(ty: u8) -> String {
    const NAMES: [&str; 18] = [
        "FLOAT32",
        "FLOAT16",
        "INT32",
        "UINT8",
        "INT64",
        "STRING",
        "BOOL",
        "INT16",
        "COMPLEX64",
        "INT8",
        "FLOAT64",
        "COMPLEX128",
        "UINT64",
        "RESOURCE",
        "VARIANT",
        "UINT32",
        "UINT16",
        "INT4",
    ];
    NAMES
        .get(ty as usize)
        .map_or_else(|| format!("type {ty}"), |n| n.to_string())
}

/// Whether builtin `name` may write outputs of another type than float32 when it reads a
/// float32 input: the operators that convert (QUANTIZE, CAST, BITCAST), compare, index or
/// count (ARG_MAX, the comparisons, SHAPE, RANK, UNIQUE's and TOPK_V2's indices, WHERE,
/// NON_MAX_SUPPRESSION's indices, BUCKETIZE, MULTINOMIAL, HASHTABLE_LOOKUP's hits), RFFT2D
/// (complex), and control flow and custom operators, which decide for themselves (the others
/// check or set their output's type in Prepare; LSH_PROJECTION, which does not, is checked
/// apart). Every other builtin kernel of TFLite 2.14 computes a float32 input in float32
/// and writes float32 (the hybrid ones too: float32 in, int8 weights, float32 out).
fn converts_floats(name: &str) -> bool {
    matches!(
        name,
        "QUANTIZE"
            | "CAST"
            | "BITCAST"
            | "ARG_MAX"
            | "ARG_MIN"
            | "EQUAL"
            | "NOT_EQUAL"
            | "LESS"
            | "LESS_EQUAL"
            | "GREATER"
            | "GREATER_EQUAL"
            | "SHAPE"
            | "RANK"
            | "UNIQUE"
            | "TOPK_V2"
            | "WHERE"
            | "NON_MAX_SUPPRESSION_V4"
            | "NON_MAX_SUPPRESSION_V5"
            | "BUCKETIZE"
            | "MULTINOMIAL"
            | "HASHTABLE_LOOKUP"
            | "RFFT2D"
            | "IF"
            | "WHILE"
            | "CALL_ONCE"
            | "CUSTOM"
            | "?"
    )
}
