//! Recording a profile: TFLite's telemetry profiler callbacks, folded into a [`Profile`] with
//! the execution plan.

use super::{Kernel, NodeTime, Profile, TraceEvent, XnnpackOpTime};
use crate::delegate::kernel::XNNPACK_KERNEL;
use crate::delegate::probe::PlanNode;
use crate::ffi;
use std::ffi::c_char;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tflite_sys as sys;

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
        ffi::lock(&self.events)
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

    /// The kernel of a node the execution plan does not list (one of a control-flow body's
    /// subgraphs), told from its name as TFLite's profiler reports it: builtin operators are
    /// named in upper case, `DELEGATE` is a delegated partition.
    fn kernel_by_name(&self, op: &str) -> Kernel {
        let delegated = op == "DELEGATE" || op == XNNPACK_KERNEL;
        let op = if delegated { XNNPACK_KERNEL } else { op };
        let builtin = op
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        Kernel::of(op, delegated, !builtin, &self.rust_ops)
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
                    // Main-graph nodes as the plan names them; others by their name.
                    let (op, kernel) = match at.map(|k| &plan[k]) {
                        Some(n) if n.delegated => (n.op.clone(), n.kernel.clone()),
                        Some(n) => (s.name.clone(), n.kernel.clone()),
                        None => (s.name.clone(), self.kernel_by_name(&s.name)),
                    };
                    p.trace.push(TraceEvent {
                        name: op.clone(),
                        category: "node",
                        start: s.start.saturating_duration_since(epoch),
                        duration: d,
                        node: s.node,
                    });
                    add_node(&mut p.nodes, s.subgraph, s.node, &op, kernel, d);
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
    // SAFETY: TFLite passes NUL-terminated operator names valid during the call (or null).
    unsafe { ffi::string(p) }
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
