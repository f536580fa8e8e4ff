//! Per-node profiles of invokes ([`Interpreter::profile`](crate::Interpreter::profile)): which
//! kernel ran each node and for how long, XNNPACK's own operators inside a delegated partition,
//! a per-op-type summary, and a Chrome-trace / Perfetto export.
//!
//! TFLite reports each node's begin and end through its telemetry profiler; XNNPACK measures
//! its operators itself (whole microseconds) and reports them after each partition runs.
//! Profiling must be switched on when the interpreter is built
//! ([`InterpreterBuilder::profiling`](crate::InterpreterBuilder::profiling)): it makes XNNPACK
//! time every operator, which costs a little on every invoke.

use crate::plan::PlanNode;
use crate::sys;
use std::ffi::{c_char, CStr};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What ran a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kernel {
    /// A partition of the graph delegated to XNNPACK.
    Xnnpack,
    /// One of TFLite's builtin kernels.
    Builtin,
    /// A custom operator registered from Rust ([`custom_op`](crate::custom_op)).
    RustCustomOp,
    /// A custom operator registered through the raw C API.
    Custom,
    /// A partition taken by another delegate (an external delegate plugin), by its kernel's
    /// name.
    Delegate(String),
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kernel::Xnnpack => "XNNPACK",
            Kernel::Builtin => "builtin",
            Kernel::RustCustomOp => "Rust op",
            Kernel::Custom => "custom",
            Kernel::Delegate(name) => name,
        })
    }
}

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
    trace: Vec<TraceEvent>,
}

#[derive(Debug, Clone)]
struct TraceEvent {
    name: String,
    category: &'static str,
    start: Duration,
    duration: Duration,
    node: usize,
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

// ---- recording: TFLite's telemetry profiler callbacks ----------------------------------

#[derive(Debug)]
struct Span {
    name: String,
    node: usize,
    subgraph: usize,
    start: Instant,
    end: Option<Instant>,
}

#[derive(Debug)]
struct XnnEvent {
    name: String,
    index: usize,
    micros: u64,
    /// When it was reported (right after its partition ran).
    at: Instant,
}

#[derive(Debug)]
enum Entry {
    /// `Interpreter::profile` starts an invoke.
    Invoke,
    Span(Span),
    Xnn(XnnEvent),
}

#[derive(Default)]
struct Events {
    entries: Vec<Entry>,
}

/// Receives TFLite's profiling callbacks for one interpreter (boxed, never moved; the
/// callback table points at it).
pub(crate) struct Recorder {
    table: sys::TfLiteTelemetryProfilerStruct,
    events: Mutex<Events>,
    /// Whether `Interpreter::profile` is running (events are dropped otherwise).
    recording: std::sync::atomic::AtomicBool,
    /// Names of the Rust custom ops, to tell them from builtin kernels.
    rust_ops: Vec<String>,
}

impl Recorder {
    pub(crate) fn new(rust_ops: Vec<String>) -> Box<Recorder> {
        let mut r = Box::new(Recorder {
            table: sys::TfLiteTelemetryProfilerStruct::default(),
            events: Mutex::default(),
            recording: std::sync::atomic::AtomicBool::new(false),
            rust_ops,
        });
        let me: *mut Recorder = &mut *r;
        r.table.data = me.cast();
        r.table.ReportBeginOpInvokeEvent = Some(begin);
        r.table.ReportEndOpInvokeEvent = Some(end);
        r.table.ReportOpInvokeEvent = Some(op_event);
        // TFLite calls every entry unchecked: the telemetry ones do nothing here.
        r.table.ReportTelemetryEvent = Some(ignore_event);
        r.table.ReportTelemetryOpEvent = Some(ignore_op_event);
        r.table.ReportSettings = Some(ignore_settings);
        r
    }

    /// The callback table to hand to TFLite (valid as long as the box).
    pub(crate) fn table(&mut self) -> *mut sys::TfLiteTelemetryProfilerStruct {
        &mut self.table
    }

