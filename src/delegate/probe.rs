//! The execution plan after delegation: which nodes a delegate took and which run on TFLite's
//! own kernels. The C API does not tell; a do-nothing "probe" delegate applied after the others
//! reads it in its `Prepare` (TFLite calls it again whenever it re-applies delegates, e.g.
//! after a resize, so the record stays current). TFLite applies it to every subgraph, the main
//! one first: the probe keeps the main graph's plan only (the others are control-flow bodies).

use super::kernel::Kernel;
use crate::ffi;
use crate::schema::ops;
use std::sync::Mutex;
use tflite_sys as sys;

/// One node of the execution plan.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanNode {
    /// The node's index in the main graph.
    pub index: usize,
    /// Its operator (`CONV_2D`, a custom op's name), or for a delegated partition the
    /// delegate kernel's name (e.g. `TfLiteXNNPackDelegate`).
    pub op: String,
    /// Whether it is a partition a delegate took.
    pub delegated: bool,
    /// What runs it.
    pub kernel: Kernel,
}

/// The probe: a `TfLiteDelegate` whose data is the plan it last saw. Boxed and owned by the
/// interpreter (TFLite keeps the pointer until the interpreter is deleted).
pub(crate) struct Probe {
    delegate: sys::TfLiteDelegate,
    plan: Mutex<Option<Vec<PlanNode>>>,
    /// The names of the interpreter's Rust custom ops (their nodes' kernel).
    rust_ops: Vec<String>,
    /// The main graph's context (its address; 0 until the first `Prepare`, which is the main
    /// graph's).
    main: std::sync::atomic::AtomicUsize,
}

// SAFETY: TFLite calls the probe only from the thread using the interpreter; the plan is behind
// a mutex.
unsafe impl Send for Probe {}

impl Probe {
    pub(crate) fn new(rust_ops: Vec<String>) -> Box<Probe> {
        let mut p = Box::new(Probe {
            // SAFETY: TfLiteDelegateCreate returns a plain struct with every callback unset.
            delegate: unsafe { sys::TfLiteDelegateCreate() },
            plan: Mutex::new(None),
            rust_ops,
            main: std::sync::atomic::AtomicUsize::new(0),
        });
        let me: *mut Probe = &mut *p;
        p.delegate.data_ = me.cast();
        p.delegate.Prepare = Some(probe_prepare);
        // Graphs with dynamic tensors accept it too: it changes nothing.
        p.delegate.flags = sys::kTfLiteDelegateFlagsAllowDynamicTensors as i64;
        p
    }

    pub(crate) fn raw(&mut self) -> *mut sys::TfLiteDelegate {
        &mut self.delegate
    }

    /// The plan as of the last time TFLite (re)applied the delegates.
    pub(crate) fn plan(&self) -> Option<Vec<PlanNode>> {
        ffi::lock(&self.plan).clone()
    }
}

unsafe extern "C" fn probe_prepare(
    ctx: *mut sys::TfLiteContext,
    delegate: *mut sys::TfLiteDelegate,
) -> sys::TfLiteStatus {
    let read = std::panic::catch_unwind(|| {
        // SAFETY: TFLite passes its context and our delegate during the call; `data_` is the
        // boxed probe, which outlives the interpreter.
        unsafe {
            let probe = ((*delegate).data_ as *const Probe).as_ref()?;
            let ctx = ctx.as_mut()?;
            // Another subgraph than the main one: not the plan `execution_plan` reports.
            let this = ctx as *mut sys::TfLiteContext as usize;
            let main = probe.main.compare_exchange(
                0,
                this,
                std::sync::atomic::Ordering::AcqRel,
                std::sync::atomic::Ordering::Acquire,
            );
            if main.is_err_and(|m| m != this) {
                return Some(());
            }
            let mut plan: *mut sys::TfLiteIntArray = std::ptr::null_mut();
            if (ctx.GetExecutionPlan?)(ctx, &mut plan) != sys::kTfLiteOk || plan.is_null() {
                return None;
            }
            let ids =
                std::slice::from_raw_parts((*plan).data.as_ptr(), (*plan).size.max(0) as usize);
            let mut nodes = Vec::with_capacity(ids.len());
            for &id in ids {
                let mut node: *mut sys::TfLiteNode = std::ptr::null_mut();
                let mut reg: *mut sys::TfLiteRegistration = std::ptr::null_mut();
                if (ctx.GetNodeAndRegistration?)(ctx, id, &mut node, &mut reg) != sys::kTfLiteOk
                    || node.is_null()
                    || reg.is_null()
                {
                    return None;
                }
                let named = !(*reg).custom_name.is_null();
                let op = if named {
                    ffi::string((*reg).custom_name)
                } else {
                    ops::builtin_name((*reg).builtin_code)
                };
                let delegated = (*reg).builtin_code == sys::kTfLiteBuiltinDelegate as i32
                    || !(*node).delegate.is_null();
                let custom = (*reg).builtin_code == sys::kTfLiteBuiltinCustom as i32;
                nodes.push(PlanNode {
                    index: id.max(0) as usize,
                    kernel: Kernel::of(&op, delegated, custom, &probe.rust_ops),
                    op,
                    delegated,
                });
            }
            *ffi::lock(&probe.plan) = Some(nodes);
            Some(())
        }
    });
    // Nothing to take: the probe never fails the graph.
    let _ = read;
    sys::kTfLiteOk
}
