//! The load-time rules: what TFLite 2.14 assumes of a graph without checking it, each a
//! function, run in every subgraph in execution (operator) order by [`check_graph`]. All were
//! found by fuzzing; each `Err` names the operator and tensor.
//!
//! - tensors ([`tensors`]): quantization parameters, sparsity parameters, constant strings
//!   and handles;
//! - operators ([`operators`]): left-out operands, reads of tensors nothing wrote, types a
//!   kernel does not compute on, float kernels writing other types, writes into constants,
//!   variables or already-written tensors, custom options TFLite's kernels read unchecked,
//!   control flow naming subgraphs that do not exist;
//! - the graph of subgraphs ([`graph`]): no subgraph another runs takes a constant input, and
//!   none runs itself;
//! - signatures ([`signatures`], checked when a runner is made, not at load): each runs a
//!   subgraph of the model and names all its inputs and outputs.

mod graph;
mod operators;
mod signatures;

pub(crate) use signatures::unusable_signatures;
mod tensors;
mod types;

use super::fields::*;
use super::{builtin_code, ops, Flatbuffer};

/// A rule's verdict: `Err` says what is wrong, naming the subgraph, operator and tensor.
pub(crate) type Verdict = Result<(), String>;

/// Checks every load-time rule on a model TFLite has verified.
pub(crate) fn check_graph(model: &[u8]) -> Verdict {
    let fb = Flatbuffer(model);
    let Some(m) = ModelTables::read(&fb)? else {
        return Ok(());
    };
    // The subgraphs each subgraph's IF, WHILE and CALL_ONCE operators run.
    let mut calls: Vec<Vec<usize>> = vec![Vec::new(); m.n_subgraphs];
    // Each subgraph's first input that is a constant, if any.
    let mut constant_inputs: Vec<Option<usize>> = Vec::with_capacity(m.n_subgraphs);
    for s in 0..m.n_subgraphs {
        let subgraph = fb.table(m.subgraphs, s).ok_or_else(out_of_bounds)?;
        let mut g = tensors::read(&m, subgraph, s)?;
        let (inputs, outputs) = operators::subgraph_io_are_tensors(&m, &g, subgraph)?;
        constant_inputs.push(
            inputs
                .iter()
                .copied()
                .find(|&t| g.constants.get(t) == Some(&true)),
        );
        for &t in &inputs {
            g.write(t);
        }
        // (A subgraph without an operator table is not checked further.)
        let Some((ops, n_ops)) = fb.vector(subgraph, SUBGRAPH_OPERATORS) else {
            continue;
        };
        for o in 0..n_ops {
            let op = Operator::read(&m, ops, s, o)?;
            operators::custom_options_are_readable(&m, &op)?;
            if let Some(c) = calls.get_mut(s) {
                c.extend(operators::control_flow_runs_existing_subgraphs(&m, &op)?);
            }
            operators::inputs_hold_data(&mut g, &op)?;
            types::operand_types_have_buffers(&g, &op)?;
            types::float_kernels_write_floats(&g, &op)?;
            operators::outputs_are_writable(&mut g, &op)?;
        }
        operators::subgraph_outputs_hold_data(&g, &outputs)?;
    }
    graph::callees_take_no_constant_inputs(&calls, &constant_inputs)?;
    graph::no_subgraph_runs_itself(&calls)?;
    Ok(())
}

fn out_of_bounds() -> String {
    "the model's graph tables are out of bounds".to_string()
}

/// What the rules read of the model as a whole.
pub(crate) struct ModelTables<'a> {
    pub(crate) fb: &'a Flatbuffer<'a>,
    pub(crate) root: usize,
    pub(crate) subgraphs: usize,
    pub(crate) n_subgraphs: usize,
    pub(crate) buffers: usize,
    pub(crate) n_buffers: usize,
    /// The builtin operator name of each operator code ("CUSTOM" for custom ones).
    pub(crate) op_names: Vec<String>,
    /// The custom code of each operator code (empty for builtins).
    pub(crate) custom_codes: Vec<Vec<u8>>,
}