    fn events(&self) -> std::sync::MutexGuard<'_, Events> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts (clearing what was recorded) or stops recording.
    pub(crate) fn record(&self, on: bool) {
        if on {
            self.events().entries.clear();
        }
        self.recording
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// Marks the start of an invoke (partitions are matched to the plan per invoke).
    pub(crate) fn mark_invoke(&self) {
        self.events().entries.push(Entry::Invoke);
    }

    fn recording(&self) -> bool {
        self.recording.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn kernel(&self, op: &str, delegated: bool) -> Kernel {
        if delegated || op == "DELEGATE" {
            if op == "TfLiteXNNPackDelegate" || op == "DELEGATE" {
                Kernel::Xnnpack
            } else {
                Kernel::Delegate(op.to_string())
            }
        } else if self.rust_ops.iter().any(|r| r == op) {
            Kernel::RustCustomOp
        } else if op
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            Kernel::Builtin
        } else {
            Kernel::Custom
        }
    }

    /// Folds what was recorded into a profile of `invokes` invokes; `plan` (the execution
    /// plan, from the probe) names delegated partitions and places XNNPACK's operators in them.
    pub(crate) fn profile(
        &self,
        invokes: usize,
        invoke_time: Duration,
        epoch: Instant,
        plan: &[PlanNode],
    ) -> Profile {
        let e = self.events();
        let mut p = Profile {
            invokes,
            invoke_time,
            ..Profile::default()
        };
        let plan_pos = |node: usize| plan.iter().position(|n| n.index == node);
        // Each burst of XNNPACK operators (one partition run) in order, and its total: XNNPACK
        // reports them right after the partition ran, so it started that long before.
        let mut bursts: Vec<Duration> = Vec::new();
        let mut in_burst = false;
        for entry in &e.entries {
            match entry {
                Entry::Xnn(x) => {
                    if !in_burst || x.index == 0 {
                        bursts.push(Duration::ZERO);
                    }
                    in_burst = true;
                    if let Some(t) = bursts.last_mut() {
                        *t += Duration::from_micros(x.micros);
                    }
                }
                _ => in_burst = false,
            }
        }
        let mut next_burst = 0;
        // Position in the plan of the last node seen in this invoke.
        let mut pos: Option<usize> = None;
        // The partition the current burst of XNNPACK operators belongs to, and where the next
        // operator starts on the trace.
        let mut burst: Option<(usize, Duration)> = None;
        for entry in &e.entries {
            match entry {
                Entry::Invoke => {
                    pos = None;
                    burst = None;
                }
                Entry::Span(s) => {
                    burst = None;
                    let Some(end) = s.end else { continue };
                    let d = end.saturating_duration_since(s.start);
                    let at = plan_pos(s.node).filter(|_| s.subgraph == 0);
                    if at.is_some() {
                        pos = at;
                    }
                    let (op, delegated) = match at.map(|k| &plan[k]) {
                        Some(n) if n.delegated => (n.op.clone(), true),
                        _ => (s.name.clone(), false),
                    };
                    p.trace.push(TraceEvent {
                        name: op.clone(),
                        category: "node",
                        start: s.start.saturating_duration_since(epoch),
                        duration: d,
                        node: s.node,
                    });
                    add_node(
                        &mut p.nodes,
                        s.subgraph,
                        s.node,
                        &op,
                        self.kernel(&op, delegated),
                        d,
                    );
                }
                Entry::Xnn(x) => {
                    let d = Duration::from_micros(x.micros);
                    // A new burst: the next delegated partition of the plan.
                    if burst.is_none() || x.index == 0 {
                        let from = pos.map_or(0, |k| k + 1);
                        let k = plan
                            .iter()
                            .skip(from)
                            .position(|n| n.delegated)
                            .map(|k| k + from);
                        pos = k.or(pos);
                        let node = k.map_or(usize::MAX, |k| plan[k].index);
                        let total = bursts.get(next_burst).copied().unwrap_or_default();
                        next_burst += 1;
                        let ran = x.at.saturating_duration_since(epoch).saturating_sub(total);
                        burst = Some((node, ran));
                    }
                    let Some((node, start)) = burst else { continue };
                    let op = plan
                        .iter()
                        .find(|n| n.index == node)
                        .map_or("DELEGATE".to_string(), |n| n.op.clone());
                    add_node(&mut p.nodes, 0, node, &op, Kernel::Xnnpack, d);
                    p.trace.push(TraceEvent {
                        name: x.name.clone(),
                        category: "xnnpack",
                        start,
                        duration: d,
                        node,
                    });
                    burst = Some((node, start + d));
                    match p
                        .xnnpack_ops
                        .iter_mut()
                        .find(|o| o.node == node && o.index == x.index)
                    {
                        Some(o) => {
                            o.runs += 1;
                            o.total += d;
                        }
                        None => p.xnnpack_ops.push(XnnpackOpTime {
                            node,
                            index: x.index,
                            op: x.name.clone(),
                            runs: 1,
                            total: d,
                        }),
                    }
                }
            }
        }
        // A partition's runs: count its first operator's runs, not every operator's.
        for n in p.nodes.iter_mut().filter(|n| n.kernel == Kernel::Xnnpack) {
            if let Some(first) = p
                .xnnpack_ops
                .iter()
                .find(|o| o.node == n.node && o.index == 0)
            {
                n.runs = first.runs;
            }
        }
        p.nodes.sort_by_key(|n| {
            (
                n.subgraph,
                plan_pos(n.node)
                    .filter(|_| n.subgraph == 0)
                    .unwrap_or(usize::MAX),
                n.node,
            )
        });
        p.xnnpack_ops.sort_by_key(|o| (o.node, o.index));
        p
    }
}

fn add_node(
    nodes: &mut Vec<NodeTime>,
    subgraph: usize,
    node: usize,
    op: &str,
    kernel: Kernel,
    d: Duration,
) {
    match nodes
        .iter_mut()
        .find(|n| n.subgraph == subgraph && n.node == node)
    {
        Some(n) => {
            n.runs += 1;
            n.total += d;
        }
        None => nodes.push(NodeTime {
            subgraph,
            node,
            op: op.to_string(),
            kernel,
            runs: 1,
            total: d,
        }),
    }
}

/// # Safety
/// `profiler` is the table of a live `Recorder` (TFLite passes back what it was given).
unsafe fn recorder<'a>(profiler: *mut sys::TfLiteTelemetryProfilerStruct) -> Option<&'a Recorder> {
    // SAFETY: `data` was set to the boxed recorder, which outlives the interpreter.
    unsafe {
        profiler
            .as_ref()
            .and_then(|p| (p.data as *const Recorder).as_ref())
    }
}

fn name_of(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: TFLite passes NUL-terminated operator names valid during the call.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

unsafe extern "C" fn begin(
    profiler: *mut sys::TfLiteTelemetryProfilerStruct,
    op_name: *const c_char,
    op_idx: i64,
    subgraph_idx: i64,
) -> u32 {
    let at = Instant::now();
    std::panic::catch_unwind(|| {
        // SAFETY: called by TFLite with the table we registered.
        let Some(r) = (unsafe { recorder(profiler) }).filter(|r| r.recording()) else {
            return u32::MAX;
        };
        let mut e = r.events();
        e.entries.push(Entry::Span(Span {
            name: name_of(op_name),
            node: op_idx.max(0) as usize,
            subgraph: subgraph_idx.max(0) as usize,
            start: at,
            end: None,
        }));
        u32::try_from(e.entries.len() - 1).unwrap_or(u32::MAX)
    })
    .unwrap_or(u32::MAX)
}

unsafe extern "C" fn end(profiler: *mut sys::TfLiteTelemetryProfilerStruct, handle: u32) {
    let at = Instant::now();
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: as in `begin`.
        if let Some(r) = unsafe { recorder(profiler) } {
            if let Some(Entry::Span(s)) = r.events().entries.get_mut(handle as usize) {
                s.end = Some(at);
            }
        }
    });
}

unsafe extern "C" fn op_event(
    profiler: *mut sys::TfLiteTelemetryProfilerStruct,
    op_name: *const c_char,
    elapsed_us: u64,
    op_idx: i64,
    _subgraph_idx: i64,
) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: as in `begin`.
        let Some(r) = (unsafe { recorder(profiler) }).filter(|r| r.recording()) else {
            return;
        };
        r.events().entries.push(Entry::Xnn(XnnEvent {
            name: name_of(op_name),
            index: op_idx.max(0) as usize,
            micros: elapsed_us,
            at: Instant::now(),
        }));
    });
}

unsafe extern "C" fn ignore_event(
    _: *mut sys::TfLiteTelemetryProfilerStruct,
    _: *const c_char,
    _: u64,
) {
}

unsafe extern "C" fn ignore_op_event(
    _: *mut sys::TfLiteTelemetryProfilerStruct,
    _: *const c_char,
    _: i64,
    _: i64,
    _: u64,
) {
}

unsafe extern "C" fn ignore_settings(
    _: *mut sys::TfLiteTelemetryProfilerStruct,
    _: *const c_char,
    _: *const sys::TfLiteTelemetrySettings,
) {
}
