//! The execution plan after delegation: which nodes a delegate took and which run on TFLite's
//! own kernels. The C API does not tell; a do-nothing "probe" delegate applied after the others
//! reads it in its `Prepare` (TFLite calls it again whenever it re-applies delegates, e.g.
//! after a resize, so the record stays current).

use crate::sys;
use std::ffi::CStr;
use std::sync::Mutex;

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
}

/// The probe: a `TfLiteDelegate` whose data is the plan it last saw. Boxed and owned by the
/// interpreter (TFLite keeps the pointer until the interpreter is deleted).
pub(crate) struct Probe {
    delegate: sys::TfLiteDelegate,
    plan: Mutex<Option<Vec<PlanNode>>>,
}

// SAFETY: TFLite calls the probe only from the thread using the interpreter; the plan is behind
// a mutex.
unsafe impl Send for Probe {}

impl Probe {
    pub(crate) fn new() -> Box<Probe> {
        let mut p = Box::new(Probe {
            // SAFETY: TfLiteDelegateCreate returns a plain struct with every callback unset.
            delegate: unsafe { sys::TfLiteDelegateCreate() },
            plan: Mutex::new(None),
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
        self.plan.lock().unwrap_or_else(|e| e.into_inner()).clone()
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
                let custom = (!(*reg).custom_name.is_null()).then(|| {
                    CStr::from_ptr((*reg).custom_name)
                        .to_string_lossy()
                        .into_owned()
                });
                let op = match custom {
                    Some(name) => name,
                    None => crate::ops::builtin_name((*reg).builtin_code),
                };
                nodes.push(PlanNode {
                    index: id.max(0) as usize,
                    op,
                    delegated: (*reg).builtin_code == sys::kTfLiteBuiltinDelegate as i32
                        || !(*node).delegate.is_null(),
                });
            }
            *probe.plan.lock().unwrap_or_else(|e| e.into_inner()) = Some(nodes);
            Some(())
        }
    });
    // Nothing to take: the probe never fails the graph.
    let _ = read;
    sys::kTfLiteOk
}
