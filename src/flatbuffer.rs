//! A bounds-checked reader of the `.tflite` flatbuffer fields TFLite 2.14's C API does not
//! expose without an interpreter (inputs, outputs, signatures, operators, metadata) and of
//! what the graph check needs. Every read is checked: the bytes may be hostile.

use crate::info::{OperatorInfo, SignatureInfo};
use crate::quant::{Quantization, QuantizationParams};
use crate::tensor::TensorInfo;
use crate::DataType;

// The checked FlexBuffer reader, for the options of TFLite's own custom kernels; it is the
// crate's module when MediaPipe's ops are built in, else compiled here.
#[cfg(feature = "mediapipe")]
use crate::flexbuffer;
#[cfg(not(feature = "mediapipe"))]
#[allow(dead_code)]
#[path = "flexbuffer.rs"]
mod flexbuffer;

/// A view of a flatbuffer; every accessor returns `None` rather than read out of bounds.
pub(crate) struct Flatbuffer<'a>(pub(crate) &'a [u8]);

impl Flatbuffer<'_> {
    fn u32_at(&self, p: usize) -> Option<usize> {
        let b = self.0.get(p..p.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
    }

    fn u16_at(&self, p: usize) -> Option<usize> {
        let b = self.0.get(p..p.checked_add(2)?)?;
        Some(u16::from_le_bytes(b.try_into().ok()?) as usize)
    }

    /// The root table.
    fn root(&self) -> Option<usize> {
        self.u32_at(0)
    }

    /// Position of field `i` of the table at `t`, if present.
    fn field(&self, t: usize, i: usize) -> Option<usize> {
        let soffset = self.u32_at(t)? as u32 as i32 as i64;
        let vtable = usize::try_from(t as i64 - soffset).ok()?;
        let at = 4 + 2 * i;
        if at >= self.u16_at(vtable)? {
            return None;
        }
        match self.u16_at(vtable + at)? {
            0 => None,
            o => t.checked_add(o),
        }
    }

    /// Follows the offset stored at `p`.
    fn deref(&self, p: usize) -> Option<usize> {
        p.checked_add(self.u32_at(p)?)
    }

    /// (first element, length) of the vector field `i` of the table at `t`.
    fn vector(&self, t: usize, i: usize) -> Option<(usize, usize)> {
        let v = self.deref(self.field(t, i)?)?;
        Some((v.checked_add(4)?, self.u32_at(v)?))
    }

    /// The bytes of the byte-vector field `i` of the table at `t`.
    fn bytes(&self, t: usize, i: usize) -> Option<&[u8]> {
        let (start, len) = self.vector(t, i)?;
        self.0.get(start..start.checked_add(len)?)
    }

    /// Element `k` of a vector of tables.
    fn table(&self, elements: usize, k: usize) -> Option<usize> {
        self.deref(elements.checked_add(k.checked_mul(4)?)?)
    }
}

// Field numbers of the TFLite schema (schema.fbs).
const MODEL_SUBGRAPHS: usize = 2;
const SUBGRAPH_TENSORS: usize = 0;
const SUBGRAPH_INPUTS: usize = 1;
const SUBGRAPH_OUTPUTS: usize = 2;
const SUBGRAPH_OPERATORS: usize = 3;
const TENSOR_SHAPE: usize = 0;
const TENSOR_BUFFER: usize = 2;
const TENSOR_IS_VARIABLE: usize = 5;
const OPERATOR_INPUTS: usize = 1;
const OPERATOR_OUTPUTS: usize = 2;
const MODEL_BUFFERS: usize = 4;
const MODEL_METADATA: usize = 6;
const METADATA_NAME: usize = 0;
const METADATA_BUFFER: usize = 1;
/// An operator's optional input left out: -1 as an i32, read here as a u32.
const NO_TENSOR: usize = u32::MAX as usize;
const BUFFER_DATA: usize = 0;
const BUFFER_OFFSET: usize = 1;

