//! The rules on each operator, in execution order, and on a subgraph's inputs and outputs.

use super::{out_of_bounds, ModelTables, Operator, Subgraph, Verdict};
use crate::schema::fields::*;
use crate::schema::flexbuffer;

/// A subgraph's own inputs and outputs are tensors (control flow copies into and out of them
/// without looking for -1). Returns them.
pub(crate) fn subgraph_io_are_tensors(
    m: &ModelTables<'_>,
    g: &Subgraph,
    subgraph: usize,
) -> Result<(Vec<usize>, Vec<usize>), String> {
    let inputs = m.indices(subgraph, SUBGRAPH_INPUTS)?;
    let outputs = m.indices(subgraph, SUBGRAPH_OUTPUTS)?;
    for (what, list) in [("input", &inputs), ("output", &outputs)] {
        if let Some(&t) = list.iter().find(|&&t| t >= g.n_tensors) {
            return Err(format!(
                "subgraph {} lists tensor {} as an {what}, but has {}",
                g.s, t as u32 as i32, g.n_tensors
            ));
        }
    }
    Ok((inputs, outputs))
}

/// TFLite's own custom kernels read their FlexBuffer options without a bound. Only inline
/// options reach the kernel: TFLite's C API builds the interpreter from the bare flatbuffer,
/// so options stored at an offset (models past 2 GB) reach it as none, read through null.
pub(crate) fn custom_options_are_readable(m: &ModelTables<'_>, op: &Operator<'_>) -> Verdict {
    if op.name != "CUSTOM" {
        return Ok(());
    }
    let Some(keys) = flexbuffer_keys(op.code) else {
        return Ok(());
    };
    let options =
        m.fb.bytes(op.table, OPERATOR_CUSTOM_OPTIONS)
            .unwrap_or_default();
    check_custom_options(options, keys).map_err(|why| {
        format!(
            "operator {} of subgraph {} ({}) has options TFLite's kernel cannot read safely: {why}",
            op.o,
            op.s,
            String::from_utf8_lossy(op.code)
        )
    })
}

/// IF, WHILE and CALL_ONCE name the subgraphs they run in their options, which must be their
/// own: TFLite reads another operator's options as absent, i.e. subgraph 0 (a CALL_ONCE
/// carrying WHILE's options ran the main subgraph from itself until the stack overflowed,
/// while the fields read here named subgraph 1); and the subgraphs must exist. Returns them.
pub(crate) fn control_flow_runs_existing_subgraphs(
    m: &ModelTables<'_>,
    op: &Operator<'_>,
) -> Result<Vec<usize>, String> {
    let fb = m.fb;
    let (o, s, name) = (op.o, op.s, op.name);
    // The subgraph-index fields, and the options table they must be read from.
    let (callees, options_type): (&[usize], u8) = match name {
        "IF" => (&[0, 1], OPTIONS_IF),
        "WHILE" => (&[0, 1], OPTIONS_WHILE),
        "CALL_ONCE" => (&[0], OPTIONS_CALL_ONCE),
        _ => return Ok(Vec::new()),
    };
    let carried = fb
        .scalar_u8(op.table, OPERATOR_BUILTIN_OPTIONS_TYPE)
        .unwrap_or(0);
    if carried != options_type {
        return Err(format!(
            "operator {o} of subgraph {s} ({name}) carries the options of another \
             operator (options type {carried}, not {options_type})"
        ));
    }
    let options = fb
        .field(op.table, OPERATOR_BUILTIN_OPTIONS)
        .and_then(|p| fb.deref(p));
    let mut runs = Vec::with_capacity(callees.len());
    for &f in callees {
        let callee = options
            .and_then(|t| fb.scalar_i32(t, f, 0))
            .ok_or_else(out_of_bounds)?;
        let n = m.n_subgraphs;
        let callee = usize::try_from(callee)
            .ok()
            .filter(|&c| c < n)
            .ok_or_else(|| {
                format!(
                    "operator {o} of subgraph {s} ({name}) runs subgraph {callee}, but the \
                     model has {n}"
                )
            })?;
        runs.push(callee);
    }
    Ok(runs)
}

