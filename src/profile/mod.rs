//! Per-node profiles of invokes ([`Interpreter::profile`](crate::Interpreter::profile)): which
//! kernel ran each node and for how long, XNNPACK's own operators inside a delegated partition,
//! a per-op-type summary, and a Chrome-trace / Perfetto export.
//!
//! TFLite reports each node's begin and end through its telemetry profiler; XNNPACK measures
//! its operators itself (whole microseconds) and reports them after each partition runs.
//! Profiling must be switched on when the interpreter is built
//! ([`InterpreterBuilder::profiling`](crate::InterpreterBuilder::profiling)): it makes XNNPACK
//! time every operator, which costs a little on every invoke.

mod recorder;

pub use crate::delegate::kernel::Kernel;
pub(crate) use recorder::Recorder;
use std::fmt::Write as _;
use std::time::Duration;

/// One node's time over the profiled invokes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NodeTime {
    /// The subgraph (0: the main graph; others: control-flow bodies).
    pub subgraph: usize,
    /// The node's index in its subgraph's execution plan (after delegation).
    pub node: usize,
    /// Its operator: `CONV_2D`, a custom op's name, or `DELEGATE` for a delegated partition.
    pub op: String,
    /// What ran it.
    pub kernel: Kernel,
    /// How many times it ran.
    pub runs: usize,
    /// Its time summed over the runs.
    pub total: Duration,
}

/// One of XNNPACK's operators inside a delegated partition, as XNNPACK timed it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct XnnpackOpTime {
    /// The delegated node of the main graph (as in [`NodeTime::node`]) it ran in.
    pub node: usize,
    /// Its position among the partition's operators.
    pub index: usize,
    /// XNNPACK's name for it (e.g. `Convolution (NHWC, F32) IGEMM`).
    pub op: String,
    /// How many times it ran.
    pub runs: usize,
    /// Its time summed over the runs (XNNPACK counts whole microseconds).
    pub total: Duration,
}

/// A per-op-type line of [`Profile::by_op_type`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OpTypeTime {
    /// The operator.
    pub op: String,
    /// What ran it.
    pub kernel: Kernel,
    /// How many nodes of this type.
    pub nodes: usize,
    /// Their time summed over every run.
    pub total: Duration,
}

/// The profile of some invokes.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// How many invokes were profiled.
    pub invokes: usize,
    /// Their wall-clock time, measured around each invoke, summed.
    pub invoke_time: Duration,
    /// Every node that ran, in execution order (subgraph 0 first).
    pub nodes: Vec<NodeTime>,
    /// XNNPACK's operators inside delegated partitions.
    pub xnnpack_ops: Vec<XnnpackOpTime>,
    /// Trace events (begin, duration, name, kernel or XNNPACK) for the Chrome-trace export.
    pub(crate) trace: Vec<TraceEvent>,
}

#[derive(Debug, Clone)]
pub(crate) struct TraceEvent {
    pub(crate) name: String,
    pub(crate) category: &'static str,
    pub(crate) start: Duration,
    pub(crate) duration: Duration,
    pub(crate) node: usize,
}

impl Profile {
    /// The nodes' time summed: what the per-node figures account for of
    /// [`invoke_time`](Self::invoke_time) (the rest is TFLite's own work between nodes).
    pub fn node_time(&self) -> Duration {
        self.nodes.iter().map(|n| n.total).sum()
    }

    /// Time per operator type and kernel, largest first (like TFLite's `benchmark_model
    /// --enable_op_profiling` summary).
    pub fn by_op_type(&self) -> Vec<OpTypeTime> {
        let mut out: Vec<OpTypeTime> = Vec::new();
        for n in &self.nodes {
            match out
                .iter_mut()
                .find(|o| o.op == n.op && o.kernel == n.kernel)
            {
                Some(o) => {
                    o.nodes += 1;
                    o.total += n.total;
                }
                None => out.push(OpTypeTime {
                    op: n.op.clone(),
                    kernel: n.kernel.clone(),
                    nodes: 1,
                    total: n.total,
                }),
            }
        }
        out.sort_by_key(|o| std::cmp::Reverse(o.total));
        out
    }

    /// The profile as Chrome trace JSON (load it in `chrome://tracing` or ui.perfetto.dev):
    /// one complete event per node run, and XNNPACK's operators nested under their partition
    /// (placed back to back from its start: XNNPACK reports durations only).
    pub fn to_chrome_trace(&self) -> String {
        let mut s = String::from("{\"traceEvents\":[");
        for (k, e) in self.trace.iter().enumerate() {
            if k > 0 {
                s.push(',');
            }
            let _ = write!(
                s,
                "{{\"name\":{},\"cat\":\"{}\",\"ph\":\"X\",\"ts\":{:.3},\"dur\":{:.3},\"pid\":1,\"tid\":{},\"args\":{{\"node\":{}}}}}",
                json_string(&e.name),
                e.category,
                e.start.as_secs_f64() * 1e6,
                e.duration.as_secs_f64() * 1e6,
                if e.category == "xnnpack" { 2 } else { 1 },
                e.node
            );
        }
        s.push_str("],\"displayTimeUnit\":\"ms\"}");
        s
    }
}

fn per_run(total: Duration, runs: usize) -> f64 {
    total.as_secs_f64() * 1e6 / runs.max(1) as f64
}

impl std::fmt::Display for Profile {
    /// The tables `run_model --profile` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let invoke = per_run(self.invoke_time, self.invokes);
        let nodes = per_run(self.node_time(), self.invokes);
        writeln!(
            f,
            "{} invokes: {invoke:.1} µs per invoke, of which the nodes {nodes:.1} µs ({:.1} %)",
            self.invokes,
            100.0 * nodes / invoke.max(f64::MIN_POSITIVE)
        )?;
        writeln!(
            f,
            "{:>8} {:>5}  {:<28} {:<8} {:>10} {:>6}",
            "subgraph", "node", "op", "kernel", "µs/invoke", "%"
        )?;
        for n in &self.nodes {
            let t = per_run(n.total, self.invokes);
            writeln!(
                f,
                "{:>8} {:>5}  {:<28} {:<8} {:>10.1} {:>6.1}",
                n.subgraph,
                n.node,
                n.op,
                n.kernel.to_string(),
                t,
                100.0 * t / invoke.max(f64::MIN_POSITIVE)
            )?;
        }
        if !self.xnnpack_ops.is_empty() {
            writeln!(f, "XNNPACK operators:")?;
            writeln!(
                f,
                "{:>5} {:>5}  {:<44} {:>10}",
                "node", "#", "operator", "µs/invoke"
            )?;
            for o in &self.xnnpack_ops {
                writeln!(
                    f,
                    "{:>5} {:>5}  {:<44} {:>10.1}",
                    o.node,
                    o.index,
                    o.op,
                    per_run(o.total, self.invokes)
                )?;
            }
        }
        writeln!(f, "by op type:")?;
        writeln!(
            f,
            "{:<28} {:<8} {:>5} {:>10} {:>6}",
            "op", "kernel", "nodes", "µs/invoke", "%"
        )?;
        for o in self.by_op_type() {
            let t = per_run(o.total, self.invokes);
            writeln!(
                f,
                "{:<28} {:<8} {:>5} {:>10.1} {:>6.1}",
                o.op,
                o.kernel.to_string(),
                o.nodes,
                t,
                100.0 * t / invoke.max(f64::MIN_POSITIVE)
            )?;
        }
        Ok(())
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