impl<'a> ModelTables<'a> {
    /// `None` for a model without subgraphs (nothing to check).
    fn read(fb: &'a Flatbuffer<'a>) -> Result<Option<Self>, String> {
        let root = fb.root().ok_or_else(out_of_bounds)?;
        let Some((subgraphs, n_subgraphs)) = fb.vector(root, MODEL_SUBGRAPHS) else {
            return Ok(None);
        };
        let (buffers, n_buffers) = fb.vector(root, MODEL_BUFFERS).unwrap_or((0, 0));
        let (codes, n_codes) = fb.vector(root, MODEL_OPERATOR_CODES).unwrap_or((0, 0));
        let op_names: Vec<String> = (0..n_codes.min(1 << 16))
            .map(|k| {
                fb.table(codes, k)
                    .and_then(|c| builtin_code(fb, c))
                    .map_or_else(|| "?".to_string(), ops::builtin_name)
            })
            .collect();
        let custom_codes: Vec<Vec<u8>> = (0..op_names.len())
            .map(|k| {
                fb.table(codes, k)
                    .and_then(|c| fb.bytes(c, OPCODE_CUSTOM))
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default()
            })
            .collect();
        Ok(Some(ModelTables {
            fb,
            root,
            subgraphs,
            n_subgraphs,
            buffers,
            n_buffers,
            op_names,
            custom_codes,
        }))
    }

    /// Whether buffer `b` holds data (inline, or at an offset for models over 2 GB).
    pub(crate) fn has_data(&self, b: usize) -> bool {
        let fb = self.fb;
        b < self.n_buffers
            && fb.table(self.buffers, b).is_some_and(|buffer| {
                fb.vector(buffer, BUFFER_DATA)
                    .is_some_and(|(_, len)| len > 0)
                    || fb.field(buffer, BUFFER_OFFSET).is_some_and(|f| {
                        // A u64; TFLite takes offsets above 1 as data.
                        let (lo, hi) = (fb.u32_at(f).unwrap_or(0), fb.u32_at(f + 4).unwrap_or(0));
                        hi > 0 || lo > 1
                    })
            })
    }

    /// The i32 entries of a vector field (-1, "no tensor", reads as u32::MAX).
    pub(crate) fn indices(&self, table: usize, field: usize) -> Result<Vec<usize>, String> {
        let Some((start, k)) = self.fb.vector(table, field) else {
            return Ok(Vec::new());
        };
        (0..k)
            .map(|i| self.fb.u32_at(start + 4 * i).ok_or_else(out_of_bounds))
            .collect()
    }
}

/// One subgraph's tensors as the tensor rules found them, and the data flow through its
/// operators so far.
pub(crate) struct Subgraph {
    pub(crate) s: usize,
    pub(crate) n_tensors: usize,
    pub(crate) types: Vec<u8>,
    pub(crate) constants: Vec<bool>,
    pub(crate) variables: Vec<bool>,
    /// Tensors that hold data: before any operator runs, then as operators write them.
    pub(crate) ready: Vec<bool>,
    /// Tensors readable without a writer only because they are empty.
    pub(crate) empty_only: Vec<bool>,
    pub(crate) written: Vec<bool>,
    /// The first operator that read each tensor nothing had written yet (an empty one).
    pub(crate) read_unwritten: Vec<Option<usize>>,
}

impl Subgraph {
    /// Records that tensor `t` now holds data (a subgraph input, or an operator's output).
    fn write(&mut self, t: usize) {
        if let Some(w) = self.written.get_mut(t) {
            *w = true;
            self.ready[t] = true;
        }
    }
}

/// One operator, as the operator rules see it.
pub(crate) struct Operator<'m> {
    /// Its subgraph and position there.
    pub(crate) s: usize,
    pub(crate) o: usize,
    pub(crate) table: usize,
    /// Its builtin name (`CUSTOM` for a custom operator, `?` for an unknown code).
    pub(crate) name: &'m str,
    /// Its operator code's custom code (empty for builtins).
    pub(crate) code: &'m [u8],
    pub(crate) inputs: Vec<usize>,
    pub(crate) outputs: Vec<usize>,
}

impl<'m> Operator<'m> {
    fn read(m: &'m ModelTables<'_>, ops: usize, s: usize, o: usize) -> Result<Self, String> {
        let fb = m.fb;
        let table = fb.table(ops, o).ok_or_else(out_of_bounds)?;
        let code_index = fb
            .field(table, OPERATOR_OPCODE_INDEX)
            .map_or(Some(0), |p| fb.u32_at(p));
        Ok(Operator {
            s,
            o,
            table,
            name: code_index
                .and_then(|c| m.op_names.get(c))
                .map_or("?", String::as_str),
            code: code_index
                .and_then(|c| m.custom_codes.get(c))
                .map_or(&[][..], Vec::as_slice),
            inputs: m.indices(table, OPERATOR_INPUTS)?,
            outputs: m.indices(table, OPERATOR_OUTPUTS)?,
        })
    }
}