/// Every input an operator reads is a tensor of its subgraph (or left out, -1, where its
/// kernel allows) and already holds data: a subgraph input, a constant, a variable, empty (a
/// zero dimension), or written by an earlier operator (otherwise the tensor has no memory:
/// null reads in RESHAPE, RESIZE_BILINEAR, WHILE, …).
pub(crate) fn inputs_hold_data(g: &mut Subgraph, op: &Operator<'_>) -> Verdict {
    let (o, s, name, n_tensors) = (op.o, op.s, op.name, g.n_tensors);
    for (k, &t) in op.inputs.iter().enumerate() {
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
        if g.ready.get(t) == Some(&false) {
            return Err(format!(
                "operator {o} of subgraph {s} reads tensor {t}, which nothing has \
                 written before it (not an input, constant or variable)"
            ));
        }
        if g.empty_only.get(t) == Some(&true) && g.written.get(t) == Some(&false) {
            if let Some(r @ None) = g.read_unwritten.get_mut(t) {
                *r = Some(o);
            }
        }
    }
    Ok(())
}

/// Every output an operator writes is a tensor of its subgraph (never left out), and one it
/// may write:
///
/// - no constant: TFLite would write into the model's bytes, which every interpreter of the
///   model shares (wrong results elsewhere, and a data race between threads — a SIGSEGV);
/// - no variable: a variable (the state a recurrent kernel updates in place, listed as its
///   input) has persistent memory planned once, for its declared shape (an operator writing
///   it as an output, MUL, wrote through null);
/// - none an earlier operator read: operators run in the order they are listed, and one that
///   writes a tensor an earlier one read (an empty tensor, which needs no writer to be read)
///   resizes it after its reader was prepared for the declared shape (a GELU before the ABS
///   computing its input: a null read in the builtin kernel, and XNNPACK wrote past an empty
///   output);
/// - none written before, nor a subgraph input: the arena planner leaves a tensor written
///   twice unallocated (a null write in FULLY_CONNECTED).
pub(crate) fn outputs_are_writable(g: &mut Subgraph, op: &Operator<'_>) -> Verdict {
    let (o, s, name, n_tensors) = (op.o, op.s, op.name, g.n_tensors);
    for (k, &t) in op.outputs.iter().enumerate() {
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
        if g.constants.get(t) == Some(&true) {
            return Err(format!(
                "operator {o} of subgraph {s} ({name}) writes tensor {t}, a constant"
            ));
        }
        if g.variables.get(t) == Some(&true) {
            return Err(format!(
                "operator {o} of subgraph {s} ({name}) writes tensor {t}, a variable \
                 (variables are updated in place, as inputs)"
            ));
        }
        if let Some(&Some(r)) = g.read_unwritten.get(t).filter(|r| **r != Some(o)) {
            return Err(format!(
                "operator {o} of subgraph {s} ({name}) writes tensor {t}, which operator \
                 {r} read before it: operators must be listed in the order they run"
            ));
        }
        if g.written.get(t) == Some(&true) {
            return Err(format!(
                "tensor {t} of subgraph {s} is written by two operators, or is an \
                 input that an operator writes"
            ));
        }
        g.write(t);
    }
    Ok(())
}

/// Every subgraph output holds data once the operators ran (as [`inputs_hold_data`]).
pub(crate) fn subgraph_outputs_hold_data(g: &Subgraph, outputs: &[usize]) -> Verdict {
    match outputs.iter().find(|&&t| g.ready.get(t) == Some(&false)) {
        Some(t) => Err(format!(
            "output tensor {t} of subgraph {} is written by no operator (and is not \
             an input, constant or variable)",
            g.s
        )),
        None => Ok(()),
    }
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