/// The `min_runtime_version` the converter recorded in the model's metadata ("2.3.0", …), if
/// any: the oldest TFLite it expects to run the model.
pub(crate) fn min_runtime_version(model: &[u8]) -> Option<String> {
    let fb = Flatbuffer(model);
    let root = fb.root()?;
    let (metadata, n) = fb.vector(root, MODEL_METADATA)?;
    for k in 0..n.min(1024) {
        let entry = fb.table(metadata, k)?;
        if fb.bytes(entry, METADATA_NAME)? != b"min_runtime_version" {
            continue;
        }
        let index = fb.u32_at(fb.field(entry, METADATA_BUFFER)?)?;
        let (buffers, count) = fb.vector(root, MODEL_BUFFERS)?;
        if index >= count {
            return None;
        }
        let data = fb.bytes(fb.table(buffers, index)?, BUFFER_DATA)?;
        let text = data.split(|&b| b == 0).next()?;
        let text = std::str::from_utf8(text).ok()?.trim();
        return (!text.is_empty()).then(|| text.to_string());
    }
    None
}

/// Checks what TFLite 2.14 assumes of a graph without checking it, in every subgraph, in
/// execution (operator) order:
///
/// - every tensor is written by at most one operator, and never one that is a subgraph input
///   (a tensor written twice was left unallocated by the arena planner: a null write in
///   FULLY_CONNECTED);
/// - every tensor an operator reads, and every subgraph output, already holds data: it is a
///   subgraph input, a constant, a variable, empty (a zero dimension), or written by an earlier
///   operator (otherwise the tensor has no memory: null reads in RESHAPE, RESIZE_BILINEAR,
///   WHILE, …);
/// - no constant is written: no operator output, and no input of a subgraph another runs (IF
///   and WHILE copy into their subgraphs' inputs), holds a constant buffer (TFLite would write
///   into the model's bytes, which every interpreter of the model shares: wrong results
///   elsewhere, and a data race between threads — a SIGSEGV).
///
/// All found by fuzzing. `Err` names the operator and tensor. Call on a model TFLite has
/// verified.
pub(crate) fn check_graph(model: &[u8]) -> Result<(), String> {
    let fb = Flatbuffer(model);
    let bad = || "the model's graph tables are out of bounds".to_string();
    let root = fb.root().ok_or_else(bad)?;
    let Some((subgraphs, n)) = fb.vector(root, MODEL_SUBGRAPHS) else {
        return Ok(());
    };
    let (buffers, n_buffers) = fb.vector(root, MODEL_BUFFERS).unwrap_or((0, 0));
    // Whether buffer `b` holds data (inline, or at an offset for models over 2 GB).
    let has_data = |b: usize| -> bool {
        b < n_buffers
            && fb.table(buffers, b).is_some_and(|buffer| {
                fb.vector(buffer, BUFFER_DATA)
                    .is_some_and(|(_, len)| len > 0)
                    || fb.field(buffer, BUFFER_OFFSET).is_some_and(|f| {
                        // A u64; TFLite takes offsets above 1 as data.
                        let (lo, hi) = (fb.u32_at(f).unwrap_or(0), fb.u32_at(f + 4).unwrap_or(0));
                        hi > 0 || lo > 1
                    })
            })
    };
    // The i32 entries of a vector field (-1, "no tensor", reads as u32::MAX).
    let indices = |table: usize, field: usize| -> Result<Vec<usize>, String> {
        let Some((start, k)) = fb.vector(table, field) else {
            return Ok(Vec::new());
        };
        (0..k)
            .map(|i| fb.u32_at(start + 4 * i).ok_or_else(bad))
            .collect()
    };
    // The builtin operator name of each operator code ("CUSTOM" for custom ones).
    let (codes, n_codes) = fb.vector(root, MODEL_OPERATOR_CODES).unwrap_or((0, 0));
    let op_names: Vec<String> = (0..n_codes.min(1 << 16))
        .map(|k| {
            fb.table(codes, k)
                .and_then(|c| builtin_code(&fb, c))
                .map_or_else(|| "?".to_string(), crate::ops::builtin_name)
        })
        .collect();
    // The custom code of each operator code (empty for builtins).
    let custom_codes: Vec<Vec<u8>> = (0..op_names.len())
        .map(|k| {
            fb.table(codes, k)
                .and_then(|c| fb.bytes(c, OPCODE_CUSTOM))
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        })
        .collect();
    // The subgraphs each subgraph's IF, WHILE and CALL_ONCE operators run.
    let mut calls: Vec<Vec<usize>> = vec![Vec::new(); n];
    // Each subgraph's first input that is a constant, if any.
    let mut constant_inputs: Vec<Option<usize>> = Vec::with_capacity(n);
    for s in 0..n {
        let subgraph = fb.table(subgraphs, s).ok_or_else(bad)?;
        let (tensors, n_tensors) = fb.vector(subgraph, SUBGRAPH_TENSORS).unwrap_or((0, 0));
        // Tensors that hold data before any operator runs.
        let mut ready = Vec::with_capacity(n_tensors);
        let mut constants = Vec::with_capacity(n_tensors);
        let mut variables = Vec::with_capacity(n_tensors);
        // Tensors readable without a writer only because they are empty.
        let mut empty_only = Vec::with_capacity(n_tensors);
        let mut types = Vec::with_capacity(n_tensors);
        for t in 0..n_tensors {
            let tensor = fb.table(tensors, t).ok_or_else(bad)?;
            types.push(fb.scalar_u8(tensor, TENSOR_TYPE).unwrap_or(0));
            // Quantization scales become fixed-point multipliers; an infinite or NaN one
            // converts to an integer with undefined behaviour (on aarch64 it saturates and
            // TFLite's check aborts the process).
            if let Some(q) = fb
                .field(tensor, TENSOR_QUANTIZATION)
                .and_then(|p| fb.deref(p))
            {
                let scales = fb.words(q, QUANT_SCALE).ok_or_else(bad)?;
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
                // A zero point outside the element type's range is a lie the kernels add to
                // their int32 accumulators unchecked (signed overflow).
                if let Some(range) = zero_point_range(types[t]) {
                    // Kernels divide by a quantized tensor's scale: one scale of 0 maps every
                    // value to the zero point and makes their multipliers infinite.
                    if scales.len() == 1 && f32::from_bits(scales[0]) == 0.0 {
                        return Err(format!(
                            "tensor {t} of subgraph {s} is quantized with a scale of 0"
                        ));
                    }
                    let zero_points = fb.longs(q, QUANT_ZERO_POINT).ok_or_else(bad)?;
                    if let Some(z) = zero_points.into_iter().find(|z| !range.contains(z)) {
                        return Err(format!(
                            "tensor {t} of subgraph {s} has a zero point of {z}, outside its \
                             element type's range {range:?}"
                        ));
                    }
                }
            }
            // A sparse tensor's parameters say where each value it holds goes; TFLite's
            // densifying code follows them unchecked (the full verifier that checks them,
            // tensorflow/lite/core/tools/verifier.cc, is not what a model load runs).
            if let Some(sparsity) = fb.field(tensor, TENSOR_SPARSITY).and_then(|p| fb.deref(p)) {
                let buffer = fb
                    .field(tensor, TENSOR_BUFFER)
                    .and_then(|f| fb.u32_at(f))
                    .filter(|&b| b < n_buffers)
                    .and_then(|b| fb.table(buffers, b))
                    .and_then(|b| fb.vector(b, BUFFER_DATA))
                    .map_or(0, |(_, len)| len);
                let shape = fb.words(tensor, TENSOR_SHAPE).ok_or_else(bad)?;
                check_sparsity(&fb, sparsity, &shape, types[t], buffer).map_err(|why| {
                    format!("tensor {t} of subgraph {s} has sparsity parameters that {why}")
                })?;
            }
            let constant = fb
                .field(tensor, TENSOR_BUFFER)
                .and_then(|f| fb.u32_at(f))
                .is_some_and(has_data);
            let variable = fb
                .scalar_u8(tensor, TENSOR_IS_VARIABLE)
                .is_some_and(|b| b != 0);
            if constant {
                // (Empty if the buffer lies at an offset past the flatbuffer.)
                let data = fb
                    .field(tensor, TENSOR_BUFFER)
                    .and_then(|f| fb.u32_at(f))
                    .and_then(|b| fb.table(buffers, b))
                    .and_then(|b| fb.bytes(b, BUFFER_DATA))
                    .unwrap_or_default();
                match types[t] {
                    // Kernels read a constant string tensor's offsets unchecked (a hash table
                    // imported keys from past its buffer), and as many strings as its shape
                    // has elements (HASHTABLE_IMPORT read 3 values from a buffer of 1).
                    TYPE_STRING if !data.is_empty() => {
                        let shape = fb.words(tensor, TENSOR_SHAPE).ok_or_else(bad)?;
                        let elements = shape.iter().try_fold(1usize, |n, &d| {
                            usize::try_from(d as i32)
                                .ok()
                                .and_then(|d| n.checked_mul(d))
                        });
                        check_strings(data, elements).map_err(|why| {
                            format!("constant string tensor {t} of subgraph {s} {why}")
                        })?
                    }
                    // Handles are made by the kernels that handle them, never stored.
                    ty @ (TYPE_RESOURCE | TYPE_VARIANT) => {
                        return Err(format!(
                            "tensor {t} of subgraph {s} is a constant of type {}",
                            type_name(ty)
                        ))
                    }
                    _ => {}
                }
            }
            let empty = indices(tensor, TENSOR_SHAPE)?.contains(&0);
            variables.push(variable);
            ready.push(constant || variable || empty);
            empty_only.push(empty && !constant && !variable);
            constants.push(constant && !variable);
        }
        let mut written = vec![false; n_tensors];
        // The first operator that read each tensor nothing had written yet (an empty one).
        let mut read_unwritten: Vec<Option<usize>> = vec![None; n_tensors];
        // A subgraph's own inputs and outputs are tensors (control flow copies into and out
        // of them without looking for -1).
        let subgraph_inputs = indices(subgraph, SUBGRAPH_INPUTS)?;
        let subgraph_outputs = indices(subgraph, SUBGRAPH_OUTPUTS)?;
        for (what, list) in [("input", &subgraph_inputs), ("output", &subgraph_outputs)] {
            if let Some(&t) = list.iter().find(|&&t| t >= n_tensors) {
                return Err(format!(
                    "subgraph {s} lists tensor {} as an {what}, but has {n_tensors}",
                    t as u32 as i32
                ));
            }
        }
        constant_inputs.push(
            subgraph_inputs
                .iter()
                .copied()
                .find(|&t| constants.get(t) == Some(&true)),
        );
        for &t in &subgraph_inputs {
            if let Some(w) = written.get_mut(t) {
                *w = true;
                ready[t] = true;
            }
        }
        let Some((ops, n_ops)) = fb.vector(subgraph, SUBGRAPH_OPERATORS) else {
            continue;
        };
        for o in 0..n_ops {
            let op = fb.table(ops, o).ok_or_else(bad)?;
            let name = fb
                .field(op, OPERATOR_OPCODE_INDEX)
                .map_or(Some(0), |p| fb.u32_at(p))
                .and_then(|c| op_names.get(c))
                .map_or("?", String::as_str);
            let inputs = indices(op, OPERATOR_INPUTS)?;
            let outputs = indices(op, OPERATOR_OUTPUTS)?;
            // TFLite's own custom kernels read their FlexBuffer options without a bound.
            if name == "CUSTOM" {
                let code = fb
                    .field(op, OPERATOR_OPCODE_INDEX)
                    .map_or(Some(0), |p| fb.u32_at(p))
                    .and_then(|c| custom_codes.get(c))
                    .map_or(&[][..], Vec::as_slice);
                if let Some(keys) = flexbuffer_keys(code) {
                    // Only inline options reach the kernel: TFLite's C API builds the
                    // interpreter from the bare flatbuffer, so options stored at an offset
                    // (models past 2 GB) reach it as none, read through null.
                    let options = fb.bytes(op, OPERATOR_CUSTOM_OPTIONS).unwrap_or_default();
                    check_custom_options(options, keys).map_err(|why| {
                        format!(
                            "operator {o} of subgraph {s} ({}) has options TFLite's kernel \
                             cannot read safely: {why}",
                            String::from_utf8_lossy(code)
                        )
                    })?;
                }
            }
            // The subgraph-index fields, and the options table they must be read from.
            let (callees, options_type): (&[usize], u8) = match name {
                "IF" => (&[0, 1], OPTIONS_IF),
                "WHILE" => (&[0, 1], OPTIONS_WHILE),
                "CALL_ONCE" => (&[0], OPTIONS_CALL_ONCE),
                _ => (&[], 0),
            };
            if !callees.is_empty() {
                // TFLite reads another operator's options as absent, i.e. subgraph 0: a
                // CALL_ONCE carrying WHILE's options ran the main subgraph from itself until
                // the stack overflowed, while the fields read here named subgraph 1.
                let carried = fb.scalar_u8(op, OPERATOR_BUILTIN_OPTIONS_TYPE).unwrap_or(0);
                if carried != options_type {
                    return Err(format!(
                        "operator {o} of subgraph {s} ({name}) carries the options of another \
                         operator (options type {carried}, not {options_type})"
                    ));
                }
                let options = fb
                    .field(op, OPERATOR_BUILTIN_OPTIONS)
                    .and_then(|p| fb.deref(p));
                for &f in callees {
                    let callee = options
                        .and_then(|t| fb.scalar_i32(t, f, 0))
                        .ok_or_else(bad)?;
                    let callee =
                        usize::try_from(callee)
                            .ok()
                            .filter(|&c| c < n)
                            .ok_or_else(|| {
                                format!(
                                "operator {o} of subgraph {s} ({name}) runs subgraph {callee}, \
                                 but the model has {n}"
                            )
                            })?;
                    if let Some(c) = calls.get_mut(s) {
                        c.push(callee);
                    }
                }
            }
            for (k, &t) in inputs.iter().enumerate() {
                if t == NO_TENSOR && !may_omit_input(name, k) {
                    return Err(format!(
                        "operator {o} of subgraph {s} ({name}) leaves its input {k} out (-1), \
                         which {name} requires"
                    ));
                }
                if t >= n_tensors && t != NO_TENSOR {
                    return Err(format!(
                        "operator {o} of subgraph {s} reads tensor {t}, but the subgraph has \
                         {n_tensors}"
                    ));
                }
                if ready.get(t) == Some(&false) {
                    return Err(format!(
                        "operator {o} of subgraph {s} reads tensor {t}, which nothing has \
                         written before it (not an input, constant or variable)"
                    ));
                }
                if empty_only.get(t) == Some(&true) && written.get(t) == Some(&false) {
                    if let Some(r @ None) = read_unwritten.get_mut(t) {
                        *r = Some(o);
                    }
                }
            }
            // Strings, resources and variants have no data buffer until a kernel that
            // handles them gives them one; every other kernel reads or writes them as numbers
            // through a null pointer (SOFTMAX into a RESOURCE output: SIGSEGV).
            if let Some((side, k, t, ty)) = unhandled_type(name, &inputs, &outputs, &types) {
                return Err(format!(
                    "operator {o} of subgraph {s} ({name}) {side} {k} is tensor {t} of type \
                     {}, which {name} does not compute on: such tensors have no data buffer",
                    type_name(ty)
                ));
            }
            // A float kernel writes float32: it writes 4 bytes per element into any output,
            // whatever its type says (SOFTMAX's float kernel, given an int8 output, wrote past
            // it). Only the operators that convert types may write another type; LSH_PROJECTION
            // writes int32 without looking at its output's type.
            let reads_floats = inputs.iter().any(|&t| types.get(t) == Some(&TYPE_FLOAT32));
            let writes = |ty: u8| match name {
                "LSH_PROJECTION" => ty == TYPE_INT32,
                _ => converts_floats(name) || !reads_floats || ty == TYPE_FLOAT32,
            };
            if let Some((k, &t)) = outputs
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
            for (k, &t) in outputs.iter().enumerate() {
                if t == NO_TENSOR && !may_omit_output(name) {
                    return Err(format!(
                        "operator {o} of subgraph {s} ({name}) leaves its output {k} out (-1)"
                    ));
                }
                if t >= n_tensors && t != NO_TENSOR {
                    return Err(format!(
                        "operator {o} of subgraph {s} writes tensor {t}, but the subgraph has \
                         {n_tensors}"
                    ));
                }
                if constants.get(t) == Some(&true) {
                    return Err(format!(
                        "operator {o} of subgraph {s} ({name}) writes tensor {t}, a constant"
                    ));
                }
                // A variable (the state a recurrent kernel updates in place, listed as its
                // input) has persistent memory planned once, for its declared shape: an
                // operator writing it as an output (MUL) wrote through null.
                if variables.get(t) == Some(&true) {
                    return Err(format!(
                        "operator {o} of subgraph {s} ({name}) writes tensor {t}, a variable \
                         (variables are updated in place, as inputs)"
                    ));
                }
                // Operators run in the order they are listed: one that writes a tensor an
                // earlier one read (an empty tensor, which needs no writer to be read) resizes
                // it after its reader was prepared for the declared shape; kernels then read
                // or write past what they were prepared for (a GELU before the ABS computing
                // its input: a null read in the builtin kernel, and XNNPACK wrote past an
                // empty output).
                if let Some(&Some(r)) = read_unwritten.get(t).filter(|r| **r != Some(o)) {
                    return Err(format!(
                        "operator {o} of subgraph {s} ({name}) writes tensor {t}, which operator \
                         {r} read before it: operators must be listed in the order they run"
                    ));
                }
                match written.get_mut(t) {
                    Some(w) if *w => {
                        return Err(format!(
                            "tensor {t} of subgraph {s} is written by two operators, or is an \
                             input that an operator writes"
                        ))
                    }
                    Some(w) => {
                        *w = true;
                        ready[t] = true;
                    }
                    None => {}
                }
            }
        }
        for &t in &subgraph_outputs {
            if ready.get(t) == Some(&false) {
                return Err(format!(
                    "output tensor {t} of subgraph {s} is written by no operator (and is not \
                     an input, constant or variable)"
                ));
            }
        }
    }
    // IF and WHILE copy into the inputs of the subgraphs they run (CALL_ONCE's has none).
    for (s, callees) in calls.iter().enumerate() {
        for &c in callees {
            if let Some(t) = constant_inputs.get(c).copied().flatten() {
                return Err(format!(
                    "subgraph {c}, which subgraph {s} runs, has a constant as its input                      (tensor {t}): running it would write into the model"
                ));
            }
        }
    }
    // A subgraph that runs itself, directly or through others, recurses until the stack
    // overflows (TFLite checks nothing): the calls must form no cycle.
    if let Some(s) = cycle(&calls) {
        return Err(format!(
            "subgraph {s} runs itself (through IF, WHILE or CALL_ONCE operators)"
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
fn type_name(ty: u8) -> String {
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

/// The option keys each custom operator TFLite 2.14 registers itself reads from its FlexBuffer
/// map (`AddCustom` in tensorflow/lite/core/kernels/register.cc), or `None` for other codes.
fn flexbuffer_keys(code: &[u8]) -> Option<&'static [&'static str]> {
    Some(match code {
        b"AudioSpectrogram" => &["window_size", "stride", "magnitude_squared"],
        b"Mfcc" => &[
            "upper_frequency_limit",
            "lower_frequency_limit",
            "filterbank_channel_count",
            "dct_coefficient_count",
        ],
        b"NumericVerify" => &["tolerance", "log_if_failed"],
        b"TFLite_Detection_PostProcess" => &[
            "max_detections",
            "max_classes_per_detection",
            "detections_per_class",
            "use_regular_nms",
            "nms_score_threshold",
            "nms_iou_threshold",
            "num_classes",
            "y_scale",
            "x_scale",
            "h_scale",
            "w_scale",
        ],
        _ => return None,
    })
}

/// Checks what TFLite's FlexBuffer reader would touch in a custom operator's options, which it
/// reads without bounds (a mutated AudioSpectrogram's options: SIGSEGV): the root is a map,
/// every key lies in the buffer with its NUL (the lookup is a binary search over all of them),
/// and each value the kernel reads is a number in the buffer.
fn check_custom_options(options: &[u8], keys: &[&str]) -> Result<(), String> {
    let map = flexbuffer::Options::parse(options)?;
    // A key no map holds: looking it up reads every key.
    map.get("\u{1}")?;
    for key in keys {
        if let Some(value) = map.get(key)? {
            value
                .as_f64()
                .map_err(|why| format!("its \"{key}\": {why}"))?;
        }
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

/// A subgraph on a cycle of `calls` (subgraph -> subgraphs it runs), if there is one.
fn cycle(calls: &[Vec<usize>]) -> Option<usize> {
    // 0: not seen, 1: on the current path, 2: done. Iterative depth-first search.
    let mut state = vec![0u8; calls.len()];
    for root in 0..calls.len() {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some((node, next)) = stack.pop() {
            if let Some(&callee) = calls[node].get(next) {
                stack.push((node, next + 1));
                match state[callee] {
                    1 => return Some(callee),
                    0 => {
                        state[callee] = 1;
                        stack.push((callee, 0));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
            }
        }
    }
    None
}

/// The builtin code of the operator code table at `c` (the larger of the two fields: the
/// schema's deprecated_builtin_code is an int8 capped at 127, builtin_code the full value).
fn builtin_code(fb: &Flatbuffer, c: usize) -> Option<i32> {
    let old = fb
        .scalar_u8(c, OPCODE_DEPRECATED_BUILTIN)
        .map_or(0, |b| b as i8 as i32);
    Some(fb.scalar_i32(c, OPCODE_BUILTIN, 0)?.max(old))
}

/// Whether an operator of builtin `name` may leave input `k` out (-1). TFLite's kernels fetch
/// most inputs with `GetInput`, which answers a left-out input with a null tensor that they
/// then read: only the positions a 2.14 kernel fetches with `GetOptionalInputTensor` or
/// `GetInputSafe`, or tests for `kTfLiteOptionalTensor`, may be -1 (an audit of
/// `tensorflow/lite/kernels`). Custom operators decide for themselves.
fn may_omit_input(name: &str, k: usize) -> bool {
    match name {
        // Bias (conv and depthwise take it with GetInputSafe: an error, not a crash).
        "FULLY_CONNECTED" | "CONV_2D" | "DEPTHWISE_CONV_2D" => k == 2,
        "TRANSPOSE_CONV" | "SVDF" => k == 3,
        // The 3-D convolutions' bias: both kernels test it for null (today's converter leaves
        // a zero bias out of CONV_3D_TRANSPOSE).
        "CONV_3D" => k == 2,
        "CONV_3D_TRANSPOSE" => k == 3,
        // PADV2's constant value; RESHAPE's shape (its new_shape option then says it).
        "PAD" | "PADV2" => k == 2,
        "RESHAPE" => k == 1,
        // Input-gate, peephole, projection and layer-norm tensors.
        "LSTM" | "UNIDIRECTIONAL_SEQUENCE_LSTM" => {
            matches!(k, 1 | 5 | 9 | 10 | 11 | 12 | 16 | 17 | 20..=23)
        }
        "BIDIRECTIONAL_SEQUENCE_LSTM" | "BIDIRECTIONAL_SEQUENCE_RNN" => k != 0,
        "CUSTOM" | "?" => true,
        _ => false,
    }
}

/// Whether an operator of builtin `name` may leave an output out (-1): no 2.14 kernel reads
/// a left-out output safely (WHILE tests for some and then dereferences one in Prepare).
fn may_omit_output(name: &str) -> bool {
    matches!(name, "CUSTOM" | "?")
}

// More of the schema, for `describe`.
const MODEL_OPERATOR_CODES: usize = 1;
const MODEL_SIGNATURE_DEFS: usize = 7;
const TENSOR_TYPE: usize = 1;
/// The schema's `TensorType` codes of strings, resources and variants: the types whose
/// tensors TFLite allocates no data buffer for (dynamic tensors, given memory only by the
/// kernels that handle them).
const TYPE_FLOAT32: u8 = 0;
const TYPE_INT32: u8 = 2;
const TYPE_STRING: u8 = 5;
const TYPE_RESOURCE: u8 = 13;
const TYPE_VARIANT: u8 = 14;
const TENSOR_NAME: usize = 3;
const TENSOR_SPARSITY: usize = 6;
const SPARSITY_TRAVERSAL_ORDER: usize = 0;
const SPARSITY_BLOCK_MAP: usize = 1;
const SPARSITY_DIM_METADATA: usize = 2;
const DIM_FORMAT: usize = 0;
const DIM_DENSE_SIZE: usize = 1;
const DIM_SEGMENTS_TYPE: usize = 2;
const DIM_SEGMENTS: usize = 3;
const DIM_INDICES_TYPE: usize = 4;
const DIM_INDICES: usize = 5;
const TENSOR_QUANTIZATION: usize = 4;
const QUANT_SCALE: usize = 2;
const QUANT_ZERO_POINT: usize = 3;
const QUANT_DIMENSION: usize = 6;
const OPCODE_DEPRECATED_BUILTIN: usize = 0;
const OPCODE_CUSTOM: usize = 1;
const OPCODE_VERSION: usize = 2;
const OPCODE_BUILTIN: usize = 3;
const OPERATOR_OPCODE_INDEX: usize = 0;
const OPERATOR_BUILTIN_OPTIONS_TYPE: usize = 3;
const OPERATOR_BUILTIN_OPTIONS: usize = 4;
const OPERATOR_CUSTOM_OPTIONS: usize = 5;
/// The schema's `BuiltinOptions` union tags of the operators that run subgraphs.
const OPTIONS_IF: u8 = 92;
const OPTIONS_WHILE: u8 = 93;
const OPTIONS_CALL_ONCE: u8 = 103;
const SIGNATURE_INPUTS: usize = 0;
const SIGNATURE_OUTPUTS: usize = 1;
const SIGNATURE_KEY: usize = 2;
const SIGNATURE_SUBGRAPH: usize = 4;
const TENSORMAP_NAME: usize = 0;
const TENSORMAP_TENSOR: usize = 1;
/// The schema's CUSTOM builtin code.
const BUILTIN_CUSTOM: i32 = 32;

/// What a model file says about itself (see [`crate::Model::inputs`] and its siblings).
#[derive(Debug, Clone, Default)]
pub(crate) struct Description {
    pub(crate) inputs: Vec<TensorInfo>,
    pub(crate) outputs: Vec<TensorInfo>,
    pub(crate) signatures: Vec<SignatureInfo>,
    pub(crate) operators: Vec<OperatorInfo>,
}

impl Flatbuffer<'_> {
    fn i32_at(&self, p: usize) -> Option<i32> {
        Some(self.u32_at(p)? as u32 as i32)
    }

    /// The one-byte field `i` of the table at `t` (types, flags, union tags), if present.
    fn scalar_u8(&self, t: usize, i: usize) -> Option<u8> {
        self.field(t, i).and_then(|p| self.0.get(p).copied())
    }

    fn scalar_i32(&self, t: usize, i: usize, default: i32) -> Option<i32> {
        match self.field(t, i) {
            Some(p) => self.i32_at(p),
            None => Some(default),
        }
    }

    fn string(&self, t: usize, i: usize) -> Option<String> {
        Some(String::from_utf8_lossy(self.bytes(t, i)?).into_owned())
    }

    /// The 4-byte elements of the vector field `i` of the table at `t` (empty if absent).
    fn words(&self, t: usize, i: usize) -> Option<Vec<u32>> {
        let Some((start, n)) = self.vector(t, i) else {
            return Some(Vec::new());
        };
        self.0.get(start..start.checked_add(n.checked_mul(4)?)?)?;
        (0..n)
            .map(|k| self.u32_at(start + 4 * k).map(|w| w as u32))
            .collect()
    }

    /// The 8-byte signed elements of the vector field `i` of the table at `t` (empty if
    /// absent).
    fn longs(&self, t: usize, i: usize) -> Option<Vec<i64>> {
        let Some((start, n)) = self.vector(t, i) else {
            return Some(Vec::new());
        };
        let bytes = self.0.get(start..start.checked_add(n.checked_mul(8)?)?)?;
        Some(
            bytes
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect(),
        )
    }

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
            (crate::ops::builtin_name(code), false)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_of_subgraph_calls_are_found() {
        assert_eq!(cycle(&[vec![1, 2], vec![2], vec![]]), None);
        assert_eq!(cycle(&[vec![0]]), Some(0));
        assert_eq!(cycle(&[vec![1], vec![2], vec![1]]), Some(1));
        assert_eq!(cycle(&[vec![], vec![2, 2], vec![]]), None);
    }

    #[test]
    fn hostile_bytes_give_none() {
        for bytes in [
            &b""[..],
            b"\xff\xff\xff\xff",
            b"\x04\x00\x00\x00\xfc\xff\xff\xff",
            &[0u8; 64],
        ] {
            assert_eq!(min_runtime_version(bytes), None);
            // Whatever it says, it must not read out of bounds or panic.
            let _ = check_graph(bytes);
        }
    }
}
